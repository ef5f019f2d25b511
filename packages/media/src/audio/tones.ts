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

  /**
   * Fills `out` with the next `length` samples. Each tone is a recursive oscillator
   * (y[n] = 2 cos(w) y[n-1] - y[n-2]) seeded from the exact phase at the start of every call, so
   * that it costs two multiplications a sample and never drifts.
   */
  fill(out: Int16Array, length: number = out.length): void {
    out.fill(0, 0, length);
    const amplitude = this.#amplitude;
    for (let t = 0; t < this.#increments.length; t++) {
      const w = this.#increments[t]!;
      const phase = this.#phases[t]!;
      const k = 2 * Math.cos(w);
      let previous = Math.sin(phase - w) * amplitude;
      let current = Math.sin(phase) * amplitude;
      for (let i = 0; i < length; i++) {
        const sample = out[i]! + current;
        out[i] = sample > 32767 ? 32767 : sample < -32768 ? -32768 : Math.round(sample);
        const next = k * current - previous;
        previous = current;
        current = next;
      }
      this.#phases[t] = (phase + w * length) % (2 * Math.PI);
    }
  }
}
