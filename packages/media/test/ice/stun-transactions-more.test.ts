import {
  buildStun,
  checkStunFingerprint,
  encodeXorAddress,
  errorCodeAttribute,
  IceError,
  parseStun,
  STUN_ATTRIBUTE,
  STUN_METHOD,
  stunBinding,
  StunTransactions,
  type StunAddress,
  type StunAttribute,
  type StunMessage,
} from '@sip-endpoint/media';
import { workerPorts } from '../support/ports';

/*
 * StunTransactions driven directly (its contract: a send callback, and handle() for what came
 * back): the exact retransmission schedule on jest's clock, and which answers are taken, from
 * where, with which checks. The "server" is the test, answering with the package's builder.
 */

const ports = workerPorts(10);
const SERVER: StunAddress = { address: '127.0.0.1', port: ports.acquire() };
const key = Buffer.from('the password');

interface Sent {
  data: Buffer;
  to: StunAddress;
  at: number;
}

/** Transactions whose datagrams are recorded (with the fake clock's time), not sent. */
function recorded(): { transactions: StunTransactions; sent: Sent[] } {
  const sent: Sent[] = [];
  const transactions = new StunTransactions((data, to) => sent.push({ data: Buffer.from(data), to, at: Date.now() }));
  return { transactions, sent };
}

const parsed = (data: Uint8Array): StunMessage => {
  const message = parseStun(data);
  if ('malformed' in message) throw new Error(message.malformed);
  return message;
};

/** An answer to the request in `data`, as the transactions would receive it. */
function answerTo(data: Uint8Array, cls: 'success' | 'error' | 'request' | 'indication', attributes: StunAttribute[] = [], options: { integrityKey?: Uint8Array; fingerprint?: boolean } = {}): StunMessage {
  const request = parsed(data);
  return parsed(buildStun({ method: request.method, cls, transactionId: request.transactionId, attributes, fingerprint: options.fingerprint ?? true, ...(options.integrityKey ? { integrityKey: options.integrityKey } : {}) }));
}

describe('STUN transactions: the retransmission schedule (RFC 8489 6.2.1), on a fake clock', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** Runs the clock to the end of a request that gets no answer; the times of its sends and of its failure. */
  async function schedule(options: { attempts?: number; rtoMs?: number }): Promise<{ sends: number[]; failedAt: number; error: unknown; transactions: StunTransactions }> {
    const { transactions, sent } = recorded();
    const started = Date.now();
    let failedAt = -1;
    let error: unknown;
    const request = transactions.request(SERVER, { method: STUN_METHOD.binding }, options).catch((caught: unknown) => {
      failedAt = Date.now() - started;
      error = caught;
    });
    // From timer to timer: the clock stops at each, so the times are exact.
    for (let timers = 0; timers < 20 && failedAt < 0; timers++) await jest.advanceTimersToNextTimerAsync();
    await request;
    expect(new Set(sent.map((each) => each.data.toString('hex'))).size).toBe(1);
    expect(sent.every((each) => each.to === SERVER)).toBe(true);
    return { sends: sent.map((each) => each.at - started), failedAt, error, transactions };
  }

  it('by default: 7 attempts, from 250 ms doubling up to 1.6 s, and 1.6 s for the last answer', async () => {
    const { sends, failedAt, error, transactions } = await schedule({});
    expect(sends).toEqual([0, 250, 750, 1750, 3350, 4950, 6550]);
    expect(failedAt).toBe(8150);
    expect(error).toEqual(new IceError(`no STUN answer from 127.0.0.1:${SERVER.port} after 7 attempts`));
    expect(transactions.counters).toEqual({ requests: 1, retransmissions: 6, timeouts: 1, badIntegrity: 0, badFingerprint: 0, unmatched: 0 });
  });

  it('from the first timeout asked', async () => {
    const { sends, failedAt } = await schedule({ attempts: 3, rtoMs: 100 });
    expect(sends).toEqual([0, 100, 300]);
    expect(failedAt).toBe(700);
  });

  it('keeps a first timeout longer than 1.6 s (TURN over TCP waits 5 s for its one try)', async () => {
    expect(await schedule({ attempts: 1, rtoMs: 5000 })).toMatchObject({ sends: [0], failedAt: 5000 });
    expect(await schedule({ attempts: 2, rtoMs: 2000 })).toMatchObject({ sends: [0, 2000], failedAt: 4000 });
    expect(await schedule({ attempts: 3, rtoMs: 1000 })).toMatchObject({ sends: [0, 1000, 2600], failedAt: 4200 });
  });

  it('sends through the request\'s own `send` when given, retransmissions too', async () => {
    const { transactions, sent } = recorded();
    const relayed: StunAddress[] = [];
    const request = transactions.request(SERVER, { method: STUN_METHOD.binding }, { attempts: 2, rtoMs: 100, send: (_, to) => relayed.push(to) }).catch((error: unknown) => error);
    await jest.advanceTimersByTimeAsync(300);
    await expect(request).resolves.toEqual(new IceError(`no STUN answer from 127.0.0.1:${SERVER.port} after 2 attempts`));
    expect(relayed).toEqual([SERVER, SERVER]);
    expect(sent).toEqual([]);
    expect(transactions.counters).toMatchObject({ requests: 1, retransmissions: 1, timeouts: 1 });
  });

  it('stops retransmitting once answered, and leaves no timer', async () => {
    const { transactions, sent } = recorded();
    const request = transactions.request(SERVER, { method: STUN_METHOD.binding }, { attempts: 5, rtoMs: 100 });
    await jest.advanceTimersByTimeAsync(100);
    expect(sent).toHaveLength(2);
    const success = answerTo(sent[0]!.data, 'success');
    expect(transactions.handle(success, SERVER)).toBe(true);
    await expect(request).resolves.toBe(success);
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(sent).toHaveLength(2);
    expect(transactions.counters).toEqual({ requests: 1, retransmissions: 1, timeouts: 0, badIntegrity: 0, badFingerprint: 0, unmatched: 0 });
  });

  it('close rejects what is pending and leaves no timer', async () => {
    const { transactions, sent } = recorded();
    const first = transactions.request(SERVER, { method: STUN_METHOD.binding });
    const second = transactions.request(SERVER, { method: STUN_METHOD.binding });
    transactions.close();
    await expect(first).rejects.toThrow(new IceError('the STUN transactions were closed'));
    await expect(second).rejects.toThrow(new IceError('the STUN transactions were closed'));
    expect(jest.getTimerCount()).toBe(0);
    // A late answer is nobody's.
    expect(transactions.handle(answerTo(sent[0]!.data, 'success'), SERVER)).toBe(false);
    expect(transactions.counters).toMatchObject({ requests: 2, timeouts: 0, unmatched: 1 });
  });
});

describe('STUN transactions: which answers are taken', () => {
  const pending: StunTransactions[] = [];
  afterEach(() => {
    for (const transactions of pending.splice(0)) transactions.close();
  });

  function start(to: StunAddress = SERVER, options: { integrityKey?: Uint8Array } = {}): { transactions: StunTransactions; sent: Sent[]; settled: () => StunMessage | undefined; request: Promise<StunMessage> } {
    const { transactions, sent } = recorded();
    pending.push(transactions);
    let result: StunMessage | undefined;
    const request = transactions.request(to, { method: STUN_METHOD.binding, fingerprint: true }, options);
    request.then(
      (message) => (result = message),
      () => undefined,
    );
    return { transactions, sent, settled: () => result, request };
  }

  it('takes only success and error answers: a request or an indication with our id is not one', async () => {
    const { transactions, sent, request } = start();
    expect(transactions.handle(answerTo(sent[0]!.data, 'request'), SERVER)).toBe(false);
    expect(transactions.handle(answerTo(sent[0]!.data, 'indication'), SERVER)).toBe(false);
    expect(transactions.counters.unmatched).toBe(0);
    const error = answerTo(sent[0]!.data, 'error', [errorCodeAttribute(400, 'Bad Request')]);
    expect(transactions.handle(error, SERVER)).toBe(true);
    await expect(request).resolves.toBe(error);
    // The same answer again: its request is done.
    expect(transactions.handle(error, SERVER)).toBe(false);
    expect(transactions.counters).toMatchObject({ unmatched: 1, badFingerprint: 0, badIntegrity: 0 });
  });

  it('takes an answer only from the address asked: the same port on another address is not it', async () => {
    const { transactions, sent, settled, request } = start();
    const success = answerTo(sent[0]!.data, 'success');
    expect(transactions.handle(success, { address: '127.0.0.2', port: SERVER.port })).toBe(false);
    expect(transactions.handle(success, { address: '127.0.0.1', port: SERVER.port + 1 })).toBe(false);
    expect(transactions.counters.unmatched).toBe(2);
    await Promise.resolve();
    expect(settled()).toBeUndefined();
    // An IPv4-mapped IPv6 address is the same address.
    expect(transactions.handle(success, { address: `::ffff:127.0.0.1`, port: SERVER.port })).toBe(true);
    await expect(request).resolves.toBe(success);
  });

  it('compares IPv6 addresses whatever their case', async () => {
    const { transactions, sent, request } = start({ address: 'FE80::1', port: SERVER.port });
    const success = answerTo(sent[0]!.data, 'success');
    expect(transactions.handle(success, { address: 'fe80::2', port: SERVER.port })).toBe(false);
    expect(transactions.handle(success, { address: 'fe80::1', port: SERVER.port })).toBe(true);
    await expect(request).resolves.toBe(success);
  });

  it('takes an answer without FINGERPRINT, and drops one whose FINGERPRINT is wrong', async () => {
    const first = start();
    const plain = answerTo(first.sent[0]!.data, 'success', [], { fingerprint: false });
    expect(plain.fingerprintOffset).toBe(-1);
    expect(first.transactions.handle(plain, SERVER)).toBe(true);
    await expect(first.request).resolves.toBe(plain);
    const second = start();
    const good = answerTo(second.sent[0]!.data, 'success');
    const raw = Buffer.from(good.raw);
    raw[raw.length - 1] = raw[raw.length - 1]! ^ 1;
    expect(second.transactions.handle(parsed(raw), SERVER)).toBe(false);
    expect(second.transactions.counters).toMatchObject({ badFingerprint: 1, unmatched: 0 });
    expect(second.transactions.handle(good, SERVER)).toBe(true);
  });

  it('with a key: a success must carry MESSAGE-INTEGRITY that checks; an error may come without it, not with a wrong one', async () => {
    const signed = start(SERVER, { integrityKey: key });
    const data = signed.sent[0]!.data;
    const unsignedSuccess = answerTo(data, 'success');
    const forgedSuccess = answerTo(data, 'success', [], { integrityKey: Buffer.from('forged') });
    const forgedError = answerTo(data, 'error', [errorCodeAttribute(401, 'Unauthorized')], { integrityKey: Buffer.from('forged') });
    expect(signed.transactions.handle(unsignedSuccess, SERVER)).toBe(false);
    expect(signed.transactions.handle(forgedSuccess, SERVER)).toBe(false);
    expect(signed.transactions.handle(forgedError, SERVER)).toBe(false);
    expect(signed.transactions.counters).toMatchObject({ badIntegrity: 3, badFingerprint: 0, unmatched: 0 });
    const unsignedError = answerTo(data, 'error', [errorCodeAttribute(401, 'Unauthorized')]);
    expect(signed.transactions.handle(unsignedError, SERVER)).toBe(true);
    await expect(signed.request).resolves.toBe(unsignedError);

    const again = start(SERVER, { integrityKey: key });
    const right = answerTo(again.sent[0]!.data, 'success', [], { integrityKey: key });
    expect(again.transactions.handle(right, SERVER)).toBe(true);
    await expect(again.request).resolves.toBe(right);
    expect(again.transactions.counters.badIntegrity).toBe(0);
  });

  it('without a key, an answer\'s MESSAGE-INTEGRITY is not checked', async () => {
    const { transactions, sent, request } = start();
    const signed = answerTo(sent[0]!.data, 'success', [], { integrityKey: Buffer.from('anything') });
    expect(transactions.handle(signed, SERVER)).toBe(true);
    await expect(request).resolves.toBe(signed);
  });
});

describe('stunBinding', () => {
  /** Transactions that answer each Binding request with what `answer` makes of it, a microtask later. */
  function answering(answer: (request: StunMessage) => StunMessage): { transactions: StunTransactions; requests: StunMessage[] } {
    const requests: StunMessage[] = [];
    const transactions: StunTransactions = new StunTransactions((data, to) => {
      const request = parsed(Buffer.from(data));
      requests.push(request);
      queueMicrotask(() => transactions.handle(answer(request), to));
    });
    return { transactions, requests };
  }
  const reply = (request: StunMessage, cls: 'success' | 'error', attributes: StunAttribute[]): StunMessage => answerTo(request.raw, cls, attributes);
  const us: StunAddress = { address: '192.0.2.7', port: 40_000 };
  const mappedAddress = (address: StunAddress): StunAttribute => ({ type: STUN_ATTRIBUTE.mappedAddress, value: Buffer.from([0, 1, address.port >> 8, address.port & 0xff, ...address.address.split('.').map(Number)]) });

  it('asks a Binding with FINGERPRINT and reads XOR-MAPPED-ADDRESS, before MAPPED-ADDRESS', async () => {
    const { transactions, requests } = answering((request) => reply(request, 'success', [mappedAddress({ address: '198.51.100.1', port: 1 }), { type: STUN_ATTRIBUTE.xorMappedAddress, value: encodeXorAddress(us, request.transactionId) }]));
    await expect(stunBinding(transactions, SERVER)).resolves.toEqual(us);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method: STUN_METHOD.binding, cls: 'request', attributes: [] });
    expect(checkStunFingerprint(requests[0]!)).toBe(true);
  });

  it('reads MAPPED-ADDRESS from an old server', async () => {
    const { transactions } = answering((request) => reply(request, 'success', [mappedAddress(us)]));
    await expect(stunBinding(transactions, SERVER)).resolves.toEqual(us);
  });

  it('says when the answer names no address', async () => {
    const { transactions } = answering((request) => reply(request, 'success', []));
    await expect(stunBinding(transactions, SERVER)).rejects.toThrow(new IceError(`the STUN server 127.0.0.1:${SERVER.port} answered without a mapped address`));
  });

  it.each([
    ['without ERROR-CODE', [], 'answered ?', undefined],
    ['without a reason', [errorCodeAttribute(400, '')], 'answered 400', 400],
  ] as const)('says what an error answer %s was', async (_, attributes, said, code) => {
    const { transactions } = answering((request) => reply(request, 'error', [...attributes]));
    const error = await stunBinding(transactions, SERVER).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IceError);
    expect(error).toMatchObject({ message: `the STUN server 127.0.0.1:${SERVER.port} ${said}`, stunCode: code });
  });

  it('passes its options on: with a key, a forged answer is not taken', async () => {
    const { transactions } = answering((request) => answerTo(request.raw, 'success', [{ type: STUN_ATTRIBUTE.xorMappedAddress, value: encodeXorAddress(us, request.transactionId) }], { integrityKey: Buffer.from('forged') }));
    await expect(stunBinding(transactions, SERVER, { integrityKey: key, attempts: 2, rtoMs: 20 })).rejects.toThrow(new IceError(`no STUN answer from 127.0.0.1:${SERVER.port} after 2 attempts`));
    expect(transactions.counters).toMatchObject({ requests: 1, retransmissions: 1, badIntegrity: 2, timeouts: 1 });
  });
});
