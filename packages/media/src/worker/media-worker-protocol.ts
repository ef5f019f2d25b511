import type { AudioProcessingOptions } from '../audio/processing/stream-processing';
import type { AudioStreamStats, DtmfEvent, DtmfSendMethod, MediaDirection } from '../audio-stream';
import type { JitterBufferOptions } from '../jitter/jitter-buffer';
import type { VqReport } from '../quality/vq-monitor';
import type { SrtpDropReason } from '../rtp/rtp-session';
import type { SrtpCounters, SrtpKeyMaterial } from '../srtp/srtp-context';

// The messages between the main thread and a media worker (structured clones). Per packet nothing
// crosses: a worker owns its streams' sockets, clock, codecs and jitter buffers; the main thread
// sends commands (start, hold, mute, DTMF, keys, close) and receives events and, once a second,
// every stream's counters in one message.

/** What a worker stream is made of: the negotiated codec by name, and the stream's settings. */
export interface WorkerStreamSpec {
  /** The codec's name in the package's registry (`PCMA/8000`). */
  codec: string;
  payloadType: number;
  telephoneEvent?: { payloadType: number; clockRate: number };
  remote: { address: string; rtpPort: number; rtcpPort?: number; rtcpMux?: boolean };
  direction: MediaDirection;
  ptimeMs: number;
  inactivityTimeoutMs?: number;
  vqAlarmThreshold?: number;
  rtcpIntervalS?: number;
  rtcpXr?: boolean;
  cname?: string;
  detectInbandDtmf?: boolean;
  dtmfFeedback?: boolean;
  jitterBuffer?: Omit<JitterBufferOptions, 'clockRate' | 'frameMs'>;
  /** The stream's processing (plain data: DTX, its VAD level, the CN payload type). */
  processing?: AudioProcessingOptions;
  muted: boolean;
  speakerMuted: boolean;
}

/** SDES keys for a worker's session: both directions, or none (plain RTP). */
export type WorkerSrtp = { send: SrtpKeyMaterial; receive: SrtpKeyMaterial } | undefined;

/** From the main thread to a worker. */
export type ToWorker =
  | { op: 'bind'; id: number; port: number; bindAddress: string }
  | { op: 'srtp'; id: number; srtp: WorkerSrtp }
  | { op: 'stream'; id: number; spec: WorkerStreamSpec }
  | { op: 'start'; id: number }
  | { op: 'direction'; id: number; direction: MediaDirection }
  | { op: 'muted'; id: number; muted: boolean }
  | { op: 'speakerMuted'; id: number; muted: boolean }
  | { op: 'remote'; id: number; address: string; rtpPort: number; rtcpPort: number; rtcpMux: boolean }
  | { op: 'codec'; id: number; codec: string; payloadType: number; telephoneEvent: { payloadType: number; clockRate: number } | undefined }
  | { op: 'dtmf'; id: number; request: number; digits: string; method: DtmfSendMethod | undefined }
  | { op: 'close'; id: number };

/** An event of a worker's stream or session, as the main thread re-emits it. */
export type WorkerEvent =
  | { name: 'dtmf'; args: [DtmfEvent] }
  | { name: 'vq'; args: [VqReport] }
  | { name: 'vqAlarm'; args: [VqReport] }
  | { name: 'inactivity'; args: [] }
  | { name: 'bye'; args: [] }
  | { name: 'error'; args: [string] }
  | { name: 'srtpDropped'; args: [SrtpDropReason, SrtpCounters] };

/** From a worker to the main thread. */
export type FromWorker =
  | { op: 'bound'; id: number; error?: { code: string | undefined; message: string } }
  | ({ op: 'event'; id: number } & WorkerEvent)
  | { op: 'dtmfDone'; id: number; request: number; unsent?: string }
  | { op: 'stats'; ids: number[]; stats: AudioStreamStats[] }
  | { op: 'closed'; id: number; stats: AudioStreamStats | undefined };
