import type { AudioDecoder, AudioEncoder, Codec } from './codec';

// ITU-T G.722 (7 kHz audio coding within 64 kbit/s), mode 1: 64 kbit/s, no auxiliary data.
//
// Each pair of 16 kHz samples is split by a 24-tap quadrature mirror filter (QMF) into one lower
// sub-band sample (0-4 kHz) and one higher sub-band sample (4-8 kHz), both at 8 kHz. The lower
// band is coded by ADPCM on 6 bits, the higher band on 2 bits, and the two codes make one octet:
// higher-band code in the two most significant bits. The decoder rebuilds the same ADPCM state from
// the codes alone, reconstructs both sub-bands and recombines them with the receive QMF.
//
// Each band's ADPCM adapts a scale factor (block 3: LOGSCL, SCALEL / LOGSCH, SCALEH) and a
// pole-zero predictor with two poles and six zeros (block 4). The lower band is an embedded coder:
// its predictor and scale factor are driven by the 4 most significant bits of the 6-bit code only,
// so that the 56 and 48 kbit/s modes (which steal the low bits for data) stay in step; the full 6
// bits only refine the decoder's output.
//
// The arithmetic is the Recommendation's fixed-point arithmetic, on 16-bit values held in JS
// numbers: every product of two such values fits in a 32-bit integer, so `>>` is exact, and `sat`
// below stands for the saturation of the Recommendation's 16-bit registers. Encoding and decoding
// keep all state in numbers and in typed arrays allocated with the encoder or decoder, and allocate
// nothing per call.

// --- Tables of the Recommendation ---------------------------------------------------------------

// QMF coefficients h(0), h(2), ..., h(22) in units of 2^-13. The filter is symmetric,
// h(i) = h(23 - i), so the odd taps h(1), h(3), ..., h(23) are the even ones reversed.
const QMF_EVEN = Int32Array.of(3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11);
const QMF_ODD = QMF_EVEN.slice().reverse();
const QMF_TAPS = QMF_EVEN.length;

// Lower band, 6-bit quantiser: decision levels Q6(1..29) of the magnitude (Q6(0) = 0 is the
// bottom of the first interval), in the units the Recommendation gives; the magnitude is compared
// with (Q6(i) << 3) * DETL >> 15.
const Q6 = Int32Array.of(
  0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458,
  1612, 1765, 1980, 2195, 2557, 2919,
);
const LOW_INTERVALS = 30;

// The 6-bit code of magnitude interval i (1..30), for a positive and for a negative difference.
// Positive intervals count down from 111101; negative ones take 111111 and 111110 for the two
// smallest magnitudes, then count down from 011111. Codes 000000-000011 are never sent.
function lowCode(interval: number, negative: boolean): number {
  if (!negative) return 62 - interval;
  return interval <= 2 ? 64 - interval : 34 - interval;
}
const LOW_CODE_POSITIVE = new Uint8Array(LOW_INTERVALS + 1);
const LOW_CODE_NEGATIVE = new Uint8Array(LOW_INTERVALS + 1);
for (let i = 1; i <= LOW_INTERVALS; i++) {
  LOW_CODE_POSITIVE[i] = lowCode(i, false);
  LOW_CODE_NEGATIVE[i] = lowCode(i, true);
}

// Lower band, 6-bit inverse quantiser (decoder output): output level QQ6 of each magnitude
// interval 1..30. The table by code is built from it with the code assignment above; the unused
// codes 0-3 decode, as in the Recommendation, to the smallest negative level.
const QQ6 = Int32Array.of(
  17, 54, 91, 130, 170, 211, 254, 300, 347, 396, 447, 501, 558, 618, 682, 750, 822, 899, 982, 1072, 1170, 1279, 1399, 1535,
  1689, 1873, 2088, 2376, 2738, 3101,
);
const LOW_LEVEL_6 = new Int32Array(64).fill(-QQ6[0]! << 3);
for (let i = 1; i <= LOW_INTERVALS; i++) {
  LOW_LEVEL_6[lowCode(i, false)] = QQ6[i - 1]! << 3;
  LOW_LEVEL_6[lowCode(i, true)] = -(QQ6[i - 1]! << 3);
}

// Lower band, 4-bit inverse quantiser (predictor and scale adaptation), by the code's top 4 bits:
// output levels QQ4 for the magnitude classes 1..7 (class 0 is level 0). Codes 0001-0111 are the
// negative classes 7 down to 1, 1000-1110 the positive classes 7 down to 1; 0000 (unused) and 1111
// (which gathers the two smallest magnitudes of both signs) give 0.
const QQ4 = Int32Array.of(0, 150, 323, 530, 786, 1121, 1612, 2557);
const LOW_CLASS_4 = Int32Array.of(0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0);
// Log scale factor multipliers WL of each magnitude class.
const WL = Int32Array.of(-60, -30, 58, 172, 334, 538, 1198, 3042);
const LOW_LEVEL_4 = new Int32Array(16);
const LOW_WEIGHT = new Int32Array(16);
for (let code = 0; code < 16; code++) {
  const magnitude = QQ4[LOW_CLASS_4[code]!]! << 3;
  LOW_LEVEL_4[code] = code >= 1 && code <= 7 ? -magnitude : magnitude;
  LOW_WEIGHT[code] = WL[LOW_CLASS_4[code]!]!;
}

// Higher band, 2-bit quantiser: one decision level Q2 = 564; output levels QQ2 = 202 and 926.
// Codes: 00 large negative, 01 small negative, 10 large positive, 11 small positive. Log scale
// factor multipliers WH: -214 for a small magnitude, 798 for a large one.
const Q2 = 564;
const HIGH_LEVEL = Int32Array.of(-926 << 3, -202 << 3, 926 << 3, 202 << 3);
const HIGH_WEIGHT = Int32Array.of(798, -214, 798, -214);

// Table ILB of the scale factor's antilog: 2048 * 2^(i/32), rounded. Computed, it equals the
// Recommendation's table entry for entry.
const ILB = Int32Array.from({ length: 32 }, (_, i) => Math.round(2048 * 2 ** (i / 32)));

// Upper limits of the log scale factors NBL and NBH, and the shifts of SCALEL and SCALEH.
const LOW_LOG_SCALE_MAX = 18432;
const HIGH_LOG_SCALE_MAX = 22528;
const LOW_SCALE_SHIFT = 8;
const HIGH_SCALE_SHIFT = 10;

/** Saturates to a 16-bit two's complement register, as the Recommendation's arithmetic does. */
function sat(value: number): number {
  // Stryker disable next-line EqualityOperator: at the limit itself, clamping gives the same value.
  return value > 32767 ? 32767 : value < -32768 ? -32768 : value;
}

/** Limits a reconstructed sub-band signal to the 15-bit range of the receive QMF's input. */
function limit15(value: number): number {
  // Stryker disable next-line EqualityOperator: at the limit itself, clamping gives the same value.
  return value > 16383 ? 16383 : value < -16384 ? -16384 : value;
}

/**
 * What one sub-band's ADPCM keeps between samples: the log scale factor and scale factor
 * (block 3) and the adaptive pole-zero predictor (block 4). The encoder and the decoder of a band
 * hold one each and drive it with the same quantised differences, so they stay in step.
 */
class SubBand {
  /** Signal estimate s for the coming sample. */
  #estimate = 0;
  /** Output of the zero section, sz, for the coming sample. */
  #zeroSection = 0;
  /** Reconstructed signal r, one and two samples back. */
  #r1 = 0;
  #r2 = 0;
  /** Partially reconstructed signal p = sz + d, one and two samples back. */
  #p1 = 0;
  #p2 = 0;
  /** Pole coefficients a1, a2. */
  #a1 = 0;
  #a2 = 0;
  /** Zero coefficients b1..b6. */
  readonly #b = new Int32Array(6);
  /** Quantised differences d, one to six samples back. */
  readonly #d = new Int32Array(6);
  /** Log scale factor (NBL or NBH) and the scale factor derived from it (DETL or DETH). */
  #logScale = 0;
  #scale: number;
  readonly #logScaleMax: number;
  readonly #scaleShift: number;

  constructor(logScaleMax: number, scaleShift: number) {
    this.#logScaleMax = logScaleMax;
    this.#scaleShift = scaleShift;
    this.#scale = this.#antilog();
  }

  /** The predictor's estimate of the coming sample. */
  get estimate(): number {
    return this.#estimate;
  }

  /** The quantiser's scale factor for the coming sample. */
  get scale(): number {
    return this.#scale;
  }

  /**
   * Block 3: leaks the log scale factor by 127/128, adds the multiplier of the code just sent and
   * limits it; then converts it to the linear scale factor.
   */
  adaptScale(weight: number): void {
    let logScale = ((this.#logScale * 127) >> 7) + weight;
    // Stryker disable next-line EqualityOperator: at the limit itself, clamping gives the same value.
    if (logScale < 0) logScale = 0;
    // Stryker disable next-line EqualityOperator: at the limit itself, clamping gives the same value.
    if (logScale > this.#logScaleMax) logScale = this.#logScaleMax;
    this.#logScale = logScale;
    this.#scale = this.#antilog();
  }

  #antilog(): number {
    const mantissa = ILB[(this.#logScale >> 6) & 31]!;
    const shift = this.#scaleShift - (this.#logScale >> 11);
    // Stryker disable next-line EqualityOperator: a shift of 0 either way is no shift.
    return (shift >= 0 ? mantissa >> shift : mantissa << -shift) << 2;
  }

  /**
   * Block 4: takes the quantised difference of the current sample, adapts the predictor's
   * coefficients by sign agreement (UPPOL2, UPPOL1, UPZERO), shifts its memories and works out the
   * estimate of the next sample (FILTEP, FILTEZ, PREDIC).
   */
  predict(d: number): void {
    const b = this.#b;
    const past = this.#d;
    const r = sat(this.#estimate + d);
    const p = sat(this.#zeroSection + d);

    const pNegative = p < 0;
    const agreesWithP1 = pNegative === (this.#p1 < 0);
    const agreesWithP2 = pNegative === (this.#p2 < 0);
    let pull = sat(this.#a1 * 4);
    if (agreesWithP1) pull = pull === -32768 ? 32767 : 0 - pull;
    let a2 = (pull >> 7) + (agreesWithP2 ? 128 : -128) + ((this.#a2 * 32512) >> 15);
    // Stryker disable next-line EqualityOperator: at the limit itself, clamping gives the same value.
    if (a2 > 12288) a2 = 12288;
    // Stryker disable next-line EqualityOperator: at the limit itself, clamping gives the same value.
    if (a2 < -12288) a2 = -12288;
    let a1 = sat((agreesWithP1 ? 192 : -192) + ((this.#a1 * 32640) >> 15));
    const a1Limit = 15360 - a2;
    // Stryker disable next-line EqualityOperator: at the limit itself, clamping gives the same value.
    if (a1 > a1Limit) a1 = a1Limit;
    // Stryker disable next-line EqualityOperator: at the limit itself, clamping gives the same value.
    if (a1 < -a1Limit) a1 = -a1Limit;

    // UPZERO, the shift of the differences (DELAYA) and FILTEZ in one pass, oldest tap first so
    // that each past difference is read for the update before it moves up.
    // Stryker disable next-line EqualityOperator: the sign of d is read only when d is not 0.
    const dNegative = d < 0;
    let zeros = 0;
    for (let i = 5; i >= 0; i--) {
      const older = past[i]!;
      const leaked = (b[i]! * 32640) >> 15;
      const coefficient = d === 0 ? leaked : sat(leaked + ((older < 0) === dNegative ? 128 : -128));
      const newer = i === 0 ? d : past[i - 1]!;
      b[i] = coefficient;
      past[i] = newer;
      zeros += (coefficient * sat(newer + newer)) >> 15;
    }
    zeros = sat(zeros);

    this.#r2 = this.#r1;
    this.#r1 = r;
    this.#p2 = this.#p1;
    this.#p1 = p;
    this.#a1 = a1;
    this.#a2 = a2;
    const poles = sat(((a1 * sat(r + r)) >> 15) + ((a2 * sat(this.#r2 + this.#r2)) >> 15));
    this.#zeroSection = zeros;
    this.#estimate = sat(poles + zeros);
  }
}

/**
 * A 12-long history of one polyphase branch of a QMF, newest first. It is stored twice over in a
 * 24-long array so that the 12 samples are always contiguous, from the newest on.
 */
class Branch {
  readonly #values = new Int32Array(2 * QMF_TAPS);
  #start = 0;

  push(value: number): void {
    const start = this.#start === 0 ? QMF_TAPS - 1 : this.#start - 1;
    this.#values[start] = value;
    this.#values[start + QMF_TAPS] = value;
    this.#start = start;
  }

  /** Sum of the history weighted by `taps`, the newest sample by the first tap. */
  filter(taps: Int32Array): number {
    const values = this.#values;
    const start = this.#start;
    let sum = 0;
    for (let i = 0; i < QMF_TAPS; i++) sum += taps[i]! * values[start + i]!;
    return sum;
  }
}

/**
 * G.722 encoder at 64 kbit/s: 16 kHz PCM in, one octet per two samples out.
 *
 * @remarks
 * Keeps its state between calls, so one encoder serves one stream. `encode` allocates nothing.
 *
 * @public
 */
export class G722Encoder implements AudioEncoder {
  readonly #low = new SubBand(LOW_LOG_SCALE_MAX, LOW_SCALE_SHIFT);
  readonly #high = new SubBand(HIGH_LOG_SCALE_MAX, HIGH_SCALE_SHIFT);
  /** Transmit QMF histories of the first and of the second sample of each pair. */
  readonly #first = new Branch();
  readonly #second = new Branch();

  /**
   * Encodes 16 kHz samples, two per octet.
   * @param pcm - the samples; an even count (a frame of 20 ms is 320). A trailing odd sample is ignored.
   * @param out - where the octets go; at least `pcm.length / 2` long, or the frame is cut short
   * @returns the number of octets written, `pcm.length / 2`
   */
  encode(pcm: Int16Array, out: Uint8Array): number {
    const pairs = Math.min(pcm.length >> 1, out.length);
    const low = this.#low;
    const high = this.#high;
    const first = this.#first;
    const second = this.#second;
    for (let k = 0; k < pairs; k++) {
      first.push(pcm[2 * k]!);
      second.push(pcm[2 * k + 1]!);
      const xa = second.filter(QMF_EVEN);
      const xb = first.filter(QMF_ODD);
      const xLow = (xa + xb) >> 14;
      const xHigh = (xa - xb) >> 14;

      // Lower band: 6-bit code; the predictor and the scale factor follow its top 4 bits.
      const eLow = sat(xLow - low.estimate);
      const scaleLow = low.scale;
      const magnitudeLow = eLow >= 0 ? eLow : ~eLow;
      let interval = 1;
      while (interval < LOW_INTERVALS && magnitudeLow >= (Q6[interval]! * scaleLow) >> 12) interval++;
      const codeLow = eLow < 0 ? LOW_CODE_NEGATIVE[interval]! : LOW_CODE_POSITIVE[interval]!;
      const code4 = codeLow >> 2;
      low.adaptScale(LOW_WEIGHT[code4]!);
      low.predict((scaleLow * LOW_LEVEL_4[code4]!) >> 15);

      // Higher band: 2-bit code.
      const eHigh = sat(xHigh - high.estimate);
      const scaleHigh = high.scale;
      // Stryker disable next-line EqualityOperator: at eHigh 0, 0 and -1 are both small: the threshold is at least (564 * 8) >> 12 = 1 (DETH is never below 8).
      const magnitudeHigh = eHigh >= 0 ? eHigh : ~eHigh;
      const large = magnitudeHigh >= (Q2 * scaleHigh) >> 12;
      const codeHigh = eHigh < 0 ? (large ? 0 : 1) : large ? 2 : 3;
      high.adaptScale(HIGH_WEIGHT[codeHigh]!);
      high.predict((scaleHigh * HIGH_LEVEL[codeHigh]!) >> 15);

      out[k] = (codeHigh << 6) | codeLow;
    }
    return pairs;
  }

  /** Holds no native resources: nothing to free. Calling it twice is harmless. */
  close(): void {
    // Nothing to release; the state is garbage-collected with the encoder.
  }
}

/**
 * G.722 decoder at 64 kbit/s: one octet in, two 16 kHz samples out.
 *
 * @remarks
 * Keeps its state between calls, so one decoder serves one stream. `decode` allocates nothing.
 * It has no concealment of its own: the jitter buffer's concealment fills lost frames.
 *
 * @public
 */
export class G722Decoder implements AudioDecoder {
  readonly #low = new SubBand(LOW_LOG_SCALE_MAX, LOW_SCALE_SHIFT);
  readonly #high = new SubBand(HIGH_LOG_SCALE_MAX, HIGH_SCALE_SHIFT);
  /** Receive QMF histories of the sub-band difference and sum. */
  readonly #difference = new Branch();
  readonly #sum = new Branch();

  /**
   * Decodes octets into 16 kHz samples, two per octet.
   * @param payload - the octets of one RTP payload
   * @param out - where the samples go; at least `2 * payload.length` long, or the payload is cut short
   * @returns the number of samples written, `2 * payload.length`
   */
  decode(payload: Uint8Array, out: Int16Array): number {
    const octets = Math.min(payload.length, out.length >> 1);
    const low = this.#low;
    const high = this.#high;
    const difference = this.#difference;
    const sum = this.#sum;
    for (let k = 0; k < octets; k++) {
      const octet = payload[k]!;
      const codeLow = octet & 0x3f;
      const codeHigh = octet >> 6;

      // Lower band: the output uses all 6 bits; the predictor and scale factor the top 4.
      const scaleLow = low.scale;
      const rLow = limit15(low.estimate + ((scaleLow * LOW_LEVEL_6[codeLow]!) >> 15));
      const code4 = codeLow >> 2;
      low.adaptScale(LOW_WEIGHT[code4]!);
      low.predict((scaleLow * LOW_LEVEL_4[code4]!) >> 15);

      // Higher band.
      const dHigh = (high.scale * HIGH_LEVEL[codeHigh]!) >> 15;
      const rHigh = limit15(high.estimate + dHigh);
      high.adaptScale(HIGH_WEIGHT[codeHigh]!);
      high.predict(dHigh);

      // Receive QMF: two 16 kHz samples from the pair of sub-band samples.
      difference.push(rLow - rHigh);
      sum.push(rLow + rHigh);
      out[2 * k] = sat(difference.filter(QMF_EVEN) >> 11);
      out[2 * k + 1] = sat(sum.filter(QMF_ODD) >> 11);
    }
    return 2 * octets;
  }

  /** Holds no native resources: nothing to free. Calling it twice is harmless. */
  close(): void {
    // Nothing to release; the state is garbage-collected with the decoder.
  }
}

/**
 * G.722 at 64 kbit/s (G722/16000, static payload type 9).
 *
 * @remarks
 * The audio is sampled at 16 kHz, but SDP and RTP timestamps use a clock of 8000 Hz, an error of
 * RFC 1890 that RFC 3551 (section 4.5.2) kept for compatibility. A frame of 20 ms is 320 samples
 * and a payload of 160 octets.
 *
 * @public
 */
export const G722: Codec = {
  name: 'G722/16000',
  encoding: 'G722',
  clockRate: 8000,
  channels: 1,
  sampleRate: 16000,
  staticPayloadType: 9,
  fmtp: '',
  maxPayloadBytes: (samples) => Math.floor(samples / 2),
  // The two QMF filters' delay (22 samples at 16 kHz, measured).
  delayMs: 1.4,
  // The MOS this SDK reports is on the narrowband E-model scale (G.107), for every codec, so that
  // local_mos compares across calls. On that scale a 64 kbit/s wideband codec is at the ceiling
  // (G.113 gives Ie,wb = 13 on the wideband scale of G.107.1, whose R0 is 129: well above any
  // narrowband codec), so Ie is 0. Lost frames get the same waveform-repetition concealment as
  // G.711 (G.711 Appendix I style), hence G.711's Bpl with concealment, 25.1. Both are estimates.
  impairment: { ie: 0, bpl: 25.1 },
  createEncoder: () => new G722Encoder(),
  createDecoder: () => new G722Decoder(),
};
