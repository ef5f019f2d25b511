import { SampleRing } from '../sample-ring';
import { Fft } from './fft';
import { AudioProcessingError } from './processing-error';

/**
 * The Geigel detector's threshold: a microphone peak above this share of the far end's recent peak
 * is the near end talking. 0.7 takes an echo path at least 3 dB down (a handset, a headset, a
 * desk phone's speaker at a normal distance); a louder echo pauses adaptation now and then.
 */
const GEIGEL = 0.7;

/** Options of {@link EchoCanceller}. @public */
export interface EchoCancellerOptions {
  sampleRate: number;
  /** Samples of each microphone frame given to {@link EchoCanceller.process}. */
  frameSamples: number;
  /**
   * The longest echo it removes, in ms: the speaker's and microphone's buffering plus the room's
   * tail. Its CPU grows with it. @defaultValue 200
   */
  tailMs?: number;
  /** Adaptation step, 0 to 1: larger converges faster and settles less deep. @defaultValue 0.7 */
  step?: number;
  /** Partitions constrained per block (all of them: exact, slower; fewer: cheaper, converges less deep). @defaultValue 4 */
  constrainPerBlock?: number;
  /**
   * Residual echo suppression after the filter: while the far end talks and the near end does
   * not, what the filter left is turned down (by up to `suppressionFloorDb`); through double talk
   * the near end's speech, much louder than the residual, keeps its level. @defaultValue true
   */
  residualSuppression?: boolean;
  /** The most the suppressor takes off, in dB. @defaultValue 20 */
  suppressionFloorDb?: number;
  /**
   * The longest delay, in ms, before the echo's start that the delay estimator follows: when the
   * echo comes later than the filter reaches (a Bluetooth headset, a slow sound server), the
   * reference is delayed in front of the filter to bring it back in. 0 turns the estimator off.
   * @defaultValue 500
   */
  maxDelayMs?: number;
}

/**
 * Acoustic echo control (`echo_control`), written here: no echo canceller runs in Node from the
 * registry without a native build (speexdsp's and libwebrtc's AEC exist only as native addons or
 * inside browser builds). A partitioned-block frequency-domain adaptive filter (as speex's MDF and
 * libwebrtc's AEC3 use): the far-end signal, what the stream plays, is cut into blocks, each
 * transformed once; the filter's partitions, one per block of the tail, model the echo path up to
 * `tailMs`; each bin adapts by normalised LMS over its partitions (normalised by the far end's
 * power in that bin, which makes it converge in about a second on speech, where a time-domain
 * NLMS on a coloured signal takes many). One partition a block is constrained back to a linear
 * convolution (a rotating gradient constraint). Adaptation pauses while the near end talks (a
 * Geigel detector: a microphone peak above 0.7 of the far end's recent peak), so that double talk
 * does not spoil the filter. After it, a residual echo suppressor (also written here): it learns
 * how much of the filter's echo estimate is left over (the residual's power against the
 * estimate's, while only the far end talks) and turns each block down by what that predicts of
 * it, twice over, to at most `suppressionFloorDb`: the residual goes, and a near end talking over
 * the far end, louder than the residual, keeps its level. In front of the filter, a delay
 * estimator (written here too): every quarter second it correlates the microphone's envelope (in
 * steps of about 4 ms, over the last second) with the far end's at each lag up to `maxDelayMs`; when
 * the same lag wins twice and it lies beyond three quarters of the filter's reach (or before the
 * reference), the reference is delayed so that the echo starts a quarter into the filter, which
 * then learns again.
 *
 * Feed {@link EchoCanceller.farEnd} with each frame played and {@link EchoCanceller.process} with
 * each microphone frame; both at `sampleRate`. The far end waits in a queue (half a second at
 * most) until the microphone frame that may hold its echo. Allocates nothing per frame.
 *
 * @public
 */
export class EchoCanceller {
  readonly sampleRate: number;
  readonly #block: number;
  readonly #partitions: number;
  readonly #size: number;
  readonly #fft: Fft;
  readonly #step: number;
  readonly #xRe: Float64Array;
  readonly #xIm: Float64Array;
  readonly #wRe: Float64Array;
  readonly #wIm: Float64Array;
  readonly #power: Float64Array;
  readonly #peaks: Float64Array;
  readonly #prev: Float64Array;
  readonly #re: Float64Array;
  readonly #im: Float64Array;
  readonly #eRe: Float64Array;
  readonly #eIm: Float64Array;
  readonly #queue: SampleRing;
  /** The far end's next block, taken from the queue. */
  readonly #farBlock: Int16Array;
  #head = 0;
  #constrain = 0;
  #hold = 0;
  readonly #constrainPerBlock: number;
  readonly #holdBlocks: number;
  readonly #delta: number;
  readonly #suppress: boolean;
  readonly #floorGain: number;
  /**
   * The suppressor's state, in a typed array (doubles in fields, or passed to a call, would be
   * boxed per block): [0] the residual's power over the echo estimate's, learnt while only the
   * far end talks; [1] the gain on the last block (each block ramps from it to its own); [2] and
   * [3] the block's echo-estimate and error powers.
   */
  readonly #residual = Float64Array.of(1, 1, 0, 0);
  /** The far end after the queue, its last blocks up to the longest bulk delay (circular). */
  readonly #history: Int16Array;
  #historyAt = 0;
  /** Blocks the reference is delayed by in front of the filter (the bulk delay). */
  #delay = 0;
  /** Blocks per envelope step, which is about 4 ms (one block at 8 and 16 kHz with 20 ms frames). */
  readonly #envBlocks: number;
  /** The envelope step's sums so far: far end, microphone, blocks. */
  readonly #envSums = new Float64Array(3);
  /** Lags, in envelope steps, the estimator tries (0 when it is off). */
  readonly #maxLag: number;
  /** Envelope steps correlated. */
  readonly #window: number;
  /** Envelope history (mean magnitude per step): far end and microphone, circular, `#maxLag + #window` long. */
  readonly #farEnv: Float64Array;
  readonly #nearEnv: Float64Array;
  #envAt = 0;
  #envCount = 0;
  #sinceEstimate = 0;
  readonly #estimateEvery: number;
  /** The last estimate's lag (-1: none yet), which a second must confirm. */
  #candidate = -1;
  /** The echo's delay last found, in envelope steps from the far end's frame (-1: none). */
  #found = -1;

  constructor(options: EchoCancellerOptions) {
    const { sampleRate, frameSamples } = options;
    // The block: the largest power of two that divides the frame, up to 8 ms (32 samples at 8 kHz, 64 at 16 kHz).
    let block = 1;
    while (frameSamples % (block * 2) === 0 && block * 2 <= sampleRate * 0.008) block *= 2;
    if (block < 8) throw new AudioProcessingError(`echo control needs frames of a multiple of 8 samples, not ${frameSamples}`);
    this.sampleRate = sampleRate;
    this.#block = block;
    this.#size = block * 2;
    this.#partitions = Math.max(1, Math.ceil(((options.tailMs ?? 200) * sampleRate) / 1000 / block));
    this.#fft = new Fft(this.#size);
    this.#step = options.step ?? 0.7;
    const spectra = this.#partitions * this.#size;
    this.#xRe = new Float64Array(spectra);
    this.#xIm = new Float64Array(spectra);
    this.#wRe = new Float64Array(spectra);
    this.#wIm = new Float64Array(spectra);
    this.#power = new Float64Array(block + 1);
    this.#peaks = new Float64Array(this.#partitions);
    this.#prev = new Float64Array(block);
    this.#re = new Float64Array(this.#size);
    this.#im = new Float64Array(this.#size);
    this.#eRe = new Float64Array(this.#size);
    this.#eIm = new Float64Array(this.#size);
    // The microphone stopped taking (hold, a stalled device): past half a second, the oldest go.
    this.#queue = new SampleRing(Math.round(sampleRate / 2) + frameSamples);
    this.#farBlock = new Int16Array(block);
    this.#constrainPerBlock = Math.min(this.#partitions, options.constrainPerBlock ?? 4);
    this.#holdBlocks = Math.max(1, Math.round((sampleRate * 0.03) / block));
    // Regularisation: a far end under about -60 dBFS teaches the filter nothing.
    this.#delta = this.#partitions * this.#size * 30 * 30;
    this.#suppress = options.residualSuppression ?? true;
    this.#floorGain = 10 ** (-(options.suppressionFloorDb ?? 20) / 20);
    const maxDelayMs = options.maxDelayMs ?? 500;
    if (!(maxDelayMs >= 0)) throw new AudioProcessingError(`maxDelayMs is 0 or more, not ${maxDelayMs}`);
    this.#envBlocks = Math.max(1, Math.round((sampleRate * 0.004) / block));
    const step = block * this.#envBlocks;
    this.#maxLag = Math.round((maxDelayMs * sampleRate) / 1000 / step);
    this.#window = Math.round(sampleRate / step);
    this.#estimateEvery = Math.round(sampleRate / 4 / step);
    const history = this.#maxLag > 0 ? this.#maxLag + this.#window : 0;
    this.#farEnv = new Float64Array(history);
    this.#nearEnv = new Float64Array(history);
    this.#history = new Int16Array(this.#maxLag > 0 ? (this.#maxLag * this.#envBlocks + 1) * block : 0);
  }

  /** The bulk delay in front of the filter, in ms (0 until the estimator moves it). */
  get delayMs(): number {
    return (this.#delay * this.#block * 1000) / this.sampleRate;
  }

  /** The echo's delay the estimator last found, in ms from the far end's frame, or undefined before it has found one. */
  get echoDelayMs(): number | undefined {
    return this.#found < 0 ? undefined : (this.#found * this.#envBlocks * this.#block * 1000) / this.sampleRate;
  }

  /** The filter's length in ms (the tail it covers). */
  get tailMs(): number {
    return (this.#partitions * this.#block * 1000) / this.sampleRate;
  }

  /** A frame played to the speaker: the reference whose echo is removed from the microphone. */
  farEnd(frame: Int16Array, length: number): void {
    this.#queue.push(frame, length);
  }

  /** Removes the echo from `length` samples of the microphone `frame`, in place. */
  process(frame: Int16Array, length: number): void {
    const block = this.#block;
    for (let at = 0; at + block <= length; at += block) this.#processBlock(frame, at);
  }

  #processBlock(frame: Int16Array, at: number): void {
    const block = this.#block;
    const size = this.#size;
    const bins = block + 1;
    const partitions = this.#partitions;
    const re = this.#re;
    const im = this.#im;
    const prev = this.#prev;
    // The far end's next block (silence when none is queued), after the previous one: one transform.
    const far = this.#farBlock;
    this.#queue.pull(far, block);
    if (this.#maxLag > 0) this.#delayFar(far, frame, at);
    let peak = 0;
    for (let i = 0; i < block; i++) {
      const x = far[i]!;
      re[i] = prev[i]!;
      re[block + i] = x;
      prev[i] = x;
      const magnitude = x < 0 ? -x : x;
      if (magnitude > peak) peak = magnitude;
      im[i] = 0;
      im[block + i] = 0;
    }
    this.#fft.transform(re, im, false);
    this.#head = (this.#head + 1) % partitions;
    const head = this.#head;
    const xRe = this.#xRe;
    const xIm = this.#xIm;
    xRe.set(re, head * size);
    xIm.set(im, head * size);
    this.#peaks[head] = peak;
    // The echo estimate: each partition's weights times the far-end block that many blocks ago.
    const wRe = this.#wRe;
    const wIm = this.#wIm;
    const power = this.#power;
    power.fill(0);
    re.fill(0);
    im.fill(0);
    for (let p = 0; p < partitions; p++) {
      const x = ((head - p + partitions) % partitions) * size;
      const w = p * size;
      for (let k = 0; k < bins; k++) {
        const ar = xRe[x + k]!;
        const ai = xIm[x + k]!;
        const br = wRe[w + k]!;
        const bi = wIm[w + k]!;
        re[k] = re[k]! + ar * br - ai * bi;
        im[k] = im[k]! + ar * bi + ai * br;
        power[k] = power[k]! + ar * ar + ai * ai;
      }
    }
    mirror(re, im, block);
    this.#fft.transform(re, im, true);
    // The error (the microphone less the estimate) is the output, and what the filter learns from.
    const eRe = this.#eRe;
    const eIm = this.#eIm;
    let nearPeak = 0;
    let echoPower = 0;
    let errorPower = 0;
    for (let i = 0; i < block; i++) {
      const d = frame[at + i]!;
      const magnitude = d < 0 ? -d : d;
      if (magnitude > nearPeak) nearPeak = magnitude;
      const y = re[block + i]!;
      const e = d - y;
      echoPower += y * y;
      errorPower += e * e;
      frame[at + i] = e > 32767 ? 32767 : e < -32768 ? -32768 : Math.round(e);
      eRe[i] = 0;
      eIm[i] = 0;
      eRe[block + i] = e;
      eIm[block + i] = 0;
    }
    let farPeak = 0;
    const peaks = this.#peaks;
    for (let p = 0; p < partitions; p++) if (peaks[p]! > farPeak) farPeak = peaks[p]!;
    const nearTalks = nearPeak > farPeak * GEIGEL;
    if (this.#suppress) {
      this.#residual[2] = echoPower;
      this.#residual[3] = errorPower;
      this.#suppressResidual(frame, at, farPeak > 100, nearTalks);
    }
    if (nearTalks) this.#hold = this.#holdBlocks;
    if (this.#hold > 0) {
      this.#hold--;
      return;
    }
    this.#fft.transform(eRe, eIm, false);
    const step = this.#step;
    const delta = this.#delta;
    for (let k = 0; k < bins; k++) power[k] = step / (power[k]! + delta);
    for (let p = 0; p < partitions; p++) {
      const x = ((head - p + partitions) % partitions) * size;
      const w = p * size;
      for (let k = 0; k < bins; k++) {
        const ar = xRe[x + k]!;
        const ai = -xIm[x + k]!;
        const er = eRe[k]!;
        const ei = eIm[k]!;
        const mu = power[k]!;
        wRe[w + k] = wRe[w + k]! + mu * (ar * er - ai * ei);
        wIm[w + k] = wIm[w + k]! + mu * (ar * ei + ai * er);
      }
    }
    // Partitions back to a linear convolution (their impulse responses' second halves zero), a few a block in turn.
    for (let n = 0; n < this.#constrainPerBlock; n++) this.#constrainPartition();
  }

  /**
   * The bulk delay: notes the block's envelopes (the far end as it left the queue, the microphone
   * before the filter), estimates now and then, and replaces `far` with the far end `#delay`
   * blocks ago.
   */
  #delayFar(far: Int16Array, frame: Int16Array, at: number): void {
    const block = this.#block;
    let farSum = 0;
    let nearSum = 0;
    for (let i = 0; i < block; i++) {
      const x = far[i]!;
      const d = frame[at + i]!;
      farSum += x < 0 ? -x : x;
      nearSum += d < 0 ? -d : d;
    }
    const sums = this.#envSums;
    sums[0] = sums[0]! + farSum;
    sums[1] = sums[1]! + nearSum;
    sums[2] = sums[2]! + 1;
    if (sums[2] >= this.#envBlocks) {
      const length = this.#farEnv.length;
      const samples = block * this.#envBlocks;
      this.#farEnv[this.#envAt] = sums[0]! / samples;
      this.#nearEnv[this.#envAt] = sums[1]! / samples;
      sums.fill(0);
      this.#envAt = (this.#envAt + 1) % length;
      if (this.#envCount < length) this.#envCount++;
      if (++this.#sinceEstimate >= this.#estimateEvery && this.#envCount === length) {
        this.#sinceEstimate = 0;
        this.#estimate();
      }
    }
    const history = this.#history;
    const length = history.length;
    history.set(far, this.#historyAt);
    if (this.#delay > 0) {
      let from = this.#historyAt - this.#delay * block;
      if (from < 0) from += length;
      for (let i = 0; i < block; i++) far[i] = history[from + i]!;
    }
    this.#historyAt = (this.#historyAt + block) % length;
  }

  /**
   * Correlates the last second of the microphone's envelope with the far end's at each lag; a lag
   * found twice in a row that the filter does not reach well moves the bulk delay.
   */
  #estimate(): void {
    const farEnv = this.#farEnv;
    const nearEnv = this.#nearEnv;
    const length = farEnv.length;
    const window = this.#window;
    // The newest step is at envAt - 1; the window is the last `window` steps of the microphone.
    const newest = this.#envAt - 1 + length;
    let nearMean = 0;
    for (let t = 0; t < window; t++) nearMean += nearEnv[(newest - t) % length]!;
    nearMean /= window;
    let nearVar = 0;
    for (let t = 0; t < window; t++) {
      const v = nearEnv[(newest - t) % length]! - nearMean;
      nearVar += v * v;
    }
    // A silent or steady microphone says nothing of the echo.
    if (nearVar <= window * 4) {
      this.#candidate = -1;
      return;
    }
    let bestLag = -1;
    let best = 0;
    for (let lag = 0; lag <= this.#maxLag; lag++) {
      let farMean = 0;
      for (let t = 0; t < window; t++) farMean += farEnv[(newest - t - lag) % length]!;
      farMean /= window;
      let dot = 0;
      let farVar = 0;
      for (let t = 0; t < window; t++) {
        const f = farEnv[(newest - t - lag) % length]! - farMean;
        dot += (nearEnv[(newest - t) % length]! - nearMean) * f;
        farVar += f * f;
      }
      if (farVar <= window * 4) continue;
      const correlation = dot / Math.sqrt(nearVar * farVar);
      if (correlation > best) {
        best = correlation;
        bestLag = lag;
      }
    }
    // Only a clear likeness (an echo path, not a near end talking alone) counts, found twice.
    if (best < 0.5) {
      this.#candidate = -1;
      return;
    }
    const confirmed = this.#candidate >= 0 && Math.abs(bestLag - this.#candidate) <= 1;
    this.#candidate = bestLag;
    if (!confirmed) return;
    this.#found = bestLag;
    const lag = bestLag * this.#envBlocks;
    const relative = lag - this.#delay;
    if (relative >= 0 && relative <= (this.#partitions * 3) / 4) return;
    this.#setDelay(Math.min(this.#maxLag * this.#envBlocks, Math.max(0, lag - Math.floor(this.#partitions / 4))));
  }

  /** Moves the bulk delay (the reference is taken that many blocks back in the history from this block on); the filter learns again. */
  #setDelay(delay: number): void {
    if (delay === this.#delay) return;
    this.#delay = delay;
    this.#wRe.fill(0);
    this.#wIm.fill(0);
    this.#xRe.fill(0);
    this.#xIm.fill(0);
    this.#peaks.fill(0);
    this.#residual[0] = 1;
  }

  /**
   * Turns the block down by what the residual is predicted to be of it. The far end counts as
   * talking above -50 dBFS peaks; the leak is learnt only then, and not while the near end talks
   * (nor in the hold after it).
   */
  #suppressResidual(frame: Int16Array, at: number, farTalks: boolean, nearTalks: boolean): void {
    const block = this.#block;
    const state = this.#residual;
    const echoPower = state[2]!;
    const errorPower = state[3]!;
    let target = 1;
    if (farTalks && echoPower > 0) {
      if (!nearTalks && this.#hold === 0) {
        const ratio = errorPower / echoPower;
        state[0] = state[0]! + 0.1 * ((ratio < 1 ? ratio : 1) - state[0]!);
      }
      const residual = 2 * state[0]! * echoPower;
      target = errorPower > residual ? 1 - residual / errorPower : 0;
      if (target < this.#floorGain) target = this.#floorGain;
    }
    const from = state[1]!;
    state[1] = target;
    if (from === 1 && target === 1) return;
    for (let i = 0; i < block; i++) {
      const g = from + ((target - from) * (i + 1)) / block;
      frame[at + i] = Math.round(frame[at + i]! * g);
    }
  }

  #constrainPartition(): void {
    const block = this.#block;
    const size = this.#size;
    const re = this.#re;
    const im = this.#im;
    const wRe = this.#wRe;
    const wIm = this.#wIm;
    const c = this.#constrain;
    this.#constrain = (c + 1) % this.#partitions;
    const w = c * size;
    for (let k = 0; k < size; k++) {
      re[k] = wRe[w + k]!;
      im[k] = wIm[w + k]!;
    }
    mirror(re, im, block);
    this.#fft.transform(re, im, true);
    for (let i = block; i < size; i++) re[i] = 0;
    for (let i = 0; i < size; i++) im[i] = 0;
    this.#fft.transform(re, im, false);
    for (let k = 0; k <= block; k++) {
      wRe[w + k] = re[k]!;
      wIm[w + k] = im[k]!;
    }
  }
}

/** Fills the upper half of a real signal's spectrum from the lower (conjugate symmetry). */
function mirror(re: Float64Array, im: Float64Array, half: number): void {
  const size = half * 2;
  im[0] = 0;
  im[half] = 0;
  for (let k = 1; k < half; k++) {
    re[size - k] = re[k]!;
    im[size - k] = -im[k]!;
  }
}
