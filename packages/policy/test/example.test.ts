import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

describe('examples/custom-policy.ts', () => {
  it('is shown verbatim in the package README', () => {
    expect(readFileSync(join(__dirname, '..', 'README.md'), 'utf8')).toContain(readFileSync(join(root, 'examples', 'custom-policy.ts'), 'utf8'));
  });

  it('runs: the header answers at once, otherwise the default rules apply', async () => {
    const lines: unknown[][] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args);
    });
    try {
      // A computed path keeps the type-checker out of the example (examples/ is its own project).
      await import(join(root, 'examples', 'custom-policy.ts'));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual([
      [{ answer: true, delayMs: 0, reason: 'X-Auto-Answer: true' }],
      [{ answer: 'unknown', reason: 'auto-answer is blocked: use_headset is 1 and no headset is present' }],
      [false, 'Speakers (Realtek(R) Audio)'],
    ]);
  });
});
