import type { ConnectionState, TransitionTable } from '@sip-endpoint/policy';

/**
 * The moves of a line's {@link ConnectionState}, as the Connector API names the states:
 *
 * ```
 *        ┌──────────────(reg_timeout 0)─────────────> STANDALONE
 *        │                                                │
 * NONE ──┼──(headset awaited)──> DISABLED ──(found)──> TRYING ──200──> READY
 *        │                                             ^  │ ^           │
 *        └──────────────(registrar)────────────────────┘  v │ retry      │ refresh fails / re-register
 *                                                        FAILED <─────────┘
 * any state ──close()──> SHUTDOWN (terminal)
 * ```
 *
 * `DISABLED`: the line may not register yet: with the Connector API's `enforce_headset_usage`,
 * lines wait there until the policy finds the headset. `FAILED` is retried after half a second,
 * then every `reg_interval` (none with 0). A registered line that registers again (a corrected
 * Contact) stays `READY`; one whose refresh failed goes `FAILED`, then `TRYING`.
 *
 * @public
 */
export const LINE_TRANSITIONS: TransitionTable<ConnectionState> = {
  NONE: ['TRYING', 'STANDALONE', 'DISABLED', 'FAILED', 'SHUTDOWN'],
  DISABLED: ['TRYING', 'STANDALONE', 'FAILED', 'SHUTDOWN'],
  TRYING: ['READY', 'FAILED', 'SHUTDOWN'],
  READY: ['TRYING', 'FAILED', 'SHUTDOWN'],
  FAILED: ['TRYING', 'SHUTDOWN'],
  STANDALONE: ['SHUTDOWN'],
  SHUTDOWN: [],
};
