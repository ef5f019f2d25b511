import { X509Certificate } from 'node:crypto';
import type { Call } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { Baresip, baresipAvailable } from '../support/baresip';
import { expectTwoWayAudio, heardByBaresip, heardByUs, target, untilBaresipRecorded } from '../support/baresip-calls';
import { standaloneEndpoint, untilRecorded, waitFor } from '../support/endpoints';

// DTLS-SRTP (RFC 5763, 5764) between our endpoint and baresip's `dtls_srtp` module: both ways,
// the roles a=setup gives, the fingerprints checked (each side's certificate is the one its SDP
// names), the audio decrypted on both sides, hold and retrieve on the same association.
const describeIf = baresipAvailable() ? describe : describe.skip;

type Party = ReturnType<typeof standaloneEndpoint>;

describeIf('DTLS-SRTP against baresip 1.0.0', () => {
  let baresip: Baresip | undefined;
  let parties: Party[] = [];
  let log: string[] = [];

  afterEach(async () => {
    await Promise.all(parties.map((party) => party.endpoint.stop()));
    await baresip?.stop();
    baresip = undefined;
    parties = [];
  });

  async function setUp(useSrtp: string, options: { rtcpMux?: boolean; keying?: 'sdes' | 'dtls'; settings?: Record<string, string> } = {}): Promise<[Baresip, Party]> {
    log = [];
    const us = standaloneEndpoint(
      '1001',
      testPorts(7),
      testPorts(50),
      1000,
      { 'policy.endpoint.rtp_port_binding': '1', 'system.security.use_srtp': useSrtp, 'system.diagnostics.enable_logging': '1', 'system.diagnostics.log_level': '4', 'system.diagnostics.log_options_provider': 'gsip=4', ...options.settings },
      { logger: (level, message) => log.push(`${level} ${message}`), ...(options.keying ? { srtpKeying: options.keying } : {}) },
    );
    parties.push(us);
    await us.endpoint.start();
    baresip = await Baresip.start({ user: 'bob', frequency: 440, answerMode: 'auto', mediaEnc: 'dtls_srtp', rtcpMux: options.rtcpMux ?? true });
    return [baresip, us];
  }


  /** The audio profile, a=setup and a=fingerprint of each INVITE body and answer in baresip's trace, with who sent it. */
  function offersAndAnswers(bob: Baresip): { sent: boolean; profile: string; setup: string; fingerprint: string }[] {
    return bob
      .sipTrace()
      .filter((m) => m.method === 'INVITE' && /^m=audio/m.test(m.body))
      .map((m) => ({
        sent: m.sent,
        profile: /^m=audio \d+ (\S+)/m.exec(m.body)?.[1] ?? '',
        setup: /^a=setup:(\S+)/m.exec(m.body)?.[1] ?? '',
        fingerprint: (/^a=fingerprint:sha-256 (\S+)/im.exec(m.body)?.[1] ?? '').toUpperCase(),
      }));
  }

  /** The fingerprint of our endpoint's certificate, as our SDP wrote it. */
  function ourFingerprint(bob: Baresip): string {
    return offersAndAnswers(bob).find((entry) => !entry.sent)?.fingerprint ?? '';
  }

  it('baresip calls us: we answer active (the DTLS client), check its certificate, and each hears the other', async () => {
    const [bob, us] = await setUp('optional', { settings: { 'policy.session.auto_answer': '1' } });
    const incoming: Call[] = [];
    us.endpoint.on('incomingCall', (call) => incoming.push(call));
    await bob.dial(target(us));
    await waitFor(() => incoming.length === 1 && incoming[0]!.state === 'CONNECTED', 5000);
    await waitFor(() => incoming[0]!.media.security.kind === 'dtls' && (incoming[0]!.media.security as { state: string }).state === 'established', 10000, 'the DTLS handshake');
    expect(incoming[0]!.media.security).toEqual({ kind: 'dtls', suite: 'AES_CM_128_HMAC_SHA1_80', role: 'client', state: 'established' });
    await expectTwoWayAudio(bob, us);
    const [offer, answer] = offersAndAnswers(bob);
    // baresip's dtls_srtp offers the AVPF profile; the answer keeps it.
    expect(offer).toMatchObject({ sent: true, profile: 'UDP/TLS/RTP/SAVPF', setup: 'actpass' });
    expect(answer).toMatchObject({ sent: false, profile: 'UDP/TLS/RTP/SAVPF', setup: 'active', fingerprint: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/) });
    // Our log names baresip's fingerprint, the one its offer carried, as checked.
    expect(log.some((line) => line.startsWith('3 ') && line.includes(`DTLS-SRTP keys (we are the DTLS client; peer certificate sha-256 ${offer!.fingerprint} checked)`))).toBe(true);
    await incoming[0]!.hangup();
  }, 30000);

  it('we call baresip (use_srtp enabled, DTLS-SRTP keying): baresip answers active, we are the server and check its certificate', async () => {
    const [bob, us] = await setUp('enabled', { keying: 'dtls' });
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await waitFor(() => call.media.security.kind === 'dtls' && (call.media.security as { state: string }).state === 'established', 10000, 'the DTLS handshake');
    expect(call.media.security).toMatchObject({ kind: 'dtls', role: 'server' });
    await expectTwoWayAudio(bob, us);
    const [offer, answer] = offersAndAnswers(bob);
    expect(offer).toMatchObject({ sent: false, profile: 'UDP/TLS/RTP/SAVP', setup: 'actpass' });
    expect(answer).toMatchObject({ sent: true, profile: 'UDP/TLS/RTP/SAVP', setup: 'active', fingerprint: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/) });
    expect(log.some((line) => line.startsWith('3 ') && line.includes(`DTLS-SRTP keys (we are the DTLS server; peer certificate sha-256 ${answer!.fingerprint} checked)`))).toBe(true);
    expect(ourFingerprint(bob)).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    await call.hangup();
  }, 30000);

  it('hold and retrieve run on the same association: no new handshake, audio both ways after', async () => {
    const [bob, us] = await setUp('mandatory', { keying: 'dtls' });
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await waitFor(() => (call.media.security as { state?: string }).state === 'established', 10000, 'the DTLS handshake');
    await untilBaresipRecorded(bob, 1.5);
    expect(heardByBaresip(bob)).toBeCloseTo(1000, -1);
    const handshakes = (): number => log.filter((line) => line.includes('DTLS-SRTP keys (we are')).length;
    expect(handshakes()).toBe(1);
    await call.hold();
    await call.retrieve();
    expect(call.state).toBe('CONNECTED');
    us.devices.clearRecording('speaker');
    await untilRecorded(1, us.devices);
    expect(heardByUs(us, 0.2)).toBeCloseTo(440, -1);
    expect(handshakes()).toBe(1);
    expect(call.media.security).toMatchObject({ kind: 'dtls', state: 'established' });
    // Our re-offers name the role we hold (passive: the server), not actpass.
    expect(offersAndAnswers(bob).filter((entry) => !entry.sent).map((entry) => entry.setup)).toEqual(['actpass', 'passive', 'passive']);
    expect(bob.output).not.toMatch(/srtp: failed to (decrypt|authenticate)/);
    await call.hangup();
  }, 60000);

  it.each(['baresip calls us', 'we call baresip'] as const)('without rtcp-mux (%s): a second association on the RTCP ports keys RTCP, and each hears the other', async (who) => {
    const [bob, us] = await setUp(who === 'we call baresip' ? 'enabled' : 'optional', { rtcpMux: false, keying: 'dtls', settings: { 'policy.session.auto_answer': '1' } });
    const incoming: Call[] = [];
    us.endpoint.on('incomingCall', (call) => incoming.push(call));
    const call = who === 'we call baresip' ? await us.endpoint.makeCall(bob.uri) : (await bob.dial(target(us)), await waitFor(() => incoming.length === 1, 5000), incoming[0]!);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await waitFor(() => (call.media.security as { state?: string }).state === 'established', 10000, 'both handshakes');
    expect(call.media.negotiated?.remote.rtcpMux).toBe(false);
    await expectTwoWayAudio(bob, us);
    // baresip completed both associations and checked our certificate on each.
    await waitFor(() => bob.output.includes('DTLS-SRTP complete (audio/RTP)') && bob.output.includes('DTLS-SRTP complete (audio/RTCP)'), 5000, "baresip's two associations");
    expect(bob.output.match(/verified sha-256 fingerprint OK/g)).toHaveLength(2);
    // SRTCP works both ways on the RTCP keys: our RTT comes from baresip's report of our own report.
    await waitFor(() => call.media.quality()?.rttMs !== undefined, 15000, 'an RTT from RTCP both ways');
    await call.hangup();
  }, 40000);

  it('a configured certificate is the one our SDP names and the one baresip is shown', async () => {
    const { generateDtlsCertificate } = await import('@sip-endpoint/media');
    const mine = await generateDtlsCertificate();
    log = [];
    const us = standaloneEndpoint('1001', testPorts(7), testPorts(50), 1000, { 'policy.endpoint.rtp_port_binding': '1', 'system.security.use_srtp': 'enabled' }, { srtpKeying: 'dtls', dtlsCertificate: { certPem: mine.certPem, keyPem: mine.keyPem } });
    parties.push(us);
    await us.endpoint.start();
    baresip = await Baresip.start({ user: 'bob', frequency: 440, answerMode: 'auto', mediaEnc: 'dtls_srtp', rtcpMux: true });
    const call = await us.endpoint.makeCall(baresip.uri);
    await waitFor(() => (call.media.security as { state?: string }).state === 'established', 10000, 'the DTLS handshake');
    expect(ourFingerprint(baresip)).toBe(new X509Certificate(mine.certPem).fingerprint256);
    await call.hangup();
  }, 30000);
});
