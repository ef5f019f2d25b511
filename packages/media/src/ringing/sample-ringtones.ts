import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ToneGenerator } from '../audio/tones';
import { encodeWav } from '../audio/wav';

/**
 * The sample media files this package ships (made by `scripts/make-ringtones.ts` when it is
 * built): the specification's four sample ringtones, the same ring at 0, +10, -10 and -20 dB, and
 * a call-waiting tone. A configured file of one of these names that is not found where the
 * configuration points is taken from here.
 *
 * @public
 */
export const SAMPLE_MEDIA_FILES = ['ringing.wav', 'ringing_+10dB.wav', 'ringing_-10dB.wav', 'ringing_-20dB.wav', 'callwait.wav'] as const;

const RATE = 16000;
/** Level of each of the ring's two tones at 0 dB: their sum peaks at -12 dBFS, so +10 dB stays below full scale. */
const RING_TONE_DBFS = -18;

/** Samples of `seconds` of silence and tones: `[durationS, frequencies]` in turn. */
function cadence(parts: readonly (readonly [number, readonly number[]])[], levelDbfs: number): Int16Array {
  const total = parts.reduce((sum, [seconds]) => sum + Math.round(seconds * RATE), 0);
  const samples = new Int16Array(total);
  let at = 0;
  for (const [seconds, frequencies] of parts) {
    const length = Math.round(seconds * RATE);
    if (frequencies.length > 0) {
      const part = samples.subarray(at, at + length);
      new ToneGenerator(RATE, frequencies, levelDbfs).fill(part, length);
      // 10 ms ramps: no click where the tone starts and stops.
      const ramp = Math.min(Math.round(RATE * 0.01), length >> 1);
      for (let i = 0; i < ramp; i++) {
        part[i] = Math.round((part[i]! * i) / ramp);
        part[length - 1 - i] = Math.round((part[length - 1 - i]! * i) / ramp);
      }
    }
    at += length;
  }
  return samples;
}

/**
 * One sample file's audio, 16 kHz mono: the ring is a classic cadence (440 + 480 Hz, 2 s on, 4 s
 * off, one cycle to loop) at `gainDb` from the 0 dB level; the call-waiting tone is two 440 Hz
 * beeps of 0.3 s with 0.2 s between, then 2.2 s of silence.
 */
export function synthesizeSampleMedia(name: (typeof SAMPLE_MEDIA_FILES)[number]): { sampleRate: number; channels: 1; samples: Int16Array } {
  if (name === 'callwait.wav') {
    return { sampleRate: RATE, channels: 1, samples: cadence([[0.3, [440]], [0.2, []], [0.3, [440]], [2.2, []]], -16) };
  }
  const gainDb = Number(/_([+-]\d+)dB/.exec(name)?.[1] ?? 0);
  return { sampleRate: RATE, channels: 1, samples: cadence([[2, [440, 480]], [4, []]], RING_TONE_DBFS + gainDb) };
}

/** Writes every sample file into `dir` (the build does it into the package's `media/`). */
export function writeSampleMedia(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const name of SAMPLE_MEDIA_FILES) writeFileSync(join(dir, name), encodeWav(synthesizeSampleMedia(name)));
}

let packageMediaDir: string | undefined;

/**
 * Where this package's sample files are: the `media/` folder at the root of `@sip-endpoint/media`
 * (found from this module, in `src/` or in `dist/`).
 *
 * @public
 */
export function sampleMediaDir(): string {
  if (packageMediaDir) return packageMediaDir;
  // __dirname in CommonJS (the cjs build, jest); the module's URL in ES modules (the esm build, tsx).
  let dir = typeof __dirname !== 'undefined' ? __dirname : fileURLToPath(new URL('.', import.meta.url));
  for (let up = 0; up < 4; up++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@sip-endpoint/media') break;
    dir = dirname(dir);
  }
  packageMediaDir = join(dir, 'media');
  return packageMediaDir;
}

/**
 * The path a configured media file is read from: an absolute path as it is; a relative one from
 * `baseDir`, or, when it is not there and names one of {@link SAMPLE_MEDIA_FILES}, the sample this
 * package ships.
 *
 * @public
 */
export function resolveMediaFile(file: string, baseDir: string = process.cwd()): string {
  if (isAbsolute(file)) return file;
  const configured = join(baseDir, file);
  if (existsSync(configured)) return configured;
  const name = basename(file);
  if (file === name && (SAMPLE_MEDIA_FILES as readonly string[]).includes(name)) {
    const sample = join(sampleMediaDir(), name);
    if (existsSync(sample)) return sample;
  }
  return configured;
}
