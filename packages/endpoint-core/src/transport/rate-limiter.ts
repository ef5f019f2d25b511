/**
 * `sip_rate_limit` as a transport takes it: new requests a second one source address may send
 * (bursts of twice that); past it, `503` with `Retry-After`, then nothing. Sources `exempt` says
 * are not counted; `onLimited` hears of each request over the rate.
 */
export interface RateLimitOptions {
  perSecond: number;
  exempt?: (address: string) => boolean;
  onLimited?: (address: string, verdict: 'refuse' | 'drop') => void;
}

/** The Retry-After of a 503 to a source over its rate limit, in seconds. */
export const RETRY_AFTER_S = 5;

/** What a {@link SourceRateLimiter} says of one more request from a source. */
export type RateVerdict = 'take' | 'refuse' | 'drop';

interface Bucket {
  /** Requests the source may still send now. */
  tokens: number;
  /** 503s it may still be sent now. */
  refusals: number;
  /** When the two were last filled (ms, monotonic). */
  at: number;
}

/**
 * Per-source token buckets for a flood of SIP requests: each source address may send `perSecond`
 * new requests a second, in bursts of up to twice that. Past it, a request is refused (`503
 * Service Unavailable` with `Retry-After`), at most a tenth of the rate a second (at least one), so
 * that the refusals cannot become a flood of their own; past that, dropped unanswered. At most
 * `maxSources` sources are remembered: the idle ones go first, then the oldest.
 */
export class SourceRateLimiter {
  readonly perSecond: number;
  readonly #burst: number;
  readonly #refusalsPerSecond: number;
  readonly #maxSources: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(perSecond: number, maxSources = 10000) {
    if (!(perSecond > 0)) throw new RangeError(`a rate limit is a number of requests a second above 0, not ${perSecond}`);
    this.perSecond = perSecond;
    this.#burst = perSecond * 2;
    this.#refusalsPerSecond = Math.max(1, perSecond / 10);
    this.#maxSources = maxSources;
  }

  /** One more request from `source` at `now` (ms, monotonic). */
  check(source: string, now = performance.now()): RateVerdict {
    let bucket = this.#buckets.get(source);
    if (!bucket) {
      if (this.#buckets.size >= this.#maxSources) this.#forget(now);
      bucket = { tokens: this.#burst, refusals: this.#refusalsPerSecond, at: now };
      this.#buckets.set(source, bucket);
    } else {
      const seconds = Math.max(0, now - bucket.at) / 1000;
      bucket.tokens = Math.min(this.#burst, bucket.tokens + seconds * this.perSecond);
      bucket.refusals = Math.min(this.#refusalsPerSecond, bucket.refusals + seconds * this.#refusalsPerSecond);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens--;
      return 'take';
    }
    if (bucket.refusals >= 1) {
      bucket.refusals--;
      return 'refuse';
    }
    return 'drop';
  }

  /** Sources remembered now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Makes room: the sources whose bucket has filled up again, else the oldest half. */
  #forget(now: number): void {
    for (const [source, bucket] of this.#buckets) if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.#burst) this.#buckets.delete(source);
    if (this.#buckets.size < this.#maxSources) return;
    let remove = Math.ceil(this.#maxSources / 2);
    for (const source of this.#buckets.keys()) {
      if (remove-- <= 0) break;
      this.#buckets.delete(source);
    }
  }
}
