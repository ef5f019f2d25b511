import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerAvailable } from '@sip-endpoint/test-support';

describe('a missing peer is never a silent skip', () => {
  const saved = { allow: process.env['SEP_ALLOW_MISSING_PEERS'], file: process.env['SEP_MISSING_PEERS_FILE'], ci: process.env['CI'] };
  afterEach(() => {
    for (const [key, value] of [['SEP_ALLOW_MISSING_PEERS', saved.allow], ['SEP_MISSING_PEERS_FILE', saved.file], ['CI', saved.ci]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('an installed peer runs its tests', () => {
    expect(peerAvailable('sh')).toBe(true);
  });

  it('a missing one runs them too (they fail, naming it), unless SEP_ALLOW_MISSING_PEERS=1 skips them and records why', () => {
    delete process.env['CI'];
    delete process.env['SEP_ALLOW_MISSING_PEERS'];
    expect(peerAvailable('no-such-peer-program')).toBe(true);
    const record = join(tmpdir(), `sep-missing-peers-test-${process.pid}`);
    writeFileSync(record, '');
    process.env['SEP_ALLOW_MISSING_PEERS'] = '1';
    process.env['SEP_MISSING_PEERS_FILE'] = record;
    expect(peerAvailable('no-such-peer-program')).toBe(false);
    expect(readFileSync(record, 'utf8')).toBe('no-such-peer-program\n');
  });

  it('under CI=true the opt-out does not count: a missing peer runs its tests, which fail', () => {
    process.env['CI'] = 'true';
    process.env['SEP_ALLOW_MISSING_PEERS'] = '1';
    delete process.env['SEP_MISSING_PEERS_FILE'];
    expect(peerAvailable('no-such-peer-program')).toBe(true);
  });
});
