import type { BodyAndContentType, SessionDescriptionHandler } from 'sip.js';
import { SdpError, type WebRtcAudioStream } from '@sip-endpoint/media';
import { isSdp, type MediaDescriptionOptions } from './media-session-description-handler';

/** What the WebRTC media of a call needs from the call. */
export interface WebRtcMediaContext {
  /** Makes the call's stream (its devices, ICE servers and codecs are the call's). */
  createStream: () => Promise<WebRtcAudioStream>;
  /** Told of the stream once the first exchange completed and it started. */
  onStream?: (stream: WebRtcAudioStream) => void;
}

/**
 * sip.js's SessionDescriptionHandler on a {@link WebRtcAudioStream}: the offers and answers are
 * libwebrtc's (ICE candidates gathered whole, DTLS fingerprint, rtcp-mux), the stream starts once
 * the first exchange completes, and re-offers carry hold (`sendonly`) and retrieve.
 *
 * @remarks
 * The stream is made at the first offer or answer (libwebrtc is loaded then). An offer libwebrtc
 * refuses (no fingerprint, no ICE credentials, no common codec) is an {@link SdpError}: sip.js
 * answers it 488 and the call ends, or a re-offer is refused and the call goes on as it was.
 *
 * @public
 */
export class WebRtcSessionDescriptionHandler implements SessionDescriptionHandler {
  readonly #context: WebRtcMediaContext;
  #stream: WebRtcAudioStream | undefined;
  #opening: Promise<WebRtcAudioStream> | undefined;
  #remoteOffer: string | undefined;
  #offering = false;
  #hold = false;
  #started = false;
  #closed = false;

  constructor(context: WebRtcMediaContext) {
    this.#context = context;
  }

  /** The call's stream, once made. */
  get stream(): WebRtcAudioStream | undefined {
    return this.#stream;
  }

  /** Whether the first exchange completed (the stream runs). */
  get started(): boolean {
    return this.#started;
  }

  async getDescription(options?: MediaDescriptionOptions): Promise<BodyAndContentType> {
    const stream = await this.#open();
    if (options?.hold !== undefined) this.#hold = options.hold;
    stream.setDirection(this.#hold ? 'sendonly' : 'sendrecv');
    const offer = this.#remoteOffer;
    if (offer !== undefined) {
      this.#remoteOffer = undefined;
      const answer = await stream.answer(offer);
      this.#exchanged(stream);
      return { body: answer, contentType: 'application/sdp' };
    }
    const ours = await stream.createOffer();
    this.#offering = true;
    return { body: ours, contentType: 'application/sdp' };
  }

  async setDescription(sdp: string, options?: MediaDescriptionOptions): Promise<void> {
    if (options?.hold !== undefined) this.#hold = options.hold;
    if (!/^m=audio /m.test(sdp)) throw new SdpError('the SDP has no audio line');
    const stream = await this.#open();
    if (this.#offering) {
      this.#offering = false;
      await stream.acceptAnswer(sdp);
      this.#exchanged(stream);
      return;
    }
    this.#remoteOffer = sdp;
  }

  hasDescription(contentType: string): boolean {
    return isSdp(contentType);
  }

  async rollbackDescription(): Promise<void> {
    this.#remoteOffer = undefined;
    if (this.#offering) {
      this.#offering = false;
      await this.#stream?.rollback();
    }
  }

  /**
   * Sends digits as tones in the audio: libwebrtc's Node binding has no RTCDTMFSender, so RFC 4733
   * events cannot go through it (the method asked for is ignored).
   */
  sendDtmf(tones: string): boolean {
    if (!this.#stream || !this.#started) return false;
    try {
      void this.#stream.sendDtmf(tones).catch(() => undefined);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream?.close();
    // A stream still being made is closed when it comes.
    void this.#opening?.then((stream) => stream.close(), () => undefined);
  }

  #open(): Promise<WebRtcAudioStream> {
    if (this.#closed) return Promise.reject(new SdpError('the call\'s media is closed'));
    this.#opening ??= this.#context.createStream().then((stream) => {
      if (this.#closed) stream.close();
      else this.#stream = stream;
      return stream;
    });
    return this.#opening;
  }

  #exchanged(stream: WebRtcAudioStream): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    stream.start();
    this.#context.onStream?.(stream);
  }
}
