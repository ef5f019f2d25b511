/**
 * One timer that drives every stream of a process: each subscriber is called every `periodMs`,
 * on a schedule computed from `performance.now()` so that errors do not accumulate. A late wake-up
 * runs the overdue ticks at once (at most five; beyond that the schedule skips ahead), so that
 * streams keep their packet rate through a short event-loop stall.
 *
 * @remarks
 * One timer for hundreds of streams keeps the send interval regular. Subscribers are spread over
 * the period in 1 ms slots (the n-th one added is offset by n mod period ms): hundreds of streams
 * then do not all send in the same millisecond, so their peers do not receive them in one burst
 * that would hold the event loop (and delay the next tick) while it drains.
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
  #slot = 0;

  /** Number of subscribers. */
  get size(): number {
    return this.#subscribers.size;
  }

  /** Calls `tick` every `periodMs` from now on; returns the function that stops it. */
  add(periodMs: number, tick: (now: number) => void): () => void {
    const offset = this.#slot++ % Math.max(1, Math.floor(periodMs));
    const subscriber = { periodMs, due: performance.now() + periodMs + offset, tick };
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
    // A Set may be iterated while a callback removes members (they are skipped) or adds some
    // (they are visited, and are not due yet): no copy is needed.
    for (const subscriber of this.#subscribers) {
      let runs = 0;
      while (subscriber.due <= now + 0.5 && runs < 5 && this.#subscribers.has(subscriber)) {
        subscriber.tick(subscriber.due);
        subscriber.due += subscriber.periodMs;
        runs++;
      }
      // A long stall: skip the periods missed, keeping the subscriber's phase. (Restarting it at
      // `now + periodMs` put every stream of the stall on the same millisecond: from then on they
      // all ran in one batch, their packets bunched and late by the batch's length.)
      if (subscriber.due <= now) subscriber.due += Math.ceil((now - subscriber.due) / subscriber.periodMs + 1e-9) * subscriber.periodMs;
    }
    this.#schedule();
  }
}
