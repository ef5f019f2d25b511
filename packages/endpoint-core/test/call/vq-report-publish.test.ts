// @serial-test: a sipp scenario expects each message in its order; a slowed endpoint retransmits and breaks it. Runs alone, after the others (scripts/run-jest.cjs).
import { Endpoint } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { standaloneConfig, standaloneEndpoint, waitFor } from '../support/endpoints';
import { Kamailio, kamailioAvailable } from '../support/kamailio';
import { rawSipSocket } from '../support/raw-sip';
import { Capture, tsharkAvailable } from '../support/capture';
import { assertSippPassed, runSipp, sippAvailable, udpBound } from '../support/sipp';
import { recv, RESPONSE, scenario, send } from '../support/sipp-scenario';

// Voice-quality reports (vq_report_publish, vq_report_collector; RFC 6035): at the end of a call,
// a PUBLISH of the call's VQSessionReport. sipp plays the collector and checks the request and
// its body; the agent's line is registered with Kamailio, which relays the PUBLISH (and the call).

const describeIf = sippAvailable() && kamailioAvailable() && tsharkAvailable() ? describe : describe.skip;

/** The collector: one PUBLISH, its body checked line by line, answered 200. */
function collector(checks: string[]): string {
  return scenario('a voice-quality collector', [
    recv('request="PUBLISH"', [{ header: 'Event:', regexp: '^ *vq-rtcpxr$' }, { header: 'Content-Type:', regexp: '^ *application/vq-rtcpxr$' }, ...checks.map((regexp) => ({ regexp }))]),
    send(RESPONSE('200 OK')),
  ]);
}

describeIf('voice-quality reports published to the collector (RFC 6035) through Kamailio to sipp', () => {
  let kamailio: Kamailio;
  const kamailioPort = testPorts(1);
  beforeAll(async () => {
    kamailio = await Kamailio.start(kamailioPort, 'secret', { forward: true });
  }, 20000);
  afterAll(async () => {
    await kamailio?.stop();
  });

  it('publishes one report at the end of a call long enough for RTCP both ways: identities, addresses, codec, local and remote metrics, the dialog', async () => {
    const collectorPort = testPorts(1);
    const sipp = runSipp({
      scenario: collector([
        '^VQSessionReport: CallTerm[[:space:]]',
        '[[:space:]]CallID: [^[:space:]]+[[:space:]]',
        '[[:space:]]LocalID: sip:3100@127\\.0\\.0\\.1[[:space:]]',
        '[[:space:]]RemoteID: sip:3101@127\\.0\\.0\\.1:[0-9]+[[:space:]]',
        '[[:space:]]OrigID: sip:3100@127\\.0\\.0\\.1[[:space:]]',
        '[[:space:]]LocalAddr: IP=127\\.0\\.0\\.1 PORT=[0-9]+ SSRC=0x[0-9a-f]{8}[[:space:]]',
        '[[:space:]]RemoteAddr: IP=127\\.0\\.0\\.1 PORT=[0-9]+ SSRC=0x[0-9a-f]{8}[[:space:]]',
        '[[:space:]]LocalMetrics:[[:space:]]',
        '[[:space:]]Timestamps: START=[0-9T:-]+Z STOP=[0-9T:-]+Z[[:space:]]',
        '[[:space:]]SessionDesc: PT=0 PD=PCMU SR=8000 FD=20 FPP=1 PPS=50 PLC=3 SSUP=off[[:space:]]',
        '[[:space:]]JitterBuffer: JBA=3 JBN=[0-9]+ JBM=[0-9]+[[:space:]]',
        '[[:space:]]PacketLoss: NLR=0 JDR=0[[:space:]]',
        // RTD once an RTCP report gave a round trip (its LSR was one of our SRs).
        '[[:space:]]Delay: (RTD=[0-9]+ )?ESD=[0-9]+ IAJ=[0-9]+[[:space:]]',
        '[[:space:]]QualityEst: RCQ=[0-9]+ MOSLQ=4\\.[0-9] MOSCQ=4\\.[0-9] QoEEstAlg=G\\.107[[:space:]]',
        '[[:space:]]RemoteMetrics:[[:space:]]',
        // The far end's view of our stream, from its RTCP XR VoIP Metrics (RFC 3611): its MOS too.
        '[[:space:]]RemoteMetrics:[[:space:]]+Timestamps:[^Q]*QualityEst: RCQ=[0-9]+ MOSLQ=4\\.[0-9] MOSCQ=4\\.[0-9] QoEEstAlg=G\\.107[[:space:]]',
        '[[:space:]]DialogID: [^;[:space:]]+;to-tag=[^;[:space:]]+;from-tag=[^;[:space:]]+[[:space:]]',
      ]),
      remotePort: testPorts(1),
      localPort: collectorPort,
      timeoutS: 30,
    });
    await waitFor(() => udpBound(collectorPort), 5000, 'sipp to listen');
    const agentRtp = testPorts(50);
    const agent = new Endpoint({
      config: standaloneConfig('3100', testPorts(7), agentRtp, {
        'server:0': `127.0.0.1:${kamailioPort}`,
        'proxies.proxy0.reg_timeout': '60',
        'proxies.proxy0.password': 'secret',
        'policy.endpoint.vq_report_publish': '1',
        'policy.endpoint.vq_report_collector': `collector@127.0.0.1:${collectorPort}`,
        'codecs.enabled.audio': 'pcmu,telephone-event',
      }),
    });
    // The far end sends RTCP XR too (vq_report_publish 1), with no collector to publish to.
    const far = standaloneEndpoint('3101', testPorts(7), testPorts(50), 700, { 'policy.session.auto_answer': '1', 'policy.endpoint.vq_report_publish': '1' });
    const capture = await Capture.start(`udp portrange ${agentRtp}-${agentRtp + 49}`);
    await Promise.all([agent.start(), far.endpoint.start()]);
    try {
      await waitFor(() => agent.lines[0]!.state === 'READY', 8000, 'the agent registered');
      const call = await agent.makeCall(`sip:3101@127.0.0.1:${far.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'CONNECTED', 8000, 'the call connected');
      // Long enough for RTCP both ways (every 5 s): the far end's report on our stream.
      await waitFor(() => (call.media.stats() as { remoteReport?: unknown } | undefined)?.remoteReport !== undefined, 9000, 'the far end\'s RTCP report');
      await waitFor(() => (call.media.stats() as { remoteVoipMetrics?: unknown } | undefined)?.remoteVoipMetrics !== undefined, 9000, 'the far end\'s RTCP XR');
      const rtcpPort = ((call.media.stream as unknown as { localPort: number }).localPort) + 1;
      await call.hangup();
      assertSippPassed(await sipp);
      await capture.stop();
      // Our RTCP on the wire, as Wireshark reads it: XR VoIP Metrics with R, MOS-LQ and MOS-CQ, an adaptive jitter buffer, standard concealment.
      const xr = capture.fields(`rtcp.xr.voipmetrics.moslq && udp.srcport == ${rtcpPort}`, ['rtcp.xr.voipmetrics.rfactor', 'rtcp.xr.voipmetrics.moslq', 'rtcp.xr.voipmetrics.moscq', 'rtcp.xr.voipmetrics.jba', 'rtcp.xr.voipmetrics.plc'], [`udp.port==${rtcpPort},rtcp`]);
      expect(xr.length).toBeGreaterThan(0);
      const [r, lq, cq, jba, plc] = xr.at(-1)!.map(Number);
      expect(r).toBeGreaterThan(80);
      expect(lq).toBeGreaterThanOrEqual(4);
      expect(cq).toBeGreaterThanOrEqual(4);
      expect([jba, plc]).toEqual([3, 3]);
    } finally {
      await capture.dispose();
      await Promise.all([agent.stop(), far.endpoint.stop()]);
    }
  }, 60000);

  it('publishes nothing with vq_report_publish 0', async () => {
    const collectorPort = testPorts(1);
    const { socket, responses } = await rawSipSocket(collectorPort);
    const requests: string[] = [];
    socket.on('message', (data) => requests.push(data.toString()));
    const agent = new Endpoint({ config: standaloneConfig('3110', testPorts(7), testPorts(50), { 'policy.endpoint.vq_report_collector': `collector@127.0.0.1:${collectorPort}` }) });
    const far = standaloneEndpoint('3111', testPorts(7), testPorts(50), 700, { 'policy.session.auto_answer': '1' });
    await Promise.all([agent.start(), far.endpoint.start()]);
    try {
      const call = await agent.makeCall(`sip:3111@127.0.0.1:${far.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'CONNECTED', 8000, 'the call connected');
      await call.hangup();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(requests).toEqual([]);
      expect(responses).toEqual([]);
    } finally {
      socket.close();
      await Promise.all([agent.stop(), far.endpoint.stop()]);
    }
  });
});
