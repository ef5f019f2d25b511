// The measurements live in the package's testing entry point (they serve integrators' tests too);
// the tests use them under their short names.
import { sineSnrDb } from '@sip-endpoint/media/testing';

export { dominantFrequency, powerAt, rms, sineSnrDb, concatSamples as concat } from '@sip-endpoint/media/testing';

/**
 * The SNR of a tone in each 100 ms window of `samples`. A codec or resampler defect lowers every
 * window; one stall of a loaded machine (a late timer, a concealed frame) lowers one or two. Tests
 * that check fidelity over a live stream therefore ask that most windows are clean, and check the
 * stall separately (packet loss, packet counts).
 */
export function windowSnrsDb(samples: Int16Array, sampleRate: number, frequency: number): number[] {
  const size = Math.round(sampleRate * 0.1);
  const snrs: number[] = [];
  for (let start = 0; start + size <= samples.length; start += size) snrs.push(sineSnrDb(samples.subarray(start, start + size), sampleRate, frequency));
  return snrs;
}

/** How many of `snrs` exceed `minDb`, as a fraction of all of them. */
export function fractionAbove(snrs: number[], minDb: number): number {
  return snrs.length === 0 ? 0 : snrs.filter((snr) => snr > minDb).length / snrs.length;
}
