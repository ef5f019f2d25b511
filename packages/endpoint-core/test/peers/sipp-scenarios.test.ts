// @serial-test: a sipp scenario expects each message in its order; a slowed endpoint retransmits and breaks it. Runs alone, after the others (scripts/run-jest.cjs).
import { createSocket } from 'node:dgram';
import { dominantFrequency } from '@sip-endpoint/media/testing';
import type { Call, Endpoint } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { assertSippPassed, runSipp, sippAvailable } from '../support/sipp';
import { SDP, FROM, INVITE, IN_DIALOG, ACK, SAME_TRANSACTION, OK_WITH_SDP, scenario, send, pause, recv, AUTO_ANSWER, ESTABLISH, HANG_UP, HANG_UP_LOSSY, REFUSED } from '../support/sipp-scenario';
import { DropFirstRelay } from '../support/sip-relay';
import { standaloneEndpoint, untilRecorded, waitFor } from '../support/endpoints';

const describeSipp = sippAvailable() ? describe : describe.skip;

/**
 * The agent's endpoint, on SIP and RTP ports of this jest worker's range (its microphone plays
 * 700 Hz), and what happens to its calls.
 */
function agent(settings: Record<string, string> = {}) {
  const { endpoint, devices } = standaloneEndpoint('agent', testPorts(7), testPorts(50), 700, { 'policy.endpoint.sip_transaction_timeout': '4000', ...settings });
  const calls: Call[] = [];
  const states: string[][] = [];
  endpoint.on('incomingCall', (call) => {
    const mine = [call.state as string];
    calls.push(call);
    states.push(mine);
    call.on('stateChanged', (state) => mine.push(state));
  });
  return { endpoint, devices, calls, states };
}

const sipPort = (endpoint: Endpoint): number => endpoint.lines[0]!.port!;

describeSipp('sipp as SIP Server drives the agent endpoint', () => {
  it('NOTIFY talk answers the ringing call, NOTIFY hold re-INVITEs sendonly, NOTIFY talk re-INVITEs sendrecv; BYE ends it', async () => {
    const sippPort = testPorts(1);
    const { endpoint, states, calls } = agent();
    await endpoint.start();
    try {
      // Out of dialog (no To tag), as SIP Server sends it to answer a ringing call.
      const notifyTalk = `
NOTIFY sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
${FROM}
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 2 NOTIFY
Contact: <sip:sipserver@[local_ip]:[local_port]>
Event: talk
Max-Forwards: 70
Content-Length: 0

`;
      const result = await runSipp({
        remotePort: sipPort(endpoint),
        localPort: sippPort,
        rtpEcho: true,
        scenario: scenario('notify talk hold', [
          send(INVITE(), ' retrans="500"'),
          '<recv response="100" optional="true"/>',
          '<recv response="180"/>',
          send(notifyTalk),
          recv('response="200"', [{ header: 'CSeq:', regexp: 'NOTIFY' }]),
          recv('response="200"', [{ header: 'CSeq:', regexp: 'INVITE' }, { regexp: 'm=audio [0-9]+ RTP/AVP 0' }], ' rrs="true"', true),
          send(ACK()),
          pause(500),
          // In the dialog, from here on.
          send(IN_DIALOG('NOTIFY', 3, 'Event: hold\n')),
          recv('response="200"', [{ header: 'CSeq:', regexp: 'NOTIFY' }]),
          recv('request="INVITE"', [{ regexp: 'a=sendonly' }]),
          send(OK_WITH_SDP(SDP('recvonly'))),
          '<recv request="ACK"/>',
          pause(300),
          send(IN_DIALOG('NOTIFY', 4, 'Event: talk\n')),
          recv('response="200"', [{ header: 'CSeq:', regexp: 'NOTIFY' }]),
          recv('request="INVITE"', [{ regexp: 'a=sendrecv' }]),
          send(OK_WITH_SDP(SDP('sendrecv'))),
          '<recv request="ACK"/>',
          pause(300),
          ...HANG_UP(5),
        ]),
      });
      assertSippPassed(result);
      await waitFor(() => calls[0]?.state === 'DISCONNECTED');
      expect(states).toEqual([['RINGING', 'CONNECTED', 'HELD', 'CONNECTED', 'DISCONNECTED']]);
    } finally {
      await endpoint.stop();
    }
  }, 30000);

  it('answers an INVITE with Alert-Info info=alert-autoanswer at once, and one with Call-Info answer-after=1 a second later', async () => {
    const sippPort = testPorts(1);
    const { endpoint, states, calls } = agent();
    await endpoint.start();
    try {
      const run = (headers: string) =>
        runSipp({ remotePort: sipPort(endpoint), localPort: sippPort, rtpEcho: true, scenario: scenario('auto-answer', [...ESTABLISH(headers), pause(300), ...HANG_UP(2)]) });
      const connectedAfter: number[] = [];
      endpoint.on('incomingCall', (call) => {
        const start = Date.now();
        call.on('stateChanged', (state) => state === 'CONNECTED' && connectedAfter.push(Date.now() - start));
      });
      assertSippPassed(await run('Alert-Info: <http://127.0.0.1>;info=alert-autoanswer\n'));
      assertSippPassed(await run('Call-Info: <sip:127.0.0.1>;answer-after=1\n'));
      await waitFor(() => calls.length === 2 && calls.every((call) => call.state === 'DISCONNECTED'));
      expect(states).toEqual([
        ['RINGING', 'CONNECTED', 'DISCONNECTED'],
        ['RINGING', 'CONNECTED', 'DISCONNECTED'],
      ]);
      expect(connectedAfter[0]).toBeLessThan(800);
      expect(connectedAfter[1]).toBeGreaterThanOrEqual(900);
    } finally {
      await endpoint.stop();
    }
  }, 30000);

  // An INVITE that must ring (180, no 200) until sipp CANCELs it: 200 to the CANCEL, 487 to the INVITE.
  it.each([
    ['without an auto-answer request', 'Alert-Info: <http://127.0.0.1>;info=ring1\n', 1500],
    // The next three made 1 ms timers (Node's rule for a delay over 2^31 - 1 ms, or not a number): found by the fuzzer.
    ['with answer-after=99999999999 (it was answered at once)', 'Call-Info: <sip:127.0.0.1>;answer-after=99999999999\n', 1000],
    ['with Expires: 99999999999 (sip.js refused it at once with 487)', 'Expires: 99999999999\n', 1000],
    ['with Expires: soon (sip.js refused it at once with 487)', 'Expires: soon\n', 1000],
  ] as const)('lets an INVITE %s ring (180 only) until sipp CANCELs it: 200 to the CANCEL, 487 to the INVITE', async (_name, headers, ringMs) => {
    const sippPort = testPorts(1);
    const { endpoint, states, calls } = agent();
    await endpoint.start();
    try {
      const result = await runSipp({
        remotePort: sipPort(endpoint),
        localPort: sippPort,
        scenario: scenario('ring then cancel', [
          send(INVITE(headers), ' retrans="500"'),
          '<recv response="100" optional="true"/>',
          '<recv response="180"/>',
          // Any other response meanwhile (a 200, a 487) makes sipp fail the call.
          pause(ringMs),
          send(SAME_TRANSACTION('CANCEL')),
          recv('response="200"', [{ header: 'CSeq:', regexp: 'CANCEL' }]),
          recv('response="487"', [{ header: 'CSeq:', regexp: 'INVITE' }]),
          send(SAME_TRANSACTION('ACK')),
          pause(200),
        ]),
      });
      assertSippPassed(result);
      await waitFor(() => calls[0]?.state === 'DISCONNECTED');
      expect(states).toEqual([['RINGING', 'DISCONNECTED']]);
    } finally {
      await endpoint.stop();
    }
  }, 30000);

  it('answers an INVITE without SDP with its offer in the 200 and takes the answer from the ACK; RTP flows (sipp echoes our 700 Hz back)', async () => {
    const sippPort = testPorts(1);
    const { endpoint, devices, calls } = agent();
    await endpoint.start();
    try {
      const running = runSipp({
        remotePort: sipPort(endpoint),
        localPort: sippPort,
        rtpEcho: true,
        scenario: scenario('3pcc make-call', [...ESTABLISH(AUTO_ANSWER, null, SDP()), pause(2500), ...HANG_UP(2)]),
      });
      await waitFor(() => calls[0]?.state === 'CONNECTED', 5000).catch(async (error: Error) => {
        assertSippPassed(await running);
        throw error;
      });
      await untilRecorded(1.5, devices);
      const info = calls[0]!.info();
      const heard = devices.recording('speaker');
      const result = await running;
      assertSippPassed(result);
      expect(info.codec).toBe('PCMU/8000');
      expect(info.quality).toBeDefined();
      expect(info.quality!.packetsLost).toBeLessThan(5);
      expect(dominantFrequency(heard.samples.subarray(heard.sampleRate * 0.5), heard.sampleRate)).toBe(700);
      await waitFor(() => calls[0]!.state === 'DISCONNECTED');
    } finally {
      await endpoint.stop();
    }
  }, 30000);

  it('answers a re-INVITE without SDP with a full offer in the 200 and applies the answer of the ACK (RTP moves to its port)', async () => {
    const sippPort = testPorts(1);
    const { endpoint, calls, states } = agent();
    await endpoint.start();
    const moved = createSocket('udp4');
    await new Promise<void>((resolve) => moved.bind(testPorts(1), '127.0.0.1', resolve));
    const movedPort = moved.address().port;
    const packets: Buffer[] = [];
    moved.on('message', (data) => packets.push(data));
    try {
      const result = await runSipp({
        remotePort: sipPort(endpoint),
        localPort: sippPort,
        rtpEcho: true,
        scenario: scenario('re-INVITE without SDP', [
          ...ESTABLISH(),
          pause(500),
          send(IN_DIALOG('INVITE', 2), ' retrans="500"'),
          '<recv response="100" optional="true"/>',
          recv('response="200"', [{ header: 'CSeq:', regexp: '2 INVITE' }, { regexp: 'm=audio [0-9]+ RTP/AVP 0' }, { regexp: 'a=rtpmap:0 PCMU/8000' }, { regexp: 'a=sendrecv' }]),
          send(ACK(2, SDP('sendrecv', '127.0.0.1', String(movedPort)))),
          pause(1200),
          ...HANG_UP(3),
        ]),
      });
      assertSippPassed(result);
      await waitFor(() => calls[0]?.state === 'DISCONNECTED');
      expect(states).toEqual([['RINGING', 'CONNECTED', 'DISCONNECTED']]);
      // About 50 packets a second went to the port of the ACK's answer; RTP version 2, PCMU.
      expect(packets.length).toBeGreaterThan(20);
      expect(packets.every((packet) => packet[0]! >> 6 === 2 && (packet[1]! & 0x7f) === 0)).toBe(true);
    } finally {
      moved.close();
      await endpoint.stop();
    }
  }, 30000);

  it.each([
    ['a=sendonly', SDP('sendonly')],
    ['c=0.0.0.0', SDP('sendrecv', '0.0.0.0')],
  ])('answers a re-INVITE that holds the call with %s with recvonly, and the call goes HELD, then CONNECTED again', async (_name, holdSdp) => {
    const sippPort = testPorts(1);
    const { endpoint, calls, states } = agent();
    await endpoint.start();
    const heldBy: unknown[] = [];
    endpoint.on('callStateChanged', (call, state) => state === 'HELD' && heldBy.push(call.info().heldBy));
    try {
      const result = await runSipp({
        remotePort: sipPort(endpoint),
        localPort: sippPort,
        rtpEcho: true,
        scenario: scenario('held by the far end', [
          ...ESTABLISH(),
          pause(400),
          send(IN_DIALOG('INVITE', 2, '', holdSdp), ' retrans="500"'),
          '<recv response="100" optional="true"/>',
          recv('response="200"', [{ header: 'CSeq:', regexp: '2 INVITE' }, { regexp: 'a=(recvonly|inactive)' }]),
          send(ACK(2)),
          pause(600),
          send(IN_DIALOG('INVITE', 3, '', SDP('sendrecv')), ' retrans="500"'),
          '<recv response="100" optional="true"/>',
          recv('response="200"', [{ header: 'CSeq:', regexp: '3 INVITE' }, { regexp: 'a=sendrecv' }]),
          send(ACK(3)),
          pause(300),
          ...HANG_UP(4),
        ]),
      });
      assertSippPassed(result);
      await waitFor(() => calls[0]?.state === 'DISCONNECTED');
      expect(states).toEqual([['RINGING', 'CONNECTED', 'HELD', 'CONNECTED', 'DISCONNECTED']]);
      expect(heldBy).toEqual(['remote']);
    } finally {
      await endpoint.stop();
    }
  }, 30000);

  it('completes INVITE/200/ACK/BYE through a relay that drops the first copy of every message (UDP retransmissions on both sides)', async () => {
    const sippPort = testPorts(1);
    const { endpoint, calls, states } = agent();
    await endpoint.start();
    const relay = await DropFirstRelay.open({ address: '127.0.0.1', port: sipPort(endpoint) });
    try {
      const result = await runSipp({
        remotePort: relay.port,
        localPort: sippPort,
        rtpEcho: true,
        timeoutS: 20,
        scenario: scenario('lossy', [...ESTABLISH(AUTO_ANSWER, SDP(), '', true), ...HANG_UP_LOSSY(2)]),
      });
      assertSippPassed(result);
      await waitFor(() => calls[0]?.state === 'DISCONNECTED');
      expect(states).toEqual([['RINGING', 'CONNECTED', 'DISCONNECTED']]);
      // INVITE, 200, ACK, BYE, 200 at least lost their first copy (an auto-answer's 200 goes
      // without a 100 Trying before it: see test/sip/trying.test.ts).
      expect(relay.dropped).toBeGreaterThanOrEqual(5);
    } finally {
      relay.close();
      await endpoint.stop();
    }
  }, 40000);

  it('rejects a second call with 486 while busy (reject_session_when_busy, one call up), before ringing', async () => {
    const sippPort = testPorts(1);
    const { endpoint, calls, states } = agent({ 'policy.session.reject_session_when_busy': '1', 'policy.session.number_sessions_for_busy': '1' });
    await endpoint.start();
    try {
      const first = runSipp({ remotePort: sipPort(endpoint), localPort: sippPort, rtpEcho: true, scenario: scenario('first call', [...ESTABLISH(), pause(2500), ...HANG_UP(2)]) });
      await waitFor(() => calls[0]?.state === 'CONNECTED', 5000).catch(async (error: Error) => {
        assertSippPassed(await first);
        throw error;
      });
      const second = await runSipp({
        remotePort: sipPort(endpoint),
        localPort: testPorts(1),
        scenario: scenario('busy', [
          ...REFUSED(486),
          pause(600),
        ]),
      });
      assertSippPassed(second);
      assertSippPassed(await first);
      await waitFor(() => calls[0]?.state === 'DISCONNECTED');
      // The rejected call never became a Call: only the first one was handed out.
      expect(states).toEqual([['RINGING', 'CONNECTED', 'DISCONNECTED']]);
    } finally {
      await endpoint.stop();
    }
  }, 30000);

  it('rejects a call with 480 (sip_code_when_headset_na default) when use_headset and reject_session_when_headset_na are 1 and no headset is present', async () => {
    const sippPort = testPorts(1);
    const { endpoint, calls } = agent({ 'policy.device.use_headset': '1', 'policy.device.headset_name': 'Plantronics', 'policy.session.reject_session_when_headset_na': '1' });
    await endpoint.start();
    try {
      const result = await runSipp({
        remotePort: sipPort(endpoint),
        localPort: sippPort,
        scenario: scenario('no headset', [
          ...REFUSED(480),
          pause(600),
        ]),
      });
      assertSippPassed(result);
      expect(calls).toEqual([]);
      expect(endpoint.calls).toEqual([]);
    } finally {
      await endpoint.stop();
    }
  }, 30000);
});
