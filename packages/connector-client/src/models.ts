/**
 * The models of the Softphone Connector API v2, with the property names and values of the spec.
 *
 * @remarks
 * The spec marks every property as optional, so every property is optional here too: a client must
 * cope with a Softphone that leaves one out. Where the spec's model table and its example data
 * disagree, the example data wins because it is what a Softphone sends: the `devices` model's
 * speaker is `speaker` (the table says `devices_speaker`), and `connectivities` may carry
 * `sep_connection_status` (in the recorded transcript, not in the table).
 *
 * @packageDocumentation
 */

import { CALL_STATES } from '@sip-endpoint/policy';
import type { ConnectionState, SessionStatus } from '@sip-endpoint/policy';

/**
 * Path prefix of every Connector API v2 route (`GET /softphone/v2/session`, ...).
 *
 * @public
 */
export const CONNECTOR_BASE_PATH = '/softphone/v2';

/**
 * Name of the cookie the Softphone sets to identify the session of an agent desktop.
 *
 * @public
 */
export const SESSION_COOKIE_NAME = 'SEPSESSIONID';

/**
 * The state names shared with the rest of the SDK, defined once in `@sip-endpoint/policy`: the
 * Softphone statuses of `session.status` (`INITIALIZING`, `INITIALIZED`, `WAITING_HEADSET`) and
 * the states of `connection.state` (`NONE`, `STANDALONE`, `DISABLED`, `TRYING`, `FAILED`, `READY`,
 * `SHUTDOWN`), re-exported by this package because its models use them.
 */
export { CONNECTION_STATES, SESSION_STATUSES } from '@sip-endpoint/policy';
export type { ConnectionState, SessionStatus } from '@sip-endpoint/policy';

/**
 * Values of the `call.state` property on the wire: the states an SDK call takes (`CALL_STATES` of
 * `@sip-endpoint/policy`) and the Connector API's other values.
 *
 * @remarks
 * The spec's list adds `UNKNOWN`, `ALETING` (its spelling of `ALERTING`), `MEDIA_OFFER`,
 * `OFFER_WAITING`, `MEDIA_ACCEPTED`, `MEDIA_REJECTED`, `VQ_ALARM` and `VQ_ALARM_OFF`, which this
 * SDK's endpoint never reports but another Softphone may. Both `ALETING` and `ALERTING` are valid,
 * so that a client accepts either Softphone. The spec's first two values come first, so that a
 * schema error lists them first as the spec does.
 *
 * @public
 */
export const CONNECTOR_CALL_STATES = [
  'UNKNOWN',
  'ALETING',
  ...CALL_STATES,
  'MEDIA_OFFER',
  'OFFER_WAITING',
  'MEDIA_ACCEPTED',
  'MEDIA_REJECTED',
  'VQ_ALARM',
  'VQ_ALARM_OFF',
] as const;

/**
 * The state of a call as the Connector API reports it: a `CallState` of `@sip-endpoint/policy` or
 * one of the wire-only values. See {@link CONNECTOR_CALL_STATES}.
 *
 * @public
 */
export type ConnectorCallState = (typeof CONNECTOR_CALL_STATES)[number];

/**
 * Values of `connectivities.protocol`: `udp` or `tcp` for SIP, `https` for WebRTC (the spec's),
 * plus `tls`, `ws` and `wss`, the other SIP transports of this SDK.
 *
 * @public
 */
export const CONNECTIVITY_PROTOCOLS = ['udp', 'tcp', 'https', 'tls', 'ws', 'wss'] as const;

/**
 * The protocol of the connections. See {@link CONNECTIVITY_PROTOCOLS}.
 *
 * @public
 */
export type ConnectivityProtocol = (typeof CONNECTIVITY_PROTOCOLS)[number];

/**
 * The `call` model: one call of the Softphone.
 *
 * @public
 */
export interface Call {
  /** Unique id of the call, from the `X-Genesys-CallUUID` header of the SIP session. */
  uuid?: string;
  /** The state of the call. */
  state?: ConnectorCallState;
  /**
   * The protection of the call's media, when the Softphone is this SDK's: `none` (plain RTP),
   * `sdes` (SRTP keyed by `a=crypto`), `dtls` (DTLS-SRTP) or `webrtc` (a WebRTC call, DTLS-SRTP by
   * libwebrtc). Not in the specification's model;
   * other Softphones leave it out.
   */
  security?: 'none' | 'sdes' | 'dtls' | 'webrtc';
  /**
   * `im` when the call is an instant-messaging session of this SDK's Softphone (SIP Server's chat:
   * an INVITE offering only `m=message`; no audio, so no MOS of its own); absent for a voice call.
   * The specification's call model has no media type: this is the SDK's addition.
   */
  kind?: 'im';
  /**
   * ICE, when this SDK's Softphone runs the call with ICE (`nat.ice_enabled`): the agent's state
   * (`checking`, `connected`, `failed`...) and the kind of each end's candidate in the selected
   * pair (`host`, `srflx`, `prflx`, `relay`). Not in the specification's model.
   */
  ice?: { state: string; local?: string; remote?: string };
}

/**
 * The `connection` model: one configured SIP (or WebRTC) connection.
 *
 * @public
 */
export interface Connection {
  /** `<sipServerName>:<sipServerPort>`; for SRV resolution, the SRV record without a port. */
  server?: string;
  /** The agent's DN. */
  user?: string;
  /** The state of the connection (reported by the Softphone; ignored in requests). */
  state?: ConnectionState;
}

/**
 * The `connectivities` model: the protocol and the configured connections.
 *
 * @public
 */
export interface Connectivities {
  /** `udp` or `tcp` for SIP, `https` for WebRTC. */
  protocol?: ConnectivityProtocol;
  /** The Softphone's configured connections. */
  connections?: Connection[];
  /** Free text the Softphone may add (seen empty in the spec's transcript; not in its model table). */
  sep_connection_status?: string;
}

/**
 * The `devices_speaker` and `devices_microphone` models: one audio device.
 *
 * @public
 */
export interface Device {
  /** The device name. */
  name?: string;
  /** The volume, 0 to 100. */
  volume?: number;
  /** Whether the device is muted. */
  muted?: boolean;
}

/**
 * The `devices_speaker` model.
 *
 * @public
 */
export type DevicesSpeaker = Device;

/**
 * The `devices_microphone` model.
 *
 * @public
 */
export type DevicesMicrophone = Device;

/**
 * The `devices` model: the audio devices of the session.
 *
 * @public
 */
export interface Devices {
  /** True when the agent uses a headset. */
  headset_used?: boolean;
  /** The speaker (the spec's table names it `devices_speaker`, its example data `speaker`). */
  speaker?: DevicesSpeaker;
  /** The microphone. */
  microphone?: DevicesMicrophone;
}

/**
 * The `phone` model: the calls, and voice quality when VQ is enabled in the SIP Endpoint options.
 *
 * @public
 */
export interface Phone {
  /** True when the Voice Quality alarm is on. */
  vq_alarm_on?: boolean;
  /** Local MOS of the last interval. */
  local_inter_mos?: number;
  /** Local MOS of the whole call segment. */
  local_mos?: number;
  /** Round-trip time, in milliseconds (an integer). */
  rtt_ms?: number;
  /** The calls of this phone. */
  calls?: Call[];
}

/**
 * The `session` model: the body of `GET /session`.
 *
 * @public
 */
export interface Session {
  /** The Softphone status. */
  status?: SessionStatus;
  /** The connections and their protocol. */
  connectivities?: Connectivities;
  /** The audio devices. */
  devices?: Devices;
  /** The calls and voice quality. */
  phone?: Phone;
}

/**
 * SIP Endpoint option overrides, `<domain>.<section>.<setting>` to value
 * (e.g. `{ "policy.connector.auto_restart": "1" }`).
 *
 * @public
 */
export type SipEndpointOverrides = Record<string, string | number | boolean | null | string[]>;

/**
 * The `config_options_softphone` model: options of the Softphone application itself.
 *
 * @public
 */
export interface ConfigOptionsSoftphone {
  /**
   * Seconds the Softphone waits for a `GET /session` before it ends the session, 0 to 300; the
   * Softphone uses 300 for a value out of range.
   * @defaultValue 30
   */
  session_expire?: number;
  /** Whether the SIP Endpoint waits for the `headset_name` headset before it finishes initialising. */
  enforce_headset_usage?: boolean;
  /** Only for WebRTC: identifies the current session. */
  username?: string;
}

/**
 * The `config_options` model.
 *
 * @public
 */
export interface ConfigOptions {
  /** Overrides of Softphone options, keyed `<domain>.<section>.<setting>`. */
  sipendpoint?: SipEndpointOverrides;
  /** Options of the Softphone application. */
  softphone?: ConfigOptionsSoftphone;
}

/**
 * The `config` model: the body of `POST /session`.
 *
 * @public
 */
export interface Config {
  /** Configuration options. */
  options?: ConfigOptions;
  /** The connections to configure. */
  connectivities?: Connectivities;
}

/**
 * Body of `POST /audio` (the spec's `devices` body parameter): the speaker and microphone settings
 * to change. Properties left out are unchanged.
 *
 * @public
 */
export type AudioRequest = Devices;

/**
 * What `POST /register` carries. It has no body: the WebRTC token goes in the
 * `Authorization: Bearer <token>` header.
 *
 * @public
 */
export interface RegisterRequest {
  /** OAuth token for WebRTC, sent as `Authorization: Bearer <token>`. */
  token?: string;
}

/**
 * The body of a successful `POST`/`DELETE` (the spec's transcript shows `{}`).
 *
 * @public
 */
export type EmptyBody = Record<string, never>;

/**
 * The body of an error response. The spec's 403 is `{}`; a 400 carries the reason in `message`
 * (with `error` and `statusCode`, the usual fastify shape, and an optional stable `code`).
 *
 * @public
 */
export interface ErrorBody {
  /** The HTTP status code. */
  statusCode?: number;
  /** Stable error code, e.g. `ERR_CONNECTOR_NO_SESSION`. */
  code?: string;
  /** The HTTP reason phrase. */
  error?: string;
  /** What was wrong, for a human. */
  message?: string;
}
