/**
 * The longest delay Node's timers take, in ms (2^31 - 1, about 24.8 days). A longer one is not an
 * error for Node: it warns and fires after 1 ms, so options in ms are checked against this.
 */
export const MAX_TIMER_MS = 2_147_483_647;
