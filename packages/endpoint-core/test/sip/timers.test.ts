import { join } from 'node:path';
import { runProcess, testPorts } from '@sip-endpoint/test-support';

const root = join(__dirname, '..', '..', '..', '..');

describe('sip.js timers end with what they serve', () => {
  it('after a hold and a retrieve (two re-INVITEs), a hang-up and stop(), the process exits by itself', async () => {
    // sip.js 0.21.2 kept retransmitting a re-INVITE's 2xx, every 4 s without end, once a second
    // re-INVITE had replaced it and the dialog ended: a host's process never exited.
    const started = Date.now();
    const result = await runProcess(
      join(root, 'node_modules', '.bin', 'tsx'),
      ['--tsconfig', join(root, 'tsconfig.base.json'), join(__dirname, '..', 'fixtures', 'hold-retrieve-exit.mts'), String(testPorts(6)), String(testPorts(6)), String(testPorts(40))],
      { cwd: root, timeoutMs: 20000 },
    );
    expect(result).toMatchObject({ code: 0, stdout: 'stopped\n' });
    // The call takes about a second; a leftover retransmission would hold the process past 20 s.
    expect(Date.now() - started).toBeLessThan(15000);
  }, 30000);
});
