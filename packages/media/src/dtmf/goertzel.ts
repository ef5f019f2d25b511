import { digitAt, DTMF_COLUMNS, DTMF_ROWS, type DtmfDigit } from './dtmf-digits';

/** Half the gap between the deviation a tone may have (1.5 %) and the one it must not (3.5 %), ITU-T Q.24. */
const FREQUENCY_TOLERANCE = 0.025;

/**
 * Detects DTMF digits in decoded audio with the Goertzel algorithm: the eight DTMF frequencies are
 * measured over blocks of about 25 ms, each split in quarters. A digit needs one row and one
 * column tone clearly above the others of their group and carrying most of the block's energy,
 * each within 2.5 % of its nominal frequency (ITU-T Q.24: 1.5 % is detected, 3.5 % is not; the
 * frequency is read from the phase advance between the block's halves), a twist within 8 dB
 * (4 dB reverse), a level above about -50 dBFS, and two blocks in a row; it ends after two blocks
 * without it. One event is reported per key press, when it starts. Nothing is allocated per sample.
 *
 * @public
 */
export class DtmfDetector {
  readonly #blockSize: number;
  /** Where each quarter of a block ends (sample counts from the block's start). */
  readonly #quarterEnds: Int32Array;
  readonly #coefficients: Float64Array;
  readonly #cos: Float64Array;
  readonly #sin: Float64Array;
  /** cos and sin of each frequency times each quarter's end, by quarter then frequency. */
  readonly #endCos: Float64Array;
  readonly #endSin: Float64Array;
  /** The cosine of the largest phase advance over a quarter block a tone in tolerance shows (at most 94 degrees, at 1633 Hz). */
  readonly #cosLimit: Float64Array;
  readonly #s1 = new Float64Array(8);
  readonly #s2 = new Float64Array(8);
  /** Each quarter's DFT at each frequency (phases from the block's start), by quarter then frequency. */
  readonly #re = new Float64Array(32);
  readonly #im = new Float64Array(32);
  readonly #powers = new Float64Array(8);
  readonly #onDigit: (digit: DtmfDigit) => void;
  #count = 0;
  #quarter = 0;
  #energy = 0;
  #candidate: DtmfDigit | undefined;
  #candidateBlocks = 0;
  #current: DtmfDigit | undefined;
  #silentBlocks = 0;

  constructor(sampleRate: number, onDigit: (digit: DtmfDigit) => void) {
    this.#onDigit = onDigit;
    const n = Math.round(sampleRate * 0.0256);
    this.#blockSize = n;
    this.#quarterEnds = Int32Array.from([1, 2, 3, 4], (quarter) => Math.round((n * quarter) / 4));
    const omegas = [...DTMF_ROWS, ...DTMF_COLUMNS].map((f) => (2 * Math.PI * f) / sampleRate);
    this.#coefficients = Float64Array.from(omegas, (omega) => 2 * Math.cos(omega));
    this.#cos = Float64Array.from(omegas, (omega) => Math.cos(omega));
    this.#sin = Float64Array.from(omegas, (omega) => Math.sin(omega));
    this.#endCos = Float64Array.from({ length: 32 }, (_, j) => Math.cos(omegas[j % 8]! * this.#quarterEnds[j >> 3]!));
    this.#endSin = Float64Array.from({ length: 32 }, (_, j) => Math.sin(omegas[j % 8]! * this.#quarterEnds[j >> 3]!));
    this.#cosLimit = Float64Array.from(omegas, (omega) => Math.cos((omega * FREQUENCY_TOLERANCE * n) / 4));
  }

  /**
   * Feeds decoded samples. The eight filters' states live in locals for a quarter block at a time
   * (no typed-array traffic per sample: this runs on every frame every call receives).
   */
  process(samples: Int16Array, length: number = samples.length): void {
    const s1 = this.#s1;
    const s2 = this.#s2;
    const c = this.#coefficients;
    const c0 = c[0]!, c1 = c[1]!, c2 = c[2]!, c3 = c[3]!, c4 = c[4]!, c5 = c[5]!, c6 = c[6]!, c7 = c[7]!;
    let i = 0;
    while (i < length) {
      const end = Math.min(length, i + this.#quarterEnds[this.#quarter]! - this.#count);
      let a0 = s1[0]!, a1 = s1[1]!, a2 = s1[2]!, a3 = s1[3]!, a4 = s1[4]!, a5 = s1[5]!, a6 = s1[6]!, a7 = s1[7]!;
      let b0 = s2[0]!, b1 = s2[1]!, b2 = s2[2]!, b3 = s2[3]!, b4 = s2[4]!, b5 = s2[5]!, b6 = s2[6]!, b7 = s2[7]!;
      let energy = this.#energy;
      this.#count += end - i;
      for (; i < end; i++) {
        const x = samples[i]! / 32768;
        energy += x * x;
        let t = x + c0 * a0 - b0;
        b0 = a0;
        a0 = t;
        t = x + c1 * a1 - b1;
        b1 = a1;
        a1 = t;
        t = x + c2 * a2 - b2;
        b2 = a2;
        a2 = t;
        t = x + c3 * a3 - b3;
        b3 = a3;
        a3 = t;
        t = x + c4 * a4 - b4;
        b4 = a4;
        a4 = t;
        t = x + c5 * a5 - b5;
        b5 = a5;
        a5 = t;
        t = x + c6 * a6 - b6;
        b6 = a6;
        a6 = t;
        t = x + c7 * a7 - b7;
        b7 = a7;
        a7 = t;
      }
      this.#energy = energy;
      s1[0] = a0; s1[1] = a1; s1[2] = a2; s1[3] = a3; s1[4] = a4; s1[5] = a5; s1[6] = a6; s1[7] = a7;
      s2[0] = b0; s2[1] = b1; s2[2] = b2; s2[3] = b3; s2[4] = b4; s2[5] = b5; s2[6] = b6; s2[7] = b7;
      if (this.#count === this.#quarterEnds[this.#quarter]) this.#endQuarter();
    }
  }

  /**
   * Stores the quarter's DFT at each frequency. After the Goertzel recursion over samples up to
   * `end`, the sum of x[m] e^(-i w m) is e^(-i w end) (e^(i w) s1 - s2), m counted from the block's
   * start since the recursion restarts with each quarter.
   */
  #endQuarter(): void {
    const q = this.#quarter * 8;
    // Stryker disable next-line EqualityOperator: k <= 8 only touches index 8 of 8-element typed arrays: a write there is dropped, a read gives undefined (NaN, every comparison false)
    for (let k = 0; k < 8; k++) {
      const s1 = this.#s1[k]!;
      const re = this.#cos[k]! * s1 - this.#s2[k]!;
      const im = this.#sin[k]! * s1;
      const cos = this.#endCos[q + k]!;
      const sin = this.#endSin[q + k]!;
      this.#re[q + k] = cos * re + sin * im;
      this.#im[q + k] = cos * im - sin * re;
      this.#s1[k] = 0;
      this.#s2[k] = 0;
    }
    if (++this.#quarter === 4) {
      this.#quarter = 0;
      this.#endBlock();
    }
  }

  #endBlock(): void {
    const powers = this.#powers;
    const re = this.#re;
    const im = this.#im;
    // Stryker disable next-line EqualityOperator: k <= 8 only touches index 8 of 8-element typed arrays: a write there is dropped, a read gives undefined (NaN, every comparison false)
    for (let k = 0; k < 8; k++) {
      const sumRe = re[k]! + re[8 + k]! + re[16 + k]! + re[24 + k]!;
      const sumIm = im[k]! + im[8 + k]! + im[16 + k]! + im[24 + k]!;
      powers[k] = sumRe * sumRe + sumIm * sumIm;
    }
    const energy = this.#energy;
    const n = this.#blockSize;
    this.#count = 0;
    this.#energy = 0;
    const digit = this.#classify(energy, n);
    if (digit === undefined) {
      this.#candidate = undefined;
      if (++this.#silentBlocks >= 2) this.#current = undefined;
      return;
    }
    this.#silentBlocks = 0;
    this.#candidateBlocks = digit === this.#candidate ? this.#candidateBlocks + 1 : 1;
    this.#candidate = digit;
    if (this.#candidateBlocks >= 2 && this.#current !== digit) {
      this.#current = digit;
      this.#onDigit(digit);
    }
  }

  /**
   * The power of the tone at frequency `k` over the block, or 0 when it is off frequency. The
   * phase advance between the half blocks a quarter apart is the tone's offset from the frequency
   * times a quarter block; the power adds the magnitudes of the two halves, so that a tone in
   * tolerance loses little of it (the whole block's DFT loses up to 5 dB at 1.5 %).
   */
  #tonePower(k: number): number {
    const re = this.#re;
    const im = this.#im;
    const re0 = re[k]!;
    const re1 = re[8 + k]!;
    const re2 = re[16 + k]!;
    const re3 = re[24 + k]!;
    const im0 = im[k]!;
    const im1 = im[8 + k]!;
    const im2 = im[16 + k]!;
    const im3 = im[24 + k]!;
    // The three half blocks: quarters 0-1, 1-2, 2-3.
    const aRe = re0 + re1;
    const aIm = im0 + im1;
    const bRe = re1 + re2;
    const bIm = im1 + im2;
    const cRe = re2 + re3;
    const cIm = im2 + im3;
    // b conj(a) + c conj(b): its angle is the phase advance over a quarter block.
    const advanceRe = bRe * aRe + bIm * aIm + cRe * bRe + cIm * bIm;
    const advanceIm = bIm * aRe - bRe * aIm + cIm * bRe - cRe * bIm;
    // Stryker disable next-line EqualityOperator: <= differs only when the advance is exactly on the limit's cone; both sides are sums of products of measured floats, equal only when the advance is 0, which takes a middle half block whose DFT is exactly 0 (digital silence there: the tones then fill half the block, which the energy check below rejects either way)
    if (advanceRe < Math.sqrt(advanceRe * advanceRe + advanceIm * advanceIm) * this.#cosLimit[k]!) return 0;
    const magnitude = Math.sqrt(aRe * aRe + aIm * aIm) + Math.sqrt(cRe * cRe + cIm * cIm);
    return magnitude * magnitude;
  }

  #classify(energy: number, n: number): DtmfDigit | undefined {
    const powers = this.#powers;
    let row = 0;
    for (let k = 1; k < 4; k++) {
      // Stryker disable next-line EqualityOperator: >= only differs on an exact tie, which the check that the others are 9 dB down rejects either way
      if (powers[k]! > powers[row]!) row = k;
    }
    let column = 4;
    // Stryker disable next-line EqualityOperator: k <= 8 only touches index 8 of 8-element typed arrays: a write there is dropped, a read gives undefined (NaN, every comparison false)
    for (let k = 5; k < 8; k++) {
      // Stryker disable next-line EqualityOperator: >= only differs on an exact tie, which the check that the others are 9 dB down rejects either way
      if (powers[k]! > powers[column]!) column = k;
    }
    // Stryker disable next-line EqualityOperator: the energy is a sum of multiples of 2^-30 and n * 1e-5 is not one for any block size up to 5000 but 3125 (122 kHz): never equal
    if (energy < n * 1e-5) return undefined; // quieter than about -50 dBFS
    const rowPower = this.#tonePower(row);
    const columnPower = this.#tonePower(column);
    // The Goertzel power of a sine of amplitude A over n samples is about (A n / 2)^2, while its
    // energy is n A^2 / 2: power * 2 / n is the tone's energy. The two tones must carry most of
    // the block's energy (speech and music spread theirs; a tone that fills less than about three
    // quarters of the block does not count).
    // Stryker disable next-line EqualityOperator: <= differs only on an exact tie of two measured floats (the tones' power and the block's energy); no audio makes one short of a chance
    if ((rowPower + columnPower) * (2 / n) < 0.75 * energy) return undefined;
    // Twist: normal (column weaker) up to 8 dB, reverse up to 4 dB. A tone off frequency (power 0)
    // fails here.
    // Stryker disable next-line EqualityOperator: <= differs only on an exact tie of the two tones' measured powers with the twist limits (both 0 is rejected by the energy check above)
    if (columnPower < rowPower / 6.3 || rowPower < columnPower / 2.5) return undefined;
    // The other tones of each group must be well below.
    // Stryker disable next-line EqualityOperator: >= differs only on an exact tie of a measured power with an eighth of another (rowPower is not 0 here: the energy check rejects that)
    for (let k = 0; k < 4; k++) if (k !== row && powers[k]! > rowPower / 8) return undefined;
    // Stryker disable next-line EqualityOperator: k <= 8 only touches index 8 of 8-element typed arrays: a write there is dropped, a read gives undefined (NaN, every comparison false)
    for (let k = 4; k < 8; k++) {
      // Stryker disable next-line EqualityOperator: >= differs only on an exact tie of a measured power with an eighth of another (columnPower is not 0 here: the twist check rejects that)
      if (k !== column && powers[k]! > columnPower / 8) return undefined;
    }
    return digitAt(row, column - 4);
  }
}
