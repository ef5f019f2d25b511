import { SafeEmitter, StateMachine } from '@sip-endpoint/policy';
import type { AudioInput, AudioOutput } from '../audio/audio-device-provider';
import { ComfortNoiseGenerator, comfortNoiseLevel, DtxController } from '../audio/processing/comfort-noise';
import { GainControl } from '../audio/processing/gain-control';
import type { EchoCanceller } from '../audio/processing/echo-canceller';
import { MicrophoneProcessing, type AudioProcessingOptions } from '../audio/processing/stream-processing';
import { Resampler } from '../audio/resampler';
import { AUDIO_STREAM_TRANSITIONS, type AudioStreamState } from '../audio-stream-state';
import { StreamClosedError, type DtmfEvent, type MediaDirection } from '../audio-stream';
import { codecs } from '../codecs/codec-registry';
import { DtmfNotSentError, normalizeDigits, type DtmfDigit } from '../dtmf/dtmf-digits';
import { DtmfToneQueue } from '../dtmf/dtmf-tone-queue';
import { DtmfDetector } from '../dtmf/goertzel';
import { MediaClock } from '../media-clock';
import { VqMonitor, type VqReport } from '../quality/vq-monitor';
import { SdpError } from '../sdp/sdp-error';
import { PlayoutFifo } from './playout-fifo';
import { loadWrtc, type Wrtc, type WrtcAudioData, type WrtcAudioSink, type WrtcAudioSource, type WrtcCodecCapability, type WrtcIceServer, type WrtcPeerConnection, type WrtcStats, type WrtcTransceiver } from './wrtc';

/** Options of {@link WebRtcAudioStream}. @public */
export interface WebRtcAudioStreamOptions {
  /** Microphone; without one the stream sends silence. Read every 10 ms at its own rate. */
  input?: AudioInput;
  /** Speaker; without one what is received is measured and dropped. Written every 10 ms. */
  output?: AudioOutput;
  /** Also called with every received 10 ms frame, at the rate libwebrtc plays it (recorders, tests). */
  onPlayout?: (frame: Int16Array, length: number, sampleRate: number) => void;
  /** STUN and TURN servers (`stun:host:port`, `turn:host:port?transport=udp|tcp`). @defaultValue none */
  iceServers?: readonly WrtcIceServer[];
  /** `relay`: only relayed candidates (TURN). @defaultValue 'all' */
  iceTransportPolicy?: 'all' | 'relay';
  /**
   * The codecs to offer and accept, preferred first, by name as SDP writes them (`opus`, `PCMU`,
   * `PCMA`, `G722`, `ILBC`, `ISAC`); names libwebrtc does not have are left out.
   * @defaultValue every audio codec libwebrtc has, in its order
   */
  codecs?: readonly string[];
  /** @defaultValue 'sendrecv' */
  direction?: MediaDirection;
  /** MOS under which the VQ alarm rises; 0 disables. @defaultValue 0 */
  vqAlarmThreshold?: number;
  /** No RTP received for this long raises `inactivity`. @defaultValue 150000 */
  inactivityTimeoutMs?: number;
  /** Listen for in-band DTMF tones in received audio. @defaultValue true */
  detectInbandDtmf?: boolean;
  /** Play sent digits on the output too (`dtmf_feedback`). @defaultValue false */
  dtmfFeedback?: boolean;
  /** How long an offer or answer waits for its ICE candidates (SIP has no trickle ICE). @defaultValue 5000 */
  gatheringTimeoutMs?: number;
  /**
   * How long the connection (ICE, then DTLS) may take from `start()` before the stream gives up
   * (`failed`): libwebrtc alone would retry a DTLS handshake that gets no answer for a minute.
   * @defaultValue 20000
   */
  connectTimeoutMs?: number;
  /**
   * Audio processing (README "Audio processing"). libwebrtc's own processing module runs only on
   * the capture of its audio device module, which an `RTCAudioSource` replaces; so noise
   * suppression and AGC are this package's processors, on the frames given to libwebrtc (at the
   * microphone's rate: 8, 16 or 48 kHz; measured at 8 and 16). `echoControl` takes a microphone
   * and a speaker that plays (not `discards`), at 8, 16, 32 or 48 kHz: what libwebrtc plays then
   * waits in a short queue (20 to 100 ms) and the media clock gives the speaker one frame a tick,
   * the tick it reads the microphone, so that the canceller's reference keeps in step with the
   * echo (libwebrtc hands its frames over in bursts). `rxAgc` runs on what libwebrtc plays. DTX: on opus, libopus's own (`usedtx=1` put in the peer's opus
   * format, which is how libwebrtc is told to send it), with this package's VAD (`vadLevel`)
   * turning the pauses into the digital silence libopus needs to stop sending; on the other
   * codecs, RFC 3389 comfort noise by libwebrtc (CN offered and accepted only with `dtx`), whose
   * own VAD runs at its gentlest mode: the pauses this package's VAD (`vadLevel`) finds reach it
   * as steady white noise at the room's floor, at most -58 dBFS in the 0-4 kHz band (louder, its
   * VAD takes noise for speech), so that it sends SID packets for them. `comfortNoise` is ignored
   * (libwebrtc negotiates CN).
   * @defaultValue all off
   */
  processing?: AudioProcessingOptions;
  clock?: MediaClock;
}

/** How libwebrtc's connection stands (`RTCPeerConnection.connectionState`). @public */
export type WebRtcConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/** Counters of a {@link WebRtcAudioStream}, from libwebrtc's statistics (refreshed every second). @public */
export interface WebRtcAudioStreamStats {
  /** The codec in use (`opus/48000/2`, `PCMU/8000`), once media flows. */
  codec: string | undefined;
  sent: { packets: number; octets: number };
  received: { packets: number; octets: number; lost: number; expected: number; fractionLost: number; jitterMs: number };
  /** libwebrtc's jitter buffer: its mean delay, and the samples it concealed. */
  jitterBuffer: { delayMs: number; concealedSamples: number };
  rttMs: number | undefined;
  vq: VqReport;
  /** The selected ICE pair's ends, once connected. */
  ice: { local: string; remote: string; localType: string; remoteType: string } | undefined;
  /** DTLS-SRTP, always: the SRTP suite libwebrtc negotiated, once connected. */
  srtpCipher: string | undefined;
}

/** Events of a {@link WebRtcAudioStream}. @public */
export type WebRtcAudioStreamEvents = {
  stateChanged: [AudioStreamState, AudioStreamState];
  closed: [];
  dtmf: [DtmfEvent];
  vq: [VqReport];
  vqAlarm: [VqReport];
  /** No RTP received for `inactivityTimeoutMs` while the stream expects some. */
  inactivity: [];
  /** libwebrtc's connection (ICE and DTLS together) moved. */
  connectionStateChanged: [WebRtcConnectionState];
  /**
   * The media cannot flow, and will not: ICE found no working pair or lost it, the DTLS handshake
   * failed, or the connection did not come up within `connectTimeoutMs`. Emitted once, with why.
   */
  failed: [string];
  error: [Error];
};

/** The speaker's side with echo control: see `WebRtcAudioStream.#playout`. */
interface ClockedPlayout {
  fifo: PlayoutFifo;
  frame: Int16Array;
  echo: EchoCanceller;
  resampler: Resampler | undefined;
  reference: Int16Array;
}

/** One frame is 10 ms: what RTCAudioSource takes and RTCAudioSink gives. */
const FRAME_MS = 10;
/** Seconds between statistics reads, and reads between voice-quality reports. */
const STATS_INTERVAL_MS = 1000;
const VQ_EVERY = 5;

/**
 * One audio stream of a call whose peer speaks WebRTC (`UDP/TLS/RTP/SAVPF`: ICE, DTLS-SRTP,
 * rtcp-mux), run by libwebrtc through `@roamhq/wrtc`: its ICE, DTLS, codecs (opus, G.722, G.711,
 * iLBC, iSAC), jitter buffer and concealment. The SDP is libwebrtc's, gathered whole before it is
 * given (SIP does not trickle candidates). The devices are ours: the microphone is read and given to
 * an `RTCAudioSource` every 10 ms, and what an `RTCAudioSink` gives is resampled to the speaker.
 *
 * @remarks
 * DTMF: libwebrtc's Node binding has no `RTCDTMFSender`, and does not report received
 * telephone-events, so the stream offers no telephone-event (a peer then sends SIP INFO or tones)
 * and {@link WebRtcAudioStream.sendDtmf} sends tones in the audio; received tones are detected.
 *
 * Lifecycle as {@link AudioStream}'s: `NEW` -> `RUNNING` (`start()`) -> `CLOSED`. Per frame our
 * part allocates nothing (one reused frame object each way); libwebrtc's own threads do the rest.
 *
 * @public
 */
export class WebRtcAudioStream extends SafeEmitter<WebRtcAudioStreamEvents> {
  readonly #pc: WrtcPeerConnection;
  readonly #transceiver: WrtcTransceiver;
  readonly #source: WrtcAudioSource;
  #sink: WrtcAudioSink | undefined;
  readonly #input: AudioInput | undefined;
  readonly #output: AudioOutput | undefined;
  readonly #onPlayout: WebRtcAudioStreamOptions['onPlayout'];
  readonly #machine: StateMachine<AudioStreamState>;
  readonly #clock: MediaClock;
  readonly #gatheringTimeoutMs: number;
  /** The asked codecs' names (lower case, without rate), when some were asked. */
  readonly #codecNames: ReadonlySet<string> | undefined;
  readonly #connectTimeoutMs: number;
  #connectTimer: NodeJS.Timeout | undefined;
  #failure: string | undefined;
  readonly #inactivityMs: number;
  readonly #detect: boolean;
  readonly #dtmfFeedback: boolean;
  readonly #vqThreshold: number;
  /** The microphone's frame, handed to libwebrtc in one reused object. */
  readonly #sendData: WrtcAudioData;
  #outResampler: Resampler | undefined;
  #outputFrame = new Int16Array(0);
  /** Echo control, noise suppression and AGC on the microphone's frames (at its rate), when asked. */
  readonly #tx: MicrophoneProcessing | undefined;
  /**
   * With echo control: what libwebrtc plays waits here, and each tick of the media clock gives one
   * frame to the speaker and to the canceller (resampled to the microphone's rate when the two differ).
   */
  readonly #playout: ClockedPlayout | undefined;
  readonly #rxAgcAsked: boolean;
  /** AGC on what libwebrtc plays, at the rate it plays (made again when that changes). */
  #rxAgc: GainControl | undefined;
  /** DTX asked: CN kept among the codecs, `usedtx=1` given to libwebrtc's opus encoder. */
  readonly #dtx: boolean;
  /**
   * With DTX on opus: our VAD (`vadLevel`) turns the microphone's pauses into digital silence,
   * which is what makes libopus stop sending (its DTX does not take a room's noise for silence:
   * measured, a -60 dBFS room sent every packet).
   */
  readonly #gate: DtxController | undefined;
  #gated = false;
  /**
   * With DTX on another codec (libwebrtc's RFC 3389 CN, whose VAD runs at its gentlest mode and
   * takes a room louder than about -50 dBFS for speech): the pauses our VAD (`vadLevel`) finds are
   * handed over as steady white noise at the room's floor, capped at {@link #pauseCap}, which
   * libwebrtc's VAD calls silence, so that its SID packets carry them (noise that follows a distant
   * voice's syllables would be speech to it).
   */
  #pauseNoise: ComfortNoiseGenerator | undefined;
  /** The loudest a pause is handed over at, as a CN level byte (-dBov at the microphone's rate): the smallest byte taken. */
  #pauseCap = 127;
  #noisePaused = false;
  /** The last sample given to libwebrtc, where a pause's noise starts from. */
  #lastGiven = 0;
  /** What libwebrtc sends (from its statistics, read every second); `undefined` until known. */
  #sendCodec: 'opus' | 'other' | undefined;
  #detector: DtmfDetector | undefined;
  #detectorRate = 0;
  #vq: VqMonitor | undefined;
  #direction: MediaDirection;
  #muted = false;
  #speakerMuted = false;
  #stopClock: (() => void) | undefined;
  #statsTimer: NodeJS.Timeout | undefined;
  #stats: WebRtcAudioStreamStats;
  #statsReads = 0;
  #vqBase = { expected: 0, lost: 0 };
  #lastPacketsReceived = 0;
  #lastRtpAt = performance.now();
  #inband: DtmfToneQueue | undefined;
  /** Digits queued in-band so far: a sendDtmf() promise waits for the queue's count to reach its own. */
  #inbandQueued = 0;
  /** `dtmf_feedback`, at the rate of what libwebrtc plays (made again when that rate changes). */
  #feedback: DtmfToneQueue | undefined;
  #feedbackRate = 0;
  readonly #feedbackDigits: DtmfDigit[] = [];
  #dtmfWaiters: { target: number; digits: string; resolve: () => void; reject: (error: Error) => void }[] = [];

  /**
   * Makes a stream and its `RTCPeerConnection` (libwebrtc is loaded on the first one).
   *
   * @throws {@link WebRtcUnavailableError} when libwebrtc cannot be loaded.
   */
  static async create(options: WebRtcAudioStreamOptions = {}): Promise<WebRtcAudioStream> {
    const wrtc = await loadWrtc();
    return new WebRtcAudioStream(wrtc, options);
  }

  private constructor(wrtc: Wrtc, options: WebRtcAudioStreamOptions) {
    super();
    this.#machine = new StateMachine('WebRTC audio stream', 'NEW', AUDIO_STREAM_TRANSITIONS, (next, previous) => this.emit('stateChanged', next, previous));
    this.#input = options.input;
    this.#output = options.output;
    this.#onPlayout = options.onPlayout;
    this.#clock = options.clock ?? MediaClock.shared;
    this.#gatheringTimeoutMs = options.gatheringTimeoutMs ?? 5000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 20000;
    this.#inactivityMs = options.inactivityTimeoutMs ?? 150000;
    this.#detect = options.detectInbandDtmf ?? true;
    this.#dtmfFeedback = options.dtmfFeedback ?? false;
    this.#vqThreshold = options.vqAlarmThreshold ?? 0;
    this.#direction = options.direction ?? 'sendrecv';
    const inputRate = options.input?.sampleRate ?? 48000;
    const frameSamples = Math.round((inputRate * FRAME_MS) / 1000);
    this.#sendData = { samples: new Int16Array(frameSamples), sampleRate: inputRate, bitsPerSample: 16, channelCount: 1, numberOfFrames: frameSamples };
    const processing = options.processing ?? {};
    // Echo control needs an echo: a microphone and a speaker that plays. (Its blocks take frames
    // of a multiple of 8 samples: 10 ms at 8, 16, 32 or 48 kHz.)
    const output = options.output;
    const echoControl = processing.echoControl === true && options.input !== undefined && output !== undefined && output.discards !== true && [8000, 16000, 32000, 48000].includes(inputRate);
    const tx = new MicrophoneProcessing({ echoControl, noiseSuppression: processing.noiseSuppression === true, agc: processing.agc === true }, inputRate, frameSamples, FRAME_MS);
    if (tx.active) this.#tx = tx;
    else tx.close();
    if (tx.echo && output) {
      const outputFrame = Math.round((output.sampleRate * FRAME_MS) / 1000);
      this.#playout = {
        fifo: new PlayoutFifo({ frameSamples: outputFrame }),
        frame: new Int16Array(outputFrame),
        echo: tx.echo,
        resampler: output.sampleRate === inputRate ? undefined : new Resampler(output.sampleRate, inputRate),
        reference: new Int16Array(frameSamples + 8),
      };
    }
    this.#rxAgcAsked = processing.rxAgc === true;
    this.#dtx = processing.dtx === true;
    if (this.#dtx && [8000, 16000, 32000, 48000].includes(inputRate)) {
      this.#gate = new DtxController({ sampleRate: inputRate, frameMs: FRAME_MS, vadLevel: processing.vadLevel ?? 0 });
      this.#pauseNoise = new ComfortNoiseGenerator(inputRate);
      // libwebrtc's VAD looks at 0-4 kHz: white noise at the microphone's rate keeps 8000 / rate of
      // its power there. Measured (libfvad, mode 0, a fresh detector): white noise at -50 dBFS and
      // under is silence after 50 ms, at -45 a fifth of it is speech; and on calls, after the
      // detector has learnt a quieter room, noise at -53 dBFS was speech to it half the time, at
      // -58 never.
      this.#pauseCap = comfortNoiseLevel(32767 * 10 ** ((-58 + 10 * Math.log10(inputRate / 8000)) / 20));
    }
    this.#stats = emptyStats();
    this.#pc = new wrtc.RTCPeerConnection({
      iceServers: options.iceServers?.map((server) => ({ ...server })) ?? [],
      iceTransportPolicy: options.iceTransportPolicy ?? 'all',
      // balanced, not max-bundle: an SBC's SDP without a BUNDLE group (rtpengine writes none) is
      // still taken; with one audio line our offers carry the group all the same.
      bundlePolicy: 'balanced',
      rtcpMuxPolicy: 'require',
    });
    this.#source = new wrtc.nonstandard.RTCAudioSource();
    // addTrack, not addTransceiver: a transceiver made by addTrack is the one a remote offer's
    // audio section takes (JSEP 5.10), so the same one serves when we answer as when we offer.
    this.#pc.addTrack(this.#source.createTrack());
    this.#transceiver = this.#pc.getTransceivers()[0]!;
    this.#transceiver.direction = this.#direction;
    const preferred = preferredCodecs(wrtc, options.codecs, this.#dtx);
    this.#transceiver.setCodecPreferences(preferred);
    this.#codecNames = options.codecs ? new Set(preferred.map((codec) => codec.mimeType.slice(codec.mimeType.indexOf('/') + 1).toLowerCase())) : undefined;
    this.#sink = new wrtc.nonstandard.RTCAudioSink(this.#transceiver.receiver.track);
    this.#sink.ondata = (data) => this.#onReceived(data);
    this.#pc.onconnectionstatechange = () => {
      if (this.#machine.state === 'CLOSED') return;
      const state = this.#pc.connectionState as WebRtcConnectionState;
      if (state === 'connected' && this.#connectTimer) {
        clearTimeout(this.#connectTimer);
        this.#connectTimer = undefined;
      }
      this.emit('connectionStateChanged', state);
      if (state === 'failed') this.#fail(this.#pc.iceConnectionState === 'failed' || this.#pc.iceConnectionState === 'disconnected' ? 'ICE failed: no candidate pair answered (or the selected one stopped answering)' : 'the DTLS handshake failed (the peer\'s certificate does not match its fingerprint, or the handshake was refused)');
    };
  }

  /** Why the media failed (see the `failed` event), or undefined while it has not. */
  get failureReason(): string | undefined {
    return this.#failure;
  }

  /** libwebrtc's ICE state (`new`, `checking`, `connected`, `completed`, `disconnected`, `failed`, `closed`). */
  get iceConnectionState(): string {
    return this.#pc.iceConnectionState;
  }

  #fail(reason: string): void {
    if (this.#failure !== undefined || this.#machine.state === 'CLOSED') return;
    this.#failure = reason;
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.emit('failed', reason);
  }

  /** Where the stream is in its lifecycle. */
  get state(): AudioStreamState {
    return this.#machine.state;
  }

  /** libwebrtc's connection state (ICE and DTLS together). */
  get connectionState(): WebRtcConnectionState {
    return this.#pc.connectionState as WebRtcConnectionState;
  }

  /** The direction asked of the stream (the next offer or answer carries it). */
  get direction(): MediaDirection {
    return this.#direction;
  }

  /** Our SDP offer, with every ICE candidate gathered. */
  async createOffer(): Promise<string> {
    this.#assertOpen();
    await this.#pc.setLocalDescription(await this.#pc.createOffer());
    return this.#gathered();
  }

  /**
   * Takes the peer's offer and gives our answer, with every candidate gathered.
   *
   * @throws {@link SdpError} when libwebrtc refuses the offer (no fingerprint, no ICE credentials, no common codec).
   */
  async answer(offer: string): Promise<string> {
    this.#assertOpen();
    // Only the asked codecs: libwebrtc's answer lists those alone, but it sends with the offer's
    // first codec even when the answer left it out (an offer of iLBC to a stream without it).
    await this.#apply({ type: 'offer', sdp: this.#codecNames ? offerWithOnly(offer, this.#codecNames) : offer });
    // An offer may come before ours was made (we answer): our track, direction and codecs are on the transceiver already.
    this.#transceiver.direction = this.#direction;
    await this.#pc.setLocalDescription(await this.#pc.createAnswer());
    return this.#gathered();
  }

  /**
   * Takes the peer's answer to our offer.
   *
   * @throws {@link SdpError} when libwebrtc refuses it.
   */
  async acceptAnswer(answer: string): Promise<void> {
    this.#assertOpen();
    await this.#apply({ type: 'answer', sdp: answer });
  }

  /**
   * Withdraws our offer that got no answer (the peer refused a re-offer): the session goes on as
   * the last exchange settled it. Does nothing when no offer of ours is pending.
   */
  async rollback(): Promise<void> {
    this.#assertOpen();
    if (this.#pc.signalingState !== 'have-local-offer') return;
    await this.#pc.setLocalDescription({ type: 'rollback', sdp: '' });
  }

  /**
   * The codec the last completed exchange settled on (the first format of the answer's audio
   * line, as `opus/48000/2` or `PCMU/8000`), or undefined before one completed.
   */
  get negotiatedCodec(): string | undefined {
    const answer = this.#pc.signalingState === 'stable' ? (this.#pc.localDescription?.type === 'answer' ? this.#pc.localDescription : this.#pc.remoteDescription) : undefined;
    if (!answer) return undefined;
    const media = /^m=audio \d+ \S+ (\d+)/m.exec(answer.sdp);
    if (!media) return undefined;
    const rtpmap = new RegExp(`^a=rtpmap:${media[1]} (\\S+)`, 'm').exec(answer.sdp);
    return rtpmap?.[1];
  }

  /**
   * The direction the last completed exchange settled for us (`recvonly` or `inactive` when the
   * peer holds), or undefined before one completed.
   */
  get negotiatedDirection(): MediaDirection | undefined {
    if (this.#machine.state === 'CLOSED') return undefined;
    return (this.#transceiver.currentDirection ?? undefined) as MediaDirection | undefined;
  }

  /**
   * Starts reading the microphone and measuring: `NEW` -> `RUNNING`. Starting a running stream does nothing.
   *
   * @throws {@link StreamClosedError} once the stream is closed.
   */
  start(): void {
    this.#assertOpen();
    if (this.#machine.state === 'RUNNING') return;
    this.#lastRtpAt = performance.now();
    this.#stopClock = this.#clock.add(FRAME_MS, () => this.#send());
    this.#statsTimer = setInterval(() => void this.#readStats(), STATS_INTERVAL_MS);
    this.#statsTimer.unref();
    if (this.#pc.connectionState !== 'connected' && this.#failure === undefined) {
      this.#connectTimer = setTimeout(() => {
        this.#connectTimer = undefined;
        const ice = this.#pc.iceConnectionState;
        this.#fail(
          ice === 'connected' || ice === 'completed'
            ? `the DTLS handshake did not complete within ${this.#connectTimeoutMs} ms`
            : `ICE did not connect within ${this.#connectTimeoutMs} ms (ICE ${ice})`,
        );
      }, this.#connectTimeoutMs);
      this.#connectTimer.unref();
    }
    this.#machine.to('RUNNING');
  }

  /**
   * Sets the direction the next offer or answer carries (hold is `sendonly` or `inactive`); the
   * call renegotiates to put it in force.
   *
   * @throws {@link StreamClosedError} once the stream is closed.
   */
  setDirection(direction: MediaDirection): void {
    this.#assertOpen();
    this.#direction = direction;
    this.#transceiver.direction = direction;
    this.#lastRtpAt = performance.now();
  }

  /** Whether the microphone is muted: silence goes in its place. */
  get muted(): boolean {
    return this.#muted;
  }

  setMuted(muted: boolean): void {
    this.#muted = muted;
  }

  /** Whether what is received is kept from the speaker (still measured). */
  get speakerMuted(): boolean {
    return this.#speakerMuted;
  }

  setSpeakerMuted(muted: boolean): void {
    this.#speakerMuted = muted;
  }

  /**
   * Sends DTMF digits as tones in the audio (100 ms each, 60 ms apart), after those queued. The
   * promise resolves when the last tone has gone, and rejects with {@link DtmfNotSentError} naming
   * the digits not sent when the stream closes first.
   *
   * @throws {@link InvalidDtmfDigitError} for a character that is not a digit (nothing is sent).
   * @throws {@link StreamClosedError} once the stream is closed.
   */
  sendDtmf(digits: string): Promise<void> {
    this.#assertOpen();
    const list = normalizeDigits(digits);
    if (list.length === 0) return Promise.resolve();
    this.#inband ??= new DtmfToneQueue(this.#sendData.sampleRate, -7);
    this.#inband.push(list);
    this.#inbandQueued += list.length;
    if (this.#dtmfFeedback) this.#feedbackDigits.push(...list);
    const target = this.#inbandQueued;
    const sent = new Promise<void>((resolve, reject) => {
      this.#dtmfWaiters.push({ target, digits: list.join(''), resolve, reject });
    });
    sent.catch(() => undefined);
    return sent;
  }

  /** The last statistics read from libwebrtc (every second while running). */
  stats(): WebRtcAudioStreamStats {
    return { ...this.#stats, sent: { ...this.#stats.sent }, received: { ...this.#stats.received }, jitterBuffer: { ...this.#stats.jitterBuffer }, ice: this.#stats.ice && { ...this.#stats.ice } };
  }

  /** Reads libwebrtc's statistics now (what `stats()` gives next). */
  async refreshStats(): Promise<WebRtcAudioStreamStats> {
    await this.#readStats();
    return this.stats();
  }

  /**
   * Closes the peer connection (its ports, threads' work and DTLS association), the devices, and
   * moves to `CLOSED`: `stateChanged`, then `closed`, then every listener is removed. Twice is harmless.
   */
  close(): void {
    if (this.#machine.state === 'CLOSED') return;
    this.#stopClock?.();
    this.#stopClock = undefined;
    if (this.#statsTimer) clearInterval(this.#statsTimer);
    this.#statsTimer = undefined;
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    if (this.#sink) {
      this.#sink.ondata = null;
      this.#sink.stop();
      this.#sink = undefined;
    }
    this.#transceiver.sender.track?.stop();
    this.#pc.onconnectionstatechange = null;
    this.#pc.onicegatheringstatechange = null;
    this.#pc.close();
    this.#tx?.close();
    this.#gate?.close();
    this.#input?.close();
    this.#output?.close();
    this.#machine.to('CLOSED');
    const done = this.#inband?.completed ?? 0;
    for (const waiter of this.#dtmfWaiters) {
      const missing = Math.min(waiter.digits.length, waiter.target - done);
      if (missing <= 0) waiter.resolve();
      else waiter.reject(new DtmfNotSentError(waiter.digits.slice(waiter.digits.length - missing)));
    }
    this.#dtmfWaiters = [];
    this.emit('closed');
    this.removeAllListeners();
  }

  #closed(): boolean {
    return this.#machine.state === 'CLOSED';
  }

  #assertOpen(): void {
    if (this.#machine.state === 'CLOSED') throw new StreamClosedError();
  }

  async #apply(description: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    try {
      await this.#pc.setRemoteDescription(this.#dtx ? { type: description.type, sdp: withOpusDtx(description.sdp) } : description);
    } catch (error) {
      throw new SdpError(`the WebRTC engine refused the ${description.type}: ${(error as Error).message}`);
    }
  }

  /** Waits for ICE gathering to complete (or the timeout), then gives the local SDP. */
  async #gathered(): Promise<string> {
    if (this.#pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.#gatheringTimeoutMs);
        const pc = this.#pc;
        function done(): void {
          clearTimeout(timer);
          pc.onicegatheringstatechange = null;
          resolve();
        }
        pc.onicegatheringstatechange = () => {
          if (pc.iceGatheringState === 'complete') done();
        };
      });
    }
    this.#assertOpen();
    return this.#pc.localDescription!.sdp;
  }

  /** Every 10 ms on the media clock: one microphone frame (DTMF tones mixed in, silence when muted) to libwebrtc. */
  #send(): void {
    if (this.#machine.state === 'CLOSED') return;
    try {
      const data = this.#sendData;
      const frame = data.samples;
      const n = data.numberOfFrames;
      if (this.#input) {
        this.#input.read(frame, n);
        this.#tx?.process(frame, n);
      } else frame.fill(0);
      if (this.#muted) frame.fill(0);
      else if (this.#gate) {
        if (this.#sendCodec === 'opus') this.#silencePauses(this.#gate, frame, n);
        else if (this.#sendCodec === 'other') this.#noisePauses(this.#gate, this.#pauseNoise!, frame, n);
        // Until libwebrtc's statistics tell the codec (a second in), the VAD learns the room.
        else this.#gate.decide(frame, n);
      }
      if (this.#inband) {
        const before = this.#inband.completed;
        this.#inband.replace(frame, n);
        if (this.#inband.completed !== before) this.#settleDtmf();
      }
      this.#source.onData(data);
      if (this.#playout) this.#play(this.#playout);
    } catch (error) {
      this.emit('error', error as Error);
    }
  }

  /** With echo control, each tick after the microphone's frame: the speaker's frame, which is also the canceller's reference. */
  #play(playout: ClockedPlayout): void {
    playout.fifo.pull(playout.frame);
    this.#output!.write(playout.frame, playout.frame.length);
    if (!playout.resampler) {
      playout.echo.farEnd(playout.frame, playout.frame.length);
      return;
    }
    const n = playout.resampler.process(playout.frame, playout.frame.length, playout.reference);
    playout.echo.farEnd(playout.reference, n);
  }

  /** A pause (after the VAD's hangover) sent as digital silence, faded out over its first frame; speech as it is. */
  #silencePauses(gate: DtxController, frame: Int16Array, n: number): void {
    if (gate.decide(frame, n) === 'speech') {
      this.#gated = false;
      return;
    }
    if (this.#gated) {
      frame.fill(0, 0, n);
      return;
    }
    for (let i = 0; i < n; i++) frame[i] = Math.round((frame[i]! * (n - 1 - i)) / n);
    this.#gated = true;
  }

  /**
   * A pause (after the VAD's hangover) handed to libwebrtc as white noise at the room's floor, at
   * most {@link #pauseCap}: starting from the last sample given, so that neither its start nor the
   * speech after it clicks.
   */
  #noisePauses(gate: DtxController, noise: ComfortNoiseGenerator, frame: Int16Array, n: number): void {
    const last = this.#noisePaused ? undefined : this.#lastGiven;
    if (gate.decide(frame, n) === 'speech') {
      this.#noisePaused = false;
      this.#lastGiven = n > 0 ? frame[n - 1]! : this.#lastGiven;
      return;
    }
    noise.setLevel(Math.max(gate.floorLevel, this.#pauseCap));
    noise.generate(frame, n, last);
    this.#noisePaused = true;
    this.#lastGiven = noise.lastSample;
  }

  #settleDtmf(): void {
    const done = this.#inband?.completed ?? 0;
    this.#dtmfWaiters = this.#dtmfWaiters.filter((waiter) => {
      if (done < waiter.target) return true;
      waiter.resolve();
      return false;
    });
  }

  /** A 10 ms frame from libwebrtc (its playout, concealment included): DTMF detection, the recorder, the speaker. */
  #onReceived(data: WrtcAudioData): void {
    if (this.#machine.state !== 'RUNNING') return;
    try {
      const frame = data.samples;
      const n = data.numberOfFrames;
      const rate = data.sampleRate;
      if (data.channelCount !== 1) return;
      if (this.#detect) {
        if (this.#detectorRate !== rate || !this.#detector) {
          this.#detector = new DtmfDetector(rate, (digit) => this.emit('dtmf', { digit, source: 'inband' }));
          this.#detectorRate = rate;
        }
        this.#detector.process(frame, n);
      }
      if (this.#rxAgcAsked) {
        if (this.#rxAgc?.sampleRate !== rate) this.#rxAgc = new GainControl({ sampleRate: rate });
        this.#rxAgc.process(frame, n);
      }
      if (this.#feedbackDigits.length > 0 || this.#feedback) this.#playFeedback(frame, n, rate);
      if (this.#speakerMuted) frame.fill(0, 0, n);
      this.#onPlayout?.(frame, n, rate);
      const output = this.#output;
      if (!output || output.discards === true) return;
      if (output.sampleRate === rate) {
        if (this.#playout) this.#playout.fifo.push(frame, n);
        else output.write(frame, n);
        return;
      }
      // The rate follows the codec (16 kHz before media, 48 kHz for opus): a new resampler when it changes.
      if (this.#outResampler?.inputRate !== rate) {
        this.#outResampler = new Resampler(rate, output.sampleRate);
        this.#outputFrame = new Int16Array(Math.ceil((output.sampleRate * FRAME_MS) / 1000) + 4);
      }
      const written = this.#outResampler.process(frame, n, this.#outputFrame);
      if (this.#playout) this.#playout.fifo.push(this.#outputFrame, written);
      else output.write(this.#outputFrame, written);
    } catch (error) {
      this.emit('error', error as Error);
    }
  }

  /** Adds the digits sent to what is played (`dtmf_feedback`), at the rate libwebrtc plays. */
  #playFeedback(frame: Int16Array, n: number, rate: number): void {
    if (!this.#feedback || this.#feedbackRate !== rate) {
      this.#feedback = new DtmfToneQueue(rate, -20);
      this.#feedbackRate = rate;
    }
    if (this.#feedbackDigits.length > 0) this.#feedback.push(this.#feedbackDigits.splice(0));
    this.#feedback.mix(frame, n);
  }

  /** Reads getStats() into the counters; every fifth read feeds the voice-quality monitor. */
  async #readStats(): Promise<void> {
    if (this.#closed()) return;
    let report: Map<string, WrtcStats>;
    try {
      report = await this.#pc.getStats();
    } catch (error) {
      if (!this.#closed()) this.emit('error', error as Error);
      return;
    }
    // The stream may have closed while libwebrtc gathered them.
    if (this.#closed()) return;
    const stats = emptyStats();
    stats.vq = this.#stats.vq;
    let codecId: string | undefined;
    let sendCodecId: string | undefined;
    let pairId: string | undefined;
    const entries = [...report.values()];
    for (const entry of entries) {
      if (entry.type === 'outbound-rtp' && entry['kind'] === 'audio') {
        stats.sent = { packets: num(entry['packetsSent']), octets: num(entry['bytesSent']) };
        sendCodecId = entry['codecId'] as string | undefined;
        codecId ??= sendCodecId;
      } else if (entry.type === 'inbound-rtp' && entry['kind'] === 'audio') {
        const packets = num(entry['packetsReceived']);
        const lost = Math.max(0, num(entry['packetsLost']));
        const expected = packets + lost;
        stats.received = { packets, octets: num(entry['bytesReceived']), lost, expected, fractionLost: expected > 0 ? lost / expected : 0, jitterMs: num(entry['jitter']) * 1000 };
        const emitted = num(entry['jitterBufferEmittedCount']);
        stats.jitterBuffer = { delayMs: emitted > 0 ? (num(entry['jitterBufferDelay']) / emitted) * 1000 : 0, concealedSamples: num(entry['concealedSamples']) };
        codecId = (entry['codecId'] as string | undefined) ?? codecId;
      } else if (entry.type === 'remote-inbound-rtp' && typeof entry['roundTripTime'] === 'number') {
        stats.rttMs = (entry['roundTripTime'] as number) * 1000;
      } else if (entry.type === 'transport') {
        pairId = entry['selectedCandidatePairId'] as string | undefined;
        if (typeof entry['srtpCipher'] === 'string') stats.srtpCipher = entry['srtpCipher'];
      }
    }
    const codec = codecId ? report.get(codecId) : undefined;
    if (codec) stats.codec = codecName(codec);
    const sendCodec = sendCodecId ? report.get(sendCodecId) : undefined;
    if (sendCodec) this.#sendCodec = /^opus\//i.test(codecName(sendCodec)) ? 'opus' : 'other';
    const pair = pairId ? report.get(pairId) : undefined;
    const local = pair ? report.get(pair['localCandidateId'] as string) : undefined;
    const remote = pair ? report.get(pair['remoteCandidateId'] as string) : undefined;
    if (local && remote) {
      stats.ice = { local: `${String(local['address'])}:${num(local['port'])}`, remote: `${String(remote['address'])}:${num(remote['port'])}`, localType: String(local['candidateType']), remoteType: String(remote['candidateType']) };
    }
    if (stats.rttMs === undefined && pair && typeof pair['currentRoundTripTime'] === 'number') stats.rttMs = (pair['currentRoundTripTime'] as number) * 1000;
    this.#stats = stats;
    this.#watchInactivity(stats.received.packets);
    if (++this.#statsReads % VQ_EVERY === 0) this.#reportVq(stats);
  }

  #watchInactivity(packets: number): void {
    const now = performance.now();
    if (packets !== this.#lastPacketsReceived) {
      this.#lastPacketsReceived = packets;
      this.#lastRtpAt = now;
      return;
    }
    const receives = this.#direction === 'sendrecv' || this.#direction === 'recvonly';
    if (receives && now - this.#lastRtpAt >= this.#inactivityMs) {
      this.#lastRtpAt = now;
      this.emit('inactivity');
    }
  }

  #reportVq(stats: WebRtcAudioStreamStats): void {
    if (stats.codec === undefined) return;
    const expected = stats.received.expected - this.#vqBase.expected;
    const lost = stats.received.lost - this.#vqBase.lost;
    this.#vqBase = { expected: stats.received.expected, lost: stats.received.lost };
    if (expected <= 0) return;
    // G.113 impairments of the codecs we also run natively; iLBC and iSAC, which only libwebrtc has, are rated as G.711.
    this.#vq ??= new VqMonitor({ impairment: (codecs.get(stats.codec) ?? codecs.get('PCMU')!).impairment, alarmThreshold: this.#vqThreshold });
    const report = this.#vq.add({ expected, lost: Math.min(expected, Math.max(0, lost)), rttMs: stats.rttMs, jitterBufferMs: stats.jitterBuffer.delayMs, frameMs: 20 });
    this.#stats.vq = report;
    this.emit('vq', report);
    if (report.alarmChanged) this.emit('vqAlarm', report);
  }
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** `opus/48000/2`, `PCMU/8000` from a codec stats entry. */
function codecName(codec: WrtcStats): string {
  const mime = String(codec['mimeType'] ?? '');
  const name = mime.slice(mime.indexOf('/') + 1);
  const channels = num(codec['channels']);
  return `${name}/${num(codec['clockRate'])}${channels > 1 ? `/${channels}` : ''}`;
}

function emptyStats(): WebRtcAudioStreamStats {
  return {
    codec: undefined,
    sent: { packets: 0, octets: 0 },
    received: { packets: 0, octets: 0, lost: 0, expected: 0, fractionLost: 0, jitterMs: 0 },
    jitterBuffer: { delayMs: 0, concealedSamples: 0 },
    rttMs: undefined,
    vq: new VqMonitor({ impairment: codecs.get('PCMU')!.impairment }).report,
    ice: undefined,
    srtpCipher: undefined,
  };
}

/**
 * The codecs to put on the transceiver: the asked ones in the asked order (all of libwebrtc's audio
 * codecs when none is asked), without telephone-event (see the class remarks), and CN (RFC 3389,
 * at each of its rates, after the others) only with DTX. A name with a rate
 * (`ISAC/16000`) takes libwebrtc's codec of that encoding at that clock rate; when it has none at
 * that rate (G.722, whose RTP clock is 8000; `red`, which takes its codec's rate), or the name
 * has no rate (`opus`), every one of that encoding.
 */
function preferredCodecs(wrtc: Wrtc, names: readonly string[] | undefined, comfortNoise: boolean) {
  const capabilities = wrtc.RTCRtpSender.getCapabilities('audio')?.codecs ?? [];
  const all = capabilities.filter((codec) => !/\/(?:telephone-event|CN)$/i.test(codec.mimeType));
  const cn = comfortNoise ? capabilities.filter((codec) => /\/CN$/i.test(codec.mimeType)) : [];
  if (!names) return [...all, ...cn];
  const picked: WrtcCodecCapability[] = [];
  for (const name of names) {
    const [encoding, rate] = name.split('/');
    const wanted = encoding!.toLowerCase();
    const same = all.filter((codec) => codec.mimeType.slice(codec.mimeType.indexOf('/') + 1).toLowerCase() === wanted && !picked.includes(codec));
    const atRate = same.filter((codec) => String(codec.clockRate) === rate);
    picked.push(...(atRate.length > 0 ? atRate : same));
  }
  return [...picked, ...cn];
}

/**
 * `sdp` with `usedtx=1` in each opus format's parameters that does not say otherwise: libwebrtc's
 * opus encoder sends DTX when the peer's description asks for it (RFC 7587 7.1: the receiver's
 * preference), and only then. A peer's explicit `usedtx=0` is kept.
 */
function withOpusDtx(sdp: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  const out: string[] = [];
  const opus = new Set<string>();
  for (const line of lines) {
    const rtpmap = /^a=rtpmap:(\d+) opus\//i.exec(line);
    if (rtpmap) opus.add(rtpmap[1]!);
  }
  const withFmtp = new Set<string>();
  for (const line of lines) {
    const fmtp = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (fmtp && opus.has(fmtp[1]!)) {
      withFmtp.add(fmtp[1]!);
      out.push(/(?:^|;)\s*usedtx=/i.test(fmtp[2]!) ? line : `${line};usedtx=1`);
      continue;
    }
    out.push(line);
  }
  // An opus format without parameters gets a line of its own, after its rtpmap.
  for (const pt of opus) {
    if (withFmtp.has(pt)) continue;
    const at = out.findIndex((line) => line.startsWith(`a=rtpmap:${pt} `));
    out.splice(at + 1, 0, `a=fmtp:${pt} usedtx=1`);
  }
  return out.join(eol);
}

/**
 * `offer` with the formats of its audio line cut to those whose codec is in `names` (lower-case
 * encoding names), and their rtpmap, fmtp and rtcp-fb lines with them; unchanged when none would
 * remain (libwebrtc then refuses it for what it is: no codec in common).
 */
function offerWithOnly(offer: string, names: ReadonlySet<string>): string {
  const eol = offer.includes('\r\n') ? '\r\n' : '\n';
  const lines = offer.split(/\r?\n/);
  const start = lines.findIndex((line) => line.startsWith('m=audio '));
  if (start < 0) return offer;
  let end = lines.findIndex((line, i) => i > start && line.startsWith('m='));
  if (end < 0) end = lines.length;
  const section = lines.slice(start, end);
  const encoding = new Map<string, string>();
  for (const line of section) {
    const rtpmap = /^a=rtpmap:(\d+) ([^/\s]+)/.exec(line);
    if (rtpmap) encoding.set(rtpmap[1]!, rtpmap[2]!.toLowerCase());
  }
  const header = section[0]!.split(' ');
  const formats = header.slice(3);
  // A static payload type without an rtpmap (0 PCMU, 8 PCMA, 9 G722) is named by RFC 3551.
  const name = (pt: string): string | undefined => encoding.get(pt) ?? ({ '0': 'pcmu', '8': 'pcma', '9': 'g722' } as Record<string, string>)[pt];
  const kept = formats.filter((pt) => names.has(name(pt) ?? ''));
  if (kept.length === 0 || kept.length === formats.length) return offer;
  const dropped = new Set(formats.filter((pt) => !kept.includes(pt)));
  const filtered = section.filter((line) => {
    const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)[ \t]/.exec(line)?.[1];
    return pt === undefined || !dropped.has(pt);
  });
  filtered[0] = [...header.slice(0, 3), ...kept].join(' ');
  return [...lines.slice(0, start), ...filtered, ...lines.slice(end)].join(eol);
}
