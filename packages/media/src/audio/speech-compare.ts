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
 * or concealed cannot pass for the real one, and the pauses show added noise. It is low-passed at
 * 3 kHz, so narrowband codecs and any resampler carry all of it.
 *
 * @public
 */
export function speechLikeSignal(options: SpeechLikeOptions): Int16Array {
  const { sampleRate, seconds } = options;
  const level = 32767 * 10 ** ((options.levelDbfs ?? -18) / 20);
  const next = random(options.seed ?? 1);
  const between = (low: number, high: number): number => low + (high - low) * next();
  const out = new Int16Array(Math.round(sampleRate * seconds));
  const raw = new Float64Array(out.length);
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
    for (let n = 0; n < length; n++) raw[position + n] = voiced[n]! * gain;
    position += length + Math.round(sampleRate * between(0.04, 0.15));
  }
  // Band-limited to 3 kHz (a linear-phase low-pass, its delay taken back): every codec and every
  // resampler's anti-aliasing filter passes it whole, so two paths with different filters agree.
  const taps = lowPass(Math.min(3000, sampleRate * 0.375), sampleRate);
  const half = (taps.length - 1) / 2;
  for (let n = 0; n < out.length; n++) {
    let sum = 0;
    for (let k = 0; k < taps.length; k++) {
      const i = n + half - k;
      if (i >= 0 && i < raw.length) sum += taps[k]! * raw[i]!;
    }
    out[n] = Math.max(-32767, Math.min(32767, Math.round(sum)));
  }
  return out;
}

/** A windowed-sinc (Blackman) low-pass FIR with unity gain at DC. */
function lowPass(cutoffHz: number, sampleRate: number): Float64Array {
  const length = 2 * Math.round((sampleRate / 8000) * 24) + 1;
  const taps = new Float64Array(length);
  const middle = (length - 1) / 2;
  const fc = cutoffHz / sampleRate;
  let sum = 0;
  for (let k = 0; k < length; k++) {
    const t = k - middle;
    const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
    const window = 0.42 - 0.5 * Math.cos((2 * Math.PI * k) / (length - 1)) + 0.08 * Math.cos((4 * Math.PI * k) / (length - 1));
    taps[k] = sinc * window;
    sum += taps[k]!;
  }
  for (let k = 0; k < length; k++) taps[k] = taps[k]! / sum;
  return taps;
}

/** Options of {@link compareSpeech}. @public */
export interface SpeechComparisonOptions {
  /** The largest delay of the received audio behind the reference that is searched, in ms. @defaultValue 1500 */
  maxDelayMs?: number;
  /**
   * A frame (20 ms) of speech whose SNR against the aligned reference is below this is bad, in dB.
   * @defaultValue `frameMarginDb` under the call's median frame, at most 10 dB
   */
  minFrameSnrDb?: number;
  /**
   * Without `minFrameSnrDb`: how far under the call's median frame a bad frame is, in dB. A lost
   * or concealed frame is near 0 dB or below on any path; a perceptual codec (opus) strays further
   * from the waveform at onsets than a waveform codec does. @defaultValue 15
   */
  frameMarginDb?: number;
  /** How far the alignment may move at a glitch (a frame dropped, a stall's silence inserted), in ms. @defaultValue 300 */
  maxShiftMs?: number;
}

/** What {@link compareSpeech} found. @public */
export interface SpeechComparison {
  /** Delay of the received audio behind the reference at the start, in ms (to a fraction of an 8 kHz sample). */
  delayMs: number;
  /** Level of the received audio against the reference, in dB (least squares; the frames are compared at this gain). */
  gainDb: number;
  /** Whether the received audio's polarity is inverted (inaudible; the frames are compared with it inverted back). */
  inverted: boolean;
  /** The SNR below which a frame counted as bad, in dB (the option, or the call's own median less the margin). */
  frameThresholdDb: number;
  /** Frames (20 ms) of reference speech that the received audio covered and were compared. */
  frames: number;
  /** Of those, frames whose SNR was below the threshold (their error also against the frame before them, 10 dB down: temporal masking): lost, concealed, mangled. */
  badFrames: number;
  /** Runs of consecutive bad frames: each is one audible defect (a stall makes one long run, a dropped frame one short one). */
  defects: number;
  /** Each defect's length in frames, in the order they came (their sum is `badFrames`). */
  defectLengths: number[];
  /** Frames of reference silence where the received audio was 20 dB louder than the reference's quiet (noise, an echo of speech). */
  noisyFrames: number;
  /** Frames with a click: a sample-to-sample step larger than twice the reference's largest step nearby. */
  clicks: number;
  /** Mean SNR over the speech frames, each clamped to -10..60 dB. */
  segmentalSnrDb: number;
  /** Each speech frame's SNR, clamped to -10..60 dB, in order (their mean is `segmentalSnrDb`). */
  frameSnrDb: number[];
  /** Where each defect starts, as an index into `frameSnrDb` (its frames follow: `defectLengths`). */
  defectStarts: number[];
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
 * The delay (in 8 kHz samples, whole) of `received` behind `reference`: coarse on 1 ms envelopes,
 * then exact on the waveform. The first 1.5 s past the largest delay count, and lags down to
 * `-maxAhead` too: audio dropped early in the call (a stall) puts the received audio ahead of the
 * reference from there on, and the lag that most of the window agrees on wins. The frame walk
 * follows any other.
 */
function findDelay(reference: Int16Array, received: Int16Array, maxDelay: number, maxAhead: number): number {
  // Envelopes less their mean: two stretches of speech at a chance lag then score near 0, not
  // near the 0.5 that two positive envelopes share whatever they say.
  const envelope = (samples: Int16Array): Float64Array => {
    const out = new Float64Array(Math.floor(samples.length / 8));
    let total = 0;
    for (let i = 0; i < out.length; i++) {
      let sum = 0;
      for (let k = 0; k < 8; k++) sum += Math.abs(samples[i * 8 + k]!);
      out[i] = sum;
      total += sum;
    }
    const mean = out.length > 0 ? total / out.length : 0;
    for (let i = 0; i < out.length; i++) out[i] = out[i]! - mean;
    return out;
  };
  const referenceEnvelope = envelope(reference);
  const receivedEnvelope = envelope(received);
  const window = Math.min(receivedEnvelope.length, Math.round(maxDelay / 8) + 1500);
  // A lag whose overlap is short matches by chance: at least 0.5 s of overlap (or half of what there is).
  const minOverlap = Math.min(500, window >> 1);
  // A short overlap proves less than a long one: a score is weighed by the overlap's share of the window.
  const share = (lag: number): number => Math.sqrt((window - Math.max(0, lag)) / window);
  const scores: { lag: number; score: number }[] = [];
  for (let lag = -Math.floor(maxAhead / 8); lag <= maxDelay / 8 && window - Math.max(0, lag) >= minOverlap; lag++) scores.push({ lag, score: correlation(receivedEnvelope, referenceEnvelope, lag, 0, window) * share(lag) });
  // Syllables come at a rhythm, so envelopes also agree at lags that are wrong by a few of them,
  // and a glitch in the window splits the true peak in two. The ten highest peaks of the
  // envelopes' score are each tried on the waveform, which agrees only where the speech does.
  const peaks = scores.filter(({ score }, i) => score > (scores[i - 1]?.score ?? -Infinity) && score >= (scores[i + 1]?.score ?? -Infinity));
  peaks.sort((a, b) => b.score - a.score);
  let exact = 0;
  let bestScore = -Infinity;
  for (const { lag: coarse } of peaks.slice(0, 10)) {
    for (let lag = coarse * 8 - 24; lag <= coarse * 8 + 24; lag++) {
      const score = Math.abs(correlation(received, reference, lag, 0, window * 8)) * share(lag / 8);
      if (score > bestScore) {
        bestScore = score;
        exact = lag;
      }
    }
  }
  return exact;
}

/**
 * The fraction of an 8 kHz sample (-0.5..0.5) by which the received speech frames lie later than
 * their whole lags: two paths with different resamplers differ by that much, which at 3 kHz is a
 * large error. The peak of a parabola through the correlation of all the frames at their lags one
 * sample either side; each frame at its own lag, so a glitch's shift does not blur it.
 */
function fractionOf(ref: Int16Array, got: Int16Array, frames: readonly { at: number; lag: number }[]): number {
  const scores = [-1, 0, 1].map((offset) => {
    let cross = 0;
    let receivedPower = 0;
    let referencePower = 0;
    for (const { at, lag } of frames) {
      const from = at - lag - offset;
      if (from < 0 || from + FRAME > ref.length) continue;
      for (let i = 0; i < FRAME; i++) {
        cross += got[at + i]! * ref[from + i]!;
        receivedPower += got[at + i]! * got[at + i]!;
        referencePower += ref[from + i]! * ref[from + i]!;
      }
    }
    // Blind to polarity, like the walk.
    return receivedPower > 0 && referencePower > 0 ? Math.abs(cross) / Math.sqrt(receivedPower * referencePower) : 0;
  });
  const [before, at, after] = scores as [number, number, number];
  const curvature = before - 2 * at + after;
  const fraction = curvature < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (before - after)) / curvature)) : 0;
  // Under a hundredth of a sample is none (delayedByFraction leaves the reference as it is).
  return Math.abs(fraction) < 0.01 ? 0 : fraction;
}

/** `samples` delayed by `fraction` of a sample (|fraction| <= 0.5), by windowed-sinc interpolation. */
function delayedByFraction(samples: Int16Array, fraction: number): Int16Array {
  if (Math.abs(fraction) < 0.01) return samples;
  const reach = 16;
  const taps = new Float64Array(2 * reach + 1);
  for (let k = -reach; k <= reach; k++) {
    const t = k - fraction;
    const sinc = Math.abs(t) < 1e-9 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t);
    const window = 0.5 + 0.5 * Math.cos((Math.PI * t) / (reach + 1));
    taps[k + reach] = sinc * window;
  }
  const out = new Int16Array(samples.length);
  for (let n = 0; n < samples.length; n++) {
    let sum = 0;
    for (let k = -reach; k <= reach; k++) {
      const i = n - k;
      if (i >= 0 && i < samples.length) sum += taps[k + reach]! * samples[i]!;
    }
    out[n] = Math.max(-32768, Math.min(32767, Math.round(sum)));
  }
  return out;
}

interface Walk {
  /** Frames of reference speech: where each is in the received audio, and its lag. */
  speech: { at: number; lag: number }[];
  /** Frames of reference silence, likewise. */
  silent: { at: number; lag: number }[];
  /** How many times the lag moved. */
  shifts: number;
  /** The lag of the first frame that matched, if any did. */
  first: number | undefined;
}

/**
 * Follows the alignment of `got` against `ref` frame by frame from the lag `start`, by the shape
 * of the waveform (normalised correlation, blind to level and polarity): where a frame does not
 * match, it looks for the alignment where it and the next two match (a frame dropped, a stall's
 * silence inserted: the audio goes on), within `maxShift` of the current alignment and of the
 * last one that matched: a move that matched by chance (voiced speech is nearly periodic) must not
 * strand the walk out of reach of the true one. `quiet` and `receivedQuiet` are the energies of a
 * quiet frame of each.
 */
function walkAlignment(ref: Int16Array, got: Int16Array, start: number, maxShift: number, quiet: number, receivedQuiet: number): Walk {
  const inRange = (at: number, lag: number, span: number): boolean => at - lag >= 0 && at - lag + span <= ref.length && at + span <= got.length;
  const speech: { at: number; lag: number }[] = [];
  const silent: { at: number; lag: number }[] = [];
  let lag = start;
  let matched = start;
  let first: number | undefined;
  let shifts = 0;
  for (let at = 0; at + FRAME <= got.length; at += FRAME) {
    if (!inRange(at, lag, FRAME)) continue;
    if (energyOf(ref, at - lag, FRAME) < quiet) {
      silent.push({ at, lag });
      continue;
    }
    // A received frame 30 dB under the reference's, or quiet (40 dB under the received audio's
    // loudest), is a gap (a stall's silence, a lost frame faded out): its waveform is a
    // resampler's ringing, whose shape matches anything by chance.
    const received = energyOf(got, at, FRAME);
    const gap = received < receivedQuiet || received < energyOf(ref, at - lag, FRAME) * 1e-3;
    const span = Math.min(3 * FRAME, Math.floor((got.length - at) / FRAME) * FRAME);
    // A move is judged on received audio: a span that is mostly gap (the last milliseconds before
    // a stall's silence) matches by chance too, so it waits for the audio after the gap.
    let heard = 0;
    for (let from = at; from < at + span; from += FRAME) if (energyOf(got, from, FRAME) >= receivedQuiet) heard++;
    if (!gap && heard >= Math.min(2, span / FRAME) && Math.abs(correlation(got, ref, lag, at, at + FRAME)) < 0.5) {
      let bestLag = lag;
      let best = 0;
      for (let candidate = Math.min(lag, matched) - maxShift; candidate <= Math.max(lag, matched) + maxShift; candidate++) {
        if (!inRange(at, candidate, span)) continue;
        const score = Math.abs(correlation(got, ref, candidate, at, at + span));
        if (score > best) {
          best = score;
          bestLag = candidate;
        }
      }
      if (bestLag !== lag && best >= 0.7 && Math.abs(correlation(got, ref, bestLag, at, at + FRAME)) >= 0.5) {
        lag = bestLag;
        shifts++;
      }
    }
    if (!gap && Math.abs(correlation(got, ref, lag, at, at + FRAME)) >= 0.5) {
      matched = lag;
      first ??= lag;
    }
    speech.push({ at, lag });
  }
  return { speech, silent, shifts, first };
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
  const maxShift = Math.round(((options.maxShiftMs ?? 300) * RATE) / 1000);
  const narrowReference = toNarrowband(reference, referenceRate);
  const got = toNarrowband(received, receivedRate);
  const delay = findDelay(narrowReference, got, Math.round(((options.maxDelayMs ?? 1500) * RATE) / 1000), maxShift);
  // Quiet: 40 dB under the reference's loudest frame. The walk runs on the reference at whole
  // lags; the fraction of a sample is found after it (step 2).
  let loudest = 0;
  for (let at = 0; at + FRAME <= narrowReference.length; at += FRAME) loudest = Math.max(loudest, energyOf(narrowReference, at, FRAME));
  const quiet = loudest * 1e-4;
  let loudestReceived = 0;
  for (let at = 0; at + FRAME <= got.length; at += FRAME) loudestReceived = Math.max(loudestReceived, energyOf(got, at, FRAME));
  const receivedQuiet = loudestReceived * 1e-4;

  // 1. Follow the alignment frame by frame (walkAlignment). The walk starts again from the first
  //    alignment that matched when that is not the one it started from (a glitch early in the
  //    call: the delay found is the one after it).
  const walk = (start: number): Walk => walkAlignment(narrowReference, got, start, maxShift, quiet, receivedQuiet);
  let walked = walk(delay);
  if (walked.first !== undefined && walked.first !== delay) walked = walk(walked.first);
  const { speech, silent, shifts } = walked;
  const startLag = walked.first ?? delay;

  // 2. The fraction of a sample the path adds, from the frames at their lags; the reference is
  //    delayed by it for the rest.
  const fraction = fractionOf(narrowReference, got, speech);
  const ref = delayedByFraction(narrowReference, fraction);

  // 3. The level: the median of the frames' least-squares gains (a glitch's frames are outvoted).
  //    A negative gain is the polarity inverted: inaudible, and some codecs do it.
  const gains: number[] = [];
  for (const { at, lag: frameLag } of speech) {
    let cross = 0;
    let power = 0;
    for (let i = 0; i < FRAME; i++) {
      cross += got[at + i]! * ref[at - frameLag + i]!;
      power += ref[at - frameLag + i]! * ref[at - frameLag + i]!;
    }
    if (power > 0) gains.push(cross / power);
  }
  gains.sort((a, b) => a - b);
  const median = gains.length > 0 ? gains[gains.length >> 1]! : 1;
  const gain = Math.sign(median || 1) * Math.max(0.25, Math.min(4, Math.abs(median) || 1));

  // 4. Each frame's SNR at that gain; the threshold of a bad frame is as given, or `frameMarginDb`
  //    under the median frame (paths differ: G.711 between two engines keeps 37 dB, a peer's
  //    resampler may keep 17; a lost or concealed frame is near 0 dB or below on any of them),
  //    and at most 10 dB (G.722 keeps 15 to 20 dB at onsets, a clean path 60 and more).
  // Each frame's speech (the reference at that gain) and error energies.
  const energies = speech.map(({ at, lag: frameLag }) => {
    let signal = 0;
    let noise = 0;
    for (let i = 0; i < FRAME; i++) {
      const r = ref[at - frameLag + i]! * gain;
      const e = got[at + i]! - r;
      signal += r * r;
      noise += e * e;
    }
    return { signal, noise };
  });
  const snrs = energies.map(({ signal, noise }) => 10 * Math.log10(Math.max(signal, 1) / Math.max(noise, 1)));
  const sorted = [...snrs].sort((a, b) => a - b);
  const threshold = options.minFrameSnrDb ?? (sorted.length > 0 ? Math.min(10, sorted[sorted.length >> 1]! - (options.frameMarginDb ?? 15)) : 10);
  // Whether a frame is bad is judged with temporal masking: its error against the louder of its
  // own speech and the 20 ms before it, 10 dB down. A transform codec (opus) spreads a frame's
  // noise over it, so the frame where a syllable ends carries the syllable's noise into the
  // silence after it (measured: 11 dB over the reference's quiet tail), which the syllable masks;
  // a frame lost or concealed inside speech is as loud as its neighbours, and stays bad.
  const masked = speech.map(({ at, lag: frameLag }, index) => {
    const from = at - frameLag - FRAME;
    if (from < 0) return snrs[index]!;
    const before = energyOf(ref, from, FRAME) * gain * gain * 0.1;
    const { signal, noise } = energies[index]!;
    return 10 * Math.log10(Math.max(signal, before, 1) / Math.max(noise, 1));
  });

  const result: SpeechComparison = {
    delayMs: ((startLag + fraction) * 1000) / RATE,
    gainDb: 20 * Math.log10(Math.abs(gain)),
    inverted: gain < 0,
    frameThresholdDb: threshold,
    frames: speech.length,
    badFrames: 0,
    defects: 0,
    defectLengths: [],
    noisyFrames: 0,
    clicks: 0,
    segmentalSnrDb: 0,
    frameSnrDb: snrs.map((snr) => Math.max(-10, Math.min(60, snr))),
    defectStarts: [],
    shifts,
  };
  result.segmentalSnrDb = result.frameSnrDb.length > 0 ? result.frameSnrDb.reduce((sum, snr) => sum + snr, 0) / result.frameSnrDb.length : 0;
  let previous = -Infinity;
  speech.forEach(({ at, lag: frameLag }, index) => {
    if (masked[index]! < threshold) {
      result.badFrames++;
      // A run of bad frames (pauses between them aside) is one defect.
      if (previous !== index - 1) {
        result.defects++;
        result.defectLengths.push(0);
        result.defectStarts.push(index);
      }
      result.defectLengths[result.defectLengths.length - 1]!++;
      previous = index;
    }
    // Clicks: a step in the received frame far larger than any in the reference around it.
    let referenceStep = 0;
    for (let i = Math.max(1, at - frameLag - FRAME); i < Math.min(ref.length, at - frameLag + 2 * FRAME); i++) referenceStep = Math.max(referenceStep, Math.abs(ref[i]! - ref[i - 1]!));
    let step = 0;
    for (let i = Math.max(1, at); i < at + FRAME; i++) step = Math.max(step, Math.abs(got[i]! - got[i - 1]!));
    if (step > 2 * Math.abs(gain) * referenceStep + 1000) result.clicks++;
  });
  // Inside a pause (the frames either side silent too: a codec's look-ahead and ringing stay out
  // of it) the received frame must be quiet: 20 dB over the quiet threshold is 20 dB under the
  // loudest speech.
  for (const { at, lag: frameLag } of silent) {
    const from = at - frameLag;
    const inside = from >= FRAME && from + 2 * FRAME <= ref.length && energyOf(ref, from - FRAME, FRAME) < quiet && energyOf(ref, from + FRAME, FRAME) < quiet;
    if (inside && energyOf(got, at, FRAME) > quiet * 100 * gain * gain) result.noisyFrames++;
  }
  return result;
}

/**
 * The mean SNR of a comparison's speech frames (clamped, as `segmentalSnrDb`) leaving out the
 * frames of its `count` longest defects: what a listener heard outside the gaps a loaded
 * machine's stalls account for (a test that excuses `count` stalls judges the rest with it).
 *
 * @public
 */
export function segmentalSnrOutsideDefects(result: SpeechComparison, count: number): number {
  const longest = result.defectLengths.map((length, index) => ({ length, start: result.defectStarts[index]! })).sort((a, b) => b.length - a.length).slice(0, Math.max(0, count));
  const excused = new Set<number>();
  for (const { length, start } of longest) for (let i = start; i < start + length; i++) excused.add(i);
  let sum = 0;
  let frames = 0;
  result.frameSnrDb.forEach((snr, index) => {
    if (excused.has(index)) return;
    sum += snr;
    frames++;
  });
  return frames > 0 ? sum / frames : 0;
}
