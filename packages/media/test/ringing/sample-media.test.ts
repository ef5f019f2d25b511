import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWav, resolveMediaFile, sampleMediaDir, SAMPLE_MEDIA_FILES } from '@sip-endpoint/media';
import { powerAt, rms } from '@sip-endpoint/media/testing';

const db = (ratio: number): number => 20 * Math.log10(ratio);

describe('the sample media files the package ships', () => {
  it('are the four ringtones of the specification and a call-waiting tone, 16 kHz mono WAV', async () => {
    expect([...SAMPLE_MEDIA_FILES]).toEqual(['ringing.wav', 'ringing_+10dB.wav', 'ringing_-10dB.wav', 'ringing_-20dB.wav', 'callwait.wav']);
    for (const name of SAMPLE_MEDIA_FILES) {
      const audio = await readWav(join(sampleMediaDir(), name));
      expect({ name, rate: audio.sampleRate, channels: audio.channels }).toEqual({ name, rate: 16000, channels: 1 });
    }
  });

  it('ring with a classic cadence (440 + 480 Hz, 2 s on, 4 s off) at 0, +10, -10 and -20 dB', async () => {
    const base = await readWav(join(sampleMediaDir(), 'ringing.wav'));
    const rate = base.sampleRate;
    expect(base.samples.length).toBe(6 * rate);
    const on = base.samples.subarray(Math.round(0.5 * rate), Math.round(1.5 * rate));
    const off = base.samples.subarray(Math.round(2.5 * rate), Math.round(5.5 * rate));
    expect(rms(off)).toBe(0);
    expect(powerAt(on, rate, 440)).toBeGreaterThan(100 * powerAt(on, rate, 600));
    expect(powerAt(on, rate, 480)).toBeGreaterThan(100 * powerAt(on, rate, 600));
    for (const [name, gain] of [['ringing_+10dB.wav', 10], ['ringing_-10dB.wav', -10], ['ringing_-20dB.wav', -20]] as const) {
      const louder = await readWav(join(sampleMediaDir(), name));
      const level = db(rms(louder.samples.subarray(Math.round(0.5 * rate), Math.round(1.5 * rate))) / rms(on));
      expect(Math.abs(level - gain)).toBeLessThan(0.2);
    }
    // +10 dB stays below full scale.
    const loud = await readWav(join(sampleMediaDir(), 'ringing_+10dB.wav'));
    expect(Math.max(...loud.samples.subarray(0, 2 * rate))).toBeLessThan(32767);
  });

  it('are found by name when the configured folder does not have them; a file that is there wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sep-media-'));
    try {
      expect(resolveMediaFile('ringing.wav', dir)).toBe(join(sampleMediaDir(), 'ringing.wav'));
      expect(resolveMediaFile('callwait.wav', dir)).toBe(join(sampleMediaDir(), 'callwait.wav'));
      writeFileSync(join(dir, 'ringing.wav'), 'mine');
      expect(resolveMediaFile('ringing.wav', dir)).toBe(join(dir, 'ringing.wav'));
      // Not a sample name, or not a bare name: the configured path, found or not.
      expect(resolveMediaFile('bell.wav', dir)).toBe(join(dir, 'bell.wav'));
      expect(resolveMediaFile('sounds/ringing.wav', dir)).toBe(join(dir, 'sounds', 'ringing.wav'));
      expect(resolveMediaFile('/etc/ringing.wav', dir)).toBe('/etc/ringing.wav');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
