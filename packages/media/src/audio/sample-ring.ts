/**
 * Samples waiting between a producer and a consumer on different schedules: a ring of fixed size
 * that keeps the newest (when full, the oldest go), so the latency stays bounded whatever the two
 * sides do. Allocation-free. The conference mixer's legs, the echo canceller's reference queue
 * and the WebRTC playout queue each hold one.
 */
export class SampleRing {
  readonly #buffer: Int16Array;
  #start = 0;
  #size = 0;

  constructor(capacity: number) {
    this.#buffer = new Int16Array(capacity);
  }

  /** Samples held. */
  get size(): number {
    return this.#size;
  }

  /** Appends `length` samples; returns how many (held or given) were dropped to make room. */
  push(samples: Int16Array, length: number): number {
    const buffer = this.#buffer;
    const capacity = buffer.length;
    // More than fits: only the newest samples of this write matter.
    let from = 0;
    if (length > capacity) {
      from = length - capacity;
      length = capacity;
    }
    const over = this.#size + length - capacity;
    if (over > 0) this.drop(over);
    let at = (this.#start + this.#size) % capacity;
    for (let i = 0; i < length; i++) {
      buffer[at] = samples[from + i]!;
      at = at + 1 === capacity ? 0 : at + 1;
    }
    this.#size += length;
    return from + (over > 0 ? over : 0);
  }

  /** Moves up to `length` of the oldest samples into `into`; returns how many (the rest of `into` is left as it was). */
  take(into: Int16Array, length: number): number {
    const buffer = this.#buffer;
    const capacity = buffer.length;
    const available = Math.min(length, this.#size);
    let at = this.#start;
    for (let i = 0; i < available; i++) {
      into[i] = buffer[at]!;
      at = at + 1 === capacity ? 0 : at + 1;
    }
    this.#start = at;
    this.#size -= available;
    return available;
  }

  /** Takes `length` samples into `into`; what is missing is silence. */
  pull(into: Int16Array, length: number): void {
    const available = this.take(into, length);
    if (available < length) into.fill(0, available, length);
  }

  /** Drops the `count` oldest samples (all when fewer are held). */
  drop(count: number): void {
    const n = Math.min(count, this.#size);
    this.#start = (this.#start + n) % this.#buffer.length;
    this.#size -= n;
  }

  clear(): void {
    this.#start = 0;
    this.#size = 0;
  }
}
