import { bindRtpPair, RtpSocketError, type BoundRtpPair } from './rtp-session';
import { type PortAllocator } from './port-allocator';

/** Options of an {@link RtpSocketReserve}. @public */
export interface RtpSocketReserveOptions {
  /** Pairs kept bound per bind address (0: none, every session binds its own). @defaultValue 1 */
  pairs?: number;
  /** How long after a pair is taken its replacement is bound, in ms: after the answer that took it has gone. @defaultValue 10 */
  refillDelayMs?: number;
}

interface HeldPair extends BoundRtpPair {
  /** Keeps an error of a socket nobody uses yet from being thrown (an `error` event without a listener is). */
  onError: (error: Error) => void;
}

/**
 * RTP/RTCP socket pairs bound ahead of the sessions that will need them, so that answering a
 * call does not wait for two sockets to be created and bound (about 0.1 to 0.15 ms of an
 * INVITE's handling at 20 calls/s, `docs/performance.md`). Nothing is bound until the first
 * {@link RtpSocketReserve.take} for an address: an endpoint that never has a call holds no
 * socket. After that, `pairs` pairs stay bound for that address (their ports taken from the
 * allocator), and each pair taken is replaced `refillDelayMs` later. {@link RtpSocketReserve.close}
 * closes what is held and gives the ports back.
 *
 * @public
 */
export class RtpSocketReserve {
  /** The allocator the pairs' ports come from (an {@link RtpSession} gives its port back to it). */
  readonly ports: PortAllocator;
  readonly #pairs: number;
  readonly #refillDelayMs: number;
  readonly #held = new Map<string, HeldPair[]>();
  readonly #refills = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #binding = new Set<string>();
  #closed = false;

  /** @throws {@link RtpSocketError} for a `pairs` that is not a whole number from 0. */
  constructor(ports: PortAllocator, options: RtpSocketReserveOptions = {}) {
    const pairs = options.pairs ?? 1;
    if (!Number.isInteger(pairs) || pairs < 0) throw new RtpSocketError(`spare RTP socket pairs must be a whole number from 0, not ${pairs}`);
    this.ports = ports;
    this.#pairs = pairs;
    this.#refillDelayMs = options.refillDelayMs ?? 10;
  }

  /** Pairs bound and waiting, over every address. */
  get held(): number {
    let count = 0;
    for (const list of this.#held.values()) count += list.length;
    return count;
  }

  /**
   * A bound pair for `bindAddress` if one is waiting (its sockets and port are then the
   * caller's), or `undefined`; either way a replacement is bound shortly after.
   */
  take(bindAddress: string): BoundRtpPair | undefined {
    if (this.#closed || this.#pairs === 0) return undefined;
    const pair = this.#held.get(bindAddress)?.shift();
    this.#scheduleRefill(bindAddress);
    if (!pair) return undefined;
    pair.rtp.off('error', pair.onError);
    pair.rtcp.off('error', pair.onError);
    return { rtp: pair.rtp, rtcp: pair.rtcp, port: pair.port };
  }

  /** Closes every pair held and gives their ports back; {@link RtpSocketReserve.take} finds nothing from then on. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#refills.values()) clearTimeout(timer);
    this.#refills.clear();
    for (const list of this.#held.values()) for (const pair of list.splice(0)) this.#dispose(pair);
    this.#held.clear();
  }

  #scheduleRefill(bindAddress: string): void {
    if (this.#refills.has(bindAddress) || this.#binding.has(bindAddress)) return;
    const timer = setTimeout(() => {
      this.#refills.delete(bindAddress);
      void this.#refill(bindAddress);
    }, this.#refillDelayMs);
    timer.unref();
    this.#refills.set(bindAddress, timer);
  }

  async #refill(bindAddress: string): Promise<void> {
    this.#binding.add(bindAddress);
    try {
      let list = this.#held.get(bindAddress);
      if (!list) this.#held.set(bindAddress, (list = []));
      while (!this.#closed && list.length < this.#pairs) {
        const bound = await bindRtpPair(this.ports, bindAddress);
        const pair: HeldPair = { ...bound, onError: () => undefined };
        pair.rtp.on('error', pair.onError);
        pair.rtcp.on('error', pair.onError);
        if (this.#closed) this.#dispose(pair);
        else list.push(pair);
      }
    } catch {
      // The range is used up, or the address cannot be bound: sessions bind their own (and get
      // the error themselves); the next take tries again.
    } finally {
      this.#binding.delete(bindAddress);
    }
  }

  #dispose(pair: HeldPair): void {
    pair.rtp.close();
    pair.rtcp.close();
    this.ports.release(pair.port);
  }
}
