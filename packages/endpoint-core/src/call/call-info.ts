import type { CallKind, CallState } from '@sip-endpoint/policy';
import type { CallQuality } from '../media/call-media';

/** A plain, serialisable snapshot of a call (`call.info()`). @public */
export interface CallInfo {
  /** The endpoint's id of the call (`call-N`). */
  id: string;
  /**
   * The Connector API's `uuid` of the call: `X-Genesys-CallUUID` when the call has one, else the
   * call's `id` (the same value `endpoint.session()` shows).
   */
  uuid: string;
  /** 0-based Connectivity line. */
  line: number;
  direction: 'incoming' | 'outgoing';
  /** What the call carries: `voice`, or `im` (an instant-messaging session: no audio). */
  kind: CallKind;
  state: CallState;
  /** The far end's URI. */
  remote: string;
  /** The negotiated codec, once connected. */
  codec: string | undefined;
  /** The SIP status that ended an outgoing call that was refused (e.g. 486), when there was one. */
  rejectedWith: number | undefined;
  /** Who holds the call: we (`local`), the far end (`remote`, by a sendonly/inactive or `c=0.0.0.0` re-INVITE), or both. */
  heldBy: 'local' | 'remote' | 'both' | undefined;
  /** Whether our microphone is muted on this call. */
  muted: boolean;
  /** The call this one replaced (an INVITE with Replaces), or the call whose REFER made it. */
  relatedTo: string | undefined;
  /** MOS of the call and of the last interval, RTT, loss, once media flows. */
  quality: CallQuality | undefined;
}
