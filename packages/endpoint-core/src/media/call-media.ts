import type { ConfiguredCodec, SrtpPolicy } from '@sip-endpoint/config';
import { SafeEmitter, type AudioDevice } from '@sip-endpoint/policy';
import { WebRtcAudioStream, WorkerRtpSession, WorkerAudioStream, type MediaWorkerPool, type AudioProcessingOptions, type SrtpCounters, type SrtpDropReason, type AudioDeviceProvider, type AudioInput, type AudioOutput, type AudioStream, type AudioStreamStats, type DtlsCertificate, type DtlsError, type DtmfEvent, type IceAgentCounters, type IceAgentState, type IceCandidateType, type SrtpKeyMaterial, type StunAddress, type NegotiatedAudio, type PortAllocator, type RtpSession, type RtpSocketReserve, type SrtpSuite, type VqReport, type ConferenceLeg, type ConferenceMixer, type WebRtcAudioStreamStats, type WebRtcConnectionState, type MediaDirection, type WebRtcIceServer } from '@sip-endpoint/media';
import { MediaSessionDescriptionHandler, sameKeyMaterial, type MediaDescriptionOptions } from './media-session-description-handler';
import type { TurnServerSettings } from './nat-settings';
import { MicrophonePort, SpeakerPort } from './device-ports';
import { WebRtcSessionDescriptionHandler } from './webrtc-session-description-handler';
import { ImSessionDescriptionHandler, type ImDescriptionContext, type NegotiatedIm } from './im-session-description-handler';

/**
 * The media engine of a call: `native` (our RTP, SRTP, ICE, codecs and jitter buffer on
 * node:dgram) or `webrtc` (libwebrtc through `@roamhq/wrtc`: ICE, DTLS-SRTP, opus, its jitter
 * buffer and concealment). A call whose line is a WebRTC (`HTTPS`) connectivity, or whose offer is
 * `UDP/TLS/RTP/SAVPF`, runs on `webrtc`.
 *
 * @public
 */
export type MediaEngine = 'native' | 'webrtc';

/**
 * A call's audio stream, whichever engine runs it: the native engine on the main thread
 * (`AudioStream`) or in a media worker (`WorkerAudioStream`, with `mediaThreads`), or libwebrtc
 * (`WebRtcAudioStream`).
 *
 * @public
 */
export type CallAudioStream = AudioStream | WorkerAudioStream | WebRtcAudioStream;

/** The voice quality of a call's media, once packets flow. @public */
export interface CallQuality {
  /** MOS of the whole call (E-model, 1 to 4.5). */
  mos: number;
  /** MOS of the last RTCP interval. */
  intervalMos: number;
  /** Round-trip time from RTCP, once known. */
  rttMs: number | undefined;
  packetsLost: number;
  jitterMs: number;
  /** Whether the VQ alarm (`vq_alarm_threshold`) is raised. */
  vqAlarm: boolean;
}

/**
 * The protection of a call's media in force: none (plain RTP), or SRTP keyed by SDES (`a=crypto`
 * in the SDP) with its suite, and whether RTCP is sent unencrypted (UNENCRYPTED_SRTCP).
 *
 * @public
 */
export type MediaSecurity =
  | { kind: 'none' }
  | { kind: 'sdes'; suite: SrtpSuite; unencryptedSrtcp: boolean }
  /**
   * DTLS-SRTP: our role in the handshake (`client` starts it), and how it stands: no audio flows
   * while `connecting`; a `failed` handshake ends the call.
   */
  | { kind: 'dtls'; suite: SrtpSuite; role: 'client' | 'server'; state: 'connecting' | 'established' | 'failed' }
  /**
   * WebRTC (DTLS-SRTP by libwebrtc, always): the SRTP suite it settled on once connected, and how
   * its connection (ICE and DTLS) stands.
   */
  | { kind: 'webrtc'; srtpCipher: string | undefined; state: WebRtcConnectionState };

/**
 * ICE as a call uses it: the agent's state and, once a pair is selected, its ends.
 *
 * @public
 */
export interface CallIce {
  state: IceAgentState;
  /** Our candidate's kind in the selected pair. */
  local?: IceCandidateType;
  /** The peer's candidate's kind in the selected pair. */
  remote?: IceCandidateType;
  localAddress?: string;
  remoteAddress?: string;
  /**
   * The ICE agent's counters: checks sent and answered, requests refused (bad MESSAGE-INTEGRITY,
   * a stranger's USERNAME), malformed STUN dropped. Not for a WebRTC call (libwebrtc's ICE).
   */
  counters?: IceAgentCounters;
}

/** What a call's media refused or lost, counted (each also logged, and told by an event). @public */
export interface CallMediaFailures {
  /** Offers and answers of the far end that could not be taken (`negotiationFailed`): a re-offer answered 488, or the call ended. */
  negotiation: number;
  /** DTLS-SRTP handshakes that failed (`securityFailed`): timed out, or a certificate that is not the SDP's fingerprint. */
  security: number;
}

/** Events of a {@link CallMedia}. @public */
export type CallMediaEvents = {
  /** The audio stream started (the first offer/answer exchange completed). */
  streamStarted: [CallAudioStream];
  /** A digit came in the audio path (RFC 2833/4733 event or in-band tone). */
  dtmf: [DtmfEvent];
  /** The VQ alarm was raised or cleared. */
  vqAlarm: [VqReport];
  /** No RTP came for `rtp_inactivity_timeout` seconds. */
  inactivity: [];
  /** The DTLS-SRTP handshake failed (timed out, or the peer's certificate is not its fingerprint's): the call cannot have audio. */
  securityFailed: [DtlsError];
  /**
   * The media's path is gone, with why: ICE consent was lost (RFC 7675: the selected path stopped
   * answering for 30 s); for a WebRTC call, ICE or DTLS failed or did not connect in time.
   */
  connectivityLost: [string];
  /**
   * An offer or answer of the far end could not be taken (no common codec, a profile or SRTP the
   * engine refuses, an SDP it cannot read), with why: the call answers it 488, or ends.
   */
  negotiationFailed: [string];
  /**
   * The call's audio moved to other devices (the endpoint's selection changed: a device was
   * plugged in or removed): the microphone and speaker it uses now.
   */
  devicesMoved: [{ input: AudioDevice | undefined; output: AudioDevice | undefined }];
  /** The media closed with its call. */
  closed: [];
};

/** What a call's media needs from its endpoint. */
export interface CallMediaInit {
  /** Our media address (in SDP; bound with `rtp_port_binding` 1). */
  address: string;
  /** Where RTP sockets bind. */
  bindAddress: string;
  ports: PortAllocator;
  /** RTP socket pairs bound ahead of time (the endpoint's `spareRtpPorts`). */
  reserve?: RtpSocketReserve;
  /** The endpoint's media worker threads (`mediaThreads`), for the streams they can run. */
  workers?: MediaWorkerPool;
  devices: AudioDeviceProvider;
  /** Where the call's microphone and speaker are opened: the endpoint's device keeper. @defaultValue `devices` */
  opener?: Pick<AudioDeviceProvider, 'openInput' | 'openOutput'>;
  input: AudioDevice | undefined;
  output: AudioDevice | undefined;
  /** The codecs to offer, preferred first (the policy's `codecPriorities().offer`). */
  codecs: readonly ConfiguredCodec[];
  answerPriority: 'local' | 'remote';
  inactivityTimeoutMs: number;
  vqAlarmThreshold: number;
  /** Our RTCP carries XR VoIP Metrics blocks (`vq_report_publish` 1). */
  rtcpXr?: boolean;
  /** Echo control, noise suppression, AGC, DTX (native streams on the main thread); CN is offered when `dtx` is on. */
  processing?: AudioProcessingOptions;
  dtmfFeedback: boolean;
  /** `system.security.use_srtp`. */
  srtp: SrtpPolicy;
  /** The call's signalling is encrypted (TLS, WSS): SDES keys do not cross the network in clear. */
  signallingSecure: boolean;
  /** DTLS-SRTP: our certificate, and whether secure offers use DTLS-SRTP rather than SDES. */
  dtls: { certificate: () => Promise<DtlsCertificate>; offer: boolean };
  /** ICE (`nat.ice_enabled` of the call's line), with the STUN server for our server-reflexive candidate. */
  ice?: { stunServer?: () => Promise<StunAddress | undefined>; turnServer?: () => Promise<TurnServerSettings | undefined> };
  /** Writes a line to the endpoint's log (level 0 fatal .. 4 debug). */
  log: (level: number, message: string) => void;
  /** The engine. @defaultValue 'native' */
  engine?: MediaEngine;
  /** WebRTC calls: the STUN and TURN servers of `RTCPeerConnection` (the line's nat settings). */
  iceServers?: () => Promise<WebRtcIceServer[]>;
  /** WebRTC calls: how long ICE and DTLS may take before the call ends. @defaultValue 20000 */
  connectTimeoutMs?: number;
  /** An instant-messaging session: no audio, an IM stream in the SDP (the engine is not used). */
  im?: ImDescriptionContext;
}

/** What the call (not the integrator) does with its media: hand sip.js a handler, answer with the policy's codec, close. */
export interface CallMediaControl {
  /** sip.js's session description handler for this call (made once). */
  handler(): MediaSessionDescriptionHandler | WebRtcSessionDescriptionHandler | ImSessionDescriptionHandler;
  /** The codecs to answer an offer with (the policy's choice first). */
  setAnswerCodecs(codecs: readonly ConfiguredCodec[]): void;
  /** The session is established (our 2xx sent, or theirs received): a stream waiting for it starts. */
  sessionEstablished(): void;
  /**
   * The endpoint selected other devices (one was plugged in or removed): the call's audio moves to
   * them, at once when its stream runs. Returns whether anything moved.
   */
  moveDevices(input: AudioDevice | undefined, output: AudioDevice | undefined): boolean;
  close(): void;
}

const controls = new WeakMap<CallMedia, CallMediaControl>();

/** What a {@link Conference} does with a call's media: put its stream on a leg of the mixer, and back. */
export interface CallMediaConference {
  /** Why the call's audio cannot join a conference (no stream yet, a stream in a media worker), or undefined. */
  unavailable(): string | undefined;
  /** Whether the stream is on a conference leg. */
  joined(): boolean;
  /** Puts the running stream on a new leg of `mixer`: it reads the conference instead of its microphone, and writes to it instead of its speaker. */
  join(mixer: ConferenceMixer): void;
  /** Puts the stream back on its own devices. */
  leave(): void;
}

const conferences = new WeakMap<CallMedia, CallMediaConference>();

/** The conference side of a call's media, for the {@link Conference} it joins. */
export function callMediaConference(media: CallMedia): CallMediaConference {
  return conferences.get(media)!;
}

/** The control of a call's media, for the call that owns it. */
export function callMediaControl(media: CallMedia): CallMediaControl {
  return controls.get(media)!;
}

/**
 * The media of one call (`call.media`): its audio stream once negotiated, statistics and MOS,
 * microphone mute, speaker volume and the devices it plays on.
 *
 * @remarks
 * Created by its {@link Call} and closed with it. The stream exists from the first completed
 * offer/answer until the call ends; before that `stream` is undefined and `stats()` too.
 *
 * @public
 */
export class CallMedia extends SafeEmitter<CallMediaEvents> {
  readonly #init: CallMediaInit;
  #handler: MediaSessionDescriptionHandler | WebRtcSessionDescriptionHandler | ImSessionDescriptionHandler | undefined;
  #input: AudioInput | undefined;
  #output: AudioOutput | undefined;
  /** What the stream is given for devices: the opened ones, or a conference leg (see device-ports.ts). */
  #microphonePort: MicrophonePort | undefined;
  #speakerPort: SpeakerPort | undefined;
  /** The microphone and speaker the call uses: the endpoint's selection when it began, and each one it moved to since. */
  #devices: { input: AudioDevice | undefined; output: AudioDevice | undefined };
  #leg: ConferenceLeg | undefined;
  #stream: CallAudioStream | undefined;
  #muted = false;
  #closed = false;
  #answerCodecs: readonly ConfiguredCodec[] | undefined;
  readonly #failures: CallMediaFailures = { negotiation: 0, security: 0 };
  /** The SDES keys last logged. */
  #loggedKeys: { send: SrtpKeyMaterial; receive: SrtpKeyMaterial } | undefined;

  /** @internal Made by the call. */
  constructor(init: CallMediaInit) {
    super();
    this.#init = init;
    this.#devices = { input: init.input, output: init.output };
    controls.set(this, {
      handler: () => (this.#handler ??= this.#reportFailures(this.#createHandler())),
      setAnswerCodecs: (codecs) => {
        this.#answerCodecs = codecs;
      },
      sessionEstablished: () => {
        if (this.#handler instanceof MediaSessionDescriptionHandler) this.#handler.startMedia();
      },
      moveDevices: (input, output) => this.#moveDevices(input, output),
      close: () => this.#close(),
    });
    conferences.set(this, this.#conferenceSide());
  }

  /** The engine that runs the call's media. */
  get engine(): MediaEngine {
    return this.#init.engine ?? 'native';
  }

  /** The audio stream, once negotiated: an `AudioStream` (native engine) or a `WebRtcAudioStream`. */
  get stream(): CallAudioStream | undefined {
    return this.#stream;
  }

  /**
   * What the last offer/answer exchange settled (codec, payload types, remote address, direction);
   * native engine only (libwebrtc keeps its own: see {@link CallMedia.codec}).
   */
  get negotiated(): NegotiatedAudio | undefined {
    const handler = this.#handler;
    return handler instanceof MediaSessionDescriptionHandler ? handler.negotiated : undefined;
  }

  /**
   * Our direction as the last offer/answer exchange settled it, whichever engine: `sendrecv`,
   * `sendonly` (we hold), `recvonly` (the far end holds), `inactive` (both); undefined before the
   * first exchange.
   */
  get direction(): MediaDirection | undefined {
    const handler = this.#handler;
    if (handler instanceof ImSessionDescriptionHandler) return undefined;
    if (handler instanceof WebRtcSessionDescriptionHandler) return handler.stream?.negotiatedDirection;
    return handler?.negotiated?.direction;
  }

  /** The protection of the media in force (none before the first exchange). */
  get security(): MediaSecurity {
    const handler = this.#handler;
    if (handler instanceof ImSessionDescriptionHandler) return { kind: 'none' };
    if (handler instanceof WebRtcSessionDescriptionHandler) {
      const stream = handler.stream;
      return { kind: 'webrtc', srtpCipher: stream?.stats().srtpCipher, state: stream?.connectionState ?? 'new' };
    }
    const dtls = handler?.dtls;
    if (dtls && handler?.negotiated?.dtls) return { kind: 'dtls', suite: 'AES_CM_128_HMAC_SHA1_80', role: dtls.negotiated.role, state: dtls.state };
    const srtp = handler?.negotiated?.srtp;
    return srtp ? { kind: 'sdes', suite: srtp.send.suite, unencryptedSrtcp: srtp.send.unencryptedSrtcp === true } : { kind: 'none' };
  }

  /**
   * ICE, when the call uses it (both sides offered it): the agent's state and, once a pair is
   * selected, the kind of each end's candidate (`host`, `srflx`, `prflx`, `relay`) and addresses.
   */
  get ice(): CallIce | undefined {
    const handler = this.#handler;
    if (handler instanceof ImSessionDescriptionHandler) return undefined;
    if (handler instanceof WebRtcSessionDescriptionHandler) return webRtcIce(handler.stream);
    const ice = handler?.ice;
    if (!ice) return undefined;
    const pair = ice.selected;
    const counters = { ...ice.counters };
    return pair
      ? { state: ice.state, local: pair.local.type, remote: pair.remote.type, localAddress: `${pair.local.address}:${pair.local.port}`, remoteAddress: `${pair.remote.address}:${pair.remote.port}`, counters }
      : { state: ice.state, counters };
  }

  /** What the media refused or lost so far: offers and answers it could not take, failed DTLS-SRTP handshakes. */
  get failures(): CallMediaFailures {
    return { ...this.#failures };
  }

  /** The negotiated codec's name, once negotiated. */
  get codec(): string | undefined {
    const handler = this.#handler;
    if (handler instanceof ImSessionDescriptionHandler) return undefined;
    if (handler instanceof WebRtcSessionDescriptionHandler) return handler.stream?.negotiatedCodec?.split('/')[0];
    return handler?.negotiated?.codec.name;
  }

  /**
   * An instant-messaging session's IM stream as the last offer/answer settled it (the content
   * types each side takes); undefined for a voice call, and before the first exchange.
   */
  get im(): NegotiatedIm | undefined {
    const handler = this.#handler;
    return handler instanceof ImSessionDescriptionHandler ? handler.negotiated : undefined;
  }

  /** The codecs this call offers, preferred first (from the policy's `codecPriorities`). */
  get codecs(): readonly ConfiguredCodec[] {
    return this.#init.codecs;
  }

  /** The microphone and speaker the call's audio uses. */
  get devices(): { input: AudioDevice | undefined; output: AudioDevice | undefined } {
    return { ...this.#devices };
  }

  /** Whether the media is closed (the call ended). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether our microphone is muted on this call (silence is sent instead). */
  get muted(): boolean {
    return this.#muted;
  }

  /** Mutes or unmutes our microphone on this call; kept across hold, retrieve and a stream not yet started. */
  mute(muted = true): void {
    this.#muted = muted;
    // In a conference the leg leaves our microphone out: the call still carries the other calls.
    if (this.#leg) this.#leg.muted = muted;
    else this.#stream?.setMuted(muted);
  }

  /** The speaker's volume, 0 to 100 (the device's, shared with what else plays on it). */
  get volume(): number | undefined {
    const output = this.#devices.output;
    return output ? this.#init.devices.getVolume(output.id) : undefined;
  }

  /** Sets the speaker's volume, 0 to 100. */
  setVolume(volume: number): void {
    const output = this.#devices.output;
    if (output) this.#init.devices.setVolume(output.id, volume);
  }

  /** The stream's counters, once it exists (a WebRTC stream's are libwebrtc's, read every second). */
  stats(): AudioStreamStats | WebRtcAudioStreamStats | undefined {
    return this.#stream?.stats();
  }

  /** MOS, loss, jitter and RTT, once the stream exists. */
  quality(): CallQuality | undefined {
    const stats = this.#stream?.stats();
    if (!stats) return undefined;
    return { mos: stats.vq.mos, intervalMos: stats.vq.intervalMos, rttMs: stats.rttMs, packetsLost: stats.received.lost, jitterMs: stats.received.jitterMs, vqAlarm: stats.vq.alarm };
  }

  #createHandler(): MediaSessionDescriptionHandler | WebRtcSessionDescriptionHandler | ImSessionDescriptionHandler {
    const init = this.#init;
    // An IM session opens no media and no device.
    if (init.im) return new ImSessionDescriptionHandler(init.im);
    const webrtc = init.engine === 'webrtc';
    // libwebrtc's own audio runs at 48 kHz: the devices open at it, and nothing is resampled on the
    // way; with echo control, noise suppression or AGC on the microphone, at 16 kHz (wideband), the
    // rate those processors are measured at (at 48 kHz echo control costs five times more and
    // converges less deep). The native stream opens them when it starts: at 16 kHz, or at its
    // codec's rate when that is lower (8 kHz for G.711: nothing resampled between device and codec).
    if (webrtc) {
      const processing = init.processing;
      this.#openDevices(processing?.echoControl === true || processing?.noiseSuppression === true || processing?.agc === true ? 16000 : 48000);
      return new WebRtcSessionDescriptionHandler({
        createStream: async () => {
          const iceServers = (await init.iceServers?.()) ?? [];
          return WebRtcAudioStream.create({
            ...(this.#microphonePort ? { input: this.#microphonePort } : {}),
            ...(this.#speakerPort ? { output: this.#speakerPort } : {}),
            iceServers,
            codecs: init.codecs.filter((codec) => codec.codec?.kind !== 'dtmf').map((codec) => codec.name),
            inactivityTimeoutMs: init.inactivityTimeoutMs,
            vqAlarmThreshold: init.vqAlarmThreshold,
            dtmfFeedback: init.dtmfFeedback,
            ...(processing ? { processing } : {}),
            ...(init.connectTimeoutMs !== undefined ? { connectTimeoutMs: init.connectTimeoutMs } : {}),
          });
        },
        onStream: (stream) => this.#attach(stream),
      });
    }
    return new MediaSessionDescriptionHandler({
      address: init.address,
      bindAddress: init.bindAddress,
      ports: init.ports,
      ...(init.reserve ? { reserve: init.reserve } : {}),
      workers: () => this.#workers(),
      codecs: () => init.codecs,
      answerCodecs: () => this.#answerCodecs,
      answerPriority: init.answerPriority,
      srtp: init.srtp,
      onSrtp: (srtp, session) => {
        // Said once per key pair: re-INVITEs that keep the keys (hold, retrieve) say nothing new.
        const logged = this.#loggedKeys;
        if (srtp === undefined || (logged && sameKeyMaterial(logged.send, srtp.send) && sameKeyMaterial(logged.receive, srtp.receive))) return;
        this.#loggedKeys = { send: srtp.send, receive: srtp.receive };
        const uec = srtp.send.unencryptedSrtcp === true ? ', RTCP unencrypted (UNENCRYPTED_SRTCP)' : '';
        init.log(3, `SRTP ${srtp.send.suite} with SDES keys${uec}`);
        if (!init.signallingSecure) init.log(2, 'SRTP keys (SDES) were exchanged over unencrypted signalling: anyone who sees the SIP messages can decrypt the audio; use TLS or WSS');
        this.#logDrops(session);
      },
      dtls: init.dtls,
      ...(init.ice ? { ice: init.ice } : {}),
      onIce: (event) => {
        if (event.kind === 'selected') init.log(3, `ICE selected ${event.pair.local.type} ${event.pair.local.address}:${event.pair.local.port} <-> ${event.pair.remote.type} ${event.pair.remote.address}:${event.pair.remote.port}`);
        else if (event.kind === 'refused') init.log(2, `ICE: ${event.reason}`);
        else if (event.connected) {
          init.log(1, `ICE ${event.reason}; the call ends`);
          this.emit('connectivityLost', event.reason);
        } else init.log(2, `ICE failed (${event.reason}); media stays on the address in the SDP`);
      },
      onDtls: (dtls, error, session) => {
        if (error) {
          init.log(1, `DTLS-SRTP handshake (${dtls.role}) failed: ${error.message}; the call ends`);
          this.#failures.security++;
          this.emit('securityFailed', error);
          return;
        }
        init.log(3, `SRTP AES_CM_128_HMAC_SHA1_80 with DTLS-SRTP keys (we are the DTLS ${dtls.role}; peer certificate ${dtls.remoteFingerprint.algorithm} ${dtls.remoteFingerprint.value} checked)`);
        this.#logDrops(session);
      },
      devices: (codecRate) => {
        this.#openDevices(Math.min(codecRate, 16000), codecRate);
        return { ...(this.#microphonePort ? { input: this.#microphonePort } : {}), ...(this.#speakerPort ? { output: this.#speakerPort } : {}) };
      },
      stream: {
        inactivityTimeoutMs: init.inactivityTimeoutMs,
        vqAlarmThreshold: init.vqAlarmThreshold,
        dtmfFeedback: init.dtmfFeedback,
        ...(init.rtcpXr ? { rtcpXr: true } : {}),
        ...(init.processing ? { processing: init.processing } : {}),
      },
      // DTX sends RFC 3389 comfort noise when the far end takes it: offered and accepted then.
      comfortNoise: init.processing?.dtx === true,
      onStream: (stream) => this.#attach(stream),
      // The answer's stream is made once our 200 has gone (the call says when: sessionEstablished).
      deferAnswerStream: true,
    });
  }

  /**
   * The media workers, when this call's stream can run in one: what a worker cannot do (ICE, our
   * offers with DTLS-SRTP, devices that carry sound) keeps it on the main thread.
   */
  #workers(): MediaWorkerPool | undefined {
    const init = this.#init;
    if (!init.workers || init.ice || (init.dtls.offer && init.srtp.mode !== 'disabled')) return undefined;
    const silent = (device: AudioDevice | undefined): boolean => device === undefined || init.devices.silent?.(device.id) === true;
    return silent(this.#devices.input) && silent(this.#devices.output) ? init.workers : undefined;
  }

  /** Tells of offers and answers the handler refuses (sip.js only answers them 488, or ends the call). */
  #reportFailures<H extends MediaSessionDescriptionHandler | WebRtcSessionDescriptionHandler | ImSessionDescriptionHandler>(handler: H): H {
    const failed = (error: unknown): never => {
      const reason = error instanceof Error ? error.message : String(error);
      this.#failures.negotiation++;
      this.#init.log(2, `offer/answer refused: ${reason}`);
      this.emit('negotiationFailed', reason);
      throw error;
    };
    const setDescription = handler.setDescription.bind(handler);
    const getDescription = handler.getDescription.bind(handler);
    handler.setDescription = (sdp: string, options?: MediaDescriptionOptions) => setDescription(sdp, options).catch(failed);
    handler.getDescription = (options?: MediaDescriptionOptions) => getDescription(options).catch(failed);
    return handler;
  }

  /** Logs the packets SRTP drops (at most one line a second, the session's limit). */
  #logDrops(session: RtpSession | WorkerRtpSession): void {
    if (session.listenerCount('srtpDropped') > 0) return;
    const log = (reason: SrtpDropReason, counters: SrtpCounters): void => {
      // Packets too short or not RTP at all are usual noise (baresip's clear "PINGPONG" RTCP APP opening its NAT): debug only.
      this.#init.log(reason === 'malformed' ? 4 : 2, `SRTP dropped a packet (${reason}); so far: ${counters.authenticationFailures} failed authentication, ${counters.replayed} replayed, ${counters.tooOld} too old, ${counters.malformed} malformed`);
    };
    if (session instanceof WorkerRtpSession) session.on('srtpDropped', log);
    else session.on('srtpDropped', log);
  }

  #attach(stream: CallAudioStream): void {
    this.#stream = stream;
    if (this.#muted && !this.#leg) stream.setMuted(true);
    // Both streams have these events with the same arguments.
    const events = stream as AudioStream;
    events.on('dtmf', (event) => this.emit('dtmf', event));
    events.on('vqAlarm', (report) => this.emit('vqAlarm', report));
    events.on('inactivity', () => this.emit('inactivity'));
    events.on('listenerError', (error) => this.emit('listenerError', error));
    if (stream instanceof WebRtcAudioStream) {
      stream.on('connectionStateChanged', (state) => this.#init.log(state === 'failed' ? 2 : 3, `WebRTC connection ${state}`));
      stream.on('failed', (reason) => {
        this.#init.log(1, `WebRTC media failed: ${reason}; the call ends`);
        this.emit('connectivityLost', reason);
      });
      stream.on('error', (error) => this.#init.log(2, `WebRTC stream: ${error.message}`));
    }
    this.emit('streamStarted', stream);
    // libwebrtc may have failed already, while the exchange completed (a certificate that is not
    // its fingerprint's can fail the handshake before the answer is taken).
    if (stream instanceof WebRtcAudioStream && stream.failureReason !== undefined) {
      const reason = stream.failureReason;
      this.#init.log(1, `WebRTC media failed: ${reason}; the call ends`);
      this.emit('connectivityLost', reason);
    }
  }

  /** Opens a device, or logs why it could not be opened and gives undefined: the call goes on without it. */
  readonly #tryOpen = <T>(kind: string, id: string, opener: () => T): T | undefined => {
    try {
      return opener();
    } catch (error) {
      this.#init.log(2, `the ${kind} ${id} could not be opened (${(error as Error).message}); the call goes on without it`);
      return undefined;
    }
  };

  /**
   * Opens the call's microphone and speaker at `sampleRate`, each once (not after the call closed).
   * A device that cannot be opened (unplugged while the call rang, busy) is logged and left out:
   * the call goes on without it (silence sent, nothing played), as with a device unplugged later.
   */
  #openDevices(sampleRate: number, codecRate = sampleRate): void {
    if (this.#closed) return;
    const init = this.#init;
    const open = this.#tryOpen;
    const { input, output } = this.#devices;
    if (input && !this.#input) this.#input = open('microphone', input.id, () => (init.opener ?? init.devices).openInput(input.id, sampleRate));
    if (output && !this.#output) this.#output = open('speaker', output.id, () => (init.opener ?? init.devices).openOutput(output.id, sampleRate));
    // Ports even without a device: a call with no microphone or speaker can still join a conference.
    this.#microphonePort ??= new MicrophonePort(this.#input, codecRate);
    this.#speakerPort ??= new SpeakerPort(this.#output, codecRate);
  }

  /**
   * Moves the call's audio to other devices. Before the stream opens its devices, only the choice
   * changes; once they are open, the new device is opened at the rate the stream runs its port at
   * and the old one closed, between two ticks: the stream goes on without a rebuild. A device that
   * cannot be opened leaves silence (microphone) or nothing played (speaker), logged, as at the
   * start of a call. An IM session has no audio; a stream in a media worker keeps its (silent)
   * devices.
   */
  #moveDevices(input: AudioDevice | undefined, output: AudioDevice | undefined): boolean {
    if (this.#closed || this.#init.im) return false;
    const current = this.#devices;
    const inputMoves = current.input?.id !== input?.id;
    const outputMoves = current.output?.id !== output?.id;
    if (!inputMoves && !outputMoves) return false;
    if (this.#stream instanceof WorkerAudioStream) {
      this.#init.log(2, 'the devices changed, but this call\'s audio runs in a media worker thread: it keeps its devices');
      return false;
    }
    const init = this.#init;
    const open = this.#tryOpen;
    this.#devices = { input, output };
    const microphone = this.#microphonePort;
    if (inputMoves && microphone) {
      const opened = input ? open('microphone', input.id, () => (init.opener ?? init.devices).openInput(input.id, microphone.sampleRate)) : undefined;
      this.#input = opened;
      microphone.replace(opened);
    }
    const speaker = this.#speakerPort;
    if (outputMoves && speaker) {
      const opened = output ? open('speaker', output.id, () => (init.opener ?? init.devices).openOutput(output.id, speaker.sampleRate)) : undefined;
      this.#output = opened;
      speaker.replace(opened);
    }
    init.log(3, `audio moved to the microphone ${input ? `"${input.name}"` : '(none)'} and the speaker ${output ? `"${output.name}"` : '(none)'}`);
    this.emit('devicesMoved', { ...this.#devices });
    return true;
  }

  #conferenceSide(): CallMediaConference {
    return {
      unavailable: () => {
        const stream = this.#stream;
        if (this.#closed) return 'its media is closed';
        if (!stream || !this.#microphonePort || !this.#speakerPort) return 'it has no audio stream yet';
        // A worker's stream reads and writes its devices in its thread: it cannot be mixed here.
        if (stream instanceof WorkerAudioStream) return 'its audio runs in a media worker thread (mediaThreads)';
        return undefined;
      },
      joined: () => this.#leg !== undefined,
      join: (mixer) => {
        const leg = mixer.join(this.#microphonePort!.sampleRate, this.#speakerPort!.sampleRate);
        leg.muted = this.#muted;
        this.#leg = leg;
        this.#microphonePort!.leg = leg;
        this.#speakerPort!.leg = leg;
        // The leg leaves our microphone out of a muted call; the stream itself must then send what it reads.
        if (this.#muted) this.#stream?.setMuted(false);
      },
      leave: () => {
        const leg = this.#leg;
        if (!leg) return;
        this.#leg = undefined;
        this.#microphonePort!.leg = undefined;
        this.#speakerPort!.leg = undefined;
        leg.leave();
        if (this.#muted) this.#stream?.setMuted(true);
      },
    };
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handler?.close();
    // Devices opened for a handler that never started a stream.
    if (!this.#stream) {
      this.#input?.close();
      this.#output?.close();
    }
    this.emit('closed');
  }
}

/** ICE of a WebRTC call, from libwebrtc's state and statistics. */
function webRtcIce(stream: WebRtcAudioStream | undefined): CallIce | undefined {
  if (!stream) return undefined;
  const states: Record<string, IceAgentState> = { new: 'new', checking: 'checking', connected: 'connected', completed: 'connected', disconnected: 'checking', failed: 'failed', closed: 'closed' };
  const state = states[stream.iceConnectionState] ?? 'new';
  const pair = stream.stats().ice;
  if (!pair) return { state };
  return { state, local: pair.localType as IceCandidateType, remote: pair.remoteType as IceCandidateType, localAddress: pair.local, remoteAddress: pair.remote };
}

