import { networkInterfaces } from 'node:os';
import { formatCandidate, IceAgent, parseSdp, type PortAllocator, RtpSession, WebRtcAudioStream } from '@sip-endpoint/media';
import type { FarEndAnswer } from './sip-far-end';

/**
 * Answers of a WebRTC far end that misbehaves, for {@link SipFarEnd}: each is a well-formed JSEP
 * answer to the offer (PCMU, rtcp-mux, the offer's mid) whose media cannot come up.
 */

/** This machine's first external IPv4 address (libwebrtc gathers no loopback candidates), else 127.0.0.1. */
export function externalAddress(): string {
  return Object.values(networkInterfaces()).flat().find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address ?? '127.0.0.1';
}

const hex = (bytes: number): string => Array.from({ length: bytes }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, '0').toUpperCase()).join(':');
const credential = (length: number): string => Array.from({ length }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(Math.random() * 36)]).join('');

/** A JSEP answer to `offer` for `address:port`, with `lines` (ICE, fingerprint, candidates) added. */
function answerTo(offer: string, address: string, port: number, lines: string[]): string {
  const mid = /^a=mid:(\S+)/m.exec(offer)?.[1] ?? '0';
  return [
    'v=0', `o=- ${Date.now()} 1 IN IP4 ${address}`, 's=-', 't=0 0', `a=group:BUNDLE ${mid}`,
    `m=audio ${port} UDP/TLS/RTP/SAVPF 0`, `c=IN IP4 ${address}`, `a=mid:${mid}`, 'a=rtcp-mux', 'a=sendrecv', 'a=rtpmap:0 PCMU/8000',
    ...lines, '',
  ].join('\r\n');
}

/**
 * An answer whose one candidate is `address:deadPort`, where nothing listens: ICE checks get no
 * answer. With `fingerprint` false, also no `a=fingerprint` (libwebrtc refuses such an answer).
 */
export function deadPortAnswer(offer: string, deadPort: number, options: { fingerprint?: boolean } = {}): FarEndAnswer {
  const address = externalAddress();
  return {
    sdp: answerTo(offer, address, deadPort, [
      `a=ice-ufrag:${credential(8)}`,
      `a=ice-pwd:${credential(24)}`,
      ...(options.fingerprint === false ? [] : [`a=fingerprint:sha-256 ${hex(32)}`]),
      'a=setup:passive',
      `a=candidate:1 1 udp 2130706431 ${address} ${deadPort} typ host`,
    ]),
  };
}

/**
 * A far end that does ICE and ignores DTLS: our own ICE agent on this machine's external address
 * answers libwebrtc's checks (it is `passive`: libwebrtc is the DTLS client), and nobody reads the
 * DTLS records that come. `close()` releases its sockets.
 */
export class IceOnlyPeer {
  readonly #session: RtpSession;
  readonly #agent: IceAgent;

  private constructor(session: RtpSession, agent: IceAgent) {
    this.#session = session;
    this.#agent = agent;
  }

  /** The peer's answer to `offer`, its agent started (ports from `ports`). */
  static async answer(offer: string, ports: PortAllocator): Promise<{ peer: IceOnlyPeer; answer: FarEndAnswer }> {
    const address = externalAddress();
    const session = await RtpSession.open({ ports, bindAddress: address });
    const agent = new IceAgent({ session, hostAddress: address });
    const peer = new IceOnlyPeer(session, agent);
    try {
      await agent.gather();
      const sdp = answerTo(offer, address, session.localPort, [
        `a=ice-ufrag:${agent.ufrag}`,
        `a=ice-pwd:${agent.pwd}`,
        // Any fingerprint: no handshake ever gets far enough to check it.
        `a=fingerprint:sha-256 ${hex(32)}`,
        'a=setup:passive',
        ...agent.candidates.map((candidate) => `a=candidate:${formatCandidate(candidate)}`),
      ]);
      agent.start(parseSdp(offer).audio!.ice!, false);
      return { peer, answer: { sdp } };
    } catch (error) {
      peer.close();
      throw error;
    }
  }

  /** The ICE agent's state (`connected` once libwebrtc's checks got through). */
  get iceState(): string {
    return this.#agent.state;
  }

  close(): void {
    this.#agent.close();
    this.#session.close();
  }
}

/**
 * A JSEP offer as a browser writes it (ICE credentials, a host candidate on the discard port,
 * rtcp-mux, BUNDLE). Without `fingerprint`, no `a=fingerprint`: DTLS-SRTP cannot be keyed, so a
 * WebRTC line must refuse it; with it, a (random) one: an offer libwebrtc takes.
 */
export function browserOffer(options: { fingerprint: boolean }): string {
  const address = externalAddress();
  return [
    'v=0', `o=- ${Date.now()} 1 IN IP4 ${address}`, 's=-', 't=0 0', 'a=group:BUNDLE 0',
    `m=audio 9 UDP/TLS/RTP/SAVPF 111 0`, `c=IN IP4 ${address}`, 'a=mid:0', 'a=rtcp-mux', 'a=sendrecv', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:0 PCMU/8000',
    `a=ice-ufrag:${credential(8)}`, `a=ice-pwd:${credential(24)}`, ...(options.fingerprint ? [`a=fingerprint:sha-256 ${hex(32)}`] : []), 'a=setup:actpass', `a=candidate:1 1 udp 2130706431 ${address} 9 typ host`, '',
  ].join('\r\n');
}

/**
 * Every WebRTC stream (a peer connection each) the endpoints make from now on, whether or not a
 * call got it: `WebRtcAudioStream.create` spied on, in the test file's module registry (call it
 * in `beforeAll`; jest restores spies between files).
 */
export function recordStreamsMade(): WebRtcAudioStream[] {
  const made: WebRtcAudioStream[] = [];
  const create = WebRtcAudioStream.create.bind(WebRtcAudioStream);
  jest.spyOn(WebRtcAudioStream, 'create').mockImplementation(async (options) => {
    const stream = await create(options);
    made.push(stream);
    return stream;
  });
  return made;
}
