import { SipEndpointError } from '@sip-endpoint/config';
import type { ErrorBody } from './models';

/**
 * Stable error codes of the connector client.
 *
 * @public
 */
export type ConnectorErrorCode =
  /** 403: no session for this cookie (send `POST /session` first), or a foreign `Origin`. */
  | 'ERR_CONNECTOR_FORBIDDEN'
  /** 400: the Softphone refused the request; `message` is the server's reason. */
  | 'ERR_CONNECTOR_BAD_REQUEST'
  /** 404: no such route (a Softphone that does not speak the v2 API, or a wrong `baseUrl`). */
  | 'ERR_CONNECTOR_NOT_FOUND'
  /** 5xx: the Softphone failed. */
  | 'ERR_CONNECTOR_SERVER_ERROR'
  /** Any other status that is not 200. */
  | 'ERR_CONNECTOR_HTTP_STATUS'
  /** A 200 whose body is not JSON or is outside the spec's schema. */
  | 'ERR_CONNECTOR_INVALID_RESPONSE'
  /** The Softphone could not be reached (still refused after the retries, or another network failure). */
  | 'ERR_CONNECTOR_UNREACHABLE'
  /** The Softphone did not answer within `timeoutMs`. */
  | 'ERR_CONNECTOR_TIMEOUT'
  /** A bad option or argument was given to the client; nothing was sent. */
  | 'ERR_CONNECTOR_INVALID_ARGUMENT';

/**
 * Base class of every error of the connector client.
 *
 * @public
 */
export class ConnectorError extends SipEndpointError {
  declare readonly code: ConnectorErrorCode;

  constructor(code: ConnectorErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * The Softphone answered with a status other than 200. Subclasses name the common ones.
 *
 * @public
 */
export class ConnectorHttpError extends ConnectorError {
  /** The HTTP status. */
  readonly status: number;
  /** `METHOD /path` of the request. */
  readonly request: string;
  /** The parsed error body when it was JSON (the spec's 403 body is `{}`), else undefined. */
  readonly body: ErrorBody | undefined;
  /** The body's `code`, when the Softphone gave one. */
  readonly serverCode: string | undefined;
  /** The body's `message`, when the Softphone gave one. */
  readonly serverMessage: string | undefined;

  constructor(code: ConnectorErrorCode, request: string, status: number, body: ErrorBody | undefined, fallback: string) {
    const serverMessage = typeof body?.message === 'string' && body.message !== '' ? body.message : undefined;
    super(code, `${request}: ${status} ${serverMessage ?? fallback}`);
    this.status = status;
    this.request = request;
    this.body = body;
    this.serverCode = typeof body?.code === 'string' ? body.code : undefined;
    this.serverMessage = serverMessage;
  }
}

/**
 * 403 Forbidden: the Softphone has no session for this client (no `SEPSESSIONID` cookie yet, or
 * the session expired or was closed) or refuses the `Origin`. After a first 403 the client holds the
 * cookie the Softphone set; `POST /session` then opens the session.
 *
 * @public
 */
export class ConnectorForbiddenError extends ConnectorHttpError {
  declare readonly code: 'ERR_CONNECTOR_FORBIDDEN';

  constructor(request: string, body: ErrorBody | undefined) {
    super('ERR_CONNECTOR_FORBIDDEN', request, 403, body, 'Forbidden: no session for this client, or its Origin is refused');
  }
}

/**
 * 400 Bad Request; {@link ConnectorHttpError.serverMessage} says why.
 *
 * @public
 */
export class ConnectorBadRequestError extends ConnectorHttpError {
  declare readonly code: 'ERR_CONNECTOR_BAD_REQUEST';

  constructor(request: string, body: ErrorBody | undefined) {
    super('ERR_CONNECTOR_BAD_REQUEST', request, 400, body, 'Bad Request');
  }
}

/**
 * 404 Not Found.
 *
 * @public
 */
export class ConnectorNotFoundError extends ConnectorHttpError {
  declare readonly code: 'ERR_CONNECTOR_NOT_FOUND';

  constructor(request: string, body: ErrorBody | undefined) {
    super('ERR_CONNECTOR_NOT_FOUND', request, 404, body, 'Not Found');
  }
}

/**
 * A 5xx status.
 *
 * @public
 */
export class ConnectorServerError extends ConnectorHttpError {
  declare readonly code: 'ERR_CONNECTOR_SERVER_ERROR';

  constructor(request: string, status: number, body: ErrorBody | undefined) {
    super('ERR_CONNECTOR_SERVER_ERROR', request, status, body, 'Softphone error');
  }
}

/**
 * A 200 whose body is not JSON or does not match the spec's schema.
 *
 * @public
 */
export class ConnectorResponseError extends ConnectorError {
  declare readonly code: 'ERR_CONNECTOR_INVALID_RESPONSE';
  /** `METHOD /path` of the request. */
  readonly request: string;
  /** What is wrong, one line per problem (`/phone/calls/0/state must be one of ...`). */
  readonly problems: readonly string[];
  /** The body as received. */
  readonly bodyText: string;

  constructor(request: string, problems: readonly string[], bodyText: string) {
    super('ERR_CONNECTOR_INVALID_RESPONSE', `${request}: the response is outside the Connector API: ${problems.join('; ')}`);
    this.request = request;
    this.problems = problems;
    this.bodyText = bodyText;
  }
}

/**
 * The Softphone could not be reached: connection still refused after the bounded retries, or
 * another network failure (in `cause`).
 *
 * @public
 */
export class ConnectorUnreachableError extends ConnectorError {
  declare readonly code: 'ERR_CONNECTOR_UNREACHABLE';
  /** `METHOD /path` of the request. */
  readonly request: string;
  /** How many times the request was tried. */
  readonly attempts: number;

  constructor(request: string, attempts: number, cause: unknown) {
    const reason = describeNetworkError(cause);
    super('ERR_CONNECTOR_UNREACHABLE', `${request}: the Softphone is unreachable after ${attempts} attempt${attempts === 1 ? '' : 's'} (${reason})`, { cause });
    this.request = request;
    this.attempts = attempts;
  }
}

/**
 * The Softphone did not answer within `timeoutMs`.
 *
 * @public
 */
export class ConnectorTimeoutError extends ConnectorError {
  declare readonly code: 'ERR_CONNECTOR_TIMEOUT';
  /** `METHOD /path` of the request. */
  readonly request: string;

  constructor(request: string, timeoutMs: number) {
    super('ERR_CONNECTOR_TIMEOUT', `${request}: no answer within ${timeoutMs} ms`);
    this.request = request;
  }
}

/**
 * A bad option or argument was given to the client; nothing was sent.
 *
 * @public
 */
export class ConnectorArgumentError extends ConnectorError {
  declare readonly code: 'ERR_CONNECTOR_INVALID_ARGUMENT';
  /** The option or argument at fault, e.g. `baseUrl` or `config.connectivities.protocol`. */
  readonly argument: string;

  constructor(argument: string, message: string) {
    super('ERR_CONNECTOR_INVALID_ARGUMENT', `${argument} ${message}`);
    this.argument = argument;
  }
}

/** The network error code (`ECONNREFUSED`, ...) found along an error's `cause` chain. */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const { code, errors } = current as { code?: unknown; errors?: unknown };
    if (typeof code === 'string' && code !== '') return code;
    if (Array.isArray(errors) && errors.length > 0) {
      const inner = networkErrorCode(errors[0]);
      if (inner) return inner;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeNetworkError(error: unknown): string {
  const code = networkErrorCode(error);
  const message = typeof (error as { message?: unknown } | null)?.message === 'string' ? (error as { message: string }).message : String(error);
  return code ? `${code}: ${message}` : message;
}
