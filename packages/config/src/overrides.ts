import { Ajv } from 'ajv';
import { ConfigError } from './errors';

/**
 * Overrides for {@link EndpointConfig.with}: setting keys (`domain.section.setting`, or
 * `user:N`, `server:N`, `protocol:N`, `transport:N`) to values. Numbers and booleans are written
 * as the file writes them (`true` is `1`); `null` removes the setting; a list replaces every value
 * of a repeatable setting.
 *
 * @public
 */
export type ConfigOverrides = Record<string, string | number | boolean | null | readonly string[]>;

/**
 * JSON Schema of {@link ConfigOverrides}, as the Connector API's `options.sipendpoint` carries them.
 *
 * @public
 */
export const overridesJsonSchema = {
  $id: 'https://sip-endpoint.dev/schemas/config-overrides.json',
  type: 'object',
  propertyNames: { type: 'string', pattern: '^\\s*([A-Za-z0-9_-]+[.:]){2,}[A-Za-z0-9_/+.-]+\\s*$|^\\s*(user|server|protocol|transport)[.:]\\d+\\s*$' },
  additionalProperties: {
    anyOf: [
      { type: 'string' },
      { type: 'number' },
      { type: 'boolean' },
      { type: 'null' },
      { type: 'array', items: { type: 'string' } },
    ],
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile(overridesJsonSchema);

/** Throws `ERR_CONFIG_INVALID_OVERRIDE` naming the first bad key or value. */
export function validateOverrides(overrides: unknown): asserts overrides is ConfigOverrides {
  if (validate(overrides)) return;
  // Stryker disable next-line ArrayDeclaration: validate() sets its errors whenever it returns false.
  const errors = validate.errors ?? [];
  // Stryker disable next-line ConditionalExpression,StringLiteral: Ajv gives a bad key's error both the propertyNames keyword and the propertyName: either half finds it.
  const badName = errors.find((error) => error.keyword === 'propertyNames' || error.propertyName !== undefined);
  // Stryker disable next-line ConditionalExpression,StringLiteral: without a bad key the errors are a bad value's (with its path) or the root's alone (which names no key either way).
  const badValue = errors.find((error) => error.instancePath !== '');
  let key: string | undefined;
  if (badName) {
    key = badName.propertyName ?? (badName.params as { propertyName?: string }).propertyName;
  } else if (badValue) {
    const path = badValue.instancePath.slice(1).replace(/~1/g, '/');
    // Stryker disable next-line StringLiteral,Regex: a key holding "~" fails the key pattern and is named as a bad key, never through this path; the pointer is decoded whole all the same.
    key = path.replace(/~0/g, '~');
  }
  const what = badName ? 'is not a setting key (domain.section.setting, or user:N, server:N, protocol:N)' : 'must be a string, number, boolean, null or list of strings';
  throw new ConfigError(
    'ERR_CONFIG_INVALID_OVERRIDE',
    key ? `override ${key} ${what}` : 'overrides must be an object of setting keys to values',
    key ? { key } : {},
  );
}
