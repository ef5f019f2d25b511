import { createSocket } from 'node:dgram';
import type { Call } from '@sip-endpoint/endpoint-core';
import { buildStun, STUN_ATTRIBUTE, STUN_METHOD, textAttribute, type AudioStream } from '@sip-endpoint/media';
import { Coturn, peerAvailable, testPorts } from '@sip-endpoint/test-support';
import { Baresip, baresipAvailable } from '../support/baresip';
import { expectTwoWayAudio, heardByBaresip, heardByUs, target, untilBaresipRecorded } from '../support/baresip-calls';
import { standaloneEndpoint, untilRecorded, waitFor } from '../support/endpoints';

// ICE (RFC 8445) between our endpoint (`nat.ice_enabled` 1) and baresip's `ice` module
// (`medianat=ice`), both ways: candidates in the SDP, checks answered with our credentials, a pair
// selected, audio both ways on it. And a peer without ICE still gets a plain call.
const describeIf = baresipAvailable() ? describe : describe.skip;

type Party = ReturnType<typeof standaloneEndpoint>;

describeIf('ICE against baresip 1.0.0', () => {
  let baresip: Baresip | undefined;
  let parties: Party[] = [];
  let log: string[] = [];

  afterEach(async () => {
    await Promise.all(parties.map((party) => party.endpoint.stop()));
    await baresip?.stop();
    baresip = undefined;
    parties = [];
  });

  async function setUp(options: { ice?: boolean; baresipIce?: boolean; settings?: Record<string, string>; dtls?: boolean } = {}): Promise<[Baresip, Party]> {
    log = [];
    const us = standaloneEndpoint(
      '1001',
      testPorts(7),
      testPorts(50),
      1000,
      { 'policy.endpoint.rtp_port_binding': '1', 'proxies.proxy0.nat.ice_enabled': options.ice === false ? '0' : '1', 'system.diagnostics.enable_logging': '1', 'system.diagnostics.log_level': '4', ...options.settings },
      { logger: (level, message) => log.push(`${level} ${message}`), ...(options.dtls ? { srtpKeying: 'dtls' as const } : {}) },
    );
    parties.push(us);
    await us.endpoint.start();
    baresip = await Baresip.start({ user: 'bob', frequency: 440, answerMode: 'auto', rtcpMux: true, mediaNat: options.baresipIce === false ? '' : 'ice', ...(options.dtls ? { mediaEnc: 'dtls_srtp' as const } : {}) });
    return [baresip, us];
  }


  /** The ICE attributes of each INVITE body and answer in baresip's trace: who sent it, its ufrag, and its candidate types. */
  function iceInTrace(bob: Baresip): { sent: boolean; ufrag: string; candidates: string[] }[] {
    return bob
      .sipTrace()
      .filter((m) => m.method === 'INVITE' && /^m=audio/m.test(m.body))
      .map((m) => ({ sent: m.sent, ufrag: /^a=ice-ufrag:(\S+)/m.exec(m.body)?.[1] ?? '', candidates: [...m.body.matchAll(/^a=candidate:\S+ 1 UDP \d+ \S+ \d+ typ (\w+)/gim)].map((match) => match[1]!) }));
  }

  it('baresip calls us: both sides offer candidates, a pair is selected, each hears the other', async () => {
    const [bob, us] = await setUp({ settings: { 'policy.session.auto_answer': '1' } });
    const incoming: Call[] = [];
    us.endpoint.on('incomingCall', (call) => incoming.push(call));
    await bob.dial(target(us));
    await waitFor(() => incoming.length === 1 && incoming[0]!.state === 'CONNECTED', 5000);
    await waitFor(() => incoming[0]!.media.ice?.state === 'connected', 10000, 'ICE connected');
    expect(incoming[0]!.media.ice).toMatchObject({ state: 'connected', local: 'host', remote: expect.stringMatching(/^(host|prflx)$/) });
    await expectTwoWayAudio(bob, us);
    const [offer, answer] = iceInTrace(bob);
    expect(offer).toMatchObject({ sent: true, ufrag: expect.stringMatching(/.+/) });
    expect(offer!.candidates).toContain('host');
    expect(answer).toMatchObject({ sent: false, ufrag: expect.stringMatching(/^[A-Za-z0-9+/]{8}$/), candidates: ['host'] });
    expect(log.some((line) => /^3 .*ICE selected host 127\.0\.0\.1:\d+ <-> \w+ 127\.0\.0\.1:\d+/.test(line))).toBe(true);
    expect(us.endpoint.session().phone.calls[0]).toMatchObject({ ice: { state: 'connected', local: 'host' } });
    // A check forged without our password, sent to the call's port: refused (401), logged, and the call goes on.
    const ours = /^a=ice-ufrag:(\S+)/m.exec(bob.sipTrace().find((m) => !m.sent && m.body.includes('a=ice-ufrag'))!.body)![1]!;
    const forged = buildStun({ method: STUN_METHOD.binding, cls: 'request', attributes: [textAttribute(STUN_ATTRIBUTE.username, `${ours}:intruder`)], integrityKey: Buffer.from('a guess'), fingerprint: true });
    const attacker = createSocket('udp4');
    const replies: Buffer[] = [];
    attacker.on('message', (data) => replies.push(data));
    await new Promise<void>((resolve) => attacker.bind(0, '127.0.0.1', resolve));
    expect(incoming[0]!.media.ice?.counters).toMatchObject({ badIntegrity: 0, badUsername: 0 });
    attacker.send(forged, (incoming[0]!.media.stream as AudioStream).localPort, '127.0.0.1');
    await waitFor(() => replies.length === 1, 3000, 'the refusal');
    attacker.close();
    expect(replies[0]!.readUInt16BE(0)).toBe(0x0111);
    await waitFor(() => log.some((line) => /^2 .*ICE: a check from 127\.0\.0\.1:\d+ failed MESSAGE-INTEGRITY/.test(line)), 3000, 'the log line');
    expect(incoming[0]!.media.ice?.counters).toMatchObject({ badIntegrity: 1, badUsername: 0 });
    us.devices.clearRecording('speaker');
    await untilRecorded(1, us.devices);
    expect(heardByUs(us, 0.2)).toBeCloseTo(440, -1);
    expect(incoming[0]!.media.ice?.state).toBe('connected');
    await incoming[0]!.hangup();
  }, 30000);

  it('a path that dies (baresip frozen): consent (RFC 7675) is lost after 30 s without answers, and the call ends with the reason', async () => {
    const [bob, us] = await setUp();
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await waitFor(() => call.media.ice?.state === 'connected', 10000, 'ICE connected');
    const before = call.media.ice!.counters!.consentChecks;
    bob.freeze();
    const frozenAt = Date.now();
    await waitFor(() => call.state === 'DISCONNECTED', 45_000, 'the call ended');
    // Not before 30 s of silence (the RTP inactivity timeout, 150 s by default, is far off).
    expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(25_000);
    expect(call.endReason).toMatch(/^consent lost: no answer from 127\.0\.0\.1:\d+ for 30 s$/);
    expect(call.media.ice!.counters!.consentChecks).toBeGreaterThan(before + 3);
    expect(log.some((line) => /^[12] .*consent lost: no answer from 127\.0\.0\.1:\d+ for 30 s/.test(line))).toBe(true);
  }, 60_000);

  it('we call baresip: we control and nominate, baresip follows, each hears the other', async () => {
    const [bob, us] = await setUp();
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await waitFor(() => call.media.ice?.state === 'connected', 10000, 'ICE connected');
    await expectTwoWayAudio(bob, us);
    const [offer, answer] = iceInTrace(bob);
    expect(offer).toMatchObject({ sent: false, candidates: ['host'] });
    expect(answer?.sent).toBe(true);
    expect(answer!.candidates.length).toBeGreaterThan(0);
    await call.hangup();
  }, 30000);

  it('ICE and DTLS-SRTP together (as WebRTC-like SIP peers run): the handshake runs on the selected pair, audio both ways', async () => {
    const [bob, us] = await setUp({ dtls: true, settings: { 'system.security.use_srtp': 'mandatory' } });
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await waitFor(() => call.media.ice?.state === 'connected' && (call.media.security as { state?: string }).state === 'established', 10000, 'ICE connected and DTLS established');
    await expectTwoWayAudio(bob, us);
    const [offer] = iceInTrace(bob);
    expect(offer?.candidates).toEqual(['host']);
    expect(bob.sipTrace().find((m) => !m.sent && m.method === 'INVITE')?.body).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVP /m);
    await call.hangup();
  }, 30000);

  it('a peer without ICE: our offer\'s candidates are ignored by it, and the call runs on the SDP addresses', async () => {
    const [bob, us] = await setUp({ baresipIce: false });
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    expect(call.media.ice).toBeUndefined();
    await expectTwoWayAudio(bob, us);
    expect(iceInTrace(bob).map((entry) => entry.candidates.length)).toEqual([1, 0]);
    await call.hangup();
  }, 30000);

  it('ice_enabled 0: our offer has no ICE; an ICE offer from baresip is answered without ICE, and baresip sees that and gets our RTP', async () => {
    const [bob, us] = await setUp({ ice: false, baresipIce: false });
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    expect(call.media.ice).toBeUndefined();
    await expectTwoWayAudio(bob, us);
    expect(iceInTrace(bob)).toEqual([
      { sent: false, ufrag: '', candidates: [] },
      { sent: true, ufrag: '', candidates: [] },
    ]);
    await call.hangup();
    await bob.stop();

    // baresip 1.0's ice module, told that the answer has no ICE, sends no media of its own
    // (checked by hand: it logs "ICE not supported by peer" and receives ours): only our side is asserted.
    const iceBob = await Baresip.start({ user: 'bob', frequency: 440, answerMode: 'auto', rtcpMux: true, mediaNat: 'ice' });
    baresip = iceBob;
    await us.endpoint.stop();
    const them = standaloneEndpoint('1001', testPorts(7), testPorts(50), 1000, { 'policy.endpoint.rtp_port_binding': '1', 'policy.session.auto_answer': '1' });
    parties.push(them);
    await them.endpoint.start();
    const incoming: Call[] = [];
    them.endpoint.on('incomingCall', (placed) => incoming.push(placed));
    await iceBob.dial(target(them));
    await waitFor(() => incoming.length === 1 && incoming[0]!.state === 'CONNECTED', 5000);
    expect(incoming[0]!.media.ice).toBeUndefined();
    // baresip prints its SIP trace on stdout, which may come a little after the call.
    await waitFor(() => iceInTrace(iceBob).length === 2, 5000, "the answer in baresip's trace");
    const [offer, answer] = iceInTrace(iceBob);
    expect([offer?.sent, offer?.ufrag !== '', answer?.sent, answer?.ufrag, answer?.candidates]).toEqual([true, true, false, '', []]);
    await waitFor(() => iceBob.output.includes('ICE not supported by peer') && /incoming rtp for 'audio' established/.test(iceBob.output), 5000, "baresip's log: no ICE from us, our RTP received");
    await incoming[0]!.hangup();
  }, 40000);
});

const describeTurn = baresipAvailable() && peerAvailable('turnserver') ? describe : describe.skip;

// baresip's `turn` module: its SDP names its relayed address on coturn (no ICE). Our endpoint,
// without ICE, sends there and coturn relays to baresip, both ways.
describeTurn('a peer that relays its media through TURN (baresip medianat=turn)', () => {
  let coturn: Coturn;
  let bob: Baresip | undefined;
  let party: Party | undefined;
  beforeAll(async () => {
    coturn = await Coturn.start({ users: { bob: 'bobsecret' } });
  }, 20_000);
  afterAll(async () => {
    await coturn?.stop();
  });
  afterEach(async () => {
    await party?.endpoint.stop();
    await bob?.stop();
    bob = undefined;
    party = undefined;
  });

  it.each(['we call', 'baresip calls'] as const)('%s: the relayed address in its SDP carries the audio both ways', async (who) => {
    party = standaloneEndpoint('1001', testPorts(7), testPorts(50), 1000, { 'policy.endpoint.rtp_port_binding': '1', 'policy.session.auto_answer': '1' });
    await party.endpoint.start();
    bob = await Baresip.start({ user: 'bob', frequency: 440, answerMode: 'auto', mediaNat: 'turn', stunServer: `turn:127.0.0.1:${coturn.port};stunuser=bob;stunpass=bobsecret` });
    const incoming: Call[] = [];
    party.endpoint.on('incomingCall', (call) => incoming.push(call));
    const call = who === 'we call' ? await party.endpoint.makeCall(bob.uri) : (await bob.dial(target(party)), await waitFor(() => incoming.length === 1, 5000), incoming[0]!);
    await waitFor(() => call.state === 'CONNECTED', 10_000);
    // baresip's media address is coturn's relay, not its own port.
    expect(call.media.negotiated?.remote.address).toBe('127.0.0.1');
    await untilRecorded(1.5, party.devices);
    await untilBaresipRecorded(bob, 1.5);
    expect(heardByUs(party)).toBeCloseTo(440, -1);
    expect(heardByBaresip(bob)).toBeCloseTo(1000, -1);
    const theirs = bob.sipTrace().find((m) => m.sent && m.method === 'INVITE' && m.body.includes('m=audio'))!.body;
    const relayedPort = Number(/^m=audio (\d+)/m.exec(theirs)![1]);
    expect(relayedPort).toBe(call.media.negotiated!.remote.rtpPort);
    expect(relayedPort < bob.port || relayedPort > bob.port + 19).toBe(true); // not one of baresip's own ports
    await call.hangup();
  }, 30_000);
});
