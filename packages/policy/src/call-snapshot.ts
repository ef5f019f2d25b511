/**
 * Call states, as the Connector API names them (`ALETING` in the API's list is a typo for `ALERTING`).
 *
 * @public
 */
export type CallStateName =
  | 'UNKNOWN'
  | 'ALERTING'
  | 'RINGING'
  | 'IN_PROGRESS'
  | 'CONNECTED'
  | 'HELD'
  | 'DISCONNECTED'
  | 'MEDIA_OFFER'
  | 'OFFER_WAITING'
  | 'MEDIA_ACCEPTED'
  | 'MEDIA_REJECTED';

/**
 * A plain snapshot of a call, as a policy sees the other calls of the endpoint.
 *
 * @public
 */
export interface CallSnapshot {
  /** The endpoint's id of the call. */
  id: string;
  /** `X-Genesys-CallUUID`, when the call has one. */
  uuid?: string;
  /** 0-based Connectivity line. */
  line: number;
  state: CallStateName;
  direction: 'incoming' | 'outgoing';
}

/** True for a call that is established and not held. @public */
export function isActiveCall(call: CallSnapshot): boolean {
  return call.state !== 'HELD' && call.state !== 'DISCONNECTED' && call.state !== 'RINGING' && call.state !== 'ALERTING';
}

/** True for a held call. @public */
export function isHeldCall(call: CallSnapshot): boolean {
  return call.state === 'HELD';
}
