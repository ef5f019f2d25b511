// RNNoise (@jitsi/rnnoise-wasm) and the WebRTC VAD (@echogarden/fvad-wasm) are C libraries that
// their packages ship compiled to WebAssembly, with an Emscripten loader written as an ES module
// that finds the .wasm through `import.meta.url`. That loader cannot run in this package's CommonJS
// build nor under jest, so the .wasm files are instantiated here directly: each needs only two
// imported functions. The exports are the minified names of the exact versions pinned in
// package.json (read from their loaders); a version with other names fails here, at load, with
// an AudioProcessingError, and the tests, never with wrong audio.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AudioProcessingError } from './processing-error';

/** The part of WebAssembly's memory used here (Node has it; this package's type libraries do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

type WasmFunction = (...args: number[]) => number;

/** The part of the WebAssembly global used here. */
interface WebAssemblyGlobal {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, WasmFunction>>) => { exports: Record<string, unknown> };
  Memory: abstract new (...args: never[]) => WasmMemory;
}

const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyGlobal }).WebAssembly;

/** One instance of a module, shared by all the streams of the thread: its memory holds each stream's state. */
export interface WasmLibrary<Api> {
  api: Api;
  memory: WasmMemory;
}

function resolvePackageFile(specifier: string): string {
  // __filename in CommonJS (the cjs build, jest); the module's URL in ES modules (the esm build, tsx).
  const base = typeof __filename !== 'undefined' ? __filename : import.meta.url;
  return createRequire(base).resolve(specifier);
}

function instantiate(specifier: string, imports: (memory: () => WasmMemory) => Record<string, WasmFunction>, names: Record<string, string>): { exports: Record<string, WasmFunction>; memory: WasmMemory } {
  let memory: WasmMemory | undefined;
  try {
    const module = new wasm.Module(readFileSync(resolvePackageFile(specifier)));
    const instance = new wasm.Instance(module, { a: imports(() => memory!) });
    const raw = instance.exports;
    const found = raw['c'];
    if (!(found instanceof wasm.Memory)) throw new AudioProcessingError(`${specifier} exports no memory where its pinned version does`);
    memory = found;
    const exports: Record<string, WasmFunction> = {};
    for (const [name, letter] of Object.entries(names)) {
      const fn = raw[letter];
      if (typeof fn !== 'function') throw new AudioProcessingError(`${specifier} has no ${name} (export ${letter}) where its pinned version does`);
      exports[name] = fn as WasmFunction;
    }
    exports['ctors']!();
    return { exports, memory };
  } catch (error) {
    if (error instanceof AudioProcessingError) throw error;
    throw new AudioProcessingError(`${specifier} cannot be loaded: ${(error as Error).message}`, error);
  }
}

/** Emscripten's heap growth, done by the memory itself (the loader's job when it runs). */
function growHeap(memory: () => WasmMemory): WasmFunction {
  return (requested: number) => {
    const mem = memory();
    const pages = Math.ceil((requested - mem.buffer.byteLength) / 65536);
    try {
      if (pages > 0) mem.grow(pages);
      return 1;
    } catch {
      return 0;
    }
  };
}

export interface RnnoiseApi {
  create(model: number): number;
  destroy(state: number): number;
  malloc(bytes: number): number;
  free(pointer: number): number;
  /** Denoises 480 floats (16-bit scale) at 48 kHz from `input` into `output`; returns the voice probability. */
  processFrame(state: number, output: number, input: number): number;
}

export interface FvadApi {
  create(): number;
  free(instance: number): number;
  malloc(bytes: number): number;
  release(pointer: number): number;
  /** 0..3, the aggressiveness; 0 on success. */
  setMode(instance: number, mode: number): number;
  setSampleRate(instance: number, rate: number): number;
  /** 1 voice, 0 not, -1 a frame length the rate does not take. */
  process(instance: number, frame: number, length: number): number;
}

let rnnoise: WasmLibrary<RnnoiseApi> | undefined;
let fvad: WasmLibrary<FvadApi> | undefined;

/** RNNoise 0.2.1 of @jitsi/rnnoise-wasm (BSD RNNoise by Jean-Marc Valin), loaded once per thread. */
export function rnnoiseLibrary(): WasmLibrary<RnnoiseApi> {
  if (rnnoise) return rnnoise;
  // RNNoise copies its frames with this import: one byte view, made again only when the memory grew.
  let bytes: Uint8Array | undefined;
  const { exports, memory } = instantiate(
    '@jitsi/rnnoise-wasm/dist/rnnoise.wasm',
    (mem) => ({
      a: growHeap(mem),
      b: (dest: number, src: number, count: number) => {
        const buffer = mem().buffer;
        if (bytes?.buffer !== buffer) bytes = new Uint8Array(buffer);
        bytes!.copyWithin(dest, src, src + count);
        return 0;
      },
    }),
    { ctors: 'd', init: 'e', create: 'f', malloc: 'g', destroy: 'h', free: 'i', processFrame: 'j' },
  );
  const api: RnnoiseApi = {
    create: exports['create']!,
    destroy: exports['destroy']!,
    malloc: exports['malloc']!,
    free: exports['free']!,
    processFrame: exports['processFrame']!,
  };
  rnnoise = { api, memory };
  return rnnoise;
}

/** libfvad (the WebRTC VAD) of @echogarden/fvad-wasm 0.2.0, loaded once per thread. */
export function fvadLibrary(): WasmLibrary<FvadApi> {
  if (fvad) return fvad;
  const { exports, memory } = instantiate(
    '@echogarden/fvad-wasm/fvad.wasm',
    (mem) => ({
      a: () => {
        throw new AudioProcessingError('the WebRTC VAD failed an assertion');
      },
      b: growHeap(mem),
    }),
    { ctors: 'd', create: 'e', malloc: 'f', reset: 'g', free: 'h', release: 'i', setMode: 'j', setSampleRate: 'k', process: 'l' },
  );
  const api: FvadApi = {
    create: exports['create']!,
    free: exports['free']!,
    malloc: exports['malloc']!,
    release: exports['release']!,
    setMode: exports['setMode']!,
    setSampleRate: exports['setSampleRate']!,
    process: exports['process']!,
  };
  fvad = { api, memory };
  return fvad;
}
