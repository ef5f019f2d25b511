import type { TransitionTable } from '@sip-endpoint/policy';

/**
 * The lifecycle of an {@link Endpoint}:
 *
 * ```
 * NEW ──start()──> STARTING ──lines started──> RUNNING ──stop()──> STOPPING ──lines closed──> STOPPED
 *  │                  └─────────stop()──────────────────────────────────┘                        ^
 *  └────────────────────────────────stop()───────────────────────────────────────────────────────┘
 * ```
 *
 * `STOPPED` is terminal: an endpoint does not start again (`start()` then throws
 * `InvalidStateError`); make a new one.
 *
 * @public
 */
export type EndpointState = 'NEW' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'STOPPED';

/** The moves of {@link EndpointState}. @public */
export const ENDPOINT_TRANSITIONS: TransitionTable<EndpointState> = {
  NEW: ['STARTING', 'STOPPED'],
  STARTING: ['RUNNING', 'STOPPING'],
  RUNNING: ['STOPPING'],
  STOPPING: ['STOPPED'],
  STOPPED: [],
};
