import type { CallState } from './state/states';

/**
 * What a call carries: `voice` (audio), or `im`, an instant-messaging session (an INVITE whose
 * SDP offers only `m=message`, as SIP Server makes one for a chat with `sip-signaling-chat` =
 * `session`: no audio, MESSAGE requests in its dialog).
 *
 * @public
 */
export type CallKind = 'voice' | 'im';

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
  /** What the call carries. @defaultValue 'voice' (absent) */
  kind?: CallKind;
}

/** True for a call that is established and not held. @public */
export function isActiveCall(call: CallSnapshot): boolean {
  return call.state === 'CONNECTED';
}

/** True for a held call. @public */
export function isHeldCall(call: CallSnapshot): boolean {
  return call.state === 'HELD';
}
