import { createSocket, type Socket } from 'node:dgram';
import { SipEndpointError } from '@sip-endpoint/config';
import { ListenerError, SafeEmitter } from '@sip-endpoint/policy';
import { isRtcp, parseRtpHeader, createRtpHeader, type RtpHeader } from './rtp-packet';
import { parseRtcp, type RtcpReport } from './rtcp';
import { type PortAllocator } from './port-allocator';
import { lookupLiteral } from './lookup-literal';
import { type RtpSocketReserve } from './rtp-socket-reserve';
import { SRTP_DROP, type SrtpContext } from '../srtp/srtp-context';

/** Options of {@link RtpSession.open}. @public */
export interface RtpSessionOptions {
  /** Where the ports come from. */
  ports: PortAllocator;
  /** Local address to bind: a specific address (`rtp_port_binding` 1) or `0.0.0.0` / `::` (0). */
  bindAddress: string;
  /** Also listen for RTCP on the RTP port (rtcp-mux, RFC 5761). RTCP still has its own port open. @defaultValue true */
  rtcpMux?: boolean;
  /**
   * Sockets bound ahead of time: a pair ready for `bindAddress` is taken from it instead of
   * binding two sockets now. Its `ports` must be this `ports`.
   */
  reserve?: RtpSocketReserve;
}

/** Two bound sockets, RTP on an even port and RTCP on the next. @public */
export interface BoundRtpPair {
  rtp: Socket;
  rtcp: Socket;
  port: number;
}

/**
 * Binds an RTP and an RTCP socket on the first free pair of `ports` (a pair the system refuses,
 * in use by another program, is skipped). @internal
 */
export async function bindRtpPair(ports: PortAllocator, bindAddress: string): Promise<BoundRtpPair> {
  const type = bindAddress.includes(':') ? 'udp6' : 'udp4';
  const refused = new Set<number>();
  for (;;) {
    const port = ports.acquire(refused);
    const rtp = createSocket({ type, reuseAddr: false, lookup: lookupLiteral });
    const rtcp = createSocket({ type, reuseAddr: false, lookup: lookupLiteral });
    try {
      await bind(rtp, port, bindAddress);
      await bind(rtcp, port + 1, bindAddress);
      return { rtp, rtcp, port };
    } catch (error) {
      rtp.close();
      rtcp.close();
      ports.release(port);
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES') {
        throw new RtpSocketError(`cannot bind RTP on ${bindAddress}:${port}: ${(error as Error).message}`, error);
      }
      refused.add(port);
    }
  }
}

/**
 * Where an {@link RtpSession} hands each RTP packet: the reused header object, the datagram, and
 * the arrival time (`performance.now()`). See {@link RtpSession.setReceiver}.
 *
 * @public
 */
export type RtpReceiver = (header: RtpHeader, data: Buffer, arrival: number) => void;

/** Events of an {@link RtpSession}. @public */
export type RtpSessionEvents = {
  /**
   * An RTP packet, as given to the receiver: for observers (tests, diagnostics). Each emit
   * allocates its argument list, so the owner of the session takes packets through
   * {@link RtpSession.setReceiver} instead; without a listener nothing is emitted.
   */
  rtp: [RtpHeader, Buffer, number];
  /** An RTCP compound packet from the peer. */
  rtcp: [RtcpReport];
  /** A datagram that is neither valid RTP nor RTCP. */
  malformed: [Buffer];
  /**
   * SRTP dropped incoming packets: the reason of the latest and the receiving context's counters.
   * Emitted for the first drop, then at most once a second while drops go on (the counters
   * hold every one), so that a flood of forged packets does not flood the log.
   */
  srtpDropped: [SrtpDropReason, SrtpContext['counters']];
  error: [Error];
};

/** Why SRTP dropped a packet. @public */
export type SrtpDropReason = 'malformed' | 'authentication' | 'replayed' | 'tooOld';

/** The SRTP contexts of a session: ours to protect what we send, the peer's to check what we receive. @public */
export interface RtpSessionSrtp {
  send: SrtpContext;
  receive: SrtpContext;
  /**
   * RTCP's own contexts, when RTCP has keys of its own (DTLS-SRTP without rtcp-mux: a second
   * handshake on the RTCP port, RFC 5764 4.1); `'pending'` until they come, and RTCP waits.
   * Without it RTCP uses `send` and `receive`.
   */
  rtcp?: { send: SrtpContext; receive: SrtpContext } | 'pending';
}

/**
 * What else shares the RTP port (RFC 7983): STUN (first byte 0 to 3) for ICE, DTLS (20 to 63) for
 * DTLS-SRTP. A handler gets the datagram and where it came from. @public
 */
export type DatagramHandler = (data: Buffer, from: { address: string; port: number }) => void;

/**
 * A relay the session sends through instead of its socket (a TURN allocation, once ICE selected
 * a relayed pair): everything for `peer` goes to `send`, which must not keep `data` after it returns.
 *
 * @public
 */
export interface RtpRelay {
  peer: { address: string; port: number };
  send(data: Uint8Array, length: number): void;
}

/** Room for the largest datagram plus SRTCP's index and tag. */
const PROTECT_BUFFER_BYTES = 1500 + 4 + 16;
const SRTP_DROP_REPORT_MS = 1000;

/** An RTP or RTCP socket could not be opened. @public */
export class RtpSocketError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_SOCKET';

  constructor(message: string, cause?: unknown) {
    super('ERR_MEDIA_SOCKET', message, { cause });
  }
}

function bind(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.bind(port, address, () => {
      // Stryker disable next-line StringLiteral: the listener left would only reject a promise already resolved, and the session adds its own.
      socket.off('error', onError);
      resolve();
    });
  });
}

/**
 * The UDP transport of one RTP stream: an even RTP port and RTCP on the next, within the
 * configured range (the next pair is tried when the system refuses one), with RTCP also accepted
 * on the RTP port (rtcp-mux). Parses headers without allocating and hands packets to its owner's
 * {@link RtpReceiver}; the owner sends with {@link RtpSession.sendRtp} and
 * {@link RtpSession.sendRtcp}.
 *
 * @remarks
 * The events are those of a `SafeEmitter` (`@sip-endpoint/policy`): a listener that throws is
 * reported as `listenerError`. So is a receiver that throws, as a listener of `rtp` would be; the
 * socket goes on receiving.
 *
 * @public
 */
export class RtpSession extends SafeEmitter<RtpSessionEvents> {
  readonly localAddress: string;
  readonly localPort: number;
  readonly family: 'IPv4' | 'IPv6';
  readonly #rtp: Socket;
  readonly #rtcp: Socket;
  readonly #ports: PortAllocator;
  readonly #header = createRtpHeader();
  #remote: { address: string; rtpPort: number; rtcpPort: number } | undefined;
  #receiver: RtpReceiver | undefined;
  #srtp: RtpSessionSrtp | undefined;
  /** Keys are coming (a DTLS-SRTP handshake): RTP and RTCP neither sent nor taken until then. */
  #srtpPending = false;
  /** Where packets are protected before they leave: the caller's buffer stays clear. */
  // Made with the first protected packet: a plain session (most) never needs them.
  #protectRtp: Uint8Array | undefined;
  #protectRtcp: Uint8Array | undefined;
  #lastDropReport = Number.NEGATIVE_INFINITY;
  #stun: DatagramHandler | undefined;
  #dtls: DatagramHandler | undefined;
  #turn: DatagramHandler | undefined;
  /** DTLS on the RTCP port (a second association, without rtcp-mux). */
  #rtcpDtls: DatagramHandler | undefined;
  #relay: RtpRelay | undefined;
  // Stryker disable next-line BooleanLiteral: read only where a remote is set, and setRemote sets it too.
  #rtcpMux = false;
  #closed = false;
  readonly #acceptMux: boolean;

  private constructor(rtp: Socket, rtcp: Socket, port: number, options: RtpSessionOptions) {
    super();
    this.#rtp = rtp;
    this.#rtcp = rtcp;
    this.#ports = options.ports;
    this.localPort = port;
    this.localAddress = options.bindAddress;
    this.family = options.bindAddress.includes(':') ? 'IPv6' : 'IPv4';
    const acceptMux = options.rtcpMux ?? true;
    this.#acceptMux = acceptMux;
    rtp.on('message', (data, from) => this.#onRtpPort(data, data.length, from));
    rtcp.on('message', (data, from) => this.#onRtcpPort(data, from));
    const onError = (error: Error): void => {
      this.emit('error', error);
    };
    rtp.on('error', onError);
    rtcp.on('error', onError);
  }

  /**
   * Opens the two sockets on the first free pair of the range, or takes a pair `reserve` bound
   * ahead of time.
   */
  static async open(options: RtpSessionOptions): Promise<RtpSession> {
    const ready = options.reserve?.ports === options.ports ? options.reserve.take(options.bindAddress) : undefined;
    const { rtp, rtcp, port } = ready ?? (await bindRtpPair(options.ports, options.bindAddress));
    return new RtpSession(rtp, rtcp, port, options);
  }

  /**
   * Sets the one function that receives every RTP packet (an `AudioStream` sets its own), or
   * removes it with `undefined`. Unlike the `rtp` event, this hands packets over without
   * allocating: the header object is reused, so read it before returning.
   */
  setReceiver(receiver: RtpReceiver | undefined): void {
    this.#receiver = receiver;
  }

  /**
   * Turns SRTP on with these contexts (a new offer/answer's keys replace the previous ones), or
   * off with `undefined`. From then on what is sent is protected and what is received is checked
   * and decrypted; a packet that fails is dropped, counted, and reported by `srtpDropped`.
   */
  setSrtp(srtp: RtpSessionSrtp | undefined): void {
    this.#srtp = srtp;
    this.#srtpPending = false;
  }

  /**
   * Holds RTP and RTCP until {@link RtpSession.setSrtp} is called: nothing is sent (never in
   * clear while keys are being agreed, as in a DTLS-SRTP handshake) and what arrives is dropped.
   * STUN and DTLS datagrams still pass.
   */
  awaitSrtp(): void {
    this.#srtpPending = true;
  }

  /** Whether RTP and RTCP wait for keys ({@link RtpSession.awaitSrtp}). */
  get srtpPending(): boolean {
    return this.#srtpPending;
  }

  /**
   * Where STUN (`stun`) or DTLS (`dtls`) datagrams arriving on the RTP port go (RFC 7983's
   * demultiplexing by first byte), or `undefined` to count them `malformed` again, as any datagram
   * that is neither RTP nor RTCP.
   */
  setDatagramHandler(kind: 'stun' | 'dtls' | 'turn' | 'rtcp-dtls', handler: DatagramHandler | undefined): void {
    if (kind === 'rtcp-dtls') this.#rtcpDtls = handler;
    else if (kind === 'stun') this.#stun = handler;
    else if (kind === 'dtls') this.#dtls = handler;
    else this.#turn = handler;
  }

  /**
   * Sends through `relay` (a TURN allocation) instead of the socket, or directly again with
   * `undefined`: RTP, RTCP and datagrams for the relay's peer.
   */
  setRelay(relay: RtpRelay | undefined): void {
    this.#relay = relay;
  }

  /** The relay in use, if any. */
  get relay(): RtpRelay | undefined {
    return this.#relay;
  }

  /**
   * Takes `length` bytes a relay delivered from `from` as if they had come to the RTP port (RTP,
   * RTCP, STUN or DTLS, sorted as such). `data` is read before this returns.
   */
  receiveRelayed(data: Buffer, length: number, from: { address: string; port: number }): void {
    if (this.#closed) return;
    this.#onRtpPort(data, length, from);
  }

  /**
   * Sends a datagram other than RTP (a STUN or DTLS message) from the RTP port to `to`, or to the
   * remote RTP address; never protected by SRTP. Does nothing after close. Datagrams for the
   * relay's peer go through the relay, unless `direct` (ICE's own STUN from the host candidate,
   * which must leave from the port itself).
   */
  sendDatagram(data: Uint8Array, to?: { address: string; port: number }, direct = false): void {
    const target = to ?? (this.#remote ? { address: this.#remote.address, port: this.#remote.rtpPort } : undefined);
    if (!target || this.#closed || target.port === 0) return;
    const relay = this.#relay;
    if (relay && !direct && relay.peer.port === target.port && relay.peer.address === target.address) {
      relay.send(data, data.length);
      return;
    }
    this.#rtp.send(data, 0, data.length, target.port, target.address);
  }

  /**
   * Sends a datagram other than RTCP (DTLS) from the RTCP port to `to`, or to the remote RTCP
   * address. Does nothing after close.
   */
  sendRtcpDatagram(data: Uint8Array, to?: { address: string; port: number }): void {
    const target = to ?? (this.#remote ? { address: this.#remote.address, port: this.#remote.rtcpPort } : undefined);
    if (!target || this.#closed || target.port === 0) return;
    this.#rtcp.send(data, 0, data.length, target.port, target.address);
  }

  /** The SRTP contexts in force, if any. */
  get srtp(): RtpSessionSrtp | undefined {
    return this.#srtp;
  }

  /** The local RTCP port (RTP port + 1). */
  get localRtcpPort(): number {
    return this.localPort + 1;
  }

  /** Where RTP and RTCP are sent; RTCP goes to the RTP port when `rtcpMux`. */
  setRemote(address: string, rtpPort: number, rtcpPort: number = rtpPort + 1, rtcpMux = false): void {
    this.#remote = { address, rtpPort, rtcpPort };
    this.#rtcpMux = rtcpMux;
  }

  get remote(): { address: string; rtpPort: number; rtcpPort: number } | undefined {
    return this.#remote;
  }

  /**
   * Sends one RTP packet (`length` bytes of `data`). Does nothing without a remote or after close.
   * With an IP-literal remote (what SDP gives), the bytes are handed to the kernel before this
   * returns, so the caller may rewrite `data` for the next packet at once.
   */
  sendRtp(data: Uint8Array, length: number): void {
    const remote = this.#remote;
    if (!remote || this.#closed || remote.rtpPort === 0 || this.#srtpPending) return;
    const srtp = this.#srtp;
    const relay = this.#relay;
    if (srtp === undefined) {
      if (relay) relay.send(data, length);
      else this.#rtp.send(data, 0, length, remote.rtpPort, remote.address);
      return;
    }
    if (length > 1500) return; // larger than any datagram we make: not protected, not sent
    const buffer = (this.#protectRtp ??= new Uint8Array(PROTECT_BUFFER_BYTES));
    // Copied byte by byte: a subarray of the caller's buffer would be an allocation per packet.
    for (let i = 0; i < length; i++) buffer[i] = data[i]!;
    const protectedLength = srtp.send.protectRtp(buffer, length);
    if (protectedLength <= 0) return;
    if (relay) relay.send(buffer, protectedLength);
    else this.#rtp.send(buffer, 0, protectedLength, remote.rtpPort, remote.address);
  }

  /** Sends an RTCP compound packet. */
  sendRtcp(data: Uint8Array): void {
    this.#sendRtcp(data);
  }

  /**
   * Closes both sockets and gives the ports back. A last RTCP packet (the BYE) may be given: it is
   * sent before the sockets close. Calling it twice is harmless.
   */
  close(lastRtcp?: Uint8Array): void {
    if (this.#closed) return;
    const finish = (): void => {
      this.#rtp.close();
      this.#rtcp.close();
    };
    if (lastRtcp === undefined || !this.#sendRtcp(lastRtcp, finish)) finish();
    this.#closed = true;
    this.#ports.release(this.localPort);
    this.#receiver = undefined;
    this.removeAllListeners();
  }

  /** Sends RTCP; returns false when there is nowhere to send (then `done` is not called). */
  #sendRtcp(data: Uint8Array, done?: () => void): boolean {
    const remote = this.#remote;
    if (!remote || this.#closed || remote.rtpPort === 0 || this.#srtpPending) return false;
    const callback = done ? (): void => done() : undefined;
    let bytes = data;
    let length = data.length;
    const srtp = this.#srtp;
    if (srtp !== undefined) {
      // Never in clear once SRTP is on: a compound too large to protect is not sent, nor one whose keys are still coming.
      const rtcp = srtp.rtcp;
      if (length > 1500 || rtcp === 'pending') return false;
      bytes = this.#protectRtcp ??= new Uint8Array(PROTECT_BUFFER_BYTES);
      bytes.set(data);
      length = (rtcp ?? srtp).send.protectRtcp(bytes, length);
      if (length < 0) return false;
    }
    const relay = this.#relay;
    if (relay) {
      // Through the relay RTCP shares the RTP path (ICE with rtcp-mux).
      relay.send(bytes, length);
      callback?.();
    } else if (this.#rtcpMux) this.#rtp.send(bytes, 0, length, remote.rtpPort, remote.address, callback);
    else this.#rtcp.send(bytes, 0, length, remote.rtcpPort, remote.address, callback);
    return true;
  }

  #onRtpPort(data: Buffer, received: number, from: { address: string; port: number }): void {
    const first = received > 0 ? data[0]! : 255;
    // RFC 7983: 0-3 STUN, 20-63 DTLS, 64-79 TURN channels, 128-191 RTP and RTCP.
    if (first < 128) {
      const handler = first <= 3 ? this.#stun : first >= 20 && first <= 63 ? this.#dtls : first >= 64 && first <= 79 ? this.#turn : undefined;
      const whole = received === data.length ? data : data.subarray(0, received);
      if (handler) this.#handOver(handler, whole, from);
      else this.emit('malformed', whole);
      return;
    }
    if (this.#srtpPending) return;
    if (isRtcp(data, received)) {
      if (this.#acceptMux) this.#onRtcp(data, received);
      return;
    }
    let length = received;
    const srtp = this.#srtp;
    if (srtp !== undefined) {
      length = srtp.receive.unprotectRtp(data, length);
      if (length < 0) {
        this.#srtpDropped(length, srtp.receive);
        return;
      }
    }
    if (!parseRtpHeader(data, length, this.#header)) {
      this.emit('malformed', data);
      return;
    }
    const arrival = performance.now();
    const receiver = this.#receiver;
    if (receiver) {
      try {
        receiver(this.#header, data, arrival);
      } catch (error) {
        this.#receiverThrew(error);
      }
    }
    // Only an observer makes this emit (and its argument list) happen.
    // Stryker disable next-line ConditionalExpression,EqualityOperator: an emit without listeners calls nothing; only the allocation of its argument list tells.
    if (this.listenerCount('rtp') > 0) this.emit('rtp', this.#header, data, arrival);
  }

  /** A handler that throws is reported as a listener would be; the socket goes on. */
  #handOver(handler: DatagramHandler, data: Buffer, from: { address: string; port: number }): void {
    try {
      handler(data, from);
    } catch (error) {
      this.#receiverThrew(error, handler === this.#stun ? 'stun' : handler === this.#dtls ? 'dtls' : handler === this.#rtcpDtls ? 'rtcp-dtls' : 'turn');
    }
  }

  #srtpDropped(code: number, context: SrtpContext): void {
    const now = performance.now();
    if (now - this.#lastDropReport < SRTP_DROP_REPORT_MS) return;
    this.#lastDropReport = now;
    const reason: SrtpDropReason = code === SRTP_DROP.authentication ? 'authentication' : code === SRTP_DROP.replayed ? 'replayed' : code === SRTP_DROP.tooOld ? 'tooOld' : 'malformed';
    this.emit('srtpDropped', reason, context.counters);
  }

  /** A receiver that throws is reported as a listener of `rtp` would be. */
  #receiverThrew(error: unknown, event = 'rtp'): void {
    const reported = new ListenerError(this.emitterName, event, error);
    if (this.listenerCount('listenerError') > 0) this.emit('listenerError', reported);
    else SafeEmitter.unhandled(reported);
  }

  /** The RTCP port: RTCP, or DTLS of the RTCP component's own association (RFC 7983). */
  #onRtcpPort(data: Buffer, from: { address: string; port: number }): void {
    const first = data.length > 0 ? data[0]! : 255;
    if (first >= 20 && first <= 63) {
      const handler = this.#rtcpDtls;
      if (handler) this.#handOver(handler, data, from);
      else this.emit('malformed', data);
      return;
    }
    this.#onRtcp(data, data.length);
  }

  #onRtcp(data: Buffer, received: number): void {
    if (this.#srtpPending) return;
    let length = received;
    const srtp = this.#srtp;
    if (srtp !== undefined) {
      const rtcp = srtp.rtcp;
      if (rtcp === 'pending') return;
      const context = (rtcp ?? srtp).receive;
      length = context.unprotectRtcp(data, length);
      if (length < 0) {
        this.#srtpDropped(length, context);
        return;
      }
    }
    const report = parseRtcp(data, length);
    if (report) this.emit('rtcp', report);
    else this.emit('malformed', data);
  }
}
