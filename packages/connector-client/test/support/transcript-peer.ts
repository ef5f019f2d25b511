import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { EMPTY_BODY_TEXT, REGISTERED_SESSION_TEXT, TRANSCRIPT_VERSION } from './transcript';

/** A request the peer received. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** When its body had arrived (`Date.now()`). */
  receivedAt: number;
  /** When the peer answered it, once it has. */
  answeredAt?: number;
}

/** A response to send instead of the transcript's (for status and malformed-body cases). */
export interface ScriptedResponse {
  status: number;
  body: string;
  headers?: Record<string, string>;
  /** Wait this long before answering. */
  delayMs?: number;
}

interface PeerSession {
  configured: boolean;
  registered: boolean;
  config?: unknown;
}

/**
 * A real HTTP server on 127.0.0.1 that answers as the spec's recorded transcript does: the first
 * GET /session without a cookie gets 403 `{}` and a SEPSESSIONID; POST /session configures the
 * session; POST /register registers; GET /session then returns the transcript's registered session
 * (or `snapshot`, when a test sets one); DELETE /session clears the cookie.
 */
export class TranscriptPeer {
  readonly requests: RecordedRequest[] = [];
  readonly sessions = new Map<string, PeerSession>();
  /** Replaces the GET /session body of a configured session, when set. */
  snapshot: unknown;
  /** Answers taken, in order, before the transcript's behaviour. */
  readonly scripted: ScriptedResponse[] = [];
  readonly #server: Server;

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now() };
        this.requests.push(request);
        const answer = this.scripted.shift() ?? this.#transcript(request);
        const headers: Record<string, string | string[]> = {
          'X-Content-Type-Options': 'nosniff',
          'Access-Control-Expose-Headers': 'X-Genesys-Softphone-Version',
          'X-Genesys-Softphone-Version': TRANSCRIPT_VERSION,
          'Content-Type': 'application/json; charset=UTF-8',
          ...answer.headers,
        };
        if (typeof req.headers.origin === 'string') {
          headers['Access-Control-Allow-Origin'] = req.headers.origin;
          headers['Access-Control-Allow-Credentials'] = 'true';
        }
        const send = () => {
          request.answeredAt = Date.now();
          res.writeHead(answer.status, headers);
          res.end(answer.body);
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
  }

  /** Listens on 127.0.0.1:port. */
  async listen(port: number): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => resolve());
    });
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #transcript(request: RecordedRequest): ScriptedResponse {
    const prefix = '/softphone/v2';
    if (!request.url.startsWith(`${prefix}/`)) return { status: 404, body: EMPTY_BODY_TEXT };
    const route = `${request.method} ${request.url.slice(prefix.length)}`;
    const id = /(?:^|;\s*)SEPSESSIONID=([^;]*)/.exec(request.headers.cookie ?? '')?.[1];
    const session = id !== undefined ? this.sessions.get(id) : undefined;
    const forbidden = { status: 403, body: EMPTY_BODY_TEXT };
    const ok = { status: 200, body: EMPTY_BODY_TEXT };
    switch (route) {
      case 'GET /session':
        if (!session) {
          const fresh = randomUUID().toUpperCase();
          this.sessions.set(fresh, { configured: false, registered: false });
          return { ...forbidden, headers: { 'Set-Cookie': `SEPSESSIONID=${fresh}; HttpOnly; SameSite=None; Secure; Path=/softphone/v2/`, 'Cache-Control': 'no-store' } };
        }
        if (!session.configured) return forbidden;
        return { status: 200, body: this.snapshot !== undefined ? JSON.stringify(this.snapshot) : REGISTERED_SESSION_TEXT, headers: { 'Cache-Control': 'no-store' } };
      case 'POST /session':
        if (!session) return forbidden;
        try {
          session.config = JSON.parse(request.body);
        } catch {
          return { status: 400, body: JSON.stringify({ statusCode: 400, error: 'Bad Request', message: 'body is not JSON' }) };
        }
        session.configured = true;
        return ok;
      case 'POST /register':
      case 'DELETE /register':
      case 'POST /audio':
      case 'DELETE /calls':
        if (!session?.configured) return forbidden;
        if (route === 'POST /register') session.registered = true;
        if (route === 'DELETE /register') session.registered = false;
        return ok;
      case 'DELETE /session':
        if (!session || id === undefined) return forbidden;
        this.sessions.delete(id);
        return { ...ok, headers: { 'Set-Cookie': 'SEPSESSIONID=; HttpOnly; SameSite=None; Secure' } };
      default:
        return { status: 404, body: EMPTY_BODY_TEXT };
    }
  }
}
