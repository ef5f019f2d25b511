import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { ConnectionTransport, type ConnectionTransportOptions, type SipConnection, type SipTarget } from './connection-transport';
import { SipStreamFramer } from './sip-stream-framer';
import { openFirstFreePort } from './port-search';
import { ConnectionFailedError } from '../errors';
import type { TransportLogger } from './hand-over';

/** Options of {@link TcpTransport}, passed by sip.js as `transportOptions`. @public */
export interface TcpTransportOptions extends ConnectionTransportOptions {
  /** A listening server for connections the far end opens to us (see {@link listenSipTcp}; a TLS server for {@link TlsTransport}). */
  server?: Server;
  /** Local address of the connections we open. */
  localAddress?: string;
  /** `tcp_port_min`..`tcp_port_max` for the connections we open; absent: ephemeral ports. */
  localPortRange?: { min: number; max: number };
  /** A connection the far end opened to us that carries nothing either way for this long is closed. @defaultValue 600000 (10 minutes) */
  inboundIdleMs?: number;
  /** The most connections one address may hold open to us at once; more are closed at once. @defaultValue 32 */
  maxInboundPerAddress?: number;
}

/**
 * Listens for SIP over TCP on the first free port of `min`..`max`.
 *
 * @public
 */
export async function listenSipTcp(address: string, min: number, max: number): Promise<Server> {
  return listenFirstFree(`SIP over TCP on ${address}`, address, min, max, () => createServer());
}

/** Listens with `create()`'s server on the first free port of `min`..`max`. */
export async function listenFirstFree<T extends Server>(what: string, address: string, min: number, max: number, create: () => T): Promise<T> {
  return openFirstFreePort(what, min, max, (port) => {
    const server = create();
    return new Promise<T>((resolve, reject) => {
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
export class TcpTransport extends ConnectionTransport {
  readonly protocol: string = 'TCP';
  readonly #options: TcpTransportOptions;
  /** Connections each address holds open to us now. */
  readonly #inbound = new Map<string, number>();

  constructor(logger: unknown, options: TcpTransportOptions) {
    super({ ...options, ...(logger ? { logger: logger as TransportLogger } : {}) });
    this.#options = options;
    // A TLS server hands out its sockets once the handshake is over.
    options.server?.on(options.server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: Socket) => this.#accept(socket));
  }

  /**
   * A connection the far end opened: at most `maxInboundPerAddress` from one address at once, and
   * closed once idle for `inboundIdleMs` (it reconnects when it has something to send), so that
   * nobody can hold our descriptors by opening connections and leaving them.
   */
  #accept(socket: Socket): void {
    const address = socket.remoteAddress ?? '';
    const open = this.#inbound.get(address) ?? 0;
    if (open >= (this.#options.maxInboundPerAddress ?? 32)) {
      socket.destroy();
      return;
    }
    this.#inbound.set(address, open + 1);
    socket.once('close', () => {
      const left = (this.#inbound.get(address) ?? 1) - 1;
      if (left > 0) this.#inbound.set(address, left);
      else this.#inbound.delete(address);
    });
    socket.setTimeout(this.#options.inboundIdleMs ?? 600000, () => socket.destroy());
    this.adopt(this.#wrap(socket));
  }

  protected listeningPort(): number | undefined {
    const address = this.#options.server?.address();
    return typeof address === 'object' && address !== null ? address.port : undefined;
  }

  protected override closeListener(): Promise<void> {
    return new Promise<void>((resolve) => (this.#options.server?.listening ? this.#options.server.close(() => resolve()) : resolve()));
  }

  /**
   * Opens one socket to `target` from `localPort` (0: ephemeral) and resolves once it can carry
   * messages. {@link TlsTransport} opens a TLS socket instead.
   */
  protected openSocket(target: SipTarget, localAddress: string | undefined, localPort: number): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const socket = netConnect({ host: target.address, port: target.port, ...(localAddress ? { localAddress } : {}), ...(localPort ? { localPort } : {}) });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  protected async dial(target: SipTarget): Promise<SipConnection> {
    const range = this.#options.localPortRange;
    const ports = range ? Array.from({ length: range.max - range.min + 1 }, (_, i) => range.min + i) : [0];
    let last: unknown;
    for (const localPort of ports) {
      try {
        return this.#wrap(await this.openSocket(target, this.#options.localAddress, localPort));
      } catch (error) {
        last = error;
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
      }
    }
    throw new ConnectionFailedError(`cannot connect to ${target.address}:${target.port} over ${this.protocol}: ${(last as Error | undefined)?.message ?? 'no port'}`, { cause: last });
  }

  /** A socket as a {@link SipConnection}: framed by Content-Length, keep-alives answered. */
  #wrap(socket: Socket): SipConnection {
    socket.setNoDelay(true);
    const connection: SipConnection = {
      remote: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
      localPort: socket.localPort,
      get open() {
        return !socket.destroyed && socket.writable;
      },
      write: (message) => socket.write(message),
      keepAlive: () => socket.write('\r\n\r\n'),
      close: () => socket.destroy(),
    };
    const framer = new SipStreamFramer(
      (message) => this.deliver(message, connection),
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
    socket.on('close', () => this.dropped(connection));
    return connection;
  }
}
