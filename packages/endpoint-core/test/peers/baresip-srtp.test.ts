import type { DtmfEvent } from '@sip-endpoint/media';
import type { Call } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { Baresip, baresipAvailable } from '../support/baresip';
import { expectTwoWayAudio, heardByBaresip, heardByUs, target, untilBaresipRecorded } from '../support/baresip-calls';
import { standaloneEndpoint, untilRecorded, waitFor } from '../support/endpoints';

// SRTP keyed by SDES (a=crypto) between our endpoint and baresip's `srtp` module, in each
// use_srtp mode against each of baresip's mediaenc modes: who offers what, who refuses, and that
// the audio decrypts on both sides (each hears the other's tone, after SRTP).
const describeIf = baresipAvailable() ? describe : describe.skip;

type Party = ReturnType<typeof standaloneEndpoint>;

describeIf('SRTP (SDES) against baresip 1.0.0', () => {
  let baresip: Baresip | undefined;
  let parties: Party[] = [];

  afterEach(async () => {
    await Promise.all(parties.map((party) => party.endpoint.stop()));
    await baresip?.stop();
    baresip = undefined;
    parties = [];
  });

  /** Our log, at debug level with the SIP messages (`gsip=4`). */
  let log: string[] = [];

  async function setUp(useSrtp: string, mediaEnc: '' | 'srtp' | 'srtp-mand' | 'srtp-mandf', settings: Record<string, string> = {}): Promise<[Baresip, Party]> {
    log = [];
    const us = standaloneEndpoint(
      '1001',
      testPorts(7),
      testPorts(50),
      1000,
      { 'policy.endpoint.rtp_port_binding': '1', 'system.security.use_srtp': useSrtp, 'system.diagnostics.enable_logging': '1', 'system.diagnostics.log_level': '4', 'system.diagnostics.log_options_provider': 'gsip=4', ...settings },
      { logger: (level, message) => log.push(`${level} ${message}`) },
    );
    parties.push(us);
    await us.endpoint.start();
    baresip = await Baresip.start({ user: 'bob', frequency: 440, answerMode: 'auto', mediaEnc });
    return [baresip, us];
  }


  /** The audio m= line and the number of a=crypto lines of each INVITE body and 200 answer in baresip's trace. */
  function profiles(bob: Baresip): string[] {
    return bob
      .sipTrace()
      .filter((m) => m.method === 'INVITE' && /^m=audio/m.test(m.body))
      .map((m) => `${/^m=audio \d+ (\S+)/m.exec(m.body)?.[1]} crypto ${(m.body.match(/^a=crypto:/gm) ?? []).length}`);
  }

  it.each([
    { mediaEnc: 'srtp-mand', useSrtp: 'optional', wire: ['RTP/SAVP', 'RTP/SAVP'] },
    { mediaEnc: 'srtp-mandf', useSrtp: 'mandatory', wire: ['RTP/SAVPF', 'RTP/SAVPF'] },
    { mediaEnc: 'srtp', useSrtp: 'elective', wire: ['RTP/AVP', 'RTP/AVP'] },
    { mediaEnc: 'srtp', useSrtp: 'enabled,UEC', wire: ['RTP/AVP', 'RTP/AVP'] },
  ] as const)('baresip ($mediaEnc) calls us (use_srtp $useSrtp): SRTP with SDES, each hears the other', async ({ mediaEnc, useSrtp, wire }) => {
    const [bob, us] = await setUp(useSrtp, mediaEnc, { 'policy.session.auto_answer': '1' });
    const incoming: Call[] = [];
    us.endpoint.on('incomingCall', (call) => incoming.push(call));
    await bob.dial(target(us));
    await waitFor(() => incoming.length === 1 && incoming[0]!.state === 'CONNECTED', 5000);
    await bob.waitForEvent('CALL_ESTABLISHED');
    expect(incoming[0]!.media.security).toMatchObject({ kind: 'sdes', suite: expect.stringMatching(/^AES_CM_128_HMAC_SHA1_(80|32)$/) });
    await expectTwoWayAudio(bob, us);
    // baresip offers its keys (one or more lines); our answer takes one.
    expect(profiles(bob)).toEqual([expect.stringMatching(new RegExp(`^${wire[0]} crypto [1-9]$`)), `${wire[1]} crypto 1`]);
    await incoming[0]!.hangup();
  }, 30000);

  it.each([
    { mediaEnc: 'srtp-mand', useSrtp: 'enabled', offered: 'RTP/SAVP' },
    { mediaEnc: 'srtp-mand', useSrtp: 'mandatory,UEC', offered: 'RTP/SAVP' },
    { mediaEnc: 'srtp', useSrtp: 'elective', offered: 'RTP/AVP' },
  ] as const)('we call baresip ($mediaEnc) with use_srtp $useSrtp: we offer $offered with four keys, it takes one, each hears the other', async ({ mediaEnc, useSrtp, offered }) => {
    const [bob, us] = await setUp(useSrtp, mediaEnc);
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await bob.waitForEvent('CALL_ESTABLISHED');
    expect(call.media.security).toMatchObject({ kind: 'sdes' });
    await expectTwoWayAudio(bob, us);
    expect(profiles(bob)).toEqual([`${offered} crypto 4`, `${offered} crypto 1`]);
    // Our log says what is in force, warns that the keys crossed UDP, and holds no key.
    expect(log.some((line) => /^3 .*SRTP AES_CM_128_HMAC_SHA1_80 with SDES keys/.test(line))).toBe(true);
    expect(log.some((line) => line.startsWith('2 ') && line.includes('SRTP keys (SDES) were exchanged over unencrypted signalling'))).toBe(true);
    const keys = bob.sipTrace().flatMap((m) => [...m.body.matchAll(/inline:([A-Za-z0-9+/=]+)/g)].map((match) => match[1]!));
    expect(keys.length).toBeGreaterThanOrEqual(5);
    expect(log.some((line) => line.includes('a=crypto:'))).toBe(true); // the SDP was logged...
    expect(keys.filter((key) => log.some((line) => line.includes(key)))).toEqual([]); // ...without its keys
    await call.hangup();
  }, 30000);

  it('elective against plain baresip: the best-effort offer is answered in plain, and the call runs on RTP', async () => {
    const [bob, us] = await setUp('elective', '');
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await bob.waitForEvent('CALL_ESTABLISHED');
    expect(call.media.security).toEqual({ kind: 'none' });
    await expectTwoWayAudio(bob, us);
    expect(profiles(bob)).toEqual(['RTP/AVP crypto 4', 'RTP/AVP crypto 0']);
    await call.hangup();
  }, 30000);

  it('disabled: a best-effort offer from baresip (srtp) is answered in plain RTP, and baresip takes it', async () => {
    const [bob, us] = await setUp('disabled', 'srtp', { 'policy.session.auto_answer': '1' });
    const incoming: Call[] = [];
    us.endpoint.on('incomingCall', (call) => incoming.push(call));
    await bob.dial(target(us));
    await waitFor(() => incoming.length === 1 && incoming[0]!.state === 'CONNECTED', 5000);
    await bob.waitForEvent('CALL_ESTABLISHED');
    expect(incoming[0]!.media.security).toEqual({ kind: 'none' });
    await expectTwoWayAudio(bob, us);
    expect(profiles(bob).at(-1)).toBe('RTP/AVP crypto 0');
  }, 30000);

  it.each([
    { mediaEnc: '', useSrtp: 'mandatory', warning: 'use_srtp is mandatory and the offer is plain RTP' },
    { mediaEnc: 'srtp-mand', useSrtp: 'disabled', warning: 'the offer wants SRTP (RTP/SAVP) and use_srtp is disabled' },
  ] as const)('refuses baresip ($mediaEnc) with 488 and a Warning saying why when use_srtp is $useSrtp', async ({ mediaEnc, useSrtp, warning }) => {
    const [bob, us] = await setUp(useSrtp, mediaEnc);
    const incoming: Call[] = [];
    us.endpoint.on('incomingCall', (call) => incoming.push(call));
    const from = bob.events.length;
    await bob.dial(target(us));
    await bob.waitForEvent('CALL_CLOSED', { from });
    // baresip prints its SIP trace on stdout, which may come a little after the event.
    const refusal = (): string | undefined => bob.sipTrace().find((m) => !m.sent && m.startLine.startsWith('SIP/2.0 488'))?.text;
    await waitFor(() => refusal() !== undefined, 5000, "the 488 in baresip's trace");
    expect(refusal()).toContain(`\r\nWarning: 304 127.0.0.1 "${warning}`);
    expect(incoming).toEqual([]);
  }, 30000);

  it('mandatory against plain baresip: baresip refuses our RTP/SAVP offer, and the call fails', async () => {
    const [bob, us] = await setUp('mandatory', '');
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'DISCONNECTED', 5000);
    const answer = (): string | undefined => bob.sipTrace().find((m) => m.sent && m.method === 'INVITE' && /^SIP\/2\.0 [3-6]\d\d/.test(m.startLine))?.startLine;
    await waitFor(() => answer() !== undefined, 5000, "baresip's refusal in its trace");
    expect(answer()).toMatch(/^SIP\/2\.0 488/);
  }, 30000);

  it('mandatory against baresip srtp-mandf: it wants RTP/SAVPF (AVPF feedback), which we do not offer: it refuses our RTP/SAVP, the call fails with its status', async () => {
    const [bob, us] = await setUp('mandatory', 'srtp-mandf');
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'DISCONNECTED', 5000);
    const answer = (): string | undefined => bob.sipTrace().find((m) => m.sent && m.method === 'INVITE' && /^SIP\/2\.0 [3-6]\d\d/.test(m.startLine))?.startLine;
    await waitFor(() => answer() !== undefined, 5000, "baresip's refusal in its trace");
    expect(answer()).toMatch(/^SIP\/2\.0 488/);
    expect(call.endReason).toMatch(/^488/);
  }, 30000);

  it('re-INVITEs keep the keys: our hold and retrieve and baresip\'s hold and resume, and audio flows both ways after each', async () => {
    const [bob, us] = await setUp('mandatory', 'srtp-mand');
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await bob.waitForEvent('CALL_RTPESTAB');
    const keysIn = (sent: boolean): string[] =>
      bob
        .sipTrace()
        .filter((m) => m.sent === sent && m.body.includes('a=crypto:'))
        .map((m) => /^a=crypto:1 \S+ inline:(\S+)/m.exec(m.body)?.[1] ?? '');
    /** After a change: a second of new audio at our end with baresip's tone, and no packet of ours baresip could not decrypt. */
    const bothHear = async (): Promise<void> => {
      us.devices.clearRecording('speaker');
      await untilRecorded(1, us.devices);
      expect(heardByUs(us, 0.2)).toBeCloseTo(440, -1);
      expect(bob.output).not.toMatch(/srtp: failed to (decrypt|authenticate)/);
    };
    // Before the re-INVITEs baresip heard our tone through SRTP. (Its sndfile dump stops at a
    // re-INVITE, which restarts its audio: after them, its log tells whether it decrypted us.)
    await untilBaresipRecorded(bob, 1.5);
    expect(heardByBaresip(bob)).toBeCloseTo(1000, -1);
    await bothHear();

    await call.hold();
    await call.retrieve();
    expect(call.state).toBe('CONNECTED');
    await bothHear();
    // Three offers of ours (INVITE, hold, retrieve): the re-offers keep the key in use (baresip
    // would not follow a new one: it keys its receiver once per call).
    const ours = keysIn(false);
    expect(ours).toHaveLength(3);
    expect(new Set(ours).size).toBe(1);

    await bob.hold();
    await waitFor(() => call.state === 'HELD', 5000);
    await bob.resume();
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await bothHear();
    expect(call.media.security).toMatchObject({ kind: 'sdes' });
    // The keys never changed: said once in the log, and warned about once.
    expect(log.filter((line) => line.includes('with SDES keys')).length).toBe(1);
    expect(log.filter((line) => line.includes('were exchanged over unencrypted signalling')).length).toBe(1);
  }, 60000);

  it('DTMF goes both ways as RFC 4733 events inside SRTP', async () => {
    const [bob, us] = await setUp('mandatory', 'srtp-mand');
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await bob.waitForEvent('CALL_RTPESTAB');
    const from = bob.events.length;
    await call.sendDtmf('159#', { method: 'rfc2833' });
    const digits = (): string =>
      bob.events
        .slice(from)
        .filter((event) => event.type === 'CALL_DTMF_START')
        .map((event) => event.param)
        .join('');
    await waitFor(() => digits().length >= 4, 5000, 'four digits at baresip');
    expect(digits()).toBe('159#');
    const received: DtmfEvent[] = [];
    call.on('dtmf', (event) => received.push(event));
    await bob.sendDigits('260*');
    await waitFor(() => received.length >= 4, 5000, 'four digits at our end');
    expect(received.map((event) => `${event.digit}:${event.source}`)).toEqual(['2:rfc4733', '6:rfc4733', '0:rfc4733', '*:rfc4733']);
    expect(call.media.security).toMatchObject({ kind: 'sdes' });
  }, 30000);
});
