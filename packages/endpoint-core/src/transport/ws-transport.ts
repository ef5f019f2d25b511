import { WebSocket, type RawData } from 'ws';
import { ConnectionTransport, type ConnectionTransportOptions, type SipConnection, type SipTarget } from './connection-transport';
import { formatHost } from './timeout-response';
import { tlsClientOptions, type TlsSettings } from './tls-settings';
import { ConnectionFailedError } from '../errors';
import type { TransportLogger } from './hand-over';

/** The largest WebSocket frame taken from the server: a SIP message's limit (64 KiB). */
const MAX_FRAME_BYTES = 65535;

/** Options of {@link WsTransport}, passed by sip.js as `transportOptions`. @public */
export interface WsTransportOptions extends ConnectionTransportOptions {
  /** With TLS settings the transport is WSS (`wss://`, Via `WSS`); without, WS. */
  tls?: TlsSettings;
  /** The server's name as configured, checked against its certificate (WSS) and sent as SNI. @defaultValue the target's address */
  serverName?: string;
  /** Path of the WebSocket URL. @defaultValue '/' */
  path?: string;
  /** Local address of the connections we open. */
  localAddress?: string;
  /** Milliseconds the opening handshake may take. @defaultValue 10000 */
  handshakeTimeoutMs?: number;
  /**
   * An OAuth access token (WebRTC connectivity): sent as `Authorization: Bearer` on the WebSocket
   * upgrade. Asked for at each connection, so that a new token serves from the next one on. (The
   * line puts it in its REGISTERs, and sip.js answers a Bearer challenge with it: RFC 8898.)
   */
  bearerToken?: () => string | undefined;
  /**
   * Seconds between WebSocket ping frames; a connection whose pong has not come by the next ping
   * is closed (and, with `reconnect`, opened again). @defaultValue 30
   */
  keepAliveS?: number;
}

function text(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/**
 * SIP over WebSocket for sip.js (RFC 7118), `ws://` or `wss://` (with TLS settings): the `sip`
 * subprotocol, one SIP message per WebSocket message (text frames out; text or binary in), Via
 * transport `WS` or `WSS`. Requests go on one connection to the target; responses on the
 * connection their request came on; a 408 is handed to sip.js at `sip_transaction_timeout`; ping
 * frames keep the connection alive and find out when it died. The connection is reopened as soon
 * as it drops (the server can only reach us over it) unless `reconnect` is `false`; `onReconnect`
 * says when it is back, so that the line registers again.
 *
 * @public
 */
export class WsTransport extends ConnectionTransport {
  readonly protocol: string;
  readonly #options: WsTransportOptions;

  constructor(logger: unknown, options: WsTransportOptions) {
    super({ ...options, ...(logger ? { logger: logger as TransportLogger } : {}), keepAliveS: options.keepAliveS ?? 30, reconnect: options.reconnect ?? true });
    this.#options = options;
    this.protocol = options.tls ? 'WSS' : 'WS';
  }

  protected listeningPort(): number | undefined {
    return undefined;
  }

  protected dial(target: SipTarget): Promise<SipConnection> {
    const secure = this.#options.tls !== undefined;
    const url = `${secure ? 'wss' : 'ws'}://${formatHost(target.address)}:${target.port}${this.#options.path ?? '/'}`;
    const tls = this.#options.tls ? tlsClientOptions(this.#options.tls, this.#options.serverName ?? target.address) : {};
    const failed = (reason: string, cause?: unknown): ConnectionFailedError =>
      new ConnectionFailedError(`cannot connect to ${url} over ${this.protocol}: ${reason}`, cause === undefined ? undefined : { cause });
    const token = this.#options.bearerToken?.();
    return new Promise<SipConnection>((resolve, reject) => {
      let socket: WebSocket;
      try {
        socket = new WebSocket(url, 'sip', {
          ...tls,
          ...(this.#options.localAddress ? { localAddress: this.#options.localAddress } : {}),
          handshakeTimeout: this.#options.handshakeTimeoutMs ?? 10000,
          ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
          perMessageDeflate: false,
          followRedirects: false,
          // A SIP message is at most 64 KiB (as over TCP: sip-stream-framer.ts); a larger frame
          // closes the connection with 1009 instead of being buffered (ws takes 100 MiB by default).
          maxPayload: MAX_FRAME_BYTES,
        });
      } catch (error) {
        reject(failed((error as Error).message, error));
        return;
      }
      let localPort: number | undefined;
      socket.once('upgrade', (response) => {
        localPort = response.socket.localPort;
      });
      // A refused upgrade (an HTTP status instead of 101): said as what it is, the token named for 401.
      socket.once('unexpected-response', (_request, response) => {
        const status = `${response.statusCode ?? 0} ${response.statusMessage ?? ''}`.trim();
        const why =
          response.statusCode === 401
            ? token
              ? 'it refused the OAuth access token (expired or wrong): give a new one (POST /register, or endpoint.setAccessToken)'
              : 'it wants an OAuth access token and the line has none (POST /register with a Bearer token, or endpoint.setAccessToken)'
            : undefined;
        socket.removeAllListeners('error');
        socket.on('error', () => undefined); // terminating a socket still connecting reports an error
        socket.terminate();
        reject(failed(`the server refused the WebSocket upgrade with ${status}${why ? `: ${why}` : ''}`));
      });
      socket.once('error', (error) => {
        socket.terminate();
        reject(failed(error.message, error));
      });
      socket.once('open', () => {
        socket.removeAllListeners('error');
        socket.on('error', () => undefined);
        if (socket.protocol !== 'sip') {
          socket.terminate();
          reject(failed(`the server did not accept the "sip" subprotocol (got "${socket.protocol}")`));
          return;
        }
        resolve(this.#wrap(socket, target, localPort));
      });
    });
  }

  #wrap(socket: WebSocket, remote: SipTarget, localPort: number | undefined): SipConnection {
    let awaitingPong = false;
    const connection: SipConnection = {
      remote,
      localPort,
      get open() {
        return socket.readyState === WebSocket.OPEN;
      },
      write: (message) => socket.send(message),
      keepAlive: () => {
        if (awaitingPong) {
          socket.terminate(); // no pong since the last ping: the connection is dead
          return;
        }
        awaitingPong = true;
        socket.ping();
      },
      close: () => {
        if (socket.readyState !== WebSocket.OPEN) {
          socket.terminate();
          return;
        }
        socket.close(1000);
        setTimeout(() => socket.terminate(), 1000).unref();
      },
    };
    socket.on('pong', () => {
      awaitingPong = false;
    });
    socket.on('message', (data) => this.deliver(text(data), connection));
    socket.on('close', () => this.dropped(connection));
    return connection;
  }
}
