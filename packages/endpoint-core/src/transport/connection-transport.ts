import { EmitterImpl, TransportState, type Emitter, type Transport } from 'sip.js';
import { peekSip, setTopViaSentBy, type SipPeek } from './sip-peek';
import { formatHost, timeoutResponse } from './timeout-response';
import { screenIncoming, serviceUnavailable } from './bad-request';
import { RETRY_AFTER_S, SourceRateLimiter, type RateLimitOptions } from './rate-limiter';
import { InvalidMessageError, NotConnectedError, TransportUnsupportedError } from '../errors';
import { handOver, type ReceivedMessage, type TransportLogger } from './hand-over';

/** An address and port to send to. @public */
export interface SipTarget {
  address: string;
  port: number;
}

/** Options every connection-oriented transport (TCP, TLS, WS, WSS) takes, passed by sip.js as `transportOptions`. @public */
export interface ConnectionTransportOptions {
  /** Where failures of sip.js on a received message are logged (the logger sip.js gives the transport). */
  logger?: TransportLogger;
  /** The host in our Via and Contact: the UserAgent's `viaHost`. */
  viaHost: string;
  /** Where requests go, or a function giving it (read at every request, so that failover can move it). */
  target: SipTarget | (() => SipTarget) | undefined;
  /** `sip_transaction_timeout` (Timers B and F). @defaultValue 32000 */
  transactionTimeoutMs?: number;
  /** Seconds between keep-alives on our connections (CRLF on streams, RFC 5626; ping frames on WebSockets); 0 for none. @defaultValue 60 */
  keepAliveS?: number;
  /**
   * Reopen the connection to the target as soon as it drops (after 0.5 s, then doubling up to
   * 30 s), instead of at the next request: the far end can only reach us over it when we have no
   * listening port. {@link ConnectionTransportOptions.onReconnect} tells when it is back.
   * @defaultValue false
   */
  reconnect?: boolean;
  /** Called when a connection to the target was reopened after a drop (register again: the binding was on the old one). */
  onReconnect?: () => void;
  /** Called when our connection to the target dropped (closed by the far end, or dead), before any reconnection. */
  onDropped?: () => void;
  trace?: (direction: 'out' | 'in', message: string, remote: { address: string; port: number }) => void;
  /** `sip_rate_limit` for the requests that come over the connections (see {@link RateLimitOptions}). Absent: no limit. */
  rateLimit?: RateLimitOptions;
}

/** One open connection of a {@link ConnectionTransport}, whatever carries it (a TCP or TLS socket, a WebSocket). @public */
export interface SipConnection {
  readonly remote: SipTarget;
  /** Our end's port, when known. */
  readonly localPort: number | undefined;
  /** Whether messages can still be written. */
  readonly open: boolean;
  /** Writes one SIP message. */
  write(message: string): void;
  /** Sends a keep-alive (and may close a connection that stopped answering them). */
  keepAlive(): void;
  /** Closes the connection at once. */
  close(): void;
}

interface ClientEntry {
  promise: Promise<SipConnection>;
  connection: SipConnection | undefined;
}

const FIRST_RECONNECT_MS = 500;
const MAX_RECONNECT_MS = 30000;

/**
 * What SIP over a connection (RFC 3261 18; TCP, TLS, WebSocket) needs whatever the connection:
 * requests on one connection per target, opened when first needed and reopened when it drops;
 * responses on the connection their request came on; a 408 handed to sip.js at
 * `sip_transaction_timeout` (Timer F, and Timer B until the first response to an INVITE);
 * keep-alives; our Via sent-by with our port on requests, taken off in responses (sip.js drops
 * responses whose Via has a port). Subclasses open the connections ({@link ConnectionTransport.dial})
 * and feed what they receive to {@link ConnectionTransport.deliver}.
 *
 * @public
 */
export abstract class ConnectionTransport implements Transport {
  /** The transport token of the Via header: `TCP`, `TLS`, `WS`, `WSS`. */
  abstract readonly protocol: string;
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: ReceivedMessage) => void) | undefined;
  readonly #options: ConnectionTransportOptions;
  readonly #limiter: SourceRateLimiter | undefined;
  readonly #stateChange = new EmitterImpl<TransportState>();
  readonly #connections = new Set<SipConnection>();
  /** The connection each received request came on, by branch and method: its responses go back there. */
  readonly #routes = new Map<string, { connection: SipConnection; expires: number }>();
  readonly #deadlines = new Map<string, NodeJS.Timeout>();
  /** Our connections to targets, by `address|port`. */
  readonly #clients = new Map<string, ClientEntry>();
  #state: TransportState = TransportState.Disconnected;
  #keepAlive: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #reconnectDelay = FIRST_RECONNECT_MS;
  #lastLocalPort: number | undefined;

  constructor(options: ConnectionTransportOptions) {
    this.#options = options;
    this.#limiter = options.rateLimit && options.rateLimit.perSecond > 0 ? new SourceRateLimiter(options.rateLimit.perSecond) : undefined;
  }

  /**
   * Opens one connection to `target` and returns it once it can carry messages; rejects with a
   * {@link ConnectionFailedError} saying why it could not.
   */
  protected abstract dial(target: SipTarget): Promise<SipConnection>;

  /** Our listening port, when we have one. */
  protected abstract listeningPort(): number | undefined;

  get state(): TransportState {
    return this.#state;
  }

  get stateChange(): Emitter<TransportState> {
    return this.#stateChange;
  }

  /** The port in our Via and Contact: the listening port, else the local port of our last connection. */
  get port(): number | undefined {
    return this.listeningPort() ?? this.#lastLocalPort;
  }

  isConnected(): boolean {
    return this.#state === TransportState.Connected;
  }

  async connect(): Promise<void> {
    if (this.#state === TransportState.Connected) return;
    this.#state = TransportState.Connected;
    this.#stateChange.emit(this.#state);
    const keepAlive = (this.#options.keepAliveS ?? 60) * 1000;
    if (keepAlive > 0) {
      this.#keepAlive = setInterval(() => {
        for (const entry of this.#clients.values()) if (entry.connection?.open) entry.connection.keepAlive();
      }, keepAlive);
      this.#keepAlive.unref();
    }
    this.onConnect?.();
  }

  async disconnect(): Promise<void> {
    if (this.#state === TransportState.Disconnected) return;
    for (const timer of this.#deadlines.values()) clearTimeout(timer);
    this.#deadlines.clear();
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#state = TransportState.Disconnected;
    for (const connection of this.#connections) connection.close();
    this.#connections.clear();
    this.#clients.clear();
    this.#routes.clear();
    this.#stateChange.emit(this.#state);
    this.onDisconnect?.();
  }

  async dispose(): Promise<void> {
    await this.disconnect();
    await this.closeListener();
    this.#stateChange.removeAllListeners();
  }

  /** Closes the listening server, if any (on dispose). */
  protected closeListener(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Opens the connection to the target now (or reuses it) and returns its local port. A line
   * calls it before registering, so that the Contact can carry the port the far end will reach
   * us on, and a failure can be reported as what it is.
   */
  async openConnection(): Promise<{ localPort: number | undefined }> {
    const connection = await this.#clientFor(this.#target());
    return { localPort: connection.localPort };
  }

  async send(message: string): Promise<void> {
    const peek = peekSip(message);
    if (!peek) throw new InvalidMessageError('sip.js gave the transport something that is not a SIP message');
    if (peek.kind === 'response') {
      const route = peek.via ? this.#routes.get(`${peek.via.branch}|${peek.method}`) : undefined;
      const connection = route?.connection.open ? route.connection : await this.#clientFor(this.#target());
      this.#write(connection, message);
      return;
    }
    await this.#sendRequest(message, peek, this.#target());
  }

  /**
   * Sends a request to an explicit destination rather than the configured target (UDP's path for
   * requests too large for a datagram). The request's Via transport must already be this one's.
   */
  async sendRequest(message: string, target: SipTarget): Promise<void> {
    const peek = peekSip(message);
    if (!peek || peek.kind !== 'request') throw new InvalidMessageError('sendRequest() takes a SIP request');
    await this.#sendRequest(message, peek, target);
  }

  async #sendRequest(message: string, peek: SipPeek, target: SipTarget): Promise<void> {
    const connection = await this.#clientFor(target);
    const port = this.listeningPort() ?? connection.localPort ?? 0;
    const outgoing = setTopViaSentBy(message, peek, `${formatHost(this.#options.viaHost)}:${port}`);
    this.#write(connection, outgoing);
    if (peek.method !== 'ACK' && peek.via) this.#startDeadline(peek, outgoing);
  }

  /** Registers a connection (ours or the far end's) so that it is closed with the transport. */
  protected adopt(connection: SipConnection): void {
    this.#connections.add(connection);
  }

  /** A connection closed: forget it, and reopen it when it was ours to the target and `reconnect` is on. */
  protected dropped(connection: SipConnection): void {
    this.#connections.delete(connection);
    for (const [key, entry] of this.#clients) {
      if (entry.connection !== connection) continue;
      this.#clients.delete(key);
      if (this.#state !== TransportState.Connected) continue;
      this.#options.onDropped?.();
      if (this.#options.reconnect) this.#scheduleReconnect();
    }
  }

  /** A message received on `connection`. */
  protected deliver(message: string, connection: SipConnection): void {
    if (this.#state !== TransportState.Connected) return;
    const peek = peekSip(message);
    if (!peek || !peek.via) return;
    if (peek.kind === 'response') {
      // Timer F runs until the final response; Timer B only until the first response of an INVITE.
      if (peek.status >= 200 || peek.method === 'INVITE') this.#clearDeadline(`${peek.via.branch}|${peek.method}`);
      const adjusted = setTopViaSentBy(message, peek, formatHost(this.#options.viaHost));
      // A response sip.js cannot use is dropped here (sip.js throws on some): see bad-request.ts.
      const screened = screenIncoming(adjusted, this.#options.viaHost);
      if (screened.action !== 'deliver') return;
      this.#options.trace?.('in', adjusted, connection.remote);
      // Parsed once, by our parser (which keeps every challenge of a 401: RFC 8760 2.4).
      handOver(this.onMessage, screened.parsed ?? adjusted, this.#options.logger);
      return;
    }
    // A new request over the source's rate: 503 on its connection, or nothing.
    if (this.#limiter && peek.method !== 'ACK' && !this.#options.rateLimit?.exempt?.(connection.remote.address)) {
      const verdict = this.#limiter.check(connection.remote.address);
      if (verdict !== 'take') {
        this.#options.rateLimit?.onLimited?.(connection.remote.address, verdict);
        const refusal = verdict === 'refuse' ? serviceUnavailable(message, this.#options.viaHost, RETRY_AFTER_S) : undefined;
        if (refusal) this.#write(connection, refusal);
        return;
      }
    }
    const now = Date.now();
    this.#routes.set(`${peek.via.branch}|${peek.method}`, { connection, expires: now + 64000 });
    if (this.#routes.size > 1000) for (const [key, route] of this.#routes) if (route.expires < now) this.#routes.delete(key);
    this.#options.trace?.('in', message, connection.remote);
    // A request sip.js would drop is answered 400 (488 for an SDP offer that does not parse) when it can be.
    const screening = screenIncoming(message, this.#options.viaHost);
    if (screening.action === 'drop') return;
    if (screening.action === 'reply') {
      this.#write(connection, screening.response);
      return;
    }
    handOver(this.onMessage, screening.parsed ?? message, this.#options.logger);
  }

  #write(connection: SipConnection, message: string): void {
    this.#options.trace?.('out', message, connection.remote);
    connection.write(message);
  }

  #target(): SipTarget {
    const target = this.#options.target;
    const fixed = typeof target === 'function' ? target() : target;
    if (!fixed) throw new TransportUnsupportedError(`SIP over ${this.protocol} needs a server: stand-alone lines use UDP`);
    return fixed;
  }

  /** Our connection to `target`, opened (again) when needed. */
  #clientFor(target: SipTarget): Promise<SipConnection> {
    const key = `${target.address}|${target.port}`;
    const existing = this.#clients.get(key);
    if (existing && (!existing.connection || existing.connection.open)) return existing.promise;
    if (this.#state !== TransportState.Connected) return Promise.reject(new NotConnectedError(`the ${this.protocol} transport is not connected`));
    const entry: ClientEntry = { promise: this.dial(target), connection: undefined };
    this.#clients.set(key, entry);
    entry.promise.then(
      (connection) => {
        if (this.#clients.get(key) !== entry || this.#state !== TransportState.Connected) {
          // Disconnected (or replaced) meanwhile.
          if (this.#clients.get(key) === entry) this.#clients.delete(key);
          connection.close();
          return;
        }
        entry.connection = connection;
        this.#lastLocalPort = connection.localPort;
        this.adopt(connection);
        if (!connection.open) this.dropped(connection);
      },
      () => {
        if (this.#clients.get(key) === entry) this.#clients.delete(key);
      },
    );
    return entry.promise.then((connection) => {
      if (this.#state !== TransportState.Connected) throw new NotConnectedError(`the ${this.protocol} transport was disconnected`);
      return connection;
    });
  }

  #scheduleReconnect(): void {
    if (this.#reconnectTimer) return;
    const delay = this.#reconnectDelay;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#state !== TransportState.Connected) return;
      let target: SipTarget;
      try {
        target = this.#target();
      } catch {
        return;
      }
      this.#clientFor(target).then(
        () => {
          this.#reconnectDelay = FIRST_RECONNECT_MS;
          this.#options.onReconnect?.();
        },
        () => {
          this.#reconnectDelay = Math.min(this.#reconnectDelay * 2, MAX_RECONNECT_MS);
          this.#scheduleReconnect();
        },
      );
    }, delay);
    this.#reconnectTimer.unref();
  }

  #startDeadline(peek: SipPeek, request: string): void {
    const key = `${peek.via!.branch}|${peek.method}`;
    this.#clearDeadline(key);
    const timeout = Math.min(this.#options.transactionTimeoutMs ?? 32000, 32000);
    this.#deadlines.set(
      key,
      setTimeout(() => {
        this.#deadlines.delete(key);
        handOver(this.onMessage, timeoutResponse(request, peek, this.#options.viaHost), this.#options.logger);
      }, timeout),
    );
  }

  #clearDeadline(key: string): void {
    const timer = this.#deadlines.get(key);
    if (timer) clearTimeout(timer);
    this.#deadlines.delete(key);
  }
}
