import { EndpointConfig } from '@sip-endpoint/config';
import { answerDirection, answerOffer, applyAnswer, createOffer, parseSdp, SdpError, SdpOrigin, G722, OPUS, PCMA, PCMU } from '@sip-endpoint/media';

const configured = (list: string) => EndpointConfig.defaults().with({ 'codecs.enabled.audio': list }).codecs;

const sippOffer = [
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 6000 RTP/AVP 8 0 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-11,16',
  '',
].join('\r\n');

describe('parseSdp', () => {
  it('reads the audio stream of an offer, static types without rtpmap included', () => {
    const sdp = parseSdp(sippOffer);
    expect(sdp.audio).toMatchObject({ address: '127.0.0.1', port: 6000, rtcpPort: 6001, direction: 'sendrecv', held: false, secure: false });
    expect(sdp.audio?.formats.map((f) => [f.payloadType, f.encoding, f.clockRate])).toEqual([
      [8, 'PCMA', 8000],
      [0, 'PCMU', 8000],
      [101, 'telephone-event', 8000],
    ]);
    expect(sdp.audio?.formats[2]?.fmtp).toBe('0-11,16');
    expect(sdp.version).toBe(2353687637);
  });

  it.each([
    ['a=sendonly', 'sendonly', true],
    ['a=inactive', 'inactive', true],
    ['a=recvonly', 'recvonly', false],
  ] as const)('detects hold from %s', (line, direction, held) => {
    const sdp = parseSdp(sippOffer.replace('a=rtpmap:8 PCMA/8000', `a=rtpmap:8 PCMA/8000\r\n${line}`));
    expect(sdp.audio).toMatchObject({ direction, held });
  });

  it('detects the old c=0.0.0.0 hold', () => {
    expect(parseSdp(sippOffer.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0')).audio).toMatchObject({ held: true, direction: 'sendonly' });
  });

  it.each([
    ['', 'no v=0'],
    ['hello world', 'no v=0'],
    ['v=0\r\ns=-\r\n', 'no o='],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n', 'no m='],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n', 'no c='],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP x y\r\n', 'not payload types'],
  ])('refuses %j with an SdpError (%s)', (text, message) => {
    expect(() => parseSdp(text)).toThrow(SdpError);
    expect(() => parseSdp(text)).toThrow(message);
  });
});

describe('offer and answer', () => {
  it('offers the configured codecs we run, in order, with telephone-event and ptime; names the others', () => {
    const offer = createOffer({ origin: new SdpOrigin('42'), address: '10.0.0.5', port: 9000, codecs: configured('opus,iLBC,G722,PCMA,G729,PCMU') });
    expect(offer.unsupported).toEqual(['iLBC/8000', 'G729/8000']);
    const parsed = parseSdp(offer.sdp);
    expect(parsed.audio?.formats.map((f) => `${f.payloadType} ${f.encoding}/${f.clockRate}`)).toEqual(['111 opus/48000', '9 G722/8000', '8 PCMA/8000', '0 PCMU/8000', '101 telephone-event/8000']);
    expect(parsed.audio?.formats[0]?.channels).toBe(2);
    expect(parsed.audio).toMatchObject({ address: '10.0.0.5', port: 9000, ptimeMs: 20, direction: 'sendrecv' });
    expect(offer.sdp).toContain('o=- 42 1 IN IP4 10.0.0.5');
  });

  it('increments the o= version with each new body and keeps it otherwise', () => {
    const origin = new SdpOrigin('7');
    createOffer({ origin, address: '10.0.0.5', port: 9000, codecs: configured('pcmu') });
    const reoffer = createOffer({ origin, address: '10.0.0.5', port: 9000, codecs: configured('pcmu'), direction: 'sendonly' });
    expect(parseSdp(reoffer.sdp).version).toBe(2);
    const same = createOffer({ origin, address: '10.0.0.5', port: 9000, codecs: configured('pcmu'), newVersion: false });
    expect(parseSdp(same.sdp).version).toBe(2);
  });

  it('answers with our first codec that the offer has (local priority), keeping its payload types', () => {
    const answer = answerOffer(parseSdp(sippOffer), { origin: new SdpOrigin(), address: '127.0.0.1', port: 9100, codecs: configured('g722,pcmu,pcma') });
    expect(answer.negotiated).toMatchObject({ codec: PCMU, payloadType: 0, telephoneEvent: { payloadType: 101, clockRate: 8000 }, direction: 'sendrecv', remote: { address: '127.0.0.1', rtpPort: 6000 } });
    expect(parseSdp(answer.sdp).audio?.formats.map((f) => f.payloadType)).toEqual([0, 101]);
  });

  it('answers with the offer\'s first codec that we have (remote priority)', () => {
    const answer = answerOffer(parseSdp(sippOffer), { origin: new SdpOrigin(), address: '127.0.0.1', port: 9100, codecs: configured('g722,pcmu,pcma'), answerPriority: 'remote' });
    expect(answer.negotiated?.codec).toBe(PCMA);
  });

  it('rejects the audio with port 0 when nothing is in common, mirroring other streams', () => {
    const withVideo = sippOffer.replace('m=audio 6000 RTP/AVP 8 0 101', 'm=video 6002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\nm=audio 6000 RTP/AVP 8 0 101');
    const answer = answerOffer(parseSdp(withVideo), { origin: new SdpOrigin(), address: '127.0.0.1', port: 9100, codecs: configured('g722,opus') });
    expect(answer.negotiated).toBeUndefined();
    expect(answer.reason).toContain('no codec in common');
    const parsed = parseSdp(answer.sdp);
    expect(parsed.media.map((m) => [m.type, m.port])).toEqual([
      ['video', 0],
      ['audio', 0],
    ]);
  });

  it('rejects an SRTP offer it cannot do', () => {
    const answer = answerOffer(parseSdp(sippOffer.replace('RTP/AVP', 'RTP/SAVP')), { origin: new SdpOrigin(), address: '127.0.0.1', port: 9100, codecs: configured('pcma') });
    expect(answer.reason).toContain('SRTP');
  });

  it('answers a hold with the matching direction', () => {
    const held = parseSdp(sippOffer.replace('a=rtpmap:8 PCMA/8000', 'a=rtpmap:8 PCMA/8000\r\na=sendonly'));
    const answer = answerOffer(held, { origin: new SdpOrigin(), address: '127.0.0.1', port: 9100, codecs: configured('pcma') });
    expect(answer.negotiated).toMatchObject({ direction: 'recvonly', remoteHeld: true });
    expect(parseSdp(answer.sdp).audio?.direction).toBe('recvonly');
  });

  it('reads the answer to our offer', () => {
    const origin = new SdpOrigin();
    const offer = createOffer({ origin, address: '127.0.0.1', port: 9000, codecs: configured('opus,g722,pcmu') });
    const remote = answerOffer(parseSdp(offer.sdp), { origin: new SdpOrigin(), address: '127.0.0.2', port: 7000, codecs: configured('g722,pcmu') });
    const negotiated = applyAnswer(parseSdp(remote.sdp), offer.formats);
    expect(negotiated).toMatchObject({ codec: G722, payloadType: 9, telephoneEvent: { payloadType: 101 }, remote: { address: '127.0.0.2', rtpPort: 7000 } });
    expect(() => applyAnswer(parseSdp(sippOffer.replace('m=audio 6000', 'm=audio 0')), offer.formats)).toThrow(SdpError);
  });

  it('negotiates opus both ways', () => {
    const offer = createOffer({ origin: new SdpOrigin(), address: '127.0.0.1', port: 9000, codecs: configured('opus') });
    const answer = answerOffer(parseSdp(offer.sdp), { origin: new SdpOrigin(), address: '127.0.0.1', port: 9002, codecs: configured('opus,pcmu') });
    expect(answer.negotiated?.codec).toBe(OPUS);
    expect(applyAnswer(parseSdp(answer.sdp), offer.formats).codec).toBe(OPUS);
  });

  it.each([
    ['sendrecv', 'sendrecv', 'sendrecv'],
    ['sendonly', 'sendrecv', 'recvonly'],
    ['recvonly', 'sendrecv', 'sendonly'],
    ['inactive', 'sendrecv', 'inactive'],
    ['sendrecv', 'sendonly', 'sendonly'],
    ['sendonly', 'sendonly', 'inactive'],
  ] as const)('answerDirection(%s offered, %s wanted) is %s', (offered, wanted, expected) => {
    expect(answerDirection(offered, wanted)).toBe(expected);
  });
});
