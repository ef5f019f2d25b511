import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import {
  buildStun,
  checkStunFingerprint,
  checkStunIntegrity,
  decodeXorAddress,
  encodeXorAddress,
  errorCodeAttribute,
  IceError,
  longTermKey,
  parseStun,
  readUint32,
  STUN_ATTRIBUTE,
  STUN_METHOD,
  stunAttribute,
  textAttribute,
  TurnClient,
  uint32Attribute,
  type StunAddress,
  type StunAttribute,
  type StunMessage,
  type TurnClientOptions,
} from '@sip-endpoint/media';
import { makeTestCertificates, waitFor, type TestCertificates } from '@sip-endpoint/test-support';
import { workerPorts } from '../support/ports';

/*
 * The TURN client against a scripted server (RFC 8656): what coturn cannot be made to do on
 * demand (a 438 Stale Nonce, a refused ChannelBind or Refresh, a lost answer, a forged answer,
 * odd frames on the stream), and exactly what the client writes (attributes, integrity,
 * channel numbers, bytes). The server speaks STUN with the package's own builder and parser.
 */

const ports = workerPorts(60);
/** Ports a test took: given back after it (the allocator moves on round its range, so none is reused at once). */
const taken: number[] = [];
function port(): number {
  const next = ports.acquire();
  taken.push(next);
  return next;
}
afterEach(() => {
  for (const each of taken.splice(0)) ports.release(each);
});
const USER = 'alice';
const PASSWORD = 'secret';
const REALM = 'sep.test';
const KEY = longTermKey(USER, REALM, PASSWORD);
/** Addresses that only travel in attributes (nobody listens there). */
const RELAYED: StunAddress = { address: '127.0.0.1', port: ports.acquire() };
const PEER: StunAddress = { address: '127.0.0.1', port: ports.acquire() };
const PEER6: StunAddress = { address: '::1', port: ports.acquire() };

const T = STUN_ATTRIBUTE;

/** An answer to `request`, with FINGERPRINT, signed with `key` when given. */
function answer(request: StunMessage, cls: 'success' | 'error', attributes: StunAttribute[], key?: Uint8Array): Buffer {
  return buildStun({ method: request.method, cls, transactionId: request.transactionId, attributes, ...(key ? { integrityKey: key } : {}), fingerprint: true });
}

const xor = (type: number, address: StunAddress, request: StunMessage): StunAttribute => ({ type, value: encodeXorAddress(address, request.transactionId) });
const text = (message: StunMessage, type: number): string | undefined => {
  const value = stunAttribute(message, type);
  return value === undefined ? undefined : Buffer.from(value).toString('utf8');
};
const types = (message: StunMessage): number[] => message.attributes.map((attribute) => attribute.type);

/**
 * What a TURN server does with what it receives: the standard answers of a server with the
 * long-term credentials alice/secret in realm sep.test (401 with realm and nonce to an unsigned
 * request; Allocate, Refresh and ChannelBind accepted and signed), unless `override` answers.
 */
class Script {
  readonly requests: StunMessage[] = [];
  readonly channelData: Buffer[] = [];
  nonce = 'nonce-1';
  key: Uint8Array = KEY;
  lifetime: number | undefined = 600;
  mapped: StunAddress = { address: '127.0.0.1', port: 1 };
  /** Answers instead of the standard (undefined: the standard answer; []: none). */
  override: ((request: StunMessage, index: number) => Buffer[] | undefined) | undefined;

  take(datagram: Uint8Array): Buffer[] {
    const copy = Buffer.from(datagram);
    if (copy[0]! >= 0x40 && copy[0]! <= 0x4f) {
      this.channelData.push(copy);
      return [];
    }
    const message = parseStun(copy);
    if ('malformed' in message) throw new Error(`the client sent a malformed STUN message: ${message.malformed}`);
    this.requests.push(message);
    return this.override?.(message, this.requests.length - 1) ?? this.standard(message);
  }

  standard(request: StunMessage): Buffer[] {
    if (request.integrityOffset < 0) return [answer(request, 'error', [errorCodeAttribute(401, 'Unauthorized'), textAttribute(T.realm, REALM), textAttribute(T.nonce, this.nonce)])];
    if (!checkStunIntegrity(request, this.key)) return [answer(request, 'error', [errorCodeAttribute(401, 'Unauthorized'), textAttribute(T.realm, REALM), textAttribute(T.nonce, this.nonce)])];
    if (request.method === STUN_METHOD.allocate) {
      const attributes = [xor(T.xorRelayedAddress, RELAYED, request), xor(T.xorMappedAddress, this.mapped, request)];
      if (this.lifetime !== undefined) attributes.push(uint32Attribute(T.lifetime, this.lifetime));
      return [answer(request, 'success', attributes, this.key)];
    }
    if (request.method === STUN_METHOD.refresh) return [answer(request, 'success', [uint32Attribute(T.lifetime, readUint32(stunAttribute(request, T.lifetime)) ?? 600)], this.key)];
    return [answer(request, 'success', [], this.key)];
  }

  /** The requests of `method`. */
  of(method: number): StunMessage[] {
    return this.requests.filter((request) => request.method === method);
  }
}

/** Checks what every signed request of ours must hold: the credentials in order, integrity with `key`, and FINGERPRINT last. */
function expectSigned(request: StunMessage, leading: number[], key: Uint8Array = KEY, realm = REALM, nonce = 'nonce-1'): void {
  expect(types(request)).toEqual([...leading, T.username, T.realm, T.nonce, T.messageIntegrity]);
  expect(text(request, T.username)).toBe(USER);
  expect(text(request, T.realm)).toBe(realm);
  expect(text(request, T.nonce)).toBe(nonce);
  expect(checkStunIntegrity(request, key)).toBe(true);
  expect(checkStunFingerprint(request)).toBe(true);
  expect(request.cls).toBe('request');
}

type ClientOptions = Partial<Omit<TurnClientOptions, 'server' | 'sendUdp'>>;

interface Harness {
  client: TurnClient;
  script: Script;
  server: StunAddress;
  relayed: { data: Buffer; peer: StunAddress }[];
  lost: string[];
}

/** A client whose datagrams the script answers in this process, a microtask later (for the tests on jest's fake clock). */
function inProcess(options: ClientOptions = {}, script = new Script()): Harness {
  const server = { address: '127.0.0.1', port: port() };
  const relayed: Harness['relayed'] = [];
  const lost: string[] = [];
  const client: TurnClient = new TurnClient({
    server,
    username: USER,
    password: PASSWORD,
    sendUdp: (data) => {
      const replies = script.take(data);
      queueMicrotask(() => {
        for (const reply of replies) client.receive(reply);
      });
    },
    onRelayed: (data, length, peer) => relayed.push({ data: Buffer.from(data.subarray(0, length)), peer }),
    onLost: (reason) => lost.push(reason),
    ...options,
  });
  return { client, script, server, relayed, lost };
}

/** Lets every pending microtask and I/O callback run (setImmediate is never faked here). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

// Each exchange takes milliseconds; under CI's load (two workers, two cores, peers beside them)
// three of them once took over jest's default 5 s. Their own waits bound them, not this.
jest.setTimeout(20_000);

describe('TurnClient against a scripted server over UDP', () => {
  const sockets: Socket[] = [];
  const clients: TurnClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    for (const socket of sockets.splice(0)) socket.close();
  });

  async function bound(): Promise<Socket> {
    // As the RTP session's sockets: an IP literal needs no lookup, so that a datagram leaves at
    // once (the client reuses its buffer for the next one).
    const socket = createSocket({ type: 'udp4', lookup: (hostname, _, callback) => callback(null, hostname, 4) });
    sockets.push(socket);
    await new Promise<void>((resolve) => socket.bind(port(), '127.0.0.1', resolve));
    return socket;
  }

  /** The script on a UDP socket of its own, and a client on another (its RTP port). */
  async function overUdp(options: ClientOptions = {}, script = new Script()): Promise<Harness & { ours: StunAddress; serverSocket: Socket }> {
    const serverSocket = await bound();
    const oursSocket = await bound();
    const server = { address: '127.0.0.1', port: serverSocket.address().port };
    const ours = { address: '127.0.0.1', port: oursSocket.address().port };
    script.mapped = ours;
    serverSocket.on('message', (data, from) => {
      for (const reply of script.take(data)) serverSocket.send(reply, from.port, from.address);
    });
    const relayed: Harness['relayed'] = [];
    const lost: string[] = [];
    const client = new TurnClient({
      server,
      username: USER,
      password: PASSWORD,
      sendUdp: (data, to) => oursSocket.send(data, to.port, to.address),
      onRelayed: (data, length, peer) => relayed.push({ data: Buffer.from(data.subarray(0, length)), peer }),
      onLost: (reason) => lost.push(reason),
      ...options,
    });
    clients.push(client);
    oursSocket.on('message', (data) => client.receive(data));
    return { client, script, server, relayed, lost, ours, serverSocket };
  }

  it('allocates: an unsigned Allocate first, then the same request signed with the realm and nonce of the 401', async () => {
    const { client, script, ours } = await overUdp();
    expect(client.relayed).toBeUndefined();
    expect(client.mapped).toBeUndefined();
    expect(client.transport).toBe('udp');
    await expect(client.allocate()).resolves.toEqual({ relayed: RELAYED, mapped: ours, lifetime: 600 });
    expect(client.relayed).toEqual(RELAYED);
    expect(client.mapped).toEqual(ours);
    expect(script.requests).toHaveLength(2);
    const [first, second] = script.requests as [StunMessage, StunMessage];
    expect(first.method).toBe(STUN_METHOD.allocate);
    expect(first.attributes).toEqual([{ type: T.requestedTransport, value: Buffer.from([17, 0, 0, 0]) }]);
    expect(first.integrityOffset).toBe(-1);
    expect(checkStunFingerprint(first)).toBe(true);
    expect(second.method).toBe(STUN_METHOD.allocate);
    expectSigned(second, [T.requestedTransport]);
    expect(Buffer.from(stunAttribute(second, T.requestedTransport)!)).toEqual(Buffer.from([17, 0, 0, 0]));
    // A new transaction for the signed request.
    expect(Buffer.from(second.transactionId).equals(Buffer.from(first.transactionId))).toBe(false);
  });

  it('takes a lifetime of 600 s when the answer has no LIFETIME, and no mapped address when it has none', async () => {
    const script = new Script();
    script.lifetime = undefined;
    script.override = (request) => (request.integrityOffset >= 0 ? [answer(request, 'success', [xor(T.xorRelayedAddress, RELAYED, request)], KEY)] : undefined);
    const { client } = await overUdp({}, script);
    await expect(client.allocate()).resolves.toEqual({ relayed: RELAYED, mapped: undefined, lifetime: 600 });
    expect(client.mapped).toBeUndefined();
  });

  it('refuses an allocation that names no relayed address', async () => {
    const script = new Script();
    script.override = (request) => (request.integrityOffset >= 0 ? [answer(request, 'success', [uint32Attribute(T.lifetime, 600)], KEY)] : undefined);
    const { client, server } = await overUdp({}, script);
    const error = await client.allocate().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IceError);
    expect(error).toMatchObject({ message: `the TURN server 127.0.0.1:${server.port} (udp) allocated without a relayed address`, stunCode: undefined });
    expect(client.relayed).toBeUndefined();
  });

  it.each([
    ['with its reason', [errorCodeAttribute(486, 'Allocation Quota Reached')], 'answered 486 Allocation Quota Reached', 486],
    ['without a reason', [errorCodeAttribute(508, '')], 'answered 508', 508],
    ['without ERROR-CODE', [], 'answered ?', undefined],
  ] as const)('turns an error answer %s into an IceError saying so', async (_, attributes, said, code) => {
    const script = new Script();
    script.override = (request) => (request.integrityOffset >= 0 ? [answer(request, 'error', [...attributes], KEY)] : undefined);
    const { client, server } = await overUdp({}, script);
    const error = await client.allocate().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IceError);
    expect(error).toMatchObject({ message: `the TURN server 127.0.0.1:${server.port} (udp) ${said}`, stunCode: code });
    expect(script.requests).toHaveLength(2);
  });

  it('says what an unsigned request was answered with when it is not a 401', async () => {
    const script = new Script();
    script.override = (request) => [answer(request, 'error', [errorCodeAttribute(500, 'Server Error'), textAttribute(T.realm, REALM), textAttribute(T.nonce, 'n')])];
    const { client, server } = await overUdp({}, script);
    await expect(client.allocate()).rejects.toThrow(new IceError(`the TURN server 127.0.0.1:${server.port} (udp) answered 500 Server Error`));
    expect(script.requests).toHaveLength(1);
  });

  it('takes a second 401 (the credentials were refused) as the answer, without asking again', async () => {
    const script = new Script();
    script.key = longTermKey(USER, REALM, 'another password');
    const { client, server } = await overUdp({}, script);
    const error = await client.allocate().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ message: `the TURN server 127.0.0.1:${server.port} (udp) answered 401 Unauthorized`, stunCode: 401 });
    expect(script.requests).toHaveLength(2);
  });

  it('follows a 438 Stale Nonce: the same request again with the new nonce, the realm kept', async () => {
    const script = new Script();
    script.override = (request, index) => (index === 1 ? [answer(request, 'error', [errorCodeAttribute(438, 'Stale Nonce'), textAttribute(T.nonce, 'nonce-2')], KEY)] : undefined);
    const { client } = await overUdp({}, script);
    await expect(client.allocate()).resolves.toMatchObject({ relayed: RELAYED });
    expect(script.requests).toHaveLength(3);
    expectSigned(script.requests[1]!, [T.requestedTransport], KEY, REALM, 'nonce-1');
    expectSigned(script.requests[2]!, [T.requestedTransport], KEY, REALM, 'nonce-2');
  });

  it('follows a 438 that names another realm: the key is made again for it', async () => {
    const script = new Script();
    const otherKey = longTermKey(USER, 'other.realm', PASSWORD);
    script.override = (request, index) => {
      if (index === 1) return [answer(request, 'error', [errorCodeAttribute(438, 'Stale Nonce'), textAttribute(T.realm, 'other.realm'), textAttribute(T.nonce, 'nonce-2')], KEY)];
      if (index === 2) return checkStunIntegrity(request, otherKey) ? [answer(request, 'success', [xor(T.xorRelayedAddress, RELAYED, request)], otherKey)] : [];
      return undefined;
    };
    const { client } = await overUdp({}, script);
    await expect(client.allocate()).resolves.toMatchObject({ relayed: RELAYED, lifetime: 600 });
    expectSigned(script.requests[2]!, [T.requestedTransport], otherKey, 'other.realm', 'nonce-2');
  });

  it('gives up after three rounds of nonces: the credentials were refused', async () => {
    const script = new Script();
    script.override = (request, index) => (index > 0 ? [answer(request, 'error', [errorCodeAttribute(438, 'Stale Nonce'), textAttribute(T.nonce, `nonce-${index + 1}`)], KEY)] : undefined);
    const { client, server } = await overUdp({}, script);
    const error = await client.allocate().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IceError);
    expect(error).toMatchObject({ message: `the TURN server 127.0.0.1:${server.port} (udp) refused the credentials of alice`, stunCode: 401 });
    expect(script.requests).toHaveLength(3);
    expect(script.requests.map((request) => text(request, T.nonce))).toEqual([undefined, 'nonce-1', 'nonce-2']);
  });

  it.each([
    ['no NONCE', [errorCodeAttribute(401, 'Unauthorized'), textAttribute(T.realm, REALM)]],
    ['no REALM', [errorCodeAttribute(401, 'Unauthorized'), textAttribute(T.nonce, 'nonce-1')]],
  ])('takes a 401 with %s as a refusal, without asking again', async (_, attributes) => {
    const script = new Script();
    script.override = (request) => [answer(request, 'error', attributes)];
    const { client, server } = await overUdp({}, script);
    const error = await client.allocate().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ message: `the TURN server 127.0.0.1:${server.port} (udp) refused the credentials of alice`, stunCode: 401 });
    expect(script.requests).toHaveLength(1);
  });

  it('drops a signed answer whose MESSAGE-INTEGRITY is not the key, and takes the right one after it', async () => {
    const script = new Script();
    const forged = { address: '127.0.0.1', port: port() };
    script.override = (request) => {
      if (request.integrityOffset < 0) return undefined;
      return [answer(request, 'success', [xor(T.xorRelayedAddress, forged, request)], longTermKey(USER, REALM, 'guessed')), ...script.standard(request)];
    };
    const { client } = await overUdp({}, script);
    await expect(client.allocate()).resolves.toMatchObject({ relayed: RELAYED });
  });

  it('binds channels from 0x4000 up: CHANNEL-NUMBER and XOR-PEER-ADDRESS (for the transaction), signed; once per peer', async () => {
    const { client, script } = await overUdp();
    await client.allocate();
    expect(client.bound(PEER)).toBe(false);
    await client.bind(PEER);
    expect(client.bound(PEER)).toBe(true);
    expect(client.bound({ address: PEER.address, port: PEER.port + 1 })).toBe(false);
    await client.bind(PEER);
    await client.bind(PEER6);
    expect(client.bound(PEER6)).toBe(true);
    const binds = script.of(STUN_METHOD.channelBind);
    expect(binds).toHaveLength(2);
    expectSigned(binds[0]!, [T.channelNumber, T.xorPeerAddress]);
    expect(Buffer.from(stunAttribute(binds[0]!, T.channelNumber)!)).toEqual(Buffer.from([0x40, 0x00, 0, 0]));
    expect(decodeXorAddress(stunAttribute(binds[0]!, T.xorPeerAddress), binds[0]!.transactionId)).toEqual(PEER);
    expectSigned(binds[1]!, [T.channelNumber, T.xorPeerAddress]);
    expect(Buffer.from(stunAttribute(binds[1]!, T.channelNumber)!)).toEqual(Buffer.from([0x40, 0x01, 0, 0]));
    // An IPv6 peer is XORed with the transaction id too: the id of the request that carries it.
    expect(decodeXorAddress(stunAttribute(binds[1]!, T.xorPeerAddress), binds[1]!.transactionId)).toEqual(PEER6);
  });

  it('uses a channel only once the server confirmed it: until its ChannelBind is answered it is not bound, what is sent to it is dropped, and a second bind waits for the same answer', async () => {
    const script = new Script();
    const held: StunMessage[] = [];
    script.override = (request) => {
      if (request.method !== STUN_METHOD.channelBind || request.integrityOffset < 0) return undefined;
      held.push(request);
      return [];
    };
    const { client } = await overUdp({}, script);
    await client.allocate();
    let first = false;
    let second = false;
    void client.bind(PEER).then(() => (first = true));
    void client.bind(PEER).then(() => (second = true));
    await waitFor(() => held.length === 1, 2000, 'the ChannelBind');
    expect(client.bound(PEER)).toBe(false);
    client.send(PEER, Buffer.from('too early'));
    expect(client.counters.sent).toBe(0);
    expect([first, second]).toEqual([false, false]);
    client.receive(answer(held[0]!, 'success', [], KEY));
    await waitFor(() => first && second, 2000, 'both binds resolved');
    expect(client.bound(PEER)).toBe(true);
    client.send(PEER, Buffer.from('now'));
    expect(client.counters.sent).toBe(1);
    expect(script.of(STUN_METHOD.channelBind)).toHaveLength(1);
    client.close();
  });

  it('forgets a channel the server refused: not bound, its number not reused, its ChannelData not taken', async () => {
    const script = new Script();
    let refuse = true;
    script.override = (request) => (request.method === STUN_METHOD.channelBind && request.integrityOffset >= 0 && refuse ? [answer(request, 'error', [errorCodeAttribute(403, 'Forbidden')], KEY)] : undefined);
    const { client, server, relayed } = await overUdp({}, script);
    await client.allocate();
    const error = await client.bind(PEER).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IceError);
    expect(error).toMatchObject({ message: `the TURN server 127.0.0.1:${server.port} (udp) answered 403 Forbidden`, stunCode: 403 });
    expect(client.bound(PEER)).toBe(false);
    expect(client.receive(Buffer.from([0x40, 0x00, 0x00, 0x01, 7, 0, 0, 0]))).toBe(true);
    expect(client.counters).toEqual({ sent: 0, received: 0, malformed: 1 });
    refuse = false;
    await client.bind(PEER);
    const binds = script.of(STUN_METHOD.channelBind);
    expect(binds.map((bind) => Buffer.from(stunAttribute(bind, T.channelNumber)!).toString('hex'))).toEqual(['40000000', '40010000']);
    expect(client.receive(Buffer.from([0x40, 0x01, 0x00, 0x01, 7, 0, 0, 0]))).toBe(true);
    expect(relayed).toEqual([{ data: Buffer.from([7]), peer: PEER }]);
  });

  it('sends ChannelData: the channel number, the length, the bytes, nothing more over UDP', async () => {
    const { client, script } = await overUdp();
    await client.allocate();
    await client.bind(PEER);
    await client.bind(PEER6);
    const large = Buffer.alloc(1500);
    for (let i = 0; i < large.length; i++) large[i] = (i * 7) & 0xff;
    client.send({ address: '127.0.0.1', port: PEER.port + 1 }, Buffer.from('not bound'));
    client.send(PEER, Buffer.alloc(1501));
    client.send(PEER, Buffer.alloc(2000), 1501);
    expect(client.counters.sent).toBe(0);
    client.send(PEER, Buffer.from('hello'));
    client.send(PEER6, Buffer.from('hello world'), 3);
    client.send(PEER, large);
    client.send(PEER, Buffer.alloc(0));
    await waitFor(() => script.channelData.length === 4, 2000, 'four ChannelData messages');
    expect(script.channelData[0]).toEqual(Buffer.from([0x40, 0x00, 0x00, 0x05, ...Buffer.from('hello')]));
    expect(script.channelData[1]).toEqual(Buffer.from([0x40, 0x01, 0x00, 0x03, ...Buffer.from('hel')]));
    expect(script.channelData[2]).toEqual(Buffer.concat([Buffer.from([0x40, 0x00, 0x05, 0xdc]), large]));
    expect(script.channelData[3]).toEqual(Buffer.from([0x40, 0x00, 0x00, 0x00]));
    expect(client.counters).toEqual({ sent: 4, received: 0, malformed: 0 });
  });

  it('takes ChannelData for its channels (up to 1500 bytes) and counts what it cannot read', async () => {
    const { client, relayed } = await overUdp();
    await client.allocate();
    await client.bind(PEER);
    await client.bind(PEER6);
    const large = Buffer.alloc(1500);
    for (let i = 0; i < large.length; i++) large[i] = (i * 13) & 0xff;
    expect(client.receive(Buffer.from([0x40, 0x00, 0x00, 0x03, 1, 2, 3]))).toBe(true);
    expect(client.receive(Buffer.from([0x40, 0x01, 0x00, 0x02, 4, 5, 6, 7]))).toBe(true);
    expect(client.receive(Buffer.from([0x40, 0x00, 0x00, 0x00]))).toBe(true);
    expect(client.receive(Buffer.concat([Buffer.from([0x40, 0x00, 0x05, 0xdc]), large]))).toBe(true);
    expect(client.counters).toEqual({ sent: 0, received: 4, malformed: 0 });
    expect(relayed).toEqual([
      { data: Buffer.from([1, 2, 3]), peer: PEER },
      { data: Buffer.from([4, 5]), peer: PEER6 },
      { data: Buffer.alloc(0), peer: PEER },
      { data: large, peer: PEER },
    ]);
    // Longer than what came, longer than 1500 bytes, or on a channel never bound: counted, dropped.
    expect(client.receive(Buffer.from([0x40, 0x00, 0x00, 0x04, 1, 2, 3]))).toBe(true);
    expect(client.receive(Buffer.concat([Buffer.from([0x40, 0x00, 0x05, 0xdd]), Buffer.alloc(1501)]))).toBe(true);
    expect(client.receive(Buffer.from([0x4f, 0xff, 0x00, 0x00]))).toBe(true);
    expect(client.counters).toEqual({ sent: 0, received: 4, malformed: 3 });
    // Not ChannelData, not STUN: not the TURN client's.
    expect(client.receive(Buffer.from([0x50, 0x00, 0x00, 0x00]))).toBe(false);
    expect(client.receive(Buffer.from([0x40, 0x00, 0x00]))).toBe(false);
    expect(client.receive(Buffer.from([0x3f, 0x00, 0x00, 0x00]))).toBe(false);
    expect(client.counters).toEqual({ sent: 0, received: 4, malformed: 3 });
    expect(relayed).toHaveLength(4);
  });

  it('takes a Data indication (a peer without a channel), and counts one without its peer or its data', async () => {
    const { client, relayed } = await overUdp();
    const id = Buffer.alloc(12, 9);
    const indication = (attributes: StunAttribute[], method: number = STUN_METHOD.data): Buffer => buildStun({ method, cls: 'indication', transactionId: id, attributes });
    const peerAttribute = { type: T.xorPeerAddress, value: encodeXorAddress(PEER6, id) };
    const dataAttribute = { type: T.data, value: Buffer.from('through a permission') };
    expect(client.receive(indication([peerAttribute, dataAttribute]))).toBe(true);
    expect(relayed).toEqual([{ data: Buffer.from('through a permission'), peer: PEER6 }]);
    expect(client.counters).toEqual({ sent: 0, received: 1, malformed: 0 });
    expect(client.receive(indication([peerAttribute]))).toBe(true);
    expect(client.receive(indication([dataAttribute]))).toBe(true);
    expect(client.counters).toEqual({ sent: 0, received: 1, malformed: 2 });
    // Other indications and requests are not the TURN client's.
    expect(client.receive(indication([peerAttribute, dataAttribute], STUN_METHOD.send))).toBe(false);
    expect(client.receive(buildStun({ method: STUN_METHOD.data, cls: 'request', attributes: [peerAttribute, dataAttribute] }))).toBe(false);
    expect(client.counters).toEqual({ sent: 0, received: 1, malformed: 2 });
    expect(relayed).toHaveLength(1);
  });

  it('counts a STUN message it cannot read, and says an answer to nothing of ours is not its', async () => {
    const { client } = await overUdp();
    // A STUN header whose one attribute says it is longer than the message.
    const broken = buildStun({ method: STUN_METHOD.data, cls: 'indication', attributes: [{ type: T.data, value: Buffer.from([1, 2, 3, 4]) }] });
    broken.writeUInt16BE(8, 22);
    expect(client.receive(broken)).toBe(true);
    expect(client.counters).toEqual({ sent: 0, received: 0, malformed: 1 });
    expect(client.receive(buildStun({ method: STUN_METHOD.allocate, cls: 'success', fingerprint: true }))).toBe(false);
    expect(client.receive(buildStun({ method: STUN_METHOD.allocate, cls: 'error', fingerprint: true }))).toBe(false);
    expect(client.counters).toEqual({ sent: 0, received: 0, malformed: 1 });
  });

  it('releases the allocation on close: one Refresh with LIFETIME 0, signed; nothing sent after', async () => {
    const { client, script, lost } = await overUdp();
    await client.allocate();
    await client.bind(PEER);
    client.close();
    client.close();
    client.send(PEER, Buffer.from('too late'));
    await waitFor(() => script.of(STUN_METHOD.refresh).length === 1, 2000, 'the Refresh');
    const [refresh] = script.of(STUN_METHOD.refresh);
    expectSigned(refresh!, [T.lifetime]);
    expect(Buffer.from(stunAttribute(refresh!, T.lifetime)!)).toEqual(Buffer.from([0, 0, 0, 0]));
    expect(script.requests).toHaveLength(4);
    expect(script.channelData).toEqual([]);
    expect(client.counters.sent).toBe(0);
    expect(lost).toEqual([]);
  });

  it('close before an allocation stops at once: the pending Allocate rejects, no Refresh is sent', async () => {
    const script = new Script();
    script.override = () => [];
    const { client } = await overUdp({}, script);
    const allocation = client.allocate();
    await waitFor(() => script.requests.length === 1, 2000, 'the Allocate');
    client.close();
    await expect(allocation).rejects.toThrow(new IceError('the STUN transactions were closed'));
    expect(script.requests).toHaveLength(1);
  });
  it('close while the signed Allocate is pending (credentials known, nothing allocated) stops at once, no Refresh', async () => {
    const script = new Script();
    script.override = (request) => (request.integrityOffset >= 0 ? [] : undefined);
    const { client } = await overUdp({}, script);
    const allocation = client.allocate();
    await waitFor(() => script.requests.length === 2, 2000, 'the signed Allocate');
    client.close();
    await expect(allocation).rejects.toThrow(new IceError('the STUN transactions were closed'));
    expect(script.requests).toHaveLength(2);
  });
});

describe('TurnClient on a fake clock (retransmissions, refreshes)', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate', 'Date', 'hrtime', 'performance'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('over UDP, asks three times (after 250 and 500 ms more) and gives up 1 s after the last', async () => {
    const script = new Script();
    script.override = () => [];
    const { client, server } = inProcess({}, script);
    let outcome: unknown;
    const allocation = client.allocate().catch((error: unknown) => (outcome = error));
    await jest.advanceTimersByTimeAsync(249);
    expect(script.requests).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(script.requests).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(499);
    expect(script.requests).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(script.requests).toHaveLength(3);
    await jest.advanceTimersByTimeAsync(999);
    expect(outcome).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1);
    await allocation;
    expect(outcome).toEqual(new IceError(`no STUN answer from 127.0.0.1:${server.port} after 3 attempts`));
    expect(new Set(script.requests.map((request) => Buffer.from(request.transactionId).toString('hex'))).size).toBe(1);
    client.close();
  });

  it('refreshes the allocation a minute before its lifetime ends (at least 30 s), and says when it was not', async () => {
    const script = new Script();
    script.lifetime = 100;
    const { client, server, lost } = inProcess({}, script);
    await client.allocate();
    expect(script.requests).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(39_999);
    expect(script.of(STUN_METHOD.refresh)).toHaveLength(0);
    // The next Refresh answers with 70 s (30 s to wait), the one after with no LIFETIME (600 s: 540 s to wait).
    script.override = (request) => (request.method === STUN_METHOD.refresh ? [answer(request, 'success', [uint32Attribute(T.lifetime, 70)], KEY)] : undefined);
    await jest.advanceTimersByTimeAsync(1);
    const refreshes = script.of(STUN_METHOD.refresh);
    expect(refreshes).toHaveLength(1);
    expectSigned(refreshes[0]!, [T.lifetime]);
    expect(readUint32(stunAttribute(refreshes[0]!, T.lifetime))).toBe(600);
    script.override = (request) => (request.method === STUN_METHOD.refresh ? [answer(request, 'success', [], KEY)] : undefined);
    await jest.advanceTimersByTimeAsync(29_999);
    expect(script.of(STUN_METHOD.refresh)).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(script.of(STUN_METHOD.refresh)).toHaveLength(2);
    // The third: a stale nonce first (followed), then the allocation is gone.
    script.override = (request, index) => {
      if (request.method !== STUN_METHOD.refresh) return undefined;
      if (text(request, T.nonce) === 'nonce-1') return [answer(request, 'error', [errorCodeAttribute(438, 'Stale Nonce'), textAttribute(T.nonce, `nonce-${index}`)], KEY)];
      return [answer(request, 'error', [errorCodeAttribute(437, 'Allocation Mismatch')], KEY)];
    };
    await jest.advanceTimersByTimeAsync(539_999);
    expect(script.of(STUN_METHOD.refresh)).toHaveLength(2);
    expect(lost).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    await settle();
    const last = script.of(STUN_METHOD.refresh).slice(2);
    expect(last.map((request) => text(request, T.nonce))).toEqual(['nonce-1', `nonce-${script.requests.length - 2}`]);
    expect(lost).toEqual([`the TURN allocation was not refreshed: the TURN server 127.0.0.1:${server.port} (udp) answered 437 Allocation Mismatch`]);
    // No refresh is left to come.
    expect(jest.getTimerCount()).toBe(0);
    client.close();
  });

  it('refreshes each channel every 5 minutes, says when one was not, and leaves no timer once closed', async () => {
    const script = new Script();
    script.lifetime = 3600;
    const { client, server, lost } = inProcess({}, script);
    await client.allocate();
    await client.bind(PEER);
    await jest.advanceTimersByTimeAsync(299_999);
    expect(script.of(STUN_METHOD.channelBind)).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    const binds = script.of(STUN_METHOD.channelBind);
    expect(binds).toHaveLength(2);
    expectSigned(binds[1]!, [T.channelNumber, T.xorPeerAddress]);
    expect(Buffer.from(stunAttribute(binds[1]!, T.channelNumber)!)).toEqual(Buffer.from([0x40, 0x00, 0, 0]));
    expect(decodeXorAddress(stunAttribute(binds[1]!, T.xorPeerAddress), binds[1]!.transactionId)).toEqual(PEER);
    expect(lost).toEqual([]);
    script.override = (request) => (request.method === STUN_METHOD.channelBind ? [answer(request, 'error', [errorCodeAttribute(403, 'Forbidden')], KEY)] : undefined);
    await jest.advanceTimersByTimeAsync(300_000);
    await settle();
    expect(lost).toEqual([`the channel to 127.0.0.1:${PEER.port} was not refreshed: the TURN server 127.0.0.1:${server.port} (udp) answered 403 Forbidden`]);
    expect(client.bound(PEER)).toBe(true);
    // Close: the Refresh with LIFETIME 0 is answered, and no timer is left (allocation, channel, transaction).
    client.close();
    await settle();
    expect(readUint32(stunAttribute(script.of(STUN_METHOD.refresh)[0]!, T.lifetime))).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(3_600_000);
    expect(script.requests).toHaveLength(2 + 3 + 1);
    expect(lost).toHaveLength(1);
  });

  it('a second allocation replaces the first one\'s refresh', async () => {
    const script = new Script();
    script.lifetime = 100;
    const { client } = inProcess({}, script);
    await client.allocate();
    await client.allocate();
    await jest.advanceTimersByTimeAsync(40_000);
    expect(script.of(STUN_METHOD.refresh)).toHaveLength(1);
    client.close();
  });

  it('over UDP without `sendUdp`, sends nothing and times out', async () => {
    const client = new TurnClient({ server: { address: '127.0.0.1', port: port() }, username: USER, password: PASSWORD, onRelayed: () => undefined });
    let outcome: unknown;
    const allocation = client.allocate().catch((error: unknown) => (outcome = error));
    await jest.advanceTimersByTimeAsync(1750);
    await allocation;
    expect(outcome).toBeInstanceOf(IceError);
    expect((outcome as IceError).message).toMatch(/^no STUN answer from 127\.0\.0\.1:\d+ after 3 attempts$/);
    client.close();
  });

  it('after close, the Refresh is given 500 ms, once, before the client stops', async () => {
    const script = new Script();
    const { client } = inProcess({}, script);
    await client.allocate();
    script.override = () => [];
    client.close();
    expect(script.of(STUN_METHOD.refresh)).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(499);
    // Still listening: an answer to the Refresh is taken.
    const refresh = script.of(STUN_METHOD.refresh)[0]!;
    await jest.advanceTimersByTimeAsync(1);
    await settle();
    expect(script.of(STUN_METHOD.refresh)).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0);
    // Stopped: the late answer is nobody's.
    expect(client.receive(answer(refresh, 'success', [], KEY))).toBe(false);
  });

});

describe('TurnClient channel numbers', () => {
  it('runs out of channel numbers after 0x4fff: a number is spent by each bind asked, even one that fails', async () => {
    const script = new Script();
    const { client } = inProcess({}, script);
    // Closed, the client asks nothing (the cheap way through 4096 numbers): each bind fails, and spends its number.
    client.close();
    const outcomes = new Map<string, number>();
    for (let port = 1; port <= 0x1000; port++) {
      const error = await client.bind({ address: '10.0.0.1', port }).catch((caught: unknown) => caught);
      const message = error instanceof IceError ? error.message : String(error);
      outcomes.set(message, (outcomes.get(message) ?? 0) + 1);
    }
    expect(outcomes).toEqual(new Map([['the STUN transactions are closed', 0x1000]]));
    await expect(client.bind({ address: '10.0.0.2', port: 1 })).rejects.toThrow(new IceError('no TURN channel number left'));
    expect(client.bound({ address: '10.0.0.1', port: 1 })).toBe(false);
    expect(script.requests).toHaveLength(0);
  });
});

/** A TURN server on TCP: frames STUN and ChannelData (padded to 4) off the stream and answers through the script. */
async function tcpServer(script: Script, tls?: TestCertificates): Promise<{ listener: Server; address: StunAddress; connections: TcpSocket[]; frames: Buffer[]; closed: () => number }> {
  const frames: Buffer[] = [];
  const connections: TcpSocket[] = [];
  let closed = 0;
  const serve = (socket: TcpSocket): void => {
    connections.push(socket);
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('close', () => closed++);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 4) {
        const length = buffer.readUInt16BE(2);
        const size = buffer[0]! >= 0x40 ? 4 + ((length + 3) & ~3) : 20 + length;
        if (buffer.length < size) break;
        const frame = Buffer.from(buffer.subarray(0, size));
        buffer = buffer.subarray(size);
        frames.push(frame);
        if (frame[0]! < 0x40) for (const reply of script.take(frame)) socket.write(reply);
      }
    });
  };
  const server: Server = tls ? createTlsServer({ cert: readFileSync(tls.serverCertificate), key: readFileSync(tls.serverKey) }, serve) : createServer(serve);
  const listening = port();
  await new Promise<void>((resolve) => server.listen(listening, '127.0.0.1', resolve));
  return { listener: server, address: { address: '127.0.0.1', port: listening }, connections, frames, closed: () => closed };
}

describe('TurnClient over TCP against a scripted server (RFC 8656 framing)', () => {
  const servers: { listener: Server; connections: TcpSocket[] }[] = [];
  const clients: TurnClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const { listener, connections } of servers.splice(0)) {
      for (const connection of connections) connection.destroy();
      await new Promise((resolve) => listener.close(resolve));
    }
    jest.useRealTimers();
  });

  async function overTcp(script = new Script()): Promise<Harness & Awaited<ReturnType<typeof tcpServer>>> {
    const tcp = await tcpServer(script);
    servers.push(tcp);
    const relayed: Harness['relayed'] = [];
    const lost: string[] = [];
    const client = new TurnClient({
      server: tcp.address,
      username: USER,
      password: PASSWORD,
      transport: 'tcp',
      onRelayed: (data, length, peer) => relayed.push({ data: Buffer.from(data.subarray(0, length)), peer }),
      onLost: (reason) => lost.push(reason),
    });
    clients.push(client);
    return { ...tcp, client, script, server: tcp.address, relayed, lost };
  }

  it('allocates and binds on its own connection, and pads what it sends to 4 bytes', async () => {
    const { client, script, frames, connections } = await overTcp();
    expect(client.transport).toBe('tcp');
    await expect(client.allocate()).resolves.toEqual({ relayed: RELAYED, mapped: script.mapped, lifetime: 600 });
    await client.bind(PEER);
    expect(connections).toHaveLength(1);
    expectSigned(script.of(STUN_METHOD.channelBind)[0]!, [T.channelNumber, T.xorPeerAddress]);
    client.send(PEER, Buffer.from('hello'));
    client.send(PEER, Buffer.from('12345678'), 7);
    client.send(PEER, Buffer.from('abcd'));
    await waitFor(() => frames.length === 3 + 3, 2000, 'three ChannelData frames');
    expect(frames.slice(3)).toEqual([
      Buffer.from([0x40, 0x00, 0x00, 0x05, ...Buffer.from('hello'), 0, 0, 0]),
      Buffer.from([0x40, 0x00, 0x00, 0x07, ...Buffer.from('1234567'), 0]),
      Buffer.from([0x40, 0x00, 0x00, 0x04, ...Buffer.from('abcd')]),
    ]);
    expect(client.counters).toEqual({ sent: 3, received: 0, malformed: 0 });
  });

  it('sends a 1500-byte datagram whole over TCP', async () => {
    const { client, frames } = await overTcp();
    await client.allocate();
    await client.bind(PEER);
    const large = Buffer.alloc(1500, 0xa5);
    const odd = Buffer.alloc(1497, 0x5a);
    client.send(PEER, large);
    client.send(PEER, odd);
    await waitFor(() => frames.length === 3 + 2, 2000, 'two ChannelData frames');
    expect(frames[3]).toEqual(Buffer.concat([Buffer.from([0x40, 0x00, 0x05, 0xdc]), large]));
    expect(frames[4]).toEqual(Buffer.concat([Buffer.from([0x40, 0x00, 0x05, 0xd9]), odd, Buffer.alloc(3)]));
  });

  it('reads the stream: frames together in one segment, split across segments, padded, and a STUN message of any method', async () => {
    const { client, connections, relayed, lost } = await overTcp();
    await client.allocate();
    await client.bind(PEER);
    await client.bind(PEER6);
    const [connection] = connections as [TcpSocket];
    const id = Buffer.alloc(12, 3);
    // First byte 0x03 (method 0x080): STUN all the same, answered to nothing of ours.
    const unusual = buildStun({ method: 0x080, cls: 'success', transactionId: id, fingerprint: true });
    expect(unusual[0]).toBe(0x03);
    const data = buildStun({ method: STUN_METHOD.data, cls: 'indication', transactionId: id, attributes: [{ type: T.xorPeerAddress, value: encodeXorAddress(PEER, id) }, { type: T.data, value: Buffer.from('indicated') }] });
    const large = Buffer.alloc(1500, 0x77);
    connection.write(
      Buffer.concat([
        Buffer.from([0x40, 0x00, 0x00, 0x03, 1, 2, 3, 0]),
        Buffer.from([0x40, 0x01, 0x00, 0x04, 4, 5, 6, 7]),
        unusual,
        data,
        Buffer.from([0x40, 0x00, 0x00, 0x00]),
        Buffer.from([0x40, 0x00, 0x05, 0xdc]),
        large,
        Buffer.from([0x40, 0x01, 0x00, 0x01, 8]),
      ]),
    );
    await waitFor(() => relayed.length === 5, 2000, 'five datagrams');
    // The last frame is not whole yet (its padding is missing): kept until it is.
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(relayed).toHaveLength(5);
    connection.write(Buffer.from([0, 0, 0]));
    await waitFor(() => relayed.length === 6, 2000, 'the sixth datagram');
    // A frame split in three segments.
    connection.write(Buffer.from([0x40, 0x00]));
    await new Promise((resolve) => setTimeout(resolve, 30));
    connection.write(Buffer.from([0x00, 0x02, 9]));
    await new Promise((resolve) => setTimeout(resolve, 30));
    connection.write(Buffer.from([10, 0, 0]));
    await waitFor(() => relayed.length === 7, 2000, 'the seventh datagram');
    // An empty ChannelData alone: 4 bytes, a whole frame.
    connection.write(Buffer.from([0x40, 0x01, 0x00, 0x00]));
    await waitFor(() => relayed.length === 8, 2000, 'the eighth datagram');
    expect(relayed).toEqual([
      { data: Buffer.from([1, 2, 3]), peer: PEER },
      { data: Buffer.from([4, 5, 6, 7]), peer: PEER6 },
      { data: Buffer.from('indicated'), peer: PEER },
      { data: Buffer.alloc(0), peer: PEER },
      { data: large, peer: PEER },
      { data: Buffer.from([8]), peer: PEER6 },
      { data: Buffer.from([9, 10]), peer: PEER },
      { data: Buffer.alloc(0), peer: PEER6 },
    ]);
    expect(client.counters).toEqual({ sent: 0, received: 8, malformed: 0 });
    expect(lost).toEqual([]);
  });

  it('gives up the stream at a frame it does not know: counted, the connection closed, and the loss told', async () => {
    const { client, connections, relayed, lost, server, closed } = await overTcp();
    await client.allocate();
    await client.bind(PEER);
    const [connection] = connections as [TcpSocket];
    connection.write(Buffer.concat([Buffer.from([0x40, 0x00, 0x00, 0x01, 1, 0, 0, 0]), Buffer.from([0x50, 0x00, 0x00, 0x01, 2, 0, 0, 0]), Buffer.from([0x40, 0x00, 0x00, 0x01, 3, 0, 0, 0])]));
    await waitFor(() => lost.length === 1 && closed() === 1, 2000, 'the connection closed');
    expect(lost).toEqual([`the TCP connection to the TURN server 127.0.0.1:${server.port} (tcp) closed`]);
    expect(relayed).toEqual([{ data: Buffer.from([1]), peer: PEER }]);
    expect(client.counters).toEqual({ sent: 0, received: 1, malformed: 1 });
  });

  it('says when the server closes the connection', async () => {
    const { client, connections, lost, server } = await overTcp();
    await client.allocate();
    connections[0]!.destroy();
    await waitFor(() => lost.length === 1, 2000, 'the loss');
    expect(lost).toEqual([`the TCP connection to the TURN server 127.0.0.1:${server.port} (tcp) closed`]);
  });

  it('takes a reset connection as a loss (the socket error is handled)', async () => {
    const { client, connections, lost, server } = await overTcp();
    await client.allocate();
    connections[0]!.resetAndDestroy();
    await waitFor(() => lost.length === 1, 2000, 'the loss');
    expect(lost).toEqual([`the TCP connection to the TURN server 127.0.0.1:${server.port} (tcp) closed`]);
  });

  it('on close, sends the Refresh with LIFETIME 0 on the connection, then closes it without telling a loss', async () => {
    const { client, script, frames, lost, closed } = await overTcp();
    await client.allocate();
    client.close();
    await waitFor(() => closed() === 1, 2000, 'the connection closed');
    for (let turn = 0; turn < 10; turn++) await settle();
    expect(frames).toHaveLength(3);
    const refresh = parseStun(frames[2]!) as StunMessage;
    expect(refresh.method).toBe(STUN_METHOD.refresh);
    expectSigned(refresh, [T.lifetime]);
    expect(readUint32(stunAttribute(refresh, T.lifetime))).toBe(0);
    expect(script.requests).toHaveLength(3);
    expect(lost).toEqual([]);
  });

  it('says when the connection is refused, leaving no timer behind', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate', 'Date', 'hrtime', 'performance'] });
    const closedPort = port();
    const client = new TurnClient({ server: { address: '127.0.0.1', port: closedPort }, username: USER, password: PASSWORD, transport: 'tcp', onRelayed: () => undefined });
    clients.push(client);
    await expect(client.allocate()).rejects.toThrow(new IceError(`cannot connect to the TURN server 127.0.0.1:${closedPort} (tcp): connect ECONNREFUSED 127.0.0.1:${closedPort}`));
    expect(jest.getTimerCount()).toBe(0);
  });

  it('before its connection, a request over TCP goes nowhere and times out', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate', 'Date', 'hrtime', 'performance'] });
    const closedPort = port();
    const client = new TurnClient({ server: { address: '127.0.0.1', port: closedPort }, username: USER, password: PASSWORD, transport: 'tcp', onRelayed: () => undefined });
    clients.push(client);
    let outcome: unknown;
    const binding = client.bind(PEER).catch((error: unknown) => (outcome = error));
    await jest.advanceTimersByTimeAsync(4999);
    expect(outcome).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1);
    await binding;
    expect(outcome).toEqual(new IceError(`no STUN answer from 127.0.0.1:${closedPort} after 1 attempts`));
    expect(client.bound(PEER)).toBe(false);
  });

  it('gives the connection 5 s', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate', 'Date', 'hrtime', 'performance'] });
    const closedPort = port();
    const client = new TurnClient({ server: { address: '127.0.0.1', port: closedPort }, username: USER, password: PASSWORD, transport: 'tcp', onRelayed: () => undefined });
    clients.push(client);
    let outcome: unknown;
    const allocation = client.allocate().catch((error: unknown) => (outcome = error));
    // Synchronously, before any I/O: the connection cannot have been made or refused yet.
    jest.advanceTimersByTime(4999);
    await Promise.resolve();
    expect(outcome).toBeUndefined();
    jest.advanceTimersByTime(1);
    await allocation;
    expect(outcome).toEqual(new IceError(`no TCP connection to the TURN server 127.0.0.1:${closedPort} (tcp) within 5 s`));
  });

  it('over TCP, asks once and waits 5 s for the answer; a connection made stays open past 5 s', async () => {
    const script = new Script();
    script.override = () => [];
    const { client, lost, server, closed } = await overTcp(script);
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate', 'Date', 'hrtime', 'performance'] });
    let outcome: unknown;
    const allocation = client.allocate().catch((error: unknown) => (outcome = error));
    const deadline = Date.now() + 2000;
    while (script.requests.length === 0 && Date.now() < deadline) await settle();
    expect(script.requests).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(4999);
    expect(outcome).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1);
    await allocation;
    expect(outcome).toEqual(new IceError(`no STUN answer from 127.0.0.1:${server.port} after 1 attempts`));
    expect(script.requests).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(10_000);
    // A connection destroyed would tell its loss within a few turns of the event loop.
    for (let turn = 0; turn < 10; turn++) await settle();
    expect(closed()).toBe(0);
    expect(lost).toEqual([]);
  });
});

describe('TurnClient over TLS against a scripted server (RFC 8656 3.1)', () => {
  let certificates: TestCertificates;
  const servers: { listener: Server; connections: TcpSocket[] }[] = [];
  const clients: TurnClient[] = [];
  beforeAll(() => {
    certificates = makeTestCertificates(['127.0.0.1']);
  }, 20_000);
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const { listener, connections } of servers.splice(0)) {
      for (const connection of connections) connection.destroy();
      await new Promise((resolve) => listener.close(resolve));
    }
    jest.useRealTimers();
  });

  async function overTls(trusted: boolean): Promise<Harness & Awaited<ReturnType<typeof tcpServer>>> {
    const script = new Script();
    const tls = await tcpServer(script, certificates);
    servers.push(tls);
    const relayed: Harness['relayed'] = [];
    const lost: string[] = [];
    const client = new TurnClient({
      server: tls.address,
      username: USER,
      password: PASSWORD,
      transport: 'tls',
      tls: trusted ? { ca: readFileSync(certificates.caCertificate) } : {},
      onRelayed: (data, length, peer) => relayed.push({ data: Buffer.from(data.subarray(0, length)), peer }),
      onLost: (reason) => lost.push(reason),
    });
    clients.push(client);
    return { ...tls, client, script, server: tls.address, relayed, lost };
  }

  it('allocates once the certificate is checked, frames as over TCP, and tells a closed connection as TLS', async () => {
    const { client, script, frames, connections, relayed, lost, server } = await overTls(true);
    expect(client.transport).toBe('tls');
    await expect(client.allocate()).resolves.toEqual({ relayed: RELAYED, mapped: script.mapped, lifetime: 600 });
    await client.bind(PEER);
    client.send(PEER, Buffer.from('hello'));
    await waitFor(() => frames.length === 4, 2000, 'the ChannelData frame');
    expect(frames[3]).toEqual(Buffer.from([0x40, 0x00, 0x00, 0x05, ...Buffer.from('hello'), 0, 0, 0]));
    connections[0]!.write(Buffer.from([0x40, 0x00, 0x00, 0x02, 1, 2, 0, 0]));
    await waitFor(() => relayed.length === 1, 2000, 'the relayed datagram');
    expect(relayed).toEqual([{ data: Buffer.from([1, 2]), peer: PEER }]);
    connections[0]!.destroy();
    await waitFor(() => lost.length === 1, 2000, 'the loss');
    expect(lost).toEqual([`the TLS connection to the TURN server 127.0.0.1:${server.port} (tls) closed`]);
  });

  it('refuses a server whose certificate it does not trust, before any request', async () => {
    const { client, script, server } = await overTls(false);
    const error = await client.allocate().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IceError);
    expect((error as IceError).message).toMatch(new RegExp(`^cannot connect to the TURN server 127\\.0\\.0\\.1:${server.port} \\(tls\\): .*certificate`));
    expect(script.requests).toEqual([]);
  });

  it('gives the TLS connection 5 s', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate', 'Date', 'hrtime', 'performance'] });
    const closedPort = port();
    const client = new TurnClient({ server: { address: '127.0.0.1', port: closedPort }, username: USER, password: PASSWORD, transport: 'tls', onRelayed: () => undefined });
    clients.push(client);
    let outcome: unknown;
    const allocation = client.allocate().catch((error: unknown) => (outcome = error));
    jest.advanceTimersByTime(5000);
    await allocation;
    expect(outcome).toEqual(new IceError(`no TLS connection to the TURN server 127.0.0.1:${closedPort} (tls) within 5 s`));
  });

  it('closed while its TLS handshake waits (the server never answers the ClientHello): the allocation fails at once, the connection closed before it was open', async () => {
    const held: TcpSocket[] = [];
    const silent = createServer((socket) => {
      held.push(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port: silentPort } = silent.address() as { port: number };
      const client = new TurnClient({ server: { address: '127.0.0.1', port: silentPort }, username: USER, password: PASSWORD, transport: 'tls', onRelayed: () => undefined });
      const allocation = client.allocate().then(
        () => undefined,
        (error: unknown) => error,
      );
      await waitFor(() => held.length === 1, 2000, 'the TCP connection');
      client.close();
      expect(await allocation).toEqual(new IceError(`the connection to the TURN server 127.0.0.1:${silentPort} (tls) closed before it was open`));
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });

  it('without onLost, a lost connection just ends the allocation (nothing thrown)', async () => {
    const tcp = await tcpServer(new Script());
    servers.push(tcp);
    const client = new TurnClient({ server: tcp.address, username: USER, password: PASSWORD, transport: 'tcp', onRelayed: () => undefined });
    clients.push(client);
    await client.allocate();
    tcp.connections[0]!.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(client.counters.malformed).toBe(0);
  });
});
