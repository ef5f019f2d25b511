import { readdirSync, readFileSync } from 'node:fs';
import { EndpointConfig } from '@sip-endpoint/config';
import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import type { Invitation } from 'sip.js';
import { VirtualAudioProvider, WebRtcAudioStream } from '@sip-endpoint/media';
import { dominantFrequency, rms } from '@sip-endpoint/media/testing';
import { Coturn, peerAvailable, testPorts } from '@sip-endpoint/test-support';
import { waitFor } from '../support/endpoints';
import { Kamailio, kamailioAvailable } from '../support/kamailio';
import { Capture, tsharkAvailable } from '../support/capture';
import { makeTestCertificates, type TestCertificates } from '../support/tls-certificates';
import { resolverFor, toneDevices, webRtcLineConfig } from '../support/webrtc-agents';

// Two endpoints with WebRTC (HTTPS) lines register with Kamailio over WSS, as with a WebRTC
// gateway that checks an OAuth token, and call each other: the calls run on libwebrtc.

const describeIf = kamailioAvailable() ? describe : describe.skip;

/** Calls of the leak test (about 35 s for 200 on this machine); SEP_WEBRTC_LEAK_CALLS sets another count. */
const LEAK_CALLS = Number(process.env['SEP_WEBRTC_LEAK_CALLS'] ?? '200');
const threads = (): number => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
const descriptors = (): number => readdirSync('/proc/self/fd').length;

const SIP = testPorts(4);
const TLS = SIP + 1;
const WSS = SIP + 2;
const WS = SIP + 3;
const TOKEN = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJl';
// 20 RTP ports per agent (only the native one binds any: libwebrtc takes its own).
const RTP = testPorts(14 * 20);
/** The lines' own SIP ports (unused over WebSocket, but taken from this worker's range): 7 per agent. */
const SIP_PORTS = testPorts(14 * 7);

const resolver = resolverFor('gateway.example.test');

interface Agent {
  endpoint: Endpoint;
  devices: VirtualAudioProvider;
  log: string[];
}

describeIf('WebRTC (HTTPS) lines through a gateway over WSS with an OAuth token', () => {
  let kamailio: Kamailio;
  let certificates: TestCertificates;
  const agents: Agent[] = [];

  const startGateway = async (): Promise<void> => {
    kamailio = await Kamailio.start(SIP, 'secret', { tls: { port: TLS, certificate: certificates.serverCertificate, key: certificates.serverKey }, wss: { port: WSS }, ws: { port: WS }, bearer: { token: TOKEN } });
  };
  beforeAll(async () => {
    certificates = makeTestCertificates(['gateway.example.test']);
    await startGateway();
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.endpoint.stop()));
  });
  afterAll(async () => {
    await kamailio?.stop();
  });

  /** An agent whose microphone plays `frequency`; `token` null: none. */
  function agent(user: string, index: number, frequency: number, token: string | null = TOKEN, settings: Record<string, string> = {}): Agent {
    const config = webRtcLineConfig(user, `https://gateway.example.test:${WSS}/`, certificates.caCertificate, SIP_PORTS + index * 7, RTP + index * 20, settings);
    const devices = toneDevices(frequency);
    const log: string[] = [];
    const endpoint = new Endpoint({ config, devices, resolver, ...(token !== null ? { accessToken: token } : {}), logger: (level, message) => log.push(`${level} ${message}`) });
    const made = { endpoint, devices, log };
    agents.push(made);
    return made;
  }

  /** The last `seconds` of what `devices`' speaker recorded. */
  function lastHeard(devices: VirtualAudioProvider, seconds: number): { samples: Int16Array; sampleRate: number } {
    const { samples, sampleRate } = devices.recording('speaker');
    return { samples: samples.subarray(Math.max(0, samples.length - Math.round(seconds * sampleRate))), sampleRate };
  }

  it('registers with the Bearer token, calls on libwebrtc both ways, holds, mutes, sends DTMF and hangs up', async () => {
    const alice = agent('7001', 0, 600);
    const bob = agent('7002', 1, 1000);
    await Promise.all([alice.endpoint.start(), bob.endpoint.start()]);
    await waitFor(() => alice.endpoint.lines[0]!.state === 'READY' && bob.endpoint.lines[0]!.state === 'READY', 10000, 'both lines READY');
    const incoming: Call[] = [];
    bob.endpoint.on('incomingCall', (call) => incoming.push(call));
    const call = await alice.endpoint.makeCall('7002');
    await waitFor(() => incoming.length === 1, 10000, 'the call at Bob');
    const bobCall = incoming[0]!;
    await bobCall.answer();
    await waitFor(() => call.state === 'CONNECTED' && bobCall.state === 'CONNECTED', 10000, 'connected');
    expect([call.media.engine, bobCall.media.engine]).toEqual(['webrtc', 'webrtc']);
    expect(call.media.stream).toBeInstanceOf(WebRtcAudioStream);
    await waitFor(() => call.media.security.kind === 'webrtc' && (call.media.security as { state: string }).state === 'connected', 10000, 'the WebRTC connection up');
    // Each hears the other's tone, through PCMU: the policy's first codec (the default list) that libwebrtc has.
    await waitFor(() => alice.devices.recording('speaker').samples.length > 48000 && bob.devices.recording('speaker').samples.length > 48000, 10000, 'a second of audio each way');
    const heardByAlice = lastHeard(alice.devices, 0.5);
    const heardByBob = lastHeard(bob.devices, 0.5);
    expect(dominantFrequency(heardByAlice.samples, heardByAlice.sampleRate)).toBeCloseTo(1000, -1);
    expect(dominantFrequency(heardByBob.samples, heardByBob.sampleRate)).toBeCloseTo(600, -1);
    expect(call.media.codec).toBe('PCMU');
    await waitFor(() => (call.media.stats()?.received.packets ?? 0) > 0, 5000, 'statistics read from libwebrtc');
    const quality = call.media.quality();
    expect(quality?.mos).toBeGreaterThan(3.5);
    expect(call.media.ice).toMatchObject({ state: 'connected', local: 'host', remote: 'host' });
    expect(alice.endpoint.session().phone.calls).toEqual([expect.objectContaining({ security: 'webrtc', state: 'CONNECTED' })]);

    // DTMF: tones in the audio (libwebrtc's binding has no RFC 4733 sender), found at Bob.
    const digits: string[] = [];
    bobCall.on('dtmf', (event) => digits.push(event.digit));
    await call.sendDtmf('159#');
    await waitFor(() => digits.join('') === '159#', 5000, `the digits at Bob (got ${digits.join('')})`);

    // Hold by re-offer: Bob hears nothing from Alice, then her tone again after retrieve.
    await call.hold();
    expect(call.state).toBe('HELD');
    await waitFor(() => (bobCall.media.stream as WebRtcAudioStream).connectionState === 'connected', 5000, 'still connected');
    await call.retrieve();
    expect(call.state).toBe('CONNECTED');
    const before = bob.devices.recording('speaker').samples.length;
    await waitFor(() => bob.devices.recording('speaker').samples.length > before + 24000, 5000, 'audio after retrieve');
    const afterRetrieve = lastHeard(bob.devices, 0.4);
    expect(dominantFrequency(afterRetrieve.samples, afterRetrieve.sampleRate)).toBeCloseTo(600, -1);

    // Mute: Bob hears silence from Alice (libwebrtc still sends), her tone again once unmuted;
    // Alice still hears Bob throughout.
    const played = (): number => bob.devices.recording('speaker').samples.length;
    call.mute();
    expect(call.muted).toBe(true);
    const muted = played();
    await waitFor(() => played() > muted + 48000 * 0.8, 5000, 'audio while muted');
    expect(rms(lastHeard(bob.devices, 0.4).samples)).toBeLessThan(30);
    const heardMuted = lastHeard(alice.devices, 0.4);
    expect(dominantFrequency(heardMuted.samples, heardMuted.sampleRate)).toBeCloseTo(1000, -1);
    call.mute(false);
    expect(call.muted).toBe(false);
    const unmuted = played();
    await waitFor(() => played() > unmuted + 48000 * 0.8, 5000, 'audio after unmute');
    const afterUnmute = lastHeard(bob.devices, 0.4);
    expect(dominantFrequency(afterUnmute.samples, afterUnmute.sampleRate)).toBeCloseTo(600, -1);

    await bobCall.hangup();
    await waitFor(() => call.state === 'DISCONNECTED', 5000, 'Alice\'s call ended by Bob\'s BYE');
    expect((call.media.stream as WebRtcAudioStream).state).toBe('CLOSED');
    expect((bobCall.media.stream as WebRtcAudioStream).state).toBe('CLOSED');
  }, 60000);

  it('without a token, or with a wrong one, the line is FAILED with the reason; a new token registers it', async () => {
    const none = agent('7003', 2, 600, null);
    const wrong = agent('7004', 3, 600, 'stale-token');
    await Promise.all([none.endpoint.start(), wrong.endpoint.start()]);
    await waitFor(() => none.endpoint.lines[0]!.state === 'FAILED' && wrong.endpoint.lines[0]!.state === 'FAILED', 10000, 'both FAILED');
    expect(none.endpoint.lines[0]!.reason).toBe('401 Unauthorized: the server wants an OAuth access token and the line has none (POST /register with a Bearer token, or endpoint.setAccessToken)');
    expect(wrong.endpoint.lines[0]!.reason).toBe('401 Unauthorized: the server refused the OAuth access token (expired or wrong): give a new one (POST /register, or endpoint.setAccessToken) (invalid_token: the token is not valid)');
    expect(wrong.log.join('\n')).not.toContain('stale-token');
    expect(() => wrong.endpoint.setAccessToken('two words')).toThrow(expect.objectContaining({ code: 'ERR_SIP_INVALID_ARGUMENT' }));
    wrong.endpoint.setAccessToken(TOKEN);
    await waitFor(() => wrong.endpoint.lines[0]!.state === 'READY', 10000, 'READY with the new token');
  }, 30000);

  /** Alice (agent `index`, with `aliceSettings`) calls Bob (agent `index` + 1), who answers: both CONNECTED. */
  async function connectedPair(aliceUser: string, bobUser: string, index: number, aliceSettings: Record<string, string> = {}): Promise<{ alice: Agent; bob: Agent; call: Call; bobCall: Call }> {
    const alice = agent(aliceUser, index, 600, TOKEN, aliceSettings);
    const bob = agent(bobUser, index + 1, 1000);
    await Promise.all([alice.endpoint.start(), bob.endpoint.start()]);
    await waitFor(() => alice.endpoint.lines[0]!.state === 'READY' && bob.endpoint.lines[0]!.state === 'READY', 10000, 'both lines READY');
    const incoming: Call[] = [];
    bob.endpoint.on('incomingCall', (call) => incoming.push(call));
    const call = await alice.endpoint.makeCall(bobUser);
    await waitFor(() => incoming.length === 1, 10000, 'the call at Bob');
    const bobCall = incoming[0]!;
    await bobCall.answer();
    await waitFor(() => call.state === 'CONNECTED' && bobCall.state === 'CONNECTED', 10000, 'connected');
    return { alice, bob, call, bobCall };
  }

  it('the gateway closing the WebSocket mid-call: both calls end with the reason, the lines FAILED, and READY again when it is back', async () => {
    const { alice, bob, call, bobCall } = await connectedPair('7005', '7006', 4);
    await kamailio.stop();
    try {
      await waitFor(() => call.state === 'DISCONNECTED' && bobCall.state === 'DISCONNECTED', 5000, 'both calls ended');
      expect([call.endReason, bobCall.endReason]).toEqual(['the WebRTC gateway closed the WebSocket connection', 'the WebRTC gateway closed the WebSocket connection']);
      expect((call.media.stream as WebRtcAudioStream).state).toBe('CLOSED');
      expect(alice.endpoint.lines[0]!.state).toBe('FAILED');
      expect(alice.endpoint.lines[0]!.reason).toBe('the WebRTC gateway closed the WebSocket connection');
      expect(alice.log.some((line) => /^1 .*the WebRTC gateway closed the WebSocket connection; 1 call\(s\) end/.test(line))).toBe(true);
    } finally {
      await startGateway();
    }
    // reg_interval 0 means no new cycle on a refused REGISTER; the line still comes back when its connection does.
    await waitFor(() => alice.endpoint.lines[0]!.state === 'READY' && bob.endpoint.lines[0]!.state === 'READY', 15000, 'READY again');
  }, 60000);

  it('a blind transfer between WebRTC agents: Bob refers Alice to Carol, Alice\'s new call runs on libwebrtc and Carol hears her', async () => {
    const { alice, bobCall } = await connectedPair('7012', '7013', 10);
    const carol = agent('7014', 12, 1400);
    await carol.endpoint.start();
    await waitFor(() => carol.endpoint.lines[0]!.state === 'READY', 10000, 'Carol READY');
    carol.endpoint.on('incomingCall', (call) => void call.answer().catch(() => undefined));
    const referred: Call[] = [];
    alice.endpoint.on('referred', (_from, to) => referred.push(to));
    await bobCall.transfer('7014');
    await waitFor(() => referred.length === 1 && referred[0]!.state === 'CONNECTED', 10000, 'Alice connected to Carol');
    expect(referred[0]!.media.engine).toBe('webrtc');
    await waitFor(() => bobCall.state === 'DISCONNECTED', 5000, 'Bob\'s call ended by the transfer');
    const before = carol.devices.recording('speaker').samples.length;
    await waitFor(() => carol.devices.recording('speaker').samples.length > before + 24000, 10000, 'audio at Carol');
    const heard = lastHeard(carol.devices, 0.25);
    expect(dominantFrequency(heard.samples, heard.sampleRate)).toBeCloseTo(600, -1);
    await referred[0]!.hangup();
  }, 60000);

  const itTurn = peerAvailable('turnserver') ? it : it.skip;
  itTurn('the line\'s STUN and TURN settings are libwebrtc\'s ICE servers: a call gathers a relayed candidate at coturn with the line\'s credentials, and connects', async () => {
    const coturn = await Coturn.start({ users: { agent7: 'turn-secret' } });
    try {
      const nat = {
        'proxies.proxy0.nat.stun_server': '127.0.0.1',
        'proxies.proxy0.nat.stun_server_port': String(coturn.port),
        'proxies.proxy0.nat.turn_server': '127.0.0.1',
        'proxies.proxy0.nat.turn_server_port': String(coturn.port),
        'proxies.proxy0.nat.turn_user_name': 'agent7',
        'proxies.proxy0.nat.turn_password': 'turn-secret',
      };
      const { call } = await connectedPair('7015', '7016', 7, nat);
      await waitFor(() => (call.media.security as { state?: string }).state === 'connected', 10000, 'the WebRTC connection up');
      // coturn's own log: libwebrtc allocated with the line's TURN user (its password made the key).
      expect(coturn.output).toMatch(/user <agent7>: incoming packet ALLOCATE processed, success/);
      expect(coturn.output).not.toMatch(/user <agent7>: incoming packet ALLOCATE processed, error 401/);
      await call.hangup();
    } finally {
      await coturn.stop();
    }
  }, 40000);

  const itStun = peerAvailable('turnserver') && tsharkAvailable() ? it : it.skip;
  itStun('the line\'s STUN setting alone: libwebrtc asks coturn for its server-reflexive address from the socket that then carries the call (Binding requests and answers on the wire), and connects', async () => {
    const coturn = await Coturn.start({ users: { agent7: 'turn-secret' } });
    const capture = await Capture.start(`udp port ${coturn.port}`);
    try {
      const stun = { 'proxies.proxy0.nat.stun_server': '127.0.0.1', 'proxies.proxy0.nat.stun_server_port': String(coturn.port) };
      // (agents 2 and 3's ports: the test that used them has stopped its agents)
      const { call, bobCall } = await connectedPair('7017', '7018', 2, stun);
      await waitFor(() => (call.media.security as { state?: string }).state === 'connected', 10000, 'the WebRTC connection up');
      await capture.stop();
      // Alice's host candidates, from her offer as Bob got it (libwebrtc gathers on every
      // interface; on this machine one STUN socket is not the loopback one).
      const offer = (bobCall.session as Invitation).request.body;
      const hosts = [...offer.matchAll(/a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host/g)].map((match) => `${match[1]}:${match[2]}`);
      expect(hosts.length).toBeGreaterThan(0);
      // On the wire (tshark's STUN dissector): Binding requests to coturn from Alice's candidates'
      // sockets, and coturn's success answers back to them; no allocation (no TURN server here).
      const requests = capture.fields(`stun.type == 0x0001 && udp.dstport == ${coturn.port}`, ['ip.src', 'udp.srcport']).map(([address, port]) => `${address}:${port}`);
      const answers = capture.fields(`stun.type == 0x0101 && udp.srcport == ${coturn.port}`, ['ip.dst', 'udp.dstport']).map(([address, port]) => `${address}:${port}`);
      expect(requests.length).toBeGreaterThan(0);
      expect({ requests, hosts }).toEqual({ requests: requests.filter((from) => hosts.includes(from)), hosts });
      expect(answers.filter((to) => requests.includes(to)).length).toBeGreaterThan(0);
      expect(capture.fields('stun.type == 0x0003', ['frame.number'])).toEqual([]);
      await call.hangup();
    } finally {
      await capture.dispose();
      await coturn.stop();
    }
  }, 40000);

  it('a plain SIP offer (RTP/AVP, no ICE, no fingerprint) to a WebRTC agent is refused 488 with the reason; the agent\'s line goes on', async () => {
    const bob = agent('7008', 6, 1000);
    await bob.endpoint.start();
    await waitFor(() => bob.endpoint.lines[0]!.state === 'READY', 10000, 'Bob READY');
    bob.endpoint.on('incomingCall', (call) => void call.answer().catch(() => undefined));
    // A SIP phone on a plain WebSocket line, stand-alone: its INVITE goes through the gateway.
    const plain = new Endpoint({
      config: EndpointConfig.defaults().with({
        'user:0': '7009',
        'server:0': `127.0.0.1:${WS}`,
        'protocol:0': 'WS',
        'proxies.proxy0.reg_timeout': '0',
        'policy.endpoint.public_address': '127.0.0.1',
        'policy.endpoint.sip_port_min': String(SIP_PORTS + 7 * 7),
        'policy.endpoint.sip_port_max': String(SIP_PORTS + 7 * 7 + 6),
        'policy.endpoint.rtp_port_min': String(RTP + 7 * 20),
        'policy.endpoint.rtp_port_max': String(RTP + 7 * 20 + 19),
        'system.media.ringing_file': '',
      }),
      devices: new VirtualAudioProvider(),
    });
    agents.push({ endpoint: plain, devices: new VirtualAudioProvider(), log: [] });
    await plain.start();
    const call = await plain.makeCall(`sip:7008@127.0.0.1:${WS}`);
    await waitFor(() => call.state === 'DISCONNECTED', 10000, 'the call refused');
    expect(bob.log).toContainEqual('2 call on line 0 rejected with 488: a WebRTC line takes WebRTC offers only (ICE and DTLS-SRTP); this one has RTP/AVP (not UDP/TLS/RTP/SAVPF), no ICE credentials, no DTLS fingerprint');
    expect(call.info().rejectedWith).toBe(488);
    expect(call.endReason).toBe('488 Not Acceptable Here: a WebRTC line takes WebRTC offers only (ICE and DTLS-SRTP); this one has RTP/AVP (not UDP/TLS/RTP/SAVPF), no ICE credentials, no DTLS fingerprint');
    expect(bob.endpoint.calls).toEqual([]);
    expect(bob.endpoint.lines[0]!.state).toBe('READY');
  }, 30000);

  it(`${LEAK_CALLS} WebRTC calls leave nothing behind: every peer connection closed, threads and file descriptors back where they were`, async () => {
    const alice = agent('7010', 8, 600);
    const bob = agent('7011', 9, 1000);
    await Promise.all([alice.endpoint.start(), bob.endpoint.start()]);
    await waitFor(() => alice.endpoint.lines[0]!.state === 'READY' && bob.endpoint.lines[0]!.state === 'READY', 10000, 'both lines READY');
    bob.endpoint.on('incomingCall', (call) => void call.answer().catch(() => undefined));
    const streams: WebRtcAudioStream[] = [];
    const oneCall = async (): Promise<void> => {
      const call = await alice.endpoint.makeCall('7011');
      await waitFor(() => call.state === 'CONNECTED' && (call.media.stream as WebRtcAudioStream | undefined)?.connectionState === 'connected', 10000, 'connected');
      const far = bob.endpoint.calls[0]!;
      streams.push(call.media.stream as WebRtcAudioStream, far.media.stream as WebRtcAudioStream);
      await call.hangup();
      await waitFor(() => far.state === 'DISCONNECTED', 5000, 'Bob\'s side ended');
    };
    // The first call loads libwebrtc and starts its thread pools: counted from after it.
    await oneCall();
    await waitFor(() => streams.every((stream) => stream.connectionState === 'closed'), 5000, 'the first call closed');
    const before = { threads: threads(), descriptors: descriptors() };
    for (let i = 0; i < LEAK_CALLS; i++) await oneCall();
    expect(streams).toHaveLength(2 * (LEAK_CALLS + 1));
    expect(streams.filter((stream) => stream.state !== 'CLOSED' || stream.connectionState !== 'closed')).toEqual([]);
    expect(alice.endpoint.calls.length + bob.endpoint.calls.length).toBe(0);
    // libwebrtc ends a closed connection's threads shortly after: wait for them, not a fixed time.
    await waitFor(() => threads() <= before.threads + 2 && descriptors() <= before.descriptors + 2, 15000, `threads ${threads()} (were ${before.threads}) and descriptors ${descriptors()} (were ${before.descriptors}) back`);
  }, 60000 + LEAK_CALLS * 3000);
});
