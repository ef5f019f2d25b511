import type { CallState, ConnectionState, SessionStatus } from '@sip-endpoint/policy';
import type { IceAgentState, IceCandidateType } from '@sip-endpoint/media';

/** One device of the `session` model. @public */
export interface SessionDevice {
  name: string;
  volume: number;
  muted: boolean;
}

/** The Connector API's `session` model, as `endpoint.session()` returns it. @public */
export interface SessionModel {
  status: SessionStatus;
  connectivities: {
    protocol: string;
    /** One per line; `reason` says why a FAILED line failed. */
    connections: { server: string; user: string; state: ConnectionState; reason?: string }[];
  };
  devices: { headset_used: boolean; speaker: SessionDevice | undefined; microphone: SessionDevice | undefined };
  phone: {
    /**
     * One per call. `security` is this SDK's addition to the specification's call model: the
     * protection of the call's media in force (`none`: plain RTP, or before the first
     * offer/answer; `sdes`: SRTP keyed by `a=crypto`; `dtls`: DTLS-SRTP; `webrtc`: a WebRTC call, DTLS-SRTP by libwebrtc), as
     * `call.media.security.kind`.
     */
    calls: {
      uuid: string;
      /**
       * The call's state. An instant-messaging session is a call of the model too (the
       * specification's call model has no media type): its `uuid` and `state` as any call's, with
       * `kind: 'im'`; it has no audio, so it adds nothing to `local_mos`, `rtt_ms` or `vq_alarm_on`.
       */
      state: CallState;
      /** `im` for an instant-messaging session (this SDK's addition); absent for a voice call. */
      kind?: 'im';
      security: 'none' | 'sdes' | 'dtls' | 'webrtc';
      /** ICE, when the call uses it (this SDK's addition too): the agent's state, and the candidate kinds of the selected pair (`call.media.ice`). */
      ice?: { state: IceAgentState; local?: IceCandidateType; remote?: IceCandidateType | undefined };
    }[];
    local_mos?: number;
    local_inter_mos?: number;
    rtt_ms?: number;
    vq_alarm_on: boolean;
  };
}
