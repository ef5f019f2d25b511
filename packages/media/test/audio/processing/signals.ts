// Test signals for the audio processors: seeded noise, an echo path, levels.
import { Fft } from '../../../src/audio/processing/fft';

/** Seeded white noise (mulberry32, uniform) at an RMS level in dBFS. */
export function whiteNoise(length: number, levelDbfs: number, seed = 7): Int16Array {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rms = 32767 * 10 ** (levelDbfs / 20);
  const out = new Int16Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.round((next() * 2 - 1) * Math.sqrt(3) * rms);
  return out;
}

/** Pink-ish noise: white noise through a one-pole low-pass (a fan, a room), at an RMS level in dBFS. */
export function roomNoise(length: number, levelDbfs: number, seed = 11): Int16Array {
  const white = whiteNoise(length, 0, seed);
  const shaped = new Float64Array(length);
  let y = 0;
  let sum = 0;
  for (let i = 0; i < length; i++) {
    y = 0.9 * y + 0.1 * white[i]!;
    shaped[i] = y;
    sum += y * y;
  }
  const gain = (32767 * 10 ** (levelDbfs / 20)) / Math.sqrt(sum / length);
  const out = new Int16Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.round(shaped[i]! * gain);
  return out;
}

/** What a microphone hears of `far` through a room: `delayMs` late, attenuated, with a short decaying tail. */
export function echoOf(far: Int16Array, sampleRate: number, delayMs: number, gain: number): Float64Array {
  const delay = Math.round((sampleRate * delayMs) / 1000);
  // Reflections 1, 3 and 7 ms after the direct path, each weaker.
  const taps: [number, number][] = [
    [0, gain],
    [Math.round(sampleRate * 0.001), gain * 0.4],
    [Math.round(sampleRate * 0.003), -gain * 0.2],
    [Math.round(sampleRate * 0.007), gain * 0.1],
  ];
  const out = new Float64Array(far.length);
  for (let i = 0; i < far.length; i++) {
    let sum = 0;
    for (const [lag, g] of taps) {
      const j = i - delay - lag;
      if (j >= 0) sum += far[j]! * g;
    }
    out[i] = sum;
  }
  return out;
}

/** Adds signals sample by sample into 16-bit PCM. */
export function mix(...signals: ArrayLike<number>[]): Int16Array {
  const out = new Int16Array(signals[0]!.length);
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (const s of signals) sum += s[i] ?? 0;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(sum)));
  }
  return out;
}

/** Energy of `from`..`to` (samples). */
export function energy(samples: ArrayLike<number>, from = 0, to = samples.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! * samples[i]!;
  return sum;
}

/** RMS level in dBFS of the samples where `mask` is true. */
export function levelDb(samples: ArrayLike<number>, mask: (i: number) => boolean): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < samples.length; i++) {
    if (!mask(i)) continue;
    sum += samples[i]! * samples[i]!;
    count++;
  }
  return 10 * Math.log10(sum / Math.max(1, count) / (32767 * 32767));
}

/** Per frame, whether the clean speech has voice in it (its RMS above `thresholdDbfs`). */
export function speechFrames(clean: Int16Array, frame: number, thresholdDbfs = -50): boolean[] {
  const out: boolean[] = [];
  for (let at = 0; at + frame <= clean.length; at += frame) {
    out.push(10 * Math.log10(energy(clean, at, at + frame) / frame / (32767 * 32767)) > thresholdDbfs);
  }
  return out;
}

/** Runs `process` on each `frame`-sample frame of a copy of `input`; returns the copy. */
export function byFrames(input: Int16Array, frame: number, process: (view: Int16Array, index: number) => void): Int16Array {
  const out = input.slice();
  const buffer = new Int16Array(frame);
  for (let at = 0, n = 0; at + frame <= out.length; at += frame, n++) {
    buffer.set(out.subarray(at, at + frame));
    process(buffer, n);
    out.set(buffer, at);
  }
  return out;
}

/** Power in four bands of 0-4 kHz (8 kHz audio), in dB against the total: the shape of a spectrum, its level aside. */
export function bandShape(samples: ArrayLike<number>): number[] {
  const size = 256;
  const fft = new Fft(size);
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  const bands = [0, 0, 0, 0];
  for (let at = 0; at + size <= samples.length; at += size / 2) {
    for (let n = 0; n < size; n++) re[n] = samples[at + n]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / size));
    im.fill(0);
    fft.transform(re, im, false);
    for (let bin = 1; bin < size / 2; bin++) bands[Math.floor((bin * 4) / (size / 2))]! += re[bin]! * re[bin]! + im[bin]! * im[bin]!;
  }
  const total = bands.reduce((sum, power) => sum + power, 0);
  return bands.map((power) => Math.round(10 * 10 * Math.log10(power / total)) / 10);
}
