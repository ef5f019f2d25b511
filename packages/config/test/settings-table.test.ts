import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, EndpointConfig, parseConfig, SETTINGS, type SettingDefinition, type SettingKey } from '@sip-endpoint/config';
import { oneSetting } from './support/xml';

const rows = SETTINGS as readonly SettingDefinition[];

/** A concrete key for a table key: proxy<n> becomes proxy0, <codec> becomes PCMU/8000. */
function concrete(key: string): string {
  return key.replace('proxy<n>', 'proxy0').replace('<codec>', 'PCMU/8000');
}

/** A value the row's type must refuse, by type; `undefined` for types where every text is valid. */
function invalidSample(row: SettingDefinition): string | undefined {
  switch (row.type.label) {
    case 'integer':
      return row.type.parse('-1').ok ? 'twelve' : '-1';
    case 'flag':
      return '2';
    case 'decimal':
      return '0.5';
    case 'choice':
      return 'bogus-value';
    case 'code':
      return '9999';
    case 'regular expression':
      return '([a-z';
    case 'tab list':
      return 'foo,bar';
    case 'segment limit':
      return '10 GB';
    case 'expiry':
      return '0 day';
    case 'SRTP policy':
      return 'secure';
    case 'IP families':
      return 'IPv5';
    case 'device pairs':
      return '"unclosed:Speaker';
    case 'address':
      return 'not a host!';
    case 'port or empty':
      return '70000';
    case 'address list':
      return '10.0.0.1, example.com';
    default:
      return undefined;
  }
}

function parsedDefault(row: SettingDefinition): unknown {
  if (row.repeatable) return (row.default as readonly string[]).map((text) => (row.type.parse(text) as { value: unknown }).value);
  const parsed = row.type.parse(row.default as string);
  if (!parsed.ok) throw new Error(`default of ${row.key} does not parse`);
  return parsed.value;
}

describe('the settings table', () => {
  it('has one row per key, each described', () => {
    const keys = rows.map((row) => row.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const row of rows) expect(row.description.length).toBeGreaterThan(10);
  });

  it('holds every setting the specification names (test/fixtures/specification-setting-names.txt)', () => {
    const named = readFileSync(join(__dirname, 'fixtures', 'specification-setting-names.txt'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(named.length).toBeGreaterThan(75);
    const known = new Map(rows.flatMap((row) => [row.key, ...(row.aliases ?? []).map((alias) => row.key.replace(/[^.]+$/, alias))].map((name) => [name, row] as const)));
    expect(named.filter((name) => !known.has(name))).toEqual([]);
    expect(named.filter((name) => known.get(name)?.origin !== 'spec')).toEqual([]);
  });

  it('holds the settings real deployments send', () => {
    const keys = rows.map((row) => row.key);
    for (const key of [
      'policy.session.answer_sdp_priority',
      'policy.session.auto_answer_delay',
      'policy.session.reject_session_when_busy',
      'policy.session.number_sessions_for_busy',
      'policy.session.sip_code_when_busy',
      'policy.endpoint.sip_port_binding',
      'proxies.proxy<n>.reg_match_received_rport',
      'proxies.proxy<n>.domain',
    ]) {
      expect(keys).toContain(key);
    }
  });
});

describe.each(rows.map((row) => [row.key, row] as const))('setting %s', (key, row) => {
  const concreteKey = concrete(key) as SettingKey;

  if (row.default !== undefined) {
    it('defaults to its documented default when absent', () => {
      expect(EndpointConfig.defaults().get(concreteKey)).toEqual(parsedDefault(row));
    });
  } else {
    it('has a derived default described in words', () => {
      expect(row.defaultText).toBeTruthy();
    });
  }

  const invalid = invalidSample(row);
  if (invalid === undefined) {
    it('keeps any text as written, the empty text included', () => {
      for (const text of ['some value: with, punctuation', '']) {
        const config = parseConfig(oneSetting(concreteKey, text));
        const value = config.get(concreteKey);
        expect(row.repeatable ? value : [value]).toEqual([row.type.parse(text).ok ? (row.type.parse(text) as { value: unknown }).value : text]);
      }
    });
    return;
  }

  const rule = row.onInvalid;
  if (rule === 'error') {
    it(`refuses "${invalid}" with ERR_CONFIG_INVALID_SETTING naming the key and line`, () => {
      let caught: unknown;
      try {
        parseConfig(oneSetting(concreteKey, invalid));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect(caught).toMatchObject({ code: 'ERR_CONFIG_INVALID_SETTING', key: concreteKey });
      expect((caught as ConfigError).line).toBeGreaterThan(0);
    });
    return;
  }

  it(`replaces "${invalid}" by its fallback and reports it`, () => {
    const config = parseConfig(oneSetting(concreteKey, invalid));
    const warning = config.warnings.find((w) => w.key === concreteKey && w.kind === 'fallback');
    expect(warning).toMatchObject({ given: invalid });
    expect(warning?.line).toBeGreaterThan(0);
    if (row.repeatable) {
      expect(config.get(concreteKey)).toEqual([]);
    } else if (rule === 'default' && row.default !== undefined) {
      expect(config.get(concreteKey)).toEqual(parsedDefault(row));
      expect(warning?.used).toBe(row.default);
    } else if (rule !== 'default') {
      expect(config.get(concreteKey)).toEqual((row.type.parse(rule.fallback) as { value: unknown }).value);
      expect(warning?.used).toBe(rule.fallback);
    }
  });
});
