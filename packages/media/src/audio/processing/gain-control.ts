/** Options of {@link GainControl}. @public */
export interface GainControlOptions {
  sampleRate: number;
  /** The speech level aimed at, in dBFS (RMS of the active speech, 0 dBFS a full-scale square wave). @defaultValue -18 */
  targetDbfs?: number;
  /** The most gain it adds, in dB. @defaultValue 30 */
  maxGainDb?: number;
  /** The most it takes off, in dB. @defaultValue 12 */
  maxAttenuationDb?: number;
  /** Peaks are held under this level, in dBFS. @defaultValue -1 */
  limitDbfs?: number;
}

const FLOOR = 1e-10;

/**
 * Automatic gain control (`agc_mode` on the microphone, `rx_agc_mode` on received audio), written
 * here: no maintained JavaScript or WebAssembly AGC is on the registry, and this one is small.
 *
 * The level of active speech is followed in dB: 20 ms frames more than 10 dB over the tracked
 * noise floor (and over -60 dBFS) are speech, and move the estimate toward their level (faster up
 * than down, so that a loud start is caught and pauses do not raise the gain). The gain brings the
 * estimate to the target, within its bounds, and moves smoothly along each frame (no zipper
 * noise). Noise alone never moves the gain, so pauses are not pumped up. After the gain, a peak
 * limiter with instant attack and a 50 ms release holds every sample under `limitDbfs`.
 * Allocates nothing per frame.
 *
 * @public
 */
export class GainControl {
  readonly sampleRate: number;
  readonly #target: number;
  readonly #maxGain: number;
  readonly #maxAttenuation: number;
  readonly #limit: number;
  readonly #release: number;
  /** Active speech level (dBFS) and noise floor (frame power), as tracked. */
  #speechDb: number | undefined;
  #noisePower = 1e-7;
  /** Linear gain at the end of the last frame. */
  #gain = 1;
  /** The limiter's peak envelope. */
  #envelope = 0;

  constructor(options: GainControlOptions) {
    this.sampleRate = options.sampleRate;
    this.#target = options.targetDbfs ?? -18;
    this.#maxGain = options.maxGainDb ?? 30;
    this.#maxAttenuation = options.maxAttenuationDb ?? 12;
    this.#limit = 32767 * 10 ** ((options.limitDbfs ?? -1) / 20);
    this.#release = Math.exp(-1 / (0.05 * options.sampleRate));
  }

  /** The gain now, in dB. */
  get gainDb(): number {
    return 20 * Math.log10(this.#gain);
  }

  /** Adjusts `length` samples of `frame` in place. */
  process(frame: Int16Array, length: number): void {
    if (length <= 0) return;
    let sum = 0;
    for (let i = 0; i < length; i++) {
      const x = frame[i]! / 32767;
      sum += x * x;
    }
    const power = sum / length + FLOOR;
    // The noise floor follows quiet frames quickly and loud ones slowly (minimum tracking).
    this.#noisePower = power < this.#noisePower ? this.#noisePower * 0.7 + power * 0.3 : this.#noisePower * 1.002;
    const frameDb = 10 * Math.log10(power);
    if (power > this.#noisePower * 10 && frameDb > -60) {
      const current = this.#speechDb;
      if (current === undefined) this.#speechDb = frameDb;
      else this.#speechDb = current + (frameDb - current) * (frameDb > current ? 0.15 : 0.03);
    }
    let gain = this.#gain;
    if (this.#speechDb !== undefined) {
      const wantedDb = Math.min(this.#maxGain, Math.max(-this.#maxAttenuation, this.#target - this.#speechDb));
      gain = 10 ** (wantedDb / 20);
    }
    const from = this.#gain;
    const step = (gain - from) / length;
    const limit = this.#limit;
    const release = this.#release;
    let envelope = this.#envelope;
    for (let i = 0; i < length; i++) {
      let y = frame[i]! * (from + step * (i + 1));
      const magnitude = y < 0 ? -y : y;
      envelope *= release;
      if (magnitude > envelope) envelope = magnitude;
      if (envelope > limit) y *= limit / envelope;
      frame[i] = y > 32767 ? 32767 : y < -32768 ? -32768 : Math.round(y);
    }
    this.#envelope = envelope;
    this.#gain = gain;
  }
}
