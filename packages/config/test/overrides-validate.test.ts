import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/load-config';
import { validateOverrides } from '../src/overrides';

// validateOverrides names the first bad key or value exactly; loadConfig says which file it could
// not read and why.

function refusal(overrides: unknown): unknown {
  try {
    validateOverrides(overrides);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('validateOverrides', () => {
  it('takes keys of both forms and every kind of value', () => {
    expect(refusal({ 'policy.endpoint.public_address': '$auto', 'codecs.enabled.a/b+c': 1, 'user:0': '1001', ' server.1 ': true, 'proxies.proxy0.x': null, 'codecs.enabled.audio': ['pcmu'] })).toBeUndefined();
    expect(refusal({})).toBeUndefined();
  });

  it.each([
    [{ 'policy.endpoint': '1' }, 'policy.endpoint', 'override policy.endpoint is not a setting key (domain.section.setting, or user:N, server:N, protocol:N)'],
    [{ 'a~b.c.d': '1' }, 'a~b.c.d', 'override a~b.c.d is not a setting key (domain.section.setting, or user:N, server:N, protocol:N)'],
    [{ 'user:x': '1' }, 'user:x', 'override user:x is not a setting key (domain.section.setting, or user:N, server:N, protocol:N)'],
    [{ 'policy.endpoint.gui_call_lines': { nested: 1 } }, 'policy.endpoint.gui_call_lines', 'override policy.endpoint.gui_call_lines must be a string, number, boolean, null or list of strings'],
    [{ 'codecs.enabled.a/b': [1] }, 'codecs.enabled.a/b', 'override codecs.enabled.a/b must be a string, number, boolean, null or list of strings'],
    [{ 'policy.session.auto_answer': '1', 'policy.session.x': undefined }, 'policy.session.x', 'override policy.session.x must be a string, number, boolean, null or list of strings'],
  ])('refuses %j, naming %s', (overrides, key, message) => {
    expect(refusal(overrides)).toMatchObject({ code: 'ERR_CONFIG_INVALID_OVERRIDE', key, message: `${message} (setting ${key})` });
  });

  it.each([['policy'], [null], [['a.b.c']], [7]])('refuses %j: not an object', (overrides) => {
    expect(refusal(overrides)).toMatchObject({ code: 'ERR_CONFIG_INVALID_OVERRIDE', key: undefined, message: 'overrides must be an object of setting keys to values' });
  });
});

describe('loadConfig', () => {
  it('names the file and the reason it could not be read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sep-config-'));
    try {
      await expect(loadConfig(join(dir, 'missing.config'))).rejects.toMatchObject({ code: 'ERR_CONFIG_READ', message: expect.stringMatching(new RegExp(`^cannot read ${dir}/missing\\.config: ENOENT`)), key: undefined, line: undefined });
      await expect(loadConfig(dir)).rejects.toMatchObject({ code: 'ERR_CONFIG_READ', message: expect.stringMatching(/EISDIR/), cause: expect.objectContaining({ code: 'EISDIR' }) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
