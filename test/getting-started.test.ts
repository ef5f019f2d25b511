import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { guideBlocks } from './support/run-example';

const root = join(__dirname, '..');

/** Code lines without indentation and trailing comments, blank lines dropped. */
const codeLines = (lines: readonly string[]): string[] =>
  lines.map((line) => line.replace(/\s*\/\/ .*$/, '').trim()).filter((line) => line !== '');

describe('docs/getting-started.md', () => {
  const examples = ['demo.ts', 'agent-desktop.ts', 'connector-client.ts'].map((file) => readFileSync(join(root, 'examples', file), 'utf8'));
  const exampleLines = new Set(examples.flatMap((source) => codeLines(source.split('\n'))));

  it('shows only code that is in the examples (each line of its TypeScript blocks is a line of demo.ts, agent-desktop.ts or connector-client.ts)', () => {
    const blocks = guideBlocks().filter((block) => block.language === 'ts');
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    for (const block of blocks) expect(codeLines(block.lines).filter((line) => !exampleLines.has(line))).toEqual([]);
  });

  it('gives the commands that run them', () => {
    const commands = guideBlocks().filter((block) => block.language === 'sh').flatMap((block) => block.lines);
    expect(commands).toEqual(['npm ci && npm run demo', 'npm run build && npx tsx examples/agent-desktop.ts', 'npm run build && npx tsx examples/connector-client.ts']);
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.demo).toBe('npm run build && tsx examples/demo.ts');
  });
});
