import type { MediaEngineContext, MediaEngineChoice } from './endpoint-policy';

/**
 * The media engine of a call, by the specification's two modes: every call of a WebRTC
 * connectivity (`HTTPS`) runs on WebRTC; on another line, a call whose offer is written as browsers
 * and WebRTC gateways write it (JSEP: `UDP/TLS/RTP/SAVPF` with ICE credentials, a DTLS fingerprint
 * and a BUNDLE group) runs on WebRTC too; every other call runs on the native engine (which does
 * DTLS-SRTP and ICE as well, for SIP peers).
 *
 * @public
 */
export function mediaEngine(ctx: MediaEngineContext): MediaEngineChoice {
  if (ctx.protocol === 'HTTPS') return 'webrtc';
  const offer = ctx.offer;
  if (offer === undefined) return 'native';
  const jsep = /^m=audio \S+ UDP\/TLS\/RTP\/SAVPF /m.test(offer) && /^a=ice-ufrag:/m.test(offer) && /^a=fingerprint:/m.test(offer) && /^a=group:BUNDLE /m.test(offer);
  return jsep ? 'webrtc' : 'native';
}
