import { parseCidr } from '../src/cidr';
import { parsePublicAddress } from '../src/public-address-spec';
import { choice, codeOf, commaList, decimal, flag, integer, regex, text, type SettingType } from '../src/setting-type';
import { srtpPolicyType } from '../src/srtp-policy';

// What each setting type says of itself (its label, the values line of the docs, its JSON Schema
// and whether an empty value is a value), exactly: the docs and the schema are made from these.
// Then the parsers' corners the mutation run found untested.

function described<T>(type: SettingType<T>): { label: string; values: string; schema: unknown; emptyIsValue: boolean } {
  return { label: type.label, values: type.values, schema: type.schema, emptyIsValue: type.emptyIsValue };
}

describe('setting types describe themselves exactly', () => {
  it.each([
    ['integer with both bounds', () => integer({ min: 1, max: 10 }), { label: 'integer', values: '1 to 10', schema: { type: 'integer', minimum: 1, maximum: 10 }, emptyIsValue: false }],
    ['integer with no bound', () => integer(), { label: 'integer', values: 'any whole number', schema: { type: 'integer' }, emptyIsValue: false }],
    ['integer with a lower bound', () => integer({ min: 5 }), { label: 'integer', values: '5 or more', schema: { type: 'integer', minimum: 5 }, emptyIsValue: false }],
    ['integer with an upper bound', () => integer({ max: 9 }), { label: 'integer', values: 'up to 9', schema: { type: 'integer', maximum: 9 }, emptyIsValue: false }],
    ['flag', () => flag(), { label: 'flag', values: '0 or 1', schema: { type: 'boolean' }, emptyIsValue: false }],
    ['decimal', () => decimal({ min: 0.5, max: 2 }), { label: 'decimal', values: '0.5 to 2', schema: { type: 'number', minimum: 0.5, maximum: 2 }, emptyIsValue: false }],
    ['code', () => codeOf([0, 1, 2]), { label: 'code', values: '0, 1, 2', schema: { type: 'integer', enum: [0, 1, 2] }, emptyIsValue: false }],
    ['text', () => text(), { label: 'text', values: 'text', schema: { type: 'string' }, emptyIsValue: true }],
    ['regex', () => regex(), { label: 'regular expression', values: 'a regular expression, or empty', schema: { type: 'string' }, emptyIsValue: true }],
    ['list', () => commaList(), { label: 'list', values: 'comma-separated list', schema: { type: 'array', items: { type: 'string' } }, emptyIsValue: true }],
  ] as const)('%s', (_name, make, expected) => {
    // Made inside the test (not in the table, which is built before any test runs), so that the
    // mutation run counts the type's code as covered by this test.
    // toStrictEqual: a schema key present with an undefined value is not the same schema.
    expect(described(make() as SettingType<unknown>)).toStrictEqual(expected);
  });

  it('a regular expression is kept as written, and checked case-insensitively', () => {
    expect(regex().parse('^Sip:.*$')).toEqual({ ok: true, value: '^Sip:.*$' });
    expect(regex().format('a|b')).toBe('a|b');
    expect(regex().parse('(')).toEqual({ ok: false, reason: expect.stringMatching(/^"\(" is not a valid regular expression: /) });
  });

  it('a case-insensitive choice folds to lower case (an upper-case spelling of a lower-case word is found)', () => {
    const type = choice(['tcp', 'udp']);
    expect(type.parse(' UDP ')).toEqual({ ok: true, value: 'udp' });
    expect(choice(['Yes'], { caseSensitive: false }).parse('yEs')).toEqual({ ok: true, value: 'Yes' });
    // Folded to lower case, not upper: "ß" stays "ß" while "SS" becomes "ss" (in upper case both are "SS").
    expect(choice(['ß']).parse('SS')).toEqual({ ok: false, reason: '"SS" is not one of ß' });
    expect(choice(['ß']).parse('ß')).toEqual({ ok: true, value: 'ß' });
  });
});

describe('parser corners', () => {
  it('use_srtp: a word of the object prototype is no SRTP mode', () => {
    for (const word of ['constructor', '__proto__', 'hasOwnProperty']) {
      expect(srtpPolicyType.parse(word)).toEqual({ ok: false, reason: `"${word}" does not start with an SRTP mode` });
    }
  });

  it('CIDR: a prefix with other characters is refused; an IPv4-mapped IPv6 address is not in an IPv4 subnet', () => {
    expect(parseCidr('10.0.0.0/x8')).toBeUndefined();
    expect(parseCidr('10.0.0.0/8x')).toBeUndefined();
    expect(parseCidr('192.168.0.0/16')!.contains('::ffff:192.168.0.1')).toBe(false);
  });

  it('public_address: half a bracket is no address; a comma inside double quotes stays in the name; a blank rule is named trimmed', () => {
    expect(parsePublicAddress('[::1')).toEqual({ ok: false, reason: '"[::1" is not an IP address, a host name or a $ form' });
    expect(parsePublicAddress('1::1]')).toEqual({ ok: false, reason: '"1::1]" is not an IP address, a host name or a $ form' });
    expect(parsePublicAddress('[fd00::1]')).toEqual({ ok: true, value: { kind: 'ip', address: 'fd00::1', family: 'IPv6' } });
    const quoted = parsePublicAddress('$(if="Wi-Fi, 3")');
    expect(quoted.ok && quoted.value).toEqual({ kind: 'rules', rules: [{ type: 'if', name: 'Wi-Fi, 3' }] });
    expect(parsePublicAddress('$( if= )')).toEqual({ ok: false, reason: 'rule "if=" names no interface' });
  });
});
