// Keeps the mutation scores of the last StrykerJS run of each group and writes them into
// docs/testing.md, between its `mutation-scores` markers: per folder, per file, and every mutant
// that survived or was marked equivalent. `npm run test:mutation` runs it after StrykerJS.
//
// StrykerJS's reports (reports/mutation/<group>.json) stay on the machine that ran them
// (gitignored, megabytes each). What the doc needs of them is kept in mutation/scores.json,
// committed: a group's fresh report replaces that group's files there, and the groups not run
// again keep their last results, whichever machine ran them.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: 'Killed' | 'Survived' | 'NoCoverage' | 'Timeout' | 'CompileError' | 'RuntimeError' | 'Ignored' | 'Pending';
  statusReason?: string;
  location: { start: { line: number; column: number } };
}

interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

interface Tally {
  killed: number;
  survived: number;
  noCoverage: number;
  timeout: number;
  ignored: number;
  static: number;
  errors: number;
}

/** What is kept of one file's mutants: the counts, and the mutants the doc lists. */
interface FileScore {
  tally: Tally;
  alive: { line: number; mutator: string; status: string; replacement?: string }[];
  equivalent: { line: number; mutator: string; reason: string }[];
  /** When the file was last run alone (`npm run test:mutation -- <file>`), after its group's run. */
  run?: string;
}

/** mutation/scores.json: when each group last ran (ISO time), and its files' scores. */
interface Scores {
  runs: Record<string, string>;
  files: Record<string, FileScore>;
}

/** The folders the scores are given for (issue: "where a wrong answer is silent"), by path prefix. */
const FOLDERS: [string, string][] = [
  ['media: codecs', 'packages/media/src/codecs/'],
  ['media: jitter buffer and concealment', 'packages/media/src/jitter/'],
  ['media: RTP, RTCP and statistics', 'packages/media/src/rtp/'],
  ['media: voice quality (E-model, VQ reports)', 'packages/media/src/quality/'],
  ['media: DTMF', 'packages/media/src/dtmf/'],
  ['media: SDP negotiation (SDES a=crypto included)', 'packages/media/src/sdp/'],
  ['media: SRTP and SRTCP', 'packages/media/src/srtp/'],
  ['media: ICE, STUN and TURN', 'packages/media/src/ice/'],
  ['policy', 'packages/policy/src/'],
  ['config: parsing', 'packages/config/src/'],
];

/** Each StrykerJS group (stryker.config.mjs) and the folder its files are in. */
const GROUP_FOLDER: Record<string, string> = {
  codecs: 'packages/media/src/codecs/',
  jitter: 'packages/media/src/jitter/',
  rtp: 'packages/media/src/rtp/',
  quality: 'packages/media/src/quality/',
  dtmf: 'packages/media/src/dtmf/',
  sdp: 'packages/media/src/sdp/',
  srtp: 'packages/media/src/srtp/',
  ice: 'packages/media/src/ice/',
  policy: 'packages/policy/src/',
  config: 'packages/config/src/',
};

const root = join(__dirname, '..');
const scoresPath = join(root, 'mutation/scores.json');
const scores: Scores = existsSync(scoresPath) ? (JSON.parse(readFileSync(scoresPath, 'utf8')) as Scores) : { runs: {}, files: {} };

const empty = (): Tally => ({ killed: 0, survived: 0, noCoverage: 0, timeout: 0, ignored: 0, static: 0, errors: 0 });

/** A mutant in code that runs when the module loads, left out by `ignoreStatic` (not marked by us). */
const isStatic = (mutant: Mutant): boolean => mutant.status === 'Ignored' && (mutant.statusReason ?? '').startsWith('Static mutant');

function add(tally: Tally, mutant: Mutant): void {
  if (mutant.status === 'Killed') tally.killed++;
  else if (mutant.status === 'Survived') tally.survived++;
  else if (mutant.status === 'NoCoverage') tally.noCoverage++;
  else if (mutant.status === 'Timeout') tally.timeout++;
  else if (isStatic(mutant)) tally.static++;
  else if (mutant.status === 'Ignored') tally.ignored++;
  else tally.errors++;
}

function fileScore(mutants: Mutant[]): FileScore {
  const tally = empty();
  for (const mutant of mutants) add(tally, mutant);
  return {
    tally,
    alive: mutants
      .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
      .map((m) => ({ line: m.location.start.line, mutator: m.mutatorName, status: m.status, ...(m.replacement ? { replacement: m.replacement.replace(/\s+/g, ' ').slice(0, 80) } : {}) })),
    equivalent: mutants.filter((m) => m.status === 'Ignored' && !isStatic(m)).map((m) => ({ line: m.location.start.line, mutator: m.mutatorName, reason: m.statusReason ?? '' })),
  };
}

// A group's report newer than its last recorded run replaces that group's files; a report of
// files run alone (<group>.files.json) replaces those files' results only.
const reportDir = join(root, 'reports/mutation');
const reports = (existsSync(reportDir) ? readdirSync(reportDir).filter((name) => name.endsWith('.json') && !name.endsWith('.incremental.json')) : [])
  .map((name) => ({ name, group: name.replace(/(\.files)?\.json$/, ''), alone: name.endsWith('.files.json'), when: statSync(join(reportDir, name)).mtime }))
  .sort((a, b) => a.when.getTime() - b.when.getTime());
const read = (name: string): [string, Report['files'][string]][] =>
  Object.entries((JSON.parse(readFileSync(join(reportDir, name), 'utf8')) as Report).files).map(([path, file]) => [relative(root, join(root, path)).replace(/\\/g, '/'), file]);
for (const { name, group, alone, when } of reports) {
  const folder = GROUP_FOLDER[group];
  if (folder === undefined) throw new Error(`reports/mutation/${name} is not a group's report (the groups are ${Object.keys(GROUP_FOLDER).join(', ')})`);
  const groupRun = scores.runs[group];
  if (alone) {
    for (const [path, file] of read(name)) {
      const last = scores.files[path]?.run ?? groupRun;
      if (last !== undefined && new Date(last) >= when) continue;
      scores.files[path] = { ...fileScore(file.mutants), run: when.toISOString() };
    }
    continue;
  }
  if (groupRun !== undefined && new Date(groupRun) >= when) continue;
  // A file run alone after this report keeps its own, newer result.
  const newer = (path: string): boolean => {
    const run = scores.files[path]?.run;
    return run !== undefined && new Date(run) >= when;
  };
  for (const path of Object.keys(scores.files)) if (path.startsWith(folder) && !newer(path)) delete scores.files[path];
  for (const [path, file] of read(name)) if (!newer(path)) scores.files[path] = fileScore(file.mutants);
  scores.runs[group] = when.toISOString();
}
scores.files = Object.fromEntries(Object.entries(scores.files).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(scoresPath, `${JSON.stringify(scores, null, 1)}\n`);

/** Stryker's score: detected (killed or timed out) over valid mutants (detected, survived, not covered). */
const score = (t: Tally): number => {
  const valid = t.killed + t.timeout + t.survived + t.noCoverage;
  return valid === 0 ? 100 : (100 * (t.killed + t.timeout)) / valid;
};

const row = (name: string, t: Tally): string =>
  `| ${name} | ${score(t).toFixed(1)} % | ${t.killed} | ${t.timeout} | ${t.survived} | ${t.noCoverage} | ${t.ignored} | ${t.static} |`;

function sum(into: Tally, t: Tally): void {
  for (const key of Object.keys(into) as (keyof Tally)[]) into[key] += t[key];
}

const files = Object.entries(scores.files);
const runs = Object.entries(scores.runs).sort(([a], [b]) => a.localeCompare(b));
const stamp = (iso: string): string => `${iso.slice(0, 16).replace('T', ' ')} UTC`;
const alone = files.filter(([, file]) => file.run !== undefined).map(([path, file]) => [path, file.run!] as const);
const lastRun = [...runs, ...alone].reduce((latest, [, when]) => (when > latest ? when : latest), '');

const lines: string[] = [];
lines.push(`Last run: ${stamp(lastRun)}, \`npm run test:mutation\` (StrykerJS, jest runner, per-test coverage). Each group's run: ${runs.map(([group, when]) => `${group} ${stamp(when)}`).join(', ')}${alone.length > 0 ? `; files run alone since: ${alone.map(([path, when]) => `\`${path}\` ${stamp(when)}`).join(', ')}` : ''}; a test added since its file's run is not counted.`);
lines.push('');
lines.push('| folder | score | killed | timed out | survived | no coverage | equivalent (ignored) | static (not run) |');
lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
const total = empty();
for (const [name, prefix] of FOLDERS) {
  const tally = empty();
  for (const [path, file] of files) if (path.startsWith(prefix)) sum(tally, file.tally);
  sum(total, tally);
  const measured = files.some(([path]) => path.startsWith(prefix));
  lines.push(measured ? row(name, tally) : `| ${name} | not run yet | | | | | | |`);
}
lines.push(row('**all**', total));
lines.push('');
lines.push('<details><summary>Per file</summary>');
lines.push('');
lines.push('| file | score | killed | timed out | survived | no coverage | equivalent (ignored) | static (not run) |');
lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [path, file] of files) lines.push(row(`\`${path}\``, file.tally));
lines.push('');
lines.push('</details>');
lines.push('');
const survivors = files.flatMap(([path, file]) => file.alive.map((m) => ({ path, m })));
const ignored = files.flatMap(([path, file]) => file.equivalent.map((m) => ({ path, m })));
lines.push(`Mutants left alive: ${survivors.length}; marked equivalent in the source (a \`// Stryker disable\` comment with the reason): ${ignored.length}.`);
if (survivors.length > 0) {
  lines.push('');
  lines.push('<details><summary>Alive</summary>');
  lines.push('');
  for (const { path, m } of survivors) lines.push(`- \`${path}:${m.line}\` ${m.mutator} (${m.status})${m.replacement ? `: \`${m.replacement}\`` : ''}`);
  lines.push('');
  lines.push('</details>');
}
if (ignored.length > 0) {
  lines.push('');
  lines.push('<details><summary>Equivalent, with the reason</summary>');
  lines.push('');
  for (const { path, m } of ignored) lines.push(`- \`${path}:${m.line}\` ${m.mutator}: ${m.reason}`);
  lines.push('');
  lines.push('</details>');
}

const docPath = join(root, 'docs/testing.md');
const doc = readFileSync(docPath, 'utf8');
const start = '<!-- mutation-scores:start -->';
const end = '<!-- mutation-scores:end -->';
const from = doc.indexOf(start);
const to = doc.indexOf(end);
if (from < 0 || to < from) throw new Error(`docs/testing.md has no ${start} ... ${end} markers`);
writeFileSync(docPath, `${doc.slice(0, from + start.length)}\n${lines.join('\n')}\n${doc.slice(to)}`);
process.stdout.write(`${lines.slice(0, FOLDERS.length + 5).join('\n')}\n`);
