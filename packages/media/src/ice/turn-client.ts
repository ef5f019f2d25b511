import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { IceError } from './ice-error';
import {
  decodeErrorCode,
  decodeXorAddress,
  encodeXorAddress,
  isStun,
  longTermKey,
  parseStun,
  readUint32,
  STUN_ATTRIBUTE,
  STUN_METHOD,
  stunAttribute,
  textAttribute,
  uint32Attribute,
  type StunAddress,
  type StunAttribute,
  type StunMessage,
} from './stun';
import { StunTransactions } from './stun-transactions';

/** Options of a {@link TurnClient}. @public */
export interface TurnClientOptions {
  server: StunAddress;
  username: string;
  password: string;
  /**
   * How we reach the server: `udp` (from the RTP port, through `sendUdp`), `tcp` (a connection
   * of the client's own, RFC 8656 with STUN and ChannelData framed on the stream) or `tls` (the
   * same over TLS, RFC 8656 3.1: the server's certificate checked by `tls`). The relayed
   * transport is UDP either way. @defaultValue 'udp'
   */
  transport?: 'udp' | 'tcp' | 'tls';
  /** node:tls's client options over TLS: the authorities to trust, the server name (SNI and check). */
  tls?: ConnectionOptions;
  /** Sends a datagram to the server from the RTP port (`udp`); it must send or copy `data` before it returns (the client reuses the buffer). */
  sendUdp?: (data: Uint8Array, to: StunAddress) => void;
  /** What the peers sent through the relay: `length` bytes of `data` (valid until return) and the peer. */
  onRelayed: (data: Buffer, length: number, peer: StunAddress) => void;
  /** Told when the allocation or the connection is lost (refresh refused, TCP closed). */
  onLost?: (reason: string) => void;
}

/** Counters of a {@link TurnClient}. @public */
export interface TurnCounters {
  /** Datagrams relayed to peers (ChannelData or Send indications). */
  sent: number;
  /** Datagrams relayed from peers. */
  received: number;
  /** What came from the server that could not be read (a bad frame, an unknown channel). */
  malformed: number;
}

const CHANNEL_MIN = 0x4000;
const CHANNEL_MAX = 0x4fff;
/** Largest datagram we relay: an RTP packet with SRTP's tag fits well under it. */
const MAX_DATAGRAM = 1500;

/**
 * A TURN client (RFC 8656): an allocation with long-term credentials (401 then the realm and
 * nonce, a stale nonce followed), refreshed before its lifetime ends; channels bound to peers
 * (which also grants their permission) and refreshed; datagrams to and from peers as
 * ChannelData. Over UDP it shares the RTP port (the caller hands it what arrives from the
 * server); over TCP it has a connection of its own.
 *
 * @public
 */
export class TurnClient {
  readonly counters: TurnCounters = { sent: 0, received: 0, malformed: 0 };
  readonly #options: TurnClientOptions;
  readonly #transactions: StunTransactions;
  #tcp: Socket | undefined;
  #tcpBuffer = Buffer.alloc(0);
  #realm = '';
  // Stryker disable next-line StringLiteral: the nonce is only sent with the key, and the answer that brings the key sets the nonce first
  #nonce = '';
  #key: Buffer | undefined;
  #relayed: StunAddress | undefined;
  #mapped: StunAddress | undefined;
  #refresh: NodeJS.Timeout | undefined;
  /** Channels by peer: `ready` settles with the server's answer to the ChannelBind; only then is it `confirmed` (used). */
  readonly #channels = new Map<string, { number: number; refresh: NodeJS.Timeout | undefined; ready: Promise<void>; confirmed: boolean }>();
  readonly #peers = new Map<number, StunAddress>();
  #nextChannel = CHANNEL_MIN;
  /** One buffer for what we send: a ChannelData header and the datagram, reused (UDP sends copy at once). */
  readonly #out = Buffer.alloc(4 + MAX_DATAGRAM + 4);
  /** One buffer for what peers send us, reused. */
  readonly #in = Buffer.alloc(MAX_DATAGRAM + 4);
  #closed = false;

  constructor(options: TurnClientOptions) {
    this.#options = options;
    this.#transactions = new StunTransactions((data) => this.#sendToServer(data));
  }

  /** The relayed address, once allocated. */
  get relayed(): StunAddress | undefined {
    return this.#relayed;
  }

  /** Our address as the server sees it (a server-reflexive candidate), once allocated. */
  get mapped(): StunAddress | undefined {
    return this.#mapped;
  }

  get transport(): 'udp' | 'tcp' | 'tls' {
    return this.#options.transport ?? 'udp';
  }

  /** Over TCP or TLS: STUN and ChannelData framed on a stream of the client's own. */
  get #stream(): boolean {
    return this.transport !== 'udp';
  }

  /**
   * Allocates a relayed address (UDP). Over TCP or TLS, connects first.
   *
   * @throws {@link IceError} when the server cannot be reached, refuses the credentials, or refuses the allocation.
   */
  async allocate(): Promise<{ relayed: StunAddress; mapped: StunAddress | undefined; lifetime: number }> {
    if (this.#stream) await this.#connect();
    const transport: StunAttribute = { type: STUN_ATTRIBUTE.requestedTransport, value: Uint8Array.from([17, 0, 0, 0]) };
    const answer = await this.#authenticated(STUN_METHOD.allocate, [transport]);
    const relayed = decodeXorAddress(stunAttribute(answer, STUN_ATTRIBUTE.xorRelayedAddress), answer.transactionId);
    if (!relayed) throw new IceError(`the TURN server ${this.#where()} allocated without a relayed address`);
    this.#relayed = relayed;
    this.#mapped = decodeXorAddress(stunAttribute(answer, STUN_ATTRIBUTE.xorMappedAddress), answer.transactionId);
    const lifetime = readUint32(stunAttribute(answer, STUN_ATTRIBUTE.lifetime)) ?? 600;
    this.#scheduleRefresh(lifetime);
    return { relayed, mapped: this.#mapped, lifetime };
  }

  /**
   * Binds a channel to `peer` (and so permits it), once; refreshed every 5 minutes while the
   * client lives. Resolves when the server accepted it; called again meanwhile, it waits for the
   * same answer (a channel is used only once the server confirmed it: RFC 8656 drops ChannelData
   * on a channel it has not bound).
   */
  bind(peer: StunAddress): Promise<void> {
    const id = `${peer.address}:${peer.port}`;
    const existing = this.#channels.get(id);
    if (existing) return existing.ready;
    if (this.#nextChannel > CHANNEL_MAX) return Promise.reject(new IceError('no TURN channel number left'));
    const number = this.#nextChannel++;
    const channel = { number, refresh: undefined as NodeJS.Timeout | undefined, ready: Promise.resolve(), confirmed: false };
    this.#channels.set(id, channel);
    this.#peers.set(number, peer);
    channel.ready = this.#channelBind(number, peer).then(
      () => {
        channel.confirmed = true;
        channel.refresh = setInterval(() => void this.#channelBind(number, peer).catch((error: unknown) => this.#lost(`the channel to ${id} was not refreshed: ${(error as Error).message}`)), 5 * 60_000);
      },
      (error: unknown) => {
        this.#channels.delete(id);
        this.#peers.delete(number);
        throw error;
      },
    );
    return channel.ready;
  }

  /** Whether a channel to `peer` is bound (the server confirmed it). */
  bound(peer: StunAddress): boolean {
    return this.#channels.get(`${peer.address}:${peer.port}`)?.confirmed === true;
  }

  /**
   * Sends `length` bytes of `data` to `peer` through the relay, on its channel (bind it first).
   * Over UDP nothing is allocated per datagram.
   */
  send(peer: StunAddress, data: Uint8Array, length = data.length): void {
    if (this.#closed || length > MAX_DATAGRAM) return;
    const channel = this.#channels.get(`${peer.address}:${peer.port}`);
    if (!channel?.confirmed) return;
    const out = this.#out;
    out[0] = channel.number >> 8;
    out[1] = channel.number & 0xff;
    out[2] = length >> 8;
    out[3] = length & 0xff;
    // Stryker disable next-line EqualityOperator: a byte copied past the datagram is never sent (over TCP the padding overwrites it)
    for (let i = 0; i < length; i++) out[4 + i] = data[i]!;
    // Over TCP a ChannelData message is padded to a multiple of 4 (RFC 8656 12.5).
    let total = 4 + length;
    if (this.#stream) while (total % 4 !== 0) out[total++] = 0;
    this.counters.sent++;
    this.#sendToServer(out, total);
  }

  /**
   * Takes what arrived from the server (over UDP, from the RTP port): an answer to one of our
   * requests, a Data indication, or ChannelData. Returns false when it is none of these.
   */
  receive(data: Buffer): boolean {
    if (data.length >= 4 && data[0]! >= 0x40 && data[0]! <= 0x4f) return this.#channelData(data, 0, data.length);
    if (!isStun(data)) return false;
    const message = parseStun(data);
    if ('malformed' in message) {
      this.counters.malformed++;
      return true;
    }
    if (message.cls === 'success' || message.cls === 'error') return this.#transactions.handle(message, this.#options.server);
    if (message.cls === 'indication' && message.method === STUN_METHOD.data) {
      const peer = decodeXorAddress(stunAttribute(message, STUN_ATTRIBUTE.xorPeerAddress), message.transactionId);
      const payload = stunAttribute(message, STUN_ATTRIBUTE.data);
      if (!peer || !payload) {
        this.counters.malformed++;
        return true;
      }
      this.counters.received++;
      const bytes = Buffer.from(payload);
      this.#options.onRelayed(bytes, bytes.length, peer);
      return true;
    }
    return false;
  }

  /** Releases the allocation (a Refresh with lifetime 0) and stops. */
  close(): void {
    if (this.#closed) return;
    if (this.#relayed && this.#key) {
      void this.#transactions
        .request(this.#options.server, { method: STUN_METHOD.refresh, attributes: [uint32Attribute(STUN_ATTRIBUTE.lifetime, 0), ...this.#credentials()], integrityKey: this.#key, fingerprint: true }, { attempts: 1, rtoMs: 500 })
        .catch(() => undefined)
        .finally(() => this.#shutdown());
    } else this.#shutdown();
    this.#closed = true;
    clearTimeout(this.#refresh);
    for (const channel of this.#channels.values()) clearInterval(channel.refresh);
  }

  #shutdown(): void {
    this.#transactions.close();
    this.#tcp?.destroy();
    this.#tcp = undefined;
  }

  #where(): string {
    return `${this.#options.server.address}:${this.#options.server.port} (${this.transport})`;
  }

  #lost(reason: string): void {
    if (this.#closed) return;
    this.#options.onLost?.(reason);
  }

  #credentials(): StunAttribute[] {
    return [textAttribute(STUN_ATTRIBUTE.username, this.#options.username), textAttribute(STUN_ATTRIBUTE.realm, this.#realm), textAttribute(STUN_ATTRIBUTE.nonce, this.#nonce)];
  }

  /** A request with the long-term credentials: the first 401 brings the realm and nonce, a 438 a fresh nonce. */
  async #authenticated(method: number, attributesFor: StunAttribute[] | ((transactionId: Uint8Array) => StunAttribute[])): Promise<StunMessage> {
    // Over UDP, three tries (1.75 s): as long as a STUN server is given.
    const options = this.#stream ? { attempts: 1, rtoMs: 5000 } : { attempts: 3, rtoMs: 250 };
    for (let round = 0; round < 3; round++) {
      const key = this.#key;
      // A new transaction each round; XORed addresses are written for its id.
      const transactionId = randomBytes(12);
      const attributes = typeof attributesFor === 'function' ? attributesFor(transactionId) : attributesFor;
      const answer = await this.#transactions.request(this.#options.server, { method, transactionId, attributes: key ? [...attributes, ...this.#credentials()] : attributes, ...(key ? { integrityKey: key } : {}), fingerprint: true }, { ...options, ...(key ? { integrityKey: key } : {}) });
      if (answer.cls === 'success') return answer;
      const error = decodeErrorCode(stunAttribute(answer, STUN_ATTRIBUTE.errorCode));
      const realm = stunAttribute(answer, STUN_ATTRIBUTE.realm);
      const nonce = stunAttribute(answer, STUN_ATTRIBUTE.nonce);
      if ((error?.code === 401 && !key) || error?.code === 438) {
        if (!nonce || (!realm && !this.#realm)) break;
        if (realm) this.#realm = Buffer.from(realm).toString('utf8');
        this.#nonce = Buffer.from(nonce).toString('utf8');
        this.#key = longTermKey(this.#options.username, this.#realm, this.#options.password);
        continue;
      }
      throw new IceError(`the TURN server ${this.#where()} answered ${error?.code ?? '?'} ${error?.reason ?? ''}`.trim(), error?.code);
    }
    throw new IceError(`the TURN server ${this.#where()} refused the credentials of ${this.#options.username}`, 401);
  }

  async #channelBind(number: number, peer: StunAddress): Promise<void> {
    const channel = Buffer.alloc(4);
    channel.writeUInt16BE(number, 0);
    await this.#authenticated(STUN_METHOD.channelBind, (transactionId) => [
      { type: STUN_ATTRIBUTE.channelNumber, value: channel },
      { type: STUN_ATTRIBUTE.xorPeerAddress, value: encodeXorAddress(peer, transactionId) },
    ]);
  }

  #scheduleRefresh(lifetime: number): void {
    clearTimeout(this.#refresh);
    const seconds = Math.max(30, lifetime - 60);
    this.#refresh = setTimeout(() => {
      this.#authenticated(STUN_METHOD.refresh, [uint32Attribute(STUN_ATTRIBUTE.lifetime, 600)])
        .then((answer) => this.#scheduleRefresh(readUint32(stunAttribute(answer, STUN_ATTRIBUTE.lifetime)) ?? 600))
        .catch((error: unknown) => this.#lost(`the TURN allocation was not refreshed: ${(error as Error).message}`));
    }, seconds * 1000);
  }

  #sendToServer(data: Uint8Array, length = data.length): void {
    if (this.#stream) {
      // A stream keeps what it is given until written: a copy.
      this.#tcp?.write(Buffer.from(data.subarray(0, length)));
      return;
    }
    // Stryker disable next-line ConditionalExpression: a view of all of `data` holds the same bytes as `data` (the condition only spares that view)
    this.#options.sendUdp?.(length === data.length ? data : data.subarray(0, length), this.#options.server);
  }

  #channelData(data: Buffer, offset: number, available: number): boolean {
    const number = (data[offset]! << 8) | data[offset + 1]!;
    const length = (data[offset + 2]! << 8) | data[offset + 3]!;
    const peer = this.#peers.get(number);
    if (!peer || length > available - 4 || length > MAX_DATAGRAM) {
      this.counters.malformed++;
      return true;
    }
    data.copy(this.#in, 0, offset + 4, offset + 4 + length);
    this.counters.received++;
    this.#options.onRelayed(this.#in, length, peer);
    return true;
  }

  async #connect(): Promise<void> {
    const { address, port } = this.#options.server;
    const tls = this.transport === 'tls';
    const over = tls ? 'TLS' : 'TCP';
    const socket = tls ? connectTls({ ...this.#options.tls, host: address, port }) : connect({ host: address, port });
    // Kept at once: a client closed while it connects destroys it.
    this.#tcp = socket;
    const opened = tls ? 'secureConnect' : 'connect';
    let settle: (error?: IceError) => void = () => undefined;
    const onOpen = (): void => settle();
    const onError = (error: Error): void => settle(new IceError(`cannot connect to the TURN server ${this.#where()}: ${error.message}`));
    // Without an error first: the client was closed while it connected.
    const onClose = (): void => settle(new IceError(`the connection to the TURN server ${this.#where()} closed before it was open`));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        settle(new IceError(`no ${over} connection to the TURN server ${this.#where()} within 5 s`));
      }, 5000);
      settle = (error) => {
        clearTimeout(timer);
        // The connection's listeners go: from here on those below handle its errors and its end.
        socket.off(opened, onOpen).off('error', onError).off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      // Over TLS the stream carries TURN once the handshake is over (the certificate checked).
      socket.once(opened, onOpen).once('error', onError).once('close', onClose);
    });
    // Stryker disable next-line BooleanLiteral: Nagle's delay is not seen on the loopback a test runs on.
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('close', () => this.#lost(`the ${over} connection to the TURN server ${this.#where()} closed`));
    socket.on('data', (chunk: Buffer) => this.#onTcp(chunk));
  }

  /** Splits the stream into STUN messages and ChannelData messages (padded to 4 bytes over TCP). */
  #onTcp(chunk: Buffer): void {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: joined to an empty remainder, a chunk is a copy of the same bytes
    let buffer = this.#tcpBuffer.length > 0 ? Buffer.concat([this.#tcpBuffer, chunk]) : chunk;
    let offset = 0;
    while (buffer.length - offset >= 4) {
      const first = buffer[offset]!;
      let size: number;
      if (first >= 0x40 && first <= 0x4f) size = 4 + ((((buffer[offset + 2]! << 8) | buffer[offset + 3]!) + 3) & ~3);
      else if (first <= 0x03) size = 20 + ((buffer[offset + 2]! << 8) | buffer[offset + 3]!);
      else {
        // Not a frame we know: the stream cannot be followed any more.
        this.counters.malformed++;
        // Stryker disable next-line OptionalChaining: data comes only on the connection in #tcp (a destroyed one brings none).
        this.#tcp?.destroy();
        return;
      }
      if (buffer.length - offset < size) break;
      // Stryker disable next-line ConditionalExpression,EqualityOperator: receive() takes a ChannelData frame the same way (this path only spares the subarray)
      if (first >= 0x40) this.#channelData(buffer, offset, size);
      else this.receive(buffer.subarray(offset, offset + size));
      offset += size;
    }
    buffer = buffer.subarray(offset);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a copy of no bytes is an empty buffer
    this.#tcpBuffer = buffer.length > 0 ? Buffer.from(buffer) : Buffer.alloc(0);
  }
}
