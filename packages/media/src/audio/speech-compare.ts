import { Resampler } from './resampler';

/** Options of {@link speechLikeSignal}. @public */
export interface SpeechLikeOptions {
  /** Sample rate of the signal, in Hz. */
  sampleRate: number;
  /** Length, in seconds. */
  seconds: number;
  /** RMS level of the voiced parts, in dBFS. @defaultValue -18 */
  levelDbfs?: number;
  /** Seed of the pseudo-random choices (pitch, formants, syllable lengths): the same seed, the same signal. @defaultValue 1 */
  seed?: number;
}

/** A small deterministic generator (mulberry32): uniform numbers in [0, 1). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A deterministic signal with the traits of speech that a pure tone lacks: syllables of 150 to
 * 350 ms separated by pauses, a pitch that glides between 90 and 260 Hz, three formants that move
 * within each syllable (a glottal pulse train through three resonators, with a little breath
 * noise), and a rising and falling envelope. No two frames are alike, so a frame lost, repeated
 * or concealed cannot pass for the real one, and the pauses show added noise. Energy stays below
 * 3.4 kHz, so narrowband codecs carry all of it.
 *
 * @public
 */
export function speechLikeSignal(options: SpeechLikeOptions): Int16Array {
  const { sampleRate, seconds } = options;
  const level = 32767 * 10 ** ((options.levelDbfs ?? -18) / 20);
  const next = random(options.seed ?? 1);
  const between = (low: number, high: number): number => low + (high - low) * next();
  const out = new Int16Array(Math.round(sampleRate * seconds));
  const voiced = new Float64Array(Math.round(sampleRate * 0.35));
  let position = Math.round(sampleRate * between(0.03, 0.08));
  while (position < out.length) {
    const length = Math.min(Math.round(sampleRate * between(0.15, 0.35)), out.length - position);
    const pitchFrom = between(90, 220);
    const pitchTo = pitchFrom * between(0.8, 1.2);
    const formantsFrom = [between(300, 800), between(900, 2200), between(2300, 3000)];
    const formantsTo = [between(300, 800), between(900, 2200), between(2300, 3000)];
    const bandwidths = [70, 100, 140];
    // Resonator state: two past outputs per formant.
    const y1 = [0, 0, 0];
    const y2 = [0, 0, 0];
    let phase = 0;
    let energy = 0;
    for (let n = 0; n < length; n++) {
      const progress = n / length;
      const pitch = pitchFrom + (pitchTo - pitchFrom) * progress;
      phase += pitch / sampleRate;
      let x = (next() - 0.5) * 0.08; // breath
      if (phase >= 1) {
        phase -= 1;
        x += 1;
      }
      for (let f = 0; f < 3; f++) {
        const frequency = formantsFrom[f]! + (formantsTo[f]! - formantsFrom[f]!) * progress;
        const radius = Math.exp((-Math.PI * bandwidths[f]!) / sampleRate);
        const y = x + 2 * radius * Math.cos((2 * Math.PI * frequency) / sampleRate) * y1[f]! - radius * radius * y2[f]!;
        y2[f] = y1[f]!;
        y1[f] = y;
        // Each resonator's gain at its peak is about 1 / (1 - r): scale it back, and take off the
        // low end a little (the next one's input is the previous one's output).
        x = y * (1 - radius);
      }
      // Attack 30 ms, release 50 ms, raised-cosine.
      const attack = Math.min(1, n / (sampleRate * 0.03));
      const release = Math.min(1, (length - n) / (sampleRate * 0.05));
      const envelope = Math.sin((Math.PI / 2) * attack) ** 2 * Math.sin((Math.PI / 2) * release) ** 2;
      voiced[n] = x * envelope;
      energy += voiced[n]! * voiced[n]!;
    }
    const gain = energy > 0 ? level / Math.sqrt(energy / length) : 0;
    for (let n = 0; n < length; n++) out[position + n] = Math.max(-32767, Math.min(32767, Math.round(voiced[n]! * gain)));
    position += length + Math.round(sampleRate * between(0.04, 0.15));
  }
  return out;
}

/** Options of {@link compareSpeech}. @public */
export interface SpeechComparisonOptions {
  /** The largest delay of the received audio behind the reference that is searched, in ms. @defaultValue 1500 */
  maxDelayMs?: number;
  /** A frame (20 ms) of speech whose SNR against the aligned reference is below this is bad, in dB. @defaultValue 10 */
  minFrameSnrDb?: number;
  /** How far the alignment may move at a glitch (a frame dropped, a stall's silence inserted), in ms. @defaultValue 300 */
  maxShiftMs?: number;
}

/** What {@link compareSpeech} found. @public */
export interface SpeechComparison {
  /** Delay of the received audio behind the reference at the start, in ms (at 8 kHz resolution). */
  delayMs: number;
  /** Frames (20 ms) of reference speech that the received audio covered and were compared. */
  frames: number;
  /** Of those, frames whose SNR was below the threshold at every alignment tried: lost, concealed, mangled. */
  badFrames: number;
  /** Runs of consecutive bad frames: each is one audible defect (a stall makes one long run, a dropped frame one short one). */
  defects: number;
  /** Frames of reference silence where the received audio was 20 dB louder than the reference's quiet (noise, an echo of speech). */
  noisyFrames: number;
  /** Frames with a click: a sample-to-sample step larger than twice the reference's largest step nearby. */
  clicks: number;
  /** Mean SNR over the speech frames, each clamped to -10..60 dB. */
  segmentalSnrDb: number;
  /** How many times the alignment moved (the received audio gained or lost time: a frame dropped, a stall). */
  shifts: number;
}

const RATE = 8000;
const FRAME = 160;

function toNarrowband(samples: Int16Array, sampleRate: number): Int16Array {
  if (sampleRate === RATE) return samples;
  const resampler = new Resampler(sampleRate, RATE);
  const out = new Int16Array(Math.ceil((samples.length * RATE) / sampleRate) + FRAME);
  const written = resampler.process(samples, samples.length, out);
  return out.subarray(0, written);
}

function energyOf(samples: Int16Array, from: number, length: number): number {
  let sum = 0;
  for (let i = from; i < from + length; i++) sum += samples[i]! * samples[i]!;
  return sum;
}

/** SNR in dB of `received[at..at+length)` against `reference[at-lag..)`. */
function snrAt(reference: Int16Array, received: Int16Array, at: number, lag: number, length: number): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < length; i++) {
    const r = reference[at - lag + i]!;
    const e = received[at + i]! - r;
    signal += r * r;
    noise += e * e;
  }
  return 10 * Math.log10(Math.max(signal, 1) / Math.max(noise, 1));
}

/** Normalised cross-correlation of `a[i]` with `b[i - lag]` over their overlap. */
function correlation(a: Float64Array | Int16Array, b: Float64Array | Int16Array, lag: number, from: number, to: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  const start = Math.max(from, lag);
  const end = Math.min(to, b.length + lag, a.length);
  for (let i = start; i < end; i++) {
    const x = a[i]!;
    const y = b[i - lag]!;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * The delay (in 8 kHz samples) of the start of `received` behind `reference`: coarse on 1 ms
 * envelopes, then exact. Only the first 1.5 s past the largest delay count: a later glitch moves
 * the alignment, and the frame walk follows it.
 */
function findDelay(reference: Int16Array, received: Int16Array, maxDelay: number): number {
  const envelope = (samples: Int16Array): Float64Array => {
    const out = new Float64Array(Math.floor(samples.length / 8));
    for (let i = 0; i < out.length; i++) {
      let sum = 0;
      for (let k = 0; k < 8; k++) sum += Math.abs(samples[i * 8 + k]!);
      out[i] = sum;
    }
    return out;
  };
  const referenceEnvelope = envelope(reference);
  const receivedEnvelope = envelope(received);
  let best = 0;
  let bestScore = -Infinity;
  const window = Math.min(receivedEnvelope.length, Math.round(maxDelay / 8) + 1500);
  for (let lag = 0; lag <= maxDelay / 8; lag++) {
    const score = correlation(receivedEnvelope, referenceEnvelope, lag, 0, window);
    if (score > bestScore) {
      bestScore = score;
      best = lag * 8;
    }
  }
  let exact = best;
  bestScore = -Infinity;
  for (let lag = Math.max(0, best - 24); lag <= best + 24; lag++) {
    const score = correlation(received, reference, lag, 0, window * 8);
    if (score > bestScore) {
      bestScore = score;
      exact = lag;
    }
  }
  return exact;
}

/**
 * Compares what came out of a call with what went in, as a listener would: sample-aligned, frame
 * by frame (20 ms), not by a tone's frequency or level. Both signals are brought to 8 kHz; the
 * delay is found by cross-correlation; each frame of reference speech is then compared with the
 * received frame at that alignment. A frame that matches nowhere near (lost, concealed, mangled,
 * replaced by noise) is bad; a frame that matches a little earlier or later moves the alignment
 * (a frame dropped or a stall's silence inserted: the audio goes on). Runs of bad frames are
 * counted as defects.
 *
 * @param reference - What was sent (the microphone's samples from the start of the call).
 * @param referenceRate - Its sample rate, in Hz.
 * @param received - What was played or recorded at the far end.
 * @param receivedRate - Its sample rate, in Hz.
 * @public
 */
export function compareSpeech(reference: Int16Array, referenceRate: number, received: Int16Array, receivedRate: number, options: SpeechComparisonOptions = {}): SpeechComparison {
  const minSnr = options.minFrameSnrDb ?? 10;
  const maxShift = Math.round(((options.maxShiftMs ?? 300) * RATE) / 1000);
  const ref = toNarrowband(reference, referenceRate);
  const got = toNarrowband(received, receivedRate);
  const delay = findDelay(ref, got, Math.round(((options.maxDelayMs ?? 1500) * RATE) / 1000));
  // Quiet: 40 dB under the reference's speech level.
  let loudest = 0;
  for (let at = 0; at + FRAME <= ref.length; at += FRAME) loudest = Math.max(loudest, energyOf(ref, at, FRAME));
  const quiet = loudest * 1e-4;

  const result: SpeechComparison = { delayMs: (delay * 1000) / RATE, frames: 0, badFrames: 0, defects: 0, noisyFrames: 0, clicks: 0, segmentalSnrDb: 0, shifts: 0 };
  let lag = delay;
  let inDefect = false;
  let snrSum = 0;
  for (let at = 0; at + FRAME <= got.length; at += FRAME) {
    if (at - lag < 0 || at - lag + FRAME > ref.length) continue;
    const referenceEnergy = energyOf(ref, at - lag, FRAME);
    if (referenceEnergy < quiet) {
      // Silence in the reference. Inside a pause (the frames either side silent too: a codec's
      // look-ahead and ringing stay out of it) the received frame must be quiet as well: 20 dB
      // over the quiet threshold is 20 dB under the loudest speech.
      const inside = at - lag >= FRAME && at - lag + 2 * FRAME <= ref.length && energyOf(ref, at - lag - FRAME, FRAME) < quiet && energyOf(ref, at - lag + FRAME, FRAME) < quiet;
      if (inside && energyOf(got, at, FRAME) > quiet * 100) result.noisyFrames++;
      continue;
    }
    result.frames++;
    let snr = snrAt(ref, got, at, lag, FRAME);
    if (snr < minSnr) {
      // Did the audio move? Look for an alignment where this frame and the next match.
      let bestLag = lag;
      let bestSnr = -Infinity;
      const span = at + 2 * FRAME <= got.length ? 2 * FRAME : FRAME;
      for (let candidate = Math.max(0, lag - maxShift); candidate <= lag + maxShift; candidate++) {
        if (at - candidate < 0 || at - candidate + span > ref.length) continue;
        const score = snrAt(ref, got, at, candidate, span);
        if (score > bestSnr) {
          bestSnr = score;
          bestLag = candidate;
        }
      }
      if (bestLag !== lag && bestSnr >= minSnr && snrAt(ref, got, at, bestLag, FRAME) >= minSnr) {
        lag = bestLag;
        result.shifts++;
        snr = snrAt(ref, got, at, lag, FRAME);
      }
    }
    snrSum += Math.max(-10, Math.min(60, snr));
    if (snr < minSnr) {
      result.badFrames++;
      if (!inDefect) result.defects++;
      inDefect = true;
    } else {
      inDefect = false;
    }
    // Clicks: a step in the received frame far larger than any in the reference around it.
    let referenceStep = 0;
    for (let i = Math.max(1, at - lag - FRAME); i < Math.min(ref.length, at - lag + 2 * FRAME); i++) referenceStep = Math.max(referenceStep, Math.abs(ref[i]! - ref[i - 1]!));
    let step = 0;
    for (let i = Math.max(1, at); i < at + FRAME; i++) step = Math.max(step, Math.abs(got[i]! - got[i - 1]!));
    if (step > 2 * referenceStep + 1000) result.clicks++;
  }
  result.segmentalSnrDb = result.frames > 0 ? snrSum / result.frames : 0;
  return result;
}
