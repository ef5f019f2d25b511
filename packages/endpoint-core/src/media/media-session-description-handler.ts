import type { BodyAndContentType, SessionDescriptionHandler, SessionDescriptionHandlerFactory, SessionDescriptionHandlerOptions } from 'sip.js';
import type { ConfiguredCodec, SrtpPolicy } from '@sip-endpoint/config';
import {
  answerOffer,
  applyAnswer,
  AudioStream,
  createOffer,
  RtpSession,
  SdpError,
  SdpOrigin,
  SrtpContext,
  DtlsError,
  DtlsSrtpHandshake,
  IceAgent,
  type IceAgentCounters, type IceAgentState,
  type IcePair,
  type StunAddress,
  type AudioStreamOptions,
  type DtlsCertificate,
  type NegotiatedDtls,
  type NegotiatedSrtp,
  type OfferedKey,
  type SrtpKeyMaterial,
  type MediaDirection,
  type NegotiatedAudio,
  type OfferedFormat,
  type ParsedSdp,
  type PortAllocator,
  type RtpSocketReserve,
  type MediaWorkerPool,
  type WorkerAudioStream,
  WorkerRtpSession,
} from '@sip-endpoint/media';
import type { TurnServerSettings } from './nat-settings';
import { parseOffer } from './offer-cache';

/** What the media of a call needs from the endpoint. @public */
export interface MediaContext {
  /** Our media address: bound (with `rtp_port_binding` 1) and written in SDP. */
  address: string;
  /** Where RTP sockets bind: the address, or `0.0.0.0` / `::` (`rtp_port_binding` 0). */
  bindAddress: string;
  ports: PortAllocator;
  /** RTP socket pairs bound ahead of time: a session takes one instead of binding two sockets while the answer waits. */
  reserve?: RtpSocketReserve;
  /** The codecs to offer and accept, preferred first (the policy's `codecPriorities().offer`). */
  codecs: () => readonly ConfiguredCodec[];
  /**
   * The codecs to answer the pending remote offer with, the chosen one first (the policy's
   * `codecPriorities().answer`); undefined to answer from `codecs` by `answerPriority`.
   */
  answerCodecs?: () => readonly ConfiguredCodec[] | undefined;
  /** `answer_sdp_priority`. */
  answerPriority: 'local' | 'remote';
  /** `system.security.use_srtp`: what is offered and accepted. @defaultValue disabled */
  srtp?: SrtpPolicy;
  /** Told of the SRTP each exchange settles (undefined: plain RTP), with the RTP session it keys. */
  onSrtp?: (srtp: NegotiatedSrtp | undefined, session: RtpSession | WorkerRtpSession) => void;
  /**
   * Media worker threads to run this call's stream in, when it can run there (asked when the RTP
   * session opens); undefined keeps it on the main thread. A worker's session takes no DTLS-SRTP
   * (an offer of it is answered without) and no ICE.
   */
  workers?: () => MediaWorkerPool | undefined;
  /**
   * DTLS-SRTP: our certificate (one per endpoint), and whether our secure offers use DTLS-SRTP
   * instead of SDES. Without it, DTLS-SRTP offers are refused.
   */
  dtls?: { certificate: () => Promise<DtlsCertificate>; offer: boolean; timeoutMs?: number };
  /** Told when a DTLS-SRTP handshake ends: `error` undefined when the keys are in place. */
  onDtls?: (dtls: NegotiatedDtls, error: DtlsError | undefined, session: RtpSession) => void;
  /**
   * ICE (`nat.ice_enabled`): offers and answers carry our candidates (host, and server-reflexive
   * from `stunServer`), and a peer that does ICE too is checked. Resolves the STUN server's
   * address when the call needs it (a host name is looked up then).
   */
  ice?: {
    stunServer?: () => Promise<StunAddress | undefined>;
    /** The TURN server for a relayed candidate. */
    turnServer?: () => Promise<TurnServerSettings | undefined>;
    consentTimeoutMs?: number;
    checkTimeoutMs?: number;
  };
  /** Told of what ICE does: a pair selected, a failure (before a pair: media stays on the SDP address; after: consent lost), a refusal to log. */
  onIce?: (event: { kind: 'selected'; pair: IcePair } | { kind: 'failed'; reason: string; connected: boolean } | { kind: 'refused'; reason: string }) => void;
  /** Everything else the stream takes: devices, inactivity timeout, VQ threshold, playout hook. */
  stream?: Omit<AudioStreamOptions, 'session' | 'codec' | 'payloadType' | 'telephoneEvent' | 'remote' | 'direction' | 'ptimeMs'>;
  /**
   * Opens the devices when the stream is created, given the negotiated codec's sample rate (so
   * that they can open at it: nothing to resample between a virtual device and the codec); they
   * override `stream`'s.
   */
  devices?: (sampleRate: number) => Pick<AudioStreamOptions, 'input' | 'output'>;
  /** Told of the stream the handler starts, so that the call's media can follow its events. */
  onStream?: (stream: AudioStream | WorkerAudioStream) => void;
  /** Offer and accept comfort noise (RFC 3389 CN), for DTX (`dtx_mode`). @defaultValue false */
  comfortNoise?: boolean;
  /**
   * The stream of the first answer we give (in our 2xx) is made when `startMedia()` is called,
   * once that 2xx has gone, rather than while it is being built. @defaultValue false
   */
  deferAnswerStream?: boolean;
}

/** Options sip.js passes through `sessionDescriptionHandlerOptions` (e.g. from `session.invite()`). @public */
export interface MediaDescriptionOptions extends SessionDescriptionHandlerOptions {
  /** Put the call on hold: our direction becomes `sendonly` (or `inactive` if the peer holds too). */
  hold?: boolean;
  /** Our offer lists this configured codec first (a mid-call codec change: `call.changeCodec()`). */
  codec?: string;
}

/**
 * sip.js's SessionDescriptionHandler on `@sip-endpoint/media`: SDP offers and answers from the
 * configured codecs, an RTP session per call, and an {@link AudioStream} started once the
 * exchange completes and updated by re-offers (hold, retrieve, a moved remote address).
 *
 * @remarks
 * The codec can change in mid-call. Our re-offers list the codec in use first and the other
 * configured ones after it, so that the peer may keep it (hold and retrieve do); an answer naming
 * another one switches the stream to it (`AudioStream.setCodec`: no gap, no click). A re-offer of
 * the peer that still lists the codec in use is answered with it; one that no longer does is
 * answered by the usual rules (`answer_sdp_priority`), and the stream switches to the codec
 * answered. `call.changeCodec()` sends a re-offer naming the wanted codec first.
 *
 * @public
 */
export class MediaSessionDescriptionHandler implements SessionDescriptionHandler {
  readonly #context: MediaContext;
  readonly #origin = new SdpOrigin();
  #rtp: RtpSession | WorkerRtpSession | undefined;
  #stream: AudioStream | WorkerAudioStream | undefined;
  /** An answer sent whose stream waits for our 2xx to have gone (see startMedia). */
  #pendingStream: NegotiatedAudio | undefined;
  #negotiated: NegotiatedAudio | undefined;
  #localOffer: { formats: OfferedFormat[]; keys: OfferedKey[]; dtls: boolean } | undefined;
  #certificate: DtlsCertificate | undefined;
  /** DTLS datagrams that came before the handshake began (our offer was out, the answer not yet in). */
  #earlyDtls: { data: Buffer; from: { address: string; port: number } }[] = [];
  #ice: IceAgent | undefined;
  /** Whether we made the first offer: the offerer controls ICE. */
  #offeredFirst: boolean | undefined;
  /** The DTLS association: what it was set up with, and how it stands. */
  #dtls: { negotiated: NegotiatedDtls; state: 'connecting' | 'established' | 'failed'; abort: AbortController; started: boolean } | undefined;
  #remoteOffer: ParsedSdp | undefined;
  #hold = false;
  #closed = false;

  constructor(context: MediaContext) {
    this.#context = context;
  }

  /** The call's audio stream, once negotiated (in a media worker when the context gave one). */
  get stream(): AudioStream | WorkerAudioStream | undefined {
    return this.#stream;
  }

  /** What the last exchange settled. */
  get negotiated(): NegotiatedAudio | undefined {
    return this.#negotiated;
  }

  /** How the DTLS association stands, when the media runs DTLS-SRTP. */
  get dtls(): { negotiated: NegotiatedDtls; state: 'connecting' | 'established' | 'failed' } | undefined {
    return this.#dtls ? { negotiated: this.#dtls.negotiated, state: this.#dtls.state } : undefined;
  }

  /** How ICE stands, when the call uses it. */
  get ice(): { state: IceAgentState; selected: IcePair | undefined; counters: IceAgentCounters } | undefined {
    const agent = this.#ice;
    return agent && this.#negotiated?.ice ? { state: agent.state, selected: agent.selected, counters: agent.counters } : undefined;
  }

  async getDescription(options?: MediaDescriptionOptions): Promise<BodyAndContentType> {
    const rtp = await this.#open();
    if (this.#needsCertificate()) this.#certificate ??= await this.#context.dtls!.certificate();
    await this.#gather(rtp);
    this.#offeredFirst ??= this.#remoteOffer === undefined;
    if (options?.hold !== undefined) this.#hold = options.hold;
    const wanted: MediaDirection = this.#hold ? 'sendonly' : 'sendrecv';
    const codecs = this.#codecsForNow(this.#remoteOffer ? undefined : options?.codec);
    if (this.#remoteOffer) {
      const offer = this.#remoteOffer;
      this.#remoteOffer = undefined;
      // The first answer takes the policy's choice; later ones keep the codec in use while the
      // offer still lists it (listed first in ours, chosen by local priority), else follow the rules.
      const chosen = this.#negotiated ? undefined : this.#context.answerCodecs?.();
      const current = this.#negotiated?.codec;
      const keeps = current !== undefined && (offer.audio?.formats ?? []).some((format) => format.encoding.toLowerCase() === current.encoding.toLowerCase() && format.clockRate === current.clockRate);
      const answer = answerOffer(offer, {
        origin: this.#origin,
        ...this.#defaultAddress(rtp),
        codecs: chosen ?? codecs,
        answerPriority: chosen || keeps ? 'local' : this.#context.answerPriority,
        direction: wanted,
        ...(this.#context.srtp ? { srtp: this.#context.srtp } : {}),
        srtpKeys: this.#keysInUse(),
        ...this.#dtlsOptions(),
        ...this.#iceOptions(),
        ...(this.#context.comfortNoise ? { comfortNoise: true } : {}),
      });
      if (!answer.negotiated) throw new SdpError(`cannot answer the offer: ${answer.reason ?? 'no audio'}`);
      // The first answer goes in our 2xx: its stream is made once that has gone (startMedia).
      this.#apply(answer.negotiated, this.#context.deferAnswerStream === true && !this.#stream);
      return { body: answer.sdp, contentType: 'application/sdp' };
    }
    const offer = createOffer({
      origin: this.#origin,
      ...this.#defaultAddress(rtp),
      codecs,
      direction: wanted,
      ...(this.#context.srtp ? { srtp: this.#context.srtp } : {}),
      srtpKeys: this.#keysInUse(),
      ...this.#dtlsOptions(),
      ...this.#iceOptions(),
      ...(this.#context.comfortNoise ? { comfortNoise: true } : {}),
    });
    this.#localOffer = { formats: offer.formats, keys: offer.keys, dtls: offer.dtls };
    // The answerer, often active, may start the handshake before its answer reaches us: keep its first flight.
    if (offer.dtls && !this.#dtls && rtp instanceof RtpSession) {
      this.#earlyDtls = [];
      rtp.setDatagramHandler('dtls', (data, from) => {
        if (this.#earlyDtls.length < 8) this.#earlyDtls.push({ data: Buffer.from(data), from: { address: from.address, port: from.port } });
      });
    }
    return { body: offer.sdp, contentType: 'application/sdp' };
  }

  async setDescription(sdp: string, options?: MediaDescriptionOptions): Promise<void> {
    if (options?.hold !== undefined) this.#hold = options.hold;
    const parsed = parseOffer(sdp);
    if (this.#localOffer) {
      const offered = this.#localOffer;
      this.#localOffer = undefined;
      this.#apply(applyAnswer(parsed, offered.formats, { direction: this.#hold ? 'sendonly' : 'sendrecv', keys: offered.keys, dtls: offered.dtls, ...this.#iceOptions(), ...(this.#context.srtp ? { srtp: this.#context.srtp } : {}) }));
      return;
    }
    this.#remoteOffer = parsed;
  }

  hasDescription(contentType: string): boolean {
    return isSdp(contentType);
  }

  async rollbackDescription(): Promise<void> {
    this.#localOffer = undefined;
    this.#remoteOffer = undefined;
  }

  /** Sends digits as RFC 4733 events when negotiated, else in-band. */
  sendDtmf(tones: string, options?: { method?: 'rfc4733' | 'inband' }): boolean {
    if (!this.#stream) return false;
    try {
      this.#stream.sendDtmf(tones, options?.method);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#dtls?.abort.abort();
    this.#ice?.close();
    if (this.#stream) this.#stream.close();
    else this.#rtp?.close();
  }

  async #open(): Promise<RtpSession | WorkerRtpSession> {
    if (this.#rtp) return this.#rtp;
    const options = { ports: this.#context.ports, bindAddress: this.#context.bindAddress, ...(this.#context.reserve ? { reserve: this.#context.reserve } : {}) };
    // An offer of DTLS-SRTP is answered by a session of the main thread, which runs handshakes.
    const dtlsOffered = this.#remoteOffer?.audio?.fingerprint !== undefined || /TLS/i.test(this.#remoteOffer?.audio?.protocol ?? '');
    const workers = dtlsOffered ? undefined : this.#context.workers?.();
    const rtp = workers ? await workers.openSession(options) : await RtpSession.open(options);
    // Closed while the sockets were being bound: they go at once.
    if (this.#closed) {
      rtp.close();
      throw new SdpError('the call ended while its RTP session was being opened');
    }
    this.#rtp = rtp;
    return rtp;
  }

  /**
   * Whether this description needs our DTLS certificate: an answer to an offer of DTLS-SRTP, or
   * an offer of ours that may carry it (`dtls.offer` with SRTP not disabled). Making the endpoint's
   * certificate is asynchronous work: a call without DTLS does not wait for it.
   */
  #needsCertificate(): boolean {
    const dtls = this.#context.dtls;
    if (!dtls) return false;
    const remote = this.#remoteOffer;
    if (remote) return remote.audio?.fingerprint !== undefined || /TLS/i.test(remote.audio?.protocol ?? '');
    return dtls.offer && (this.#context.srtp?.mode ?? 'disabled') !== 'disabled';
  }

  /** Our SDES key in use, for re-offers and re-answers: they keep it (no re-key). */
  #keysInUse(): OfferedKey[] {
    const srtp = this.#negotiated?.srtp;
    return srtp ? [{ tag: srtp.tag, key: srtp.send }] : [];
  }

  /** Makes the ICE agent and gathers its candidates, once per call. */
  async #gather(rtp: RtpSession | WorkerRtpSession): Promise<void> {
    const ice = this.#context.ice;
    if (!ice || this.#ice || rtp instanceof WorkerRtpSession) return;
    const [stunServer, turnServer] = await Promise.all([ice.stunServer?.(), ice.turnServer?.()]);
    const agent = new IceAgent({
      session: rtp,
      hostAddress: this.#context.address,
      ...(stunServer ? { stunServer } : {}),
      ...(turnServer ? { turnServer } : {}),
      ...(ice.consentTimeoutMs !== undefined ? { consentTimeoutMs: ice.consentTimeoutMs } : {}),
      ...(ice.checkTimeoutMs !== undefined ? { checkTimeoutMs: ice.checkTimeoutMs } : {}),
    });
    this.#ice = agent;
    agent.on('refused', (reason) => this.#context.onIce?.({ kind: 'refused', reason }));
    agent.on('selected', (pair) => {
      // Media goes where the checks went (RTCP too: ICE runs with rtcp-mux).
      const negotiated = this.#negotiated;
      this.#stream?.setRemote(pair.remote.address, pair.remote.port, negotiated?.remote.rtcpMux ? pair.remote.port : negotiated?.remote.rtcpPort, negotiated?.remote.rtcpMux ?? true);
      this.#context.onIce?.({ kind: 'selected', pair });
    });
    agent.on('stateChanged', (state, previous) => {
      if (state === 'failed') this.#context.onIce?.({ kind: 'failed', reason: agent.failureReason ?? (agent.selected ? 'consent lost' : 'no candidate pair worked'), connected: previous === 'connected' });
    });
    await agent.gather();
  }

  /** Our SDP address and port: ICE's default candidate, else our media address and RTP port. */
  #defaultAddress(rtp: RtpSession | WorkerRtpSession): { address: string; port: number } {
    const candidate = this.#ice?.defaultCandidate;
    return candidate ? { address: candidate.address, port: candidate.port } : { address: this.#context.address, port: rtp.localPort };
  }

  /** ICE for offers and answers: our credentials and candidates. */
  #iceOptions(): { ice?: { ufrag: string; pwd: string; candidates: IceAgent['candidates'] } } {
    const agent = this.#ice;
    return agent ? { ice: { ufrag: agent.ufrag, pwd: agent.pwd, candidates: agent.candidates } } : {};
  }

  /** DTLS-SRTP for offers and answers: our fingerprint, and the role of the association in use. */
  #dtlsOptions(): { dtls?: { fingerprint: DtlsCertificate['fingerprint']; offer: boolean; role?: 'client' | 'server' } } {
    const certificate = this.#certificate;
    if (!certificate || !this.#context.dtls || this.#rtp instanceof WorkerRtpSession) return {};
    const role = this.#dtls && this.#dtls.state !== 'failed' ? this.#dtls.negotiated.role : undefined;
    return { dtls: { fingerprint: certificate.fingerprint, offer: this.#context.dtls.offer, ...(role ? { role } : {}) } };
  }

  /**
   * Keys the session for what an exchange settled: SDES keys at once; DTLS-SRTP by a handshake
   * that starts now (RTP held until it ends) unless the association in use goes on.
   */
  #secure(negotiated: NegotiatedAudio): void {
    const rtp = this.#rtp!;
    const dtls = negotiated.dtls;
    if (rtp instanceof WorkerRtpSession) {
      // SDES keys only (no DTLS was offered or accepted); the worker keeps a context whose key did not change.
      const srtp = negotiated.srtp;
      const current = rtp.srtp;
      const keep = srtp && current && sameKeyMaterial(current.send, srtp.send) && sameKeyMaterial(current.receive, srtp.receive);
      if (!keep) rtp.setSrtp(srtp ? { send: srtp.send, receive: srtp.receive } : undefined);
      this.#context.onSrtp?.(srtp, rtp);
      return;
    }
    if (dtls) {
      const current = this.#dtls;
      const same = current && current.state !== 'failed' && current.negotiated.role === dtls.role && current.negotiated.remoteFingerprint.algorithm === dtls.remoteFingerprint.algorithm && current.negotiated.remoteFingerprint.value === dtls.remoteFingerprint.value;
      if (same) return;
      current?.abort.abort();
      rtp.awaitSrtp();
      this.#dtls = { negotiated: dtls, state: 'connecting', abort: new AbortController(), started: false };
      return;
    }
    if (this.#dtls) {
      this.#dtls.abort.abort();
      this.#dtls = undefined;
    }
    // A key that did not change keeps its context, rollover counter and replay window (RFC 4568
    // section 7.1.4: our re-offers and re-answers keep ours); a new key (the peer re-keyed, or a
    // suite changed) gets a new context. Plain RTP turns SRTP off.
    const srtp = negotiated.srtp;
    const current = rtp.srtp;
    rtp.setSrtp(
      srtp
        ? {
            send: current && sameKey(current.send, srtp.send) ? current.send : new SrtpContext(srtp.send),
            receive: current && sameKey(current.receive, srtp.receive) ? current.receive : new SrtpContext(srtp.receive),
          }
        : undefined,
    );
    this.#context.onSrtp?.(srtp, rtp);
  }

  /** Runs the handshake of a new DTLS association (once the stream knows where the peer is). */
  #handshake(): void {
    const association = this.#dtls;
    const rtp = this.#rtp;
    if (!association || association.started || !this.#certificate || !(rtp instanceof RtpSession)) return;
    association.started = true;
    const { negotiated, abort } = association;
    const options = {
      role: negotiated.role,
      certificate: this.#certificate,
      remoteFingerprint: negotiated.remoteFingerprint,
      signal: abort.signal,
      ...(this.#context.dtls?.timeoutMs !== undefined ? { timeoutMs: this.#context.dtls.timeoutMs } : {}),
    };
    const early = this.#earlyDtls.splice(0);
    // Without rtcp-mux RTCP has an association of its own on its port (RFC 5764 4.1): both run,
    // and the session gets the two sets of keys together.
    const separateRtcp = this.#negotiated?.remote.rtcpMux === false;
    const done = separateRtcp
      ? Promise.all([DtlsSrtpHandshake.run(rtp, { ...options, early, apply: false }), DtlsSrtpHandshake.run(rtp, { ...options, component: 'rtcp', apply: false })]).then(([media, control]) => {
          if (!abort.signal.aborted) rtp.setSrtp({ ...media, rtcp: control });
        })
      : DtlsSrtpHandshake.run(rtp, { ...options, early });
    done.then(
      () => {
        if (this.#dtls !== association) return;
        association.state = 'established';
        this.#context.onDtls?.(negotiated, undefined, rtp);
      },
      (error: unknown) => {
        // A handshake given up for a newer one, or for the end of the call, is no failure.
        if (this.#dtls !== association || this.#closed) return;
        abort.abort();
        association.state = 'failed';
        this.#context.onDtls?.(negotiated, error instanceof DtlsError ? error : new DtlsError(String(error)), rtp);
      },
    );
  }

  /**
   * The configured codecs in the order for now: `first` (a codec change asked for), else the codec
   * in use, ahead of the others, so that a re-offer or answer keeps it unless told otherwise.
   */
  #codecsForNow(first?: string): readonly ConfiguredCodec[] {
    const all = this.#context.codecs();
    const lead = first ?? this.#negotiated?.codec.name;
    if (!lead) return all;
    const leads = (codec: ConfiguredCodec): boolean => sameCodecName(codec.name, lead);
    return [...all.filter(leads), ...all.filter((codec) => !leads(codec))];
  }

  /**
   * Makes the stream of an answer we sent, once our 2xx has gone (the call calls it when its
   * session is established): building it (codec, jitter buffer, buffers, devices) took a third of
   * the time between an INVITE's arrival and our 200. Harmless when there is nothing waiting.
   */
  startMedia(): void {
    const pending = this.#pendingStream;
    this.#pendingStream = undefined;
    if (pending && !this.#closed && !this.#stream) this.#createStream(pending);
  }

  /** Applies a completed offer/answer; with `deferStream`, a first stream waits for {@link startMedia}. */
  #apply(negotiated: NegotiatedAudio, deferStream = false): void {
    if (this.#closed) return;
    const previous = this.#negotiated;
    this.#negotiated = negotiated;
    this.#secure(negotiated);
    if (!this.#stream) {
      if (deferStream) {
        this.#pendingStream = negotiated;
        return;
      }
      this.#pendingStream = undefined;
      this.#createStream(negotiated);
      return;
    }
    const remote = negotiated.remote;
    // With a pair selected, media stays on it: the SDP's address is only the default candidate.
    const selected = this.#ice?.selected;
    if (!selected && (!previous || previous.remote.address !== remote.address || previous.remote.rtpPort !== remote.rtpPort)) {
      this.#stream.setRemote(remote.address, remote.rtpPort, remote.rtcpPort, remote.rtcpMux);
    }
    // Another codec settled (or another payload type or telephone-event): the stream switches at its next tick.
    if (previous && (previous.codec.name !== negotiated.codec.name || previous.payloadType !== negotiated.payloadType || previous.telephoneEvent?.payloadType !== negotiated.telephoneEvent?.payloadType || previous.telephoneEvent?.clockRate !== negotiated.telephoneEvent?.clockRate)) {
      this.#stream.setCodec({ codec: negotiated.codec, payloadType: negotiated.payloadType, ...(negotiated.telephoneEvent ? { telephoneEvent: negotiated.telephoneEvent } : {}) });
    }
    this.#stream.setDirection(negotiated.direction);
    this.#startIce(negotiated);
    this.#handshake();
  }

  /** The call's stream, started, with its ICE checks and DTLS handshake. */
  #createStream(negotiated: NegotiatedAudio): void {
    const rtp = this.#rtp!;
    if (rtp instanceof WorkerRtpSession) {
      const options = this.#context.stream;
      const stream = rtp.createStream(
        {
          payloadType: negotiated.payloadType,
          ...(negotiated.telephoneEvent ? { telephoneEvent: negotiated.telephoneEvent } : {}),
          remote: negotiated.remote,
          direction: negotiated.direction,
          ptimeMs: negotiated.ptimeMs,
          ...(options?.inactivityTimeoutMs !== undefined ? { inactivityTimeoutMs: options.inactivityTimeoutMs } : {}),
          ...(options?.vqAlarmThreshold !== undefined ? { vqAlarmThreshold: options.vqAlarmThreshold } : {}),
          ...(options?.rtcpIntervalS !== undefined ? { rtcpIntervalS: options.rtcpIntervalS } : {}),
          ...(options?.rtcpXr !== undefined ? { rtcpXr: options.rtcpXr } : {}),
          ...(options?.cname !== undefined ? { cname: options.cname } : {}),
          ...(options?.detectInbandDtmf !== undefined ? { detectInbandDtmf: options.detectInbandDtmf } : {}),
          ...(options?.dtmfFeedback !== undefined ? { dtmfFeedback: options.dtmfFeedback } : {}),
          ...(options?.jitterBuffer ? { jitterBuffer: options.jitterBuffer } : {}),
          // A worker's devices are silent: of the processing, DTX and the CN settled are what apply.
          ...(options?.processing?.dtx || negotiated.comfortNoise
            ? { processing: { dtx: options?.processing?.dtx === true, vadLevel: options?.processing?.vadLevel ?? 0, ...(negotiated.comfortNoise ? { comfortNoise: negotiated.comfortNoise } : {}) } }
            : {}),
        },
        negotiated.codec,
      );
      this.#stream = stream;
      this.#context.onStream?.(stream);
      stream.start();
      return;
    }
    const processing = this.#context.stream?.processing;
    const stream = new AudioStream({
      ...this.#context.stream,
      ...this.#context.devices?.(negotiated.codec.sampleRate),
      // The CN payload type the exchange settled, for DTX to send and the receiver to play.
      ...(processing || negotiated.comfortNoise ? { processing: { ...processing, ...(negotiated.comfortNoise ? { comfortNoise: negotiated.comfortNoise } : {}) } } : {}),
      session: rtp,
      codec: negotiated.codec,
      payloadType: negotiated.payloadType,
      ...(negotiated.telephoneEvent ? { telephoneEvent: negotiated.telephoneEvent } : {}),
      remote: negotiated.remote,
      direction: negotiated.direction,
      ptimeMs: negotiated.ptimeMs,
    });
    this.#stream = stream;
    this.#context.onStream?.(stream);
    stream.start();
    this.#startIce(negotiated);
    this.#handshake();
  }

  /** Starts the checks when the exchange settled ICE on both sides (the first offerer controls). */
  #startIce(negotiated: NegotiatedAudio): void {
    const agent = this.#ice;
    if (!agent || !negotiated.ice) return;
    agent.start(negotiated.ice, this.#offeredFirst !== false);
  }
}

/**
 * Whether two codec names are the same codec: `opus` names `opus/48000/2`, `PCMU/8000` names
 * `pcmu` (the configuration writes short names, the registry full ones), case aside.
 */
export function sameCodecName(a: string, b: string): boolean {
  const left = a.toLowerCase().split('/');
  const right = b.toLowerCase().split('/');
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i++) if (left[i] !== right[i]) return false;
  return true;
}

/** Whether a Content-Type is SDP's (parameters and case aside). */
export function isSdp(contentType: string): boolean {
  return contentType.split(';')[0]!.trim().toLowerCase() === 'application/sdp';
}

/** Whether two SDES keys are the same. */
export function sameKeyMaterial(a: SrtpKeyMaterial, b: SrtpKeyMaterial): boolean {
  return a.suite === b.suite && (a.unencryptedSrtcp === true) === (b.unencryptedSrtcp === true) && Buffer.from(a.masterKey).equals(Buffer.from(b.masterKey)) && Buffer.from(a.masterSalt).equals(Buffer.from(b.masterSalt));
}

/** Whether a context runs on this key material. */
function sameKey(context: SrtpContext, key: SrtpKeyMaterial): boolean {
  return context.suite === key.suite && context.unencryptedSrtcp === (key.unencryptedSrtcp === true) && context.keyEquals(key);
}

/** A sip.js SessionDescriptionHandlerFactory making {@link MediaSessionDescriptionHandler}s. @public */
export function mediaSessionDescriptionHandlerFactory(context: MediaContext | ((session: unknown) => MediaContext)): SessionDescriptionHandlerFactory {
  return (session) => new MediaSessionDescriptionHandler(typeof context === 'function' ? context(session) : context);
}
