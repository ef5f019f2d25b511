import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { audioRequestSchema, configSchema, emptyResponseSchema, errorBodySchema, sessionSchema } from './schemas';

const ajv = new Ajv({ allErrors: true });

/** Compiled validators of the bodies the client sends and receives. */
export const validators = {
  session: ajv.compile(sessionSchema),
  empty: ajv.compile(emptyResponseSchema),
  errorBody: ajv.compile(errorBodySchema),
  config: ajv.compile(configSchema),
  audio: ajv.compile(audioRequestSchema),
} satisfies Record<string, ValidateFunction>;

/** One readable line per ajv error: `/phone/calls/0/state must be equal to one of the allowed values (UNKNOWN, ...)`. */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined, root = ''): string[] {
  return (errors ?? []).map((error) => {
    const where = `${root}${error.instancePath.replace(/~1/g, '/').replace(/~0/g, '~')}` || '(body)';
    const params = error.params as { allowedValues?: unknown[]; additionalProperty?: string; propertyName?: string };
    if (params.allowedValues) return `${where} must be one of ${params.allowedValues.join(', ')}`;
    if (params.additionalProperty !== undefined) return `${where} has an unknown property "${params.additionalProperty}"`;
    if (error.propertyName !== undefined) return `${where} key "${error.propertyName}" ${error.message ?? 'is invalid'}`;
    if (error.keyword === 'propertyNames' && params.propertyName !== undefined) return `${where} has a bad key "${params.propertyName}"`;
    return `${where} ${error.message ?? 'is invalid'}`;
  });
}

/** The dotted name of the first ajv error's place, for ConnectorArgumentError (`config.connectivities.protocol`). */
export function firstErrorPath(errors: readonly ErrorObject[] | null | undefined, root: string): string {
  const first = errors?.[0];
  if (!first) return root;
  const parts = first.instancePath.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = first.params as { additionalProperty?: string; propertyName?: string };
  const badName = first.propertyName ?? (first.keyword === 'propertyNames' ? params.propertyName : undefined);
  if (params.additionalProperty !== undefined) parts.push(params.additionalProperty);
  else if (badName !== undefined) parts.push(badName);
  return [root, ...parts].join('.');
}
