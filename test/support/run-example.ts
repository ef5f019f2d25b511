import { runProcess, type ProcessRun } from '@sip-endpoint/test-support';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** What an example printed, and how it ended (the exit code is null when the time limit killed it). */
export type ExampleRun = ProcessRun;

/**
 * Runs `examples/<file>` with tsx, as `npm run demo` does, but against the packages' sources (the
 * examples' tsconfig maps `@sip-endpoint/*` to `packages/<name>/src`), so that no build is needed.
 */
export function runExample(file: string, args: string[] = [], timeoutMs = 40000): Promise<ExampleRun> {
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  return runProcess(tsx, ['--tsconfig', join(root, 'examples', 'tsconfig.json'), join(root, 'examples', file), ...args], { cwd: root, timeoutMs });
}

/** A printed line with every number replaced by `#`: times, call numbers, ports and figures vary from run to run. */
export function shape(line: string): string {
  return line.trim().replace(/\d+(\.\d+)?/g, '#');
}

/**
 * The blocks of `docs/getting-started.md`: its fenced code blocks, each with the language after
 * the fence (`ts`, `sh`, or empty for printed output).
 */
export function guideBlocks(): { language: string; lines: string[] }[] {
  const text = readFileSync(join(root, 'docs', 'getting-started.md'), 'utf8');
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((match) => ({ language: match[1]!, lines: match[2]!.trimEnd().split('\n') }));
}
