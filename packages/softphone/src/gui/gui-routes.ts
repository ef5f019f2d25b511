import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Call, Endpoint } from '@sip-endpoint/endpoint-core';
import { SoftphoneError } from '../errors';
import type { Softphone } from '../softphone';
import { CallSlots, guiState, type GuiState } from './gui-state';

/** Where the page's API lives: this SDK's extension, beside the Connector API v2 (whose routes stay as they are). @public */
export const GUI_BASE_PATH = '/softphone/gui';

const JSON_TYPE = 'application/json; charset=UTF-8';
/** Seconds between the keep-alive comments of an event stream (proxies and browsers drop a silent one). */
const KEEP_ALIVE_MS = 15_000;
/** While a call is up, the state goes out every second (MOS, jitter, durations) as well as on each change. */
const TICK_MS = 1000;

/** The page's files (`gui/` of the package), read once: next to the sources and next to the build alike. */
function guiFiles(): Record<string, { type: string; body: string }> {
  const here = dirname(typeof __filename !== 'undefined' ? __filename : fileURLToPath(import.meta.url));
  // src/gui/ in the sources (jest, tsx), dist/ once built: gui/ is the package's.
  const dir = [join(here, '..', '..', 'gui'), join(here, '..', 'gui')].find((candidate) => existsSync(join(candidate, 'index.html')));
  if (!dir) throw new SoftphoneError('ERR_SOFTPHONE_CONNECTOR_SETTINGS', `the Softphone page's files (gui/index.html) are not beside ${here}: the package is incomplete`);
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  return {
    '/': { type: 'text/html; charset=UTF-8', body: read('index.html') },
    '/app.js': { type: 'text/javascript; charset=UTF-8', body: read('app.js') },
    '/app.css': { type: 'text/css; charset=UTF-8', body: read('app.css') },
  };
}

/** A loopback host (with its port), the only hosts the page answers to: a DNS-rebound name is refused. */
const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;

/** Characters a dial string may not carry: whitespace, controls, and what SIP and URIs reserve for their syntax. */
const UNSAFE_DIAL = /[\s\p{Cc}<>"\\{}|^`]/u;

/**
 * Runs an action of the page; an SDK error (a call in the wrong state for it, a target the
 * endpoint cannot call) becomes a refusal the page shows: 409, or 400 for a bad argument.
 */
async function refused<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (error instanceof SoftphoneError || typeof code !== 'string' || !code.startsWith('ERR_')) throw error;
    throw new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', (error as Error).message, { statusCode: code === 'ERR_SIP_INVALID_ARGUMENT' || code === 'ERR_MEDIA_DTMF_DIGIT_INVALID' ? 400 : 409, cause: error });
  }
}

/**
 * The Softphone's own page and its API (`/softphone/gui/`): the tabs of `gui_tabs`, the phone lines
 * of `gui_call_lines`, live state over server-sent events, and call control.
 *
 * @remarks
 * The page is the agent's window beside the desktop, not a desktop: it needs no client session of
 * the Connector API and does not open one. It answers only its own origin: a request whose `Host`
 * is not a loopback address (DNS rebinding), whose `Origin` is another than the page's, or that a
 * browser marks as made by another site (`Sec-Fetch-Site`), gets 403, whatever
 * `allowed_origin_headers` allows the desktop.
 */
export class GuiRoutes {
  readonly #softphone: Softphone;
  readonly #scheme: 'http' | 'https';
  readonly #log: (level: number, message: string) => void;
  readonly #files = guiFiles();
  readonly #slots = new CallSlots();
  readonly #connectedAt = new Map<string, number>();
  readonly #clients = new Set<ServerResponse>();
  #endpoint: Endpoint | undefined;
  #pending: NodeJS.Timeout | undefined;
  #tick: NodeJS.Timeout | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  readonly #onEndpoint = (endpoint: Endpoint): void => this.#watch(endpoint);
  readonly #changed = (): void => this.#schedule();
  readonly #callStateChanged = (call: Call, state: string): void => {
    if (state === 'CONNECTED' && !this.#connectedAt.has(call.id)) this.#connectedAt.set(call.id, Date.now());
    if (state === 'DISCONNECTED') this.#connectedAt.delete(call.id);
    this.#schedule();
  };

  constructor(options: { softphone: Softphone; scheme: 'http' | 'https'; log: (level: number, message: string) => void }) {
    this.#softphone = options.softphone;
    this.#scheme = options.scheme;
    this.#log = options.log;
    this.#softphone.on('endpoint', this.#onEndpoint);
    this.#softphone.on('sessionStarted', this.#changed);
    this.#softphone.on('sessionEnded', this.#changed);
    this.#softphone.devices.on('devicesChanged', this.#changed);
    if (this.#softphone.endpoint) this.#watch(this.#softphone.endpoint);
  }

  /** The page's state now. */
  state(): GuiState {
    const softphone = this.#softphone;
    const config = softphone.config;
    return guiState({
      tabs: config.get('policy.endpoint.gui_tabs'),
      callLines: config.get('policy.endpoint.gui_call_lines'),
      mode: softphone.mode,
      inSession: softphone.inSession,
      endpoint: softphone.endpoint,
      devices: softphone.devices,
      slots: this.#slots,
      connectedAt: this.#connectedAt,
    });
  }

  /** Adds the routes under {@link GUI_BASE_PATH}. */
  register(app: FastifyInstance): void {
    void app.register(
      async (gui) => {
        gui.addHook('onRequest', async (request, reply) => {
          const refusal = this.#foreign(request);
          if (refusal === undefined) return undefined;
          this.#log(2, `${request.method} ${request.url} refused: ${refusal}`);
          return reply.code(403).type(JSON_TYPE).send({ statusCode: 403, code: 'ERR_GUI_FOREIGN_ORIGIN', error: 'Forbidden', message: refusal });
        });
        gui.addHook('onSend', async (_request, reply) => {
          reply.header('Cache-Control', 'no-store');
          reply.header('X-Frame-Options', 'DENY');
          reply.header('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
          reply.header('Referrer-Policy', 'no-referrer');
        });
        for (const [path, file] of Object.entries(this.#files)) {
          // The page at `/softphone/gui/` only (its files are named relative to it); without the slash, a redirect (below).
          gui.route({ method: 'GET', url: path, prefixTrailingSlash: 'slash', handler: async (_request, reply) => reply.type(file.type).send(file.body) });
        }
        gui.get('/state', async (_request, reply) => reply.type(JSON_TYPE).send(this.state()));
        gui.get('/events', (request, reply) => this.#stream(request, reply));
        gui.post('/dial', async (request, reply) => {
          const body = (request.body ?? {}) as { target?: unknown; line?: unknown };
          const target = typeof body.target === 'string' ? body.target.trim() : '';
          if (target === '') throw new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', 'enter a number or a SIP address to dial');
          if (target.length > 256) throw new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', 'the number to dial is longer than 256 characters');
          if (UNSAFE_DIAL.test(target)) throw new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', `"${target.replace(/\p{Cc}/gu, '?')}" cannot be dialled: spaces, control characters and < > " \\ { } | ^ \` have no place in a number or a SIP address`);
          const endpoint = this.#running();
          const call = await refused(() => endpoint.makeCall(target, typeof body.line === 'number' ? { line: body.line } : {}));
          this.#schedule();
          return reply.type(JSON_TYPE).send({ id: call.id });
        });
        gui.post('/calls/:id/:action', async (request, reply) => {
          const { id, action } = request.params as { id: string; action: string };
          const body = (request.body ?? {}) as { digits?: unknown; target?: unknown; muted?: unknown };
          const call = this.#running().calls.find((candidate) => candidate.id === id && candidate.state !== 'DISCONNECTED');
          if (!call) throw new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', `the call ${id} has ended`, { statusCode: 404 });
          await refused(() => this.#act(call, action, body));
          this.#schedule();
          return reply.type(JSON_TYPE).send({});
        });
        gui.post('/devices', async (request, reply) => {
          const body = (request.body ?? {}) as { microphone?: { name?: unknown; volume?: unknown; muted?: unknown }; speaker?: { name?: unknown; volume?: unknown; muted?: unknown } };
          const device = (value: { name?: unknown; volume?: unknown; muted?: unknown } | undefined): { name?: string; volume?: number; muted?: boolean } | undefined => {
            if (value === undefined) return undefined;
            if (typeof value !== 'object' || value === null) throw new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', 'a device is an object with name, volume or muted');
            const out: { name?: string; volume?: number; muted?: boolean } = {};
            if (value.name !== undefined) {
              if (typeof value.name !== 'string') throw new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', 'a device name is text');
              out.name = value.name;
            }
            if (value.volume !== undefined) {
              if (typeof value.volume !== 'number' || !Number.isInteger(value.volume) || value.volume < 0 || value.volume > 100) throw new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', 'a volume is a whole number from 0 to 100');
              out.volume = value.volume;
            }
            if (value.muted !== undefined) {
              if (typeof value.muted !== 'boolean') throw new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', 'muted is true or false');
              out.muted = value.muted;
            }
            return out;
          };
          const microphone = device(body.microphone);
          const speaker = device(body.speaker);
          await this.#softphone.selectAudio({ ...(microphone ? { microphone } : {}), ...(speaker ? { speaker } : {}) });
          this.#schedule();
          return reply.type(JSON_TYPE).send({});
        });
      },
      { prefix: GUI_BASE_PATH },
    );
    // The page without its slash: where the printed URL points.
    app.get(GUI_BASE_PATH, async (_request, reply) => reply.redirect(`${GUI_BASE_PATH}/`));
  }

  /** Ends every event stream and stops listening. */
  close(): void {
    this.#softphone.off('endpoint', this.#onEndpoint);
    this.#softphone.off('sessionStarted', this.#changed);
    this.#softphone.off('sessionEnded', this.#changed);
    this.#softphone.devices.off('devicesChanged', this.#changed);
    this.#unwatch();
    // Cut, not ended: an ended stream's connection would stay open (keep-alive) and hold the server's close for seconds.
    for (const client of this.#clients) client.destroy();
    this.#clients.clear();
    this.#stopTimers();
  }

  /** One action of the Calls tab on a call. */
  async #act(call: Call, action: string, body: { digits?: unknown; target?: unknown; muted?: unknown }): Promise<void> {
    switch (action) {
      case 'answer':
        await call.answer();
        break;
      case 'hangup':
        await call.hangup();
        break;
      case 'hold':
        await call.hold();
        break;
      case 'retrieve':
        await call.retrieve();
        break;
      case 'mute':
        call.mute(body.muted !== false);
        break;
      case 'dtmf':
        if (typeof body.digits !== 'string' || !/^[0-9*#A-Da-d]{1,32}$/.test(body.digits)) throw new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', 'DTMF digits are 0-9, *, # and A-D');
        await call.sendDtmf(body.digits);
        break;
      case 'transfer': {
        const target = typeof body.target === 'string' ? body.target.trim() : '';
        if (target === '' || UNSAFE_DIAL.test(target)) throw new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', 'enter a number or a SIP address to transfer to, without spaces or < > " \\ { } | ^ `');
        await call.transfer(target);
        break;
      }
      default:
        throw new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', `${action} is not an action on a call`, { statusCode: 404 });
    }
  }

  /** Why a request is not the page's own, or undefined when it is. */
  #foreign(request: FastifyRequest): string | undefined {
    const host = request.headers.host ?? '';
    if (!LOOPBACK_HOST.test(host)) return `the Softphone page answers on 127.0.0.1 only, not as ${JSON.stringify(host)}`;
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `${this.#scheme}://${host}`) return `origin ${origin} is not the Softphone page's`;
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return `a request made by another site (Sec-Fetch-Site: ${String(site)})`;
    return undefined;
  }

  #running(): Endpoint {
    const endpoint = this.#softphone.endpoint;
    if (!endpoint || endpoint.state !== 'RUNNING') throw new SoftphoneError('ERR_CONNECTOR_BAD_REQUEST', 'the softphone has no running endpoint (the desktop has not registered)', { statusCode: 409 });
    return endpoint;
  }

  #watch(endpoint: Endpoint): void {
    this.#unwatch();
    this.#endpoint = endpoint;
    endpoint.on('stateChanged', this.#changed);
    endpoint.on('connectionStateChanged', this.#changed);
    endpoint.on('callStateChanged', this.#callStateChanged);
    endpoint.on('incomingCall', this.#changed);
    endpoint.on('statusChanged', this.#changed);
    endpoint.on('vqAlarm', this.#changed);
    endpoint.on('devicesChanged', this.#changed);
    this.#schedule();
  }

  #unwatch(): void {
    const endpoint = this.#endpoint;
    if (!endpoint) return;
    endpoint.off('stateChanged', this.#changed);
    endpoint.off('connectionStateChanged', this.#changed);
    endpoint.off('callStateChanged', this.#callStateChanged);
    endpoint.off('incomingCall', this.#changed);
    endpoint.off('statusChanged', this.#changed);
    endpoint.off('vqAlarm', this.#changed);
    endpoint.off('devicesChanged', this.#changed);
    this.#endpoint = undefined;
  }

  /** `GET /events`: `text/event-stream`, a `state` event at once and after every change. */
  #stream(request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=UTF-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Content-Type-Options': 'nosniff',
      'X-Accel-Buffering': 'no',
    });
    this.#clients.add(response);
    request.raw.on('close', () => {
      this.#clients.delete(response);
      if (this.#clients.size === 0) this.#stopTimers();
    });
    this.#send([response]);
    this.#keepAlive ??= setInterval(() => {
      for (const client of this.#clients) client.write(': keep-alive\n\n');
    }, KEEP_ALIVE_MS).unref();
    this.#arm();
  }

  /** A change: the state goes out once, after whatever else changes in the same moment. */
  #schedule(): void {
    if (this.#clients.size === 0 || this.#pending) return;
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      this.#send([...this.#clients]);
      this.#arm();
    }, 20);
  }

  /** The once-a-second state while a call is up (for MOS, jitter and durations). */
  #arm(): void {
    const calls = this.#endpoint?.calls.some((call) => call.state !== 'DISCONNECTED') ?? false;
    if (calls && this.#clients.size > 0) {
      this.#tick ??= setInterval(() => {
        this.#send([...this.#clients]);
        this.#arm();
      }, TICK_MS);
    } else if (this.#tick) {
      clearInterval(this.#tick);
      this.#tick = undefined;
    }
  }

  #send(clients: ServerResponse[]): void {
    if (clients.length === 0) return;
    let message: string;
    try {
      message = `event: state\ndata: ${JSON.stringify(this.state())}\n\n`;
    } catch (error) {
      this.#log(1, `the Softphone page's state could not be taken: ${(error as Error).message}`);
      return;
    }
    for (const client of clients) client.write(message);
  }

  #stopTimers(): void {
    if (this.#pending) clearTimeout(this.#pending);
    this.#pending = undefined;
    if (this.#tick) clearInterval(this.#tick);
    this.#tick = undefined;
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }
}
