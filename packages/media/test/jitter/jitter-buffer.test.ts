import { Concealer, JitterBuffer, type PlayoutResult } from '@sip-endpoint/media';
import { allocationsDuring } from '@sip-endpoint/test-support';

const payload = (value: number): Uint8Array => new Uint8Array(160).fill(value);

/** Pushes packets (sequence, arrival ms) and pops one frame per 20 ms tick up to `untilMs`. */
function simulate(buffer: JitterBuffer, packets: { seq: number; at: number; ssrc?: number }[], untilMs: number): string[] {
  const out: string[] = [];
  const queue = [...packets].sort((a, b) => a.at - b.at);
  for (let now = 0; now <= untilMs; now += 20) {
    while (queue.length > 0 && queue[0]!.at <= now) {
      const p = queue.shift()!;
      buffer.push(p.ssrc ?? 1, p.seq & 0xffff, (p.seq * 160) >>> 0, 0, false, payload(p.seq & 0xff), 0, 160, p.at);
    }
    const r: PlayoutResult = buffer.pop();
    out.push(r.kind === 'frame' ? String(r.sequence) : r.kind === 'lost' ? 'L' : '-');
  }
  return out;
}

const steady = (from: number, count: number, start = 0, delay = 0) => Array.from({ length: count }, (_, i) => ({ seq: from + i, at: start + i * 20 + delay }));

describe('JitterBuffer', () => {
  it('keeps payloads larger than the expected size whole, up to maxPayloadBytes, and plays each slot with its own length', () => {
    const buffer = new JitterBuffer({ minDelayMs: 20, expectedPayloadBytes: 160, maxPayloadBytes: 1000 });
    const sizes = [160, 480, 100, 1200, 160];
    const played: { length: number; first: number; last: number }[] = [];
    sizes.forEach((size, i) => {
      const data = new Uint8Array(size + 4).map((_, k) => (i * 40 + k) & 0xff);
      buffer.push(7, 10 + i, (10 + i) * 160, 0, false, data, 4, size, i * 20);
      const result = buffer.pop();
      if (result.kind === 'frame') played.push({ length: result.payload.length, first: result.payload[0]!, last: result.payload[result.payload.length - 1]! });
    });
    for (let i = 0; i < 3; i++) {
      const result = buffer.pop();
      if (result.kind === 'frame') played.push({ length: result.payload.length, first: result.payload[0]!, last: result.payload[result.payload.length - 1]! });
    }
    const expected = sizes.map((size, i) => {
      const kept = Math.min(size, 1000);
      return { length: kept, first: (i * 40 + 4) & 0xff, last: (i * 40 + 4 + kept - 1) & 0xff };
    });
    expect(played).toEqual(expected);
  });

  it('plays a steady stream in order after filling to its target', () => {
    const out = simulate(new JitterBuffer({ minDelayMs: 40 }), steady(100, 10), 400);
    expect(out.filter((x) => x !== '-')).toEqual(['100', '101', '102', '103', '104', '105', '106', '107', '108', '109', 'L', 'L', 'L', 'L', 'L']);
  });

  it('puts reordered packets back in order', () => {
    const packets = [
      { seq: 1, at: 0 },
      { seq: 3, at: 20 },
      { seq: 2, at: 25 },
      { seq: 4, at: 60 },
      { seq: 5, at: 80 },
    ];
    const out = simulate(new JitterBuffer({ minDelayMs: 40 }), packets, 160);
    expect(out.filter((x) => /\d/.test(x))).toEqual(['1', '2', '3', '4', '5']);
  });

  it('drops duplicates and late packets, and counts them', () => {
    const buffer = new JitterBuffer({ minDelayMs: 100 });
    const packets = [...steady(10, 6), { seq: 12, at: 45 }, { seq: 11, at: 300 }];
    simulate(buffer, packets, 400);
    expect(buffer.stats()).toMatchObject({ duplicates: 1, late: 1 });
  });

  it('reports a frame that never came as lost and goes on', () => {
    const packets = steady(1, 8).filter((p) => p.seq !== 4);
    const buffer = new JitterBuffer({ minDelayMs: 60 });
    const out = simulate(buffer, packets, 200).filter((x) => x !== '-');
    expect(out.slice(0, 8)).toEqual(['1', '2', '3', 'L', '5', '6', '7', '8']);
    expect(buffer.stats().lost).toBe(1);
  });

  it('adapts its target to the arrival jitter, within its bounds', () => {
    const jittery = new JitterBuffer({ minDelayMs: 20, maxDelayMs: 200 });
    const jitter = [0, 35, 5, 60, 10, 45, 0, 70, 20, 30, 0, 55, 15, 65, 5, 40];
    simulate(jittery, jitter.map((d, i) => ({ seq: i, at: i * 20 + d })), 500);
    expect(jittery.stats().targetDelayMs).toBeGreaterThanOrEqual(60);
    const capped = new JitterBuffer({ minDelayMs: 20, maxDelayMs: 40 });
    simulate(capped, jitter.map((d, i) => ({ seq: i, at: i * 20 + d })), 500);
    expect(capped.stats().targetDelayMs).toBe(40);
    const calm = new JitterBuffer({ minDelayMs: 20, maxDelayMs: 200 });
    simulate(calm, steady(0, 16), 400);
    // A steady stream: one frame plus the 10 ms margin.
    expect(calm.stats().targetDelayMs).toBe(30);
  });

  it('drops frames to absorb a sender whose clock runs fast (drift)', () => {
    // The sender sends 1 % fast: 101 packets per 100 playout ticks, for 30 s.
    const buffer = new JitterBuffer({ minDelayMs: 40 });
    const packets = Array.from({ length: 1515 }, (_, i) => ({ seq: i, at: i * 19.8 }));
    simulate(buffer, packets, 30000);
    const stats = buffer.stats();
    expect(stats.dropped).toBeGreaterThan(5);
    expect(stats.currentDelayMs).toBeLessThanOrEqual(120);
  });

  it('starts afresh on a new SSRC and survives the sequence wrap', () => {
    const buffer = new JitterBuffer({ minDelayMs: 20 });
    const wrap = steady(65530, 12).map((p) => ({ ...p, seq: p.seq % 65536 }));
    const out = simulate(buffer, [...wrap, ...steady(500, 5, 300).map((p) => ({ ...p, ssrc: 2 }))], 500).filter((x) => /\d/.test(x));
    expect(out.slice(0, 12)).toEqual(['65530', '65531', '65532', '65533', '65534', '65535', '0', '1', '2', '3', '4', '5']);
    expect(out.slice(-5)).toEqual(['500', '501', '502', '503', '504']);
    expect(buffer.stats().ssrcChanges).toBe(1);
  });

  it('follows a sender whose sequence jumps back', () => {
    const buffer = new JitterBuffer({ minDelayMs: 20 });
    const out = simulate(buffer, [...steady(30000, 5), ...steady(100, 12, 100)], 400).filter((x) => /\d/.test(x));
    expect(out.slice(-3)).toEqual(['109', '110', '111']);
  });

  it('allocates nothing per packet: 300,000 packets through it allocate under 100 kB', async () => {
    const buffer = new JitterBuffer();
    const data = payload(1);
    const run = (n: number): void => {
      for (let i = 0; i < n; i++) {
        buffer.push(1, i & 0xffff, (i * 160) >>> 0, 0, false, data, 0, 160, i * 20);
        buffer.pop();
      }
    };
    run(20_000);
    // 48 bytes a packet would be 14 MB: young-generation collections, and the bytes far over budget.
    const allocations = await allocationsDuring(() => run(300_000));
    expect(allocations.youngCollections).toBe(0);
    expect(allocations.youngBytes).toBeLessThan(100_000); // a third of a byte a packet
  }, 30_000);
});

describe('Concealer', () => {
  const rate = 8000;
  const sine = (n: number, offset: number): Int16Array => Int16Array.from({ length: n }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 200 * (offset + i)) / rate)));

  it('continues a periodic signal through a lost frame, close to the real waveform', () => {
    const concealer = new Concealer(rate);
    for (let f = 0; f < 10; f++) concealer.good(sine(160, f * 160));
    const out = new Int16Array(160);
    concealer.conceal(out);
    const expected = sine(160, 1600);
    let error = 0;
    let energy = 0;
    for (let i = 0; i < 160; i++) {
      error += (out[i]! - expected[i]!) ** 2;
      energy += expected[i]! ** 2;
    }
    expect(10 * Math.log10(energy / error)).toBeGreaterThan(10);
  });

  it('fades out over a long loss and is silent after 60 ms', () => {
    const concealer = new Concealer(rate);
    for (let f = 0; f < 10; f++) concealer.good(sine(160, f * 160));
    const levels: number[] = [];
    const out = new Int16Array(160);
    for (let f = 0; f < 5; f++) {
      concealer.conceal(out);
      levels.push(Math.max(...out.map(Math.abs)));
    }
    expect(levels[0]).toBeGreaterThan(6000);
    expect(levels[2]).toBeLessThan(levels[0]!);
    expect(levels[4]).toBe(0);
  });

  it('cross-fades into the next real frame', () => {
    const concealer = new Concealer(rate);
    for (let f = 0; f < 10; f++) concealer.good(sine(160, f * 160));
    concealer.conceal(new Int16Array(160));
    const next = sine(160, 1760);
    const original = next.slice();
    concealer.good(next);
    expect(next.subarray(0, 10)).not.toEqual(original.subarray(0, 10));
    expect(next.subarray(100)).toEqual(original.subarray(100));
  });
});
