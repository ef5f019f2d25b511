import { randomBytes } from 'node:crypto';
import { SipEndpointError } from '@sip-endpoint/config';
import { SafeEmitter, StateMachine } from '@sip-endpoint/policy';
import { AUDIO_STREAM_TRANSITIONS, type AudioStreamState } from './audio-stream-state';
import type { AudioInput, AudioOutput } from './audio/audio-device-provider';
import { Resampler } from './audio/resampler';
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
  readonly codec: Codec;
  readonly ptimeMs: number;
  readonly localSsrc: number;
  readonly #session: RtpSession;
  readonly #payloadType: number;
  readonly #telephoneEvent: { payloadType: number; clockRate: number } | undefined;
  readonly #encoder: AudioEncoder;
  readonly #decoder: AudioDecoder;
  readonly #jitter: JitterBuffer;
  readonly #concealer: Concealer;
  readonly #stats = new ReceptionStats();
  readonly #vq: VqMonitor;
  /** Frames the jitter buffer had discarded at the last report. */
  #discardedReported = 0;
  readonly #frameSamples: number;
  readonly #tsPerFrame: number;
  readonly #input: AudioInput | undefined;
  readonly #output: AudioOutput | undefined;
  readonly #inResampler: Resampler | undefined;
  readonly #outResampler: Resampler | undefined;
  readonly #deviceFrame: Int16Array;
  readonly #codecFrame: Int16Array;
  readonly #decodeFrame: Int16Array;
  /**
   * Decoded samples waiting to be played: a packet may carry more or less than one tick's frame
   * (a peer that sends 30 ms packets to our 20 ms clock, without saying so in its SDP). Each tick
   * plays exactly one frame from here and decodes packets only as needed.
   */
  readonly #pending: Int16Array;
  #pendingStart = 0;
  #pendingEnd = 0;
  /** The frame one tick plays (a copy out of `#pending`, so listeners get a whole array). */
  readonly #playFrame: Int16Array;
  /** Samples the last decoded packet held: what a lost packet stands for. */
  #lastPacketSamples: number;
  readonly #outputFrame: Int16Array;
  readonly #packet: Uint8Array;
  /** Views made once, so that the send path allocates nothing: the payload part of #packet, one frame of #codecFrame, one of #deviceFrame. */
  readonly #payloadView: Uint8Array;
  readonly #frameView: Int16Array;
  readonly #deviceView: Int16Array;
  readonly #dtmfSender: TelephoneEventSender | undefined;
  readonly #dtmfReceiver: TelephoneEventReceiver;
  readonly #detector: DtmfDetector | undefined;
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
  readonly #machine: StateMachine<AudioStreamState>;

  constructor(options: AudioStreamOptions) {
    super();
    this.#machine = new StateMachine(`audio stream on port ${options.session.localPort}`, 'NEW', AUDIO_STREAM_TRANSITIONS, (next, previous) => this.emit('stateChanged', next, previous));
    this.codec = options.codec;
    this.ptimeMs = options.ptimeMs ?? 20;
    this.#session = options.session;
    this.#payloadType = options.payloadType;
    this.#telephoneEvent = options.telephoneEvent;
    this.#direction = options.direction ?? 'sendrecv';
    this.#encoder = options.codec.createEncoder();
    this.#decoder = options.codec.createDecoder();
    this.#frameSamples = Math.round((options.codec.sampleRate * this.ptimeMs) / 1000);
    this.#tsPerFrame = Math.round((options.codec.clockRate * this.ptimeMs) / 1000);
    // Room in the jitter buffer for three of our frames per packet; a peer sending more gets it slot by slot.
    this.#jitter = new JitterBuffer({ clockRate: options.codec.clockRate, frameMs: this.ptimeMs, expectedPayloadBytes: options.codec.maxPayloadBytes(this.#frameSamples * 3), ...options.jitterBuffer });
    this.#concealer = new Concealer(options.codec.sampleRate);
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
    this.#dtmfReceiver = new TelephoneEventReceiver((event) => this.emit('dtmf', { digit: event.digit, source: 'rfc4733', durationMs: event.durationMs }), options.telephoneEvent?.clockRate ?? 8000);
    this.#detector = options.detectInbandDtmf ?? true ? new DtmfDetector(options.codec.sampleRate, (digit) => this.emit('dtmf', { digit, source: 'inband' })) : undefined;
    this.#onPlayout = options.onPlayout;
    this.#clock = options.clock ?? MediaClock.shared;
    // One draw for the SSRC, the first sequence number and timestamp, and the CNAME.
    const random = randomBytes(16);
    this.#cname = options.cname ?? `${random.toString('hex', 10, 16)}@sip-endpoint`;
    this.#inactivityMs = options.inactivityTimeoutMs ?? 150000;
    this.#rtcpIntervalMs = (options.rtcpIntervalS ?? 5) * 1000;
    this.#rtcpXr = options.rtcpXr ?? false;
    this.#dtmfFeedback = options.dtmfFeedback ?? false;
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
      this.#feedback ??= new DtmfToneQueue(this.codec.sampleRate, -20);
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
        jitterMs: (this.#stats.jitter / this.codec.clockRate) * 1000,
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
    this.#decoder.close();
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
    const samples = this.#frameSamples;
    // Decode until a frame's worth waits (one packet when packets are as long as our frames).
    while (this.#pendingEnd - this.#pendingStart < samples) this.#decodeNext(samples - (this.#pendingEnd - this.#pendingStart));
    const frame = this.#playFrame;
    const pending = this.#pending;
    const start = this.#pendingStart;
    for (let i = 0; i < samples; i++) frame[i] = pending[start + i]!;
    this.#pendingStart += samples;
    // In-band DTMF is listened for in what came from the far end, before our own feedback is mixed.
    this.#detector?.process(frame, samples);
    this.#feedback?.mix(frame, samples);
    if (this.#speakerMuted) frame.fill(0, 0, samples);
    this.#onPlayout?.(frame, samples, this.codec.sampleRate);
    if (!this.#output || this.#output.discards === true) return;
    if (this.#outResampler) {
      const written = this.#outResampler.process(frame, samples, this.#outputFrame);
      this.#output.write(this.#outputFrame, written);
    } else {
      this.#output.write(frame, samples);
    }
  }

  /**
   * Takes the next packet from the jitter buffer and appends its decoded samples to `#pending`:
   * a lost packet is concealed for as long as the last one lasted, nothing to play is `missing`
   * samples of silence.
   */
  #decodeNext(missing: number): void {
    const frame = this.#decodeFrame;
    const result = this.#jitter.pop();
    let samples: number;
    if (result.kind === 'frame') {
      samples = this.#decoder.decode(result.payload, frame);
      if (samples > 0) this.#lastPacketSamples = samples;
      this.#concealer.good(frame, samples);
    } else if (result.kind === 'lost') {
      samples = this.#lastPacketSamples;
      if (this.#decoder.conceal) samples = this.#decoder.conceal(frame, samples);
      else this.#concealer.conceal(frame, samples);
    } else {
      samples = missing;
      frame.fill(0, 0, samples);
      this.#concealer.good(frame, samples);
    }
    // A packet that decodes to nothing (malformed) plays as silence: the tick must have its frame.
    if (samples <= 0) {
      samples = missing;
      frame.fill(0, 0, samples);
    }
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
    if (!isEvent && header.payloadType !== this.#payloadType) return;
    if (this.#remoteSsrc !== header.ssrc) {
      this.#remoteSsrc = header.ssrc;
      this.#stats.reset();
    }
    // Every packet of the stream counts as received (telephone-events share its sequence numbers,
    // and packets still in flight across a hold are not lost); jitter is measured on audio only,
    // as an event's timestamp stays at its start.
    const arrivalTicks = Math.round((arrival * this.codec.clockRate) / 1000);
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
