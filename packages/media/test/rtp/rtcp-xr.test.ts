import { buildRtcp, parseRtcp, type VoipMetrics } from '@sip-endpoint/media';

// RTCP XR VoIP Metrics blocks (RFC 3611 4.7), as our RTCP carries them when voice-quality reports
// are on, and as we read the far end's.

const metrics: VoipMetrics = {
  ssrc: 0xdeadbeef,
  lossRate: 0.05,
  discardRate: 0.01,
  burstDensity: 0,
  gapDensity: 0.05,
  burstDurationMs: 0,
  gapDurationMs: 12000,
  roundTripDelayMs: 42,
  endSystemDelayMs: 60,
  signalLevel: -20,
  noiseLevel: undefined,
  rerl: undefined,
  gmin: 16,
  rFactor: 85,
  externalRFactor: undefined,
  mosLq: 4.1,
  mosCq: 3.9,
  plc: 3,
  jitterBufferAdaptive: 3,
  jitterBufferRate: 0,
  jitterBufferNominalMs: 40,
  jitterBufferMaxMs: 80,
  jitterBufferAbsMaxMs: 80,
};

describe('RTCP XR VoIP Metrics', () => {
  it('goes after the SDES in an XR packet and reads back as written (rates to 1/256, MOS to 0.1, 127 for what is unavailable)', () => {
    const packet = buildRtcp({ ssrc: 1, reports: [], cname: 'agent', voipMetrics: [metrics] });
    const report = parseRtcp(packet)!;
    expect(report.voipMetrics).toHaveLength(1);
    const read = report.voipMetrics[0]!;
    expect(read).toEqual({ ...metrics, lossRate: 13 / 256, discardRate: 3 / 256, gapDensity: 13 / 256, mosLq: 4.1, mosCq: 3.9 });
    // The XR packet: PT 207, 2 words of header and SSRC plus 9 per block.
    const xr = packet.length - 44;
    expect(packet[xr + 1]).toBe(207);
    expect((packet[xr + 2]! << 8) | packet[xr + 3]!).toBe(10);
    expect(packet[xr + 8]).toBe(7);
    expect(packet[xr + 8 + 22]).toBe(127); // RERL unavailable
  });

  it('clamps what does not fit its field: a MOS over 12.6 is 126, negative delays 0, a signal below -126 dB -126', () => {
    const packet = buildRtcp({ ssrc: 1, reports: [], cname: 'a', voipMetrics: [{ ...metrics, mosLq: 50, roundTripDelayMs: -5, signalLevel: -300, lossRate: 2 }] });
    const read = parseRtcp(packet)!.voipMetrics[0]!;
    expect(read.mosLq).toBe(12.6);
    expect(read.roundTripDelayMs).toBe(0);
    expect(read.signalLevel).toBe(-126);
    expect(read.lossRate).toBe(255 / 256);
  });

  it('skips other XR blocks, and stops at a block that overruns its packet, without throwing', () => {
    const packet = buildRtcp({ ssrc: 1, reports: [], cname: 'a', voipMetrics: [metrics] });
    const xr = packet.length - 44;
    // The block's type made 4 (Receiver Reference Time, RFC 3611 4.4): not read.
    const other = packet.slice();
    other[xr + 8] = 4;
    expect(parseRtcp(other)!.voipMetrics).toEqual([]);
    // The block's length made longer than the packet: nothing read, the rest of the report still is.
    const overrun = packet.slice();
    overrun[xr + 11] = 40;
    const report = parseRtcp(overrun)!;
    expect(report.voipMetrics).toEqual([]);
    expect(report.cname).toBe('a');
  });

  it('is left out when there is no block', () => {
    const packet = buildRtcp({ ssrc: 1, reports: [], cname: 'a' });
    expect([...packet].some((octet, index) => index % 4 === 1 && octet === 207)).toBe(false);
    expect(parseRtcp(packet)!.voipMetrics).toEqual([]);
  });
});
