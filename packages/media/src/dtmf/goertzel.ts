import { digitAt, DTMF_COLUMNS, DTMF_ROWS, type DtmfDigit } from './dtmf-digits';

/**
 * Detects DTMF digits in decoded audio with the Goertzel algorithm: the eight DTMF frequencies are
 * measured over blocks of about 25 ms; a digit needs one row and one column tone clearly above the
 * others and the block energy, a twist within 8 dB (4 dB reverse), and two blocks in a row; it
 * ends after two blocks without it. One event is reported per key press, when it starts.
 * Nothing is allocated per sample.
 *
 * @public
 */
export class DtmfDetector {
  readonly #blockSize: number;
  readonly #coefficients: Float64Array;
  readonly #s1 = new Float64Array(8);
  readonly #s2 = new Float64Array(8);
  readonly #powers = new Float64Array(8);
  readonly #onDigit: (digit: DtmfDigit) => void;
  #count = 0;
  #energy = 0;
  #candidate: DtmfDigit | undefined;
  #candidateBlocks = 0;
  #current: DtmfDigit | undefined;
  #silentBlocks = 0;

  constructor(sampleRate: number, onDigit: (digit: DtmfDigit) => void) {
    this.#onDigit = onDigit;
    this.#blockSize = Math.round(sampleRate * 0.0256);
    const frequencies = [...DTMF_ROWS, ...DTMF_COLUMNS];
    this.#coefficients = new Float64Array(frequencies.map((f) => 2 * Math.cos((2 * Math.PI * Math.round((this.#blockSize * f) / sampleRate)) / this.#blockSize)));
  }

  /** Feeds decoded samples. */
  process(samples: Int16Array, length: number = samples.length): void {
    const s1 = this.#s1;
    const s2 = this.#s2;
    const coefficients = this.#coefficients;
    for (let i = 0; i < length; i++) {
      const x = samples[i]! / 32768;
      this.#energy += x * x;
      for (let k = 0; k < 8; k++) {
        const s0 = x + coefficients[k]! * s1[k]! - s2[k]!;
        s2[k] = s1[k]!;
        s1[k] = s0;
      }
      if (++this.#count === this.#blockSize) this.#endBlock();
    }
  }

  #endBlock(): void {
    const powers = this.#powers;
    for (let k = 0; k < 8; k++) {
      const a = this.#s1[k]!;
      const b = this.#s2[k]!;
      powers[k] = a * a + b * b - this.#coefficients[k]! * a * b;
      this.#s1[k] = 0;
      this.#s2[k] = 0;
    }
    const energy = this.#energy;
    const n = this.#blockSize;
    this.#count = 0;
    this.#energy = 0;
    const digit = this.#classify(energy, n);
    if (digit !== undefined && digit === this.#candidate) {
      this.#candidateBlocks++;
    } else {
      this.#candidate = digit;
      this.#candidateBlocks = digit === undefined ? 0 : 1;
    }
    if (digit === undefined) {
      if (this.#current !== undefined && ++this.#silentBlocks >= 2) this.#current = undefined;
      return;
    }
    this.#silentBlocks = 0;
    if (this.#candidateBlocks >= 2 && this.#current !== digit) {
      this.#current = digit;
      this.#onDigit(digit);
    }
  }

  #classify(energy: number, n: number): DtmfDigit | undefined {
    const powers = this.#powers;
    let row = 0;
    for (let k = 1; k < 4; k++) if (powers[k]! > powers[row]!) row = k;
    let column = 4;
    for (let k = 5; k < 8; k++) if (powers[k]! > powers[column]!) column = k;
    const rowPower = powers[row]!;
    const columnPower = powers[column]!;
    if (energy < n * 1e-5) return undefined; // quieter than about -50 dBFS
    // The Goertzel power of a sine of amplitude A over n samples is about (A n / 2)^2, while its
    // energy is n A^2 / 2: power * 2 / n is the tone's energy. The two tones must carry most of
    // the block's energy (speech and music spread theirs).
    if ((rowPower + columnPower) * (2 / n) < 0.6 * energy) return undefined;
    // Twist: normal (column weaker) up to 8 dB, reverse up to 4 dB.
    if (columnPower < rowPower / 6.3 || rowPower < columnPower / 2.5) return undefined;
    // The other tones of each group must be well below.
    for (let k = 0; k < 4; k++) if (k !== row && powers[k]! > rowPower / 8) return undefined;
    for (let k = 4; k < 8; k++) if (k !== column && powers[k]! > columnPower / 8) return undefined;
    return digitAt(row, column - 4);
  }
}
