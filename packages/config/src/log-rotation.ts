import type { SettingType } from './setting-type';

/**
 * `system.diagnostics.log_segment`: when the log file is closed and a new one started.
 * `false` means never.
 *
 * @public
 */
export type LogSegment = false | { kind: 'size'; kilobytes: number } | { kind: 'time'; hours: number };

/**
 * `system.diagnostics.log_expire`: how many segments (files) or days of logs are kept.
 * `false` means all are kept.
 *
 * @public
 */
export type LogExpire = false | { kind: 'files'; count: number } | { kind: 'days'; count: number };

const AMOUNT_AND_UNIT = /^(\d+)\s*([a-z]*)$/i;

/** @public */
export const logSegmentType: SettingType<LogSegment> = {
  label: 'segment limit',
  values: 'false, N or N KB (kilobytes), N MB (megabytes), N hr (hours)',
  schema: {
    anyOf: [
      { const: false },
      { type: 'object', properties: { kind: { const: 'size' }, kilobytes: { type: 'integer', minimum: 1 } }, required: ['kind', 'kilobytes'], additionalProperties: false },
      { type: 'object', properties: { kind: { const: 'time' }, hours: { type: 'integer', minimum: 1 } }, required: ['kind', 'hours'], additionalProperties: false },
    ],
  },
  emptyIsValue: false,
  parse(text) {
    const trimmed = text.trim();
    if (trimmed.toLowerCase() === 'false') return { ok: true, value: false };
    const match = AMOUNT_AND_UNIT.exec(trimmed);
    // Stryker disable next-line StringLiteral: the pattern always captures its number when it matches.
    const amount = match ? Number.parseInt(match[1] ?? '', 10) : Number.NaN;
    if (!match || !(amount > 0)) return { ok: false, reason: `"${text}" is not false, N KB, N MB or N hr` };
    // Stryker disable next-line StringLiteral: the pattern always captures its unit group when it matches (empty when absent).
    switch ((match[2] ?? '').toLowerCase()) {
      case '':
      case 'kb':
        return { ok: true, value: { kind: 'size', kilobytes: amount } };
      case 'mb':
        return { ok: true, value: { kind: 'size', kilobytes: amount * 1024 } };
      case 'hr':
        return { ok: true, value: { kind: 'time', hours: amount } };
      default:
        // Stryker disable next-line StringLiteral: the pattern always captures its unit group when it matches (empty when absent).
        return { ok: false, reason: `"${match[2] ?? ''}" is not a unit of log_segment (KB, MB or hr)` };
    }
  },
  format(value) {
    if (value === false) return 'false';
    if (value.kind === 'time') return `${value.hours} hr`;
    return value.kilobytes % 1024 === 0 ? `${value.kilobytes / 1024} MB` : `${value.kilobytes} KB`;
  },
};

/** @public */
export const logExpireType: SettingType<LogExpire> = {
  label: 'expiry',
  values: 'false, N or N file (1 to 1000), N day (1 to 100)',
  schema: {
    anyOf: [
      { const: false },
      { type: 'object', properties: { kind: { const: 'files' }, count: { type: 'integer', minimum: 1, maximum: 1000 } }, required: ['kind', 'count'], additionalProperties: false },
      { type: 'object', properties: { kind: { const: 'days' }, count: { type: 'integer', minimum: 1, maximum: 100 } }, required: ['kind', 'count'], additionalProperties: false },
    ],
  },
  emptyIsValue: false,
  parse(text) {
    const trimmed = text.trim();
    if (trimmed.toLowerCase() === 'false') return { ok: true, value: false };
    const match = AMOUNT_AND_UNIT.exec(trimmed);
    // Stryker disable next-line StringLiteral: the pattern always captures its number when it matches.
    const count = match ? Number.parseInt(match[1] ?? '', 10) : Number.NaN;
    if (!match) return { ok: false, reason: `"${text}" is not false, N file or N day` };
    // Stryker disable next-line StringLiteral: the pattern always captures its unit group when it matches (empty when absent).
    switch ((match[2] ?? '').toLowerCase()) {
      case '':
      case 'file':
      case 'files':
        return count >= 1 && count <= 1000
          ? { ok: true, value: { kind: 'files', count } }
          : { ok: false, reason: `${count} files is outside 1 to 1000` };
      case 'day':
      case 'days':
        return count >= 1 && count <= 100
          ? { ok: true, value: { kind: 'days', count } }
          : { ok: false, reason: `${count} days is outside 1 to 100` };
      default:
        // Stryker disable next-line StringLiteral: the pattern always captures its unit group when it matches (empty when absent).
        return { ok: false, reason: `"${match[2] ?? ''}" is not a unit of log_expire (file or day)` };
    }
  },
  format(value) {
    if (value === false) return 'false';
    return value.kind === 'files' ? `${value.count} file` : `${value.count} day`;
  },
};
