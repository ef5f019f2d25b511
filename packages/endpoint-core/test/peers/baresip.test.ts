import type { DtmfEvent } from '@sip-endpoint/media';
import { rms } from '@sip-endpoint/media/testing';
import type { Call } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { Baresip, baresipAvailable } from '../support/baresip';
import { heardByBaresip, heardByUs, target, untilBaresipRecorded } from '../support/baresip-calls';
import { recorded, sleep, standaloneEndpoint, untilRecorded, waitFor } from '../support/endpoints';

// Ports: our endpoints' and each baresip's (20: SIP, TLS, ctrl_tcp, RTP) come from this jest
// worker's range.
const describeIf = baresipAvailable() ? describe : describe.skip;

/** Our endpoint "1001": a 1000 Hz microphone, a recording speaker, RTP bound to 127.0.0.1. */
function ours(settings: Record<string, string> = {}, user = '1001', frequency = 1000): ReturnType<typeof standaloneEndpoint> {
  return standaloneEndpoint(user, testPorts(7), testPorts(50), frequency, { 'policy.endpoint.rtp_port_binding': '1', ...settings });
}

/**
 * The first offer/answer of `method` (an INVITE) in baresip's trace from message `from` on: the
 * offer received (or sent, with `received` false) and the answer in the 2xx going the other way.
 */
function exchange(baresip: Baresip, from: number, method: string, received = true): { offer: string | undefined; answer: string | undefined } | undefined {
  const trace = baresip.sipTrace().slice(from);
  const request = trace.findIndex((m) => m.sent !== received && m.startLine.startsWith(`${method} `));
  if (request < 0) return undefined;
  const response = trace.slice(request + 1).find((m) => m.sent === received && m.method === method && /^SIP\/2\.0 2\d\d/.test(m.startLine));
  if (!response) return undefined;
  return { offer: trace[request]!.direction, answer: response.direction };
}

describeIf('the endpoint against baresip 1.0.0', () => {
  let baresip: Baresip | undefined;
  let parties: ReturnType<typeof standaloneEndpoint>[] = [];

  afterEach(async () => {
    await Promise.all(parties.map((party) => party.endpoint.stop()));
    await baresip?.stop();
    baresip = undefined;
    parties = [];
  });

  async function setUp(options: { answerMode?: 'manual' | 'auto'; codecs?: ('PCMU' | 'PCMA')[] } = {}, settings: Record<string, string> = {}): Promise<[Baresip, ReturnType<typeof standaloneEndpoint>]> {
    const us = ours(settings);
    parties.push(us);
    await us.endpoint.start();
    baresip = await Baresip.start({ user: 'bob', frequency: 440, ...options });
    return [baresip, us];
  }

  it.each([
    { codec: 'PCMU', answer: 'by call.answer()' },
    { codec: 'PCMA', answer: 'by the auto_answer policy' },
  ] as const)('baresip calls us over $codec, we answer $answer: each side hears the other\'s tone', async ({ codec, answer }) => {
    const auto = answer !== 'by call.answer()';
    const [bob, us] = await setUp({ codecs: [codec] }, auto ? { 'policy.session.auto_answer': '1' } : {});
    const incoming: Call[] = [];
    us.endpoint.on('incomingCall', (call) => incoming.push(call));
    await bob.dial(target(us));
    await waitFor(() => incoming.length === 1, 5000);
    const call = incoming[0]!;
    if (!auto) {
      expect(call.state).toBe('RINGING');
      await bob.waitForEvent('CALL_RINGING');
      await call.answer();
    }
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await bob.waitForEvent('CALL_ESTABLISHED');
    await untilRecorded(1.5, us.devices);
    await untilBaresipRecorded(bob, 1.5);

    expect(call.info()).toMatchObject({ direction: 'incoming', state: 'CONNECTED', codec: `${codec}/8000` });
    expect(call.info().remote).toContain('sip:bob@127.0.0.1');
    expect(heardByUs(us)).toBeCloseTo(440, -1);
    expect(heardByBaresip(bob)).toBeCloseTo(1000, -1);

    await call.hangup();
    await bob.waitForEvent('CALL_CLOSED');
    expect(call.state).toBe('DISCONNECTED');
  }, 30000);

  it.each([
    { codec: 'PCMU', how: 'its account' },
    { codec: 'PCMA', how: 'the answermode command' },
  ] as const)('we call baresip over $codec, it answers at once ($how sets auto-answer): each side hears the other\'s tone, and its BYE ends our call', async ({ codec, how }) => {
    const [bob, us] = await setUp({ answerMode: how === 'its account' ? 'auto' : 'manual', codecs: [codec] });
    if (how !== 'its account') await bob.setAnswerMode('auto');
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    const incoming = await bob.waitForEvent('CALL_ESTABLISHED');
    expect(incoming.direction).toBe('incoming');
    expect(incoming.peeruri).toContain('sip:1001@127.0.0.1');
    await untilRecorded(1.5, us.devices);
    await untilBaresipRecorded(bob, 1.5);

    expect(call.info()).toMatchObject({ direction: 'outgoing', state: 'CONNECTED', codec: `${codec}/8000` });
    expect(heardByUs(us)).toBeCloseTo(440, -1);
    expect(heardByBaresip(bob)).toBeCloseTo(1000, -1);

    await bob.hangup();
    await waitFor(() => call.state === 'DISCONNECTED', 5000);
    expect(us.endpoint.calls).toEqual([]);
  }, 30000);

  it('hold and retrieve from our side: baresip answers our re-INVITEs recvonly then sendrecv, and its audio stops and comes back', async () => {
    const [bob, us] = await setUp({ answerMode: 'auto' });
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await untilRecorded(0.8, us.devices);
    expect(heardByUs(us)).toBeCloseTo(440, -1);

    let from = bob.sipTrace().length;
    await call.hold();
    expect(call.state).toBe('HELD');
    expect(call.info().heldBy).toBe('local');
    await waitFor(() => exchange(bob, from, 'INVITE') !== undefined, 5000); // baresip's trace may come a little later
    expect(exchange(bob, from, 'INVITE')).toEqual({ offer: 'sendonly', answer: 'recvonly' });
    // 0.3 s for what was in flight, then 0.7 s in which nothing may be heard: a quiet period (and
    // the speaker may play nothing at all while held), so wall time, the behaviour under test.
    await sleep(300);
    us.devices.clearRecording('speaker');
    await sleep(700);
    expect(rms(us.devices.recording('speaker').samples)).toBeLessThan(100); // baresip sends nothing while we hold

    from = bob.sipTrace().length;
    await call.retrieve();
    expect(call.state).toBe('CONNECTED');
    await waitFor(() => exchange(bob, from, 'INVITE') !== undefined, 5000);
    expect(exchange(bob, from, 'INVITE')).toEqual({ offer: 'sendrecv', answer: 'sendrecv' });
    await untilRecorded(recorded(us.devices) + 0.3, us.devices);
    us.devices.clearRecording('speaker');
    await untilRecorded(0.8, us.devices);
    expect(heardByUs(us, 0.1)).toBeCloseTo(440, -1);
    expect(rms(us.devices.recording('speaker').samples)).toBeGreaterThan(1000);
  }, 30000);

  it("hold and resume from baresip's side: our call goes HELD (held by the remote), then CONNECTED again", async () => {
    const [bob, us] = await setUp({ answerMode: 'auto' });
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await bob.waitForEvent('CALL_ESTABLISHED');
    await bob.waitForEvent('CALL_RTPESTAB');
    const states: string[] = [];
    call.on('stateChanged', (state) => states.push(state));

    let from = bob.sipTrace().length;
    await bob.hold();
    await waitFor(() => exchange(bob, from, 'INVITE', false) !== undefined, 5000);
    expect(exchange(bob, from, 'INVITE', false)).toEqual({ offer: 'sendonly', answer: 'recvonly' });
    await waitFor(() => call.state === 'HELD', 5000);
    expect(call.info().heldBy).toBe('remote');

    from = bob.sipTrace().length;
    await bob.resume();
    await waitFor(() => exchange(bob, from, 'INVITE', false) !== undefined, 5000);
    expect(exchange(bob, from, 'INVITE', false)).toEqual({ offer: 'sendrecv', answer: 'sendrecv' });
    await waitFor(() => call.state === 'CONNECTED', 5000);
    expect(call.info().heldBy).toBeUndefined();
    expect(states).toEqual(['HELD', 'CONNECTED']);
    await untilRecorded(recorded(us.devices) + 0.8, us.devices);
    expect(heardByUs(us, 0.2)).toBeCloseTo(440, -1);
  }, 30000);

  it('DTMF: baresip reports our RFC 2833 and SIP INFO digits, and we report the digits baresip sends', async () => {
    const [bob, us] = await setUp({ answerMode: 'auto' });
    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await bob.waitForEvent('CALL_RTPESTAB');
    const digitsAt = (from: number): string =>
      bob.events
        .slice(from)
        .filter((event) => event.type === 'CALL_DTMF_START')
        .map((event) => event.param)
        .join('');

    let from = bob.events.length;
    await call.sendDtmf('123#', { method: 'rfc2833' });
    await waitFor(() => digitsAt(from).length >= 4, 5000);
    expect(digitsAt(from)).toBe('123#');
    await waitFor(() => bob.events.slice(from).filter((event) => event.type === 'CALL_DTMF_END').length >= 4, 5000, 'the end of each RFC 2833 digit at baresip');

    from = bob.events.length;
    const infoFrom = bob.sipTrace().length;
    await call.sendDtmf('123#', { method: 'info' });
    await waitFor(() => digitsAt(from).length >= 4, 5000);
    expect(digitsAt(from)).toBe('123#');
    // They came as SIP INFO (application/dtmf-relay), each answered 200 (the trace comes on stdout, maybe later).
    const answered = (): number => bob.sipTrace().slice(infoFrom).filter((m) => m.sent && m.method === 'INFO' && m.startLine.startsWith('SIP/2.0 200')).length;
    await waitFor(() => answered() >= 4, 5000);
    const infos = bob.sipTrace().slice(infoFrom).filter((m) => !m.sent && m.startLine.startsWith('INFO '));
    expect(infos.map((m) => /^Signal=(.)/m.exec(m.body)?.[1]).join('')).toBe('123#');
    expect(infos.every((m) => /^Content-Type:\s*application\/dtmf-relay/im.test(m.text))).toBe(true);
    expect(answered()).toBe(4);

    const received: DtmfEvent[] = [];
    call.on('dtmf', (event) => received.push(event));
    await bob.sendDigits('456*');
    await waitFor(() => received.length >= 4, 5000);
    expect(received.map((event) => `${event.digit}:${event.source}`)).toEqual(['4:rfc4733', '5:rfc4733', '6:rfc4733', '*:rfc4733']);
  }, 30000);

  it('blind transfer: we REFER baresip to a second endpoint, baresip calls it, they hear each other, and our call ends', async () => {
    const [bob, us] = await setUp({ answerMode: 'auto' });
    const carol = ours({ 'policy.session.auto_answer': '1' }, '1002', 700);
    parties.push(carol);
    await carol.endpoint.start();
    const carolCalls: Call[] = [];
    carol.endpoint.on('incomingCall', (incoming) => carolCalls.push(incoming));

    const call = await us.endpoint.makeCall(bob.uri);
    await waitFor(() => call.state === 'CONNECTED', 5000);
    await bob.waitForEvent('CALL_ESTABLISHED');
    // A new second, the peer's constraint: baresip names its recordings by the second they start.
    await sleep(1200);

    const from = bob.sipTrace().length;
    await call.transfer(target(carol));
    await waitFor(() => carolCalls.length === 1 && carolCalls[0]!.state === 'CONNECTED', 5000);
    expect(carolCalls[0]!.info().remote).toContain('sip:bob@127.0.0.1');
    await waitFor(() => call.state === 'DISCONNECTED', 5000);
    // baresip got our REFER, accepted it, called Carol and told us how that went.
    const notified = (): boolean => bob.sipTrace().slice(from).some((m) => m.sent && m.startLine.startsWith('NOTIFY ') && /SIP\/2\.0 200/.test(m.body));
    await waitFor(notified, 5000);
    const trace = bob.sipTrace().slice(from);
    expect(trace.find((m) => !m.sent && m.startLine.startsWith('REFER '))?.text).toMatch(new RegExp(`^Refer-To:\\s*<?sip:1002@127\\.0\\.0\\.1:${carol.endpoint.lines[0]!.port}`, 'mi'));
    expect(trace.find((m) => m.sent && m.method === 'REFER')?.startLine).toBe('SIP/2.0 202 Accepted');
    expect(trace.some((m) => m.sent && m.startLine.startsWith('INVITE sip:1002@127.0.0.1'))).toBe(true);
    await untilRecorded(1.5, carol.devices);
    await waitFor(() => bob.recordings().length >= 2, 5000, "baresip's recording of the new call");
    await untilBaresipRecorded(bob, 1.5);

    expect(heardByUs(carol)).toBeCloseTo(440, -1);
    expect(bob.recordings().length).toBe(2);
    expect(heardByBaresip(bob)).toBeCloseTo(700, -1);
    await carolCalls[0]!.hangup();
    await bob.waitForEvent('CALL_CLOSED', { where: (event) => event.peeruri?.includes('1002') ?? false });
  }, 30000);
});
