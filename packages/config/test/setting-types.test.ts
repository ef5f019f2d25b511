import { logExpireType, logSegmentType } from '../src/log-rotation';
import { choice, codeOf, commaList, custom, decimal, flag, integer, optional, regex, text, type SettingType } from '../src/setting-type';

// The setting types one by one: each text to its exact value or its exact reason, and each value
// back to its text. (The settings table's own tests go through whole documents.)

/** `parse` of each text, as `{ ok, value }` or `{ ok, reason }`. */
function parsed<T>(type: SettingType<T>, texts: readonly string[]): unknown[] {
  return texts.map((t) => type.parse(t));
}

describe('integer', () => {
  it('reads whole numbers, trimmed, within its range; says why not', () => {
    const type = integer({ min: 1, max: 10 });
    expect(type.values).toBe('1 to 10');
    expect(type.schema).toEqual({ type: 'integer', minimum: 1, maximum: 10 });
    expect(parsed(type, [' 1 ', '10', '0', '11', '1.5', 'x', ''])).toEqual([
      { ok: true, value: 1 },
      { ok: true, value: 10 },
      { ok: false, reason: '0 is outside 1 to 10' },
      { ok: false, reason: '11 is outside 1 to 10' },
      { ok: false, reason: '"1.5" is not a whole number' },
      { ok: false, reason: '"x" is not a whole number' },
      { ok: false, reason: '"" is not a whole number' },
    ]);
    expect(type.format(7)).toBe('7');
  });

  it('with one bound, or none', () => {
    expect(integer({ min: 5 }).values).toBe('5 or more');
    expect(integer({ min: 5 }).parse('4')).toEqual({ ok: false, reason: '4 is outside 5 or more' });
    expect(integer({ min: 5 }).parse('99999')).toEqual({ ok: true, value: 99999 });
    expect(integer({ min: 5 }).schema).toEqual({ type: 'integer', minimum: 5 });
    expect(integer({ max: 5 }).values).toBe('up to 5');
    expect(integer({ max: 5 }).parse('6')).toEqual({ ok: false, reason: '6 is outside up to 5' });
    expect(integer({ max: 5 }).parse('-3')).toEqual({ ok: true, value: -3 });
    expect(integer({ max: 5 }).schema).toEqual({ type: 'integer', maximum: 5 });
    expect(integer().values).toBe('any whole number');
    expect(integer().parse('-12345')).toEqual({ ok: true, value: -12345 });
    expect(integer().schema).toEqual({ type: 'integer' });
  });
});

describe('flag', () => {
  it('reads 0 and 1 and the words overrides send, any case; writes 0 and 1', () => {
    const type = flag();
    expect(parsed(type, ['1', ' TRUE ', 'Yes', 'on'])).toEqual(new Array(4).fill({ ok: true, value: true }));
    expect(parsed(type, ['0', 'False', ' NO', 'Off '])).toEqual(new Array(4).fill({ ok: true, value: false }));
    expect(parsed(type, ['2', '', 'maybe'])).toEqual([
      { ok: false, reason: '"2" is not 0 or 1' },
      { ok: false, reason: '"" is not 0 or 1' },
      { ok: false, reason: '"maybe" is not 0 or 1' },
    ]);
    expect([type.format(true), type.format(false)]).toEqual(['1', '0']);
  });
});

describe('decimal', () => {
  it('reads numbers within its range, or its one exact value outside it', () => {
    const type = decimal({ min: 0.5, max: 2, orExactly: 0 });
    expect(type.values).toBe('0, or 0.5 to 2.0');
    expect(type.schema).toEqual({ anyOf: [{ const: 0 }, { type: 'number', minimum: 0.5, maximum: 2 }] });
    expect(parsed(type, [' 0 ', '0.5', '2', '2.0', '0.4', '2.01', '-1', 'one', ''])).toEqual([
      { ok: true, value: 0 },
      { ok: true, value: 0.5 },
      { ok: true, value: 2 },
      { ok: true, value: 2 },
      { ok: false, reason: '0.4 is outside 0, or 0.5 to 2.0' },
      { ok: false, reason: '2.01 is outside 0, or 0.5 to 2.0' },
      { ok: false, reason: '-1 is outside 0, or 0.5 to 2.0' },
      { ok: false, reason: '"one" is not a number' },
      { ok: false, reason: '"" is not a number' },
    ]);
    expect(type.format(1.5)).toBe('1.5');
    const plain = decimal({ min: 1, max: 3 });
    expect(plain.values).toBe('1 to 3');
    expect(plain.schema).toEqual({ type: 'number', minimum: 1, maximum: 3 });
    expect(plain.parse('0')).toEqual({ ok: false, reason: '0 is outside 1 to 3' });
  });
});

describe('choice', () => {
  it('reads its words and aliases, trimmed, any case unless told; writes the canonical word', () => {
    const type = choice(['alpha', 'Beta', ''] as const, { aliases: { a: 'alpha', B2: 'Beta' } });
    expect(type.values).toBe('alpha, Beta, (empty) (also a, B2)');
    expect(type.schema).toEqual({ type: 'string', enum: ['alpha', 'Beta', ''] });
    expect(type.emptyIsValue).toBe(true);
    expect(parsed(type, [' ALPHA ', 'beta', 'A', 'b2', '', 'gamma'])).toEqual([
      { ok: true, value: 'alpha' },
      { ok: true, value: 'Beta' },
      { ok: true, value: 'alpha' },
      { ok: true, value: 'Beta' },
      { ok: true, value: '' },
      { ok: false, reason: '"gamma" is not one of alpha, Beta, ' },
    ]);
    expect(type.format('Beta')).toBe('Beta');
    const strict = choice(['Up', 'down'] as const, { caseSensitive: true });
    expect(strict.values).toBe('Up, down');
    expect(strict.emptyIsValue).toBe(false);
    expect(parsed(strict, [' Up ', 'up', 'DOWN'])).toEqual([
      { ok: true, value: 'Up' },
      { ok: false, reason: '"up" is not one of Up, down' },
      { ok: false, reason: '"DOWN" is not one of Up, down' },
    ]);
  });
});

describe('codeOf', () => {
  it('reads one of its codes', () => {
    const type = codeOf([0, 2, 7] as const);
    expect(type.values).toBe('0, 2, 7');
    expect(type.schema).toEqual({ type: 'integer', enum: [0, 2, 7] });
    expect(parsed(type, [' 7 ', '2', '1', 'x', ''])).toEqual([
      { ok: true, value: 7 },
      { ok: true, value: 2 },
      { ok: false, reason: '"1" is not one of 0, 2, 7' },
      { ok: false, reason: '"x" is not one of 0, 2, 7' },
      { ok: false, reason: '"" is not one of 0, 2, 7' },
    ]);
    expect(type.format(2)).toBe('2');
  });
});

describe('text, regex, commaList, optional, custom', () => {
  it('text keeps every character', () => {
    expect(text().values).toBe('text');
    expect(text('a name').values).toBe('a name');
    expect(text().parse('  a b ')).toEqual({ ok: true, value: '  a b ' });
    expect(text().emptyIsValue).toBe(true);
  });

  it('regex takes a valid expression (the case-insensitive flag is valid with it) and says why not', () => {
    expect(regex().parse('^sip:(\\d+)@')).toEqual({ ok: true, value: '^sip:(\\d+)@' });
    expect(regex().parse('')).toEqual({ ok: true, value: '' });
    const bad = regex().parse('a(b');
    expect(bad).toEqual({ ok: false, reason: expect.stringMatching(/^"a\(b" is not a valid regular expression: .*(unterminated group|Unterminated group)/i) });
  });

  it('commaList splits, trims and drops empty items; writes them back with commas', () => {
    expect(commaList().values).toBe('comma-separated list');
    expect(commaList('codec names').values).toBe('codec names');
    expect(commaList().parse(' pcmu , ,g722,')).toEqual({ ok: true, value: ['pcmu', 'g722'] });
    expect(commaList().parse('')).toEqual({ ok: true, value: [] });
    expect(commaList().format(['a', 'b'])).toBe('a,b');
  });

  it('optional reads blank as not set and writes not set as empty', () => {
    const type = optional(integer({ min: 1 }));
    expect(type.values).toBe('1 or more, or empty');
    expect(optional(integer(), 'a number or nothing').values).toBe('a number or nothing');
    expect(parsed(type, ['  ', '3', '0'])).toEqual([{ ok: true, value: undefined }, { ok: true, value: 3 }, { ok: false, reason: '0 is outside 1 or more' }]);
    expect([type.format(undefined), type.format(3)]).toEqual(['', '3']);
    expect(type.emptyIsValue).toBe(true);
    expect(type.label).toBe('integer');
  });

  it('custom is the type it is given', () => {
    const type = text();
    expect(custom(type)).toBe(type);
  });
});

describe('log_segment and log_expire', () => {
  it('log_segment: N, N KB, N MB or N hr, any case, trimmed; says why not', () => {
    expect(parsed(logSegmentType, [' false ', 'FALSE', '100', '100 kb', '5MB', '5 mb', '24 Hr'])).toEqual([
      { ok: true, value: false },
      { ok: true, value: false },
      { ok: true, value: { kind: 'size', kilobytes: 100 } },
      { ok: true, value: { kind: 'size', kilobytes: 100 } },
      { ok: true, value: { kind: 'size', kilobytes: 5 * 1024 } },
      { ok: true, value: { kind: 'size', kilobytes: 5 * 1024 } },
      { ok: true, value: { kind: 'time', hours: 24 } },
    ]);
    expect(parsed(logSegmentType, ['0', '0 MB', 'MB', '-5 MB', '5 GB', ''])).toEqual([
      { ok: false, reason: '"0" is not false, N KB, N MB or N hr' },
      { ok: false, reason: '"0 MB" is not false, N KB, N MB or N hr' },
      { ok: false, reason: '"MB" is not false, N KB, N MB or N hr' },
      { ok: false, reason: '"-5 MB" is not false, N KB, N MB or N hr' },
      { ok: false, reason: '"GB" is not a unit of log_segment (KB, MB or hr)' },
      { ok: false, reason: '"" is not false, N KB, N MB or N hr' },
    ]);
    expect([false, { kind: 'time', hours: 3 }, { kind: 'size', kilobytes: 2048 }, { kind: 'size', kilobytes: 1500 }].map((v) => logSegmentType.format(v as never))).toEqual(['false', '3 hr', '2 MB', '1500 KB']);
  });

  it('log_expire: N, N file(s) from 1 to 1000, N day(s) from 1 to 100; says why not', () => {
    expect(parsed(logExpireType, [' False', '10', '1 file', '1000 Files', '1 day', '100 DAYS'])).toEqual([
      { ok: true, value: false },
      { ok: true, value: { kind: 'files', count: 10 } },
      { ok: true, value: { kind: 'files', count: 1 } },
      { ok: true, value: { kind: 'files', count: 1000 } },
      { ok: true, value: { kind: 'days', count: 1 } },
      { ok: true, value: { kind: 'days', count: 100 } },
    ]);
    expect(parsed(logExpireType, ['0', '1001 file', '0 day', '101 days', '3 weeks', 'days', ''])).toEqual([
      { ok: false, reason: '0 files is outside 1 to 1000' },
      { ok: false, reason: '1001 files is outside 1 to 1000' },
      { ok: false, reason: '0 days is outside 1 to 100' },
      { ok: false, reason: '101 days is outside 1 to 100' },
      { ok: false, reason: '"weeks" is not a unit of log_expire (file or day)' },
      { ok: false, reason: '"days" is not false, N file or N day' },
      { ok: false, reason: '"" is not false, N file or N day' },
    ]);
    expect([false, { kind: 'files', count: 4 }, { kind: 'days', count: 7 }].map((v) => logExpireType.format(v as never))).toEqual(['false', '4 file', '7 day']);
  });
});
