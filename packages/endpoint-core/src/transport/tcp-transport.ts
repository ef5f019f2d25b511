import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { EmitterImpl, TransportState, type Emitter, type Transport } from 'sip.js';
import { SipEndpointError } from '@sip-endpoint/config';
import { peekSip, setTopViaSentBy, type SipPeek } from './sip-peek';
import { SipStreamFramer } from './sip-stream-framer';
import { openFirstFreePort } from './port-search';
import { formatHost, timeoutResponse } from './timeout-response';

/** Options of {@link TcpTransport}, passed by sip.js as `transportOptions`. @public */
export interface TcpTransportOptions {
  /** The host in our Via and Contact: the UserAgent's `viaHost`. */
  viaHost: string;
  /** A listening server for connections the far end opens to us (see {@link listenSipTcp}). */
  server?: Server;
  /** Where requests go, or a function giving it (read at every request). Required for TCP. */
  target: { address: string; port: number } | (() => { address: string; port: number }) | undefined;
  /** Local address of the connections we open. */
  localAddress?: string;
  /** `tcp_port_min`..`tcp_port_max` for the connections we open; absent: ephemeral ports. */
  localPortRange?: { min: number; max: number };
  /** `sip_transaction_timeout` (Timers B and F). @defaultValue 32000 */
  transactionTimeoutMs?: number;
  /** Seconds between CRLF keep-alives on our connection (RFC 5626); 0 for none. @defaultValue 60 */
  keepAliveS?: number;
  trace?: (direction: 'out' | 'in', message: string, remote: { address: string; port: number }) => void;
}

/**
 * Listens for SIP over TCP on the first free port of `min`..`max`.
 *
 * @public
 */
export async function listenSipTcp(address: string, min: number, max: number): Promise<Server> {
  return openFirstFreePort(`SIP over TCP on ${address}`, min, max, (port) => {
    const server = createServer();
    return new Promise<Server>((resolve, reject) => {
      server.once('error', (error) => {
        server.close();
        reject(error);
      });
      server.listen(port, address, () => {
        server.removeAllListeners('error');
        resolve(server);
      });
    });
  });
}

/**
 * SIP over TCP for sip.js (RFC 3261 18): messages framed by their Content-Length, requests on one
 * connection to the line's target (opened from `tcp_port_min`..`tcp_port_max` when set, reopened
 * when it drops), responses on the connection their request came on, connections from the far
 * end accepted on our listening port, CRLF keep-alives answered (and sent), and a 408 handed to
 * sip.js at `sip_transaction_timeout`. Our Via carries our listening port; it is taken off in
 * responses, which sip.js would drop otherwise. A stream that cannot be framed is closed.
 *
 * @public
 */
export class TcpTransport implements Transport {
  readonly protocol: string = 'TCP';
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;
  readonly #options: TcpTransportOptions;
  readonly #stateChange = new EmitterImpl<TransportState>();
  readonly #connections = new Set<Socket>();
  /** The connection each received request came on, by branch and method: its responses go back there. */
  readonly #routes = new Map<string, { socket: Socket; expires: number }>();
  readonly #deadlines = new Map<string, NodeJS.Timeout>();
  #client: Promise<Socket> | undefined;
  #state: TransportState = TransportState.Disconnected;
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(_logger: unknown, options: TcpTransportOptions) {
    this.#options = options;
    options.server?.on('connection', (socket) => this.#adopt(socket));
  }

  get state(): TransportState {
    return this.#state;
  }

  get stateChange(): Emitter<TransportState> {
    return this.#stateChange;
  }

  /** The port in our Via and Contact: the listening port, else the local port of our connection. */
  get port(): number | undefined {
    const address = this.#options.server?.address();
    return typeof address === 'object' && address !== null ? address.port : undefined;
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
        void this.#client?.then((socket) => socket.writable && socket.write('\r\n\r\n')).catch(() => undefined);
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
    for (const socket of this.#connections) socket.destroy();
    this.#connections.clear();
    this.#client = undefined;
    this.#state = TransportState.Disconnected;
    this.#stateChange.emit(this.#state);
    this.onDisconnect?.();
  }

  async dispose(): Promise<void> {
    await this.disconnect();
    await new Promise<void>((resolve) => (this.#options.server ? this.#options.server.close(() => resolve()) : resolve()));
    this.#stateChange.removeAllListeners();
  }

  async send(message: string): Promise<void> {
    const peek = peekSip(message);
    if (!peek) throw new SipEndpointError('ERR_SIP_INVALID_MESSAGE', 'sip.js gave the transport something that is not a SIP message');
    if (peek.kind === 'response') {
      const route = peek.via ? this.#routes.get(`${peek.via.branch}|${peek.method}`) : undefined;
      const socket = route && !route.socket.destroyed ? route.socket : await this.#clientSocket();
      this.#write(socket, message);
      return;
    }
    const socket = await this.#clientSocket();
    const port = this.port ?? socket.localPort ?? 0;
    const outgoing = setTopViaSentBy(message, peek, `${formatHost(this.#options.viaHost)}:${port}`);
    this.#write(socket, outgoing);
    if (peek.method !== 'ACK' && peek.via) this.#startDeadline(peek, outgoing);
  }

  #write(socket: Socket, message: string): void {
    this.#options.trace?.('out', message, { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 });
    socket.write(message);
  }

  #target(): { address: string; port: number } {
    const target = this.#options.target;
    const fixed = typeof target === 'function' ? target() : target;
    if (!fixed) throw new SipEndpointError('ERR_SIP_TRANSPORT_UNSUPPORTED', 'SIP over TCP needs a server: stand-alone lines use UDP');
    return fixed;
  }

  /** Our connection to the target, opened (again) when needed. */
  #clientSocket(): Promise<Socket> {
    const existing = this.#client;
    if (existing) return existing.then((socket) => (socket.destroyed ? this.#reconnect() : socket));
    return this.#reconnect();
  }

  #reconnect(): Promise<Socket> {
    const { address, port } = this.#target();
    const range = this.#options.localPortRange;
    const attempt = async (): Promise<Socket> => {
      const ports = range ? Array.from({ length: range.max - range.min + 1 }, (_, i) => range.min + i) : [0];
      let last: unknown;
      for (const localPort of ports) {
        try {
          return await new Promise<Socket>((resolve, reject) => {
            const socket = netConnect({ host: address, port, ...(this.#options.localAddress ? { localAddress: this.#options.localAddress } : {}), ...(localPort ? { localPort } : {}) });
            socket.once('connect', () => {
              socket.off('error', reject);
              resolve(socket);
            });
            socket.once('error', reject);
          });
        } catch (error) {
          last = error;
          if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
        }
      }
      throw new SipEndpointError('ERR_SIP_CONNECTION_FAILED', `cannot connect to ${address}:${port} over TCP: ${(last as Error | undefined)?.message ?? 'no port'}`, { cause: last });
    };
    this.#client = attempt().then((socket) => {
      this.#adopt(socket);
      return socket;
    });
    this.#client.catch(() => {
      this.#client = undefined;
    });
    return this.#client;
  }

  #adopt(socket: Socket): void {
    this.#connections.add(socket);
    socket.setNoDelay(true);
    const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const framer = new SipStreamFramer(
      (message) => this.#receive(message, socket, remote),
      () => socket.writable && socket.write('\r\n'),
    );
    socket.on('data', (chunk: Buffer) => {
      try {
        framer.push(chunk);
      } catch {
        socket.destroy(); // a stream that cannot be framed cannot be trusted any further
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.#connections.delete(socket));
  }

  #receive(message: string, socket: Socket, remote: { address: string; port: number }): void {
    if (this.#state !== TransportState.Connected) return;
    const peek = peekSip(message);
    if (!peek || !peek.via) return;
    if (peek.kind === 'response') {
      // Timer F runs until the final response; Timer B only until the first response of an INVITE.
      if (peek.status >= 200 || peek.method === 'INVITE') this.#clearDeadline(`${peek.via.branch}|${peek.method}`);
      const adjusted = setTopViaSentBy(message, peek, formatHost(this.#options.viaHost));
      this.#options.trace?.('in', adjusted, remote);
      this.onMessage?.(adjusted);
      return;
    }
    const now = Date.now();
    this.#routes.set(`${peek.via.branch}|${peek.method}`, { socket, expires: now + 64000 });
    if (this.#routes.size > 1000) for (const [key, route] of this.#routes) if (route.expires < now) this.#routes.delete(key);
    this.#options.trace?.('in', message, remote);
    this.onMessage?.(message);
  }

  #startDeadline(peek: SipPeek, request: string): void {
    const key = `${peek.via!.branch}|${peek.method}`;
    this.#clearDeadline(key);
    const timeout = Math.min(this.#options.transactionTimeoutMs ?? 32000, 32000);
    this.#deadlines.set(
      key,
      setTimeout(() => {
        this.#deadlines.delete(key);
        this.onMessage?.(timeoutResponse(request, peek, this.#options.viaHost));
      }, timeout),
    );
  }

  #clearDeadline(key: string): void {
    const timer = this.#deadlines.get(key);
    if (timer) clearTimeout(timer);
    this.#deadlines.delete(key);
  }
}
