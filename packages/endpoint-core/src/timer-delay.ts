/** The longest delay a Node timer keeps (2^31 - 1 ms, about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A delay for `setTimeout` from a value a peer or a policy chose (`answer-after`, `Session-Expires`):
 * at most {@link MAX_TIMER_MS}, so that a huge value waits as long as a timer can instead of
 * wrapping round to 1 ms (found by the fuzzer: `answer-after=99999999999` answered at once).
 */
export function timerDelay(ms: number): number {
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), MAX_TIMER_MS) : MAX_TIMER_MS;
}
