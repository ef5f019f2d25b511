import { dominantFrequency } from '@sip-endpoint/media/testing';
import type { Baresip } from './baresip';
import { untilRecorded, waitFor, type standaloneEndpoint } from './endpoints';

// What the tests of calls with baresip measure: the tone each side heard, and our dialog address.

/**
 * Tones are compared to within 5 Hz (`toBeCloseTo(f, -1)`): the dominant frequency of audio that
 * went through baresip's jitter buffer and ours, with a frame concealed or dropped when a loaded
 * machine is late, may come out a hertz or two off; the other party's tone is hundreds away.
 */

/** The dominant frequency of what our speaker played, from `skipSeconds` on. */
export function heardByUs(party: ReturnType<typeof standaloneEndpoint>, skipSeconds = 0.4): number {
  const { samples, sampleRate } = party.devices.recording('speaker');
  return dominantFrequency(samples.subarray(Math.round(sampleRate * skipSeconds)), sampleRate);
}

/** Seconds of audio in baresip's latest call recording. */
export function recordedByBaresip(baresip: Baresip): number {
  const last = baresip.recordings().at(-1);
  return last ? last.samples.length / last.sampleRate : 0;
}

/** Waits until baresip's latest call recording holds `seconds` of audio (media time, however loaded the machine). */
export function untilBaresipRecorded(baresip: Baresip, seconds: number): Promise<void> {
  return waitFor(() => recordedByBaresip(baresip) >= seconds, 5000 + seconds * 1000, `${seconds} s of audio recorded by baresip`);
}

/** The dominant frequency of baresip's latest call recording, past its first 0.3 s. */
export function heardByBaresip(baresip: Baresip): number {
  const last = baresip.recordings().at(-1);
  if (!last || last.samples.length < last.sampleRate) throw new Error(`baresip recorded ${last?.samples.length ?? 0} samples`);
  return dominantFrequency(last.samples.subarray(Math.round(last.sampleRate * 0.3)), last.sampleRate);
}

/** Our endpoint's dialog port, for baresip to dial. */
export function target(party: ReturnType<typeof standaloneEndpoint>): string {
  return `sip:${party.endpoint.config.connectivities[0]!.user}@127.0.0.1:${party.endpoint.lines[0]!.port}`;
}


/**
 * Both sides hear each other: 1.5 s recorded on each, our speaker with baresip's tone (440 Hz by
 * default) and baresip's recording with ours (1000 Hz, the tests' default microphone).
 */
export async function expectTwoWayAudio(baresip: Baresip, party: ReturnType<typeof standaloneEndpoint>, ours = 1000, theirs = 440): Promise<void> {
  await untilRecorded(1.5, party.devices);
  await untilBaresipRecorded(baresip, 1.5);
  expect(heardByUs(party)).toBeCloseTo(theirs, -1);
  expect(heardByBaresip(baresip)).toBeCloseTo(ours, -1);
}
