import { Resampler } from '../resampler';
import { AudioProcessingError } from './processing-error';
import { rnnoiseLibrary, type RnnoiseApi, type WasmMemory } from './wasm-modules';

/** RNNoise's frame: 10 ms at 48 kHz. */
const RNNOISE_FRAME = 480;
const RNNOISE_RATE = 48000;

/**
 * Noise suppression (`noise_suppression`) with RNNoise (a recurrent network trained on speech and
 * noise, run as WebAssembly). RNNoise takes 480-sample frames at 48 kHz: a codec frame is
 * resampled up to 48 kHz, cut into RNNoise frames through a queue, denoised, and brought back
 * down. A codec frame of a whole number of 10 ms (every ptime the SDK uses) is two or more RNNoise
 * frames exactly, and adds no delay but the resamplers' (under 2 ms); any other length waits one
 * RNNoise frame. Everything is allocated here: a frame allocates nothing.
 *
 * @public
 */
export class NoiseSuppressor {
  readonly sampleRate: number;
  readonly #api: RnnoiseApi;
  readonly #memory: WasmMemory;
  #state: number;
  readonly #inPointer: number;
  readonly #outPointer: number;
  #wasmIn: Float32Array;
  #wasmOut: Float32Array;
  readonly #up: Resampler | undefined;
  readonly #down: Resampler | undefined;
  /** One codec frame at 48 kHz, on its way up and on its way down. */
  readonly #high: Int16Array;
  /** 48 kHz samples waiting for a whole RNNoise frame, and denoised ones waiting to go down. */
  readonly #inQueue: Float32Array;
  #inCount = 0;
  readonly #outQueue: Float32Array;
  #outCount = 0;
  /** RNNoise's voice probability of the last frame it denoised (0 to 1). */
  voiceProbability = 0;

  /**
   * @param sampleRate - A rate that divides 48 kHz (8, 12, 16, 24 or 48 kHz).
   * @param frameSamples - The samples of each frame given to {@link NoiseSuppressor.process}.
   * @throws {@link AudioProcessingError} for another rate, or when RNNoise cannot be loaded.
   */
  constructor(sampleRate: number, frameSamples: number) {
    if (!(sampleRate > 0) || RNNOISE_RATE % sampleRate !== 0) throw new AudioProcessingError(`noise suppression runs at rates that divide 48000 Hz, not ${sampleRate}`);
    this.sampleRate = sampleRate;
    const { api, memory } = rnnoiseLibrary();
    this.#api = api;
    this.#memory = memory;
    this.#state = api.create(0);
    this.#inPointer = api.malloc(RNNOISE_FRAME * 4);
    this.#outPointer = api.malloc(RNNOISE_FRAME * 4);
    if (this.#state === 0 || this.#inPointer === 0 || this.#outPointer === 0) throw new AudioProcessingError('RNNoise has no memory left for another stream');
    this.#wasmIn = new Float32Array(memory.buffer, this.#inPointer, RNNOISE_FRAME);
    this.#wasmOut = new Float32Array(memory.buffer, this.#outPointer, RNNOISE_FRAME);
    const factor = RNNOISE_RATE / sampleRate;
    const high = frameSamples * factor;
    this.#up = factor > 1 ? new Resampler(sampleRate, RNNOISE_RATE) : undefined;
    this.#down = factor > 1 ? new Resampler(RNNOISE_RATE, sampleRate) : undefined;
    this.#high = new Int16Array(high + factor * 2);
    this.#inQueue = new Float32Array(high + RNNOISE_FRAME);
    this.#outQueue = new Float32Array(high + RNNOISE_FRAME * 2);
    // A frame that is not a whole number of RNNoise frames needs one RNNoise frame in hand.
    if (high % RNNOISE_FRAME !== 0) this.#outCount = RNNOISE_FRAME;
  }

  /** Denoises `length` samples of `frame` in place. */
  process(frame: Int16Array, length: number): void {
    if (this.#state === 0) return;
    const high = this.#high;
    const produced = this.#up ? this.#up.process(frame, length, high) : (high.set(frame.subarray(0, length)), length);
    const inQueue = this.#inQueue;
    for (let i = 0; i < produced; i++) inQueue[this.#inCount + i] = high[i]!;
    this.#inCount += produced;
    let consumed = 0;
    while (this.#inCount - consumed >= RNNOISE_FRAME) {
      this.#denoise(consumed);
      consumed += RNNOISE_FRAME;
    }
    if (consumed > 0) {
      inQueue.copyWithin(0, consumed, this.#inCount);
      this.#inCount -= consumed;
    }
    // Back down: as many 48 kHz samples as came in (the queue has them, see the constructor).
    const outQueue = this.#outQueue;
    const take = Math.min(produced, this.#outCount);
    for (let i = 0; i < take; i++) {
      const v = outQueue[i]!;
      high[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
    }
    for (let i = take; i < produced; i++) high[i] = 0;
    outQueue.copyWithin(0, take, this.#outCount);
    this.#outCount -= take;
    if (this.#down) {
      const written = this.#down.process(high, produced, frame);
      // A 48 kHz multiple down to its divisor writes exactly `length`; a short write repeats its last sample.
      for (let i = written; i < length; i++) frame[i] = written > 0 ? frame[written - 1]! : 0;
    } else {
      for (let i = 0; i < length; i++) frame[i] = high[i]!;
    }
  }

  #denoise(from: number): void {
    if (this.#wasmIn.buffer !== this.#memory.buffer) {
      // Another stream's state grew the module's memory: the old views are detached.
      this.#wasmIn = new Float32Array(this.#memory.buffer, this.#inPointer, RNNOISE_FRAME);
      this.#wasmOut = new Float32Array(this.#memory.buffer, this.#outPointer, RNNOISE_FRAME);
    }
    const wasmIn = this.#wasmIn;
    const inQueue = this.#inQueue;
    for (let i = 0; i < RNNOISE_FRAME; i++) wasmIn[i] = inQueue[from + i]!;
    this.voiceProbability = this.#api.processFrame(this.#state, this.#outPointer, this.#inPointer);
    const wasmOut = this.#wasmOut;
    const outQueue = this.#outQueue;
    const at = this.#outCount;
    for (let i = 0; i < RNNOISE_FRAME; i++) outQueue[at + i] = wasmOut[i]!;
    this.#outCount += RNNOISE_FRAME;
  }

  /** Frees RNNoise's state; `process` then leaves frames as they are. Twice is harmless. */
  close(): void {
    if (this.#state === 0) return;
    this.#api.destroy(this.#state);
    this.#api.free(this.#inPointer);
    this.#api.free(this.#outPointer);
    this.#state = 0;
  }
}
