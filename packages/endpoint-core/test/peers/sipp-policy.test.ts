// @serial-test: a sipp scenario expects each message in its order; a slowed endpoint retransmits and breaks it. Runs alone, after the others (scripts/run-jest.cjs).
import { composePolicy, DefaultPolicy } from '@sip-endpoint/policy';
import { testPorts } from '@sip-endpoint/test-support';
import { assertSippPassed, runSipp, sippAvailable, udpBound } from '../support/sipp';
import { ESTABLISH, HANG_UP, RESPONSE, SDP, recv, scenario, send } from '../support/sipp-scenario';
import { standaloneEndpoint, waitFor } from '../support/endpoints';

const describeSipp = sippAvailable() ? describe : describe.skip;

/** An offer of PCMU, PCMA and telephone-event, in that order. */
const PCMU_PCMA_SDP = SDP().replace('RTP/AVP 0 101', 'RTP/AVP 0 8 101').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000');
const PCMA_SDP = SDP().replace('RTP/AVP 0 101', 'RTP/AVP 8').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000');

/** An integrator's policy: PCMA, then PCMU, then telephone-event, and PCMA whenever an offer has it. */
const pcmaFirst = composePolicy(new DefaultPolicy(), {
  codecPriorities: (ctx) => {
    const base = new DefaultPolicy().codecPriorities(ctx);
    const named = (prefix: string) => base.offer.filter((codec) => codec.name.toLowerCase().startsWith(prefix));
    const offer = [...named('pcma'), ...named('pcmu'), ...named('telephone-event')];
    const answer = ctx.offer?.some((name) => name.toLowerCase().startsWith('pcma')) ? named('pcma')[0]! : base.answer;
    return { ...base, offer, answer };
  },
});

describeSipp('a custom codecPriorities, seen on the wire by sipp', () => {
  it('orders our offer (PCMA, PCMU, telephone-event) although the configuration lists opus and PCMU first', async () => {
    const sippPort = testPorts(6);
    const { endpoint } = standaloneEndpoint('agent', testPorts(8), testPorts(50), 700, { 'codecs.enabled.audio': 'opus,pcmu,g722,pcma,telephone-event' }, { policy: pcmaFirst });
    await endpoint.start();
    try {
      const uas = runSipp({
        remotePort: endpoint.lines[0]!.port!,
        localPort: sippPort,
        mediaPort: sippPort + 1,
        timeoutS: 15,
        scenario: scenario('policy offer', [
          recv('request="INVITE"', [{ regexp: 'm=audio [0-9]+ RTP/AVP 8 0 101[^0-9]' }]),
          send(RESPONSE('200 OK', PCMA_SDP, '[pid]pol[call_number]')),
          '<recv request="ACK"/>',
          recv('request="BYE"', [], ' timeout="5000"'),
          send(RESPONSE('200 OK')),
        ]),
      });
      await waitFor(() => udpBound(sippPort), 5000, 'sipp to listen');
      const call = await endpoint.makeCall(`sip:uas@127.0.0.1:${sippPort}`);
      await waitFor(() => call.state === 'CONNECTED', 5000, 'the call');
      expect(call.media.codec).toBe('PCMA/8000');
      await call.hangup();
      const result = await uas;
      assertSippPassed(result);
      const invite = result.messages.split(/-{10,}/).find((message) => /^\s*INVITE /m.test(message)) ?? '';
      expect(invite).toMatch(/a=rtpmap:8 PCMA\/8000/);
      expect(invite).not.toMatch(/opus|G722/i);
    } finally {
      await endpoint.stop();
    }
  }, 25000);

  it('answers an offer of PCMU and PCMA with PCMA, the codec the policy chose', async () => {
    const sippPort = testPorts(6);
    const { endpoint } = standaloneEndpoint('agent', testPorts(8), testPorts(50), 700, { 'policy.session.auto_answer': '1', 'policy.session.answer_sdp_priority': 'remote' }, { policy: pcmaFirst });
    await endpoint.start();
    try {
      const result = await runSipp({
        remotePort: endpoint.lines[0]!.port!,
        localPort: sippPort,
        mediaPort: sippPort + 1,
        timeoutS: 15,
        scenario: scenario('policy answer', [...ESTABLISH(undefined, PCMU_PCMA_SDP).map((step) => step.replace('m=audio [0-9]+ RTP/AVP 0', 'm=audio [0-9]+ RTP/AVP 8 101[^0-9]')), ...HANG_UP(2)]),
      });
      assertSippPassed(result);
      expect(endpoint.calls).toEqual([]);
    } finally {
      await endpoint.stop();
    }
  }, 25000);
});
