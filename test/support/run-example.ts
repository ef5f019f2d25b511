import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** What an example printed, and how it ended. */
export interface ExampleRun {
  /** The exit code; null when the process was killed (the time limit). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `examples/<file>` with tsx, as `npm run demo` does, but against the packages' sources (the
 * examples' tsconfig maps `@sip-endpoint/*` to `packages/<name>/src`), so that no build is needed.
 */
export function runExample(file: string, args: string[] = [], timeoutMs = 40000): Promise<ExampleRun> {
  return new Promise((resolve) => {
    const tsx = join(root, 'node_modules', '.bin', 'tsx');
    execFile(tsx, ['--tsconfig', join(root, 'examples', 'tsconfig.json'), join(root, 'examples', file), ...args], { cwd: root, timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
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
