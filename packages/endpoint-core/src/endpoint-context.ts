import type { EndpointConfig } from '@sip-endpoint/config';
import type { CallSnapshot, DeviceSelection, EndpointPolicy } from '@sip-endpoint/policy';
import type { AudioDeviceProvider, DtlsCertificate, MediaWorkerPool, PortAllocator, RtpSocketReserve } from '@sip-endpoint/media';
import type { DiagnosticsLogger } from './logging/diagnostics-logger';
import type { DeviceKeeper } from './media/device-keeper';

/**
 * What the Endpoint shares with its lines and their calls: its configuration, policy, devices and
 * log, the media address and ports, and the view of every call the policy decides with. Made by
 * the Endpoint when it starts; internal to endpoint-core.
 */
export interface EndpointContext {
  readonly config: EndpointConfig;
  readonly policy: EndpointPolicy;
  readonly devices: AudioDeviceProvider;
  /** Opens the calls' and conferences' devices on `devices`, holding them as `defer_device_release` and `webrtc_audio_layer` say. */
  readonly deviceKeeper: DeviceKeeper;
  /** Whether calls process their devices' signal (echo control, noise suppression, AGC): the `audioProcessing` option against the provider. */
  readonly processDeviceAudio: boolean;
  readonly logger: DiagnosticsLogger;
  /** Our address: SIP Via/Contact and SDP. */
  readonly address: string;
  /** RTP ports of every call. */
  readonly ports: PortAllocator;
  /** RTP socket pairs bound ahead of the calls (`spareRtpPorts`). */
  readonly rtpReserve?: RtpSocketReserve;
  /** The worker threads of the calls' media (`mediaThreads`), when there are any. */
  readonly mediaWorkers?: MediaWorkerPool;
  /** Our Min-SE (RFC 4028), in seconds. */
  readonly minSessionExpires: number;
  /** Where relative ringtone, ringback and call-waiting files are. */
  readonly mediaDir: string;
  /** Seconds between keep-alives of UDP lines to their server (0: none). */
  readonly udpKeepAliveS: number;
  /** How secure offers carry their keys: SDES or DTLS-SRTP. */
  readonly srtpKeying: 'sdes' | 'dtls';
  /** The OAuth access token of WebRTC (`HTTPS`) lines, when the host gave one (RFC 8898 Bearer). */
  accessToken(): string | undefined;
  /** Our DTLS-SRTP certificate (the configured one, else made once, at first use). */
  dtlsCertificate(): Promise<DtlsCertificate>;
  /** The devices the policy chose (for new calls and ringing). */
  selection(): DeviceSelection | undefined;
  /** The calls of every line that are not over, for the policy's contexts. */
  snapshots(): CallSnapshot[];
  /** Writes to the endpoint's log (level 0 fatal .. 4 debug). */
  log(level: number, component: string, message: string): void;
}
