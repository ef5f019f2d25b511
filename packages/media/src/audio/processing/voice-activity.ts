import { AudioProcessingError } from './processing-error';
import { fvadLibrary, type FvadApi, type WasmMemory } from './wasm-modules';

/**
 * Voice activity detection with the WebRTC VAD (libfvad, a Gaussian-mixture model of speech and
 * noise in six bands, run as WebAssembly). `mode` is its aggressiveness, 0 to 3: 0 calls more of
 * the signal speech (fewer clipped words, fewer packets saved), 3 the least (`vad_level`). It runs
 * on 10 ms blocks; a frame is speech when any of its blocks is. Allocates nothing per frame.
 *
 * @public
 */
export class VoiceActivityDetector {
  readonly sampleRate: number;
  readonly #api: FvadApi;
  readonly #memory: WasmMemory;
  #instance: number;
  readonly #pointer: number;
  readonly #block: number;
  #view: Int16Array;

  /**
   * @param sampleRate - 8, 16, 32 or 48 kHz.
   * @param mode - 0 (least aggressive) to 3 (most).
   * @throws {@link AudioProcessingError} for another rate or mode, or when the module cannot be loaded.
   */
  constructor(sampleRate: number, mode: number) {
    if (![8000, 16000, 32000, 48000].includes(sampleRate)) throw new AudioProcessingError(`the WebRTC VAD runs at 8, 16, 32 or 48 kHz, not ${sampleRate} Hz`);
    if (!Number.isInteger(mode) || mode < 0 || mode > 3) throw new AudioProcessingError(`the VAD mode is 0 to 3, not ${mode}`);
    this.sampleRate = sampleRate;
    const { api, memory } = fvadLibrary();
    this.#api = api;
    this.#memory = memory;
    this.#instance = api.create();
    this.#block = sampleRate / 100;
    this.#pointer = api.malloc(this.#block * 2);
    if (this.#instance === 0 || this.#pointer === 0) throw new AudioProcessingError('the WebRTC VAD has no memory left for another stream');
    api.setMode(this.#instance, mode);
    api.setSampleRate(this.#instance, sampleRate);
    this.#view = new Int16Array(memory.buffer, this.#pointer, this.#block);
  }

  /** Whether `length` samples of `frame` hold speech (blocks past the last whole 10 ms are not looked at). */
  isSpeech(frame: Int16Array, length: number): boolean {
    if (this.#instance === 0) return true;
    if (this.#view.buffer !== this.#memory.buffer) this.#view = new Int16Array(this.#memory.buffer, this.#pointer, this.#block);
    const view = this.#view;
    const block = this.#block;
    let speech = false;
    for (let start = 0; start + block <= length; start += block) {
      for (let i = 0; i < block; i++) view[i] = frame[start + i]!;
      if (this.#api.process(this.#instance, this.#pointer, block) === 1) speech = true;
    }
    return speech;
  }

  /** Frees the detector; `isSpeech` then says speech. Twice is harmless. */
  close(): void {
    if (this.#instance === 0) return;
    this.#api.free(this.#instance);
    this.#api.release(this.#pointer);
    this.#instance = 0;
  }
}
