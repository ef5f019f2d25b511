import type { ConfiguredCodec, EndpointConfig } from '@sip-endpoint/config';
import type { AudioDevice, DeviceSelection } from './audio-device';
import type { CallKind, CallSnapshot } from './call-snapshot';
import type { HeaderBag } from './headers';
import type { ConnectionState, SessionStatus } from './state/states';

/** A value, or a promise of it: every policy method may answer either way. @public */
export type MaybePromise<T> = T | Promise<T>;

/**
 * What every policy method sees. Each method gets one object with these fields (and its own
 * extras), so that fields can be added later without breaking integrators.
 *
 * @public
 */
export interface PolicyContext {
  /** The endpoint's configuration. */
  config: EndpointConfig;
  /** Present audio devices, in the provider's order. */
  devices: readonly AudioDevice[];
  /** The calls already active or held (the new call excluded). */
  calls: readonly CallSnapshot[];
}

/** {@link EndpointPolicy.shouldAnswer}'s parameter: an incoming call. @public */
export interface AnswerContext extends PolicyContext {
  /** Headers of the INVITE; look them up with `headerValues` (case-insensitive). */
  headers: HeaderBag;
  /** 0-based Connectivity line the call came in on. */
  line: number;
  /** What the call carries: an instant-messaging session (`im`) has no audio. @defaultValue 'voice' (absent) */
  kind?: CallKind;
}

/**
 * The three answers of `should_answer`:
 * - `{ answer: true, delayMs }`: answer automatically after `delayMs`;
 * - `{ answer: false, sipCode }`: reject with this SIP response code;
 * - `{ answer: 'unknown' }`: let it ring; a manual answer is still possible.
 *
 * @public
 */
export type AnswerDecision =
  | { answer: true; delayMs: number; reason: string }
  | { answer: false; sipCode: number; reason: string }
  | { answer: 'unknown'; reason: string };

/** {@link EndpointPolicy.canMakeCall}'s parameter: an outgoing call about to be made. @public */
export interface OutgoingCallContext extends PolicyContext {
  /** The destination dialled. */
  destination: string;
  /** 0-based Connectivity line to call from. */
  line: number;
  /** What the call carries: an instant-messaging session (`im`) has no audio. @defaultValue 'voice' (absent) */
  kind?: CallKind;
}

/** Whether an outgoing call may be made. @public */
export type CallPermission = { allowed: true } | { allowed: false; reason: string };

/** {@link EndpointPolicy.selectDevices}'s parameter. @public */
export type DeviceSelectionContext = PolicyContext;

/** {@link EndpointPolicy.sessionStatus}'s parameter. @public */
export interface SessionStatusContext extends PolicyContext {
  /** State of each Connectivity line, in line order. */
  connections: readonly ConnectionState[];
  /** The Connector API's `options.softphone.enforce_headset_usage`. */
  enforceHeadsetUsage: boolean;
}

/** {@link EndpointPolicy.ringingPlan}'s parameter: a new incoming call is about to ring. @public */
export interface RingingContext extends PolicyContext {
  /** The devices currently selected (from `selectDevices`). */
  selection: DeviceSelection;
}

/** One device to play a ringing sound on. @public */
export interface RingingOutput {
  /** Which device the setting asks for. */
  target: 'system-default' | 'communication' | 'ringer';
  /** The device; `null` when none of that kind is present (nothing plays there). */
  device: AudioDevice | null;
  /** The WAV file to play. */
  file: string;
}

/**
 * How a new incoming call announces itself.
 *
 * @public
 */
export interface RingingPlan {
  /** A ringtone, the call-waiting tone (another call is in progress), or nothing. */
  sound: 'ringtone' | 'callwait' | 'none';
  /** Where to play it, each device once. */
  outputs: RingingOutput[];
  /** Play the file again and again (`true`) or once through (`false`). */
  loop: boolean;
  /** Stop after this many milliseconds; `null` plays until the call is answered or ends. */
  timeoutMs: number | null;
  /** Stop when the call is answered (false for `ringing_enabled` 6 and 7). */
  stopOnAnswer: boolean;
  reason: string;
}

/** {@link EndpointPolicy.codecPriorities}'s parameter. @public */
export interface CodecContext extends PolicyContext {
  /** Codecs the media engine can run, any spelling (`PCMU/8000`, `opus/48000/2`, `telephone-event/8000`). */
  supported: readonly string[];
  /** When answering: the remote offer's codecs in its order (`G722/8000` as SDP writes it is fine). */
  offer?: readonly string[];
}

/**
 * Codec decisions for one offer or answer.
 *
 * @public
 */
export interface CodecPriorities {
  /** Our offer's codecs, preferred first: the configured list restricted to what the engine runs. */
  offer: ConfiguredCodec[];
  /** When answering: the audio codec chosen from the remote offer; `null` when none is acceptable (488). */
  answer: ConfiguredCodec | null;
  /** Configured codecs the engine cannot run (never offered; name them in a warning). */
  unsupported: string[];
}

/**
 * A call's media engine: `native` (RTP, SRTP, ICE, codecs and jitter buffer of
 * `@sip-endpoint/media` on node:dgram) or `webrtc` (libwebrtc through `@roamhq/wrtc`).
 *
 * @public
 */
export type MediaEngineChoice = 'native' | 'webrtc';

/** {@link EndpointPolicy.mediaEngine}'s parameter: a call about to get its media. @public */
export interface MediaEngineContext extends PolicyContext {
  /** The line's index (0-based). */
  line: number;
  /** The line's Connectivity protocol (`UDP`, `TCP`, `TLS`, `WS`, `WSS`, `HTTPS`). */
  protocol: string;
  direction: 'incoming' | 'outgoing';
  /** The SDP offer of an incoming INVITE; undefined for our calls and an INVITE without SDP. */
  offer: string | undefined;
}

/**
 * The decisions an integrator can take over. {@link DefaultPolicy} implements every one by the
 * specification; {@link composePolicy} replaces single methods.
 *
 * @public
 */
export interface EndpointPolicy {
  /** Should this incoming call be answered automatically, rejected, or left to ring? */
  shouldAnswer(ctx: AnswerContext): MaybePromise<AnswerDecision>;
  /** May an outgoing call be made now? */
  canMakeCall(ctx: OutgoingCallContext): MaybePromise<CallPermission>;
  /** Which microphone, speaker and ringer to use; is a headset available? */
  selectDevices(ctx: DeviceSelectionContext): MaybePromise<DeviceSelection>;
  /** The Softphone status of the Connector API's session model. */
  sessionStatus(ctx: SessionStatusContext): MaybePromise<SessionStatus>;
  /** How a new incoming call rings. */
  ringingPlan(ctx: RingingContext): MaybePromise<RingingPlan>;
  /** Codec order of our offers, and the codec chosen when answering. */
  codecPriorities(ctx: CodecContext): MaybePromise<CodecPriorities>;
  /** Which media engine runs a call: native, or WebRTC (libwebrtc). */
  mediaEngine(ctx: MediaEngineContext): MaybePromise<MediaEngineChoice>;
}
