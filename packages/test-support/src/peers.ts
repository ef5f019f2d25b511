import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';

/**
 * Whether a test may run against the peer program `command` (sipp, kamailio, baresip, ffmpeg, ...).
 *
 * @remarks
 * A missing peer is a failure, never a silent skip: this answers true whether or not the program
 * is installed, so that the test runs and fails saying what is missing, unless the run opts out
 * with `SEP_ALLOW_MISSING_PEERS=1`. Then it answers false (the caller skips), and the skip is
 * recorded for the run's last line (`scripts/jest-summary-reporter.cjs` names the missing peers).
 * Under `CI=true` the opt-out does not count: in CI a missing peer always fails.
 */
export function peerAvailable(command: string): boolean {
  if (spawnSync('sh', ['-c', `command -v ${command}`]).status === 0) return true;
  if (process.env['SEP_ALLOW_MISSING_PEERS'] !== '1' || process.env['CI'] === 'true') return true;
  const record = process.env['SEP_MISSING_PEERS_FILE'];
  if (record) appendFileSync(record, `${command}\n`);
  return false;
}
