/** A stall of this process's event loop: how long it was, and when it ended (performance.now()). */
export interface Stall {
  endedAt: number;
  ms: number;
}

/** A running watch of event-loop stalls, with a probe run on each of its ticks. */
export interface StallWatch {
  /** The stalls so far. */
  readonly stalls: readonly Stall[];
  /** Whether a stall ended, or was still running, within `ms` before now. */
  recent: (ms: number) => boolean;
  /** Stops the watch; the stalls it saw. */
  stop: () => Stall[];
}

/**
 * Watches this process's event loop for stalls: gaps of over `overMs` between timers due every 5 ms.
 * A stall stops the media clocks of every stream in the process (sender and receiver alike), so
 * a receiver's jitter buffer may run dry, or a sender's packets come late to libwebrtc's: what a
 * loaded machine does, not the code under test. `probe`, when given, runs on each tick, after the
 * stall (if any) was recorded.
 */
export function watchStalls(overMs = 15, probe?: (watch: StallWatch) => void): StallWatch {
  const stalls: Stall[] = [];
  let last = performance.now();
  const watch: StallWatch = {
    stalls,
    recent: (ms) => {
      const now = performance.now();
      return now - last > overMs || stalls.some((stall) => stall.endedAt > now - ms);
    },
    stop: () => {
      clearInterval(timer);
      return stalls;
    },
  };
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last > overMs) stalls.push({ endedAt: now, ms: now - last });
    last = now;
    probe?.(watch);
  }, 5);
  return watch;
}
