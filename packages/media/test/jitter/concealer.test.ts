import { Concealer } from '@sip-endpoint/media';

/**
 * The concealer sample by sample, at 8 kHz: pitch periods searched in 20 to 120 samples (2.5 to
 * 15 ms), a history of 240 samples, the period's first 30 samples (a quarter of the longest
 * period) blended with the period before, a 32-sample (4 ms) cross-fade into the next real frame,
 * the gain 1 for 10 ms of loss and a fifth less every 10 ms after.
 */
const rate = 8000;

/** A signal of exactly `period` samples (integer-valued, so that its repetition is exact). */
const periodic = (period: number, amplitude: (n: number) => number = () => 1) => (n: number): number =>
  Math.round(amplitude(n) * (6000 * Math.sin((2 * Math.PI * n) / period) + 2000 * Math.sin((4 * Math.PI * n) / period + 1)));

const samples = (signal: (n: number) => number, from: number, count: number): Int16Array => Int16Array.from({ length: count }, (_, i) => signal(from + i));

/** Feeds `count` samples of `signal` as real frames of `frame` samples. */
function feed(concealer: Concealer, signal: (n: number) => number, count: number, frame = 80): void {
  for (let at = 0; at < count; at += frame) concealer.good(samples(signal, at, Math.min(frame, count - at)));
}

/** Largest difference between `actual` and `expected(i)`. */
function worst(actual: Int16Array, expected: (i: number) => number): number {
  let most = 0;
  for (let i = 0; i < actual.length; i++) most = Math.max(most, Math.abs(actual[i]! - expected(i)));
  return most;
}

const gainAt = (elapsed: number): number => Math.max(0, 1 - 0.2 * Math.floor(elapsed / 80));

describe('Concealer', () => {
  it.each([50, 20, 120])('repeats a signal of period %i samples exactly for the first 10 ms of a loss', (period) => {
    const signal = periodic(period);
    const concealer = new Concealer(rate);
    feed(concealer, signal, 400);
    const out = new Int16Array(80);
    concealer.conceal(out);
    expect(worst(out, (i) => signal(400 + i))).toBeLessThanOrEqual(1);
  });

  it('fades the repetition by a fifth every 10 ms and is silent from 50 ms on, however the loss is cut into calls', () => {
    const signal = periodic(50);
    const whole = new Concealer(rate);
    feed(whole, signal, 400);
    const once = new Int16Array(560);
    whole.conceal(once);
    expect(worst(once, (i) => signal(400 + i) * gainAt(i))).toBeLessThanOrEqual(1);
    expect(once.subarray(400).every((v) => v === 0)).toBe(true);

    // The same loss in uneven pieces: the repetition goes on where the last piece stopped.
    const pieces = new Concealer(rate);
    feed(pieces, signal, 400);
    const joined = new Int16Array(560);
    let at = 0;
    for (const size of [30, 45, 80, 125, 280]) {
      const out = new Int16Array(size);
      pieces.conceal(out);
      joined.set(out, at);
      at += size;
    }
    expect(Array.from(joined)).toEqual(Array.from(once));
  });

  it('writes only the samples asked for', () => {
    const concealer = new Concealer(rate);
    feed(concealer, periodic(50), 400);
    const out = new Int16Array(160).fill(1234);
    concealer.conceal(out, 80);
    expect(out.subarray(80).every((v) => v === 1234)).toBe(true);
    expect(concealer.concealedSamples).toBe(80);
  });

  it('counts the samples concealed since the last real frame', () => {
    const concealer = new Concealer(rate);
    expect(concealer.concealedSamples).toBe(0);
    concealer.conceal(new Int16Array(80));
    concealer.conceal(new Int16Array(80));
    expect(concealer.concealedSamples).toBe(160);
    concealer.good(new Int16Array(80));
    expect(concealer.concealedSamples).toBe(0);
  });

  it('plays silence until it has two longest periods (240 samples) of history', () => {
    const signal = periodic(50);
    const short = new Concealer(rate);
    feed(short, signal, 239);
    const silent = new Int16Array(80).fill(7);
    short.conceal(silent);
    expect(silent.every((v) => v === 0)).toBe(true);

    const enough = new Concealer(rate);
    feed(enough, signal, 240);
    const out = new Int16Array(80);
    enough.conceal(out);
    expect(worst(out, (i) => signal(240 + i))).toBeLessThanOrEqual(1);
  });

  it('keeps the newest samples of frames longer than its history, and of many short frames', () => {
    const signal = periodic(50);
    const errors = [480, 240, 30, 7].map((frame) => {
      const concealer = new Concealer(rate);
      // A different signal first, so that a history that kept old samples shows.
      feed(concealer, periodic(37), 300, frame);
      const start = 10_000;
      for (let at = 0; at < 600; at += frame) concealer.good(samples(signal, start + at, frame));
      const end = start + Math.ceil(600 / frame) * frame;
      const out = new Int16Array(80);
      concealer.conceal(out);
      return { frame, error: worst(out, (i) => signal(end + i)) };
    });
    expect(errors.filter(({ error }) => error > 1)).toEqual([]);
  });

  it("blends the repeated period's first 30 samples with the period before it, and repeats the rest as it was", () => {
    // A period of 100 samples whose level grows: the last period differs from the one before.
    const signal = periodic(100, (n) => 0.5 + n / 800);
    const concealer = new Concealer(rate);
    feed(concealer, signal, 400);
    const out = new Int16Array(80);
    concealer.conceal(out);
    const blended = (i: number): number => {
      const w = (i + 1) / 31;
      return i < 30 ? signal(300 + i) * w + signal(200 + i) * (1 - w) : signal(300 + i);
    };
    expect(worst(out, blended)).toBeLessThanOrEqual(1);
    // The blend is not the last period itself.
    expect(worst(out.subarray(0, 30), (i) => signal(300 + i))).toBeGreaterThan(20);
  });

  it('cross-fades over 4 ms from the repetition, at its gain, into the next real frame', () => {
    const signal = periodic(50);
    const errors = [40, 80, 160].map((lossSamples) => {
      const concealer = new Concealer(rate);
      feed(concealer, signal, 400);
      concealer.conceal(new Int16Array(lossSamples));
      // A silent real frame shows the fading repetition alone.
      const next = new Int16Array(80);
      concealer.good(next);
      const gain = gainAt(lossSamples);
      const expected = (i: number): number => (i < 32 ? signal(400 + lossSamples + i) * gain * (1 - (i + 1) / 33) : 0);
      return { lossSamples, error: worst(next, expected) };
    });
    expect(errors.filter(({ error }) => error > 1)).toEqual([]);
  });

  it('cross-fades only the first real frame after a loss, and leaves frames alone when nothing was lost', () => {
    const signal = periodic(50);
    const fresh = new Concealer(rate);
    const first = samples(signal, 0, 80);
    fresh.good(first);
    expect(Array.from(first)).toEqual(Array.from(samples(signal, 0, 80)));

    const concealer = new Concealer(rate);
    feed(concealer, signal, 400);
    concealer.conceal(new Int16Array(80));
    concealer.good(new Int16Array(80));
    const second = samples(signal, 560, 80);
    concealer.good(second);
    expect(Array.from(second)).toEqual(Array.from(samples(signal, 560, 80)));
  });

  it('fades in from silence after a loss it had no history for', () => {
    const concealer = new Concealer(rate);
    concealer.conceal(new Int16Array(80));
    const next = new Int16Array(80).fill(3300);
    concealer.good(next);
    expect(worst(next, (i) => (i < 32 ? 3300 * ((i + 1) / 33) : 3300))).toBeLessThanOrEqual(1);
  });
});
