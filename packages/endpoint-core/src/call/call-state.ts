import type { CallState, TransitionTable } from '@sip-endpoint/policy';

/**
 * The moves of a {@link Call}'s state, named as the Connector API names them:
 *
 * ```
 * outgoing: IN_PROGRESS ──18x──> ALERTING ──2xx──> CONNECTED
 *               └─────────────2xx──────────────────┘    ^ │ hold (either side)
 * incoming: RINGING ──answer──────────────────────> CONNECTED <──> HELD
 *
 * any state ──(CANCEL, reject, BYE, failure)──> DISCONNECTED (terminal)
 * ```
 *
 * @public
 */
export const CALL_TRANSITIONS: TransitionTable<CallState> = {
  IN_PROGRESS: ['ALERTING', 'CONNECTED', 'DISCONNECTED'],
  ALERTING: ['CONNECTED', 'DISCONNECTED'],
  RINGING: ['CONNECTED', 'DISCONNECTED'],
  CONNECTED: ['HELD', 'DISCONNECTED'],
  HELD: ['CONNECTED', 'DISCONNECTED'],
  DISCONNECTED: [],
};
