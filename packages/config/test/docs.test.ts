import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSettingsReference } from '@sip-endpoint/config';

const root = join(__dirname, '..', '..', '..');

describe('documentation generated from the table', () => {
  it('docs/configuration.md is exactly what the table generates (run `npm run docs:config` after changing the table)', () => {
    expect(readFileSync(join(root, 'docs', 'configuration.md'), 'utf8')).toBe(renderSettingsReference());
  });

  it('lists every row of the table', () => {
    const text = renderSettingsReference();
    for (const key of ['`rtp_port_min`', '`reg_match_received_rport` (also `reg_match_received_number`)', '`tls-target-name-check`', '`<codec>.payload_type`']) {
      expect(text).toContain(key);
    }
  });
});

describe('the package README', () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const example = readFileSync(join(root, 'examples', 'config-usage.ts'), 'utf8');

  it('shows examples/config-usage.ts verbatim', () => {
    expect(readme).toContain(example);
  });

  it('its usage snippet runs and prints what its comments say', async () => {
    const lines: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
    });
    try {
      // A computed path keeps the type-checker out of the example (examples/ is its own project).
      await import(join(root, 'examples', 'config-usage.ts'));
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual([
      'sipserver.example.com:5060',
      '20999',
      '["Jabra.*","*"]',
      expect.stringMatching(/^line 11: policy\.endpoint\.rtp_inactivity_timeout: 500 is outside 5 to 150; 150 is used$/),
      'true sipserver-dr.example.com',
      'ERR_CONFIG_INVALID_RANGE',
    ]);
  });
});
