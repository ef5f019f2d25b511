import type { CallState } from './state/states';

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
  state: CallState;
  direction: 'incoming' | 'outgoing';
}

/** True for a call that is established and not held. @public */
export function isActiveCall(call: CallSnapshot): boolean {
  return call.state === 'CONNECTED';
}

/** True for a held call. @public */
export function isHeldCall(call: CallSnapshot): boolean {
  return call.state === 'HELD';
}
