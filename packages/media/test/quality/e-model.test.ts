import { estimateMos, mosFromR, transmissionRating, VqMonitor } from '@sip-endpoint/media';

describe('E-model (ITU-T G.107)', () => {
  it('gives R 93.2 and MOS 4.41 with every default and no impairment', () => {
    expect(transmissionRating({ ie: 0, bpl: 25.1, lossPercent: 0, oneWayDelayMs: 0 })).toBeCloseTo(93.2, 5);
    expect(mosFromR(93.2)).toBeCloseTo(4.41, 2);
  });

  it('maps R to MOS at the scale\'s ends and known points', () => {
    expect(mosFromR(-5)).toBe(1);
    expect(mosFromR(120)).toBe(4.5);
    expect(mosFromR(50)).toBeCloseTo(2.58, 2);
    expect(mosFromR(70)).toBeCloseTo(3.6, 1);
  });

  it('lowers MOS with loss, less for a codec with better concealment (higher Bpl)', () => {
    const plc = estimateMos({ ie: 0, bpl: 25.1, lossPercent: 5, oneWayDelayMs: 40 });
    const noPlc = estimateMos({ ie: 0, bpl: 4.3, lossPercent: 5, oneWayDelayMs: 40 });
    expect(plc).toBeLessThan(4.4);
    expect(noPlc).toBeLessThan(plc);
    expect(transmissionRating({ ie: 0, bpl: 25.1, lossPercent: 5, oneWayDelayMs: 0 })).toBeCloseTo(93.2 - (95 * 5) / (5 + 25.1), 5);
  });

  it('lowers MOS with delay, more steeply beyond 177.3 ms', () => {
    const r = (ms: number) => transmissionRating({ ie: 0, bpl: 25.1, lossPercent: 0, oneWayDelayMs: ms });
    expect(r(100)).toBeCloseTo(93.2 - 2.4, 5);
    expect(r(300)).toBeCloseTo(93.2 - 7.2 - 0.11 * (300 - 177.3), 5);
  });
});

describe('VqMonitor', () => {
  it('keeps the call MOS and the interval MOS, and raises then clears the alarm around the threshold', () => {
    const monitor = new VqMonitor({ impairment: { ie: 0, bpl: 25.1 }, alarmThreshold: 3.5 });
    const good = monitor.add({ expected: 250, lost: 0, rttMs: 20, jitterBufferMs: 40, frameMs: 20 });
    expect(good).toMatchObject({ alarm: false, alarmChanged: undefined });
    const bad = monitor.add({ expected: 250, lost: 75, rttMs: 20, jitterBufferMs: 40, frameMs: 20 });
    expect(bad.intervalMos).toBeLessThan(3.5);
    expect(bad).toMatchObject({ alarm: true, alarmChanged: 'raised' });
    expect(bad.mos).toBeGreaterThan(bad.intervalMos);
    const again = monitor.add({ expected: 250, lost: 0, rttMs: 20, jitterBufferMs: 40, frameMs: 20 });
    expect(again).toMatchObject({ alarm: false, alarmChanged: 'cleared', rttMs: 20 });
  });

  it('never raises the alarm with threshold 0', () => {
    const monitor = new VqMonitor({ impairment: { ie: 0, bpl: 25.1 } });
    expect(monitor.add({ expected: 100, lost: 90, rttMs: undefined, jitterBufferMs: 0, frameMs: 20 }).alarm).toBe(false);
  });
});
