// The part of @roamhq/wrtc (libwebrtc for Node) that the WebRTC engine uses, typed here: the
// package's own types re-export the DOM's, which a Node project does not load. The native module is
// loaded on first use, so that a process that never makes a WebRTC call never starts its threads,
// and a platform without a prebuilt binary still has the native engine.

import { SipEndpointError } from '@sip-endpoint/config';

/** libwebrtc could not be loaded (no prebuilt binary for this platform, or a broken install). @public */
export class WebRtcUnavailableError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_WEBRTC_UNAVAILABLE';

  constructor(cause: unknown) {
    super('ERR_MEDIA_WEBRTC_UNAVAILABLE', `the WebRTC engine (@roamhq/wrtc) cannot be loaded: ${(cause as Error).message ?? String(cause)}`, { cause });
  }
}

export interface WrtcAudioData {
  samples: Int16Array;
  sampleRate: number;
  bitsPerSample: number;
  channelCount: number;
  numberOfFrames: number;
}

export interface WrtcTrack {
  readonly kind: string;
  readonly readyState: string;
  stop(): void;
}

export interface WrtcAudioSource {
  createTrack(): WrtcTrack;
  onData(data: WrtcAudioData): void;
}

export interface WrtcAudioSink {
  ondata: ((data: WrtcAudioData) => void) | null;
  stop(): void;
}

export interface WrtcCodecCapability {
  mimeType: string;
  clockRate: number;
  channels?: number;
  sdpFmtpLine?: string;
}

export interface WrtcTransceiver {
  readonly mid: string | null;
  direction: string;
  readonly currentDirection: string | null;
  readonly sender: { readonly track: WrtcTrack | null; replaceTrack(track: WrtcTrack | null): Promise<void> };
  readonly receiver: { readonly track: WrtcTrack };
  setCodecPreferences(codecs: WrtcCodecCapability[]): void;
  stop(): void;
}

export interface WrtcSessionDescription {
  type: 'offer' | 'answer' | 'pranswer' | 'rollback';
  sdp: string;
}

export interface WrtcIceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface WrtcConfiguration {
  iceServers?: WrtcIceServer[];
  iceTransportPolicy?: 'all' | 'relay';
  bundlePolicy?: 'balanced' | 'max-compat' | 'max-bundle';
  rtcpMuxPolicy?: 'require' | 'negotiate';
}

/** One entry of getStats(): the fields the engine reads, by the W3C names. */
export interface WrtcStats {
  id: string;
  type: string;
  [field: string]: unknown;
}

export interface WrtcPeerConnection {
  readonly localDescription: WrtcSessionDescription | null;
  readonly remoteDescription: WrtcSessionDescription | null;
  readonly signalingState: string;
  readonly iceGatheringState: string;
  readonly iceConnectionState: string;
  readonly connectionState: string;
  onicegatheringstatechange: (() => void) | null;
  onconnectionstatechange: (() => void) | null;
  oniceconnectionstatechange: (() => void) | null;
  ontrack: ((event: { track: WrtcTrack; transceiver: WrtcTransceiver }) => void) | null;
  addTrack(track: WrtcTrack): unknown;
  getTransceivers(): WrtcTransceiver[];
  createOffer(): Promise<WrtcSessionDescription>;
  createAnswer(): Promise<WrtcSessionDescription>;
  setLocalDescription(description: WrtcSessionDescription): Promise<void>;
  setRemoteDescription(description: WrtcSessionDescription): Promise<void>;
  getStats(): Promise<Map<string, WrtcStats>>;
  close(): void;
}

export interface Wrtc {
  RTCPeerConnection: new (configuration?: WrtcConfiguration) => WrtcPeerConnection;
  RTCRtpSender: { getCapabilities(kind: 'audio'): { codecs: WrtcCodecCapability[] } | null };
  nonstandard: {
    RTCAudioSource: new () => WrtcAudioSource;
    RTCAudioSink: new (track: WrtcTrack) => WrtcAudioSink;
  };
}

let loaded: Promise<Wrtc> | undefined;

async function load(): Promise<Wrtc> {
  let module: unknown;
  try {
    module = await import('@roamhq/wrtc');
  } catch (error) {
    throw new WebRtcUnavailableError(error);
  }
  const binding = ((module as { default?: unknown }).default ?? module) as Partial<Wrtc>;
  if (typeof binding.RTCPeerConnection !== 'function' || typeof binding.nonstandard?.RTCAudioSource !== 'function') {
    throw new WebRtcUnavailableError(new Error('the module has no RTCPeerConnection or RTCAudioSource'));
  }
  return binding as Wrtc;
}

/**
 * The libwebrtc binding, loaded once per process.
 *
 * @throws {@link WebRtcUnavailableError} when it cannot be loaded.
 */
export function loadWrtc(): Promise<Wrtc> {
  const promise = (loaded ??= load());
  // A failed load is tried again on the next call (an install may be repaired meanwhile).
  promise.catch(() => {
    if (loaded === promise) loaded = undefined;
  });
  return promise;
}

/**
 * The audio codecs libwebrtc runs, as `name/clock[/channels]` (`opus/48000/2`, `ISAC/16000`,
 * `ILBC/8000`, `G722/8000`, `PCMU/8000`, `red/48000/2`, `CN/8000`), in its order; telephone-event
 * is left out (the binding cannot send it). What a policy orders for WebRTC calls.
 *
 * @throws {@link WebRtcUnavailableError} when libwebrtc cannot be loaded.
 * @public
 */
export async function webRtcCodecNames(): Promise<string[]> {
  const wrtc = await loadWrtc();
  const names: string[] = [];
  for (const codec of wrtc.RTCRtpSender.getCapabilities('audio')?.codecs ?? []) {
    const subtype = codec.mimeType.slice(codec.mimeType.indexOf('/') + 1);
    if (subtype.toLowerCase() === 'telephone-event') continue;
    const name = `${subtype}/${codec.clockRate}${codec.channels !== undefined && codec.channels > 1 ? `/${codec.channels}` : ''}`;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}
