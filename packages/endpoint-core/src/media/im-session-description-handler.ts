import type { BodyAndContentType, SessionDescriptionHandler } from 'sip.js';
import { SdpError, SdpOrigin } from '@sip-endpoint/media';
import { isSdp } from './media-session-description-handler';

/**
 * The content types our IM sessions take in MESSAGE requests, as our SDP's `a=accept-types`
 * says (the received ones are checked by `takeMessage`: the same list).
 */
export const IM_ACCEPT_TYPES: readonly string[] = ['text/plain', 'text/html'];

/** The IM stream of an SDP body: its `m=` line and what it accepts. */
export interface ImMedia {
  /** `message` (RFC 4975's media type, as Office Communicator 2007 and SIP Server write it) or `x-ms-message` (the older RTC 1.2 form). */
  media: 'message' | 'x-ms-message';
  port: number;
  /** The far end's URI of the `m=` line (`sip:...`), absent when it wrote `null`. */
  uri: string | undefined;
  /** `a=accept-types`, when given. */
  acceptTypes: string[] | undefined;
}

/** An SDP body's `m=` lines: their media type, port, protocol and format list, with the attributes of each. */
function mediaSections(sdp: string): { media: string; port: number; proto: string; fmt: string; attributes: string[] }[] {
  const sections: { media: string; port: number; proto: string; fmt: string; attributes: string[] }[] = [];
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      const [media = '', port = '', proto = '', ...fmt] = line.slice(2).split(/\s+/);
      sections.push({ media: media.toLowerCase(), port: Number.parseInt(port, 10), proto: proto.toLowerCase(), fmt: fmt.join(' '), attributes: [] });
    } else if (line.startsWith('a=') && sections.length > 0) {
      sections[sections.length - 1]!.attributes.push(line.slice(2));
    }
  }
  return sections;
}

/**
 * The IM stream an offer asks for, when it asks for nothing else: one `m=message` (or
 * `m=x-ms-message`) line with the `sip` protocol and a port other than 0, and no audio or video
 * stream that is not refused (port 0). Undefined for any other offer (a voice call, or an SDP that
 * is not one).
 */
export function imOffer(sdp: string): ImMedia | undefined {
  const sections = mediaSections(sdp);
  const active = sections.filter((section) => section.port !== 0);
  if (active.length !== 1) return undefined;
  const section = active[0]!;
  if ((section.media !== 'message' && section.media !== 'x-ms-message') || section.proto !== 'sip' || !Number.isInteger(section.port) || section.port < 0 || section.port > 65535) return undefined;
  const accept = section.attributes.find((attribute) => /^accept-types:/i.test(attribute));
  const uri = section.fmt.trim();
  return {
    media: section.media,
    port: section.port,
    uri: uri === '' || uri.toLowerCase() === 'null' ? undefined : uri,
    acceptTypes: accept ? accept.slice('accept-types:'.length).trim().split(/\s+/).filter(Boolean) : undefined,
  };
}

/** What an IM session needs from its call: our address, the port we write, the far end's URI. */
export interface ImDescriptionContext {
  /** Our address (o= and c=). */
  address: string;
  /**
   * The port of our `m=` line: the line's SIP port (the IM goes in MESSAGE requests of the dialog,
   * not to this port; the far end ignores it when a server sits between us, as Office
   * Communicator's SDP rules say).
   */
  port: number;
  /**
   * The far end's URI: the URI an `m=message` line names is the peer's, in an offer (the To of the
   * INVITE, Office Communicator's SDP rules) as in an answer (the From).
   */
  remoteUri: string;
}

/** What the last IM offer/answer settled. @public */
export interface NegotiatedIm {
  /** `message`, or the older `x-ms-message` when the far end offered that form. */
  media: 'message' | 'x-ms-message';
  /** The content types the far end said it takes (`a=accept-types`), when it said. */
  remoteAcceptTypes: string[] | undefined;
  /** The content types we take: `text/plain`, `text/html`. */
  localAcceptTypes: readonly string[];
}

/**
 * sip.js's SessionDescriptionHandler of an instant-messaging session (an INVITE whose SDP carries
 * only an IM stream, as SIP Server makes one with `sip-signaling-chat` = `session`): no media is
 * opened; the SDP says that the session carries MESSAGE requests (`m=message <port> sip <uri>`)
 * and which content types we take. The messages themselves go in the dialog (`call.sendMessage()`,
 * the call's `message` event).
 */
export class ImSessionDescriptionHandler implements SessionDescriptionHandler {
  readonly #context: ImDescriptionContext;
  readonly #origin = new SdpOrigin();
  #remoteOffer: ImMedia | undefined;
  #localOffer = false;
  #negotiated: NegotiatedIm | undefined;
  #closed = false;

  constructor(context: ImDescriptionContext) {
    this.#context = context;
  }

  /** What the last exchange settled; undefined before the first one completed. */
  get negotiated(): NegotiatedIm | undefined {
    return this.#negotiated;
  }

  async getDescription(): Promise<BodyAndContentType> {
    const remote = this.#remoteOffer;
    if (remote) {
      this.#remoteOffer = undefined;
      this.#negotiated = { media: remote.media, remoteAcceptTypes: remote.acceptTypes, localAcceptTypes: IM_ACCEPT_TYPES };
      // The older form names no URI (null); ours names the far end, as its offer named us.
      return { body: this.#sdp(remote.media, remote.media === 'x-ms-message' ? 'null' : this.#context.remoteUri), contentType: 'application/sdp' };
    }
    this.#localOffer = true;
    const media = this.#negotiated?.media ?? 'message';
    return { body: this.#sdp(media, media === 'x-ms-message' ? 'null' : this.#context.remoteUri), contentType: 'application/sdp' };
  }

  async setDescription(sdp: string): Promise<void> {
    if (this.#closed) throw new SdpError('the IM session is closed');
    const im = imOffer(sdp);
    if (this.#localOffer) {
      this.#localOffer = false;
      if (!im) throw new SdpError('the answer refuses the IM stream (no m=message line with a port)');
      this.#negotiated = { media: im.media, remoteAcceptTypes: im.acceptTypes, localAcceptTypes: IM_ACCEPT_TYPES };
      return;
    }
    if (!im) throw new SdpError('an IM session takes only an IM offer (one m=message line, sip protocol)');
    this.#remoteOffer = im;
  }

  hasDescription(contentType: string): boolean {
    return isSdp(contentType);
  }

  async rollbackDescription(): Promise<void> {
    this.#localOffer = false;
    this.#remoteOffer = undefined;
  }

  /** An IM session has no audio: no DTMF. */
  sendDtmf(): boolean {
    return false;
  }

  close(): void {
    this.#closed = true;
  }

  #sdp(media: 'message' | 'x-ms-message', uri: string): string {
    const { address } = this.#context;
    const family = address.includes(':') ? 'IP6' : 'IP4';
    const version = this.#origin.next();
    return [
      'v=0',
      `o=- ${this.#origin.sessionId} ${version} IN ${family} ${address}`,
      's=-',
      `c=IN ${family} ${address}`,
      't=0 0',
      `m=${media} ${this.#context.port} sip ${uri}`,
      `a=accept-types:${IM_ACCEPT_TYPES.join(' ')}`,
      '',
    ].join('\r\n');
  }
}
