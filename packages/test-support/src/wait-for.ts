/**
 * Waits until `check()` holds (polling every 10 ms); rejects after `ms` with `what` in the message.
 * The replacement for a fixed sleep: a test waits for the condition it needs, no longer.
 */
export async function waitFor(check: () => boolean, ms = 5000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves with the first argument list of `emitter`'s next `event`, or rejects after `ms`. */
export function nextEvent<A extends unknown[]>(emitter: { once(event: string, listener: (...args: A) => void): unknown }, event: string, ms = 5000): Promise<A> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for '${event}'`)), ms);
    emitter.once(event, (...args: A) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}
