import { EndpointConfig } from '@sip-endpoint/config';
import { answerDirection, answerOffer, applyAnswer, CodecRegistry, codecs, createOffer, offerFormats, parseSdp, SdpError, SdpOrigin, G722, OPUS, PCMA, PCMU, type Codec, type OfferedFormat } from '@sip-endpoint/media';

const configured = (list: string) => EndpointConfig.defaults().with({ 'codecs.enabled.audio': list }).codecs;
const withSettings = (settings: Record<string, string>) => EndpointConfig.defaults().with(settings).codecs;
/** `type encoding/rate` of each format, in order. */
const listed = (formats: readonly OfferedFormat[] | undefined) => formats?.map((f) => `${f.payloadType} ${f.encoding}/${f.clockRate}`);
/** An SDP body from its lines. */
const sdpOf = (...lines: string[]) => [...lines, ''].join('\r\n');
/** A codec the catalogue of the configuration does not know, with no static payload type: an integrator's own. */
const AMR: Codec = { ...PCMU, name: 'AMR/8000', encoding: 'AMR', staticPayloadType: undefined, fmtp: 'octet-align=1' };

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

describe('offerFormats and createOffer', () => {
  it.each([
    ['a configured type wins over the static one', { 'codecs.enabled.audio': 'pcmu', 'codecs.pcmu.payload_type': '100' }, ['100 PCMU/8000', '101 telephone-event/8000']],
    ['a type taken by an earlier codec: the first free dynamic one', { 'codecs.enabled.audio': 'pcmu,opus', 'codecs.opus.payload_type': '0' }, ['0 PCMU/8000', '96 opus/48000', '101 telephone-event/8000']],
    ['the type of telephone-event (101) is never given to a codec', { 'codecs.enabled.audio': 'opus', 'codecs.opus.payload_type': '101' }, ['96 opus/48000', '101 telephone-event/8000']],
    ['a dynamic type already taken: the next free one', { 'codecs.enabled.audio': 'pcma,opus', 'codecs.pcma.payload_type': '96', 'codecs.opus.payload_type': '96' }, ['96 PCMA/8000', '97 opus/48000', '101 telephone-event/8000']],
  ])('payload types: %s', (_case, settings, expected) => {
    expect(listed(offerFormats(withSettings(settings), codecs, true).formats)).toEqual(expected);
  });

  it('gives a codec without a static type the first dynamic type (96), and opus its usual 111', () => {
    const registry = new CodecRegistry([PCMU, OPUS, AMR]);
    const { formats } = offerFormats(configured('AMR/8000,pcmu,opus'), registry, true);
    expect(listed(formats)).toEqual(['96 AMR/8000', '0 PCMU/8000', '111 opus/48000', '101 telephone-event/8000']);
    expect(formats[0]).toMatchObject({ codec: AMR, fmtp: 'octet-align=1' });
  });

  it('lists each format with its codec; telephone-event (configured or not) last with events 0-16; unknown codecs apart', () => {
    expect(offerFormats(configured('pcmu,telephone-event,x-unknown'), codecs, true)).toEqual({
      formats: [
        { payloadType: 0, encoding: 'PCMU', clockRate: 8000, channels: 1, fmtp: '', codec: PCMU },
        { payloadType: 101, encoding: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-16' },
      ],
      unsupported: ['x-unknown'],
    });
  });

  it('offers telephone-event only when asked, and never alone', () => {
    expect(offerFormats(configured('pcmu'), codecs, false)).toEqual({ formats: [{ payloadType: 0, encoding: 'PCMU', clockRate: 8000, channels: 1, fmtp: '', codec: PCMU }], unsupported: [] });
    expect(offerFormats(configured('g729,ilbc,telephone-event'), codecs, true)).toEqual({ formats: [], unsupported: ['G729/8000', 'iLBC/8000'] });
  });

  it.each([
    ['the codec\'s own a=fmtp without a setting', { 'codecs.enabled.audio': 'opus,pcmu' }, [OPUS.fmtp, '', '0-16']],
    ['the fmtp setting instead of the codec\'s', { 'codecs.enabled.audio': 'opus,pcmu', 'codecs.opus.fmtp': 'maxplaybackrate=16000' }, ['maxplaybackrate=16000', '', '0-16']],
  ])('format parameters: %s', (_case, settings, expected) => {
    expect(offerFormats(withSettings(settings), codecs, true).formats.map((f) => f.fmtp)).toEqual(expected);
  });

  it('writes the whole offer: o= version advanced, c=, m= with every type, rtpmap, fmtp, ptime 20, sendrecv', () => {
    const offer = createOffer({ origin: new SdpOrigin('42', 6), address: '10.0.0.5', port: 9000, codecs: configured('pcmu,opus') });
    expect(offer.sdp).toBe(
      sdpOf(
        'v=0',
        'o=- 42 7 IN IP4 10.0.0.5',
        's=-',
        'c=IN IP4 10.0.0.5',
        't=0 0',
        'm=audio 9000 RTP/AVP 0 111 101',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:111 opus/48000/2',
        'a=rtpmap:101 telephone-event/8000',
        `a=fmtp:111 ${OPUS.fmtp}`,
        'a=fmtp:101 0-16',
        'a=ptime:20',
        'a=sendrecv',
      ),
    );
    expect(offer.formats).toEqual([
      { payloadType: 0, encoding: 'PCMU', clockRate: 8000, channels: 1, fmtp: '' },
      { payloadType: 111, encoding: 'opus', clockRate: 48000, channels: 2, fmtp: OPUS.fmtp },
      { payloadType: 101, encoding: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-16' },
    ]);
    expect(offer.unsupported).toEqual([]);
  });

  it.each([
    ['sendonly (hold)', { direction: 'sendonly' }, 'm=audio 9000 RTP/AVP 0 101', 'a=ptime:20\r\na=sendonly'],
    ['inactive', { direction: 'inactive' }, 'm=audio 9000 RTP/AVP 0 101', 'a=ptime:20\r\na=inactive'],
    ['ptime 30', { ptimeMs: 30 }, 'm=audio 9000 RTP/AVP 0 101', 'a=ptime:30\r\na=sendrecv'],
    ['without telephone-event', { telephoneEvent: false }, 'm=audio 9000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20', 'a=sendrecv'],
  ] as const)('offers %s when asked', (_case, extra, mLine, tail) => {
    const offer = createOffer({ origin: new SdpOrigin('9'), address: '10.0.0.5', port: 9000, codecs: configured('pcmu'), ...extra });
    expect(offer.sdp).toContain(`\r\n${mLine}\r\n`);
    expect(offer.sdp.endsWith(`\r\n${tail}\r\n`)).toBe(true);
  });

  it('refuses to offer when none of the configured codecs can be run', () => {
    const offer = () => createOffer({ origin: new SdpOrigin(), address: '10.0.0.5', port: 9000, codecs: configured('g729,ilbc') });
    expect(offer).toThrow(SdpError);
    expect(offer).toThrow('none of the configured codecs (G729/8000, iLBC/8000) can be run');
  });
});
