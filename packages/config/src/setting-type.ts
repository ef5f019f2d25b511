/**
 * A JSON Schema fragment, as ajv consumes it.
 *
 * @public
 */
export type JsonSchema = { [keyword: string]: unknown };

/**
 * The outcome of reading one setting value from its text.
 *
 * @public
 */
export type ParseOutcome<T> =
  | { ok: true; value: T; notes?: string[] }
  | { ok: false; reason: string };

/**
 * How one kind of setting is read from text, written back, documented and described in JSON Schema.
 * Every row of the settings table names one of these.
 *
 * @public
 */
export interface SettingType<T> {
  /** Short type name for the reference docs (`integer`, `0 or 1`, `text`, ...). */
  readonly label: string;
  /** The valid values, in words, for the reference docs. */
  readonly values: string;
  /** JSON Schema of the typed (effective) value. */
  readonly schema: JsonSchema;
  /** True when an empty text is a real value of this type (a text setting); otherwise empty means "not set". */
  readonly emptyIsValue: boolean;
  /** Reads the text of a setting. Never throws. */
  parse(text: string): ParseOutcome<T>;
  /** Writes a typed value back as the text the XML file holds. */
  format(value: T): string;
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** Options of {@link integer}. */
export interface IntegerOptions {
  min?: number;
  max?: number;
}

/**
 * A whole number within an optional range.
 *
 * @public
 */
export function integer(options: IntegerOptions = {}): SettingType<number> {
  const { min, max } = options;
  const range =
    min !== undefined && max !== undefined
      ? `${min} to ${max}`
      : min !== undefined
        ? `${min} or more`
        : max !== undefined
          ? `up to ${max}`
          : 'any whole number';
  const schema: JsonSchema = { type: 'integer' };
  if (min !== undefined) schema['minimum'] = min;
  if (max !== undefined) schema['maximum'] = max;
  return {
    label: 'integer',
    values: range,
    schema,
    emptyIsValue: false,
    parse(text) {
      const trimmed = text.trim();
      if (!INTEGER.test(trimmed)) return { ok: false, reason: `"${text}" is not a whole number` };
      const value = Number.parseInt(trimmed, 10);
      // Stryker disable next-line ConditionalExpression: a comparison with an undefined bound is false either way.
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
        return { ok: false, reason: `${value} is outside ${range}` };
      }
      return { ok: true, value };
    },
    format: (value) => String(value),
  };
}

/**
 * A switch written `0` or `1` (also `true`/`false`, `yes`/`no`, `on`/`off`, as overrides send them),
 * typed as a boolean.
 *
 * @public
 */
export function flag(): SettingType<boolean> {
  return {
    label: 'flag',
    values: '0 or 1',
    schema: { type: 'boolean' },
    emptyIsValue: false,
    parse(text) {
      switch (text.trim().toLowerCase()) {
        case '1':
        case 'true':
        case 'yes':
        case 'on':
          return { ok: true, value: true };
        case '0':
        case 'false':
        case 'no':
        case 'off':
          return { ok: true, value: false };
        default:
          return { ok: false, reason: `"${text}" is not 0 or 1` };
      }
    },
    format: (value) => (value ? '1' : '0'),
  };
}

/** Options of {@link decimal}. */
export interface DecimalOptions {
  min: number;
  max: number;
  /** A value outside the range that is still valid (e.g. 0 meaning "off"). */
  orExactly?: number;
}

/**
 * A decimal number within a range, optionally also accepting one exact value outside it.
 *
 * @public
 */
export function decimal(options: DecimalOptions): SettingType<number> {
  const { min, max, orExactly } = options;
  const values = orExactly !== undefined ? `${orExactly}, or ${min.toFixed(1)} to ${max.toFixed(1)}` : `${min} to ${max}`;
  const range: JsonSchema = { type: 'number', minimum: min, maximum: max };
  return {
    label: 'decimal',
    values,
    schema: orExactly !== undefined ? { anyOf: [{ const: orExactly }, range] } : range,
    emptyIsValue: false,
    parse(text) {
      const trimmed = text.trim();
      if (!DECIMAL.test(trimmed)) return { ok: false, reason: `"${text}" is not a number` };
      const value = Number.parseFloat(trimmed);
      if (value === orExactly || (value >= min && value <= max)) return { ok: true, value };
      return { ok: false, reason: `${value} is outside ${values}` };
    },
    format: (value) => String(value),
  };
}

/** Options of {@link choice}. */
export interface ChoiceOptions<V extends string> {
  /** Other spellings accepted on input, each mapped to a canonical value. */
  aliases?: Record<string, V>;
  /** Compare case-sensitively (the default is case-insensitive). */
  caseSensitive?: boolean;
}

/**
 * One of a fixed list of words; the typed value is the canonical spelling.
 *
 * @public
 */
export function choice<const V extends string>(values: readonly V[], options: ChoiceOptions<V> = {}): SettingType<V> {
  const fold = (s: string): string => (options.caseSensitive ? s.trim() : s.trim().toLowerCase());
  const lookup = new Map<string, V>();
  for (const value of values) lookup.set(fold(value), value);
  for (const [alias, value] of Object.entries(options.aliases ?? {})) lookup.set(fold(alias), value);
  const aliasText = Object.keys(options.aliases ?? {});
  return {
    label: 'choice',
    values: values.map((v) => (v === '' ? '(empty)' : v)).join(', ') + (aliasText.length > 0 ? ` (also ${aliasText.join(', ')})` : ''),
    schema: { type: 'string', enum: [...values] },
    emptyIsValue: values.includes('' as V),
    parse(text) {
      const value = lookup.get(fold(text));
      return value !== undefined ? { ok: true, value } : { ok: false, reason: `"${text}" is not one of ${values.join(', ')}` };
    },
    format: (value) => value,
  };
}

/**
 * A numeric code out of a fixed list (e.g. `ringing_enabled` 0 to 7, `webrtc_audio_layer`).
 *
 * @public
 */
export function codeOf<const V extends number>(values: readonly V[]): SettingType<V> {
  return {
    label: 'code',
    values: values.join(', '),
    schema: { type: 'integer', enum: [...values] },
    emptyIsValue: false,
    parse(text) {
      const trimmed = text.trim();
      const value = INTEGER.test(trimmed) ? Number.parseInt(trimmed, 10) : Number.NaN;
      return (values as readonly number[]).includes(value)
        ? { ok: true, value: value as V }
        : { ok: false, reason: `"${text}" is not one of ${values.join(', ')}` };
    },
    format: (value) => String(value),
  };
}

/**
 * Free text, kept exactly as written (an empty value is a value).
 *
 * @public
 */
export function text(values = 'text'): SettingType<string> {
  return {
    label: 'text',
    values,
    schema: { type: 'string' },
    emptyIsValue: true,
    parse: (value) => ({ ok: true, value }),
    format: (value) => value,
  };
}

/**
 * A regular expression (ECMAScript syntax). Empty means "none".
 *
 * @public
 */
export function regex(): SettingType<string> {
  return {
    label: 'regular expression',
    values: 'a regular expression, or empty',
    schema: { type: 'string' },
    emptyIsValue: true,
    parse(value) {
      try {
        // Stryker disable next-line StringLiteral: the 'i' flag changes what a pattern matches, not whether it is valid (only 'u' and 'v' do).
        new RegExp(value, 'i');
        return { ok: true, value };
      } catch (error) {
        return { ok: false, reason: `"${value}" is not a valid regular expression: ${(error as Error).message}` };
      }
    },
    format: (value) => value,
  };
}

/**
 * A comma-separated list of words. Empty is the empty list.
 *
 * @public
 */
export function commaList(values = 'comma-separated list'): SettingType<string[]> {
  return {
    label: 'list',
    values,
    schema: { type: 'array', items: { type: 'string' } },
    emptyIsValue: true,
    parse: (value) => ({
      ok: true,
      value: value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    }),
    format: (value) => value.join(','),
  };
}

/**
 * Makes a type optional: an empty text reads as `undefined` ("not set").
 *
 * @public
 */
export function optional<T>(type: SettingType<T>, values = `${type.values}, or empty`): SettingType<T | undefined> {
  return {
    label: type.label,
    values,
    schema: type.schema,
    emptyIsValue: true,
    parse: (text) => (text.trim() === '' ? { ok: true, value: undefined } : type.parse(text)),
    format: (value) => (value === undefined ? '' : type.format(value)),
  };
}

/**
 * A custom type built from its four parts (used for the settings with a grammar of their own).
 *
 * @public
 */
export function custom<T>(type: SettingType<T>): SettingType<T> {
  return type;
}
