import { CookieJar, setCookieLines } from './cookie-jar';
import {
  ConnectorArgumentError,
  ConnectorBadRequestError,
  ConnectorForbiddenError,
  ConnectorHttpError,
  ConnectorNotFoundError,
  ConnectorResponseError,
  ConnectorServerError,
  ConnectorTimeoutError,
  ConnectorUnreachableError,
  networkErrorCode,
} from './errors';
import type { AudioRequest, Config, EmptyBody, ErrorBody, Session } from './models';
import { CONNECTOR_BASE_PATH, SESSION_COOKIE_NAME } from './models';
import { SessionWatcher } from './session-watcher';
import type { SessionWatcherOptions } from './session-watcher';
import { MAX_TIMER_MS } from './timer-limit';
import { describeErrors, firstErrorPath, validators } from './validation';

/**
 * How the client retries a request the Softphone refused to connect (`ECONNREFUSED`: not yet
 * listening). Delays double from `initialDelayMs` up to `maxDelayMs`. Each is a whole number, the
 * delays at most 2^31 - 1 ms.
 *
 * @public
 */
export interface ConnectorRetryOptions {
  /** Retries after the first attempt; 0 disables retrying. @defaultValue 5 */
  retries?: number;
  /** Delay before the first retry, in ms. @defaultValue 100 */
  initialDelayMs?: number;
  /** Longest delay between two attempts, in ms. @defaultValue 2000 */
  maxDelayMs?: number;
}

/**
 * Options of {@link ConnectorClient}.
 *
 * @public
 */
export interface ConnectorClientOptions {
  /**
   * Where the Softphone listens: `http://127.0.0.1:8654`, with or without the `/softphone/v2` path.
   */
  baseUrl: string | URL;
  /** The `Origin` header to send (the agent desktop's origin, e.g. `http://desktop.example:8080`). @defaultValue none */
  origin?: string;
  /** The `X-CSRF-TOKEN` header to send. @defaultValue none */
  csrfToken?: string;
  /** The fetch to use. @defaultValue `globalThis.fetch` */
  fetch?: typeof globalThis.fetch;
  /** Retry of a refused connection. @defaultValue `{ retries: 5, initialDelayMs: 100, maxDelayMs: 2000 }` */
  retry?: ConnectorRetryOptions;
  /** How long one attempt may take before {@link ConnectorTimeoutError}, in whole ms (at most 2^31 - 1). @defaultValue 10000 */
  timeoutMs?: number;
  /** A `SEPSESSIONID` to start with (e.g. kept from an earlier process). @defaultValue none */
  sessionId?: string;
  /**
   * `include` in a browser page: the browser then keeps the `SEPSESSIONID` cookie (`HttpOnly`,
   * unreadable by scripts) and sends it, and sends the page's own `Origin`; `origin` and
   * `sessionId` are then not for the page to set (a browser drops those headers). In Node leave
   * it out: the client keeps the cookie itself.
   * @defaultValue fetch's own (`same-origin`)
   */
  credentials?: 'omit' | 'same-origin' | 'include';
}

interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  retry?: boolean;
}

const DEFAULT_RETRY: Required<ConnectorRetryOptions> = { retries: 5, initialDelayMs: 100, maxDelayMs: 2000 };
const STALE_SOCKET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Typed client of the Softphone Connector API v2, for an agent desktop that drives a running
 * (headless) Softphone.
 *
 * @remarks
 * The client keeps the `SEPSESSIONID` cookie the Softphone sets (the first `GET /session` answers
 * 403 with the cookie; `POST /session` then opens the session), sends `Origin` and `X-CSRF-TOKEN`
 * when given, checks each response against the spec's schema, and maps each status to a typed error
 * ({@link ConnectorForbiddenError}, {@link ConnectorBadRequestError}, ...). A refused connection (the
 * Softphone is not listening yet) is retried with a doubling delay, a bounded number of times.
 *
 * @example
 * ```ts
 * const client = new ConnectorClient({ baseUrl: 'http://127.0.0.1:8654', origin: 'http://desktop:8080' });
 * await client.openSession({ connectivities: { protocol: 'udp', connections: [{ server: 'sip.example:5060', user: '5320' }] } });
 * await client.register();
 * const watcher = client.watch({ intervalMs: 1000 });
 * watcher.on('statusChanged', (status) => console.log(status));
 * ```
 *
 * @public
 */
export class ConnectorClient {
  readonly #base: string;
  readonly #origin: string | undefined;
  readonly #csrfToken: string | undefined;
  readonly #fetch: typeof globalThis.fetch;
  readonly #credentials: 'omit' | 'same-origin' | 'include' | undefined;
  readonly #retry: Required<ConnectorRetryOptions>;
  readonly #timeoutMs: number;
  readonly #jar = new CookieJar();
  #softphoneVersion: string | undefined;

  constructor(options: ConnectorClientOptions) {
    if (options === null || typeof options !== 'object') throw new ConnectorArgumentError('options', 'must be an object with a baseUrl');
    let url: URL;
    try {
      url = new URL(String(options.baseUrl));
    } catch {
      throw new ConnectorArgumentError('baseUrl', `must be an absolute http(s) URL, not ${JSON.stringify(String(options.baseUrl))}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConnectorArgumentError('baseUrl', `must be http: or https:, not ${url.protocol}`);
    let path = url.pathname.replace(/\/+$/, '');
    if (!path.endsWith(CONNECTOR_BASE_PATH)) path += CONNECTOR_BASE_PATH;
    this.#base = `${url.origin}${path}`;
    if (options.origin !== undefined) {
      if (typeof options.origin !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\/[^\s/]+$|^null$/i.test(options.origin)) {
        throw new ConnectorArgumentError('origin', `must be scheme://host[:port], not ${JSON.stringify(options.origin)}`);
      }
    }
    this.#origin = options.origin;
    if (options.csrfToken !== undefined && (typeof options.csrfToken !== 'string' || !/^[\x21-\x7e]+$/.test(options.csrfToken))) {
      throw new ConnectorArgumentError('csrfToken', 'must be a non-empty string of visible ASCII');
    }
    this.#csrfToken = options.csrfToken;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new ConnectorArgumentError('fetch', 'must be a function');
    // Called as a function of its own, not as a method of the client: a browser's fetch refuses
    // any `this` but its window ("Illegal invocation"), so the global one is bound to it.
    this.#fetch = options.fetch ?? fetchImpl.bind(globalThis);
    if (options.credentials !== undefined && !['omit', 'same-origin', 'include'].includes(options.credentials)) throw new ConnectorArgumentError('credentials', "must be 'omit', 'same-origin' or 'include'");
    this.#credentials = options.credentials;
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    for (const [key, value] of Object.entries(retry)) {
      if (!Number.isInteger(value) || value < 0 || value > MAX_TIMER_MS) throw new ConnectorArgumentError(`retry.${key}`, `must be a whole number from 0 to ${MAX_TIMER_MS}, not ${String(value)}`);
    }
    this.#retry = retry;
    // A whole number of ms that a timer can hold: AbortSignal.timeout() throws a RangeError for a
    // fraction, and a timer longer than MAX_TIMER_MS would fire at once.
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isInteger(this.#timeoutMs) || this.#timeoutMs <= 0 || this.#timeoutMs > MAX_TIMER_MS) {
      throw new ConnectorArgumentError('timeoutMs', `must be a whole number of ms from 1 to ${MAX_TIMER_MS}, not ${String(options.timeoutMs)}`);
    }
    if (options.sessionId !== undefined) {
      if (typeof options.sessionId !== 'string' || !/^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$/.test(options.sessionId)) {
        throw new ConnectorArgumentError('sessionId', 'must be a cookie value (visible ASCII without quotes, commas, semicolons or backslashes)');
      }
      this.#jar.set(SESSION_COOKIE_NAME, options.sessionId);
    }
  }

  /** The URL every route hangs from, e.g. `http://127.0.0.1:8654/softphone/v2`. */
  get baseUrl(): string {
    return this.#base;
  }

  /** The `SEPSESSIONID` the Softphone gave this client, or undefined (none yet, or the session was closed). */
  get sessionId(): string | undefined {
    return this.#jar.get(SESSION_COOKIE_NAME);
  }

  /** The `X-Genesys-Softphone-Version` of the last response that had one. */
  get softphoneVersion(): string | undefined {
    return this.#softphoneVersion;
  }

  /**
   * `GET /session`: the session's status, connections, devices and calls.
   *
   * @throws {@link ConnectorForbiddenError} when there is no session yet (the client keeps the
   * cookie the 403 sets) or the Origin is refused.
   */
  async getSession(): Promise<Session> {
    return (await this.#request('GET', '/session')) as Session;
  }

  /**
   * `POST /session`: configures the session (SIP Endpoint overrides, Softphone options, connections).
   *
   * @param config - The `config` model; checked against the spec's schema before it is sent.
   * @throws {@link ConnectorArgumentError} naming the bad property, before sending anything.
   */
  async updateSession(config: Config): Promise<void> {
    if (!validators.config(config)) throw new ConnectorArgumentError(firstErrorPath(validators.config.errors, 'config'), describeErrors(validators.config.errors).join('; '));
    await this.#request('POST', '/session', { body: config });
  }

  /**
   * The transcript's login: `GET /session` (a 403 that sets the cookie when there is no session
   * yet), then `POST /session` with `config`, then `GET /session`.
   *
   * @returns The session right after it was configured.
   */
  async openSession(config: Config): Promise<Session> {
    try {
      await this.getSession();
    } catch (error) {
      if (!(error instanceof ConnectorForbiddenError)) throw error;
    }
    await this.updateSession(config);
    return this.getSession();
  }

  /**
   * `POST /register`: (re)starts the SIP or WebRTC connections.
   *
   * @param token - For WebRTC, the OAuth token, sent as `Authorization: Bearer <token>`.
   */
  async register(token?: string): Promise<void> {
    const headers: Record<string, string> = {};
    if (token !== undefined) {
      if (typeof token !== 'string' || !BEARER_TOKEN.test(token)) throw new ConnectorArgumentError('token', 'must be a bearer token (letters, digits, -._~+/ and trailing =)');
      headers['authorization'] = `Bearer ${token}`;
    }
    await this.#request('POST', '/register', { headers });
  }

  /** `DELETE /register`: stops the connections (dropping any call). */
  async unregister(): Promise<void> {
    await this.#request('DELETE', '/register');
  }

  /** `DELETE /session`: closes the session (agent logout). The Softphone clears the cookie. */
  async closeSession(): Promise<void> {
    await this.#request('DELETE', '/session');
  }

  /**
   * `POST /audio`: mutes, unmutes or sets the volume of the speaker and microphone.
   *
   * @param devices - What to change, e.g. `{ microphone: { muted: true } }`; volumes are 0 to 100.
   */
  async setAudio(devices: AudioRequest): Promise<void> {
    if (!validators.audio(devices)) throw new ConnectorArgumentError(firstErrorPath(validators.audio.errors, 'devices'), describeErrors(validators.audio.errors).join('; '));
    await this.#request('POST', '/audio', { body: devices });
  }

  /** `DELETE /calls`: releases the calls (disaster recovery, to delete false calls). */
  async releaseCalls(): Promise<void> {
    await this.#request('DELETE', '/calls');
  }

  /**
   * Polls `GET /session` every `intervalMs` (the spec's keep-alive) and emits what changed.
   *
   * @returns A started {@link SessionWatcher}; call `stop()` to end it.
   */
  watch(options: SessionWatcherOptions = {}): SessionWatcher {
    const watcher = new SessionWatcher(() => this.#request('GET', '/session', { retry: false }) as Promise<Session>, options);
    watcher.start();
    return watcher;
  }

  async #request(method: 'GET' | 'POST' | 'DELETE', path: string, options: RequestOptions = {}): Promise<Session | EmptyBody> {
    const label = `${method} ${path}`;
    const retries = options.retry === false ? 0 : this.#retry.retries;
    let delay = this.#retry.initialDelayMs;
    let staleRetried = false;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.#fetch(`${this.#base}${path}`, {
          method,
          headers: this.#headers(options),
          // No body at all when there is none: a POST then goes with `Content-Length: 0` and no
          // Content-Type, as in the transcript (an empty string would be sent as text/plain).
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          redirect: 'error',
          ...(this.#credentials ? { credentials: this.#credentials } : {}),
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
      } catch (error) {
        if (isTimeout(error)) throw new ConnectorTimeoutError(label, this.#timeoutMs);
        const code = networkErrorCode(error);
        if (code === 'ECONNREFUSED' && attempt <= retries) {
          await sleep(delay);
          delay = Math.min(delay * 2, this.#retry.maxDelayMs);
          continue;
        }
        // A pooled keep-alive socket the Softphone closed (it restarted): try once more on a fresh
        // one. Every Connector API request is idempotent in effect, so a replay is harmless.
        if (code !== undefined && STALE_SOCKET_CODES.has(code) && !staleRetried) {
          staleRetried = true;
          attempt--;
          continue;
        }
        throw new ConnectorUnreachableError(label, attempt, error);
      }
      return this.#handle(label, method, response);
    }
  }

  #headers(options: RequestOptions): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
    if (this.#origin !== undefined) headers['origin'] = this.#origin;
    if (this.#csrfToken !== undefined) headers['x-csrf-token'] = this.#csrfToken;
    const cookie = this.#jar.header();
    if (cookie !== undefined) headers['cookie'] = cookie;
    return headers;
  }

  async #handle(label: string, method: string, response: Response): Promise<Session | EmptyBody> {
    this.#jar.store(setCookieLines(response.headers));
    const version = response.headers.get('x-genesys-softphone-version');
    if (version !== null) this.#softphoneVersion = version.trim();
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      if (isTimeout(error)) throw new ConnectorTimeoutError(label, this.#timeoutMs);
      throw new ConnectorUnreachableError(label, 1, error);
    }
    if (response.status !== 200) throw statusError(label, response.status, text);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ConnectorResponseError(label, [text === '' ? 'the body is empty, not JSON' : 'the body is not JSON'], text);
    }
    const validate = method === 'GET' ? validators.session : validators.empty;
    if (!validate(body)) throw new ConnectorResponseError(label, describeErrors(validate.errors), text);
    return body as Session | EmptyBody;
  }
}

function statusError(label: string, status: number, text: string): ConnectorHttpError {
  let body: ErrorBody | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (validators.errorBody(parsed)) body = parsed as ErrorBody;
  } catch {
    body = undefined;
  }
  if (status === 403) return new ConnectorForbiddenError(label, body);
  if (status === 400) return new ConnectorBadRequestError(label, body);
  if (status === 404) return new ConnectorNotFoundError(label, body);
  if (status >= 500 && status <= 599) return new ConnectorServerError(label, status, body);
  return new ConnectorHttpError('ERR_CONNECTOR_HTTP_STATUS', label, status, body, 'unexpected status');
}

/** Duck-typed: errors from Node's fetch may come from another realm, where `instanceof Error` fails. */
function isTimeout(error: unknown): boolean {
  const { name, cause } = (error ?? {}) as { name?: unknown; cause?: { name?: unknown } };
  return name === 'TimeoutError' || (name === 'AbortError' && cause?.name === 'TimeoutError');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
