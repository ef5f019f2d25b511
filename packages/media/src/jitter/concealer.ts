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
    this.#history = new Int16Array(this.#maxPitch * 3 + this.#overlap);
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
      const gain = this.#gain();
      for (let i = 0; i < fade; i++) {
        const w = (i + 1) / (fade + 1);
        const synthetic = this.#pitchBuffer[(this.#phase + i) % this.#pitch]! * gain;
        frame[i] = clamp(frame[i]! * w + synthetic * (1 - w));
      }
      this.#concealing = false;
    }
    this.#concealedSamples = 0;
    this.#append(frame, length);
  }

  /** Writes `length` samples standing for a lost frame into `out`. */
  conceal(out: Int16Array, length: number = out.length): void {
    if (!this.#concealing) this.#start();
    if (this.#pitch === 0) {
      out.fill(0, 0, length);
      this.#concealedSamples += length;
      return;
    }
    const tenMs = this.#sampleRate / 100;
    for (let i = 0; i < length; i++) {
      const elapsed = this.#concealedSamples + i;
      const gain = elapsed < tenMs ? 1 : Math.max(0, 1 - 0.2 * Math.floor(elapsed / tenMs));
      out[i] = clamp(this.#pitchBuffer[this.#phase]! * gain);
      this.#phase = (this.#phase + 1) % this.#pitch;
    }
    this.#concealedSamples += length;
    // Keep the history continuous, so that a second loss repeats the concealed signal, not old speech.
    this.#append(out, length);
  }

  #gain(): number {
    const tenMs = this.#sampleRate / 100;
    return this.#concealedSamples < tenMs ? 1 : Math.max(0, 1 - 0.2 * Math.floor(this.#concealedSamples / tenMs));
  }

  /** Finds the pitch of the recent history and builds one period to repeat, faded in from the last samples. */
  #start(): void {
    this.#concealing = true;
    this.#phase = 0;
    const history = this.#history;
    const n = this.#historyLength;
    if (n < this.#maxPitch * 2) {
      this.#pitch = 0;
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
      const score = energy > 0 ? cross / Math.sqrt(energy) : 0;
      if (score > best) {
        best = score;
        bestLag = lag;
      }
    }
    this.#pitch = bestLag;
    // One period ending at the last sample; its start is blended with the samples one period
    // earlier so that the repetition does not click at the seam.
    const period = this.#pitchBuffer;
    for (let i = 0; i < bestLag; i++) period[i] = history[end - bestLag + i]!;
    const overlap = Math.min(this.#overlap, bestLag);
    for (let i = 0; i < overlap; i++) {
      const w = (i + 1) / (overlap + 1);
      period[i] = period[i]! * w + history[end - 2 * bestLag + i]! * (1 - w);
    }
    // Continue where the real signal stopped.
    this.#phase = 0;
  }

  #append(samples: Int16Array, length: number): void {
    const history = this.#history;
    const capacity = history.length;
    if (length >= capacity) {
      history.set(samples.subarray(length - capacity, length));
      this.#historyLength = capacity;
      return;
    }
    const keep = Math.min(this.#historyLength, capacity - length);
    history.copyWithin(0, this.#historyLength - keep, this.#historyLength);
    for (let i = 0; i < length; i++) history[keep + i] = samples[i]!;
    this.#historyLength = keep + length;
  }
}

function clamp(value: number): number {
  return value > 32767 ? 32767 : value < -32768 ? -32768 : Math.round(value);
}
