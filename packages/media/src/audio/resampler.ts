import { SipEndpointError } from '@sip-endpoint/config';

/**
 * A sample rate that is not a positive whole number of Hz was given to a {@link Resampler}.
 * Code `ERR_MEDIA_SAMPLE_RATE_INVALID`.
 *
 * @public
 */
export class InvalidSampleRateError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_SAMPLE_RATE_INVALID';
  /** The input rate given. */
  readonly inputRate: number;
  /** The output rate given. */
  readonly outputRate: number;

  /**
   * @param inputRate - The input rate given.
   * @param outputRate - The output rate given.
   */
  constructor(inputRate: number, outputRate: number) {
    super('ERR_MEDIA_SAMPLE_RATE_INVALID', `sample rates must be positive whole numbers, not ${inputRate} and ${outputRate}`);
    this.inputRate = inputRate;
    this.outputRate = outputRate;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 30; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}

/** Whether the first `length` samples are all zero. */
function isSilent(samples: ArrayLike<number>, length: number): boolean {
  for (let i = 0; i < length; i++) if (samples[i] !== 0) return false;
  return true;
}

/**
 * Converts mono 16-bit PCM between two sample rates with a polyphase windowed-sinc filter
 * (Kaiser window, 32 taps per phase; about 80 dB of stopband): device rates to codec rates and
 * back (8, 16, 32, 44.1, 48 kHz). Stateful: feed consecutive frames of one stream. Allocates
 * nothing after construction.
 *
 * @public
 */
export class Resampler {
  readonly inputRate: number;
  readonly outputRate: number;
  readonly #up: number;
  readonly #down: number;
  readonly #taps: number;
  readonly #filter: Float32Array;
  readonly #history: Float32Array;
  #time = 0;
  /** Whether every sample of `#history` is zero (silence in, silence out: see `process`). */
  #quiet = true;

  /**
   * @param inputRate - Rate of the samples given to {@link Resampler.process}, in Hz.
   * @param outputRate - Rate of the samples it writes, in Hz.
   * @throws {@link InvalidSampleRateError} when either is not a positive whole number.
   */
  constructor(inputRate: number, outputRate: number) {
    if (!(inputRate > 0 && outputRate > 0) || !Number.isInteger(inputRate) || !Number.isInteger(outputRate)) {
      throw new InvalidSampleRateError(inputRate, outputRate);
    }
    this.inputRate = inputRate;
    this.outputRate = outputRate;
    const divisor = gcd(inputRate, outputRate);
    this.#up = outputRate / divisor;
    this.#down = inputRate / divisor;
    this.#taps = 32;
    const up = this.#up;
    const length = this.#taps * up;
    // Cut-off at 45 % of the lower rate, relative to the upsampled rate.
    const cutoff = (0.45 * Math.min(inputRate, outputRate)) / (inputRate * up);
    const beta = 8;
    const filter = new Float32Array(length);
    const centre = (length - 1) / 2;
    const norm = besselI0(beta);
    for (let i = 0; i < length; i++) {
      const x = i - centre;
      const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
      const w = besselI0(beta * Math.sqrt(1 - (x / centre) ** 2)) / norm;
      filter[i] = sinc * w * up;
    }
    this.#filter = filter;
    this.#history = new Float32Array(this.#taps);
  }

  /** Output samples produced for `inputSamples` input samples (may vary by one between calls). */
  outputLength(inputSamples: number): number {
    return Math.max(0, Math.ceil((inputSamples * this.#up - this.#time) / this.#down));
  }

  /**
   * Resamples `length` samples of `input` into `output`; returns the number written.
   * `output` must hold {@link Resampler.outputLength}`(length)` samples.
   */
  process(input: Int16Array, length: number, output: Int16Array): number {
    if (this.#up === this.#down) {
      output.set(input.subarray(0, length));
      return length;
    }
    const up = this.#up;
    const down = this.#down;
    const taps = this.#taps;
    const filter = this.#filter;
    const history = this.#history;
    // Silence after silence (a muted or silent microphone) filters to exact zeros: write them
    // without the filter. The scan stops at the first sample of sound.
    if (this.#quiet && isSilent(input, length)) {
      const end = length * up;
      const count = this.#time < end ? Math.ceil((end - this.#time) / down) : 0;
      output.fill(0, 0, count);
      this.#time += count * down - end;
      return count;
    }
    let produced = 0;
    // #time counts in upsampled units from the start of the current input block.
    let time = this.#time;
    const end = length * up;
    while (time < end) {
      const index = Math.floor(time / up); // newest input sample used
      const phase = time - index * up;
      let sum = 0;
      for (let k = 0; k < taps; k++) {
        const i = index - k;
        const sample = i >= 0 ? input[i]! : history[taps + i]!;
        sum += filter[phase + k * up]! * sample;
      }
      output[produced++] = sum > 32767 ? 32767 : sum < -32768 ? -32768 : Math.round(sum);
      time += down;
    }
    this.#time = time - end;
    // Keep the last `taps` input samples for the next block.
    if (length >= taps) {
      for (let k = 0; k < taps; k++) history[k] = input[length - taps + k]!;
    } else {
      history.copyWithin(0, length);
      for (let k = 0; k < length; k++) history[taps - length + k] = input[k]!;
    }
    this.#quiet = isSilent(history, taps);
    return produced;
  }
}
