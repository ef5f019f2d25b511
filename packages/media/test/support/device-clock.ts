import type { AudioInput, AudioOutput } from '@sip-endpoint/media';
import { concat } from './signal';

// Driving a device provider's inputs and outputs as a stream would, for the providers' tests.

/** A sleep of the test (not of the code under test): the media clock's 20 ms tick. */
export const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/**
 * The media clock's part, as an AudioStream plays it: every 20 ms one frame written to `output`
 * and one read from `input`, for `ms`. Resolves with what was read.
 */
export async function runClock(ms: number, rate: number, parts: { input?: AudioInput; output?: AudioOutput; fill?: (frame: Int16Array, length: number) => void; onFrame?: (frame: Int16Array, index: number) => void }): Promise<Int16Array> {
  const length = rate / 50;
  const out = new Int16Array(length);
  const frames: Int16Array[] = [];
  const started = performance.now();
  let index = 0;
  // Paced by the wall clock, as the media clock is: a late timer is caught up, not lost.
  while (performance.now() - started < ms) {
    const due = Math.floor((performance.now() - started) / 20) + 1;
    while (index < due) {
      if (parts.output) {
        if (parts.fill) parts.fill(out, length);
        else out.fill(0);
        parts.output.write(out, length);
      }
      if (parts.input) {
        const frame = new Int16Array(length);
        parts.input.read(frame, length);
        parts.onFrame?.(frame, index);
        frames.push(frame);
      }
      index++;
    }
    await tick();
  }
  return concat(frames);
}

/** The level of a sine of amplitude `peak` (full scale 32767) in dBFS of its RMS, as `rms()` measures it. */
export function dbfs(value: number): number {
  return 20 * Math.log10(value / 32767);
}
