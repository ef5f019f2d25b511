import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWav } from '@sip-endpoint/media';
import { dominantFrequency } from '@sip-endpoint/media/testing';
import { waitFor } from '@sip-endpoint/test-support';

const root = join(__dirname, '..', '..', '..');

describe('examples/media-loopback.ts', () => {
  it('is shown verbatim in the package README', () => {
    expect(readFileSync(join(__dirname, '..', 'README.md'), 'utf8')).toContain(readFileSync(join(root, 'examples', 'media-loopback.ts'), 'utf8'));
  });

  it('runs: Bob hears Alice\'s tone and the WAV is written', async () => {
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => {
      lines.push(line);
    });
    try {
      // A computed path keeps the type-checker out of the example (examples/ is its own project).
      await import(join(root, 'examples', 'media-loopback.ts'));
      await waitFor(() => lines.length >= 2, 4000, 'the example\'s two lines');
    } finally {
      spy.mockRestore();
    }
    // The example runs one second of wall-clock time: about 50 packets and 1.0 s of audio, less
    // when a loaded machine holds the process up (the media clock then catches up in a burst).
    const [, packets] = /^Bob received (\d+) packets, lost 0, jitter buffer at \d+ ms$/.exec(lines[0] ?? '') ?? [];
    expect(Number(packets)).toBeGreaterThanOrEqual(25);
    expect(Number(packets)).toBeLessThanOrEqual(60);
    const [, file, seconds] = /^wrote (\S+bob-heard\.wav): (\d\.\d) s at 16000 Hz$/.exec(lines[1] ?? '') ?? [];
    expect(Number(seconds)).toBeGreaterThanOrEqual(0.5);
    expect(Number(seconds)).toBeLessThanOrEqual(1.2);
    // What was written is Alice's tone, as Bob heard it.
    const wav = await readWav(file!);
    expect(wav.sampleRate).toBe(16000);
    expect(dominantFrequency(wav.samples.subarray(Math.round(wav.sampleRate * 0.2)), wav.sampleRate)).toBeCloseTo(440, -1);
  });
});
