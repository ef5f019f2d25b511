/**
 * Gaps of over 40 ms between 10 ms ticks of this process's event loop, until stopped: a test that
 * judges audio as heard excuses a glitch per stall (the endpoint's media clock stopped with it).
 */
export function watchStalls(): { stop: () => number[] } {
  const stalls: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last > 50) stalls.push(Math.round(now - last - 10));
    last = now;
  }, 10);
  // A test that fails before it stops the watch must not keep jest waiting.
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      return stalls;
    },
  };
}
