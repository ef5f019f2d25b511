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

  it('weighs loss by the codec (Ie, Bpl) and by its burstiness, as G.107 7.1 says', () => {
    const ieEff = (ie: number, bpl: number, ppl: number, burst: number): number => ie + ((95 - ie) * ppl) / (ppl / burst + bpl);
    const cases = [
      { ie: 11, bpl: 19, lossPercent: 3, burstRatio: undefined, burst: 1 },
      { ie: 11, bpl: 19, lossPercent: 3, burstRatio: 2, burst: 2 },
      { ie: 0, bpl: 4.3, lossPercent: 10, burstRatio: 1.5, burst: 1.5 },
      // A burst ratio below 1 means random loss: 1.
      { ie: 5, bpl: 10, lossPercent: 2, burstRatio: 0.5, burst: 1 },
      // Loss is taken within 0 to 100 %.
      { ie: 5, bpl: 10, lossPercent: 140, burstRatio: 1, burst: 1, ppl: 100 },
      { ie: 5, bpl: 10, lossPercent: -4, burstRatio: 1, burst: 1, ppl: 0 },
    ];
    for (const c of cases) {
      const r = transmissionRating({ ie: c.ie, bpl: c.bpl, lossPercent: c.lossPercent, oneWayDelayMs: 0, ...(c.burstRatio === undefined ? {} : { burstRatio: c.burstRatio }) });
      expect({ c, r }).toEqual({ c, r: expect.closeTo(93.2 - ieEff(c.ie, c.bpl, c.ppl ?? c.lossPercent, c.burst), 9) as number });
    }
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

  const impairment = { ie: 11, bpl: 19 };
  const mos = (lossPercent: number, oneWayDelayMs: number): number => estimateMos({ ...impairment, lossPercent, oneWayDelayMs });

  it('reports the perfect MOS of its codec before the first interval', () => {
    const monitor = new VqMonitor({ impairment });
    expect(monitor.report).toEqual({ mos: mos(0, 0), intervalMos: mos(0, 0), listeningMos: mos(0, 0), rFactor: transmissionRating({ ...impairment, lossPercent: 0, oneWayDelayMs: 0 }), lossPercent: 0, oneWayDelayMs: 0, rttMs: undefined, alarm: false, alarmChanged: undefined });
  });

  it("computes each interval's MOS from its loss and one-way delay, and the call's from all the loss and the mean delay", () => {
    const monitor = new VqMonitor({ impairment });
    const samples = [
      // Nothing expected (no packet yet), no RTT yet: no loss, and the delay without a network part.
      { expected: 0, lost: 0, rttMs: undefined, jitterBufferMs: 40, frameMs: 20 },
      { expected: 250, lost: 0, rttMs: 20, jitterBufferMs: 40, frameMs: 20 },
      { expected: 250, lost: 75, rttMs: 60, jitterBufferMs: 60, frameMs: 20 },
      // Duplicates can make an interval's loss negative, and a reset its expected count: taken as 0.
      { expected: 100, lost: -3, rttMs: 30, jitterBufferMs: 40, frameMs: 30 },
      { expected: -5, lost: 2, rttMs: 30, jitterBufferMs: 40, frameMs: 30 },
    ];
    const expected = [
      { interval: mos(0, 60), loss: 0, delay: 60 },
      { interval: mos(0, 70), loss: 0, delay: (60 + 70) / 2 },
      { interval: mos(30, 110), loss: (100 * 75) / 500, delay: (60 + 70 + 110) / 3 },
      { interval: mos(0, 85), loss: (100 * 75) / 600, delay: (60 + 70 + 110 + 85) / 4 },
      { interval: mos(0, 85), loss: (100 * 77) / 600, delay: (60 + 70 + 110 + 85 + 85) / 5 },
    ].map((row) => ({ ...row, call: mos(row.loss, row.delay), listening: mos(row.loss, 0), r: transmissionRating({ ...impairment, lossPercent: row.loss, oneWayDelayMs: row.delay }) }));
    samples.forEach((sample, i) => {
      const report = monitor.add(sample);
      expect({ i, intervalMos: report.intervalMos, mos: report.mos, listeningMos: report.listeningMos, rFactor: report.rFactor, lossPercent: report.lossPercent, oneWayDelayMs: report.oneWayDelayMs, rttMs: report.rttMs }).toEqual({
        i,
        intervalMos: expect.closeTo(expected[i]!.interval, 9) as number,
        mos: expect.closeTo(expected[i]!.call, 9) as number,
        listeningMos: expect.closeTo(expected[i]!.listening, 9) as number,
        rFactor: expect.closeTo(expected[i]!.r, 9) as number,
        lossPercent: expect.closeTo(expected[i]!.loss, 9) as number,
        oneWayDelayMs: expect.closeTo(expected[i]!.delay, 9) as number,
        rttMs: sample.rttMs,
      });
      expect(monitor.report).toBe(report);
    });
  });

  it('raises the alarm when an interval is below the threshold, keeps it while they stay below, and clears it at the threshold', () => {
    const steady = { expected: 250, rttMs: 20, jitterBufferMs: 40, frameMs: 20 };
    // The threshold is exactly the MOS of an interval with 2 % loss.
    const threshold = mos(2, 70);
    const monitor = new VqMonitor({ impairment, alarmThreshold: threshold });
    const at = (lost: number) => monitor.add({ ...steady, lost });
    expect(at(5)).toMatchObject({ alarm: false, alarmChanged: undefined }); // 2 %: at the threshold, not below
    expect(at(25)).toMatchObject({ alarm: true, alarmChanged: 'raised' });
    expect(at(25)).toMatchObject({ alarm: true, alarmChanged: undefined });
    expect(at(5)).toMatchObject({ alarm: false, alarmChanged: 'cleared' });
    expect(at(5)).toMatchObject({ alarm: false, alarmChanged: undefined });
  });

  it('never raises the alarm with threshold 0', () => {
    const monitor = new VqMonitor({ impairment: { ie: 0, bpl: 25.1 } });
    expect(monitor.add({ expected: 100, lost: 90, rttMs: undefined, jitterBufferMs: 0, frameMs: 20 }).alarm).toBe(false);
  });
});
