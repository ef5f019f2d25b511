import { MAX_TIMER_MS, timerDelay } from '../../src/timer-delay';
import { SessionTimer } from '../../src/call/session-timer';

describe('timerDelay', () => {
  it('keeps delays a Node timer can hold, and caps longer ones (and non-numbers) at 2^31 - 1 ms', () => {
    expect(timerDelay(1500)).toBe(1500);
    expect(timerDelay(-5)).toBe(0);
    expect(timerDelay(99999999999 * 1000)).toBe(MAX_TIMER_MS);
    expect(timerDelay(Number.POSITIVE_INFINITY)).toBe(MAX_TIMER_MS);
    expect(timerDelay(Number.NaN)).toBe(MAX_TIMER_MS);
  });
});

describe('SessionTimer with a Session-Expires of ten digits', () => {
  it('neither refreshes nor expires within the next 100 ms (9999999999 s used to become a 1 ms timer: a refresh storm)', async () => {
    let refreshes = 0;
    let expired = 0;
    for (const weRefresh of [true, false]) {
      const timer = new SessionTimer(
        async () => {
          refreshes++;
        },
        () => expired++,
      );
      timer.set(9999999999, weRefresh);
      await new Promise((resolve) => setTimeout(resolve, 100));
      timer.stop();
    }
    expect({ refreshes, expired }).toEqual({ refreshes: 0, expired: 0 });
  });
});
