// @serial-test: a sipp scenario expects each message in its order; a slowed endpoint retransmits and breaks it. Runs alone, after the others (scripts/run-jest.cjs).
import { createSocket } from 'node:dgram';
import { InvalidMessageError } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { parseDtmfNotify } from '../../src/call/dtmf-notify';
import { Capture, tsharkAvailable } from '../support/capture';
import { standaloneEndpoint } from '../support/endpoints';
import { assertSippPassed, runSipp, sippAvailable } from '../support/sipp';
import { ESTABLISH, HANG_UP, recv, scenario, send } from '../support/sipp-scenario';

// Third-party DTMF: SIP Server (sipp here) sends the agent's call a NOTIFY with Event: dtmf (the
// DN's sip-cti-control listing dtmf); the agent plays the digits on the call with its
// dtmf_method. The RTP events on the wire (tshark) are the digits asked for, in order.

const describeIf = sippAvailable() && tsharkAvailable() ? describe : describe.skip;

/** An in-dialog NOTIFY from sipp with Event: dtmf and the given body. */
const NOTIFY = (cseq: number, type: string, body: string): string => `
NOTIFY [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:sipserver@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>;tag=[$totag]
Call-ID: [call_id]
CSeq: ${cseq} NOTIFY
Contact: <sip:sipserver@[local_ip]:[local_port]>
Max-Forwards: 70
Event: dtmf
Subscription-State: active
Content-Type: ${type}
Content-Length: [len]

${body}`;

describe('parseDtmfNotify', () => {
  it('reads application/dtmf-relay (Signal, Duration, other lines ignored) and application/dtmf', () => {
    expect(parseDtmfNotify('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toEqual({ digits: '5', durationMs: 160 });
    expect(parseDtmfNotify('Application/DTMF-Relay; charset=x', 'signal = *\nX-Other=1\n')).toEqual({ digits: '*', durationMs: undefined });
    expect(parseDtmfNotify('application/dtmf', ' 12#a \r\n')).toEqual({ digits: '12#A', durationMs: undefined });
  });

  it.each([
    ['application/dtmf-relay', 'Duration=100\r\n', /no Signal line/],
    ['application/dtmf-relay', 'Signal=1\r\nSignal=2\r\n', /Signal given twice/],
    ['application/dtmf-relay', 'Signal=X\r\n', /DTMF NOTIFY: /],
    ['application/dtmf-relay', 'Signal=1\r\nDuration=10\r\n', /Duration "10"/],
    ['application/dtmf-relay', 'Signal=1\r\nDuration=1e3\r\n', /Duration "1e3"/],
    ['application/dtmf', '', /no digit/],
    ['application/dtmf', '1'.repeat(65), /more than 64/],
  ])('refuses %s %p with InvalidMessageError', (type, body, message) => {
    expect(() => parseDtmfNotify(type, body)).toThrow(InvalidMessageError);
    expect(() => parseDtmfNotify(type, body)).toThrow(message);
  });
});

describeIf('DTMF asked by NOTIFY (Event: dtmf) in the call\'s dialog, against sipp as SIP Server', () => {
  it('answers 200 and sends the digits as RFC 4733 events; 415 for another body type, 400 for bad digits, nothing played for them', async () => {
    const agent = standaloneEndpoint('3300', testPorts(7), testPorts(50), 0, { 'policy.session.auto_answer': '1', 'policy.session.dtmf_method': 'Rfc2833' });
    const mediaPort = testPorts(4);
    await agent.endpoint.start();
    const capture = await Capture.start(`udp dst port ${mediaPort}`);
    try {
      const result = await runSipp({
        scenario: scenario('SIP Server asks the agent for DTMF', [
          ...ESTABLISH(),
          '<pause milliseconds="300"/>',
          send(NOTIFY(2, 'application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n'), ' retrans="500"'),
          recv('response="200"', [{ header: 'CSeq:', regexp: '2 NOTIFY' }]),
          send(NOTIFY(3, 'application/dtmf', '9#'), ' retrans="500"'),
          recv('response="200"', [{ header: 'CSeq:', regexp: '3 NOTIFY' }]),
          send(NOTIFY(4, 'text/plain', '7'), ' retrans="500"'),
          recv('response="415"', [{ header: 'CSeq:', regexp: '4 NOTIFY' }, { header: 'Accept:', regexp: 'application/dtmf-relay' }]),
          send(NOTIFY(5, 'application/dtmf-relay', 'Signal=Z\r\n'), ' retrans="500"'),
          recv('response="400"', [{ header: 'CSeq:', regexp: '5 NOTIFY' }]),
          '<pause milliseconds="1500"/>',
          ...HANG_UP(6),
        ]),
        remotePort: agent.endpoint.lines[0]!.port!,
        localPort: testPorts(1),
        mediaPort,
        service: '3300',
        timeoutS: 20,
      });
      assertSippPassed(result);
      await capture.stop();
      // RFC 4733 events (payload type 101, as sipp's offer names it): the event code is the first
      // payload byte; an event is sent several times under one RTP timestamp.
      const events = capture.fields('rtp.p_type == 101', ['rtp.timestamp', 'rtp.payload'], [`udp.port==${mediaPort},rtp`]);
      const digits = [...new Map(events.map(([timestamp, payload]) => [timestamp, parseInt(payload!.slice(0, 2), 16)])).values()];
      expect(digits).toEqual([5, 9, 11]);
    } finally {
      await capture.dispose();
      await agent.endpoint.stop();
    }
  }, 40000);

  it('outside a dialog, a line with no connected call answers 481', async () => {
    const agent = standaloneEndpoint('3310', testPorts(7), testPorts(50));
    await agent.endpoint.start();
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    try {
      const port = agent.endpoint.lines[0]!.port!;
      const local = socket.address().port;
      const body = 'Signal=1\r\n';
      const status = new Promise<number>((resolve) => socket.on('message', (data) => resolve(Number(/^SIP\/2\.0 (\d{3})/.exec(data.toString())?.[1] ?? 0))));
      socket.send(
        [`NOTIFY sip:3310@127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bKdtmf1;rport`, 'From: <sip:sipserver@127.0.0.1>;tag=s1', 'To: <sip:3310@127.0.0.1>', 'Call-ID: dtmf-ood@127.0.0.1', 'CSeq: 1 NOTIFY', 'Event: dtmf', 'Max-Forwards: 70', `Contact: <sip:sipserver@127.0.0.1:${local}>`, 'Content-Type: application/dtmf-relay', `Content-Length: ${body.length}`, '', body].join('\r\n'),
        port,
        '127.0.0.1',
      );
      expect(await status).toBe(481);
    } finally {
      socket.close();
      await agent.endpoint.stop();
    }
  });
});
