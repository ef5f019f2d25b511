import { vqSessionReport, type VqSessionReportInput } from '../../src/call/vq-session-report';

// The body of RFC 6035's VQSessionReport, as the collector reads it line by line.

const input: VqSessionReportInput = {
  callId: 'abc@host',
  localId: '"Agent\r\nInjected: yes" <sip:1000@example.com>',
  remoteId: 'sip:2000@example.com',
  origId: 'sip:2000@example.com',
  fromTag: 'f1',
  toTag: 't1',
  local: { address: '192.0.2.1', port: 9000, ssrc: 0x1a },
  remote: { address: '192.0.2.2', port: 4000, ssrc: undefined },
  start: new Date('2026-12-02T10:00:00.123Z'),
  stop: new Date('2026-12-02T10:01:30.999Z'),
  codec: { payloadType: 9, encoding: 'G722', clockRate: 8000, frameMs: 20, framesPerPacket: 1 },
  rttMs: undefined,
  oneWayDelayMs: 55,
  localMetrics: { lossPercent: 2.345, discardPercent: 0.5, jitterMs: 3.6, jitterBuffer: { nominalMs: 40, currentMs: 60 }, quality: { listeningMos: 4.123, conversationalMos: 3.96, rFactor: 80.4 } },
  remoteMetrics: undefined,
};

describe('vqSessionReport', () => {
  it('writes each field on its line: SSRCs as 8 hex digits, times without milliseconds, rounded figures, no RemoteMetrics without a report, the dialog last', () => {
    expect(vqSessionReport(input).split('\r\n')).toEqual([
      'VQSessionReport: CallTerm',
      'CallID: abc@host',
      'LocalID: "Agent Injected: yes" <sip:1000@example.com>',
      'RemoteID: sip:2000@example.com',
      'OrigID: sip:2000@example.com',
      'LocalAddr: IP=192.0.2.1 PORT=9000 SSRC=0x0000001a',
      'RemoteAddr: IP=192.0.2.2 PORT=4000',
      'LocalMetrics:',
      'Timestamps: START=2026-12-02T10:00:00Z STOP=2026-12-02T10:01:30Z',
      'SessionDesc: PT=9 PD=G722 SR=8000 FD=20 FPP=1 PPS=50 PLC=3 SSUP=off',
      'JitterBuffer: JBA=3 JBN=40 JBM=60',
      'PacketLoss: NLR=2.3 JDR=0.5',
      'Delay: ESD=80 IAJ=4',
      'QualityEst: RCQ=80 MOSLQ=4.1 MOSCQ=4.0 QoEEstAlg=G.107',
      'DialogID: abc@host;to-tag=t1;from-tag=f1',
      '',
    ]);
  });
});
