/**
 * Packet loss concealment on decoded PCM by pitch-synchronous waveform repetition (in the manner
 * of ITU-T G.711 Appendix I): a lost frame is filled by repeating the last pitch period of the
 * signal, faded in from the last real samples; after 10 ms of loss the repeated signal fades out by
 * a fifth every 10 ms (silent after 60 ms); the first real frame after a loss is cross-faded in.
 * All buffers are allocated once; `good` and `conceal` allocate nothing.
 *
 * @public
 */
export class Concealer {
  readonly #sampleRate: number;
  readonly #history: Int16Array;
  readonly #minPitch: number;
  readonly #maxPitch: number;
  readonly #overlap: number;
  readonly #fadeIn: number;
  readonly #pitchBuffer: Float32Array;
  #historyLength = 0;
  #pitch = 0;
  #phase = 0;
  #concealedSamples = 0;
  #concealing = false;

  constructor(sampleRate: number) {
    this.#sampleRate = sampleRate;
    this.#minPitch = Math.round(sampleRate * 0.0025);
    this.#maxPitch = Math.round(sampleRate * 0.015);
    this.#overlap = Math.max(4, Math.round(this.#maxPitch / 4));
    this.#fadeIn = Math.round(sampleRate * 0.004);
    // The pitch search reads two longest periods back from the last sample, and no further.
    this.#history = new Int16Array(this.#maxPitch * 2);
    this.#pitchBuffer = new Float32Array(this.#maxPitch);
  }

  /** Samples concealed since the last real frame. */
  get concealedSamples(): number {
    return this.#concealedSamples;
  }

  /**
   * Records a real frame. After a loss, its first samples are cross-faded from the concealment in
   * place, so that the join is smooth.
   */
  good(frame: Int16Array, length: number = frame.length): void {
    if (this.#concealing) {
      const fade = Math.min(this.#fadeIn, length);
      const gain = this.#gain(this.#concealedSamples);
      // Stryker disable next-line EqualityOperator: one more sample would get the weight 1, the real sample unchanged.
      for (let i = 0; i < fade; i++) {
        const w = (i + 1) / (fade + 1);
        const synthetic = this.#pitchBuffer[(this.#phase + i) % this.#pitch]! * gain;
        // A weighted mean of two 16-bit values (the repeated period never exceeds the history's
        // range and the gain is at most 1) stays in 16-bit range: rounding is all it needs.
        frame[i] = Math.round(frame[i]! * w + synthetic * (1 - w));
      }
      this.#concealing = false;
    }
    this.#concealedSamples = 0;
    this.#append(frame, length);
  }

  /** Writes `length` samples standing for a lost frame into `out`. */
  conceal(out: Int16Array, length: number = out.length): void {
    if (!this.#concealing) this.#start();
    for (let i = 0; i < length; i++) {
      out[i] = Math.round(this.#pitchBuffer[this.#phase]! * this.#gain(this.#concealedSamples + i));
      this.#phase = (this.#phase + 1) % this.#pitch;
    }
    this.#concealedSamples += length;
    // Keep the history continuous, so that a second loss repeats the concealed signal, not old speech.
    this.#append(out, length);
  }

  /** Gain of the repeated signal `elapsed` samples into the loss: 1 for 10 ms, then a fifth less every 10 ms. */
  #gain(elapsed: number): number {
    return Math.max(0, 1 - 0.2 * Math.floor(elapsed / (this.#sampleRate / 100)));
  }

  /** Finds the pitch of the recent history and builds one period to repeat, faded in from the last samples. */
  #start(): void {
    this.#concealing = true;
    // The repetition continues where the real signal stopped: at the period's start.
    this.#phase = 0;
    const history = this.#history;
    const n = this.#historyLength;
    if (n < this.#maxPitch * 2) {
      // Too little history to find a pitch in: repeat a period of one silent sample.
      this.#pitch = 1;
      this.#pitchBuffer[0] = 0;
      return;
    }
    // Normalised autocorrelation of the last max-pitch samples against lags in [2.5 ms, 15 ms].
    const window = this.#maxPitch;
    const end = n;
    let bestLag = this.#minPitch;
    let best = -Infinity;
    for (let lag = this.#minPitch; lag <= this.#maxPitch; lag++) {
      let cross = 0;
      let energy = 0;
      for (let i = end - window; i < end; i++) {
        const past = history[i - lag]!;
        cross += history[i]! * past;
        energy += past * past;
      }
      // A lag whose past is silent scores 0 / 0 = NaN, which never beats a real score.
      const score = cross / Math.sqrt(energy);
      // Stryker disable next-line EqualityOperator: scores tie only for a signal periodic at both lags, which either lag repeats alike.
      if (score > best) {
        best = score;
        bestLag = lag;
      }
    }
    this.#pitch = bestLag;
    // One period ending at the last sample; its start is blended with the samples one period
    // earlier so that the repetition does not click at the seam.
    const period = this.#pitchBuffer;
    // Stryker disable next-line EqualityOperator: one more sample lands past the period's end, where nothing reads it.
    for (let i = 0; i < bestLag; i++) period[i] = history[end - bestLag + i]!;
    const overlap = Math.min(this.#overlap, bestLag);
    // Stryker disable next-line EqualityOperator: one more sample would get the weight 1, the period's own sample unchanged.
    for (let i = 0; i < overlap; i++) {
      const w = (i + 1) / (overlap + 1);
      period[i] = period[i]! * w + history[end - 2 * bestLag + i]! * (1 - w);
    }
  }

  #append(samples: Int16Array, length: number): void {
    const history = this.#history;
    const capacity = history.length;
    // The newest samples that fit, after as much of the old history as leaves room for them.
    const take = Math.min(length, capacity);
    const keep = Math.min(this.#historyLength, capacity - take);
    history.copyWithin(0, this.#historyLength - keep, this.#historyLength);
    const from = length - take;
    // Stryker disable next-line EqualityOperator: one more sample lands past the history's end, where nothing reads it.
    for (let i = 0; i < take; i++) history[keep + i] = samples[from + i]!;
    this.#historyLength = keep + take;
  }
}
