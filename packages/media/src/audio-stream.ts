import { randomBytes } from 'node:crypto';
import { SipEndpointError } from '@sip-endpoint/config';
import { SafeEmitter, StateMachine } from '@sip-endpoint/policy';
import { AUDIO_STREAM_TRANSITIONS, type AudioStreamState } from './audio-stream-state';
import type { AudioInput, AudioOutput } from './audio/audio-device-provider';
import { Resampler } from './audio/resampler';
import { ComfortNoiseGenerator } from './audio/processing/comfort-noise';
import { GainControl } from './audio/processing/gain-control';
import { MicrophoneProcessing, type AudioProcessingOptions } from './audio/processing/stream-processing';
import type { AudioDecoder, AudioEncoder, Codec } from './codecs/codec';
import { DtmfNotSentError, normalizeDigits, type DtmfDigit } from './dtmf/dtmf-digits';
import { DtmfToneQueue } from './dtmf/dtmf-tone-queue';
import { DtmfDetector } from './dtmf/goertzel';
import { TelephoneEventReceiver, TelephoneEventSender } from './dtmf/rfc4733';
import { Concealer } from './jitter/concealer';
import { JitterBuffer, type JitterBufferOptions, type JitterBufferStats } from './jitter/jitter-buffer';
import { MediaClock } from './media-clock';
import { VqMonitor, type VqReport } from './quality/vq-monitor';
import { buildRtcp, ntpMiddle, ntpNow, roundTripMs, type ReportBlock, type RtcpReport, type VoipMetrics } from './rtp/rtcp';
import { RTP_HEADER_BYTES, writeRtpHeader, type RtpHeader } from './rtp/rtp-packet';
import type { RtpSession } from './rtp/rtp-session';
import type { SrtpCounters, SrtpSuite } from './srtp/srtp-context';
import { ReceptionStats } from './rtp/sequence-stats';

/** SDP media directions. @public */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** How {@link AudioStream.sendDtmf} sends digits. @public */
export type DtmfSendMethod = 'rfc4733' | 'inband';

/** A digit the stream received. @public */
export interface DtmfEvent {
  digit: DtmfDigit;
  /** `rfc4733`: telephone-event packets; `inband`: detected in the audio; `info`: a SIP INFO (reported by the endpoint). */
  source: 'rfc4733' | 'inband' | 'info';
  /** Duration in ms (rfc4733 only). */
  durationMs?: number;
}

/** Options of {@link AudioStream}. @public */
export interface AudioStreamOptions {
  /** The open RTP transport; the stream takes it over and closes it. */
  session: RtpSession;
  codec: Codec;
  /** Negotiated payload type of the codec. */
  payloadType: number;
  /** Negotiated telephone-event payload type and clock rate; without it DTMF goes in-band. */
  telephoneEvent?: { payloadType: number; clockRate: number };
  /** Where to send. */
  remote: { address: string; rtpPort: number; rtcpPort?: number; rtcpMux?: boolean };
  /** @defaultValue 'sendrecv' */
  direction?: MediaDirection;
  /** Packet duration. @defaultValue 20 */
  ptimeMs?: number;
  /** Microphone; without one the stream sends silence. */
  input?: AudioInput;
  /** Speaker; without one received audio is decoded and dropped. */
  output?: AudioOutput;
  /** Also called with every played frame (at the codec rate), after concealment: recorders, tests. */
  onPlayout?: (frame: Int16Array, length: number, sampleRate: number) => void;
  jitterBuffer?: Omit<JitterBufferOptions, 'clockRate' | 'frameMs'>;
  /** `vq_alarm_threshold`: MOS under which the VQ alarm rises; 0 disables. @defaultValue 0 */
  vqAlarmThreshold?: number;
  /** `rtp_inactivity_timeout` in ms: no RTP for that long raises `inactivity`. @defaultValue 150000 */
  inactivityTimeoutMs?: number;
  /** Seconds between RTCP reports (randomised by ±50 %). @defaultValue 5 */
  rtcpIntervalS?: number;
  /**
   * Each RTCP report carries an XR VoIP Metrics block (RFC 3611 4.7) on the stream we receive:
   * loss and discard rates, round trip and end-system delay, R, MOS-LQ and MOS-CQ, the jitter
   * buffer's configuration and delays. @defaultValue false
   */
  rtcpXr?: boolean;
  /** RTCP CNAME. @defaultValue a random name */
  cname?: string;
  /** Listen for in-band DTMF tones in received audio. @defaultValue true */
  detectInbandDtmf?: boolean;
  /** Play sent digits on the output too (`dtmf_feedback`). @defaultValue false */
  dtmfFeedback?: boolean;
  /** Echo control, noise suppression, AGC both ways, DTX with comfort noise (README "Audio processing"). @defaultValue all off */
  processing?: AudioProcessingOptions;
  clock?: MediaClock;
}

/** Counters of a stream. @public */
export interface AudioStreamStats {
  sent: { packets: number; octets: number };
  received: { packets: number; octets: number; lost: number; expected: number; fractionLost: number; jitterMs: number };
  jitterBuffer: JitterBufferStats;
  /** Last round-trip time from RTCP. */
  rttMs: number | undefined;
  /**
   * What the far end last reported (RTCP RR or SR report block) of the stream we send: its
   * cumulative loss, the fraction lost in its last interval (0 to 1), its interarrival jitter;
   * undefined until a report on our SSRC came.
   */
  remoteReport: { cumulativeLost: number; fractionLost: number; jitterMs: number } | undefined;
  /** The far end's last RTCP XR VoIP Metrics block on the stream we send (RFC 3611), when it sends them. */
  remoteVoipMetrics: VoipMetrics | undefined;
  vq: VqReport;
  localSsrc: number;
  remoteSsrc: number | undefined;
  /**
   * SRTP in force on the stream's session: the suite, and what was protected, let through and
   * dropped (authentication failures, replays, too old, malformed) since the last re-key.
   */
  srtp: { suite: SrtpSuite; sent: SrtpCounters; received: SrtpCounters } | undefined;
}

/** Events of an {@link AudioStream}. @public */
export type AudioStreamEvents = {
  /** The stream moved to a new state: `(next, previous)`. */
  stateChanged: [AudioStreamState, AudioStreamState];
  /** The stream closed (once, on the first `close()`), after its `stateChanged` to `CLOSED`. */
  closed: [];
  dtmf: [DtmfEvent];
  /** A new voice-quality report (after every RTCP interval). */
  vq: [VqReport];
  /** The VQ alarm was raised or cleared. */
  vqAlarm: [VqReport];
  /** No RTP received for `inactivityTimeoutMs` while the stream expects some. */
  inactivity: [];
  /** An RTCP BYE came from the peer. */
  bye: [];
  /** The socket or a media tick failed; the stream goes on with the next tick. */
  error: [Error];
};

/** An operation on a closed stream. @public */
export class StreamClosedError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_STREAM_CLOSED';

  constructor() {
    super('ERR_MEDIA_STREAM_CLOSED', 'the audio stream is closed');
  }
}

/**
 * One bidirectional audio stream of a call: microphone frames are resampled, encoded and sent as
 * RTP every ptime; received RTP goes through the jitter buffer, decoder and concealment to the
 * speaker. Telephone-events and in-band DTMF both ways, RTCP SR/RR with RTT, voice quality (MOS)
 * with alarms, hold through directions, and the inactivity timeout.
 *
 * @remarks
 * Every buffer of the send and receive paths is allocated when the stream starts; per packet the
 * stream allocates nothing itself (Node's dgram allocates the received Buffer), and emits nothing.
 *
 * Its lifecycle is an {@link AudioStreamState}: `NEW` -> `RUNNING` (`start()`) -> `CLOSED`
 * (`close()`, also from `NEW`), each move told by `stateChanged`, and `closed` once at the end.
 * After close, `start()`, `setDirection()` and `sendDtmf()` throw {@link StreamClosedError}.
 * A listener that throws is reported as `listenerError` (the stream is a `SafeEmitter`).
 *
 * @public
 */
export class AudioStream extends SafeEmitter<AudioStreamEvents> {
  #codec: Codec;
  readonly ptimeMs: number;
  readonly localSsrc: number;
  readonly #session: RtpSession;
  #payloadType: number;
  #telephoneEvent: { payloadType: number; clockRate: number } | undefined;
  #encoder: AudioEncoder;
  /**
   * The payload types the stream decodes: the codec in use first and, after a switch, the one
   * before it, whose packets still in flight or in the jitter buffer play through their own decoder.
   */
  #decodings: Decoding[];
  /** The decoding whose frames play now: its codec sets the rate of the playout path. */
  #playing: Decoding;
  /** The clock rate of the audio packets last received (the jitter buffer and the jitter measure run at it). */
  #receiveClockRate: number;
  /**
   * The old codec's last moments, at the new rate, to cross-fade the first frame of a new decoder
   * from (see #switchPlayout); `hold` samples of it play whole while the new decoder starts up.
   */
  #switchTail: { samples: Int16Array; hold: number } | undefined;
  /** The same at the speaker's rate, through the old resampler, for the first write after a switch. */
  #deviceTail: { samples: Int16Array; hold: number } | undefined;
  readonly #jitter: JitterBuffer;
  readonly #stats = new ReceptionStats();
  readonly #vq: VqMonitor;
  /** Frames the jitter buffer had discarded at the last report. */
  #discardedReported = 0;
  /** Samples of one frame at the sending codec's rate. */
  #frameSamples: number;
  /** Samples of one frame at the playing codec's rate. */
  #playSamples: number;
  #tsPerFrame: number;
  readonly #input: AudioInput | undefined;
  readonly #output: AudioOutput | undefined;
  #inResampler: Resampler | undefined;
  #outResampler: Resampler | undefined;
  readonly #deviceFrame: Int16Array;
  #codecFrame: Int16Array;
  #decodeFrame: Int16Array;
  /**
   * Decoded samples waiting to be played: a packet may carry more or less than one tick's frame
   * (a peer that sends 30 ms packets to our 20 ms clock, without saying so in its SDP). Each tick
   * plays exactly one frame from here and decodes packets only as needed.
   */
  #pending: Int16Array;
  #pendingStart = 0;
  #pendingEnd = 0;
  /** The frame one tick plays (a copy out of `#pending`, so listeners get a whole array). */
  #playFrame: Int16Array;
  /** Samples the last decoded packet held: what a lost packet stands for. */
  #lastPacketSamples: number;
  readonly #outputFrame: Int16Array;
  #packet: Uint8Array;
  /** Views made once per codec, so that the send path allocates nothing: the payload part of #packet, one frame of #codecFrame, one of #deviceFrame. */
  #payloadView: Uint8Array;
  #frameView: Int16Array;
  #deviceView: Int16Array;
  #dtmfSender: TelephoneEventSender | undefined;
  #dtmfReceiver: TelephoneEventReceiver;
  readonly #detectDtmf: boolean;
  #detector: DtmfDetector | undefined;
  readonly #onPlayout: AudioStreamOptions['onPlayout'];
  readonly #clock: MediaClock;
  readonly #cname: string;
  readonly #inactivityMs: number;
  readonly #rtcpIntervalMs: number;
  readonly #dtmfFeedback: boolean;
  #direction: MediaDirection;
  #muted = false;
  #speakerMuted = false;
  #sequence: number;
  #timestamp: number;
  #marker = true;
  #sentPackets = 0;
  #sentOctets = 0;
  #sentSinceReport = false;
  #remoteSsrc: number | undefined;
  #lastSr: { middle: number; atMs: number } | undefined;
  #rttMs: number | undefined;
  #remoteReport: AudioStreamStats['remoteReport'];
  #remoteVoipMetrics: VoipMetrics | undefined;
  readonly #rtcpXr: boolean;
  /** The largest jitter buffer delay of the call, for XR's JB maximum. */
  #jitterMaxMs = 0;
  #lastRtpAt: number;
  #nextRtcpAt = 0;
  #inband: DtmfToneQueue | undefined;
  /** Digits queued so far per method, and the promises of sendDtmf() waiting for them to go out. */
  readonly #dtmfQueued = { rfc4733: 0, inband: 0 };
  #dtmfWaiters: { method: DtmfSendMethod; target: number; digits: string; resolve: () => void; reject: (error: Error) => void }[] = [];
  /** `dtmf_feedback`: the digits to play locally, each 100 ms then 60 ms of silence. */
  #feedback: DtmfToneQueue | undefined;
  #stop: (() => void) | undefined;
  readonly #processing: AudioProcessingOptions;
  /** The microphone's processing at the sending codec's rate (made again on a codec switch). */
  #tx: MicrophoneProcessing | undefined;
  #rxAgc: GainControl | undefined;
  /** Comfort noise played for received CN packets (RFC 3389) until audio comes again. */
  #comfort: { payloadType: number; generator: ComfortNoiseGenerator; active: boolean } | undefined;
  readonly #machine: StateMachine<AudioStreamState>;

  constructor(options: AudioStreamOptions) {
    super();
    this.#machine = new StateMachine(`audio stream on port ${options.session.localPort}`, 'NEW', AUDIO_STREAM_TRANSITIONS, (next, previous) => this.emit('stateChanged', next, previous));
    this.#codec = options.codec;
    this.ptimeMs = options.ptimeMs ?? 20;
    this.#session = options.session;
    this.#payloadType = options.payloadType;
    this.#telephoneEvent = options.telephoneEvent;
    this.#direction = options.direction ?? 'sendrecv';
    this.#encoder = options.codec.createEncoder();
    this.#playing = { codec: options.codec, payloadType: options.payloadType, decoder: options.codec.createDecoder(), concealer: new Concealer(options.codec.sampleRate) };
    this.#decodings = [this.#playing];
    this.#receiveClockRate = options.codec.clockRate;
    this.#frameSamples = Math.round((options.codec.sampleRate * this.ptimeMs) / 1000);
    this.#playSamples = this.#frameSamples;
    this.#tsPerFrame = Math.round((options.codec.clockRate * this.ptimeMs) / 1000);
    // Room in the jitter buffer for three of our frames per packet; a peer sending more gets it slot by slot.
    this.#jitter = new JitterBuffer({ clockRate: options.codec.clockRate, frameMs: this.ptimeMs, expectedPayloadBytes: options.codec.maxPayloadBytes(this.#frameSamples * 3), ...options.jitterBuffer });
    this.#vq = new VqMonitor({ impairment: options.codec.impairment, alarmThreshold: options.vqAlarmThreshold ?? 0 });
    this.#input = options.input;
    this.#output = options.output;
    const inputRate = options.input?.sampleRate ?? options.codec.sampleRate;
    const outputRate = options.output?.sampleRate ?? options.codec.sampleRate;
    this.#inResampler = inputRate !== options.codec.sampleRate ? new Resampler(inputRate, options.codec.sampleRate) : undefined;
    // A speaker that discards what it is given gets nothing, so nothing is resampled for it.
    this.#outResampler = outputRate !== options.codec.sampleRate && options.output?.discards !== true ? new Resampler(options.codec.sampleRate, outputRate) : undefined;
    this.#deviceFrame = new Int16Array(Math.ceil((inputRate * this.ptimeMs) / 1000) + 2);
    this.#codecFrame = new Int16Array(this.#frameSamples + 2);
    this.#decodeFrame = new Int16Array(Math.max(this.#frameSamples * 6, 5760));
    this.#pending = new Int16Array(this.#decodeFrame.length + this.#frameSamples * 2);
    this.#playFrame = new Int16Array(this.#frameSamples);
    this.#lastPacketSamples = this.#frameSamples;
    this.#outputFrame = new Int16Array(Math.ceil((outputRate * this.ptimeMs * 6) / 1000) + 2);
    this.#packet = new Uint8Array(RTP_HEADER_BYTES + options.codec.maxPayloadBytes(this.#frameSamples));
    this.#payloadView = this.#packet.subarray(RTP_HEADER_BYTES);
    this.#frameView = this.#codecFrame.subarray(0, this.#frameSamples);
    this.#deviceView = this.#deviceFrame.subarray(0, this.#frameSamples);
    this.#dtmfSender = options.telephoneEvent ? new TelephoneEventSender({ clockRate: options.telephoneEvent.clockRate, packetMs: this.ptimeMs }) : undefined;
    this.#dtmfReceiver = this.#eventReceiver(options.telephoneEvent?.clockRate ?? 8000);
    this.#detectDtmf = options.detectInbandDtmf ?? true;
    this.#detector = this.#detectDtmf ? new DtmfDetector(options.codec.sampleRate, (digit) => this.emit('dtmf', { digit, source: 'inband' })) : undefined;
    this.#onPlayout = options.onPlayout;
    this.#clock = options.clock ?? MediaClock.shared;
    // One draw for the SSRC, the first sequence number and timestamp, and the CNAME.
    const random = randomBytes(16);
    this.#cname = options.cname ?? `${random.toString('hex', 10, 16)}@sip-endpoint`;
    this.#inactivityMs = options.inactivityTimeoutMs ?? 150000;
    this.#rtcpIntervalMs = (options.rtcpIntervalS ?? 5) * 1000;
    this.#rtcpXr = options.rtcpXr ?? false;
    this.#dtmfFeedback = options.dtmfFeedback ?? false;
    this.#processing = options.processing ?? {};
    this.#makeProcessing(options.codec);
    this.localSsrc = random.readUInt32BE(0);
    this.#sequence = random.readUInt16BE(4);
    this.#timestamp = random.readUInt32BE(6);
    this.#lastRtpAt = performance.now();
    const remote = options.remote;
    this.#session.setRemote(remote.address, remote.rtpPort, remote.rtcpPort ?? remote.rtpPort + 1, remote.rtcpMux ?? false);
    this.#session.setReceiver((header, data, arrival) => this.#onRtp(header, data, arrival));
    this.#session.on('rtcp', (report) => this.#onRtcp(report));
    this.#session.on('error', (error) => this.emit('error', error));
  }

  /** The codec the stream sends (and, once the peer follows a switch, receives). */
  get codec(): Codec {
    return this.#codec;
  }

  /** The local RTP port (for SDP). */
  get localPort(): number {
    return this.#session.localPort;
  }

  /** The SDP direction the stream sends and receives in. */
  get direction(): MediaDirection {
    return this.#direction;
  }

  /** Where the stream is in its lifecycle (see {@link AudioStreamState}). */
  get state(): AudioStreamState {
    return this.#machine.state;
  }

  /**
   * Starts sending and playing, on the media clock: `NEW` -> `RUNNING`. Starting a running stream
   * does nothing.
   *
   * @throws {@link StreamClosedError} once the stream is closed.
   */
  start(): void {
    if (this.#machine.state === 'CLOSED') throw new StreamClosedError();
    if (this.#machine.state === 'RUNNING') return;
    this.#lastRtpAt = performance.now();
    this.#nextRtcpAt = this.#lastRtpAt + this.#rtcpIntervalMs * (0.5 + Math.random());
    this.#stop = this.#clock.add(this.ptimeMs, (now) => this.#tick(now));
    this.#machine.to('RUNNING');
  }

  /**
   * Changes the direction (hold is `sendonly` or `inactive`, as the re-INVITE negotiated).
   * A stream that stops receiving stops counting inactivity.
   *
   * @throws {@link StreamClosedError} once the stream is closed.
   */
  setDirection(direction: MediaDirection): void {
    if (this.#machine.state === 'CLOSED') throw new StreamClosedError();
    if (direction === this.#direction) return;
    this.#direction = direction;
    this.#lastRtpAt = performance.now();
    this.#marker = true;
  }

  /**
   * Switches the codec in mid-call (a re-INVITE or UPDATE settled another one). Sending changes at
   * the next tick: same SSRC, sequence numbers and timestamps going on (from then on at the new
   * codec's clock rate), the marker bit on the first packet of the new codec. Receiving takes both
   * payload types from now on: packets of the old one still in flight or in the jitter buffer play
   * through the old decoder, and the first frame of the new one is cross-faded from the old
   * codec's concealed continuation (held while the new decoder starts up: opus's first 6.5 ms are
   * silence), so that the switch neither gaps nor clicks. The devices stay open at their rate;
   * the packet duration stays. A switch to the codec and payload type in use only updates the
   * telephone-events. Allocates (decoders, buffers, resamplers) here, not per packet.
   *
   * @remarks
   * RFC 4733 digits still queued when the telephone-event clock rate changes, and in-band digits
   * queued when the codec's sample rate changes, are not sent: their `sendDtmf()` rejects with
   * {@link DtmfNotSentError}.
   *
   * @throws {@link StreamClosedError} once the stream is closed.
   */
  setCodec(change: Pick<AudioStreamOptions, 'codec' | 'payloadType' | 'telephoneEvent'>): void {
    if (this.#machine.state === 'CLOSED') throw new StreamClosedError();
    this.#setTelephoneEvent(change.telephoneEvent);
    const { codec, payloadType } = change;
    if (codec.name === this.#codec.name && payloadType === this.#payloadType) return;
    if (codec.name !== this.#codec.name) this.#switchEncoder(codec);
    this.#payloadType = payloadType;
    this.#marker = true;
    // The receive side: a decoder for the new payload type (the same one when only the number
    // changed), and the one playing now kept for its packets still on their way.
    const playing = this.#playing;
    const next: Decoding = codec.name === playing.codec.name ? { ...playing, payloadType } : { codec, payloadType, decoder: codec.createDecoder(), concealer: new Concealer(codec.sampleRate) };
    const kept = playing.payloadType !== payloadType ? [next, playing] : [next];
    for (const decoding of this.#decodings) if (!kept.includes(decoding) && decoding !== playing && decoding.decoder !== next.decoder) decoding.decoder.close();
    this.#decodings = kept;
    this.#vq.setImpairment(codec.impairment);
  }

  /** The processors at a codec's rate (allocates: at the start and at a codec switch only). */
  #makeProcessing(codec: Codec): void {
    const options = this.#processing;
    this.#tx?.close();
    const tx = new MicrophoneProcessing(options, codec.sampleRate, this.#frameSamples, this.ptimeMs);
    this.#tx = tx.active || tx.dtx ? tx : undefined;
    this.#rxAgc = options.rxAgc ? new GainControl({ sampleRate: codec.sampleRate }) : undefined;
    const cn = options.comfortNoise;
    this.#comfort = cn ? { payloadType: cn.payloadType, generator: new ComfortNoiseGenerator(codec.sampleRate), active: false } : undefined;
  }

  /** Frames of comfort noise played for received CN packets (RFC 3389). */
  get comfortNoiseFrames(): number {
    return this.#comfort?.generator.frames ?? 0;
  }

  /** The send side of a codec switch: encoder, frame sizes, microphone resampler, packet buffer. */
  #switchEncoder(codec: Codec): void {
    const previous = this.#encoder;
    this.#encoder = codec.createEncoder();
    previous.close();
    this.#codec = codec;
    const samples = Math.round((codec.sampleRate * this.ptimeMs) / 1000);
    this.#frameSamples = samples;
    this.#tsPerFrame = Math.round((codec.clockRate * this.ptimeMs) / 1000);
    this.#codecFrame = new Int16Array(samples + 2);
    this.#frameView = this.#codecFrame.subarray(0, samples);
    this.#deviceView = this.#deviceFrame.subarray(0, samples);
    this.#packet = new Uint8Array(RTP_HEADER_BYTES + codec.maxPayloadBytes(samples));
    this.#payloadView = this.#packet.subarray(RTP_HEADER_BYTES);
    const input = this.#input;
    this.#inResampler = input && input.sampleRate !== codec.sampleRate ? new Resampler(input.sampleRate, codec.sampleRate) : undefined;
    if (input && this.#inResampler) {
      // A resampler starts from silence: fed the last microphone frame, the next one continues it
      // instead of ramping up from zero.
      const deviceSamples = Math.round((input.sampleRate * this.ptimeMs) / 1000);
      this.#inResampler.process(this.#deviceFrame, deviceSamples, new Int16Array(this.#inResampler.outputLength(deviceSamples) + 2));
    }
    if (this.#inband && this.#inband.sampleRate !== codec.sampleRate) {
      this.#dropDtmf('inband');
      this.#inband = undefined;
    }
    this.#makeProcessing(codec);
  }

  /** A new telephone-event payload type or clock rate; digits queued at another clock rate are dropped. */
  #setTelephoneEvent(event: { payloadType: number; clockRate: number } | undefined): void {
    const current = this.#telephoneEvent;
    this.#telephoneEvent = event;
    if (event?.clockRate === current?.clockRate) return;
    if (this.#dtmfSender) this.#dropDtmf('rfc4733');
    this.#dtmfSender = event ? new TelephoneEventSender({ clockRate: event.clockRate, packetMs: this.ptimeMs }) : undefined;
    this.#dtmfReceiver = this.#eventReceiver(event?.clockRate ?? 8000);
  }

  #eventReceiver(clockRate: number): TelephoneEventReceiver {
    return new TelephoneEventReceiver((event) => this.emit('dtmf', { digit: event.digit, source: 'rfc4733', durationMs: event.durationMs }), clockRate);
  }

  /** Rejects the sendDtmf() promises of one method whose digits have not all gone, and starts its count afresh. */
  #dropDtmf(method: DtmfSendMethod): void {
    this.#settleDtmf();
    this.#dtmfWaiters = this.#dtmfWaiters.filter((waiter) => {
      if (waiter.method !== method) return true;
      waiter.reject(new DtmfNotSentError(this.#unsent(waiter)));
      return false;
    });
    this.#dtmfQueued[method] = 0;
  }

  /** The decoding of a payload type, if the stream takes it (no allocation: called per packet). */
  #decodingOf(payloadType: number): Decoding | undefined {
    const decodings = this.#decodings;
    for (let i = 0; i < decodings.length; i++) if (decodings[i]!.payloadType === payloadType) return decodings[i];
    return undefined;
  }

  /**
   * The playout moves to another decoder: its first frame is next. The samples waiting in
   * `#pending` and the old codec's concealed continuation are brought to the new rate; the tail is
   * kept to cross-fade that first frame from (#decodeNext), and its speaker-rate version, through
   * the old resampler, to cross-fade the first write to the speaker (#play). The new decoding's
   * concealer and resampler are primed with the last frame played, so that neither starts from silence.
   */
  #switchPlayout(next: Decoding): void {
    const old = this.#playing;
    this.#playing = next;
    if (old.decoder === next.decoder) return;
    if (!this.#decodings.includes(old)) old.decoder.close();
    const oldRate = old.codec.sampleRate;
    const newRate = next.codec.sampleRate;
    const playSamples = Math.round((newRate * this.ptimeMs) / 1000);
    this.#lastPacketSamples = Math.round((this.#lastPacketSamples * newRate) / oldRate);
    // What plays of the tail: the new decoder's start-up, then a 4 ms cross-fade, within one frame.
    const hold = Math.min(playSamples, Math.round((newRate * (next.codec.delayMs ?? 0)) / 1000));
    const tailNew = Math.min(playSamples, hold + Math.round(newRate * 0.004));
    const tailOld = Math.ceil((tailNew * oldRate) / newRate) + 1;
    const lastPlayed = this.#playSamples;
    const leftover = this.#pendingEnd - this.#pendingStart;
    // The last frame played, the samples waiting, and the concealed continuation, at the old rate.
    const source = new Int16Array(lastPlayed + leftover + tailOld);
    source.set(this.#playFrame.subarray(0, lastPlayed));
    source.set(this.#pending.subarray(this.#pendingStart, this.#pendingEnd), lastPlayed);
    old.concealer.conceal(source.subarray(lastPlayed + leftover), tailOld);
    const converted = convertRate(source, oldRate, newRate);
    const primed = Math.round((lastPlayed * newRate) / oldRate);
    const waiting = Math.round((leftover * newRate) / oldRate);
    next.concealer.good(converted.subarray(0, primed), primed);

    this.#playSamples = playSamples;
    this.#decodeFrame = new Int16Array(Math.max(playSamples * 6, 5760));
    this.#pending = new Int16Array(this.#decodeFrame.length + playSamples * 2);
    this.#pending.set(converted.subarray(primed, primed + waiting));
    this.#pendingStart = 0;
    this.#pendingEnd = waiting;
    this.#playFrame = new Int16Array(playSamples);
    this.#switchTail = { samples: converted.slice(primed + waiting, primed + waiting + tailNew), hold };
    if (this.#detectDtmf) this.#detector = new DtmfDetector(newRate, (digit) => this.emit('dtmf', { digit, source: 'inband' }));
    // Feedback tones queued at the old rate are cut short (they are only heard locally).
    if (this.#feedback && this.#feedback.sampleRate !== newRate) this.#feedback = undefined;

    const output = this.#output;
    if (!output) return;
    if (output.discards === true) {
      // Nothing is written now, but an output may take frames later at the rate it said (a call's
      // speaker port put on a conference leg): from then on the frames must be at that rate.
      this.#outResampler = newRate !== output.sampleRate ? new Resampler(newRate, output.sampleRate) : undefined;
      return;
    }
    const oldResampler = this.#outResampler;
    // The old path's continuation at the speaker's rate: the samples waiting, then the tail.
    const waitingAndTail = source.subarray(lastPlayed);
    let deviceTail: Int16Array;
    if (oldResampler) {
      deviceTail = new Int16Array(oldResampler.outputLength(waitingAndTail.length) + 2);
      deviceTail = deviceTail.subarray(0, oldResampler.process(waitingAndTail, waitingAndTail.length, deviceTail));
    } else {
      deviceTail = waitingAndTail.slice();
    }
    this.#deviceTail = { samples: deviceTail, hold: Math.round(((leftover + (hold * oldRate) / newRate) * output.sampleRate) / oldRate) };
    this.#outResampler = newRate !== output.sampleRate ? new Resampler(newRate, output.sampleRate) : undefined;
    if (this.#outResampler) {
      const history = converted.subarray(0, primed);
      this.#outResampler.process(history, primed, new Int16Array(this.#outResampler.outputLength(primed) + 2));
    }
  }

  /** Whether the microphone is muted: silence is sent in its place (RTP keeps flowing; DTMF still goes). */
  get muted(): boolean {
    return this.#muted;
  }

  /** Mutes or unmutes the microphone of this stream (harmless once closed). */
  setMuted(muted: boolean): void {
    this.#muted = muted;
  }

  /** Whether what is received is kept from the speaker (it is still decoded and measured). */
  get speakerMuted(): boolean {
    return this.#speakerMuted;
  }

  /** Mutes or unmutes the received audio of this stream on the speaker (harmless once closed). */
  setSpeakerMuted(muted: boolean): void {
    this.#speakerMuted = muted;
  }

  /** Points the stream at a new remote address (a re-INVITE moved the media). */
  setRemote(address: string, rtpPort: number, rtcpPort: number = rtpPort + 1, rtcpMux = false): void {
    this.#session.setRemote(address, rtpPort, rtcpPort, rtcpMux);
  }

  /**
   * Sends DTMF digits: as RFC 4733 telephone-events when negotiated (unless `inband` is asked), else
   * as tones in the audio. Digits go after those already queued; the promise resolves once these
   * have all gone out (the last end packet, or the end of the last tone), and rejects with
   * {@link DtmfNotSentError} naming the digits not sent when the stream closes first.
   *
   * @throws {@link InvalidDtmfDigitError} for a character that is not a digit (nothing is sent).
   * @throws {@link StreamClosedError} once the stream is closed.
   */
  sendDtmf(digits: string, method: DtmfSendMethod = this.#telephoneEvent ? 'rfc4733' : 'inband'): Promise<void> {
    if (this.#machine.state === 'CLOSED') throw new StreamClosedError();
    const list = normalizeDigits(digits);
    const used: DtmfSendMethod = method === 'rfc4733' && this.#dtmfSender ? 'rfc4733' : 'inband';
    if (used === 'rfc4733') {
      this.#dtmfSender!.send(list);
    } else {
      this.#inband ??= new DtmfToneQueue(this.codec.sampleRate, -7);
      this.#inband.push(list);
    }
    if (this.#dtmfFeedback && list.length > 0) {
      this.#feedback ??= new DtmfToneQueue(this.#playing.codec.sampleRate, -20);
      this.#feedback.push(list);
    }
    this.#dtmfQueued[used] += list.length;
    if (list.length === 0) return Promise.resolve();
    const sent = new Promise<void>((resolve, reject) => {
      this.#dtmfWaiters.push({ method: used, target: this.#dtmfQueued[used], digits: list.join(''), resolve, reject });
    });
    // A caller that does not wait must not meet an unhandled rejection when the call ends first.
    sent.catch(() => undefined);
    return sent;
  }

  /** The digits of a sendDtmf() call that have not gone out. */
  #unsent(waiter: { method: DtmfSendMethod; target: number; digits: string }): string {
    const done = waiter.method === 'rfc4733' ? (this.#dtmfSender?.completed ?? 0) : (this.#inband?.completed ?? 0);
    const missing = Math.min(waiter.digits.length, waiter.target - done);
    return waiter.digits.slice(waiter.digits.length - missing);
  }

  /** Resolves the sendDtmf() promises whose digits have all gone out. */
  #settleDtmf(): void {
    const done = { rfc4733: this.#dtmfSender?.completed ?? 0, inband: this.#inband?.completed ?? 0 };
    const left = this.#dtmfWaiters.filter((waiter) => {
      if (done[waiter.method] < waiter.target) return true;
      waiter.resolve();
      return false;
    });
    this.#dtmfWaiters = left;
  }

  /** Current counters. */
  stats(): AudioStreamStats {
    const expected = this.#stats.expected;
    return {
      sent: { packets: this.#sentPackets, octets: this.#sentOctets },
      received: {
        packets: this.#stats.received,
        octets: this.#stats.octets,
        lost: Math.max(0, this.#stats.lost),
        expected,
        fractionLost: expected > 0 ? Math.max(0, this.#stats.lost) / expected : 0,
        jitterMs: (this.#stats.jitter / this.#receiveClockRate) * 1000,
      },
      jitterBuffer: this.#jitter.stats(),
      rttMs: this.#rttMs,
      remoteReport: this.#remoteReport,
      remoteVoipMetrics: this.#remoteVoipMetrics,
      vq: this.#vq.report,
      localSsrc: this.localSsrc,
      remoteSsrc: this.#remoteSsrc,
      srtp: this.#srtpStats(),
    };
  }

  #srtpStats(): AudioStreamStats['srtp'] {
    const srtp = this.#session.srtp;
    return srtp ? { suite: srtp.send.suite, sent: { ...srtp.send.counters }, received: { ...srtp.receive.counters } } : undefined;
  }

  /**
   * Sends an RTCP BYE, stops, releases the ports, the codec and the devices, and moves to
   * `CLOSED`: `stateChanged`, then `closed`, then every listener is removed. Calling it twice is
   * harmless.
   */
  close(): void {
    if (this.#machine.state === 'CLOSED') return;
    this.#stop?.();
    this.#stop = undefined;
    this.#session.close(this.#buildReport(''));
    this.#encoder.close();
    this.#playing.decoder.close();
    for (const decoding of this.#decodings) decoding.decoder.close();
    this.#tx?.close();
    this.#input?.close();
    this.#output?.close();
    this.#machine.to('CLOSED');
    this.#settleDtmf();
    for (const waiter of this.#dtmfWaiters) waiter.reject(new DtmfNotSentError(this.#unsent(waiter)));
    this.#dtmfWaiters = [];
    this.emit('closed');
    this.removeAllListeners();
  }

  #tick(now: number): void {
    if (this.#machine.state === 'CLOSED') return;
    try {
      this.#send();
      if (this.#dtmfWaiters.length > 0) this.#settleDtmf();
      this.#play();
      this.#dtmfReceiver.flush(now);
      const receives = this.#direction === 'sendrecv' || this.#direction === 'recvonly';
      if (receives && now - this.#lastRtpAt >= this.#inactivityMs) {
        this.#lastRtpAt = now;
        this.emit('inactivity');
      }
      if (now >= this.#nextRtcpAt) {
        this.#nextRtcpAt = now + this.#rtcpIntervalMs * (0.5 + Math.random());
        this.#reportInterval();
      }
    } catch (error) {
      this.emit('error', error as Error);
    }
  }

  #send(): void {
    const timestamp = this.#timestamp;
    this.#timestamp = (this.#timestamp + this.#tsPerFrame) >>> 0;
    const sends = this.#direction === 'sendrecv' || this.#direction === 'sendonly';
    // Read the microphone every tick, so that a file or tone source keeps its pace while on hold.
    const frame = this.#codecFrame;
    if (this.#input) {
      const deviceSamples = Math.round((this.#input.sampleRate * this.ptimeMs) / 1000);
      this.#input.read(this.#deviceFrame, deviceSamples);
      if (this.#inResampler) this.#inResampler.process(this.#deviceFrame, deviceSamples, frame);
      else frame.set(this.#deviceView);
      if (this.#muted) frame.fill(0);
      else this.#tx?.process(frame, this.#frameSamples);
    } else {
      frame.fill(0);
    }
    if (!sends) return;
    const packet = this.#packet;
    const event = this.#dtmfSender?.next(timestamp, this.#payloadView);
    if (event && this.#telephoneEvent) {
      writeRtpHeader(packet, event.marker, this.#telephoneEvent.payloadType, this.#sequence, event.timestamp, this.localSsrc);
      this.#transmit(RTP_HEADER_BYTES + event.length);
      return;
    }
    const dtx = this.#tx?.dtx;
    // DTX: silences go as CN packets or not at all; a frame carrying an in-band digit always goes.
    if (dtx && this.#dtmfQueued.inband <= (this.#inband?.completed ?? 0)) {
      const decision = dtx.decide(frame, this.#frameSamples);
      if (decision !== 'speech') {
        // The first packet after a silence carries the marker (RFC 3551 4.1).
        this.#marker = true;
        const cn = this.#processing.comfortNoise;
        if (decision === 'silent' || !cn) return;
        const length = dtx.writeSid(packet, RTP_HEADER_BYTES);
        writeRtpHeader(packet, false, cn.payloadType, this.#sequence, timestamp, this.localSsrc);
        this.#transmit(RTP_HEADER_BYTES + length);
        return;
      }
    }
    this.#inband?.replace(frame, this.#frameSamples);
    const length = this.#encoder.encode(this.#frameView, this.#payloadView);
    writeRtpHeader(packet, this.#marker, this.#payloadType, this.#sequence, timestamp, this.localSsrc);
    this.#marker = false;
    this.#transmit(RTP_HEADER_BYTES + length);
  }

  #transmit(length: number): void {
    this.#session.sendRtp(this.#packet, length);
    this.#sequence = (this.#sequence + 1) & 0xffff;
    this.#sentPackets++;
    this.#sentOctets += length - RTP_HEADER_BYTES;
    this.#sentSinceReport = true;
  }

  #play(): void {
    // Decode until a frame's worth waits (one packet when packets are as long as our frames). A
    // packet of another codec switches the playout's rate, and so the frame's length, on the way.
    while (this.#pendingEnd - this.#pendingStart < this.#playSamples) this.#decodeNext(this.#playSamples - (this.#pendingEnd - this.#pendingStart));
    const samples = this.#playSamples;
    const frame = this.#playFrame;
    const pending = this.#pending;
    const start = this.#pendingStart;
    for (let i = 0; i < samples; i++) frame[i] = pending[start + i]!;
    this.#pendingStart += samples;
    // In-band DTMF is listened for in what came from the far end, before our own feedback is mixed.
    this.#detector?.process(frame, samples);
    this.#rxAgc?.process(frame, samples);
    this.#feedback?.mix(frame, samples);
    if (this.#speakerMuted) frame.fill(0, 0, samples);
    // What the speaker plays is the echo canceller's reference (at the microphone's codec rate only).
    const echo = this.#tx?.echo;
    if (echo && echo.sampleRate === this.#playing.codec.sampleRate) echo.farEnd(frame, samples);
    this.#onPlayout?.(frame, samples, this.#playing.codec.sampleRate);
    if (!this.#output || this.#output.discards === true) return;
    if (this.#outResampler) {
      const written = this.#outResampler.process(frame, samples, this.#outputFrame);
      if (this.#deviceTail) this.#fadeDeviceTail(this.#outputFrame, written);
      this.#output.write(this.#outputFrame, written);
    } else {
      if (this.#deviceTail) this.#fadeDeviceTail(frame, samples);
      this.#output.write(frame, samples);
    }
  }

  /** The first write to the speaker after a codec switch starts on the old path's continuation (#switchPlayout). */
  #fadeDeviceTail(frame: Int16Array, length: number): void {
    const tail = this.#deviceTail!;
    this.#deviceTail = undefined;
    crossFade(frame, Math.min(length, tail.samples.length), tail.samples, tail.hold);
  }

  /**
   * Takes the next packet from the jitter buffer and appends its decoded samples to `#pending`:
   * a lost packet is concealed for as long as the last one lasted, nothing to play is `missing`
   * samples of silence.
   */
  #decodeNext(missing: number): void {
    const result = this.#jitter.pop();
    const comfort = this.#comfort;
    if (comfort && (result.kind === 'frame' ? result.payloadType === comfort.payloadType : comfort.active)) {
      // A CN packet, or the gap after one (DTX sends nothing more): noise of the packet's level
      // and spectrum, faded in from the last sample played when it starts.
      if (result.kind === 'frame') comfort.generator.setPayload(result.payload);
      const last = comfort.active ? undefined : this.#pendingEnd > 0 ? this.#pending[this.#pendingEnd - 1]! : this.#playFrame[this.#playSamples - 1]!;
      comfort.active = true;
      comfort.generator.generate(this.#decodeFrame, missing, last);
      this.#playing.concealer.good(this.#decodeFrame, missing);
      this.#appendPending(this.#decodeFrame, missing);
      return;
    }
    if (comfort && result.kind === 'frame') comfort.active = false;
    // A packet whose decoder is gone (a payload type of two switches ago) counts as lost.
    const decoding = result.kind === 'frame' ? this.#decodingOf(result.payloadType) : undefined;
    if (decoding && decoding !== this.#playing) {
      this.#switchPlayout(decoding);
      // The switch changed the rate: what is missing is counted again, in the new samples.
      missing = Math.max(1, this.#playSamples - (this.#pendingEnd - this.#pendingStart));
    }
    const playing = this.#playing;
    const frame = this.#decodeFrame;
    let samples: number;
    if (result.kind === 'frame' && decoding) {
      samples = playing.decoder.decode(result.payload, frame);
      if (samples > 0) this.#lastPacketSamples = samples;
      const tail = this.#switchTail;
      if (tail) {
        this.#switchTail = undefined;
        crossFade(frame, Math.min(Math.max(0, samples), tail.samples.length), tail.samples, tail.hold);
      }
      playing.concealer.good(frame, samples);
    } else if (result.kind !== 'silence') {
      samples = this.#lastPacketSamples;
      if (playing.decoder.conceal) samples = playing.decoder.conceal(frame, samples);
      else playing.concealer.conceal(frame, samples);
    } else {
      samples = missing;
      frame.fill(0, 0, samples);
      playing.concealer.good(frame, samples);
    }
    // A packet that decodes to nothing (malformed) plays as silence: the tick must have its frame.
    if (samples <= 0) {
      samples = missing;
      frame.fill(0, 0, samples);
    }
    this.#appendPending(frame, samples);
  }

  /** Appends decoded (or generated) samples to what waits to be played. */
  #appendPending(frame: Int16Array, samples: number): void {
    const pending = this.#pending;
    if (this.#pendingStart > 0) {
      // Move what waits to the front (no allocation; a few samples at most).
      pending.copyWithin(0, this.#pendingStart, this.#pendingEnd);
      this.#pendingEnd -= this.#pendingStart;
      this.#pendingStart = 0;
    }
    const room = Math.min(samples, pending.length - this.#pendingEnd);
    const end = this.#pendingEnd;
    for (let i = 0; i < room; i++) pending[end + i] = frame[i]!;
    this.#pendingEnd += room;
  }

  #onRtp(header: RtpHeader, data: Buffer, arrival: number): void {
    if (this.#machine.state === 'CLOSED') return;
    const receives = this.#direction === 'sendrecv' || this.#direction === 'recvonly';
    this.#lastRtpAt = arrival;
    const isEvent = this.#telephoneEvent !== undefined && header.payloadType === this.#telephoneEvent.payloadType;
    const decoding = isEvent ? undefined : this.#decodingOf(header.payloadType);
    // CN packets (RFC 3389) go through the jitter buffer with the audio, in their place.
    const isComfortNoise = this.#comfort !== undefined && header.payloadType === this.#comfort.payloadType;
    if (!isEvent && !decoding && !isComfortNoise) return;
    if (decoding && decoding.codec.clockRate !== this.#receiveClockRate) {
      // The peer switched codecs to another clock rate: timestamps go on at the new rate.
      this.#stats.changeClockRate(decoding.codec.clockRate / this.#receiveClockRate);
      this.#receiveClockRate = decoding.codec.clockRate;
      this.#jitter.setClockRate(decoding.codec.clockRate);
    }
    if (this.#remoteSsrc !== header.ssrc) {
      this.#remoteSsrc = header.ssrc;
      this.#stats.reset();
    }
    // Every packet of the stream counts as received (telephone-events share its sequence numbers,
    // and packets still in flight across a hold are not lost); jitter is measured on audio only,
    // as an event's timestamp stays at its start.
    const arrivalTicks = Math.round((arrival * this.#receiveClockRate) / 1000);
    this.#stats.update(header.sequence, header.timestamp, arrivalTicks, header.payloadLength, !isEvent);
    if (!receives) return;
    if (isEvent) {
      this.#dtmfReceiver.receive(header.timestamp, data, header.payloadOffset, header.payloadLength, arrival);
      return;
    }
    this.#jitter.push(header.ssrc, header.sequence, header.timestamp, header.payloadType, header.marker, data, header.payloadOffset, header.payloadLength, arrival);
  }


  #onRtcp(report: RtcpReport): void {
    if (this.#machine.state === 'CLOSED') return;
    if (report.sender) this.#lastSr = { middle: ntpMiddle(report.sender.ntpSeconds, report.sender.ntpFraction), atMs: Date.now() };
    for (const block of report.reports) {
      if (block.ssrc !== this.localSsrc) continue;
      const rtt = roundTripMs(block);
      if (rtt !== undefined) this.#rttMs = rtt;
      this.#remoteReport = { cumulativeLost: Math.max(0, block.cumulativeLost), fractionLost: block.fractionLost / 256, jitterMs: (block.jitter / this.codec.clockRate) * 1000 };
    }
    for (const metrics of report.voipMetrics) if (metrics.ssrc === this.localSsrc) this.#remoteVoipMetrics = metrics;
    if (report.bye) this.emit('bye');
  }

  /**
   * Sends RTCP for the interval and feeds the voice-quality monitor. The monitor's loss is what the
   * listener misses: packets the network lost, and those the jitter buffer discarded (too late for
   * their playout, or dropped to shorten the delay); RTCP reports the network's loss only.
   */
  #reportInterval(): void {
    const interval = this.#stats.interval();
    const jb = this.#jitter.stats();
    const discarded = jb.late + jb.dropped;
    const discardedNow = discarded - this.#discardedReported;
    this.#discardedReported = discarded;
    if (this.#remoteSsrc !== undefined && interval.expected > 0) {
      const lost = Math.min(interval.expected, Math.max(0, interval.lost) + discardedNow);
      const report = this.#vq.add({ expected: interval.expected, lost, rttMs: this.#rttMs, jitterBufferMs: jb.currentDelayMs, frameMs: this.ptimeMs });
      this.emit('vq', report);
      if (report.alarmChanged) this.emit('vqAlarm', report);
    }
    this.#session.sendRtcp(this.#buildReport(undefined, interval.fractionLost));
    this.#sentSinceReport = false;
  }

  #buildReport(bye: string | undefined, fractionLost = 0): Uint8Array {
    const reports: ReportBlock[] = [];
    if (this.#remoteSsrc !== undefined) {
      reports.push({
        ssrc: this.#remoteSsrc,
        fractionLost,
        cumulativeLost: this.#stats.lost,
        highestSequence: this.#stats.extendedMax,
        jitter: this.#stats.jitter,
        lastSr: this.#lastSr?.middle ?? 0,
        delaySinceLastSr: this.#lastSr ? Math.round(((Date.now() - this.#lastSr.atMs) / 1000) * 65536) : 0,
      });
    }
    const now = ntpNow();
    const sender = this.#sentSinceReport || bye !== undefined
      ? { ntpSeconds: now.seconds, ntpFraction: now.fraction, rtpTimestamp: this.#timestamp, packetCount: this.#sentPackets, octetCount: this.#sentOctets }
      : undefined;
    const voipMetrics = this.#rtcpXr && this.#remoteSsrc !== undefined ? [this.#voipMetrics(this.#remoteSsrc)] : undefined;
    return buildRtcp({ ssrc: this.localSsrc, sender, reports, cname: this.#cname, ...(voipMetrics ? { voipMetrics } : {}), ...(bye !== undefined ? { bye } : {}) });
  }

  /**
   * Our XR VoIP Metrics on the stream we receive (RFC 3611 4.7), over the call so far. Loss is
   * counted as random (all of it in gaps: no burst is told apart); signal, noise and echo levels
   * are not measured (127, unavailable).
   */
  #voipMetrics(ssrc: number): VoipMetrics {
    const expected = Math.max(1, this.#stats.expected);
    const jb = this.#jitter.stats();
    this.#jitterMaxMs = Math.max(this.#jitterMaxMs, jb.currentDelayMs, jb.targetDelayMs);
    const lossRate = Math.max(0, this.#stats.lost) / expected;
    const vq = this.#vq.report;
    return {
      ssrc,
      lossRate,
      discardRate: (jb.late + jb.dropped) / expected,
      burstDensity: 0,
      gapDensity: lossRate,
      burstDurationMs: 0,
      gapDurationMs: Math.round((this.#stats.expected * this.ptimeMs)),
      roundTripDelayMs: this.#rttMs ?? 0,
      endSystemDelayMs: jb.currentDelayMs + this.ptimeMs,
      signalLevel: undefined,
      noiseLevel: undefined,
      rerl: undefined,
      gmin: 16,
      rFactor: vq.rFactor,
      externalRFactor: undefined,
      mosLq: vq.listeningMos,
      mosCq: vq.mos,
      plc: 3,
      jitterBufferAdaptive: 3,
      jitterBufferRate: 0,
      jitterBufferNominalMs: jb.targetDelayMs,
      jitterBufferMaxMs: this.#jitterMaxMs,
      jitterBufferAbsMaxMs: this.#jitterMaxMs,
    };
  }
}

/** How one payload type the stream receives is decoded. */
interface Decoding {
  codec: Codec;
  payloadType: number;
  decoder: AudioDecoder;
  concealer: Concealer;
}

/**
 * Starts `frame` on `tail`: its first `hold` samples are the tail's, the next ones move from the
 * tail to the frame's own along a raised cosine, up to `length` (the tail's end).
 */
function crossFade(frame: Int16Array, length: number, tail: Int16Array, hold: number): void {
  const fade = length - hold;
  for (let i = 0; i < length; i++) {
    const w = i < hold ? 0 : 0.5 - 0.5 * Math.cos((Math.PI * (i - hold + 0.5)) / fade);
    frame[i] = Math.round(frame[i]! * w + tail[i]! * (1 - w));
  }
}

/**
 * A few milliseconds of audio at another rate, for a codec switch (allocates; not for every
 * frame): linear interpolation going up, the mean of the samples each output one covers going down.
 */
function convertRate(samples: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return samples.slice();
  const length = Math.round((samples.length * toRate) / fromRate);
  const out = new Int16Array(length);
  const step = fromRate / toRate;
  const last = samples.length - 1;
  for (let j = 0; j < length; j++) {
    const at = j * step;
    if (step <= 1) {
      const i = Math.min(last, Math.floor(at));
      const next = Math.min(last, i + 1);
      const f = at - i;
      out[j] = Math.round(samples[i]! * (1 - f) + samples[next]! * f);
    } else {
      const from = Math.max(0, Math.round(at - step / 2));
      const to = Math.min(last, Math.round(at + step / 2));
      let sum = 0;
      for (let i = from; i <= to; i++) sum += samples[i]!;
      out[j] = Math.round(sum / (to - from + 1));
    }
  }
  return out;
}
