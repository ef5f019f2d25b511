import { EndpointConfig } from '@sip-endpoint/config';
import { composePolicy, DefaultPolicy, mediaEngine, type MediaEngineContext } from '@sip-endpoint/policy';

// A JSEP offer as a browser writes it, and the pieces whose absence makes it a SIP peer's.
const JSEP = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0', 'a=fingerprint:sha-256 AB:CD', 'm=audio 9 UDP/TLS/RTP/SAVPF 111 0', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789012345678901', 'a=mid:0', ''].join('\r\n');

const ctx = (protocol: string, offer: string | undefined, direction: 'incoming' | 'outgoing' = offer === undefined ? 'outgoing' : 'incoming'): MediaEngineContext => ({ config: EndpointConfig.defaults(), devices: [], calls: [], line: 0, protocol, direction, offer });

describe('mediaEngine: which engine runs a call', () => {
  it('runs every call of a WebRTC (HTTPS) line on WebRTC, whatever its offer', () => {
    expect(mediaEngine(ctx('HTTPS', undefined))).toBe('webrtc');
    expect(mediaEngine(ctx('HTTPS', 'v=0\r\nm=audio 4000 RTP/AVP 0\r\n'))).toBe('webrtc');
  });

  it('on other lines, runs a JSEP offer on WebRTC and the rest natively', () => {
    expect(mediaEngine(ctx('UDP', JSEP))).toBe('webrtc');
    expect(mediaEngine(ctx('WSS', JSEP))).toBe('webrtc');
    expect(mediaEngine(ctx('UDP', undefined))).toBe('native');
    expect(mediaEngine(ctx('WSS', undefined, 'incoming'))).toBe('native');
  });

  it.each([
    ['without BUNDLE (baresip\'s DTLS-SRTP)', JSEP.replace('a=group:BUNDLE 0\r\n', '')],
    ['without a fingerprint', JSEP.replace('a=fingerprint:sha-256 AB:CD\r\n', '')],
    ['without ICE', JSEP.replace('a=ice-ufrag:abcd\r\n', '')],
    ['on UDP/TLS/RTP/SAVP', JSEP.replace('UDP/TLS/RTP/SAVPF', 'UDP/TLS/RTP/SAVP')],
    ['on RTP/AVP', JSEP.replace('UDP/TLS/RTP/SAVPF', 'RTP/AVP')],
  ])('runs an offer %s natively', (_, offer) => {
    expect(mediaEngine(ctx('UDP', offer))).toBe('native');
  });

  it('is DefaultPolicy.mediaEngine, and composePolicy can override it', async () => {
    expect(new DefaultPolicy().mediaEngine(ctx('UDP', JSEP))).toBe('webrtc');
    const forced = composePolicy(new DefaultPolicy(), { mediaEngine: (context, base) => (context.protocol === 'WSS' ? 'webrtc' : base.mediaEngine(context)) });
    expect(await forced.mediaEngine(ctx('WSS', undefined))).toBe('webrtc');
    expect(await forced.mediaEngine(ctx('UDP', undefined))).toBe('native');
  });
});
