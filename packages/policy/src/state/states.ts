/**
 * The states of a call, as the Connector API names them, in the order a call goes through them.
 *
 * @remarks
 * These are the states an SDK call takes. The Connector API's model lists more (`UNKNOWN`, the
 * `MEDIA_*` and `VQ_ALARM*` values, and `ALETING`, its spelling of `ALERTING`); the connector
 * client's `ConnectorCallState` accepts those on the wire.
 *
 * @public
 */
export const CALL_STATES = ['IN_PROGRESS', 'ALERTING', 'RINGING', 'CONNECTED', 'HELD', 'DISCONNECTED'] as const;

/**
 * The state of a call: outgoing `IN_PROGRESS` -> `ALERTING` -> `CONNECTED`, incoming `RINGING` ->
 * `CONNECTED`; `CONNECTED` <-> `HELD`; any -> `DISCONNECTED`. See {@link CALL_STATES}.
 *
 * @public
 */
export type CallState = (typeof CALL_STATES)[number];

/**
 * The states of a connection (one Connectivity line), as the Connector API names them.
 *
 * @public
 */
export const CONNECTION_STATES = ['NONE', 'STANDALONE', 'DISABLED', 'TRYING', 'FAILED', 'READY', 'SHUTDOWN'] as const;

/**
 * The state of a connection: `NONE` before start, `TRYING` while registering, `READY` once
 * registered, `FAILED` after a refusal or timeout (retried), `STANDALONE` without a registrar,
 * `DISABLED` for a line switched off, `SHUTDOWN` once stopped. See {@link CONNECTION_STATES}.
 *
 * @public
 */
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/**
 * The Softphone statuses of the Connector API's `session` model.
 *
 * @public
 */
export const SESSION_STATUSES = ['INITIALIZING', 'INITIALIZED', 'WAITING_HEADSET'] as const;

/** The Softphone status. See {@link SESSION_STATUSES}. @public */
export type SessionStatus = (typeof SESSION_STATUSES)[number];
