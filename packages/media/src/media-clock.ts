/**
 * One timer that drives every stream of a process: each subscriber is called every `periodMs`,
 * on a schedule computed from `performance.now()` so that errors do not accumulate. A late wake-up
 * runs the overdue ticks at once (at most five; beyond that the schedule skips ahead), so that
 * streams keep their packet rate through a short event-loop stall.
 *
 * @remarks
 * One timer for hundreds of streams keeps the send interval regular and costs one wake-up per
 * period instead of one per stream.
 *
 * @public
 */
export class MediaClock {
  static #shared: MediaClock | undefined;

  /** The process-wide clock. */
  static get shared(): MediaClock {
    MediaClock.#shared ??= new MediaClock();
    return MediaClock.#shared;
  }

  readonly #subscribers = new Set<{ periodMs: number; due: number; tick: (now: number) => void }>();
  #timer: NodeJS.Timeout | undefined;

  /** Number of subscribers. */
  get size(): number {
    return this.#subscribers.size;
  }

  /** Calls `tick` every `periodMs` from now on; returns the function that stops it. */
  add(periodMs: number, tick: (now: number) => void): () => void {
    const subscriber = { periodMs, due: performance.now() + periodMs, tick };
    this.#subscribers.add(subscriber);
    this.#schedule();
    return () => {
      this.#subscribers.delete(subscriber);
      if (this.#subscribers.size === 0 && this.#timer) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  #schedule(): void {
    if (this.#subscribers.size === 0) return;
    let next = Infinity;
    for (const subscriber of this.#subscribers) next = Math.min(next, subscriber.due);
    if (this.#timer) clearTimeout(this.#timer);
    const delay = Math.max(0, next - performance.now());
    this.#timer = setTimeout(() => this.#run(), delay);
    // Streams keep a process alive through their sockets, not through the clock.
    this.#timer.unref();
  }

  #run(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const subscriber of [...this.#subscribers]) {
      let runs = 0;
      while (subscriber.due <= now + 0.5 && runs < 5 && this.#subscribers.has(subscriber)) {
        subscriber.tick(subscriber.due);
        subscriber.due += subscriber.periodMs;
        runs++;
      }
      if (subscriber.due <= now) subscriber.due = now + subscriber.periodMs; // a long stall: skip ahead
    }
    this.#schedule();
  }
}
