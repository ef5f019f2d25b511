import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Server } from 'node:net';
import { EmitterImpl, TransportState, type Emitter, type Transport } from 'sip.js';
import { lookupLiteral } from '@sip-endpoint/media';
import { peekSip, requestUriTarget, setTopViaSentBy, setTopViaTransport, type SipPeek } from './sip-peek';
import { TcpTransport } from './tcp-transport';
import { openFirstFreePort } from './port-search';
import { screenIncoming, serviceUnavailable } from './bad-request';
import { RETRY_AFTER_S, SourceRateLimiter, type RateLimitOptions } from './rate-limiter';
import { handleInTurn } from './input-queue';
import { formatHost, stripBrackets, timeoutResponse } from './timeout-response';
import { ConnectionFailedError, InvalidMessageError } from '../errors';

import { handOver, type ReceivedMessage, type TransportLogger } from './hand-over';

/** A datagram of white space only: a keep-alive. */
const BLANK = /^\s*$/;

/** Options of {@link UdpTransport}, passed by sip.js as `transportOptions`. @public */
export interface UdpTransportOptions {
  /** A socket already bound (see {@link bindSipUdp}); the transport closes it on dispose. */
  socket: Socket;
  /** The host in our Via and Contact: the UserAgent's `viaHost`. */
  viaHost: string;
  /**
   * Where requests go: the registrar / outbound proxy of the line, or a function giving it (read at
   * every request, so that failover can move it).
   */
  target: { address: string; port: number } | (() => { address: string; port: number }) | undefined;
  /** RFC 3261 T1. @defaultValue 500 */
  t1Ms?: number;
  /** RFC 3261 T2. @defaultValue 4000 */
  t2Ms?: number;
  /** `sip_transaction_timeout`: a client transaction without a final response by then ends with 408. @defaultValue 32000 */
  transactionTimeoutMs?: number;
  /** Called with every message sent and received (after Via handling), for logs and tests. */
  trace?: (direction: 'out' | 'in', message: string, remote: { address: string; port: number }) => void;
  /**
   * The TCP side (RFC 3261 18.1.1): requests larger than `maxDatagramRequestBytes` go over TCP to
   * the same target, and requests arriving on `server` (a TCP listener, best on the UDP port's
   * number) are answered on their connection. `false`: UDP only. @defaultValue `{}` (outgoing
   * connections from ephemeral ports, no listener)
   */
  tcp?: { server?: Server; localAddress?: string; localPortRange?: { min: number; max: number } } | false;
  /** Requests larger than this many bytes go over TCP (RFC 3261 18.1.1: 1300 when the path MTU is unknown). @defaultValue 1300 */
  maxDatagramRequestBytes?: number;
  /**
   * Seconds between keep-alives to the target (a double CRLF, the ping of RFC 5626 4.4.1, which
   * servers ignore): each one keeps a NAT's binding for the line open, so that requests from the
   * server still reach us between registrations. 0, or no target (stand-alone): none. @defaultValue 0
   */
  udpKeepAliveS?: number;
  /**
   * Whether a request (not a response) from this source address is taken
   * (`sip_accept_requests_from`); one refused is dropped unanswered. Absent: every one is taken.
   */
  acceptRequestFrom?: (address: string) => boolean;
  /** Told of each request `acceptRequestFrom` refused, with its source address. */
  onRequestRefused?: (address: string) => void;
  /** `sip_rate_limit` (see {@link RateLimitOptions}); also for the TCP side. Absent: no limit. */
  rateLimit?: RateLimitOptions;
}

const PING = Buffer.from('\r\n\r\n');

/**
 * Binds a UDP socket for SIP on the first free port of `min`..`max` (`sip_port_min`..`sip_port_max`),
 * on `address` (`0.0.0.0`, `::` or one interface's address).
 *
 * @public
 */
export async function bindSipUdp(address: string, min: number, max: number): Promise<Socket> {
  return openFirstFreePort(`SIP over UDP on ${address}`, min, max, (port) => {
    // An IP literal's datagram leaves within send(): a response goes before the work that follows it.
    const socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', lookup: lookupLiteral });
    return new Promise<Socket>((resolve, reject) => {
      socket.once('error', (error) => {
        socket.close();
        reject(error);
      });
      socket.bind(port, address, () => {
        socket.removeAllListeners('error');
        resolve(socket);
      });
    });
  });
}

interface ClientRetransmission {
  message: string;
  address: string;
  port: number;
  invite: boolean;
  interval: number;
  timer: NodeJS.Timeout | undefined;
  deadline: NodeJS.Timeout;
  peek: SipPeek;
}

interface ServerRecord {
  /** Last response sent for the request, to answer its retransmissions. */
  response: string | undefined;
  address: string;
  port: number;
  /** Timer G: retransmitting a non-2xx final response to INVITE until the ACK. */
  timer: NodeJS.Timeout | undefined;
  interval: number;
  expires: number;
}

const SERVER_MEMORY_MS = 32000;
const TCP_BRANCH_MEMORY_MS = 64000;

/** Whether `message` is above `limit` bytes in UTF-8, measured only when its length leaves a doubt. */
function exceeds(message: string, limit: number): boolean {
  if (message.length > limit) return true; // at least one byte per UTF-16 unit
  if (message.length * 3 <= limit) return false; // at most three bytes per UTF-16 unit
  return Buffer.byteLength(message, 'utf8') > limit;
}

/**
 * SIP over UDP for sip.js, with what sip.js leaves to the transport over an unreliable network:
 *
 * - **Addressing.** sip.js gives `send()` no destination: requests go to the line's target
 *   (registrar or outbound proxy); responses to the top Via's `received`/`rport` (RFC 3581), else
 *   its sent-by. Our Via carries our real port (sip.js writes none), and it is taken off again
 *   in responses so that sip.js recognises them as its own.
 * - **Retransmission (RFC 3261 17.1).** Requests are sent again after T1, 2T1, ... (INVITE: until
 *   any response, Timer A; others: capped at T2, and at T2 after a provisional, Timer E) and end
 *   with a 408 handed to sip.js at `sip_transaction_timeout` (Timers B and F). A non-2xx final
 *   response to INVITE is sent again until its ACK comes (Timer G).
 * - **Absorbing retransmitted requests.** A request seen again (same branch and method) within
 *   32 s is answered with the last response sent for it, and never reaches sip.js twice.
 * - **Bad input.** A request sip.js would drop is answered 400 Bad Request when it has the
 *   headers to build a response from (488 for an INVITE whose SDP offer does not parse); garbage,
 *   unusable responses and ACKs are dropped; nothing sip.js throws on a message escapes.
 * - **Large requests over TCP (RFC 3261 18.1.1).** A request above 1300 bytes goes over TCP to
 *   the same target, its Via transport changed to TCP, its response taken from that connection
 *   (no retransmissions: TCP is reliable); its ACK or CANCEL follows it there. When no TCP
 *   connection can be opened, it goes over UDP after all. Requests arriving on the TCP listener
 *   are answered on their connection.
 *
 * @public
 */
export class UdpTransport implements Transport {
  readonly protocol = 'UDP';
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: ReceivedMessage) => void) | undefined;
  readonly #socket: Socket;
  readonly #options: UdpTransportOptions;
  readonly #t1: number;
  readonly #t2: number;
  readonly #timeout: number;
  readonly #stateChange = new EmitterImpl<TransportState>();
  readonly #clients = new Map<string, ClientRetransmission>();
  readonly #servers = new Map<string, ServerRecord>();
  /** Branches of requests sent over TCP: their ACK and CANCEL go the same way. */
  readonly #tcpBranches = new Map<string, number>();
  readonly #tcp: TcpTransport | undefined;
  readonly #maxDatagram: number;
  #state: TransportState = TransportState.Disconnected;
  #sweeper: NodeJS.Timeout | undefined;
  #keepAlive: NodeJS.Timeout | undefined;

  readonly #logger: TransportLogger | undefined;
  readonly #limiter: SourceRateLimiter | undefined;

  constructor(logger: unknown, options: UdpTransportOptions) {
    this.#logger = logger as TransportLogger | undefined;
    this.#options = options;
    this.#limiter = options.rateLimit && options.rateLimit.perSecond > 0 ? new SourceRateLimiter(options.rateLimit.perSecond) : undefined;
    this.#socket = options.socket;
    this.#t1 = options.t1Ms ?? 500;
    this.#t2 = options.t2Ms ?? 4000;
    this.#timeout = Math.min(options.transactionTimeoutMs ?? 32000, 32000);
    // Each datagram in a turn of the event loop of its own: a burst does not hold the loop (see input-queue.ts).
    this.#socket.on('message', (data, remote) => handleInTurn(() => this.#receive(data, remote)));
    // The socket's own errors (a send without a callback, an ICMP error on some systems) go to the log, never up as an exception.
    this.#socket.on('error', (error) => this.#logger?.error(`SIP over UDP: ${error.message}`));
    this.#maxDatagram = options.maxDatagramRequestBytes ?? 1300;
    if (options.tcp !== false) {
      const tcp = options.tcp ?? {};
      this.#tcp = new TcpTransport(undefined, {
        viaHost: options.viaHost,
        target: undefined,
        keepAliveS: 0,
        ...(tcp.server ? { server: tcp.server } : {}),
        ...(tcp.localAddress ? { localAddress: tcp.localAddress } : {}),
        ...(tcp.localPortRange ? { localPortRange: tcp.localPortRange } : {}),
        ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
        ...(options.transactionTimeoutMs !== undefined ? { transactionTimeoutMs: options.transactionTimeoutMs } : {}),
        ...(options.trace ? { trace: options.trace } : {}),
        ...(logger ? { logger: logger as TransportLogger } : {}),
      });
      this.#tcp.onMessage = (message) => this.onMessage?.(message);
    }
  }

  get state(): TransportState {
    return this.#state;
  }

  get stateChange(): Emitter<TransportState> {
    return this.#stateChange;
  }

  /** The local port. */
  get port(): number {
    return this.#socket.address().port;
  }

  /** Points requests at another server (failover, or a new `server:N`). */
  setTarget(address: string, port: number): void {
    this.#options.target = { address, port };
  }

  /** The line's target; without one (stand-alone), the request's own Request-URI. */
  #target(request: string): { address: string; port: number } {
    const target = this.#options.target;
    const fixed = typeof target === 'function' ? target() : target;
    const found = fixed ?? requestUriTarget(request);
    if (!found) throw new InvalidMessageError('the request has no Request-URI to send it to');
    return found;
  }

  isConnected(): boolean {
    return this.#state === TransportState.Connected;
  }

  async connect(): Promise<void> {
    if (this.#state === TransportState.Connected) return;
    this.#transition(TransportState.Connected);
    this.#sweeper ??= setInterval(() => this.#sweep(), 5000);
    this.#sweeper.unref();
    const keepAlive = this.#options.udpKeepAliveS ?? 0;
    if (keepAlive > 0 && this.#keepAlive === undefined) {
      this.#keepAlive = setInterval(() => this.#ping(), keepAlive * 1000);
      this.#keepAlive.unref();
    }
    await this.#tcp?.connect();
    this.onConnect?.();
  }

  async disconnect(): Promise<void> {
    if (this.#state === TransportState.Disconnected) return;
    this.#stopTimers();
    await this.#tcp?.disconnect();
    this.#transition(TransportState.Disconnected);
    this.onDisconnect?.();
  }

  async dispose(): Promise<void> {
    await this.disconnect();
    if (this.#sweeper) clearInterval(this.#sweeper);
    await this.#tcp?.dispose();
    try {
      this.#socket.close();
    } catch {
      // Already closed.
    }
    this.#stateChange.removeAllListeners();
  }

  async send(message: string): Promise<void> {
    const peek = peekSip(message);
    if (!peek) throw new InvalidMessageError('sip.js gave the transport something that is not a SIP message');
    if (peek.kind === 'request') {
      const { address, port } = this.#target(message);
      if (this.#tcp && peek.via && (exceeds(message, this.#maxDatagram) || this.#tcpBranches.has(peek.via.branch))) {
        try {
          await this.#tcp.sendRequest(setTopViaTransport(message, peek, 'TCP'), { address, port });
          this.#tcpBranches.set(peek.via.branch, Date.now() + TCP_BRANCH_MEMORY_MS);
          return;
        } catch (error) {
          // No TCP there: the datagram it is (IP fragments it).
          if (!(error instanceof ConnectionFailedError)) throw error;
        }
      }
      const outgoing = setTopViaSentBy(message, peek, `${formatHost(this.#options.viaHost)}:${this.port}`);
      this.#write(outgoing, address, port);
      if (peek.method !== 'ACK' && peek.via) this.#startClient(peek, outgoing, address, port);
      return;
    }
    // A response: to received/rport of the request's top Via (RFC 3581), else its sent-by.
    const via = peek.via;
    if (!via) throw new InvalidMessageError('a response without a Via cannot be routed');
    if (via.transport === 'TCP' && this.#tcp) {
      // The request came on our TCP side: the response goes back on its connection.
      await this.#tcp.send(message);
      return;
    }
    const address = via.received ?? stripBrackets(via.host);
    const port = via.rport ?? via.port ?? 5060;
    this.#write(message, address, port);
    const key = `${via.branch}|${peek.method}`;
    const record = this.#servers.get(key) ?? { response: undefined, address, port, timer: undefined, interval: this.#t1, expires: 0 };
    record.response = message;
    record.address = address;
    record.port = port;
    record.expires = Date.now() + SERVER_MEMORY_MS;
    this.#servers.set(key, record);
    if (peek.method === 'INVITE' && peek.status >= 300) this.#startTimerG(record);
  }

  #write(message: string, address: string, port: number): void {
    this.#options.trace?.('out', message, { address, port });
    // With a callback, a failed send (a name that does not resolve, an unreachable network) comes
    // here instead of as the socket's 'error' event, which would end the process.
    this.#socket.send(message, port, address, (error) => {
      if (error) this.#sendFailed(error, message, address, port);
    });
  }

  /**
   * A datagram could not be sent: logged; a request's client transaction ends with a 503 handed to
   * sip.js, as RFC 3261 8.1.3.1 says of a transport error.
   */
  #sendFailed(error: Error, message: string, address: string, port: number): void {
    this.#logger?.error(`SIP over UDP: could not send to ${address}:${port}: ${error.message}`);
    for (const [key, record] of this.#clients) {
      if (record.message !== message) continue;
      this.#stopClient(key);
      handOver(this.onMessage, timeoutResponse(record.message, record.peek, this.#options.viaHost, '503 Service Unavailable'), this.#logger);
      return;
    }
  }

  #startClient(peek: SipPeek, message: string, address: string, port: number): void {
    const key = `${peek.via!.branch}|${peek.method}`;
    this.#stopClient(key);
    const invite = peek.method === 'INVITE';
    const record: ClientRetransmission = {
      message,
      address,
      port,
      invite,
      interval: this.#t1,
      timer: undefined,
      peek,
      deadline: setTimeout(() => this.#timeoutClient(key), this.#timeout),
    };
    this.#clients.set(key, record);
    this.#scheduleRetransmit(record);
  }

  /** Timer A (INVITE: doubling) or E (others: doubling up to T2) for one client request. */
  #scheduleRetransmit(record: ClientRetransmission): void {
    record.timer = setTimeout(() => {
      this.#write(record.message, record.address, record.port);
      record.interval = record.invite ? record.interval * 2 : Math.min(record.interval * 2, this.#t2);
      this.#scheduleRetransmit(record);
    }, record.interval);
  }

  #stopClient(key: string): void {
    const record = this.#clients.get(key);
    if (!record) return;
    if (record.timer) clearTimeout(record.timer);
    clearTimeout(record.deadline);
    this.#clients.delete(key);
  }

  /** Timer B or F fired: stop, and tell sip.js the request timed out. */
  #timeoutClient(key: string): void {
    const record = this.#clients.get(key);
    if (!record) return;
    this.#stopClient(key);
    const timeout = timeoutResponse(record.message, record.peek, this.#options.viaHost);
    handOver(this.onMessage, timeout, this.#logger);
  }

  #startTimerG(record: ServerRecord): void {
    if (record.timer) return;
    const retransmit = (): void => {
      if (!record.response || Date.now() > record.expires) {
        record.timer = undefined;
        return;
      }
      this.#write(record.response, record.address, record.port);
      record.interval = Math.min(record.interval * 2, this.#t2);
      record.timer = setTimeout(retransmit, record.interval);
    };
    record.timer = setTimeout(retransmit, record.interval);
  }

  #receive(data: Buffer, remote: RemoteInfo): void {
    if (this.#state !== TransportState.Connected) return;
    let message = data.toString('utf8');
    if (BLANK.test(message)) return; // keep-alive (CRLFs): tested without copying the message
    const peek = peekSip(message);
    if (!peek || !peek.via) return; // not SIP, or unroutable: nothing can be answered
    if (peek.kind === 'response') {
      const key = `${peek.via.branch}|${peek.method}`;
      const client = this.#clients.get(key);
      if (client) {
        if (client.invite || peek.status >= 200) this.#stopClient(key);
        else if (client.timer && client.interval < this.#t2) {
          // Timer E after a provisional response: keep retransmitting, at T2.
          clearTimeout(client.timer);
          client.interval = this.#t2;
          this.#scheduleRetransmit(client);
        }
      }
      // sip.js only takes responses whose Via is exactly its viaHost, without port.
      message = setTopViaSentBy(message, peek, formatHost(this.#options.viaHost));
      // A response sip.js cannot use is dropped here (sip.js throws on some): see bad-request.ts.
      const screened = screenIncoming(message, this.#options.viaHost);
      if (screened.action !== 'deliver') return;
      this.#options.trace?.('in', message, { address: remote.address, port: remote.port });
      // Parsed once, by our parser (which keeps every challenge of a 401: RFC 8760 2.4).
      handOver(this.onMessage, screened.parsed ?? message, this.#logger);
      return;
    }
    // A request, from a source the line takes requests from (a SIP scanner's gets no answer).
    const accept = this.#options.acceptRequestFrom;
    if (accept && !accept(remote.address)) {
      this.#options.onRequestRefused?.(remote.address);
      return;
    }
    if (peek.method === 'ACK') {
      const invite = this.#servers.get(`${peek.via.branch}|INVITE`);
      if (invite?.timer) {
        // The ACK of a non-2xx final response: stop Timer G; the ACK is hop-by-hop, not for sip.js.
        clearTimeout(invite.timer);
        invite.timer = undefined;
        invite.response = undefined;
        return;
      }
    } else {
      const key = `${peek.via.branch}|${peek.method}`;
      const seen = this.#servers.get(key);
      if (seen) {
        // A retransmission: answer with what we last said, if anything; never deliver twice.
        if (seen.response) this.#write(seen.response, seen.address, seen.port);
        return;
      }
      // A new request over the source's rate: 503, or nothing; and no transaction is kept for it.
      if (this.#limiter && !this.#options.rateLimit?.exempt?.(remote.address)) {
        const verdict = this.#limiter.check(remote.address);
        if (verdict !== 'take') {
          this.#options.rateLimit?.onLimited?.(remote.address, verdict);
          const refusal = verdict === 'refuse' ? serviceUnavailable(message, this.#options.viaHost, RETRY_AFTER_S) : undefined;
          if (refusal) this.#write(refusal, remote.address, remote.port);
          return;
        }
      }
      this.#servers.set(key, { response: undefined, address: remote.address, port: remote.port, timer: undefined, interval: this.#t1, expires: Date.now() + SERVER_MEMORY_MS });
    }
    // RFC 3581 / 18.2.1: record where the request really came from.
    message = addReceived(message, peek, remote);
    // A request sip.js would drop is answered 400 (488 for an SDP offer that does not parse) when it can be.
    const screening = screenIncoming(message, this.#options.viaHost);
    if (screening.action === 'drop') return;
    if (screening.action === 'reply') {
      this.#options.trace?.('in', message, { address: remote.address, port: remote.port });
      void this.send(screening.response).catch(() => undefined);
      // Its retransmissions get the same answer.
      const record = this.#servers.get(`${peek.via.branch}|${peek.method}`);
      if (record) record.response = screening.response;
      return;
    }
    this.#options.trace?.('in', message, { address: remote.address, port: remote.port });
    handOver(this.onMessage, screening.parsed ?? message, this.#logger);
  }

  #sweep(): void {
    const now = Date.now();
    for (const [branch, expires] of this.#tcpBranches) if (expires < now) this.#tcpBranches.delete(branch);
    for (const [key, record] of this.#servers) {
      if (record.expires < now) {
        if (record.timer) clearTimeout(record.timer);
        this.#servers.delete(key);
      }
    }
  }

  /** A keep-alive to the target, when the line has one. */
  #ping(): void {
    const target = this.#options.target;
    const fixed = typeof target === 'function' ? target() : target;
    if (!fixed || this.#state !== TransportState.Connected) return;
    this.#socket.send(PING, fixed.port, fixed.address);
  }

  #stopTimers(): void {
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    for (const key of [...this.#clients.keys()]) this.#stopClient(key);
    for (const record of this.#servers.values()) if (record.timer) clearTimeout(record.timer);
    this.#servers.clear();
    this.#tcpBranches.clear();
  }

  #transition(state: TransportState): void {
    this.#state = state;
    this.#stateChange.emit(state);
  }
}

/** Adds `received` (when the source address differs) and fills an empty `rport` in the top Via. */
function addReceived(message: string, peek: SipPeek, remote: RemoteInfo): string {
  const via = peek.via!;
  let line = via.line;
  // RFC 3261 18.2.1: received is the address the request came from. One the sender wrote itself
  // is replaced (else a forged received would send our responses to a third party).
  if (via.received !== undefined && via.received !== remote.address) line = line.replace(/;\s*received\s*=\s*[^;\s]*/i, '');
  if (stripBrackets(via.host) !== remote.address && (via.received === undefined || via.received !== remote.address)) line += `;received=${remote.address}`;
  if (/;\s*rport(?=\s*(;|$))/i.test(line)) line = line.replace(/;\s*rport(?=\s*(;|$))/i, `;rport=${remote.port}`);
  if (line === via.line) return message;
  const at = message.indexOf(via.line);
  return message.slice(0, at) + line + message.slice(at + via.line.length);
}
