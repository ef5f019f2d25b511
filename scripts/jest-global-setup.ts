import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
/** The names of the sample media files (packages/media/src/ringing/sample-ringtones.ts). */
const SAMPLES = ['ringing.wav', 'ringing_+10dB.wav', 'ringing_-10dB.wav', 'ringing_-20dB.wav', 'callwait.wav'];

/**
 * Before the tests: the file where skips for missing peers are recorded, and the sample media files @sip-endpoint/media ships are made by its build; a test
 * run without a build (npx jest) makes them here with the same script, against the sources.
 */
export default function globalSetup(): void {
  // Where test-support's peerAvailable records the peers a SEP_ALLOW_MISSING_PEERS=1 run skipped
  // for (the workers inherit this environment), for the summary reporter's last lines.
  const missing = join(tmpdir(), `sip-endpoint-missing-peers-${process.pid}`);
  writeFileSync(missing, '');
  process.env['SEP_MISSING_PEERS_FILE'] = missing;
  const dir = join(root, 'packages', 'media', 'media');
  if (SAMPLES.every((name) => existsSync(join(dir, name)))) return;
  execFileSync(join(root, 'node_modules', '.bin', 'tsx'), ['--tsconfig', join(root, 'tsconfig.base.json'), join(root, 'packages', 'media', 'scripts', 'make-ringtones.ts')], { stdio: 'inherit' });
}
