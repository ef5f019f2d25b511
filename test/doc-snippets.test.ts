// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerAvailable, PulseAudioServer, runProcess, type ProcessRun } from '@sip-endpoint/test-support';

const root = join(__dirname, '..');

/** A ```ts block of a doc. */
interface Snippet {
  /** The doc, relative to the repository: `packages/softphone/README.md`. */
  doc: string;
  /** The line of its opening fence in the doc (1-based). */
  line: number;
  code: string;
  /** `examples/<file>` when the line before the fence is `<!-- snippet: fragment of examples/<file> -->`. */
  fragmentOf: string | undefined;
}

/** The docs whose snippets are run: the README, the guides (not the generated API pages) and each package's README. */
function docs(): string[] {
  const guides = readdirSync(join(root, 'docs'), { withFileTypes: true }).filter((entry) => entry.isFile() && entry.name.endsWith('.md')).map((entry) => `docs/${entry.name}`);
  const packages = readdirSync(join(root, 'packages')).filter((name) => existsSync(join(root, 'packages', name, 'README.md'))).map((name) => `packages/${name}/README.md`);
  return ['README.md', ...guides.sort(), ...packages.sort()];
}

const FRAGMENT = /^<!-- snippet: fragment of (examples\/[\w.-]+\.ts) -->$/;

function snippetsOf(doc: string): Snippet[] {
  const lines = readFileSync(join(root, doc), 'utf8').split('\n');
  const found: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) end++;
    if (['ts', 'typescript'].includes(open[2]!)) {
      const before = i > 0 ? lines[i - 1]! : '';
      // A marker that does not parse would silently turn a fragment into a program (or the reverse).
      if (before.includes('<!-- snippet') && !FRAGMENT.test(before)) throw new Error(`${doc}:${i}: unknown snippet marker ${before}`);
      const code = lines.slice(i + 1, end).map((line) => line.slice(open[1]!.length)).join('\n');
      found.push({ doc, line: i + 1, code: `${code}\n`, fragmentOf: FRAGMENT.exec(before)?.[1] });
    }
    i = end;
  }
  return found;
}

const snippets = docs().flatMap(snippetsOf);
const programs = snippets.filter((snippet) => snippet.fragmentOf === undefined);
const fragments = snippets.filter((snippet) => snippet.fragmentOf !== undefined);
const where = (snippet: Snippet): string => `${snippet.doc}:${snippet.line}`;

/**
 * What a snippet may print on stderr besides nothing: none so far. A snippet that needs a warning
 * here is listed with the warning's exact text and the reason it is expected.
 */
const ALLOWED_STDERR: readonly RegExp[] = [];

/** Code lines without indentation and trailing comments, blank lines dropped (as test/getting-started.test.ts compares them). */
const codeLines = (text: string): string[] =>
  text.split('\n').map((line) => line.replace(/\s*\/\/ .*$/, '').trim()).filter((line) => line !== '');

type Run = ProcessRun;

function run(command: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return runProcess(command, args, { cwd, timeoutMs, env });
}

// The snippets are written inside the repository (a git-ignored `.snippets/` folder, one subfolder
// per run), so that node_modules and tsconfig.base.json's paths resolve from them as from the examples.
const snippetRoot = join(root, '.snippets');
let runDir: string;
const fileOf = (snippet: Snippet): string => join(runDir, `${snippet.doc.replace(/\W+/g, '-')}-${snippet.line}.mts`);
let typeCheck: Promise<Run>;

/**
 * A private PulseAudio server for the snippets that use the sound server's devices (its
 * `PULSE_SERVER` in their environment): null sinks only, one of them a Jabra headset's.
 */
let pulse: PulseAudioServer | undefined;

beforeAll(async () => {
  if (peerAvailable('pulseaudio')) pulse = await PulseAudioServer.start({ sinks: [{ name: 'builtin', description: 'Built-in Audio Analog Stereo' }, { name: 'jabra', description: 'Jabra EVOLVE 40 Stereo' }] });
}, 25000);

beforeAll(() => {
  mkdirSync(snippetRoot, { recursive: true });
  runDir = mkdtempSync(join(snippetRoot, 'run-'));
  for (const snippet of programs) writeFileSync(fileOf(snippet), snippet.code);
  // Strict, with tsconfig.base.json's module settings and paths, without jest's globals: a snippet
  // that only runs by luck (an implicit any, a possibly undefined value) fails here. Started now,
  // it runs while the snippets do.
  writeFileSync(
    join(runDir, 'tsconfig.json'),
    JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { noEmit: true, strict: true, types: ['node'], declaration: false, declarationMap: false, sourceMap: false }, include: ['*.mts'] }),
  );
  typeCheck = run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(runDir, 'tsconfig.json')], root, 60000);
});

afterAll(async () => {
  await pulse?.stop();
  await typeCheck?.catch(() => undefined);
  rmSync(runDir, { recursive: true, force: true });
});

describe('the docs\' TypeScript snippets', () => {
  it('are found in the guide and in the README of every published package, which has a usage snippet that runs', () => {
    const published = readdirSync(join(root, 'packages')).filter((name) => JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')).private !== true);
    expect(published.length).toBe(6);
    expect([...new Set(snippets.map((snippet) => snippet.doc))]).toEqual(expect.arrayContaining(['docs/getting-started.md', ...published.map((name) => `packages/${name}/README.md`)]));
    for (const name of published) expect(programs.filter((snippet) => snippet.doc === `packages/${name}/README.md`).length).toBeGreaterThan(0);
    // Fragments are the exception: a doc shows a whole program unless it walks through an example.
    expect(fragments.length).toBeLessThan(programs.length);
  });

  it.each(programs.map((snippet) => [where(snippet), snippet] as const))('%s runs as written: exit code 0, nothing on stderr', async (_, snippet) => {
    // A fresh working directory, which is also the snippet's os.tmpdir(): what it writes, in either, goes with it.
    const cwd = mkdtempSync(join(tmpdir(), 'doc-snippet-'));
    try {
      const result = await run(join(root, 'node_modules', '.bin', 'tsx'), ['--tsconfig', join(root, 'tsconfig.base.json'), fileOf(snippet)], cwd, 30000, { ...process.env, TMPDIR: cwd, ...(pulse ? { PULSE_SERVER: pulse.server } : {}) });
      const stderr = result.stderr.split('\n').filter((line) => line.trim() !== '' && !ALLOWED_STDERR.some((allowed) => allowed.test(line)));
      if (result.code !== 0 || stderr.length > 0) {
        const how = result.code === null ? `was killed (${result.signal ?? '?'}) after ${result.ms} ms` : `exited with ${result.code} after ${result.ms} ms`;
        throw new Error(`the snippet at ${where(snippet)} ${how}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}--- snippet\n${snippet.code}`);
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 40000);

  it('type-check, strict, with the module settings of tsconfig.base.json', async () => {
    const result = await typeCheck;
    const names = new Map(programs.map((snippet) => [fileOf(snippet).slice(root.length + 1), where(snippet)]));
    // tsc names the temporary file: name the doc and line instead.
    let output = result.stdout + result.stderr;
    for (const [file, doc] of names) output = output.split(file).join(`${doc} (${file})`);
    expect(output).toBe('');
    expect(result.code).toBe(0);
  }, 60000);

  it.each(fragments.map((snippet) => [where(snippet), snippet] as const))('%s, marked as a fragment, shows only lines of the example it names, which the tests run', (_, snippet) => {
    const example = join(root, snippet.fragmentOf!);
    expect(existsSync(example)).toBe(true);
    const exampleLines = new Set(codeLines(readFileSync(example, 'utf8')));
    expect(codeLines(snippet.code).filter((line) => !exampleLines.has(line))).toEqual([]);
    // The example is run by a test: runExample('<file>') in test/, or an import of it in a package's tests.
    const name = snippet.fragmentOf!.slice('examples/'.length);
    const testFiles = [join(root, 'test'), ...readdirSync(join(root, 'packages')).map((pkg) => join(root, 'packages', pkg, 'test'))]
      .filter((dir) => existsSync(dir))
      .flatMap((dir) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.test.ts')).map((file) => join(dir, file)));
    const runners = testFiles.filter((file) => new RegExp(`runExample\\('${name}'|'examples', '${name}'`).test(readFileSync(file, 'utf8')));
    expect(runners.length).toBeGreaterThan(0);
  });
});
