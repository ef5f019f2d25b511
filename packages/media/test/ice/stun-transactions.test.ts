import { createSocket, type Socket } from 'node:dgram';
import { buildStun, decodeErrorCode, IceError, isStun, longTermKey, parseStun, STUN_ATTRIBUTE, STUN_METHOD, stunAttribute, stunBinding, StunTransactions, textAttribute, encodeXorAddress, type StunAddress } from '@sip-endpoint/media';
import { Coturn, peerAvailable } from '@sip-endpoint/test-support';

/** A UDP socket whose STUN answers go to `transactions` (as an RTP session's STUN handler does). */
async function client(): Promise<{ socket: Socket; transactions: StunTransactions; local: StunAddress }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const transactions = new StunTransactions((data, to) => socket.send(data, to.port, to.address));
  socket.on('message', (data, from) => {
    if (!isStun(data)) return;
    const message = parseStun(data);
    if (!('malformed' in message)) transactions.handle(message, from);
  });
  return { socket, transactions, local: { address: '127.0.0.1', port: socket.address().port } };
}

/** A fake server that answers each request with what `answer` makes of it (or nothing). */
async function fakeServer(answer: (request: ReturnType<typeof parseStun> & { transactionId: Uint8Array }, from: StunAddress) => Buffer[]): Promise<{ socket: Socket; address: StunAddress; requests: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const server = { socket, address: { address: '127.0.0.1', port: socket.address().port }, requests: 0 };
  socket.on('message', (data, from) => {
    const request = parseStun(data);
    if ('malformed' in request) return;
    server.requests++;
    for (const reply of answer(request, from)) socket.send(reply, from.port, from.address);
  });
  return server;
}

describe('STUN transactions (RFC 8489 6.2.1)', () => {
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  it('retransmits with a doubling timeout and gives up with IceError after the attempts', async () => {
    const { socket, transactions } = await client();
    const silent = await fakeServer(() => []);
    sockets.push(socket, silent.socket);
    const started = Date.now();
    await expect(transactions.request(silent.address, { method: STUN_METHOD.binding }, { attempts: 3, rtoMs: 50 })).rejects.toThrow(new IceError(`no STUN answer from 127.0.0.1:${silent.address.port} after 3 attempts`));
    // 50 + 100 + 200 ms at least.
    expect(Date.now() - started).toBeGreaterThanOrEqual(340);
    expect(silent.requests).toBe(3);
    expect(transactions.counters).toMatchObject({ requests: 1, retransmissions: 2, timeouts: 1 });
  });

  it('drops an answer whose MESSAGE-INTEGRITY fails (counted) and takes the good one that follows', async () => {
    const { socket, transactions, local } = await client();
    const key = Buffer.from('the right password');
    const server = await fakeServer((request) => {
      const answer = (integrityKey: Buffer) => buildStun({ method: STUN_METHOD.binding, cls: 'success', transactionId: request.transactionId, attributes: [{ type: STUN_ATTRIBUTE.xorMappedAddress, value: encodeXorAddress(local, request.transactionId) }], integrityKey, fingerprint: true });
      return [answer(Buffer.from('a forger without the password')), answer(key)];
    });
    sockets.push(socket, server.socket);
    const answer = await transactions.request(server.address, { method: STUN_METHOD.binding }, { integrityKey: key });
    expect(answer.cls).toBe('success');
    expect(transactions.counters).toMatchObject({ badIntegrity: 1, timeouts: 0 });
  });

  it('drops an answer with a bad FINGERPRINT, one from another address, and one for no request of ours', async () => {
    const { socket, transactions, local } = await client();
    const other = createSocket('udp4');
    await new Promise<void>((resolve) => other.bind(0, '127.0.0.1', resolve));
    const server = await fakeServer((request) => {
      const good = buildStun({ method: STUN_METHOD.binding, cls: 'success', transactionId: request.transactionId, attributes: [{ type: STUN_ATTRIBUTE.xorMappedAddress, value: encodeXorAddress(local, request.transactionId) }], fingerprint: true });
      const badFingerprint = Buffer.from(good);
      badFingerprint[badFingerprint.length - 1] = badFingerprint[badFingerprint.length - 1]! ^ 0xff;
      other.send(good, local.port, '127.0.0.1'); // right id, wrong source
      const stranger = buildStun({ method: STUN_METHOD.binding, cls: 'success', fingerprint: true });
      // The good one last, a little later, so that the others are seen first.
      setTimeout(() => server.socket.send(good, local.port, '127.0.0.1'), 100);
      return [badFingerprint, stranger];
    });
    sockets.push(socket, server.socket, other);
    await expect(stunBinding(transactions, server.address, { attempts: 1, rtoMs: 1000 })).resolves.toEqual(local);
    expect(transactions.counters).toMatchObject({ badFingerprint: 1, unmatched: 2 });
  });

  it('rejects pending requests when closed, and new ones after', async () => {
    const { socket, transactions } = await client();
    const silent = await fakeServer(() => []);
    sockets.push(socket, silent.socket);
    const pending = transactions.request(silent.address, { method: STUN_METHOD.binding });
    transactions.close();
    await expect(pending).rejects.toThrow('the STUN transactions were closed');
    await expect(transactions.request(silent.address, { method: STUN_METHOD.binding })).rejects.toThrow('the STUN transactions are closed');
  });

  it('turns an error answer into an IceError with its code', async () => {
    const { socket, transactions } = await client();
    const server = await fakeServer((request) => [buildStun({ method: STUN_METHOD.binding, cls: 'error', transactionId: request.transactionId, attributes: [{ type: STUN_ATTRIBUTE.errorCode, value: Buffer.from([0, 0, 4, 20, ...Buffer.from('Unknown Attribute')]) }] })]);
    sockets.push(socket, server.socket);
    const error = await stunBinding(transactions, server.address).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IceError);
    expect(error).toMatchObject({ code: 'ERR_MEDIA_ICE_FAILED', stunCode: 420, message: `the STUN server 127.0.0.1:${server.address.port} answered 420 Unknown Attribute` });
  });
});

const describeCoturn = peerAvailable('turnserver') ? describe : describe.skip;

describeCoturn('against coturn (Debian turnserver)', () => {
  let coturn: Coturn;
  beforeAll(async () => {
    coturn = await Coturn.start({ users: { alice: 'secret' } });
  }, 20_000);
  afterAll(async () => {
    await coturn?.stop();
  });

  it('Binding: coturn sees us at our own address on the loopback (no NAT), with a FINGERPRINT that checks', async () => {
    const { socket, transactions, local } = await client();
    try {
      await expect(stunBinding(transactions, { address: coturn.address, port: coturn.port })).resolves.toEqual(local);
      expect(transactions.counters).toMatchObject({ requests: 1, badFingerprint: 0, unmatched: 0 });
    } finally {
      socket.close();
    }
  });

  it('Allocate: 401 with a realm and nonce first, then the long-term credentials are taken, with integrity checked both ways', async () => {
    const { socket, transactions } = await client();
    try {
      const server = { address: coturn.address, port: coturn.port };
      const transport = { type: STUN_ATTRIBUTE.requestedTransport, value: Buffer.from([17, 0, 0, 0]) };
      const first = await transactions.request(server, { method: STUN_METHOD.allocate, attributes: [transport] });
      expect(first.cls).toBe('error');
      expect(decodeErrorCode(stunAttribute(first, STUN_ATTRIBUTE.errorCode))?.code).toBe(401);
      const realm = Buffer.from(stunAttribute(first, STUN_ATTRIBUTE.realm)!).toString();
      const nonce = Buffer.from(stunAttribute(first, STUN_ATTRIBUTE.nonce)!).toString();
      expect(realm).toBe('sep.test');
      const key = longTermKey('alice', realm, 'secret');
      const attributes = [transport, textAttribute(STUN_ATTRIBUTE.username, 'alice'), textAttribute(STUN_ATTRIBUTE.realm, realm), textAttribute(STUN_ATTRIBUTE.nonce, nonce)];
      const allocated = await transactions.request(server, { method: STUN_METHOD.allocate, attributes, integrityKey: key, fingerprint: true }, { integrityKey: key });
      expect(allocated.cls).toBe('success');
      expect(stunAttribute(allocated, STUN_ATTRIBUTE.xorRelayedAddress)).toBeDefined();
      // The wrong password: coturn refuses it (401 again).
      const wrong = await transactions.request(server, { method: STUN_METHOD.allocate, attributes, integrityKey: longTermKey('alice', realm, 'wrong'), fingerprint: true });
      expect(decodeErrorCode(stunAttribute(wrong, STUN_ATTRIBUTE.errorCode))?.code).toBeGreaterThanOrEqual(400);
    } finally {
      socket.close();
    }
  });
});
