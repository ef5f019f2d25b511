// `npm run test:mutation [-- group|file ...]`: StrykerJS once per group of folders (see
// stryker.config.mjs), then the scores into docs/testing.md (scripts/mutation-report.ts). A group
// named on the command line runs alone; its report replaces that group's last one. A file named
// (packages/media/src/ice/ice-agent.ts) runs alone too, and replaces only that file's results.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// The groups and their file patterns: `dir/**/*.ts`, a brace list `dir/{a,b}.ts`, and `!file` to leave one out.
import { groups } from '../stryker.config.mjs';
import { inGroup } from './mutation-groups';

const all = Object.keys(groups);

const runs: { group: string; files: string[] }[] = [];
const refused: string[] = [];
for (const name of process.argv.slice(2)) {
  if (all.includes(name)) {
    runs.push({ group: name, files: [] });
    continue;
  }
  const group = all.find((candidate) => inGroup(name, groups[candidate as keyof typeof groups]));
  if (group === undefined || !existsSync(name)) {
    refused.push(name);
    continue;
  }
  const run = runs.find((r) => r.group === group && r.files.length > 0);
  if (run) run.files.push(name);
  else runs.push({ group, files: [name] });
}
if (refused.length > 0) {
  process.stderr.write(`not a group nor a file one mutates (see stryker.config.mjs): ${refused.join(', ')}; the groups are ${all.join(', ')}\n`);
  process.exit(2);
}
if (runs.length === 0) for (const group of all) runs.push({ group, files: [] });
let failed = false;
for (const { group, files } of runs) {
  process.stdout.write(`\n== mutation testing: ${group}${files.length > 0 ? ` (${files.join(', ')})` : ''}\n`);
  const run = spawnSync('npx', ['stryker', 'run'], { stdio: 'inherit', env: { ...process.env, SEP_MUTATION_GROUP: group, SEP_MUTATION_FILES: files.join(',') } });
  if (run.status !== 0) {
    process.stderr.write(`stryker failed on ${group} (exit ${run.status ?? run.signal})\n`);
    failed = true;
  }
}
const report = spawnSync('npx', ['tsx', 'scripts/mutation-report.ts'], { stdio: 'inherit' });
process.exit(failed || report.status !== 0 ? 1 : 0);
