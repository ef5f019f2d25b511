import { EndpointConfig, type AddressResolver } from '@sip-endpoint/config';
import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import { VirtualAudioProvider, WebRtcAudioStream, type VirtualSource } from '@sip-endpoint/media';
import { dominantFrequency } from '@sip-endpoint/media/testing';
import { testPorts } from '@sip-endpoint/test-support';
import { Baresip, baresipAvailable } from '../support/baresip';
import { heardByBaresip, untilBaresipRecorded } from '../support/baresip-calls';
import { waitFor } from '../support/endpoints';
import { KamailioSbc, kamailioAvailable } from '../support/kamailio-sbc';
import { Rtpengine, rtpengineAvailable, type Bencoded } from '../support/rtpengine';
import { makeTestCertificates, type TestCertificates } from '../support/tls-certificates';
import { webRtcLineConfig } from '../support/webrtc-agents';

// A contact centre's SBC between WebRTC agents and plain SIP: Kamailio (WSS for the agents, UDP
// for the phones, record-routing every dialog) anchors each call's media in rtpengine (user space,
// no kernel module), which turns the agents' WebRTC media (ICE, DTLS-SRTP, rtcp-mux,
// UDP/TLS/RTP/SAVPF) into plain RTP/AVP for the phones and back. Our WebRTC (HTTPS) line calls our
// own UDP line and baresip through it, and they call it; each side hears the other's tone.

const describeIf = rtpengineAvailable() && kamailioAvailable() && baresipAvailable() ? describe : describe.skip;

const SIP = testPorts(3);
const WSS = SIP + 1;
const NG = SIP + 2;
/** rtpengine's media ports (RTP and RTCP pairs: two sides a call). */
const MEDIA = testPorts(40);
/** 20 ports: baresip's SIP, TLS, ctrl_tcp and RTP. */
const BARESIP = testPorts(20);
/** 7 SIP and 20 RTP ports per party (a WebRTC line binds none of its RTP ports: libwebrtc takes its own). */
const SIP_PORTS = testPorts(6 * 7);
const RTP = testPorts(6 * 20);
const TOKEN = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJl';
/** The user a call to whom goes to baresip. */
const BARESIP_USER = '9001';

/** The certificate's name is the loopback address, and nothing else. */
const resolver: AddressResolver = {
  lookup: async (host, family) => (host === 'sbc.example.test' && family === 4 ? ['127.0.0.1'] : []),
  resolveSrv: async () => [],
};

interface Party {
  endpoint: Endpoint;
  devices: VirtualAudioProvider;
  log: string[];
}

/** The last `seconds` of what `party`'s speaker recorded. */
function lastHeard(party: Party, seconds: number): { samples: Int16Array; sampleRate: number } {
  const { samples, sampleRate } = party.devices.recording('speaker');
  return { samples: samples.subarray(Math.max(0, samples.length - Math.round(seconds * sampleRate))), sampleRate };
}

function heardFrequency(party: Party, seconds = 0.5): number {
  const { samples, sampleRate } = lastHeard(party, seconds);
  return dominantFrequency(samples, sampleRate);
}

/** Seconds of audio `party`'s speaker recorded. */
function recordedSeconds(party: Party): number {
  const { samples, sampleRate } = party.devices.recording('speaker');
  return samples.length / sampleRate;
}

/** Waits until `party`'s speaker has recorded `seconds` more than it had when called. */
async function untilMoreHeard(seconds: number, ...parties: Party[]): Promise<void> {
  const from = parties.map(recordedSeconds);
  await waitFor(() => parties.every((party, i) => recordedSeconds(party) >= from[i]! + seconds), 10000 + seconds * 1000, `${seconds} s more audio heard`);
}

/**
 * The SDP bodies of the SIP messages `party` received whose start line matches `startLine`, from
 * its SIP trace (`gsip=4`: "received from <address>\n<message>"), oldest first.
 */
function receivedSdp(party: Party, startLine: RegExp): string[] {
  return party.log
    .map((line) => /^4 received from \S+\n([\s\S]*)$/.exec(line)?.[1])
    .filter((message): message is string => message !== undefined && startLine.test(message.split('\r\n')[0]!) && /^Content-Type:\s*application\/sdp/im.test(message))
    .map((message) => message.slice(message.indexOf('\r\n\r\n') + 4));
}

/** The `m=audio` protocol of `sdp`. */
const protocolOf = (sdp: string | undefined): string | undefined => (sdp === undefined ? undefined : /^m=audio \d+ (\S+) /m.exec(sdp)?.[1]);

/** Each side (tag) of rtpengine's call: its audio's protocol, its flags, and the packets it received. */
function rtpengineSides(query: Record<string, Bencoded>): { protocol: string; flags: string[]; packets: number; remote: string }[] {
  const tags = (query['tags'] ?? {}) as Record<string, { medias?: { protocol?: string; flags?: string[]; streams?: { stats?: { packets?: number }; endpoint?: { address?: string } }[] }[] }>;
  return Object.values(tags).map((tag) => {
    const media = tag.medias?.[0];
    return {
      protocol: media?.protocol ?? '',
      flags: media?.flags ?? [],
      packets: (media?.streams ?? []).reduce((sum, stream) => sum + (stream.stats?.packets ?? 0), 0),
      remote: media?.streams?.[0]?.endpoint?.address ?? '',
    };
  });
}

describeIf('WebRTC agents and plain SIP phones through an SBC (Kamailio with rtpengine)', () => {
  let rtpengine: Rtpengine;
  let sbc: KamailioSbc;
  let baresip: Baresip;
  let certificates: TestCertificates;
  const parties: Party[] = [];

  beforeAll(async () => {
    certificates = makeTestCertificates(['sbc.example.test']);
    rtpengine = await Rtpengine.start({ ngPort: NG, portMin: MEDIA, portMax: MEDIA + 39 });
    sbc = await KamailioSbc.start({
      port: SIP,
      wss: { port: WSS, certificate: certificates.serverCertificate, key: certificates.serverKey },
      rtpengineNgPort: NG,
      bearer: { token: TOKEN },
      staticRoutes: { [BARESIP_USER]: `sip:bob@127.0.0.1:${BARESIP}` },
      debug: 2,
    });
    baresip = await Baresip.start({ port: BARESIP, user: 'bob', frequency: 440, answerMode: 'auto' });
  }, 30000);
  afterEach(async () => {
    await Promise.all(parties.splice(0).map((party) => party.endpoint.stop()));
  });
  afterAll(async () => {
    await baresip?.stop();
    await sbc?.stop();
    await rtpengine?.stop();
  });

  /** What went wrong, for a failure: the errors our endpoints logged, and the last of what Kamailio and rtpengine logged. */
  const logs = (): string => {
    const errors = parties.flatMap((one) => one.log.filter((line) => /^[01] /.test(line)));
    return `\n--- our errors ---\n${errors.join('\n')}\n--- kamailio ---\n${sbc.output.slice(-4000)}\n--- rtpengine ---\n${rtpengine.output.slice(-4000)}`;
  };

  /** waitFor, failing with {@link logs}. */
  async function until(check: () => boolean, ms: number, what: string): Promise<void> {
    await waitFor(check, ms, what).catch((error: Error) => {
      throw new Error(`${error.message}${logs()}`);
    });
  }

  /** Waits until every one of `calls` is CONNECTED; fails at once, with why, when one ends instead. */
  async function untilConnected(...calls: Call[]): Promise<void> {
    await until(() => calls.every((call) => call.state === 'CONNECTED') || calls.some((call) => call.state === 'DISCONNECTED'), 10000, 'connected');
    expect(calls.map((call) => ({ state: call.state, endReason: call.endReason }))).toEqual(calls.map(() => ({ state: 'CONNECTED', endReason: undefined })));
  }

  const logging = { 'system.diagnostics.enable_logging': '1', 'system.diagnostics.log_level': '4', 'system.diagnostics.log_options_provider': 'gsip=4' };

  /** Party `index`'s microphone plays `frequency` (or `source`); its speaker records. */
  function party(config: EndpointConfig, frequency: number, accessToken?: string, source?: VirtualSource): Party {
    const devices = new VirtualAudioProvider({ defaults: false });
    devices.addInput({ name: 'Headset Microphone', id: 'mic' }, source ?? { kind: 'tone', frequencies: [frequency], levelDbfs: -12 });
    devices.addOutput({ name: 'Headset Earphone', id: 'speaker' }, { record: true });
    const log: string[] = [];
    const endpoint = new Endpoint({ config, devices, resolver, ...(accessToken !== undefined ? { accessToken } : {}), logger: (level, message) => log.push(`${level} ${message}`) });
    const made = { endpoint, devices, log };
    parties.push(made);
    return made;
  }

  /** A WebRTC agent: an HTTPS line to the SBC over WSS with the Bearer token. */
  function agent(user: string, index: number, frequency: number, settings: Record<string, string> = {}): Party {
    return party(
      webRtcLineConfig(user, `https://sbc.example.test:${WSS}/`, certificates.caCertificate, SIP_PORTS + index * 7, RTP + index * 20, { ...logging, ...settings }),
      frequency,
      TOKEN,
    );
  }

  /** A plain SIP phone: our endpoint on a UDP line registered with the SBC (digest), native engine, RTP/AVP. */
  function phone(user: string, index: number, frequency: number, settings: Record<string, string> = {}, source?: VirtualSource): Party {
    return party(
      EndpointConfig.defaults().with({
        'user:0': user,
        'server:0': `127.0.0.1:${SIP}`,
        'protocol:0': 'UDP',
        'proxies.proxy0.password': 'secret',
        'proxies.proxy0.reg_timeout': '60',
        'proxies.proxy0.reg_interval': '0',
        'policy.endpoint.public_address': '127.0.0.1',
        'policy.endpoint.sip_port_min': String(SIP_PORTS + index * 7),
        'policy.endpoint.sip_port_max': String(SIP_PORTS + index * 7 + 6),
        'policy.endpoint.rtp_port_min': String(RTP + index * 20),
        'policy.endpoint.rtp_port_max': String(RTP + index * 20 + 19),
        'system.media.ringing_file': '',
        ...logging,
        ...settings,
      }),
      frequency,
      undefined,
      source,
    );
  }

  async function ready(...all: Party[]): Promise<void> {
    await Promise.all(all.map((one) => one.endpoint.start()));
    await waitFor(() => all.every((one) => one.endpoint.lines[0]!.state === 'READY'), 10000, 'every line READY');
  }

  /** Waits until rtpengine has no call left (each was deleted on BYE). */
  async function untilRtpengineIdle(): Promise<void> {
    const deadline = Date.now() + 5000;
    let calls = await rtpengine.calls();
    while (calls.length > 0) {
      if (Date.now() > deadline) throw new Error(`rtpengine still has ${calls.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      calls = await rtpengine.calls();
    }
  }

  /** The WebRTC side of a call is up: libwebrtc connected (ICE and DTLS with rtpengine). */
  async function webrtcConnected(call: Call): Promise<void> {
    await until(() => call.media.security.kind === 'webrtc' && call.media.security.state === 'connected', 15000, 'the WebRTC connection with rtpengine up');
  }

  /** `caller` calls `number`, which rings at `callee`: answered, both connected, and the WebRTC connection of `agent`'s side up. */
  async function answeredCall(caller: Party, callee: Party, number: string, agent: 'caller' | 'callee'): Promise<{ call: Call; answered: Call }> {
    const incoming: Call[] = [];
    callee.endpoint.on('incomingCall', (inbound) => incoming.push(inbound));
    const call = await caller.endpoint.makeCall(number);
    await until(() => incoming.length === 1, 10000, `the call at ${number}`);
    const answered = incoming[0]!;
    await answered.answer();
    await untilConnected(call, answered);
    await webrtcConnected(agent === 'caller' ? call : answered);
    return { call, answered };
  }

  /** rtpengine's one call: one side UDP/TLS/RTP/SAVPF with ICE and DTLS-SRTP, the other RTP/AVP, media through both. */
  async function expectRtpengineBridges(): Promise<void> {
    const calls = await rtpengine.calls();
    expect(calls).toHaveLength(1);
    const sides = rtpengineSides(await rtpengine.query(calls[0]!));
    const webrtc = sides.find((side) => side.protocol === 'UDP/TLS/RTP/SAVPF');
    const plain = sides.find((side) => side.protocol === 'RTP/AVP');
    expect(sides).toHaveLength(2);
    expect(webrtc?.flags).toEqual(expect.arrayContaining(['DTLS-SRTP', 'ICE', 'rtcp-mux']));
    expect(plain?.flags).not.toContain('ICE');
    expect(plain?.flags).not.toContain('DTLS-SRTP');
    expect(webrtc!.packets).toBeGreaterThan(0);
    expect(plain!.packets).toBeGreaterThan(0);
  }

  it('a WebRTC agent calls a SIP phone: WebRTC on its side, RTP/AVP on the phone\'s, each hears the other; hold, retrieve, hang-up', async () => {
    const alice = agent('7001', 0, 600);
    const bob = phone('2001', 1, 1000);
    await ready(alice, bob);
    const { call, answered: bobCall } = await answeredCall(alice, bob, '2001', 'caller');

    // What each side was given on the wire: the agent rtpengine's WebRTC answer, the phone a plain offer.
    const offerToPhone = receivedSdp(bob, /^INVITE /).at(-1);
    const answerToAgent = receivedSdp(alice, /^SIP\/2\.0 200 /).at(-1);
    expect(protocolOf(offerToPhone)).toBe('RTP/AVP');
    expect(offerToPhone).toMatch(/^c=IN IP4 127\.0\.0\.1\r?$/m);
    expect(offerToPhone).not.toMatch(/^a=(fingerprint|ice-ufrag|candidate|crypto|rtcp-mux)/m);
    expect(protocolOf(answerToAgent)).toBe('UDP/TLS/RTP/SAVPF');
    expect(answerToAgent).toMatch(/^a=fingerprint:sha-256 /m);
    expect(answerToAgent).toMatch(/^a=setup:passive\r?$/m);
    expect(answerToAgent).toMatch(/^a=ice-ufrag:/m);
    expect(answerToAgent).toMatch(/^a=candidate:\S+ 1 UDP \d+ 127\.0\.0\.1 \d+ typ host/m);
    expect(answerToAgent).toMatch(/^a=rtcp-mux\r?$/m);

    // Our two engines: libwebrtc on the agent's call, our plain RTP on the phone's, whose peer is rtpengine.
    expect(call.media.engine).toBe('webrtc');
    expect(call.media.stream).toBeInstanceOf(WebRtcAudioStream);
    expect(bobCall.media.engine).toBe('native');
    expect(bobCall.media.security).toEqual({ kind: 'none' });
    const negotiated = bobCall.media.negotiated!;
    expect(negotiated).toMatchObject({ srtp: undefined, dtls: undefined, ice: undefined, remote: { address: '127.0.0.1', rtcpMux: false } });
    expect(negotiated.remote.rtpPort).toBeGreaterThanOrEqual(MEDIA);
    expect(negotiated.remote.rtpPort).toBeLessThanOrEqual(MEDIA + 39);
    // One codec end to end (rtpengine does not transcode); the native engine names it with its rate.
    expect(bobCall.media.codec?.split('/')[0]).toBe(call.media.codec);

    // Each hears the other's tone, through rtpengine.
    await untilMoreHeard(1, alice, bob);
    expect(heardFrequency(alice)).toBeCloseTo(1000, -1);
    expect(heardFrequency(bob)).toBeCloseTo(600, -1);
    await expectRtpengineBridges();

    // Hold by re-INVITE through the SBC (rtpengine converts it too): the phone is told sendonly, answers recvonly.
    await call.hold();
    expect(call.state).toBe('HELD');
    await waitFor(() => bobCall.info().heldBy === 'remote', 5000, 'the phone held by the agent');
    const holdOffer = receivedSdp(bob, /^INVITE /).at(-1);
    expect(holdOffer).not.toBe(offerToPhone);
    expect(protocolOf(holdOffer)).toBe('RTP/AVP');
    expect(holdOffer).toMatch(/^a=sendonly\r?$/m);
    expect(bobCall.media.negotiated?.direction).toBe('recvonly');
    expect(protocolOf(receivedSdp(alice, /^SIP\/2\.0 200 /).at(-1))).toBe('UDP/TLS/RTP/SAVPF');
    await call.retrieve();
    expect(call.state).toBe('CONNECTED');
    await waitFor(() => bobCall.info().heldBy === undefined, 5000, 'the phone retrieved');
    expect(bobCall.media.negotiated?.direction).toBe('sendrecv');
    await untilMoreHeard(0.6, alice, bob);
    expect(heardFrequency(alice, 0.4)).toBeCloseTo(1000, -1);
    expect(heardFrequency(bob, 0.4)).toBeCloseTo(600, -1);

    // The agent hangs up: the BYE crosses the SBC, which has rtpengine forget the call.
    await call.hangup();
    await waitFor(() => bobCall.state === 'DISCONNECTED', 5000, 'the phone\'s call ended by the agent\'s BYE');
    expect((call.media.stream as WebRtcAudioStream).state).toBe('CLOSED');
    await untilRtpengineIdle();
  }, 60000);

  it('a SIP phone calls a WebRTC agent: the agent is offered WebRTC by the SBC, each hears the other; the phone hangs up', async () => {
    const alice = agent('7002', 2, 600);
    const bob = phone('2002', 3, 1000);
    await ready(alice, bob);
    const { call, answered: aliceCall } = await answeredCall(bob, alice, '7002', 'callee');

    const offerToAgent = receivedSdp(alice, /^INVITE /).at(-1);
    const answerToPhone = receivedSdp(bob, /^SIP\/2\.0 200 /).at(-1);
    expect(protocolOf(offerToAgent)).toBe('UDP/TLS/RTP/SAVPF');
    expect(offerToAgent).toMatch(/^a=fingerprint:sha-256 /m);
    expect(offerToAgent).toMatch(/^a=ice-ufrag:/m);
    expect(offerToAgent).toMatch(/^a=rtcp-mux\r?$/m);
    expect(offerToAgent).not.toMatch(/^a=crypto:/m);
    expect(protocolOf(answerToPhone)).toBe('RTP/AVP');
    expect(answerToPhone).not.toMatch(/^a=(fingerprint|ice-ufrag|candidate|crypto|rtcp-mux)/m);

    expect(aliceCall.media.engine).toBe('webrtc');
    expect(call.media.engine).toBe('native');
    expect(call.media.security).toEqual({ kind: 'none' });
    expect(call.media.negotiated).toMatchObject({ srtp: undefined, dtls: undefined, ice: undefined, remote: { address: '127.0.0.1' } });

    await untilMoreHeard(1, alice, bob);
    expect(heardFrequency(alice)).toBeCloseTo(1000, -1);
    expect(heardFrequency(bob)).toBeCloseTo(600, -1);
    await expectRtpengineBridges();

    await call.hangup();
    await waitFor(() => aliceCall.state === 'DISCONNECTED', 5000, 'the agent\'s call ended by the phone\'s BYE');
    expect((aliceCall.media.stream as WebRtcAudioStream).state).toBe('CLOSED');
    await untilRtpengineIdle();
  }, 60000);

  it('comfort noise crosses the SBC with its spectrum: a phone in a room sends CN (DTX on PCMU) to a WebRTC agent, whose libwebrtc plays the room\'s low-pass noise, not white noise', async () => {
    // The phone's room: white noise through a one-pole low-pass (a fan), -50 dBFS at 8 kHz. Its
    // correlation between neighbouring 8 kHz samples is about 0.9; white noise's is 0.
    let state = 7;
    let low = 0;
    const room: VirtualSource = {
      kind: 'function',
      fill: (frame, length) => {
        for (let i = 0; i < length; i++) {
          state = (Math.imul(state, 1103515245) + 12345) >>> 0;
          low = 0.9 * low + 0.1 * ((state / 2 ** 32) * 2 - 1);
          frame[i] = Math.round(low * 32767 * 10 ** (-50 / 20) * 7.6);
        }
      },
    };
    const dtx = { 'policy.session.dtx_mode': '1', 'codecs.enabled.audio': 'pcmu,telephone-event' };
    const alice = agent('7005', 6, 600, dtx);
    const bob = phone('2005', 7, 1000, dtx, room);
    await ready(alice, bob);
    const { call } = await answeredCall(bob, alice, '7005', 'callee');
    expect(call.media.codec).toBe('PCMU/8000');
    expect(call.media.negotiated?.comfortNoise).toBeDefined();
    // The phone's floor is learnt within a second; then 2 s of its pause, heard by the agent.
    await untilMoreHeard(3, alice);
    const { samples, sampleRate } = lastHeard(alice, 1.5);
    // The agent plays at its speaker's rate: neighbouring 8 kHz samples are sampleRate / 8000 apart.
    const lag = Math.round(sampleRate / 8000);
    let power = 0;
    let next = 0;
    for (let i = lag; i < samples.length; i++) {
      power += samples[i]! * samples[i]!;
      next += samples[i]! * samples[i - lag]!;
    }
    const level = 10 * Math.log10(power / (samples.length - lag) / (32767 * 32767));
    const sent = (call.media.stream as { stats(): { sent: { packets: number } } }).stats().sent.packets;
    console.log(`CN through rtpengine: the phone sent ${sent} packets in about 4 s; the agent plays its pause at ${level.toFixed(1)} dBFS, neighbour correlation ${(next / power).toFixed(2)} (the room's 0.9, white noise's 0)`);
    expect(level).toBeGreaterThan(-60);
    expect(level).toBeLessThan(-40);
    expect(next / power).toBeGreaterThan(0.6);
    await call.hangup();
    await untilRtpengineIdle();
  }, 60000);

  it('a WebRTC agent calls baresip (plain RTP/AVP, no rtcp-mux): each hears the other\'s tone through the SBC; baresip hangs up', async () => {
    const alice = agent('7003', 4, 600);
    await ready(alice);
    const from = baresip.events.length;
    const call = await alice.endpoint.makeCall(BARESIP_USER);
    await untilConnected(call);
    await webrtcConnected(call);
    await baresip.waitForEvent('CALL_ESTABLISHED', { from, ms: 10000 });
    await untilMoreHeard(1.5, alice);
    await untilBaresipRecorded(baresip, 1.5);
    expect(heardFrequency(alice)).toBeCloseTo(440, -1);
    expect(heardByBaresip(baresip)).toBeCloseTo(600, -1);
    const offerToBaresip = baresip.sipTrace().filter((message) => !message.sent && message.startLine.startsWith('INVITE ')).at(-1)?.body;
    expect(protocolOf(offerToBaresip)).toBe('RTP/AVP');
    expect(offerToBaresip).not.toMatch(/^a=(fingerprint|ice-ufrag|candidate|crypto|rtcp-mux)/m);
    expect(protocolOf(receivedSdp(alice, /^SIP\/2\.0 200 /).at(-1))).toBe('UDP/TLS/RTP/SAVPF');
    await expectRtpengineBridges();
    await baresip.hangup();
    await waitFor(() => call.state === 'DISCONNECTED', 5000, 'the agent\'s call ended by baresip\'s BYE');
    await untilRtpengineIdle();
  }, 60000);

  it('baresip calls a WebRTC agent: the agent is offered WebRTC by the SBC, each hears the other; the agent hangs up', async () => {
    const alice = agent('7004', 5, 600);
    await ready(alice);
    const incoming: Call[] = [];
    alice.endpoint.on('incomingCall', (inbound) => incoming.push(inbound));
    const from = baresip.events.length;
    const recordings = baresip.recordings().length;
    await baresip.dial(`sip:7004@127.0.0.1:${SIP}`);
    await until(() => incoming.length === 1, 10000, 'baresip\'s call at the agent');
    const inbound = incoming[0]!;
    await inbound.answer();
    await untilConnected(inbound);
    await webrtcConnected(inbound);
    await baresip.waitForEvent('CALL_ESTABLISHED', { from, ms: 10000 });
    await waitFor(() => baresip.recordings().length > recordings, 5000, 'baresip recording the new call');
    await untilMoreHeard(1.5, alice);
    await untilBaresipRecorded(baresip, 1.5);
    expect(heardFrequency(alice)).toBeCloseTo(440, -1);
    expect(heardByBaresip(baresip)).toBeCloseTo(600, -1);
    expect(protocolOf(receivedSdp(alice, /^INVITE /).at(-1))).toBe('UDP/TLS/RTP/SAVPF');
    const answerToBaresip = baresip.sipTrace().filter((message) => !message.sent && message.method === 'INVITE' && message.startLine.startsWith('SIP/2.0 200 ')).at(-1)?.body;
    expect(protocolOf(answerToBaresip)).toBe('RTP/AVP');
    expect(answerToBaresip).not.toMatch(/^a=(fingerprint|ice-ufrag|candidate|crypto|rtcp-mux)/m);
    await expectRtpengineBridges();
    await inbound.hangup();
    await baresip.waitForEvent('CALL_CLOSED', { from, ms: 5000 });
    await untilRtpengineIdle();
  }, 60000);
});
