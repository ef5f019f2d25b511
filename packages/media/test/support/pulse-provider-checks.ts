import { type PulseAudioProvider, ToneGenerator } from '@sip-endpoint/media';
import type { AudioDevice } from '@sip-endpoint/policy';
import { type PulseClientTools, waitFor } from '@sip-endpoint/test-support';
import { dbfs, runClock, tick } from './device-clock';
import { dominantFrequency, rms } from './signal';

// What the PulseAudio provider must do against any server speaking the PulseAudio protocol
// (PulseAudio itself, PipeWire's pipewire-pulse), run by each server's test file. Each expects
// the sinks `speaker` and `line`, and `mic`, a headset source remapped from `line.monitor`.

/** The median level of the 20 ms frames of `samples`, in dBFS. */
export function medianFrameDbfs(samples: Int16Array, rate: number): number {
  const frame = rate / 50;
  const levels = Array.from({ length: Math.floor(samples.length / frame) }, (_, i) => dbfs(rms(samples.subarray(i * frame, (i + 1) * frame)))).sort((a, b) => a - b);
  return levels[Math.floor(levels.length / 2)]!;
}

/** A headset sink plugged in and out: `devicesChanged` within a second each time, its monitor never a microphone. */
export async function checkHotPlug(server: PulseClientTools, provider: PulseAudioProvider): Promise<void> {
  const lists: { at: number; list: AudioDevice[] }[] = [];
  const listener = (list: AudioDevice[]): void => void lists.push({ at: performance.now(), list });
  provider.on('devicesChanged', listener);
  try {
    const plugged = performance.now();
    const module = await server.loadNullSink({ name: 'jabra_headset', description: 'Jabra Headset' });
    await waitFor(() => lists.some((entry) => entry.list.some((device) => device.id === 'jabra_headset')), 2000, 'the headset in devicesChanged');
    const added = lists.find((entry) => entry.list.some((device) => device.id === 'jabra_headset'))!;
    expect(added.at - plugged).toBeLessThan(1000);
    expect(added.list).toContainEqual({ id: 'jabra_headset', name: 'Jabra Headset', kind: 'output' });
    expect(provider.list()).toContainEqual({ id: 'jabra_headset', name: 'Jabra Headset', kind: 'output' });
    // Its monitor is no microphone.
    expect(provider.list().some((device) => device.id === 'jabra_headset.monitor')).toBe(false);

    const unplugged = performance.now();
    await server.unload(module);
    await waitFor(() => !provider.list().some((device) => device.id === 'jabra_headset'), 2000, 'the headset gone from the list');
    const removed = lists[lists.length - 1]!;
    expect(removed.list.some((device) => device.id === 'jabra_headset')).toBe(false);
    expect(removed.at - unplugged).toBeLessThan(1000);
  } finally {
    provider.off('devicesChanged', listener);
  }
}

/**
 * A -10 dBFS 1 kHz tone written through `openOutput('speaker')` on the media clock's schedule,
 * recorded from the sink's monitor: its frequency checked here; resolves with its median frame
 * level, which each server's test judges.
 */
export async function checkTonePlayback(server: PulseClientTools, provider: PulseAudioProvider): Promise<number> {
  let median = 0;
  const rate = 16000;
  const output = provider.openOutput('speaker', rate);
  try {
    const tone = new ToneGenerator(rate, [1000], -10);
    const [recorded] = await Promise.all([
      // From 400 ms in, when playback has surely begun, for 600 ms.
      new Promise<Int16Array>((resolve, reject) => setTimeout(() => server.record('speaker.monitor', rate, 600).then(resolve, reject), 400)),
      runClock(1400, rate, { output, fill: (frame, length) => tone.fill(frame, length) }),
    ]);
    expect(dominantFrequency(recorded, rate)).toBeCloseTo(1000, -1);
    // Judged on the median 20 ms frame: an underrun of a loaded machine (a short gap, counted in
    // the output's stats) lowers the whole recording's RMS, not the level of what plays.
    median = medianFrameDbfs(recorded, rate);
    expect(output.stats().running).toBe(true);
    // Most of the 1.4 s went to pacat: what it was not ready for at its start is dropped, not
    // queued (a loaded CI run: 0.96 s written).
    expect(output.stats().writtenSamples).toBeGreaterThan(rate * 0.6);
  } finally {
    output.close();
  }
  expect(output.stats().running).toBe(false);
  return median;
}

/** A tone played into `line` reaches `openInput('mic')` (a remap of line's monitor). */
export async function checkCapture(server: PulseClientTools, provider: PulseAudioProvider): Promise<void> {
  const rate = 8000;
  const input = provider.openInput('mic', rate);
  try {
    const tone = new Int16Array(rate);
    new ToneGenerator(rate, [700], -6).fill(tone, tone.length);
    const [, heard] = await Promise.all([new Promise<void>((resolve, reject) => setTimeout(() => server.play('line', tone, rate).then(resolve, reject), 200)), runClock(1800, rate, { input })]);
    // The loudest 500 ms is the tone.
    const window = rate / 2;
    let best = 0;
    let bestAt = 0;
    for (let at = 0; at + window <= heard.length; at += rate / 50) {
      const level = rms(heard.subarray(at, at + window));
      if (level > best) [best, bestAt] = [level, at];
    }
    expect(dominantFrequency(heard.subarray(bestAt, bestAt + window), rate)).toBeCloseTo(700, -1);
    expect(dbfs(best)).toBeGreaterThan(-11);
    expect(input.stats().running).toBe(true);
  } finally {
    input.close();
  }
}

/** Volume and mute sent to the server, and read back when another client changes them. */
export async function checkVolumeAndMute(server: PulseClientTools, provider: PulseAudioProvider): Promise<void> {
  provider.setVolume('speaker', 40);
  provider.setMuted('mic', true);
  expect(provider.getVolume('speaker')).toBe(40);
  expect(provider.isMuted('mic')).toBe(true);
  // What the server holds (pactl's own view).
  const check = async (): Promise<boolean> => {
    const sinks = await server.pactl('list', 'sinks');
    const sources = await server.pactl('list', 'sources');
    return /Name: speaker\n(?:\t.*\n)*?\tVolume: [^\n]*\/ +40% \//.test(sinks) && /Name: mic\n(?:\t.*\n)*?\tMute: yes/.test(sources);
  };
  const deadline = Date.now() + 3000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('the server did not take the volume and mute');
    await tick();
  }
  // Someone else (the desktop's mixer) changes them: the provider reads it back.
  await server.pactl('set-sink-volume', 'speaker', '70%');
  await server.pactl('set-source-mute', 'mic', '0');
  await waitFor(() => provider.getVolume('speaker') === 70 && !provider.isMuted('mic'), 2000, 'the volume and mute read back');
  provider.setVolume('speaker', 100);
}
