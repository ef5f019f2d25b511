import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type, release } from 'node:os';
import { isAbsolute, join } from 'node:path';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { EndpointConfig } from '@sip-endpoint/config';
import { CONNECTOR_BASE_PATH, CONNECTOR_ROUTES, SESSION_COOKIE_NAME, type AudioRequest, type Config as ConnectorConfig, type ErrorBody } from '@sip-endpoint/connector-client';
import { SDK_VERSION } from '@sip-endpoint/endpoint-core';
import { SoftphoneError } from '../errors';
import { GUI_BASE_PATH, GuiRoutes } from '../gui/gui-routes';
import type { Softphone } from '../softphone';
import { originAllowed } from './origins';
import { clearedSessionCookie, sessionCookie, wantsPartitioned, type PartitionedCookies } from './session-cookie';

/** Options of {@link ConnectorServer}. @public */
export interface ConnectorServerOptions {
  /** The softphone the routes drive. */
  softphone: Softphone;
  /** The configuration whose `policy.connector.*` settings the server follows. */
  config: EndpointConfig;
  /** Directory a relative `policy.connector.certificate` is read from. @defaultValue the working directory */
  baseDir?: string;
  /** Address to listen on. Only loopback makes sense for a desktop's local Softphone. @defaultValue '127.0.0.1' */
  host?: string;
  /** Where records go (level 0 to 4). */
  log?: (level: number, message: string) => void;
}

/** Header naming the Softphone version, exposed to the desktop's scripts. */
const VERSION_HEADER = 'X-Genesys-Softphone-Version';
const JSON_TYPE = 'application/json; charset=UTF-8';
const BODY_LIMIT = 64 * 1024;

/** Reason phrases of the statuses the connector answers with. */
const REASONS: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 413: 'Payload Too Large', 500: 'Internal Server Error' };

function errorBody(statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, code, error: REASONS[statusCode] ?? 'Error', message };
}

/** Whether an address to listen on is a loopback one (the page is served there by default). */
function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === '::1' || host.toLowerCase() === 'localhost';
}

/** Splits a PEM file into its certificates and its private key. */
function readPem(path: string): { cert: string; key: string } {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (error) {
    throw new SoftphoneError('ERR_SOFTPHONE_CONNECTOR_SETTINGS', `policy.connector.certificate: cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  const blocks = text.match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g) ?? [];
  const cert = blocks.filter((block) => /^-----BEGIN (TRUSTED )?CERTIFICATE-----/.test(block)).join('\n');
  const key = blocks.find((block) => /^-----BEGIN ((RSA|EC|ENCRYPTED) )?PRIVATE KEY-----/.test(block));
  if (cert === '') throw new SoftphoneError('ERR_SOFTPHONE_CONNECTOR_SETTINGS', `policy.connector.certificate: ${path} holds no PEM certificate`);
  if (!key) throw new SoftphoneError('ERR_SOFTPHONE_CONNECTOR_SETTINGS', `policy.connector.certificate: ${path} holds no private key (put the certificate and its key in one PEM file)`);
  return { cert, key };
}

/**
 * The Connector API v2 on 127.0.0.1 (fastify): `GET`/`POST`/`DELETE /softphone/v2/session`,
 * `POST`/`DELETE /register`, `POST /audio`, `DELETE /calls`, as the spec's transcript shows them.
 *
 * @remarks
 * - Origins: a request whose `Origin` is not allowed by `allowed_origin_headers` (star notation;
 *   empty allows any) gets 403, preflight included. An allowed one gets
 *   `Access-Control-Allow-Origin` echoing it, `Access-Control-Allow-Credentials: true` and the
 *   version header exposed. A request without `Origin` (not a browser) is served without CORS headers.
 * - Session (`enable_sessionid` = 1): a request without the session cookie, or with a stale one,
 *   gets 403 `{}` and `Set-Cookie: SEPSESSIONID=<new id>; HttpOnly; SameSite=None; Secure;
 *   Path=/softphone/v2/` (`Partitioned` per `partitioned_cookies` and the browser's version). The
 *   first request that brings an issued id opens the client session; while it is open, other ids
 *   get 403 without a cookie. With `enable_sessionid` = 0 no cookie is used and any allowed
 *   request belongs to the one session.
 * - `session_expire` seconds without a `GET /session` end the session (0: never).
 * - A body that is not JSON, or is outside the route's schema (from
 *   `@sip-endpoint/connector-client`), gets 400 with a `message`; an unknown route 404.
 *
 * @public
 */
export class ConnectorServer {
  readonly #options: ConnectorServerOptions;
  readonly #app: FastifyInstance;
  readonly #allowed: readonly string[];
  readonly #sessionIds: boolean;
  readonly #partitioned: PartitionedCookies;
  readonly #version = `${SDK_VERSION}  (${type()} ${release()})`;
  /** Ids handed out and not yet used, oldest first (a few, for desktops that open several tabs). */
  readonly #offered: string[] = [];
  /** The open session's id (with session ids on). */
  #sessionId: string | undefined;
  #expiry: NodeJS.Timeout | undefined;
  #url: string | undefined;
  #guiUrl: string | undefined;
  readonly #gui: GuiRoutes | undefined;

  constructor(options: ConnectorServerOptions) {
    this.#options = options;
    const { config } = options;
    this.#allowed = config.get('policy.connector.allowed_origin_headers');
    this.#sessionIds = config.get('policy.connector.enable_sessionid');
    this.#partitioned = config.get('policy.connector.partitioned_cookies');
    const https = config.get('policy.connector.protocol') === 'https' ? this.#tlsOptions() : undefined;
    this.#app = Fastify({
      ...(https ? { https } : {}),
      logger: false,
      bodyLimit: BODY_LIMIT,
      // Closing cuts every connection, a browser's kept-alive ones and the page's event streams too.
      forceCloseConnections: true,
      // Closed request schemas must fail (not be stripped), and "60" is not 60.
      ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    }) as unknown as FastifyInstance;
    const gui = config.get('policy.connector.gui');
    if (gui === '1' || (gui === 'auto' && isLoopback(options.host ?? '127.0.0.1'))) {
      this.#gui = new GuiRoutes({ softphone: options.softphone, scheme: https ? 'https' : 'http', log: (level, message) => this.#log(level, `page: ${message}`) });
    }
    this.#routes();
  }

  /** The Softphone page's URL (`http://127.0.0.1:8654/softphone/gui/`), once listening, when `policy.connector.gui` serves it. */
  get guiUrl(): string | undefined {
    return this.#guiUrl;
  }

  /** The base URL (`http://127.0.0.1:8654/softphone/v2`), once listening. */
  get url(): string | undefined {
    return this.#url;
  }

  /** Opens the port (`policy.connector.port`) on 127.0.0.1. */
  async listen(): Promise<void> {
    const port = this.#options.config.get('policy.connector.port');
    const host = this.#options.host ?? '127.0.0.1';
    try {
      await this.#app.listen({ host, port: port ?? 0 });
    } catch (error) {
      throw new SoftphoneError('ERR_SOFTPHONE_CONNECTOR_LISTEN', `the connector cannot listen on ${host}:${port ?? 0}: ${(error as Error).message}`, { cause: error });
    }
    const address = this.#app.server.address();
    const actual = typeof address === 'object' && address ? address.port : port;
    const scheme = this.#options.config.get('policy.connector.protocol') === 'https' ? 'https' : 'http';
    const origin = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${actual}`;
    this.#url = `${origin}${CONNECTOR_BASE_PATH}`;
    if (this.#gui) this.#guiUrl = `${origin}${GUI_BASE_PATH}/`;
  }

  /** Stops listening and the expiry timer. Calling it twice is harmless. */
  async close(): Promise<void> {
    this.#clearExpiry();
    this.#gui?.close();
    await this.#app.close();
  }

  /** The softphone's `session_expire` changed (a `POST /session`): the countdown starts again with it. */
  sessionExpireChanged(): void {
    this.#armExpiry();
  }

  #tlsOptions(): { cert: string; key: string } {
    const file = this.#options.config.get('policy.connector.certificate');
    if (file === '') {
      const thumbprint = this.#options.config.get('policy.connector.certificate_search_value');
      throw new SoftphoneError(
        'ERR_SOFTPHONE_CONNECTOR_SETTINGS',
        thumbprint !== ''
          ? `policy.connector.protocol is https but certificate_search_value names a certificate store entry (${thumbprint}), which Node cannot open; set policy.connector.certificate to a PEM file with the certificate and its key`
          : 'policy.connector.protocol is https: set policy.connector.certificate to a PEM file with the certificate and its key',
      );
    }
    return readPem(isAbsolute(file) ? file : join(this.#options.baseDir ?? process.cwd(), file));
  }

  #log(level: number, message: string): void {
    this.#options.log?.(level, `connector: ${message}`);
  }

  #routes(): void {
    const app = this.#app;
    const softphone = this.#options.softphone;

    // JSON bodies; an empty one is no body (POST /register with Content-Type but nothing else).
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') {
        done(null, undefined);
        return;
      }
      try {
        done(null, JSON.parse(text));
      } catch (error) {
        done(new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', `the body is not valid JSON: ${(error as Error).message}`), undefined);
      }
    });

    // Every response: the transcript's headers.
    app.addHook('onRequest', async (request, reply) => {
      reply.header('X-Content-Type-Options', 'nosniff');
      reply.header('Access-Control-Expose-Headers', VERSION_HEADER);
      reply.header(VERSION_HEADER, this.#version);
      const origin = request.headers.origin;
      if (origin !== undefined && !originAllowed(origin, this.#allowed)) {
        this.#log(2, `${request.method} ${request.url} from origin ${origin} refused (allowed_origin_headers)`);
        return reply.code(403).type(JSON_TYPE).send(errorBody(403, 'ERR_CONNECTOR_FOREIGN_ORIGIN', `origin ${origin} is not allowed`));
      }
      return undefined;
    });

    void app.register(cors, {
      origin: (origin, callback) => callback(null, origin !== undefined && originAllowed(origin, this.#allowed) ? origin : false),
      credentials: true,
      exposedHeaders: [VERSION_HEADER],
      methods: ['GET', 'POST', 'DELETE'],
      strictPreflight: true,
      hook: 'onRequest',
    });
    void app.register(cookie);

    void app.register(async (api) => {
      // The session check, before the body is read: 403 and a fresh cookie when there is none.
      api.addHook('onRequest', async (request, reply) => {
        if (request.method === 'OPTIONS') return undefined;
        if (!this.#admit(request, reply)) {
          return reply.code(403).header('Cache-Control', 'no-store').type(JSON_TYPE).send({});
        }
        return undefined;
      });

      for (const route of CONNECTOR_ROUTES) {
        api.route({
          method: route.method,
          url: route.path,
          schema: {
            ...(route.body && route.method === 'POST' && route.path !== '/register' ? { body: route.body } : {}),
            ...(route.headers ? { headers: route.headers } : {}),
          },
          handler: async (request, reply) => {
            reply.type(JSON_TYPE);
            switch (`${route.method} ${route.path}`) {
              case 'GET /session':
                this.#armExpiry();
                reply.header('Cache-Control', 'no-store');
                return softphone.session();
              case 'POST /session':
                await softphone.configureSession(request.body as ConnectorConfig);
                return {};
              case 'DELETE /session':
                this.#endSession(request, reply);
                await softphone.endSession('closed');
                return {};
              case 'POST /register': {
                if (request.body !== undefined && (typeof request.body !== 'object' || request.body === null || Object.keys(request.body).length > 0)) {
                  throw new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', 'POST /register takes no body (the WebRTC token goes in Authorization: Bearer)');
                }
                // The route's schema let through only `Bearer <b64token>` (RFC 6750 2.1), or no header.
                await softphone.register(request.headers.authorization?.slice('Bearer '.length));
                return {};
              }
              case 'DELETE /register':
                await softphone.unregister();
                return {};
              case 'POST /audio':
                await softphone.setAudio(request.body as AudioRequest);
                return {};
              case 'DELETE /calls':
                await softphone.releaseCalls();
                return {};
              default:
                throw new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', `${route.method} ${route.path} is not handled`, { statusCode: 404 });
            }
          },
        });
      }
    }, { prefix: CONNECTOR_BASE_PATH });

    this.#gui?.register(app);

    app.setNotFoundHandler((request, reply) => {
      void reply.code(404).type(JSON_TYPE).send(errorBody(404, 'ERR_CONNECTOR_NOT_FOUND', `${request.method} ${request.url.split('?')[0]} is not a route of the Connector API v2 (${CONNECTOR_BASE_PATH}/session, /register, /audio, /calls)`));
    });

    app.setErrorHandler((error: FastifyError | SoftphoneError, request: FastifyRequest, reply: FastifyReply) => {
      reply.type(JSON_TYPE);
      if (error instanceof SoftphoneError) {
        this.#log(2, `${request.method} ${request.url}: ${error.statusCode} ${error.message}`);
        return reply.code(error.statusCode).send(errorBody(error.statusCode, error.code, error.message));
      }
      const code = (error as { code?: unknown }).code;
      if ((error as FastifyError).validation) {
        this.#log(2, `${request.method} ${request.url}: 400 ${error.message}`);
        return reply.code(400).send(errorBody(400, 'ERR_CONNECTOR_BAD_REQUEST', error.message));
      }
      if (typeof code === 'string' && code.startsWith('ERR_CONFIG_')) {
        // An options.sipendpoint override or a connection the configuration refuses.
        this.#log(2, `${request.method} ${request.url}: 400 ${error.message}`);
        return reply.code(400).send(errorBody(400, code, error.message));
      }
      const status = (error as FastifyError).statusCode;
      if (status === 413) return reply.code(413).send(errorBody(413, 'ERR_CONNECTOR_BAD_REQUEST', `the body is larger than ${BODY_LIMIT} bytes`));
      if (status !== undefined && status >= 400 && status < 500) {
        // Fastify's own refusals (415 for a body that is not JSON, ...): a bad request for the spec.
        return reply.code(400).send(errorBody(400, 'ERR_CONNECTOR_BAD_REQUEST', error.message));
      }
      this.#log(1, `${request.method} ${request.url}: ${error.message}`);
      return reply.code(500).send(errorBody(500, typeof code === 'string' ? code : 'ERR_CONNECTOR_INTERNAL', error.message));
    });
  }

  /**
   * Whether the request belongs to the client session; sets the fresh cookie when it does not.
   * The first request that brings an id we handed out opens the session.
   */
  #admit(request: FastifyRequest, reply: FastifyReply): boolean {
    const softphone = this.#options.softphone;
    if (!this.#sessionIds) {
      if (!softphone.inSession) this.#open();
      return true;
    }
    const id = request.cookies[SESSION_COOKIE_NAME];
    if (id && this.#sessionId === id && softphone.inSession) return true;
    if (id && this.#offered.includes(id) && !softphone.inSession) {
      this.#offered.splice(0, this.#offered.length);
      this.#sessionId = id;
      this.#open();
      return true;
    }
    if (softphone.inSession) {
      this.#log(2, `${request.method} ${request.url} refused: another client session is open`);
      return false;
    }
    const fresh = randomUUID().toUpperCase();
    this.#offered.push(fresh);
    if (this.#offered.length > 8) this.#offered.shift();
    reply.header('Set-Cookie', sessionCookie(fresh, wantsPartitioned(this.#partitioned, request.headers['user-agent'])));
    return false;
  }

  #open(): void {
    this.#options.softphone.beginSession();
    this.#armExpiry();
  }

  #endSession(request: FastifyRequest, reply: FastifyReply): void {
    this.#clearExpiry();
    this.#sessionId = undefined;
    if (this.#sessionIds) reply.header('Set-Cookie', clearedSessionCookie(wantsPartitioned(this.#partitioned, request.headers['user-agent'])));
  }

  /** (Re)starts the `session_expire` countdown; at its end the session ends as `DELETE /session` would. */
  #armExpiry(): void {
    this.#clearExpiry();
    const softphone = this.#options.softphone;
    const seconds = softphone.sessionExpire;
    if (seconds === 0 || !softphone.inSession) return;
    this.#expiry = setTimeout(() => {
      this.#expiry = undefined;
      this.#log(2, `no GET /session for ${seconds} s: the client session ends`);
      this.#sessionId = undefined;
      softphone.endSession('expired').catch((error: Error) => this.#log(1, `ending the expired session: ${error.message}`));
    }, seconds * 1000);
    this.#expiry.unref();
  }

  #clearExpiry(): void {
    if (this.#expiry) clearTimeout(this.#expiry);
    this.#expiry = undefined;
  }
}

