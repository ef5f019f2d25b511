import { Concealer, JitterBuffer, type PlayoutResult } from '@sip-endpoint/media';
import { allocationsDuring } from '@sip-endpoint/test-support';

const payload = (value: number): Uint8Array => new Uint8Array(160).fill(value);

/** Pushes packets (sequence, arrival ms) and pops one frame per 20 ms tick up to `untilMs`. */
function simulate(buffer: JitterBuffer, packets: { seq: number; at: number; ssrc?: number; ts?: number }[], untilMs: number): string[] {
  const out: string[] = [];
  const queue = [...packets].sort((a, b) => a.at - b.at);
  for (let now = 0; now <= untilMs; now += 20) {
    while (queue.length > 0 && queue[0]!.at <= now) {
      const p = queue.shift()!;
      buffer.push(p.ssrc ?? 1, p.seq & 0xffff, (p.ts ?? p.seq * 160) >>> 0, 0, false, payload(p.seq & 0xff), 0, 160, p.at);
    }
    const r: PlayoutResult = buffer.pop();
    out.push(r.kind === 'frame' ? String(r.sequence) : r.kind === 'lost' ? 'L' : r.kind === 'silence' ? '-' : `? ${JSON.stringify(r)}`);
  }
  // Every frame given out for concealment is counted as concealed.
  expect(buffer.stats().concealed).toBe(out.filter((x) => x === 'L').length);
  return out;
}

/** A 160-byte packet of sequence `seq` (and timestamp `ts`, default seq * 160) arriving at `at` ms. */
function push(buffer: JitterBuffer, seq: number, at: number, ts = seq * 160, ssrc = 1): void {
  buffer.push(ssrc, seq & 0xffff, ts >>> 0, 0, false, payload(seq & 0xff), 0, 160, at);
}

const label = (r: PlayoutResult): string => (r.kind === 'frame' ? String(r.sequence) : r.kind === 'lost' ? 'L' : '-');

/** The next `count` results, each read before the next pop (a result is valid until then). */
const pops = (buffer: JitterBuffer, count: number): string[] => Array.from({ length: count }, () => label(buffer.pop()));

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

describe('JitterBuffer, frame by frame', () => {
  it('gives silence before any packet, with nothing buffered', () => {
    const buffer = new JitterBuffer();
    expect(buffer.pop()).toEqual({ kind: 'silence' });
    expect(buffer.stats()).toMatchObject({ currentDelayMs: 0, received: 0, targetDelayMs: 20 });
  });

  it('waits until its target is buffered, plays, conceals five frames when the stream stops, then plays silence', () => {
    // 60 ms of least delay: three frames buffered before the first plays.
    const buffer = new JitterBuffer({ minDelayMs: 60 });
    const out = simulate(buffer, steady(100, 6), 300);
    expect(out).toEqual(['-', '-', '100', '101', '102', '103', '104', '105', 'L', 'L', 'L', 'L', 'L', '-', '-', '-']);
    expect(buffer.stats()).toMatchObject({ received: 6, lost: 0, late: 0, duplicates: 0, dropped: 0, underruns: 1, ssrcChanges: 0 });
  });

  it('keeps the payloads of many buffered packets apart in its store', () => {
    const buffer = new JitterBuffer({ minDelayMs: 200, maxDelayMs: 200, expectedPayloadBytes: 160 });
    for (let seq = 0; seq < 12; seq++) {
      const data = Uint8Array.from({ length: 160 }, (_, k) => (seq * 7 + k) & 0xff);
      buffer.push(1, seq, seq * 160, 0, false, data, 0, 160, seq * 20);
    }
    const wrong: number[] = [];
    for (let n = 0; n < 12; n++) {
      const r = buffer.pop();
      if (r.kind !== 'frame' || r.payload.length !== 160 || r.payload.some((v, k) => v !== ((r.sequence * 7 + k) & 0xff))) wrong.push(n);
    }
    expect(wrong).toEqual([]);
  });

  it.each([
    [0, ['-', '100', '101', '102', '-', '-', '-']],
    [1, ['-', '100', '101', '102', 'L', '-', '-']],
    [2, ['-', '100', '101', '102', 'L', 'L', '-']],
  ])('conceals %i frames when the stream stops (maxConcealedFrames)', (maxConcealedFrames, expected) => {
    const buffer = new JitterBuffer({ minDelayMs: 20, maxConcealedFrames });
    expect(simulate(buffer, steady(100, 3), 120)).toEqual(expected);
    expect(buffer.stats().underruns).toBe(1);
  });

  it('plays a stream that starts with sequence 0', () => {
    expect(simulate(new JitterBuffer({ minDelayMs: 20 }), steady(0, 3), 60)).toEqual(['-', '0', '1', '2']);
  });

  it('plays the oldest packet first when the first ones arrive out of order', () => {
    const buffer = new JitterBuffer({ minDelayMs: 60, maxDelayMs: 60 });
    push(buffer, 3, 0);
    push(buffer, 1, 1);
    push(buffer, 2, 2);
    expect(pops(buffer, 3)).toEqual(['1', '2', '3']);
  });

  it('refills to its target after running dry, and counts each time it ran dry once', () => {
    // Two gaps: after 104 (frames 105 to 109 come 140 ms late) and after 112.
    const packets = [...steady(100, 5), ...steady(105, 8, 240), ...steady(113, 4, 500)];
    const buffer = new JitterBuffer({ minDelayMs: 40, maxDelayMs: 40 });
    const out = simulate(buffer, packets, 640);
    expect(out).toEqual([
      '-', '100', '101', '102', '103', '104', 'L', 'L', 'L', 'L', 'L', '-', '-',
      // 113 comes during the fifth concealed frame; 114 completes the target.
      '105', '106', '107', '108', '109', '110', '111', '112', 'L', 'L', 'L', 'L', 'L', '113', '114', '115', '116', 'L', 'L', 'L',
    ]);
    expect(buffer.stats()).toMatchObject({ underruns: 3, lost: 0 });
  });

  it('counts a missing frame with newer ones buffered as lost, not as the buffer running dry', () => {
    // 4 never comes; 3 comes after 5 but in time.
    const packets = [{ seq: 1, at: 0 }, { seq: 2, at: 20 }, { seq: 5, at: 40 }, { seq: 3, at: 45 }, { seq: 6, at: 60 }, { seq: 7, at: 80 }, { seq: 8, at: 100 }];
    const buffer = new JitterBuffer({ minDelayMs: 60, maxDelayMs: 60 });
    const out = simulate(buffer, packets, 200);
    expect(out.filter((x) => x !== '-').slice(0, 8)).toEqual(['1', '2', '3', 'L', '5', '6', '7', '8']);
    expect(buffer.stats()).toMatchObject({ lost: 1, underruns: 1 });
  });

  it('drops one frame every 25 frame times while it holds more than two frames over its target, and stops there', () => {
    const buffer = new JitterBuffer({ minDelayMs: 20 });
    // Six packets come before the clock starts playing; then one a frame, steadily.
    for (let seq = 0; seq < 5; seq++) push(buffer, seq, seq * 20);
    const played: number[] = [];
    for (let seq = 5; seq < 200; seq++) {
      push(buffer, seq, seq * 20);
      const r = buffer.pop();
      if (r.kind === 'frame') played.push(r.sequence);
    }
    expect(buffer.stats().targetDelayMs).toBe(30); // two frames
    const skipped = Array.from({ length: 195 }, (_, i) => i).filter((seq) => !played.includes(seq));
    expect(skipped).toEqual([24, 50]);
    // Four frames buffered before each frame plays (the target and two), three after.
    expect(buffer.stats()).toMatchObject({ dropped: 2, currentDelayMs: 60 });
  });

  it('drops nothing from a link that delivers five frames at once every 100 ms', () => {
    const buffer = new JitterBuffer({ minDelayMs: 20, maxDelayMs: 20 });
    const packets = Array.from({ length: 500 }, (_, seq) => ({ seq, at: Math.floor(seq / 5) * 100 }));
    const out = simulate(buffer, packets, 9980);
    expect(out.filter((x) => x !== '-')).toEqual(Array.from({ length: 500 }, (_, seq) => String(seq)));
    expect(buffer.stats()).toMatchObject({ dropped: 0, lost: 0 });
  });

  it('keeps playing through a single late packet, and follows the sender from the eighth late packet in a row', () => {
    const buffer = new JitterBuffer({ minDelayMs: 20 });
    // 100 to 119, with a copy of 105 arriving late; then the sender starts again at 10.
    const packets = [...steady(100, 20), { seq: 105, at: 150 }, ...steady(10, 20, 400)];
    const out = simulate(buffer, packets, 800).filter((x) => x !== '-' && x !== 'L');
    expect(out).toEqual([...Array.from({ length: 20 }, (_, i) => String(100 + i)), ...Array.from({ length: 13 }, (_, i) => String(17 + i))]);
    // The copy of 105, and the eight in a row (the eighth is counted, then followed).
    expect(buffer.stats().late).toBe(9);
  });

  it('starts afresh when a new source reuses the old sequence numbers, and reports its lost frame as lost', () => {
    const buffer = new JitterBuffer({ minDelayMs: 20 });
    const second = steady(100, 10, 300).filter((p) => p.seq !== 103).map((p) => ({ ...p, ssrc: 2 }));
    const out = simulate(buffer, [...steady(100, 10), ...second], 600).filter((x) => x !== '-');
    expect(out).toEqual([
      // The new source's first packet comes in the fifth frame time after the old one stopped.
      ...['100', '101', '102', '103', '104', '105', '106', '107', '108', '109', 'L', 'L', 'L', 'L'],
      ...['100', '101', '102', 'L', '104', '105', '106', '107', '108', '109', 'L', 'L', 'L', 'L', 'L'],
    ]);
    expect(buffer.stats()).toMatchObject({ duplicates: 0, ssrcChanges: 1 });
  });

  it('follows a sequence that jumps 128 or more ahead of playout, after filling again', () => {
    const buffer = new JitterBuffer({ minDelayMs: 20 });
    push(buffer, 100, 0, 0);
    push(buffer, 101, 20, 160);
    expect(label(buffer.pop())).toBe('100');
    // 229 would land in 101's slot: playout starts again from it.
    push(buffer, 229, 40, 320);
    expect(label(buffer.pop())).toBe('-');
    push(buffer, 230, 60, 480);
    expect(pops(buffer, 3)).toEqual(['229', '230', 'L']);
    expect(buffer.stats()).toMatchObject({ lost: 0, late: 0 });
  });

  it('keeps a packet 127 ahead of playout without starting again', () => {
    const buffer = new JitterBuffer({ minDelayMs: 20 });
    push(buffer, 100, 0, 0);
    push(buffer, 101, 20, 160);
    expect(label(buffer.pop())).toBe('100');
    push(buffer, 228, 40, 320);
    expect(pops(buffer, 2)).toEqual(['101', 'L']);
  });

  it('plays a packet that came 130 ahead of the first while filling in its own turn, not in the turn of the sequence sharing its slot', () => {
    const buffer = new JitterBuffer({ minDelayMs: 20 });
    // Before playout starts nothing is "too far ahead": 130 is kept, in the slot of 2 (130 mod 128).
    push(buffer, 0, 0);
    push(buffer, 130, 20);
    // Up to 130 and the five frames concealed after it (the buffer then runs dry).
    const out = pops(buffer, 132);
    expect(out.slice(0, 4)).toEqual(['0', 'L', 'L', 'L']);
    expect(out.filter((x) => x !== 'L')).toEqual(['0', '130']);
    // 1 to 129 are lost, but for the four frames dropped to bring the delay down (every 25 frame
    // times more than two frames over the 400 ms target): 130 is due at the 127th frame time.
    expect(out.indexOf('130')).toBe(126);
    expect(buffer.stats()).toMatchObject({ lost: 125, dropped: 4, underruns: 1 });
  });

  it('counts the newest packet as lost when its turn comes after an older one took its slot while filling, not as the buffer running dry', () => {
    const buffer = new JitterBuffer({ minDelayMs: 20 });
    push(buffer, 0, 0);
    push(buffer, 130, 20);
    // 2 takes the slot 130 was in: 130 is the newest sequence seen, but it is gone.
    push(buffer, 2, 40);
    const out = pops(buffer, 127);
    expect(out.filter((x) => x !== 'L')).toEqual(['0', '2']);
    // 130's turn is the 127th frame time (four frames dropped on the way): lost, with 1, 3 to 129
    // but the four dropped.
    expect(buffer.stats()).toMatchObject({ lost: 125, dropped: 4, underruns: 0, concealed: 125 });
    expect(pops(buffer, 6)).toEqual(['L', 'L', 'L', 'L', 'L', '-']);
    expect(buffer.stats()).toMatchObject({ lost: 125, underruns: 1, concealed: 130 });
  });

  it('takes a packet exactly half the sequence space away as old (late), and plays on', () => {
    const buffer = new JitterBuffer({ minDelayMs: 20 });
    push(buffer, 100, 0);
    push(buffer, 101, 20);
    expect(label(buffer.pop())).toBe('100');
    // 0x8000 after the last sequence seen (101).
    push(buffer, 101 + 0x8000, 30);
    push(buffer, 102, 40);
    expect(pops(buffer, 2)).toEqual(['101', '102']);
    expect(buffer.stats().late).toBe(1);
  });

  it('puts packets reordered across the sequence wrap back in order', () => {
    const packets = [
      { seq: 65534, at: 0 },
      { seq: 65536, at: 20 },
      { seq: 65535, at: 25 },
      { seq: 65537, at: 40 },
      { seq: 65538, at: 60 },
    ];
    const buffer = new JitterBuffer({ minDelayMs: 60, maxDelayMs: 60 });
    const out = simulate(buffer, packets, 200).filter((x) => /\d/.test(x));
    expect(out).toEqual(['65534', '65535', '0', '1', '2']);
    expect(buffer.stats()).toMatchObject({ late: 0, lost: 0 });
  });

  it('aims at the 95th percentile of the last 128 arrival delays above their least, plus a frame and 10 ms', () => {
    const buffer = new JitterBuffer({ minDelayMs: 20, maxDelayMs: 400 });
    let state = 12345;
    const random = (): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    const delays: number[] = [];
    const mismatches: string[] = [];
    for (let seq = 0; seq < 600; seq++) {
      // Calm stretches and rough ones, so that the window's extremes leave it as well as enter it.
      const spread = Math.floor(seq / 100) % 2 === 0 ? 15 : 120;
      const delay = Math.round(random() * spread * 10) / 10;
      push(buffer, seq, 1000 + seq * 20 + delay);
      delays.push(delay);
      const window = delays.slice(-128).sort((x, y) => x - y);
      const expected = Math.min(400, Math.max(20, window[Math.min(window.length - 1, Math.floor(window.length * 0.95))]! - window[0]! + 30));
      const actual = buffer.stats().targetDelayMs;
      if (Math.abs(actual - expected) > 1e-6) mismatches.push(`packet ${seq}: ${actual} ms, expected ${expected} ms`);
    }
    expect(mismatches).toEqual([]);
  });

  it.each([0, 0x3fffff00, 0x7fffff00, 0xffffff00])('reads a steady stream as steady whatever its first timestamp (%i), across the timestamp wrap', (first) => {
    const buffer = new JitterBuffer({ minDelayMs: 20 });
    const out = simulate(buffer, steady(0, 40).map((p) => ({ ...p, ts: first + p.seq * 160 })), 800);
    expect(buffer.stats().targetDelayMs).toBe(30);
    expect(out.filter((x) => x !== '-')).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
  });
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
