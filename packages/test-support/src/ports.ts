import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The first port of worker 1's range: 20000, or `SEP_TEST_PORT_BASE` for a second test run on the
 * same machine at the same time (the mutation run uses 7500: see mutation/jest.config.ts).
 */
const BASE = Number(process.env.SEP_TEST_PORT_BASE ?? '') || 20000;
/** Ports per jest worker: five workers stay below Linux's ephemeral range (32768 and up). */
const RANGE = 2500;
const WORKERS = 5;

/** Where a worker keeps its next free port across the test files it runs (each file has fresh modules). */
function counterFile(worker: number): string {
  const dir = join(tmpdir(), 'sip-endpoint-test-ports');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${process.ppid}-${process.pid}-${worker}`);
}

/**
 * A block of `count` consecutive ports (TCP and UDP) for one test: `first` to `first + count - 1`.
 *
 * @remarks
 * Each jest worker has a range of its own (`JEST_WORKER_ID`, or a StrykerJS runner's
 * `STRYKER_MUTATOR_WORKER`), so test files that run at the same
 * time on different workers never meet; within a worker files run one after another, and the
 * worker's next block follows the last one it gave (round its range), so that a socket a previous
 * file left closing is not reused at once.
 */
export function testPorts(count: number): number {
  if (!Number.isInteger(count) || count < 1 || count > 500) throw new RangeError(`testPorts: 1 to 500 ports, not ${count}`);
  // A jest worker's id, or a StrykerJS test runner's (its runners run jest in band, each in a process of its own).
  const stryker = process.env.STRYKER_MUTATOR_WORKER;
  const id = stryker !== undefined ? Number(stryker) + 1 : Number(process.env.JEST_WORKER_ID ?? '1');
  const worker = (Math.max(1, id || 1) - 1) % WORKERS;
  const start = BASE + worker * RANGE;
  const file = counterFile(worker);
  let next = start;
  try {
    next = Number(readFileSync(file, 'utf8')) || start;
  } catch {
    // first block of this worker
  }
  if (next < start || next + count > start + RANGE) next = start;
  writeFileSync(file, String(next + count));
  return next;
}
