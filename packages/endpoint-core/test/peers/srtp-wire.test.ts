import { createSocket } from 'node:dgram';
import type { Call } from '@sip-endpoint/endpoint-core';
import type { AudioStream, AudioStreamStats } from '@sip-endpoint/media';
import { dominantFrequency } from '@sip-endpoint/media/testing';
import { testPorts } from '@sip-endpoint/test-support';
import { heardByUs, target } from '../support/baresip-calls';
import { Capture, tsharkAvailable } from '../support/capture';
import { standaloneEndpoint, untilRecorded, waitFor } from '../support/endpoints';

// SRTP between two of our endpoints, judged on the wire by tshark (Wireshark's RTP and RTCP
// dissectors) rather than by our own counters: what a listener on the network gets.
const describeIf = tsharkAvailable() ? describe : describe.skip;

type Party = ReturnType<typeof standaloneEndpoint>;

describeIf('SRTP on the wire (tshark), between two endpoints', () => {
  let parties: Party[] = [];
  let capture: Capture | undefined;
  afterEach(async () => {
    await Promise.all(parties.map((party) => party.endpoint.stop()));
    parties = [];
    await capture?.dispose();
    capture = undefined;
  });

  /** Alice (1000 Hz) calls Bob (700 Hz, answers at once) over PCMU; both with the given settings. */
  async function call(alice: Record<string, string>, bob: Record<string, string>, aliceKeying: 'sdes' | 'dtls' = 'sdes'): Promise<{ a: Party; b: Party; call: Call; rtpBase: number; log: string[] }> {
    const log: string[] = [];
    const rtpBase = testPorts(50);
    const common = { 'policy.endpoint.rtp_port_binding': '1', 'codecs.enabled.audio': 'pcmu' };
    const a = standaloneEndpoint('1001', testPorts(7), rtpBase, 1000, { ...common, ...alice }, { srtpKeying: aliceKeying });
    const b = standaloneEndpoint('1002', testPorts(7), testPorts(50), 700, { ...common, 'policy.session.auto_answer': '1', 'system.diagnostics.enable_logging': '1', 'system.diagnostics.log_level': '4', ...bob }, { logger: (level, message) => log.push(`${level} ${message}`) });
    parties.push(a, b);
    await Promise.all([a.endpoint.start(), b.endpoint.start()]);
    capture = await Capture.start(`udp portrange ${rtpBase}-${rtpBase + 49}`);
    const placed = await a.endpoint.makeCall(target(b));
    await waitFor(() => placed.state === 'CONNECTED', 5000);
    await untilRecorded(1.5, a.devices, b.devices);
    return { a, b, call: placed, rtpBase, log };
  }

  /** The first 160 bytes of each RTP payload Alice sent from `port`, as tshark decodes them. */
  function alicePayloads(port: number): Buffer[] {
    return capture!
      .fields(`rtp && udp.srcport == ${port}`, ['rtp.payload'], [`udp.port==${port},rtp`])
      .map(([hex]) => Buffer.from((hex ?? '').replace(/:/g, ''), 'hex').subarray(0, 160))
      .filter((payload) => payload.length === 160);
  }

  function distinctBytes(payloads: Buffer[]): number {
    const seen = new Set<number>();
    for (const payload of payloads) for (const byte of payload) seen.add(byte);
    return seen.size;
  }

  it('plain RTP carries the tone readable on the wire; SRTP carries bytes that are not it, and both ends still hear each other', async () => {
    const plain = await call({}, {});
    await capture!.stop();
    const plainPort = (plain.call.media.stream as AudioStream).localPort;
    const clear = alicePayloads(plainPort);
    expect(clear.length).toBeGreaterThan(20);
    // A 1000 Hz tone at 8 kHz is 8 samples a period: a handful of u-law byte values (a few dozen at most).
    expect(distinctBytes(clear)).toBeLessThanOrEqual(40);
    await Promise.all(parties.map((party) => party.endpoint.stop()));
    parties = [];
    await capture!.dispose();

    const secure = await call({ 'system.security.use_srtp': 'mandatory' }, { 'system.security.use_srtp': 'optional' });
    await capture!.stop();
    expect(secure.call.media.security).toMatchObject({ kind: 'sdes', suite: 'AES_CM_128_HMAC_SHA1_80' });
    expect(secure.a.endpoint.session().phone.calls).toEqual([{ uuid: secure.call.info().uuid, state: 'CONNECTED', security: 'sdes' }]);
    const encrypted = alicePayloads((secure.call.media.stream as AudioStream).localPort);
    expect(encrypted.length).toBeGreaterThan(20);
    expect(distinctBytes(encrypted)).toBeGreaterThan(240);
    // Decrypted, the audio is the tone again on each side.
    expect(heardByUs(secure.b)).toBeCloseTo(1000, -1);
    expect(heardByUs(secure.a)).toBeCloseTo(700, -1);
  }, 40_000);

  it('DTLS-SRTP: the handshake crosses the RTP port (ClientHello with use_srtp, certificates), then bytes that are not the tone; both ends hear each other', async () => {
    const secure = await call({ 'system.security.use_srtp': 'enabled' }, { 'system.security.use_srtp': 'optional' }, 'dtls');
    await capture!.stop();
    expect(secure.call.media.security).toEqual({ kind: 'dtls', suite: 'AES_CM_128_HMAC_SHA1_80', role: 'server', state: 'established' });
    expect(secure.a.endpoint.session().phone.calls).toEqual([{ uuid: secure.call.info().uuid, state: 'CONNECTED', security: 'dtls' }]);
    const port = (secure.call.media.stream as AudioStream).localPort;
    // Bob (the answerer, active) sent the ClientHello to Alice's RTP port; each side sent a certificate.
    const handshakes = capture!.fields(`dtls.handshake.type && udp.port == ${port}`, ['udp.dstport', 'dtls.handshake.type', 'dtls.use_srtp.protection_profile'], [`udp.port==${port},dtls`]);
    const toAlice = handshakes.filter(([dst]) => dst === String(port)).map(([, types]) => types ?? '').join(',').split(',');
    const fromAlice = handshakes.filter(([dst]) => dst !== String(port)).map(([, types]) => types ?? '').join(',').split(',');
    expect(toAlice).toEqual(expect.arrayContaining(['1', '11'])); // ClientHello, Certificate
    expect(fromAlice).toEqual(expect.arrayContaining(['2', '11', '13'])); // ServerHello, Certificate, CertificateRequest
    expect(handshakes.find(([dst, types]) => dst === String(port) && (types ?? '').split(',').includes('1'))?.[2]).toBe('0x0001'); // SRTP_AES128_CM_HMAC_SHA1_80
    // Wireshark follows the handshake and dissects what comes after it as SRTP: its encrypted payloads.
    const encrypted = capture!
      .fields(`srtp.enc_payload && udp.srcport == ${port}`, ['srtp.enc_payload'])
      .map(([hex]) => Buffer.from((hex ?? '').replace(/:/g, ''), 'hex').subarray(0, 160))
      .filter((payload) => payload.length === 160);
    expect(encrypted.length).toBeGreaterThan(20);
    expect(distinctBytes(encrypted)).toBeGreaterThan(240);
    expect(heardByUs(secure.b)).toBeCloseTo(1000, -1);
    expect(heardByUs(secure.a)).toBeCloseTo(700, -1);
  }, 40_000);

  it('with UNENCRYPTED_SRTCP negotiated, RTCP crosses in clear (its CNAME, ...@sip-endpoint, readable) with E = 0 and a tag; without it, the CNAME is not readable', async () => {
    for (const uec of [true, false]) {
      const { call: placed } = await call({ 'system.security.use_srtp': uec ? 'mandatory,UEC' : 'mandatory' }, { 'system.security.use_srtp': 'optional' });
      expect(placed.media.security).toEqual({ kind: 'sdes', suite: 'AES_CM_128_HMAC_SHA1_80', unencryptedSrtcp: uec });
      const port = (placed.media.stream as AudioStream).localPort;
      // Alice's RTCP leaves from the port after her RTP port; the first report comes 2.5 to 7.5 s into the call.
      const reports = (): string[][] => capture!.fields(`udp.srcport == ${port + 1}`, ['udp.payload']);
      await waitFor(() => reports().length > 0, 12_000, "Alice's first RTCP packet");
      await capture!.stop();
      const datagram = Buffer.from((reports()[0]!.at(-1) ?? '').replace(/:/g, ''), 'hex');
      const compound = datagram.subarray(0, datagram.length - 14);
      const eIndex = datagram.readUInt32BE(datagram.length - 14);
      expect(datagram.subarray(0, 2).toString('hex')).toMatch(/^8[01]c[89]$/); // an RR or SR header in clear
      const cname = compound.includes(Buffer.from('@sip-endpoint'));
      expect([eIndex >>> 31, cname]).toEqual(uec ? [0, true] : [1, false]);
      await Promise.all(parties.map((party) => party.endpoint.stop()));
      parties = [];
      await capture!.dispose();
      capture = undefined;
    }
  }, 60_000);

  it('forged and replayed packets sent to a call are dropped, logged, and the call goes on', async () => {
    const { b, call: placed, log } = await call({ 'system.security.use_srtp': 'mandatory' }, { 'system.security.use_srtp': 'mandatory' });
    await capture!.stop();
    const bobCall = b.endpoint.calls[0]!;
    const bobPort = (bobCall.media.stream as AudioStream).localPort;
    // Replay one of Alice's packets as captured, and a forged copy of it, at Bob's RTP port.
    const [row] = capture!.fields(`udp.dstport == ${bobPort}`, ['udp.payload']);
    const captured = Buffer.from((row?.[0] ?? '').replace(/:/g, ''), 'hex');
    expect(captured.length).toBe(12 + 160 + 10);
    const forged = Buffer.from(captured);
    forged[30]! ^= 0xff;
    // A sequence number well ahead of any sent (the call is seconds old): judged by its tag, not as a replay.
    forged.writeUInt16BE((captured.readUInt16BE(2) + 30_000) & 0xffff, 2);
    const socket = createSocket('udp4');
    const before = b.devices.recording('speaker').samples.length;
    try {
      for (let i = 0; i < 5; i++) {
        socket.send(captured, bobPort, '127.0.0.1');
        socket.send(forged, bobPort, '127.0.0.1');
      }
      await waitFor(() => log.some((line) => /^2 .*SRTP dropped a packet \((replayed|authentication|tooOld)\)/.test(line)), 5000, `Bob's log line for the dropped packets; his SRTP log: ${log.filter((line) => line.includes('SRTP')).join(' | ')}`);
    } finally {
      socket.close();
    }
    const received = (): { replayed: number; tooOld: number; authenticationFailures: number } => (bobCall.media.stats() as AudioStreamStats).srtp!.received;
    await waitFor(() => received().replayed + received().tooOld >= 5 && received().authenticationFailures >= 5, 5000, 'every bad packet counted');
    // The call goes on: Bob keeps hearing Alice's tone.
    await waitFor(() => b.devices.recording('speaker').samples.length > before + 8000, 5000, 'another second of audio at Bob');
    const { samples, sampleRate } = b.devices.recording('speaker');
    expect(dominantFrequency(samples.subarray(before), sampleRate)).toBeCloseTo(1000, -1);
    expect(placed.state).toBe('CONNECTED');
  }, 40_000);
});
