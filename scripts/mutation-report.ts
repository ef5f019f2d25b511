// Writes the mutation scores of the last StrykerJS run of each group (reports/mutation/<group>.json)
// into docs/testing.md, between its `mutation-scores` markers: per folder, per file, and every
// mutant that survived or was marked equivalent. `npm run test:mutation` runs it after StrykerJS.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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

const root = join(__dirname, '..');
const reportDir = join(root, 'reports/mutation');
const reports = readdirSync(reportDir)
  .filter((name) => name.endsWith('.json') && !name.endsWith('.incremental.json'))
  .map((name) => ({ name, when: statSync(join(reportDir, name)).mtime, report: JSON.parse(readFileSync(join(reportDir, name), 'utf8')) as Report }));
const report: Report = { files: Object.assign({}, ...reports.map((r) => r.report.files)) as Report['files'] };
const lastRun = reports.reduce((latest, r) => (r.when > latest ? r.when : latest), new Date(0));

interface Tally {
  killed: number;
  survived: number;
  noCoverage: number;
  timeout: number;
  ignored: number;
  static: number;
  errors: number;
}

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

/** Stryker's score: detected (killed or timed out) over valid mutants (detected, survived, not covered). */
const score = (t: Tally): number => {
  const valid = t.killed + t.timeout + t.survived + t.noCoverage;
  return valid === 0 ? 100 : (100 * (t.killed + t.timeout)) / valid;
};

const row = (name: string, t: Tally): string =>
  `| ${name} | ${score(t).toFixed(1)} % | ${t.killed} | ${t.timeout} | ${t.survived} | ${t.noCoverage} | ${t.ignored} | ${t.static} |`;

const files = Object.entries(report.files)
  .map(([path, file]) => [relative(root, join(root, path)).replace(/\\/g, '/'), file] as const)
  .sort(([a], [b]) => a.localeCompare(b));

const lines: string[] = [];
const stamp = (when: Date): string => `${when.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
lines.push(`Last run: ${stamp(lastRun)}, \`npm run test:mutation\` (StrykerJS, jest runner, per-test coverage). Each group's run: ${reports.map((r) => `${r.name.replace(/\.json$/, '')} ${stamp(r.when)}`).join(', ')}; a test added since its group's run is not counted.`);
lines.push('');
lines.push('| folder | score | killed | timed out | survived | no coverage | equivalent (ignored) | static (not run) |');
lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
const total = empty();
for (const [name, prefix] of FOLDERS) {
  const tally = empty();
  for (const [path, file] of files) if (path.startsWith(prefix)) for (const mutant of file.mutants) add(tally, mutant);
  for (const [path, file] of files) if (path.startsWith(prefix)) for (const mutant of file.mutants) add(total, mutant);
  const measured = files.some(([path]) => path.startsWith(prefix));
  lines.push(measured ? row(name, tally) : `| ${name} | not run yet | | | | | | |`);
}
lines.push(row('**all**', total));
lines.push('');
lines.push('<details><summary>Per file</summary>');
lines.push('');
lines.push('| file | score | killed | timed out | survived | no coverage | equivalent (ignored) | static (not run) |');
lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [path, file] of files) {
  const tally = empty();
  for (const mutant of file.mutants) add(tally, mutant);
  lines.push(row(`\`${path}\``, tally));
}
lines.push('');
lines.push('</details>');
lines.push('');
const survivors = files.flatMap(([path, file]) => file.mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage').map((m) => ({ path, m })));
const ignored = files.flatMap(([path, file]) => file.mutants.filter((m) => m.status === 'Ignored' && !isStatic(m)).map((m) => ({ path, m })));
lines.push(`Mutants left alive: ${survivors.length}; marked equivalent in the source (a \`// Stryker disable\` comment with the reason): ${ignored.length}.`);
if (survivors.length > 0) {
  lines.push('');
  lines.push('<details><summary>Alive</summary>');
  lines.push('');
  for (const { path, m } of survivors) lines.push(`- \`${path}:${m.location.start.line}\` ${m.mutatorName} (${m.status})${m.replacement ? `: \`${m.replacement.replace(/\s+/g, ' ').slice(0, 80)}\`` : ''}`);
  lines.push('');
  lines.push('</details>');
}
if (ignored.length > 0) {
  lines.push('');
  lines.push('<details><summary>Equivalent, with the reason</summary>');
  lines.push('');
  for (const { path, m } of ignored) lines.push(`- \`${path}:${m.location.start.line}\` ${m.mutatorName}: ${m.statusReason ?? ''}`);
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
