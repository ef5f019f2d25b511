/**
 * A ring of 16-bit samples that keeps the newest: pushing into a full ring drops the oldest.
 * Allocation-free; the queues of the echo canceller's reference and of the WebRTC playout.
 */
export class SampleRing {
  readonly #ring: Int16Array;
  #start = 0;
  #count = 0;

  constructor(capacity: number) {
    this.#ring = new Int16Array(capacity);
  }

  /** Samples held. */
  get count(): number {
    return this.#count;
  }

  /** Appends `length` samples; returns how many of the oldest were dropped to make room. */
  push(samples: Int16Array, length: number): number {
    const ring = this.#ring;
    const capacity = ring.length;
    let dropped = 0;
    for (let i = 0; i < length; i++) {
      if (this.#count === capacity) {
        this.#start = (this.#start + 1) % capacity;
        this.#count--;
        dropped++;
      }
      ring[(this.#start + this.#count) % capacity] = samples[i]!;
      this.#count++;
    }
    return dropped;
  }

  /** Moves up to `length` of the oldest samples into `out` from `offset`; returns how many. */
  take(out: Int16Array | Float64Array, length: number, offset = 0): number {
    const ring = this.#ring;
    const capacity = ring.length;
    const n = Math.min(length, this.#count);
    for (let i = 0; i < n; i++) out[offset + i] = ring[(this.#start + i) % capacity]!;
    this.#start = (this.#start + n) % capacity;
    this.#count -= n;
    return n;
  }

  /** Drops the `count` oldest samples (all when fewer are held). */
  drop(count: number): void {
    const n = Math.min(count, this.#count);
    this.#start = (this.#start + n) % this.#ring.length;
    this.#count -= n;
  }

  clear(): void {
    this.#start = 0;
    this.#count = 0;
  }
}
