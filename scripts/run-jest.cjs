// `npm test`'s jest step, in two passes: the suites that judge timing (audio judged as a listener
// would, a MOS, an event-loop gap, a sound server's latency) run alone, one at a time, after the
// others, which run two at a time. A suite says it is timing-sensitive with the token
// `@serial-test` in its first lines. With arguments (`npm test -- packages/media`), jest runs once
// with them, as it would by itself. Exits with the first non-zero code of the passes.
const { spawnSync } = require('node:child_process');
const { openSync, readSync, closeSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const jest = join(root, 'node_modules', '.bin', 'jest');
const extra = process.argv.slice(2);

function run(args) {
  const result = spawnSync(jest, args, { cwd: root, stdio: 'inherit' });
  if (result.error) {
    process.stderr.write(`jest could not be run: ${result.error.message}\n`);
    return 1;
  }
  return result.status ?? 1;
}

/** Whether a test file's first 2 kB carry the token. */
function serial(file) {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(2048);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, length).toString('utf8').includes('@serial-test');
  } finally {
    closeSync(fd);
  }
}

if (extra.length > 0) process.exit(run(extra));

const listed = spawnSync(jest, ['--listTests', '--json'], { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20 });
if (listed.status !== 0) {
  process.stderr.write(`jest --listTests failed:\n${listed.stderr}\n`);
  process.exit(listed.status ?? 1);
}
const files = JSON.parse(listed.stdout);
const alone = files.filter(serial).sort();
const together = files.filter((file) => !alone.includes(file)).sort();
process.stdout.write(`jest: ${together.length} suites two at a time, then ${alone.length} timing-sensitive ones alone\n`);
const first = run(['--maxWorkers=2', '--runTestsByPath', ...together]);
const second = alone.length > 0 ? run(['--runInBand', '--runTestsByPath', ...alone]) : 0;
process.exit(first !== 0 ? first : second);
