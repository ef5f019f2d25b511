import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SipEndpointError } from '@sip-endpoint/config';
import {
  ConnectorArgumentError,
  ConnectorBadRequestError,
  ConnectorError,
  ConnectorForbiddenError,
  ConnectorHttpError,
  ConnectorNotFoundError,
  ConnectorResponseError,
  ConnectorServerError,
  ConnectorTimeoutError,
  ConnectorUnreachableError,
} from '@sip-endpoint/connector-client';
import type { ConnectorErrorCode } from '@sip-endpoint/connector-client';

/** One error of each class, as the client makes them. */
const errors: ConnectorError[] = [
  new ConnectorForbiddenError('GET /session', {}),
  new ConnectorBadRequestError('POST /session', { message: 'body/connectivities must be object' }),
  new ConnectorNotFoundError('DELETE /calls', undefined),
  new ConnectorServerError('GET /session', 503, undefined),
  new ConnectorHttpError('ERR_CONNECTOR_HTTP_STATUS', 'DELETE /register', 418, undefined, 'unexpected status'),
  new ConnectorResponseError('GET /session', ['the body is not JSON'], 'OK'),
  new ConnectorUnreachableError('GET /session', 4, Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
  new ConnectorTimeoutError('GET /session', 300),
  new ConnectorArgumentError('timeoutMs', 'must be a whole number'),
];

/** Every member of the ConnectorErrorCode union: the compiler rejects a missing or extra one. */
const EVERY_CODE: Record<ConnectorErrorCode, true> = {
  ERR_CONNECTOR_FORBIDDEN: true,
  ERR_CONNECTOR_BAD_REQUEST: true,
  ERR_CONNECTOR_NOT_FOUND: true,
  ERR_CONNECTOR_SERVER_ERROR: true,
  ERR_CONNECTOR_HTTP_STATUS: true,
  ERR_CONNECTOR_INVALID_RESPONSE: true,
  ERR_CONNECTOR_UNREACHABLE: true,
  ERR_CONNECTOR_TIMEOUT: true,
  ERR_CONNECTOR_INVALID_ARGUMENT: true,
};

/** The rows of the README's error table, as [code, class]. */
function readmeRows(): [string, string][] {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Errors'), readme.indexOf('## Watch events'));
  return [...section.matchAll(/^\| `(ERR_[A-Z_]+)` \| `(\w+)` \|/gm)].map((match) => [match[1]!, match[2]!]);
}

describe('the errors of the connector client', () => {
  it('are SipEndpointErrors with a stable code and their class as name, one class per code', () => {
    const codes = new Set<ConnectorErrorCode>();
    for (const error of errors) {
      expect(error).toBeInstanceOf(SipEndpointError);
      expect(error).toBeInstanceOf(ConnectorError);
      expect(error.name).toBe(error.constructor.name);
      expect(error.code).toMatch(/^ERR_CONNECTOR_[A-Z_]+$/);
      codes.add(error.code);
    }
    expect(codes.size).toBe(errors.length);
    expect([...codes].sort()).toEqual(Object.keys(EVERY_CODE).sort());
  });

  it('are each listed in the README with their class', () => {
    expect(readmeRows().sort()).toEqual(errors.map((error): [string, string] => [error.code, error.constructor.name]).sort());
  });
});
