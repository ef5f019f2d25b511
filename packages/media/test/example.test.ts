import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
    expect(lines[0]).toMatch(/^Bob received (4[0-9]|5[0-9]) packets, lost 0, jitter buffer at \d+ ms$/);
    expect(lines[1]).toMatch(/bob-heard\.wav: 1\.0 s at 16000 Hz$/);
  });
});
