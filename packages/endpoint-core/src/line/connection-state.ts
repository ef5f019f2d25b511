/**
 * Registration state of one line, as the Connector API names it.
 *
 * ```
 * NONE ──start──> TRYING ──200──> READY ──refresh fails──> TRYING
 *   │               │  ^                                     │
 *   │               v  │ retry (0.5 s, then reg_interval)    v
 *   │             FAILED <──────────────────────────────────┘
 *   └─reg_timeout 0──> STANDALONE          any state ──stop──> SHUTDOWN
 * ```
 *
 * `DISABLED` is a line switched off by configuration (no server).
 *
 * @public
 */
export type ConnectionState = 'NONE' | 'STANDALONE' | 'DISABLED' | 'TRYING' | 'FAILED' | 'READY' | 'SHUTDOWN';
