import { join } from 'node:path';
import { runProcess, testPorts } from '@sip-endpoint/test-support';

const root = join(__dirname, '..', '..', '..', '..');

describe('sip.js timers end with what they serve', () => {
  it('after a hold and a retrieve (two re-INVITEs), a hang-up and stop(), the process exits by itself', async () => {
    // sip.js 0.21.2 kept retransmitting a re-INVITE's 2xx, every 4 s without end, once a second
    // re-INVITE had replaced it and the dialog ended: a host's process never exited.
    // The run takes about 3 s (tsx and the call). A leftover retransmission holds the process for
    // ever, and a transaction timer (Timer B, F, H or J: 32 s, started a second or more into the
    // run) past 30 s: either way it is killed at 30 s and its code is null, not 0. No bound on the
    // time it took: a loaded machine may take several times as long.
    const result = await runProcess(
      join(root, 'node_modules', '.bin', 'tsx'),
      ['--tsconfig', join(root, 'tsconfig.base.json'), join(__dirname, '..', 'fixtures', 'hold-retrieve-exit.mts'), String(testPorts(6)), String(testPorts(6)), String(testPorts(40))],
      { cwd: root, timeoutMs: 30000 },
    );
    expect(result).toMatchObject({ code: 0, signal: null, stdout: 'stopped\n' });
  }, 45000);
});
