import { EndpointConfig } from '@sip-endpoint/config';
import { answerOffer, answerProblem, parseSdp, SdpOrigin, type ParsedSdp } from '@sip-endpoint/media';

// answerProblem is answerOffer's decision without the answer's text (a line's screening of an
// INVITE asks it before ringing): the same reason, or undefined, for every kind of offer.

const offerOf = (...lines: string[]): ParsedSdp => parseSdp(['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', ...lines, ''].join('\r\n'));
const KEY = 'inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoc2VpbCk=';

describe('answerProblem', () => {
  it.each([
    ['a plain PCMU offer', offerOf('m=audio 4000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000'), 'disabled', 'pcmu,pcma'],
    ['an offer of a codec we do not run', offerOf('m=audio 4000 RTP/AVP 18', 'a=rtpmap:18 G729/8000'), 'disabled', 'pcmu,pcma'],
    ['an offer of a codec not configured', offerOf('m=audio 4000 RTP/AVP 8', 'a=rtpmap:8 PCMA/8000'), 'disabled', 'pcmu'],
    ['a video-only offer', offerOf('m=video 4000 RTP/AVP 96', 'a=rtpmap:96 VP8/90000'), 'disabled', 'pcmu'],
    ['an audio line with port 0', offerOf('m=audio 0 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000'), 'disabled', 'pcmu'],
    ['SDES SRTP when SRTP is disabled', offerOf('m=audio 4000 RTP/SAVP 0', 'a=rtpmap:0 PCMU/8000', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 ${KEY}`), 'disabled', 'pcmu'],
    ['SDES SRTP when it is mandatory', offerOf('m=audio 4000 RTP/SAVP 0', 'a=rtpmap:0 PCMU/8000', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 ${KEY}`), 'mandatory', 'pcmu'],
    ['plain RTP when SRTP is mandatory', offerOf('m=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000'), 'mandatory', 'pcmu'],
  ])('%s: the reason answerOffer gives', (_name, offer, srtp, codecs) => {
    const config = EndpointConfig.defaults().with({ 'codecs.enabled.audio': codecs, 'system.security.use_srtp': srtp });
    const options = { origin: new SdpOrigin(), address: '127.0.0.1', port: 9, codecs: config.codecs, srtp: config.get('system.security.use_srtp') };
    const answer = answerOffer(offer, options);
    expect(answerProblem(offer, options)).toBe(answer.reason);
    expect(answer.reason === undefined).toBe(answer.negotiated !== undefined);
  });
});
