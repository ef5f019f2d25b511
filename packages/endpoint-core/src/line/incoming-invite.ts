import type { Invitation } from 'sip.js';
import type { ConfiguredCodec } from '@sip-endpoint/config';
import type { CallSnapshot, CodecPriorities, HeaderBag } from '@sip-endpoint/policy';
import { answerProblem, codecs as engineCodecs, SdpOrigin, webRtcCodecNames, type ParsedSdp } from '@sip-endpoint/media';
import { parseOffer } from '../media/offer-cache';
import { parseSessionExpires } from '../call/session-timer';
import type { EndpointContext } from '../endpoint-context';

/**
 * DTLS-SRTP for the trial answer, which is thrown away: any fingerprint of ours will do (the
 * real answer carries the endpoint's certificate's).
 */
const TRIAL_DTLS = { fingerprint: { algorithm: 'sha-256', value: '00' } };
/** The trial's origin: it writes nothing, but the options want one. */
const TRIAL_ORIGIN = new SdpOrigin();

/** The headers of an INVITE the policy reads. */
const POLICY_HEADERS = ['Alert-Info', 'Call-Info', 'From', 'X-Genesys-CallUUID'];

/** The INVITE's headers the policy sees. */
export function headerBag(invitation: Invitation): HeaderBag {
  const bag: Record<string, string[]> = {};
  for (const name of POLICY_HEADERS) {
    const values = invitation.request.getHeaders(name);
    if (values.length > 0) bag[name] = values;
  }
  return bag;
}

/** What to answer an INVITE before the policy's should-answer: nothing (go on), or a refusal. */
export type InviteScreening =
  | { refuse: false; priorities: CodecPriorities; answerCodecs: ConfiguredCodec[] | undefined }
  | { refuse: true; statusCode: number; extraHeaders: string[]; log: string | undefined };

/**
 * The checks of an incoming INVITE that need no policy decision about the call itself: a session
 * interval below our Min-SE gets 422 (RFC 4028 8.1); an SDP offer with no audio codec the policy's
 * `codecPriorities` accepts gets 488 with a Warning. The priorities found go on to the call. A
 * call for the WebRTC engine has libwebrtc's codecs, and its offer is judged by libwebrtc (it
 * always runs DTLS-SRTP, whatever `use_srtp` says). An IM session (`im`) is judged on its
 * session interval only.
 */
export async function screenInvite(invitation: Invitation, context: EndpointContext, line: number, calls: readonly CallSnapshot[], webrtc = false, im = false): Promise<InviteScreening> {
  const request = invitation.request;
  const expires = parseSessionExpires(request.getHeader('Session-Expires') ?? request.getHeader('x'));
  if (expires && expires.seconds < context.minSessionExpires) {
    return { refuse: true, statusCode: 422, extraHeaders: [`Min-SE: ${context.minSessionExpires}`], log: undefined };
  }
  // An IM session (its offer is an IM stream alone) has no codec to agree on.
  if (im) return { refuse: false, priorities: { offer: [], answer: null, unsupported: [] }, answerCodecs: undefined };
  let offer: ParsedSdp | undefined;
  let unusable: string | undefined;
  if (request.body && /application\/sdp/i.test(request.getHeader('Content-Type') ?? '')) {
    try {
      offer = parseOffer(request.body);
      if (!offer.audio) unusable = 'the offer has no audio stream';
    } catch (error) {
      unusable = (error as Error).message;
    }
  }
  const offered = offer?.audio?.formats.map((format) => `${format.encoding}/${format.clockRate}${format.channels && format.channels > 1 ? `/${format.channels}` : ''}`);
  const priorities = await context.policy.codecPriorities({
    config: context.config,
    devices: context.devices.list(),
    calls,
    supported: webrtc ? await webRtcCodecNames() : engineCodecs.names(),
    ...(offered ? { offer: offered } : {}),
  });
  // Answer with the policy's codec (and the telephone-events we have); a trial answer finds what
  // else makes the offer unusable (no audio format in common, a profile we do not run).
  const answerCodecs = priorities.answer ? [priorities.answer, ...priorities.offer.filter((codec) => codec.codec?.kind === 'dtmf')] : undefined;
  if (!unusable && offer && webrtc) unusable = webRtcOfferProblem(request.body);
  if (!unusable && offer) {
    if (!answerCodecs) unusable = 'no audio format in common';
    else if (!webrtc) {
      unusable = answerProblem(offer, { origin: TRIAL_ORIGIN, address: context.address, port: 9, codecs: answerCodecs, answerPriority: 'local', srtp: context.config.get('system.security.use_srtp'), dtls: TRIAL_DTLS });
    }
  }
  if (unusable) {
    return { refuse: true, statusCode: 488, extraHeaders: [`Warning: 304 ${context.address} "${unusable.replace(/"/g, "'")}"`], log: `call on line ${line} rejected with 488: ${unusable}` };
  }
  return { refuse: false, priorities, answerCodecs: offer ? answerCodecs : undefined };
}

/**
 * What keeps an offer from being a WebRTC one (libwebrtc needs ICE credentials and a DTLS
 * fingerprint on a UDP/TLS/RTP/SAVP(F) audio line), or undefined when it is one.
 */
function webRtcOfferProblem(sdp: string): string | undefined {
  const proto = /^m=audio \S+ (\S+) /m.exec(sdp)?.[1] ?? '';
  const missing = [
    /^UDP\/TLS\/RTP\/SAVPF?$/i.test(proto) ? undefined : `${proto} (not UDP/TLS/RTP/SAVPF)`,
    /^a=ice-ufrag:/m.test(sdp) && /^a=ice-pwd:/m.test(sdp) ? undefined : 'no ICE credentials',
    /^a=fingerprint:/m.test(sdp) ? undefined : 'no DTLS fingerprint',
  ].filter((part) => part !== undefined);
  return missing.length > 0 ? `a WebRTC line takes WebRTC offers only (ICE and DTLS-SRTP); this one has ${missing.join(', ')}` : undefined;
}
