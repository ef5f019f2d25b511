import { IceError } from './ice-error';
import { buildStun, checkStunFingerprint, checkStunIntegrity, decodeErrorCode, decodeMappedAddress, decodeXorAddress, STUN_ATTRIBUTE, STUN_METHOD, stunAttribute, type StunAddress, type StunMessage, type StunMessageFields } from './stun';

/** Counters of a {@link StunTransactions}: what was sent, and what came back that was not used. @public */
export interface StunTransactionCounters {
  requests: number;
  retransmissions: number;
  timeouts: number;
  /** Answers whose MESSAGE-INTEGRITY did not check: dropped as if never received (RFC 8489 6.3.4). */
  badIntegrity: number;
  /** Answers with a FINGERPRINT that did not check. */
  badFingerprint: number;
  /** Answers to no request of ours, or from another address than the one asked. */
  unmatched: number;
}

/** Options of one request. @public */
export interface StunRequestOptions {
  /** Checks the answer's MESSAGE-INTEGRITY with this key; an answer that fails is dropped and counted. */
  integrityKey?: Uint8Array;
  /** Attempts before giving up (RFC 8489's Rc is 7; connectivity checks use fewer). @defaultValue 7 */
  attempts?: number;
  /** First retransmission timeout, doubled at each attempt up to 1.6 s (a longer first one is kept: TCP's single try). @defaultValue 250 */
  rtoMs?: number;
  /** Sends this request (and its retransmissions) another way than the transactions' own (through a TURN relay). */
  send?: (data: Uint8Array, to: StunAddress) => void;
}

interface Pending {
  to: StunAddress;
  data: Uint8Array;
  options: StunRequestOptions;
  resolve: (message: StunMessage) => void;
  reject: (error: IceError) => void;
  timer: NodeJS.Timeout;
  attempt: number;
}

const key = (id: Uint8Array): string => Buffer.from(id).toString('hex');

/**
 * STUN client transactions over UDP (RFC 8489 6.2.1): a request is retransmitted with a doubling
 * timeout until an answer comes from the address it was sent to, or the attempts run out. The
 * socket is the caller's: it sends through `send` and hands answers to {@link StunTransactions.handle}.
 *
 * @public
 */
export class StunTransactions {
  readonly #send: (data: Uint8Array, to: StunAddress) => void;
  readonly #pending = new Map<string, Pending>();
  readonly counters: StunTransactionCounters = { requests: 0, retransmissions: 0, timeouts: 0, badIntegrity: 0, badFingerprint: 0, unmatched: 0 };
  #closed = false;

  constructor(send: (data: Uint8Array, to: StunAddress) => void) {
    this.#send = send;
  }

  /**
   * Sends a request and resolves with its answer (success or error class: the caller reads it).
   *
   * @throws {@link IceError} when no usable answer came after the attempts, or the transactions were closed.
   */
  request(to: StunAddress, fields: Omit<StunMessageFields, 'cls'>, options: StunRequestOptions = {}): Promise<StunMessage> {
    if (this.#closed) return Promise.reject(new IceError('the STUN transactions are closed'));
    const data = buildStun({ ...fields, cls: 'request' });
    const id = key(data.subarray(8, 20));
    this.counters.requests++;
    return new Promise<StunMessage>((resolve, reject) => {
      const pending: Pending = { to, data, options, resolve, reject, timer: setTimeout(() => undefined, 0), attempt: 0 };
      this.#pending.set(id, pending);
      this.#transmit(id, pending);
    });
  }

  #transmit(id: string, pending: Pending): void {
    const attempts = pending.options.attempts ?? 7;
    if (pending.attempt > 0) this.counters.retransmissions++;
    (pending.options.send ?? this.#send)(pending.data, pending.to);
    const first = pending.options.rtoMs ?? 250;
    const rto = Math.min(first * 2 ** pending.attempt, Math.max(first, 1600));
    pending.attempt++;
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => {
      if (pending.attempt < attempts) {
        this.#transmit(id, pending);
        return;
      }
      this.#pending.delete(id);
      this.counters.timeouts++;
      pending.reject(new IceError(`no STUN answer from ${pending.to.address}:${pending.to.port} after ${attempts} attempts`));
    }, rto);
  }

  /**
   * Takes a STUN answer that arrived (from `from`); returns whether it answered a pending request.
   * An answer that fails its checks is dropped and counted; the request goes on being retransmitted.
   */
  handle(message: StunMessage, from: StunAddress): boolean {
    if (message.cls !== 'success' && message.cls !== 'error') return false;
    const id = key(message.transactionId);
    const pending = this.#pending.get(id);
    if (!pending || pending.to.port !== from.port || normalise(pending.to.address) !== normalise(from.address)) {
      this.counters.unmatched++;
      return false;
    }
    // Stryker disable next-line EqualityOperator: an attribute starts at offset 20 or later, never 0 (-1 is none)
    if (message.fingerprintOffset >= 0 && !checkStunFingerprint(message)) {
      this.counters.badFingerprint++;
      return false;
    }
    const integrityKey = pending.options.integrityKey;
    // An error answer may come without integrity (a 401 asking for credentials); one with it must check.
    // Stryker disable next-line EqualityOperator: an attribute starts at offset 20 or later, never 0 (-1 is none)
    if (integrityKey && (message.integrityOffset >= 0 || message.cls === 'success') && !checkStunIntegrity(message, integrityKey)) {
      this.counters.badIntegrity++;
      return false;
    }
    clearTimeout(pending.timer);
    this.#pending.delete(id);
    pending.resolve(message);
    return true;
  }

  /** Stops every pending request: each rejects with an {@link IceError}. */
  close(): void {
    this.#closed = true;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new IceError('the STUN transactions were closed'));
    }
    this.#pending.clear();
  }
}

function normalise(address: string): string {
  // Stryker disable next-line MethodExpression: both sides of the one comparison go through here, so upper-casing pairs the same addresses as lower-casing.
  return address.startsWith('::ffff:') ? address.slice(7) : address.toLowerCase();
}

/**
 * The address a STUN server sees us at (our server-reflexive address, RFC 8489's Binding): from
 * XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS from an old server.
 *
 * @throws {@link IceError} when no answer comes, the answer is an error, or it names no address.
 * @public
 */
export async function stunBinding(transactions: StunTransactions, server: StunAddress, options: StunRequestOptions = {}): Promise<StunAddress> {
  const answer = await transactions.request(server, { method: STUN_METHOD.binding, fingerprint: true }, options);
  if (answer.cls === 'error') {
    const error = decodeErrorCode(stunAttribute(answer, STUN_ATTRIBUTE.errorCode));
    throw new IceError(`the STUN server ${server.address}:${server.port} answered ${error?.code ?? '?'} ${error?.reason ?? ''}`.trim(), error?.code);
  }
  const mapped = decodeXorAddress(stunAttribute(answer, STUN_ATTRIBUTE.xorMappedAddress), answer.transactionId) ?? decodeMappedAddress(stunAttribute(answer, STUN_ATTRIBUTE.mappedAddress));
  if (!mapped) throw new IceError(`the STUN server ${server.address}:${server.port} answered without a mapped address`);
  return mapped;
}
