/**
 * A generator of one or two summed sine tones, at a level in dBFS, producing consecutive frames
 * (the phase carries on from frame to frame). Allocates nothing per frame.
 *
 * @public
 */
export class ToneGenerator {
  readonly #increments: Float64Array;
  readonly #phases: Float64Array;
  readonly #amplitude: number;

  /**
   * @param sampleRate - output rate
   * @param frequencies - one or more frequencies in Hz
   * @param levelDbfs - level of each tone, in dB relative to full scale @defaultValue -10
   */
  constructor(sampleRate: number, frequencies: readonly number[], levelDbfs = -10) {
    this.#increments = new Float64Array(frequencies.map((f) => (2 * Math.PI * f) / sampleRate));
    this.#phases = new Float64Array(frequencies.length);
    this.#amplitude = 32767 * 10 ** (levelDbfs / 20);
  }

  /** Fills `out` with the next `length` samples. */
  fill(out: Int16Array, length: number = out.length): void {
    const count = this.#increments.length;
    for (let i = 0; i < length; i++) {
      let value = 0;
      for (let t = 0; t < count; t++) {
        value += Math.sin(this.#phases[t]!);
        this.#phases[t] = (this.#phases[t]! + this.#increments[t]!) % (2 * Math.PI);
      }
      const sample = Math.round(value * this.#amplitude);
      out[i] = sample > 32767 ? 32767 : sample < -32768 ? -32768 : sample;
    }
  }
}
