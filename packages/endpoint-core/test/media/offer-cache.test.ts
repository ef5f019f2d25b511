import { SdpError } from '@sip-endpoint/media';
import { parseOffer } from '../../src/media/offer-cache';

// One parse of an INVITE's offer for its three readers (the transport's screening, the line's,
// the call's handler): the same body gives the same result; another body, or a body that does
// not parse, is read again.

const offer = (port: number): string => ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

describe('parseOffer', () => {
  it('gives the same result for the same body (another string with the same text too), and reads a new body anew', () => {
    const first = parseOffer(offer(4000));
    expect(parseOffer(offer(4000))).toBe(first);
    expect(parseOffer(`${offer(4000)}`.slice(0))).toBe(first);
    const second = parseOffer(offer(4002));
    expect(second).not.toBe(first);
    expect(second.audio?.port).toBe(4002);
    expect(parseOffer(offer(4000))).not.toBe(first);
    expect(parseOffer(offer(4000)).audio?.port).toBe(4000);
  });

  it('throws SdpError for a body that does not parse, each time', () => {
    expect(() => parseOffer('not sdp')).toThrow(SdpError);
    expect(() => parseOffer('not sdp')).toThrow(SdpError);
  });
});
