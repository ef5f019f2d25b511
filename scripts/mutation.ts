// `npm run test:mutation [-- group ...]`: StrykerJS once per group of folders (see
// stryker.config.mjs), then the scores into docs/testing.md (scripts/mutation-report.ts). A group
// named on the command line runs alone; its report replaces that group's last one.
import { spawnSync } from 'node:child_process';

const all = ['codecs', 'jitter', 'rtp', 'quality', 'dtmf', 'sdp', 'srtp', 'ice', 'policy', 'config'];
const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !all.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown group(s): ${unknown.join(', ')}; the groups are ${all.join(', ')}\n`);
  process.exit(2);
}
let failed = false;
for (const group of chosen.length > 0 ? chosen : all) {
  process.stdout.write(`\n== mutation testing: ${group}\n`);
  const run = spawnSync('npx', ['stryker', 'run'], { stdio: 'inherit', env: { ...process.env, SEP_MUTATION_GROUP: group } });
  if (run.status !== 0) {
    process.stderr.write(`stryker failed on ${group} (exit ${run.status ?? run.signal})\n`);
    failed = true;
  }
}
const report = spawnSync('npx', ['tsx', 'scripts/mutation-report.ts'], { stdio: 'inherit' });
process.exit(failed || report.status !== 0 ? 1 : 0);
