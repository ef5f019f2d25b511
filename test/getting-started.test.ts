import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { guideBlocks } from './support/run-example';

const root = join(__dirname, '..');
const guide = readFileSync(join(root, 'docs', 'getting-started.md'), 'utf8');

/** Code lines without indentation and trailing comments, blank lines dropped. */
const codeLines = (lines: readonly string[]): string[] =>
  lines.map((line) => line.replace(/\s*\/\/ .*$/, '').trim()).filter((line) => line !== '');

/** The guide's TypeScript blocks, each with the example it is an excerpt of (`<!-- snippet: fragment of examples/<file> -->` on the line before it). */
const tsBlocks = [...guide.matchAll(/^(?:(<!--.*-->)\n)?```ts\n([\s\S]*?)^```$/gm)].map((match) => ({
  fragmentOf: /^<!-- snippet: fragment of examples\/([\w.-]+\.ts) -->$/.exec(match[1] ?? '')?.[1],
  lines: match[2]!.trimEnd().split('\n'),
}));

describe('docs/getting-started.md', () => {
  it('shows code of the examples: each TypeScript block is an excerpt whose every line is a line of the example it names (demo.ts, agent-desktop.ts or connector-client.ts), or a whole program (test/doc-snippets.test.ts runs it)', () => {
    expect(tsBlocks.length).toBe(guideBlocks().filter((block) => block.language === 'ts').length);
    const excerpts = tsBlocks.filter((block) => block.fragmentOf !== undefined);
    expect(excerpts.length).toBeGreaterThanOrEqual(4);
    expect(new Set(excerpts.map((block) => block.fragmentOf))).toEqual(new Set(['demo.ts', 'agent-desktop.ts', 'connector-client.ts']));
    for (const block of excerpts) {
      const exampleLines = new Set(codeLines(readFileSync(join(root, 'examples', block.fragmentOf!), 'utf8').split('\n')));
      expect(codeLines(block.lines).filter((line) => !exampleLines.has(line))).toEqual([]);
    }
  });

  it('uses no helper of the demo that it does not show (synthesizePrompt is the demo\'s own)', () => {
    for (const block of tsBlocks) {
      const text = block.lines.join('\n');
      if (text.includes('synthesizePrompt')) expect(text).toContain('function synthesizePrompt');
    }
  });

  it('gives the commands that run them', () => {
    const commands = guideBlocks().filter((block) => block.language === 'sh').flatMap((block) => block.lines);
    expect(commands).toEqual(['npm ci && npm run demo', 'npm run build && npx tsx examples/agent-desktop.ts', 'npm run build && npx tsx examples/connector-client.ts']);
    const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;
    expect(scripts.demo).toBe('npm run build && tsx examples/demo.ts');
    // tsx is not installed globally: a command the reader types runs it with npx (and names a file
    // that exists); a bare `tsx ...` may only quote a package.json script, where npm finds it.
    const inline = [...guide.matchAll(/`([^`\n]*\btsx [^`\n]*)`/g)].map((match) => match[1]!);
    const uses = [...commands, ...inline].flatMap((command) => command.split(' && ')).filter((command) => /\btsx /.test(command));
    expect(uses.length).toBeGreaterThanOrEqual(4);
    for (const use of uses) {
      if (use.startsWith('npx tsx ')) {
        const file = use.split(' ').slice(2).find((word) => word.endsWith('.ts'));
        expect(file !== undefined && existsSync(join(root, file))).toBe(true);
      } else {
        expect(Object.values(scripts).filter((script) => script.split(' && ').includes(use))).toHaveLength(1);
      }
    }
  });
});
