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
      state: CallState;
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
