import type { BodyAndContentType, SessionDescriptionHandler, SessionDescriptionHandlerFactory, SessionDescriptionHandlerOptions } from 'sip.js';
import type { ConfiguredCodec, SrtpPolicy } from '@sip-endpoint/config';
import {
  answerOffer,
  applyAnswer,
  AudioStream,
  createOffer,
  parseSdp,
  RtpSession,
  SdpError,
  SdpOrigin,
  SrtpContext,
  type AudioStreamOptions,
  type NegotiatedSrtp,
  type OfferedKey,
  type SrtpKeyMaterial,
  type MediaDirection,
  type NegotiatedAudio,
  type OfferedFormat,
  type ParsedSdp,
  type PortAllocator,
} from '@sip-endpoint/media';

/** What the media of a call needs from the endpoint. @public */
export interface MediaContext {
  /** Our media address: bound (with `rtp_port_binding` 1) and written in SDP. */
  address: string;
  /** Where RTP sockets bind: the address, or `0.0.0.0` / `::` (`rtp_port_binding` 0). */
  bindAddress: string;
  ports: PortAllocator;
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
  onSrtp?: (srtp: NegotiatedSrtp | undefined, session: RtpSession) => void;
  /** Everything else the stream takes: devices, inactivity timeout, VQ threshold, playout hook. */
  stream?: Omit<AudioStreamOptions, 'session' | 'codec' | 'payloadType' | 'telephoneEvent' | 'remote' | 'direction' | 'ptimeMs'>;
  /** Told of the stream the handler starts, so that the call's media can follow its events. */
  onStream?: (stream: AudioStream) => void;
}

/** Options sip.js passes through `sessionDescriptionHandlerOptions` (e.g. from `session.invite()`). @public */
export interface MediaDescriptionOptions extends SessionDescriptionHandlerOptions {
  /** Put the call on hold: our direction becomes `sendonly` (or `inactive` if the peer holds too). */
  hold?: boolean;
}

/**
 * sip.js's SessionDescriptionHandler on `@sip-endpoint/media`: SDP offers and answers from the
 * configured codecs, an RTP session per call, and an {@link AudioStream} started once the
 * exchange completes and updated by re-offers (hold, retrieve, a moved remote address).
 *
 * @remarks
 * A re-offer that would change the codec keeps the codec in use (the answer names it again);
 * changing codecs in mid-call is not supported.
 *
 * @public
 */
export class MediaSessionDescriptionHandler implements SessionDescriptionHandler {
  readonly #context: MediaContext;
  readonly #origin = new SdpOrigin();
  #rtp: RtpSession | undefined;
  #stream: AudioStream | undefined;
  #negotiated: NegotiatedAudio | undefined;
  #localOffer: { formats: OfferedFormat[]; keys: OfferedKey[] } | undefined;
  #remoteOffer: ParsedSdp | undefined;
  #hold = false;
  #closed = false;

  constructor(context: MediaContext) {
    this.#context = context;
  }

  /** The call's audio stream, once negotiated. */
  get stream(): AudioStream | undefined {
    return this.#stream;
  }

  /** What the last exchange settled. */
  get negotiated(): NegotiatedAudio | undefined {
    return this.#negotiated;
  }

  async getDescription(options?: MediaDescriptionOptions): Promise<BodyAndContentType> {
    const rtp = await this.#open();
    if (options?.hold !== undefined) this.#hold = options.hold;
    const wanted: MediaDirection = this.#hold ? 'sendonly' : 'sendrecv';
    const codecs = this.#codecsForNow();
    if (this.#remoteOffer) {
      const offer = this.#remoteOffer;
      this.#remoteOffer = undefined;
      // The first answer takes the policy's choice; later ones keep the codec in use.
      const chosen = this.#negotiated ? undefined : this.#context.answerCodecs?.();
      const answer = answerOffer(offer, {
        origin: this.#origin,
        address: this.#context.address,
        port: rtp.localPort,
        codecs: chosen ?? codecs,
        answerPriority: chosen ? 'local' : this.#context.answerPriority,
        direction: wanted,
        ...(this.#context.srtp ? { srtp: this.#context.srtp } : {}),
        srtpKeys: this.#keysInUse(),
      });
      if (!answer.negotiated) throw new SdpError(`cannot answer the offer: ${answer.reason ?? 'no audio'}`);
      this.#apply(answer.negotiated);
      return { body: answer.sdp, contentType: 'application/sdp' };
    }
    const offer = createOffer({
      origin: this.#origin,
      address: this.#context.address,
      port: rtp.localPort,
      codecs,
      direction: wanted,
      ...(this.#context.srtp ? { srtp: this.#context.srtp } : {}),
      srtpKeys: this.#keysInUse(),
    });
    this.#localOffer = { formats: offer.formats, keys: offer.keys };
    return { body: offer.sdp, contentType: 'application/sdp' };
  }

  async setDescription(sdp: string, options?: MediaDescriptionOptions): Promise<void> {
    if (options?.hold !== undefined) this.#hold = options.hold;
    const parsed = parseSdp(sdp);
    if (this.#localOffer) {
      const offered = this.#localOffer;
      this.#localOffer = undefined;
      this.#apply(applyAnswer(parsed, offered.formats, { direction: this.#hold ? 'sendonly' : 'sendrecv', keys: offered.keys, ...(this.#context.srtp ? { srtp: this.#context.srtp } : {}) }));
      return;
    }
    this.#remoteOffer = parsed;
  }

  hasDescription(contentType: string): boolean {
    return contentType.split(';')[0]!.trim().toLowerCase() === 'application/sdp';
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
    if (this.#stream) this.#stream.close();
    else this.#rtp?.close();
  }

  async #open(): Promise<RtpSession> {
    this.#rtp ??= await RtpSession.open({ ports: this.#context.ports, bindAddress: this.#context.bindAddress });
    return this.#rtp;
  }

  /** Our SDES key in use, for re-offers and re-answers: they keep it (no re-key). */
  #keysInUse(): OfferedKey[] {
    const srtp = this.#negotiated?.srtp;
    return srtp ? [{ tag: srtp.tag, key: srtp.send }] : [];
  }

  /** Once a codec is in use, re-offers and answers name only it. */
  #codecsForNow(): readonly ConfiguredCodec[] {
    const all = this.#context.codecs();
    const current = this.#negotiated?.codec.name.toLowerCase();
    if (!current) return all;
    const keep = all.filter((codec) => codec.name.toLowerCase() === current || codec.codec?.kind === 'dtmf');
    return keep.length > 0 ? keep : all;
  }

  #apply(negotiated: NegotiatedAudio): void {
    if (this.#closed) return;
    const previous = this.#negotiated;
    this.#negotiated = negotiated;
    // A key that did not change keeps its context, rollover counter and replay window (RFC 4568
    // section 7.1.4: our re-offers and re-answers keep ours); a new key (the peer re-keyed, or a
    // suite changed) gets a new context. Plain RTP turns SRTP off.
    const srtp = negotiated.srtp;
    const current = this.#rtp!.srtp;
    this.#rtp!.setSrtp(
      srtp
        ? {
            send: current && sameKey(current.send, srtp.send) ? current.send : new SrtpContext(srtp.send),
            receive: current && sameKey(current.receive, srtp.receive) ? current.receive : new SrtpContext(srtp.receive),
          }
        : undefined,
    );
    this.#context.onSrtp?.(srtp, this.#rtp!);
    if (!this.#stream) {
      const stream = new AudioStream({
        ...this.#context.stream,
        session: this.#rtp!,
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
      return;
    }
    const remote = negotiated.remote;
    if (!previous || previous.remote.address !== remote.address || previous.remote.rtpPort !== remote.rtpPort) {
      this.#stream.setRemote(remote.address, remote.rtpPort, remote.rtcpPort, remote.rtcpMux);
    }
    this.#stream.setDirection(negotiated.direction);
  }
}

/** Whether a context runs on this key material. */
function sameKey(context: SrtpContext, key: SrtpKeyMaterial): boolean {
  return context.suite === key.suite && context.unencryptedSrtcp === (key.unencryptedSrtcp === true) && context.keyEquals(key);
}

/** A sip.js SessionDescriptionHandlerFactory making {@link MediaSessionDescriptionHandler}s. @public */
export function mediaSessionDescriptionHandlerFactory(context: MediaContext | ((session: unknown) => MediaContext)): SessionDescriptionHandlerFactory {
  return (session) => new MediaSessionDescriptionHandler(typeof context === 'function' ? context(session) : context);
}
