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
/** telephone-event made a codec of a registry (which the Codec type allows): still never the voice codec. */
const EVENTS: Codec = { ...PCMU, name: 'telephone-event/8000', encoding: 'telephone-event', staticPayloadType: undefined, fmtp: '0-16' };
/** A body of the far end (127.0.0.1) with the given m= line and attributes. */
const remoteSdp = (mLine: string, ...attributes: string[]) => parseSdp(sdpOf('v=0', 'o=user1 53655765 2353687637 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', mLine, ...attributes));
/** What the answer's audio m= line holds: payload types, then the a= lines of the audio section. */
const audioSection = (sdp: string) => sdp.slice(sdp.indexOf('m=audio')).trim().split('\r\n');
const us = { address: '127.0.0.1', port: 9100 } as const;

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

  it('reads values of digits as text: a fingerprint, a setup, an fmtp, a codec name (sdp-transform makes them numbers; a TypeError escaped parseSdp: found by the fuzzer)', () => {
    const sdp = parseSdp(sippOffer.replace('a=fmtp:101 0-11,16', 'a=fmtp:101 15\r\na=rtpmap:96 123/8000\r\na=fingerprint:sha-256 12\r\na=setup:1').replace('RTP/AVP 8 0 101', 'RTP/AVP 8 0 101 96'));
    expect(sdp.audio?.fingerprint).toEqual({ algorithm: 'sha-256', value: '12' });
    expect(sdp.audio?.setup).toBeUndefined();
    expect(sdp.audio?.formats.find((f) => f.payloadType === 101)?.fmtp).toBe('15');
    expect(sdp.audio?.formats.find((f) => f.payloadType === 96)?.encoding).toBe('123');
    expect(() => parseSdp(sippOffer.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 12345'))).not.toThrow(TypeError);
  });

  it('skips a dynamic type whose rtpmap has no clock rate (a TypeError escaped parseSdp before: found by the fuzzer)', () => {
    const sdp = parseSdp(sippOffer.replace('a=rtpmap:101 telephone-event/8000', 'a=rtpmap:101 telephone-event'));
    expect(sdp.audio?.formats.map((f) => f.payloadType)).toEqual([8, 0]);
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

describe('comfort noise (RFC 3389 CN) for DTX', () => {
  it('is offered as 13 CN/8000 (before telephone-event) when asked and an 8000 Hz codec is offered; never for opus alone', () => {
    expect(listed(offerFormats(configured('pcmu,g722,opus'), codecs, true, true).formats)).toEqual(['0 PCMU/8000', '9 G722/8000', '111 opus/48000', '13 CN/8000', '101 telephone-event/8000']);
    expect(listed(offerFormats(configured('opus'), codecs, true, true).formats)).toEqual(['111 opus/48000', '101 telephone-event/8000']);
    expect(listed(offerFormats(configured('pcmu'), codecs, true).formats)).toEqual(['0 PCMU/8000', '101 telephone-event/8000']);
    const offer = createOffer({ origin: new SdpOrigin('1'), ...us, codecs: configured('pcma'), comfortNoise: true });
    expect(audioSection(offer.sdp)[0]).toBe('m=audio 9100 RTP/AVP 8 13 101');
    expect(offer.sdp).toContain('a=rtpmap:13 CN/8000');
  });

  it('is answered at the chosen codec\'s clock rate when both take it, and read back from an answer', () => {
    const offer = remoteSdp('m=audio 6000 RTP/AVP 0 13 101', 'a=rtpmap:101 telephone-event/8000');
    const taken = answerOffer(offer, { origin: new SdpOrigin('1'), ...us, codecs: configured('pcmu'), comfortNoise: true });
    expect(audioSection(taken.sdp)[0]).toBe('m=audio 9100 RTP/AVP 0 13 101');
    expect(taken.negotiated?.comfortNoise).toEqual({ payloadType: 13 });
    // Not asked for (dtx_mode 0): CN is left out of the answer.
    const plain = answerOffer(offer, { origin: new SdpOrigin('1'), ...us, codecs: configured('pcmu') });
    expect(audioSection(plain.sdp)[0]).toBe('m=audio 9100 RTP/AVP 0 101');
    expect(plain.negotiated?.comfortNoise).toBeUndefined();
    // Our offer with CN, answered with it (and without it).
    const ours = createOffer({ origin: new SdpOrigin('1'), ...us, codecs: configured('pcmu'), comfortNoise: true });
    expect(applyAnswer(remoteSdp('m=audio 6000 RTP/AVP 0 13'), ours.formats).comfortNoise).toEqual({ payloadType: 13 });
    expect(applyAnswer(remoteSdp('m=audio 6000 RTP/AVP 0'), ours.formats).comfortNoise).toBeUndefined();
    // An answer naming CN we did not offer does not make us send it.
    const without = createOffer({ origin: new SdpOrigin('1'), ...us, codecs: configured('pcmu') });
    expect(applyAnswer(remoteSdp('m=audio 6000 RTP/AVP 0 13'), without.formats).comfortNoise).toBeUndefined();
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

describe('answerOffer', () => {
  it('writes the whole answer: the codec and telephone-event with the offer\'s types and events, ptime, sendrecv; o= version advanced', () => {
    const answer = answerOffer(parseSdp(sippOffer), { origin: new SdpOrigin('5', 3), ...us, codecs: configured('pcma,pcmu') });
    expect(answer.sdp).toBe(
      sdpOf('v=0', 'o=- 5 4 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 9100 RTP/AVP 8 101', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-11,16', 'a=ptime:20', 'a=sendrecv'),
    );
    expect(answer.reason).toBeUndefined();
    expect(answer.negotiated).toEqual({
      codec: PCMA,
      payloadType: 8,
      telephoneEvent: { payloadType: 101, clockRate: 8000 },
      remote: { address: '127.0.0.1', rtpPort: 6000, rtcpPort: 6001, rtcpMux: false },
      direction: 'sendrecv',
      ptimeMs: 20,
      remoteHeld: false,
    });
  });

  it('keeps the o= version when told the body is unchanged, answering or rejecting', () => {
    const origin = new SdpOrigin('5', 3);
    expect(parseSdp(answerOffer(parseSdp(sippOffer), { origin, ...us, codecs: configured('pcma'), newVersion: false }).sdp).version).toBe(3);
    expect(parseSdp(answerOffer(parseSdp(sippOffer), { origin, ...us, codecs: configured('g722') }).sdp).version).toBe(4);
    expect(parseSdp(answerOffer(parseSdp(sippOffer), { origin, ...us, codecs: configured('g722'), newVersion: false }).sdp).version).toBe(4);
  });

  it.each([
    ['local', 'our first codec the offer has that we run', '8 PCMA/8000'],
    ['remote', 'the offer\'s first codec we have and run', '0 PCMU/8000'],
  ] as const)('with %s priority answers %s (G.729 configured and offered, but not run)', (answerPriority, _what, expected) => {
    const offer = remoteSdp('m=audio 6000 RTP/AVP 18 0 8 101', 'a=rtpmap:101 telephone-event/8000');
    const answer = answerOffer(offer, { origin: new SdpOrigin(), ...us, codecs: configured('g729,telephone-event,pcma,pcmu'), answerPriority });
    expect(listed(parseSdp(answer.sdp).audio?.formats)).toEqual([expected, '101 telephone-event/8000']);
  });

  it.each(['local', 'remote'] as const)('answers a codec of the registry that the catalogue does not know, with the offer\'s dynamic type (%s priority)', (answerPriority) => {
    const offer = remoteSdp('m=audio 6000 RTP/AVP 96 0', 'a=rtpmap:96 AMR/8000');
    const answer = answerOffer(offer, { origin: new SdpOrigin(), ...us, codecs: configured('AMR/8000,pcmu'), registry: new CodecRegistry([PCMU, AMR]), answerPriority });
    expect(answer.negotiated).toMatchObject({ codec: AMR, payloadType: 96 });
  });

  it('never makes telephone-event the voice codec, even from a registry that lists it', () => {
    const offer = remoteSdp('m=audio 6000 RTP/AVP 101 0', 'a=rtpmap:101 telephone-event/8000');
    const answer = answerOffer(offer, { origin: new SdpOrigin(), ...us, codecs: configured('telephone-event,pcmu'), registry: new CodecRegistry([EVENTS, PCMU]) });
    expect(answer.negotiated).toMatchObject({ codec: PCMU, payloadType: 0, telephoneEvent: { payloadType: 101, clockRate: 8000 } });
  });

  it.each([
    ['the offer\'s event list', ['a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15'], true, ['m=audio 9100 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15']],
    ['events 0-16 when the offer names none', ['a=rtpmap:101 telephone-event/8000'], true, ['m=audio 9100 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16']],
    ['no telephone-event when we do not want it', ['a=rtpmap:101 telephone-event/8000'], false, ['m=audio 9100 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']],
  ])('accepts telephone-event with %s', (_case, attributes, telephoneEvent, expected) => {
    const answer = answerOffer(remoteSdp('m=audio 6000 RTP/AVP 0 101', ...attributes), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), telephoneEvent });
    expect(audioSection(answer.sdp).slice(0, -2)).toEqual(expected);
    expect(answer.negotiated?.telephoneEvent).toEqual(telephoneEvent ? { payloadType: 101, clockRate: 8000 } : undefined);
  });

  it('answers no telephone-event when the offer has none', () => {
    const answer = answerOffer(remoteSdp('m=audio 6000 RTP/AVP 0'), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu') });
    expect(audioSection(answer.sdp)).toEqual(['m=audio 9100 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=ptime:20', 'a=sendrecv']);
    expect(answer.negotiated?.telephoneEvent).toBeUndefined();
  });

  it.each([
    ['PCMU: the 8000 Hz one', 'pcmu', 'm=audio 6000 RTP/AVP 0 110 101', { payloadType: 101, clockRate: 8000 }],
    ['PCMU: the only one, at another rate', 'pcmu', 'm=audio 6000 RTP/AVP 0 110', { payloadType: 110, clockRate: 48000 }],
    ['opus: the 48000 Hz one, at the codec\'s rate', 'opus', 'm=audio 6000 RTP/AVP 111 101 110', { payloadType: 110, clockRate: 48000 }],
    ['opus: the only one, at 8000 Hz', 'opus', 'm=audio 6000 RTP/AVP 111 101', { payloadType: 101, clockRate: 8000 }],
  ] as const)('picks telephone-event for %s', (_case, ours, mLine, expected) => {
    const offer = remoteSdp(mLine, 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:110 telephone-event/48000', 'a=rtpmap:101 telephone-event/8000');
    const answer = answerOffer(offer, { origin: new SdpOrigin(), ...us, codecs: configured(ours) });
    expect(answer.negotiated?.telephoneEvent).toEqual(expected);
    expect(parseSdp(answer.sdp).audio?.formats.slice(1).map((f) => [f.payloadType, f.clockRate])).toEqual([[expected.payloadType, expected.clockRate]]);
  });

  it.each([
    [undefined, undefined, 20],
    [30, undefined, 30],
    [30, 40, 40],
    [undefined, 40, 40],
  ])('answers ptime (offer %s, ours %s) with %s', (offered, ptimeMs, expected) => {
    const offer = remoteSdp('m=audio 6000 RTP/AVP 0', ...(offered === undefined ? [] : [`a=ptime:${offered}`]));
    const answer = answerOffer(offer, { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), ...(ptimeMs === undefined ? {} : { ptimeMs }) });
    expect(answer.negotiated?.ptimeMs).toBe(expected);
    expect(answer.sdp).toContain(`\r\na=ptime:${expected}\r\n`);
  });

  it.each([
    ['sendrecv', undefined, 'sendrecv', false],
    ['sendonly', undefined, 'recvonly', true],
    ['recvonly', undefined, 'sendonly', false],
    ['inactive', undefined, 'inactive', true],
    ['sendrecv', 'sendonly', 'sendonly', false],
    ['sendonly', 'sendonly', 'inactive', true],
    ['recvonly', 'recvonly', 'inactive', false],
    ['sendrecv', 'recvonly', 'recvonly', false],
  ] as const)('answers a=%s (ours %s) with a=%s', (offered, direction, expected, remoteHeld) => {
    const answer = answerOffer(remoteSdp('m=audio 6000 RTP/AVP 0', `a=${offered}`), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), ...(direction ? { direction } : {}) });
    expect(answer.negotiated).toMatchObject({ direction: expected, remoteHeld });
    expect(audioSection(answer.sdp).at(-1)).toBe(`a=${expected}`);
  });

  it('answers the old hold (c=0.0.0.0) with a=recvonly', () => {
    const offer = parseSdp(sippOffer.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0'));
    const answer = answerOffer(offer, { origin: new SdpOrigin(), ...us, codecs: configured('pcma') });
    expect(answer.negotiated).toMatchObject({ direction: 'recvonly', remoteHeld: true });
    expect(audioSection(answer.sdp).at(-1)).toBe('a=recvonly');
  });

  it.each([
    ['nothing in common', sippOffer, 'g722', 'no codec in common (offered: PCMA/8000, PCMU/8000, telephone-event/8000)', ['m=audio 0 RTP/AVP 8', 'a=rtpmap:8 PCMA/8000', 'a=inactive']],
    ['only opus offered', sdpOf('v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6000 RTP/AVP 111 110', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:110 telephone-event/48000'), 'pcmu', 'no codec in common (offered: opus/48000/2, telephone-event/48000)', ['m=audio 0 RTP/AVP 111', 'a=rtpmap:111 opus/48000/2', 'a=inactive']],
    ['an audio stream the offer rejects (port 0)', sippOffer.replace('m=audio 6000', 'm=audio 0'), 'pcma', 'the offer has no audio stream', ['m=audio 0 RTP/AVP 8', 'a=rtpmap:8 PCMA/8000', 'a=inactive']],
    ['SRTP refused by use_srtp', sippOffer.replace('RTP/AVP', 'RTP/SAVP'), 'pcma', 'the offer wants SRTP (RTP/SAVP) and use_srtp is disabled', ['m=audio 0 RTP/SAVP 8', 'a=rtpmap:8 PCMA/8000', 'a=inactive']],
    ['DTLS-SRTP refused by use_srtp', sippOffer.replace('RTP/AVP', 'UDP/TLS/RTP/SAVP'), 'pcma', 'the offer wants SRTP (UDP/TLS/RTP/SAVP) and use_srtp is disabled', ['m=audio 0 UDP/TLS/RTP/SAVP 8', 'a=rtpmap:8 PCMA/8000', 'a=inactive']],
    ['a secure profile we do not know', sippOffer.replace('RTP/AVP', 'TCP/TLS/RTP/SAVP'), 'pcma', 'the offer wants TCP/TLS/RTP/SAVP, a profile this endpoint does not do', ['m=audio 0 TCP/TLS/RTP/SAVP 8', 'a=rtpmap:8 PCMA/8000', 'a=inactive']],
  ])('rejects the audio with port 0 and its first format when %s', (_case, text, ours, reason, section) => {
    const answer = answerOffer(parseSdp(text), { origin: new SdpOrigin(), ...us, codecs: configured(ours) });
    expect(answer).toMatchObject({ negotiated: undefined, reason });
    expect(audioSection(answer.sdp)).toEqual(section);
  });

  it.each([
    ['only video', ['m=video 6002 RTP/AVP 96', 'a=rtpmap:96 VP8/90000'], [['video', 0]]],
    ['video and an application', ['m=video 6002 RTP/AVP 96', 'a=rtpmap:96 VP8/90000', 'm=application 6004 UDP/BFCP *'], [['video', 0], ['application', 0]]],
  ])('answers an offer without audio (%s) with its m= lines rejected, and no other', (_case, lines, expected) => {
    const answer = answerOffer(remoteSdp(...(lines as [string, ...string[]])), { origin: new SdpOrigin('5', 3), ...us, codecs: configured('pcmu') });
    expect(answer).toMatchObject({ negotiated: undefined, reason: 'the offer has no audio stream' });
    const parsed = parseSdp(answer.sdp);
    expect(parsed.media.map((m) => [m.type, m.port])).toEqual(expected);
    expect(parsed.version).toBe(4);
    expect(answer.sdp).toContain('\r\nm=video 0 RTP/AVP 96\r\n');
  });

  it('says the offer names no format at all when none of its types is known', () => {
    const answer = answerOffer(remoteSdp('m=audio 6000 RTP/AVP 96'), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu') });
    expect(answer.reason).toBe('no codec in common (offered: none)');
    expect(parseSdp(answer.sdp).media.map((m) => [m.type, m.port])).toEqual([['audio', 0]]);
  });
});

describe('applyAnswer', () => {
  const offered = () => createOffer({ origin: new SdpOrigin(), address: '127.0.0.1', port: 9000, codecs: configured('pcmu,g722') }).formats;
  const answerSdp = (mLine: string, ...attributes: string[]) =>
    parseSdp(sdpOf('v=0', 'o=- 8 1 IN IP4 127.0.0.2', 's=-', 'c=IN IP4 127.0.0.2', 't=0 0', mLine, 'a=rtpmap:101 telephone-event/8000', ...attributes));

  it('takes the answer\'s first format that we offered and run, past telephone-event and codecs we did not offer', () => {
    expect(applyAnswer(answerSdp('m=audio 7000 RTP/AVP 101 8 0'), offered())).toEqual({
      codec: PCMU,
      payloadType: 0,
      telephoneEvent: { payloadType: 101, clockRate: 8000 },
      remote: { address: '127.0.0.2', rtpPort: 7000, rtcpPort: 7001, rtcpMux: false },
      direction: 'sendrecv',
      ptimeMs: 20,
      remoteHeld: false,
    });
  });

  it('never takes telephone-event as the codec, even from a registry that lists it', () => {
    const registry = new CodecRegistry([EVENTS, PCMU]);
    expect(applyAnswer(answerSdp('m=audio 7000 RTP/AVP 101 0'), offered(), { registry })).toMatchObject({ codec: PCMU, payloadType: 0 });
  });

  it('has telephone-event only when both the offer and the answer have it', () => {
    const withoutEvents = offered().filter((f) => f.encoding !== 'telephone-event');
    expect(applyAnswer(answerSdp('m=audio 7000 RTP/AVP 0 101'), withoutEvents).telephoneEvent).toBeUndefined();
    expect(applyAnswer(answerSdp('m=audio 7000 RTP/AVP 0'), offered()).telephoneEvent).toBeUndefined();
  });

  it.each([
    [undefined, undefined, 20],
    [30, undefined, 30],
    [30, 40, 30],
    [undefined, 40, 40],
  ])('sends with the answer\'s ptime (answer %s, ours %s): %s', (answered, ptimeMs, expected) => {
    const answer = answerSdp('m=audio 7000 RTP/AVP 0', ...(answered === undefined ? [] : [`a=ptime:${answered}`]));
    expect(applyAnswer(answer, offered(), ptimeMs === undefined ? {} : { ptimeMs }).ptimeMs).toBe(expected);
  });

  it.each([
    ['sendrecv', undefined, 'sendrecv', false],
    ['recvonly', undefined, 'sendonly', false],
    ['sendonly', undefined, 'recvonly', true],
    ['inactive', undefined, 'inactive', true],
    ['recvonly', 'sendonly', 'sendonly', false],
    ['sendrecv', 'sendonly', 'sendonly', false],
  ] as const)('reads a=%s (ours %s) as %s', (answered, direction, expected, remoteHeld) => {
    const negotiated = applyAnswer(answerSdp('m=audio 7000 RTP/AVP 0', `a=${answered}`), offered(), direction ? { direction } : {});
    expect(negotiated).toMatchObject({ direction: expected, remoteHeld });
  });

  it.each([
    ['rejects the audio (port 0)', 'm=audio 0 RTP/AVP 0', 'the answer rejects the audio stream'],
    ['has no audio', 'm=video 7002 RTP/AVP 96', 'the answer rejects the audio stream'],
    ['names only codecs we did not offer', 'm=audio 7000 RTP/AVP 18 8 101', 'the answer names no codec we offered (G729/8000, PCMA/8000, telephone-event/8000)'],
    ['names no format we know', 'm=audio 7000 RTP/AVP 97', 'the answer names no codec we offered (none)'],
  ])('throws an SdpError when the answer %s', (_case, mLine, message) => {
    const apply = () => applyAnswer(answerSdp(mLine), offered());
    expect(apply).toThrow(SdpError);
    expect(apply).toThrow(message);
  });
});

describe('SRTP with SDES keys (use_srtp)', () => {
  type Mode = 'optional' | 'disabled' | 'elective' | 'enabled' | 'mandatory';
  const MODES: Mode[] = ['optional', 'disabled', 'elective', 'enabled', 'mandatory'];
  const policy = (mode: Mode, unencryptedSrtcp = false) => ({ mode, unencryptedSrtcp });
  const offerFor = (mode: Mode, unencryptedSrtcp = false) => createOffer({ origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy(mode, unencryptedSrtcp) });
  const KEY = 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR';

  it.each([
    ['optional', 'RTP/AVP', 0],
    ['disabled', 'RTP/AVP', 0],
    ['elective', 'RTP/AVP', 4],
    ['enabled', 'RTP/SAVP', 4],
    ['mandatory', 'RTP/SAVP', 4],
  ] as const)('%s offers %s with %d a=crypto lines, a fresh key in each offer', (mode, protocol, lines) => {
    const first = offerFor(mode);
    const parsed = parseSdp(first.sdp);
    expect(parsed.audio).toMatchObject({ protocol });
    expect(parsed.audio?.crypto.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual(
      ['1 AES_CM_128_HMAC_SHA1_80', '2 AES_CM_128_HMAC_SHA1_32', '3 AES_256_CM_HMAC_SHA1_80', '4 AES_256_CM_HMAC_SHA1_32'].slice(0, lines),
    );
    expect(first.keys.map((k) => k.tag)).toEqual([1, 2, 3, 4].slice(0, lines));
    if (lines > 0) expect(parseSdp(offerFor(mode).sdp).audio?.crypto[0]).not.toBe(parsed.audio?.crypto[0]);
  });

  it('adds UNENCRYPTED_SRTCP to every offered line with ,UEC', () => {
    const offer = offerFor('enabled', true);
    expect(parseSdp(offer.sdp).audio?.crypto.every((line) => line.endsWith(' UNENCRYPTED_SRTCP'))).toBe(true);
    expect(offer.keys.every((k) => k.key.unencryptedSrtcp)).toBe(true);
  });

  const offers = {
    plain: remoteSdp('m=audio 6000 RTP/AVP 0'),
    'best effort': remoteSdp('m=audio 6000 RTP/AVP 0', `a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`),
    secure: remoteSdp('m=audio 6000 RTP/SAVP 0', `a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`),
    'secure, no usable key': remoteSdp('m=audio 6000 RTP/SAVP 0', `a=crypto:3 AEAD_AES_128_GCM inline:${KEY}`),
    'best effort, no usable key': remoteSdp('m=audio 6000 RTP/AVP 0', `a=crypto:3 AEAD_AES_128_GCM inline:${KEY}`),
  };
  const outcomes: Record<Mode, Record<keyof typeof offers, string>> = {
    optional: { plain: 'plain', 'best effort': 'srtp', secure: 'srtp', 'secure, no usable key': 'refused: suite AEAD_AES_128_GCM is not supported', 'best effort, no usable key': 'plain' },
    disabled: { plain: 'plain', 'best effort': 'plain', secure: 'refused: use_srtp is disabled', 'secure, no usable key': 'refused: use_srtp is disabled', 'best effort, no usable key': 'plain' },
    elective: { plain: 'plain', 'best effort': 'srtp', secure: 'srtp', 'secure, no usable key': 'refused: suite AEAD_AES_128_GCM is not supported', 'best effort, no usable key': 'plain' },
    enabled: { plain: 'plain', 'best effort': 'srtp', secure: 'srtp', 'secure, no usable key': 'refused: suite AEAD_AES_128_GCM is not supported', 'best effort, no usable key': 'plain' },
    mandatory: { plain: 'refused: use_srtp is mandatory and the offer is plain RTP', 'best effort': 'srtp', secure: 'srtp', 'secure, no usable key': 'refused: suite AEAD_AES_128_GCM is not supported', 'best effort, no usable key': 'refused: suite AEAD_AES_128_GCM is not supported' },
  };
  const cases = MODES.flatMap((mode) => (Object.keys(offers) as (keyof typeof offers)[]).map((kind) => [mode, kind, outcomes[mode][kind]] as const));
  it.each(cases)('use_srtp %s answers a %s offer: %s', (mode, kind, outcome) => {
    const offer = offers[kind];
    const answer = answerOffer(offer, { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy(mode) });
    const audio = parseSdp(answer.sdp).audio!;
    if (outcome.startsWith('refused: ')) {
      expect(answer.negotiated).toBeUndefined();
      expect(answer.reason).toContain(outcome.slice('refused: '.length));
      expect(answer.reason).not.toContain(KEY);
      expect(audio.port).toBe(0);
      return;
    }
    // The answer keeps the offer's profile, and has a=crypto exactly when SRTP was taken.
    expect(audio.protocol).toBe(offer.audio!.protocol);
    if (outcome === 'plain') {
      expect(answer.negotiated?.srtp).toBeUndefined();
      expect(audio.crypto).toEqual([]);
    } else {
      expect(audio.crypto).toHaveLength(1);
      expect(audio.crypto[0]).toMatch(/^3 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}$/);
      expect(audio.crypto[0]).not.toContain(KEY);
      expect(answer.negotiated?.srtp).toMatchObject({ tag: 3, receive: { suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: new Uint8Array(Buffer.from(KEY, 'base64').subarray(0, 16)) } });
    }
  });

  it.each(MODES.flatMap((offerer) => MODES.map((answerer) => [offerer, answerer] as const)))('%s offering to %s: both ends settle the same thing, keys crossed', (offerer, answerer) => {
    const offer = offerFor(offerer);
    const answer = answerOffer(parseSdp(offer.sdp), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy(answerer) });
    const offererSecure = offerer === 'enabled' || offerer === 'mandatory';
    const refused = (offererSecure && answerer === 'disabled') || (offerer !== 'enabled' && offerer !== 'mandatory' && offerer !== 'elective' && answerer === 'mandatory');
    if (refused) {
      expect(answer.negotiated).toBeUndefined();
      return;
    }
    const applied = applyAnswer(parseSdp(answer.sdp), offer.formats, { keys: offer.keys, srtp: policy(offerer) });
    const secure = offerer === 'elective' ? answerer !== 'disabled' : offererSecure;
    expect(applied.srtp !== undefined).toBe(secure);
    expect(answer.negotiated?.srtp !== undefined).toBe(secure);
    if (secure) {
      expect(applied.srtp).toEqual({ tag: 1, send: answer.negotiated!.srtp!.receive, receive: answer.negotiated!.srtp!.send });
      expect(applied.srtp?.send.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    }
  });

  it('keeps UNENCRYPTED_SRTCP in the answer and for both directions', () => {
    const offer = offerFor('mandatory', true);
    const answer = answerOffer(parseSdp(offer.sdp), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy('optional') });
    expect(parseSdp(answer.sdp).audio?.crypto[0]).toMatch(/ UNENCRYPTED_SRTCP$/);
    const applied = applyAnswer(parseSdp(answer.sdp), offer.formats, { keys: offer.keys, srtp: policy('mandatory', true) });
    expect([applied.srtp?.send.unencryptedSrtcp, applied.srtp?.receive.unencryptedSrtcp, answer.negotiated?.srtp?.send.unencryptedSrtcp]).toEqual([true, true, true]);
    // An answer that leaves it out: SRTCP is encrypted both ways.
    const without = answer.sdp.replace(' UNENCRYPTED_SRTCP', '');
    expect(applyAnswer(parseSdp(without), offer.formats, { keys: offer.keys, srtp: policy('mandatory', true) }).srtp?.send.unencryptedSrtcp).toBe(false);
  });

  it.each([
    ['SRTP the offer did not offer', 'optional', (sdp: string) => sdp.replace('RTP/AVP', 'RTP/SAVP'), 'the answer uses RTP/SAVP (SRTP), which the offer did not offer'],
    ['no a=crypto to a secure offer', 'enabled', (sdp: string) => sdp.replace(/a=crypto:.*\r\n/, ''), 'the answer does not take SRTP (RTP/SAVP without a=crypto), which use_srtp enabled requires'],
    ['a tag we did not offer', 'enabled', (sdp: string) => sdp.replace('a=crypto:1 ', 'a=crypto:7 '), "the answer's a=crypto tag 7 (AES_CM_128_HMAC_SHA1_80) is not one we offered"],
    ['a suite other than the tag\'s', 'enabled', (sdp: string) => sdp.replace('a=crypto:1 AES_CM_128_HMAC_SHA1_80', 'a=crypto:1 AES_CM_128_HMAC_SHA1_32'), "the answer's a=crypto tag 1 (AES_CM_128_HMAC_SHA1_32) is not one we offered"],
    ['a malformed a=crypto', 'enabled', (sdp: string) => sdp.replace(/inline:\S+/, 'inline:***'), "the answer's a=crypto cannot be used: no usable a=crypto line: a=crypto key is not base64"],
  ] as const)('refuses an answer with %s', (_case, mode, change, message) => {
    const offer = offerFor(mode);
    const answer = answerOffer(parseSdp(offer.sdp), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy(mode === 'optional' ? 'optional' : 'enabled') });
    expect(() => applyAnswer(parseSdp(change(answer.sdp)), offer.formats, { keys: offer.keys, srtp: policy(mode) })).toThrow(new SdpError(message));
  });

  it('re-offers and re-answers keep the key in use when given it; without it they re-key', () => {
    const first = offerFor('enabled');
    const answer = answerOffer(parseSdp(first.sdp), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy('enabled') });
    const settled = applyAnswer(parseSdp(answer.sdp), first.formats, { keys: first.keys, srtp: policy('enabled') }).srtp!;
    const inUse = [{ tag: settled.tag, key: settled.send }];
    const reoffer = createOffer({ origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy('enabled'), srtpKeys: inUse });
    expect(reoffer.keys).toEqual(inUse);
    expect(parseSdp(reoffer.sdp).audio?.crypto).toEqual([parseSdp(first.sdp).audio!.crypto[0]]);
    // The answerer keeps its key for the same suite, and makes a new one for another suite.
    const answerKey = answer.negotiated!.srtp!.send;
    const reanswer = answerOffer(parseSdp(reoffer.sdp), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy('enabled'), srtpKeys: [{ tag: 1, key: answerKey }] });
    expect(reanswer.negotiated?.srtp?.send).toBe(answerKey);
    const other = answerOffer(parseSdp(reoffer.sdp.replace(/a=crypto:1 AES_CM_128_HMAC_SHA1_80/, 'a=crypto:1 AES_CM_128_HMAC_SHA1_32').replace(/inline:\S+/, `inline:${KEY}`)), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy('enabled'), srtpKeys: [{ tag: 1, key: answerKey }] });
    expect(other.negotiated?.srtp?.send.suite).toBe('AES_CM_128_HMAC_SHA1_32');
    expect(Buffer.from(other.negotiated!.srtp!.send.masterKey).equals(Buffer.from(answerKey.masterKey))).toBe(false);
    // Without the keys in use: fresh ones.
    expect(parseSdp(offerFor('enabled').sdp).audio?.crypto[0]).not.toBe(parseSdp(first.sdp).audio?.crypto[0]);
  });

  it('takes a plain answer to a best-effort offer (elective) as plain RTP', () => {
    const offer = offerFor('elective');
    const answer = answerOffer(parseSdp(offer.sdp), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy('disabled') });
    expect(parseSdp(answer.sdp).audio).toMatchObject({ protocol: 'RTP/AVP', crypto: [] });
    expect(applyAnswer(parseSdp(answer.sdp), offer.formats, { keys: offer.keys, srtp: policy('elective') }).srtp).toBeUndefined();
  });
});

describe('DTLS-SRTP in offers and answers (RFC 5763)', () => {
  const policy = (mode: 'disabled' | 'optional' | 'elective' | 'enabled' | 'mandatory') => ({ mode, unencryptedSrtcp: false });
  const OURS = { algorithm: 'sha-256', value: 'AA:BB:CC' };
  const THEIRS = 'a=fingerprint:SHA-256 0f:1e:2d';
  const dtlsOffer = (...attributes: string[]) => remoteSdp('m=audio 6000 UDP/TLS/RTP/SAVP 0', ...attributes);
  const answer = (offer: ReturnType<typeof parseSdp>, mode: Parameters<typeof policy>[0] = 'optional', role?: 'client' | 'server') =>
    answerOffer(offer, { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy(mode), dtls: { fingerprint: OURS, ...(role ? { role } : {}) } });

  it('reads a=fingerprint and a=setup from the media line, else from the session', () => {
    expect(dtlsOffer(THEIRS, 'a=setup:ACTPASS', 'a=rtcp-mux').audio).toMatchObject({ fingerprint: { algorithm: 'sha-256', value: '0F:1E:2D' }, setup: 'actpass', secure: true });
    const sessionLevel = parseSdp(sdpOf('v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'a=fingerprint:sha-1 01:02', 'a=setup:passive', 'm=audio 6000 UDP/TLS/RTP/SAVP 0'));
    expect(sessionLevel.audio).toMatchObject({ fingerprint: { algorithm: 'sha-1', value: '01:02' }, setup: 'passive' });
    expect(dtlsOffer('a=setup:sideways').audio).toMatchObject({ fingerprint: undefined, setup: undefined });
  });

  it.each([
    ['actpass', 'client', 'active'],
    ['(no a=setup)', 'client', 'active'],
    ['active', 'server', 'passive'],
    ['passive', 'client', 'active'],
  ] as const)('answers a=setup:%s as the DTLS %s (a=setup:%s), with our fingerprint and rtcp-mux, no a=crypto', (setup, role, ours) => {
    const attributes = [THEIRS, 'a=rtcp-mux', ...(setup.startsWith('(') ? [] : [`a=setup:${setup}`])];
    const result = answer(dtlsOffer(...attributes));
    expect(result.reason).toBeUndefined();
    expect(result.negotiated).toMatchObject({ srtp: undefined, dtls: { role, remoteFingerprint: { algorithm: 'sha-256', value: '0F:1E:2D' } }, remote: { rtcpMux: true } });
    const audio = parseSdp(result.sdp).audio!;
    expect(audio).toMatchObject({ protocol: 'UDP/TLS/RTP/SAVP', setup: ours, fingerprint: { algorithm: 'sha-256', value: 'AA:BB:CC' }, rtcpMux: true, crypto: [] });
  });

  it('takes a DTLS-SRTP offer and answer without rtcp-mux (RTCP then has an association of its own)', () => {
    const answered = answer(dtlsOffer(THEIRS, 'a=setup:actpass'));
    expect(answered.negotiated).toMatchObject({ dtls: { role: 'client' }, remote: { rtcpMux: false, rtcpPort: 6001 } });
    expect(parseSdp(answered.sdp).audio?.rtcpMux).toBe(false);
    const offer = createOffer({ origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy('enabled'), dtls: { fingerprint: OURS, offer: true } });
    const theirs = answerOffer(parseSdp(offer.sdp), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy('optional'), dtls: { fingerprint: { algorithm: 'sha-256', value: '0F:1E:2D' } } });
    expect(applyAnswer(parseSdp(theirs.sdp.replace('a=rtcp-mux\r\n', '')), offer.formats, { dtls: true })).toMatchObject({ dtls: { role: 'server' }, remote: { rtcpMux: false } });
  });

  it('keeps the role of the association in use when a re-offer says actpass', () => {
    expect(answer(dtlsOffer(THEIRS, 'a=rtcp-mux', 'a=setup:actpass'), 'optional', 'server').negotiated?.dtls?.role).toBe('server');
  });

  it.each([
    ['use_srtp is disabled', dtlsOffer(THEIRS, 'a=rtcp-mux'), 'disabled', 'the offer wants SRTP (UDP/TLS/RTP/SAVP) and use_srtp is disabled'],
    ['no fingerprint', dtlsOffer('a=rtcp-mux'), 'optional', 'the DTLS-SRTP offer has no a=fingerprint'],
    ['a hash we cannot check', dtlsOffer('a=fingerprint:md5 01:02', 'a=rtcp-mux'), 'optional', 'the offer\'s fingerprint uses md5, which this endpoint cannot check'],
    ['holdconn', dtlsOffer(THEIRS, 'a=rtcp-mux', 'a=setup:holdconn'), 'optional', 'the DTLS-SRTP offer has a=setup:holdconn'],
  ] as const)('refuses a DTLS-SRTP offer with %s', (_case, offer, mode, reason) => {
    const result = answer(offer, mode);
    expect(result).toMatchObject({ negotiated: undefined, reason });
    expect(parseSdp(result.sdp).audio?.port).toBe(0);
  });

  it('refuses a DTLS-SRTP offer when no certificate is given', () => {
    const result = answerOffer(dtlsOffer(THEIRS, 'a=rtcp-mux'), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy('enabled') });
    expect(result.reason).toBe('the offer wants DTLS-SRTP (UDP/TLS/RTP/SAVP), which is not available here');
  });

  it.each(['enabled', 'mandatory'] as const)('use_srtp %s with offer set offers UDP/TLS/RTP/SAVP, actpass, rtcp-mux, our fingerprint and no a=crypto', (mode) => {
    const offer = createOffer({ origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy(mode), dtls: { fingerprint: OURS, offer: true } });
    expect(offer).toMatchObject({ dtls: true, keys: [] });
    expect(parseSdp(offer.sdp).audio).toMatchObject({ protocol: 'UDP/TLS/RTP/SAVP', setup: 'actpass', rtcpMux: true, crypto: [], fingerprint: { algorithm: 'sha-256', value: 'AA:BB:CC' } });
    // A re-offer of an association in use names our role.
    expect(parseSdp(createOffer({ origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy(mode), dtls: { fingerprint: OURS, offer: true, role: 'server' } }).sdp).audio?.setup).toBe('passive');
  });

  it.each(['optional', 'elective', 'disabled'] as const)('use_srtp %s never offers DTLS-SRTP', (mode) => {
    const offer = createOffer({ origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy(mode), dtls: { fingerprint: OURS, offer: true } });
    expect(offer.dtls).toBe(false);
    expect(parseSdp(offer.sdp).audio?.protocol).toBe('RTP/AVP');
  });

  it('settles the same roles at both ends, each with the other\'s fingerprint', () => {
    const theirs = { algorithm: 'sha-256', value: '0F:1E:2D' };
    const offer = createOffer({ origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy('enabled'), dtls: { fingerprint: OURS, offer: true } });
    const answered = answerOffer(parseSdp(offer.sdp), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy('optional'), dtls: { fingerprint: theirs } });
    expect(answered.negotiated?.dtls).toEqual({ role: 'client', remoteFingerprint: OURS });
    const applied = applyAnswer(parseSdp(answered.sdp), offer.formats, { dtls: true, srtp: policy('enabled') });
    expect(applied).toMatchObject({ srtp: undefined, dtls: { role: 'server', remoteFingerprint: theirs } });
    // An answer that is passive makes us the client.
    expect(applyAnswer(parseSdp(answered.sdp.replace('a=setup:active', 'a=setup:passive')), offer.formats, { dtls: true }).dtls?.role).toBe('client');
  });

  it.each([
    ['plain RTP', (sdp: string) => sdp.replace('UDP/TLS/RTP/SAVP', 'RTP/AVP'), 'the answer does not take DTLS-SRTP (RTP/AVP), which the offer requires'],
    ['no fingerprint', (sdp: string) => sdp.replace(/a=fingerprint:.*\r\n/, ''), 'the DTLS-SRTP answer has no a=fingerprint'],
    ['an md5 fingerprint', (sdp: string) => sdp.replace(/a=fingerprint:\S+/, 'a=fingerprint:md5'), 'the answer\'s fingerprint uses md5, which this endpoint cannot check'],
    ['actpass', (sdp: string) => sdp.replace('a=setup:active', 'a=setup:actpass'), 'the DTLS-SRTP answer has a=setup:actpass; an answer is active or passive'],
  ])('refuses an answer to our DTLS-SRTP offer with %s', (_case, change, message) => {
    const offer = createOffer({ origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy('enabled'), dtls: { fingerprint: OURS, offer: true } });
    const answered = answerOffer(parseSdp(offer.sdp), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), srtp: policy('optional'), dtls: { fingerprint: { algorithm: 'sha-256', value: '0F:1E:2D' } } });
    expect(() => applyAnswer(parseSdp(change(answered.sdp)), offer.formats, { dtls: true })).toThrow(new SdpError(message));
  });

  it('refuses a DTLS-SRTP answer to an offer that was not one', () => {
    const offer = createOffer({ origin: new SdpOrigin(), ...us, codecs: configured('pcmu') });
    const answered = answerOffer(parseSdp(offer.sdp), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu') });
    expect(() => applyAnswer(parseSdp(answered.sdp.replace('RTP/AVP', 'UDP/TLS/RTP/SAVP')), offer.formats)).toThrow(new SdpError('the answer uses UDP/TLS/RTP/SAVP (DTLS-SRTP), which the offer did not offer'));
  });
});

describe('ICE in offers and answers (RFC 8839)', () => {
  const host = { foundation: '1', component: 1, transport: 'udp' as const, priority: 2130706431, address: '127.0.0.1', port: 9100, type: 'host' as const };
  const srflx = { foundation: '2', component: 1, transport: 'udp' as const, priority: 1694498815, address: '192.0.2.7', port: 40000, type: 'srflx' as const, relatedAddress: '127.0.0.1', relatedPort: 9100 };
  const OURS = { ufrag: 'ufrgOURS', pwd: 'p'.repeat(24), candidates: [host, srflx] };
  const iceOffer = (...attributes: string[]) => remoteSdp('m=audio 6000 RTP/AVP 0', 'a=ice-ufrag:THEM', `a=ice-pwd:${'q'.repeat(22)}`, 'a=candidate:1 1 UDP 2130706431 127.0.0.1 6000 typ host', ...attributes);

  it('offers our credentials, candidates and rtcp-mux; the peer reads them back', () => {
    const offer = createOffer({ origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), ice: OURS });
    expect(audioSection(offer.sdp)).toEqual(expect.arrayContaining(['a=rtcp-mux', 'a=ice-ufrag:ufrgOURS', `a=ice-pwd:${'p'.repeat(24)}`, 'a=candidate:1 1 UDP 2130706431 127.0.0.1 9100 typ host', 'a=candidate:2 1 UDP 1694498815 192.0.2.7 40000 typ srflx raddr 127.0.0.1 rport 9100']));
    expect(parseSdp(offer.sdp).audio?.ice).toEqual({ ufrag: 'ufrgOURS', pwd: 'p'.repeat(24), candidates: [host, srflx], lite: false });
  });

  it('answers an ICE offer with ours, and settles the peer\'s ICE', () => {
    const answer = answerOffer(iceOffer('a=rtcp-mux'), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), ice: OURS });
    expect(answer.negotiated?.ice).toEqual({ ufrag: 'THEM', pwd: 'q'.repeat(22), candidates: [{ ...host, port: 6000 }], lite: false });
    expect(parseSdp(answer.sdp).audio).toMatchObject({ rtcpMux: true, ice: { ufrag: 'ufrgOURS', candidates: [host, srflx] } });
  });

  it('answers an offer without ICE without ICE attributes (RFC 8839 4.2.5), and without ICE of our own none is settled', () => {
    const plain = answerOffer(remoteSdp('m=audio 6000 RTP/AVP 0'), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), ice: OURS });
    expect(plain.negotiated?.ice).toBeUndefined();
    expect(plain.sdp).not.toMatch(/a=(ice-|candidate)/);
    expect(answerOffer(iceOffer(), { origin: new SdpOrigin(), ...us, codecs: configured('pcmu') }).negotiated?.ice).toBeUndefined();
  });

  it('takes no ICE from an offer whose c= and m= are none of its candidates (rewritten on the way, RFC 8445 5.4)', () => {
    const rewritten = remoteSdp('m=audio 6000 RTP/AVP 0', 'a=ice-ufrag:THEM', `a=ice-pwd:${'q'.repeat(22)}`, 'a=candidate:1 1 UDP 2130706431 10.9.9.9 5000 typ host');
    const answer = answerOffer(rewritten, { origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), ice: OURS });
    expect(answer.negotiated?.ice).toBeUndefined();
  });

  it('reads session-level credentials and ice-lite, and skips candidates it cannot use', () => {
    const parsed = parseSdp(sdpOf('v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'a=ice-lite', 'a=ice-ufrag:SESS', `a=ice-pwd:${'r'.repeat(22)}`, 'm=audio 6000 RTP/AVP 0', 'a=candidate:1 1 TCP 1 127.0.0.1 6000 typ host tcptype passive', 'a=candidate:2 1 UDP 2 127.0.0.1 6000 typ host'));
    expect(parsed.audio?.ice).toEqual({ ufrag: 'SESS', pwd: 'r'.repeat(22), lite: true, candidates: [{ foundation: '2', component: 1, transport: 'udp', priority: 2, address: '127.0.0.1', port: 6000, type: 'host' }] });
  });

  it('applies an ICE answer to our ICE offer', () => {
    const offer = createOffer({ origin: new SdpOrigin(), ...us, codecs: configured('pcmu'), ice: OURS });
    const answer = answerOffer(parseSdp(offer.sdp), { origin: new SdpOrigin(), address: '127.0.0.1', port: 6000, codecs: configured('pcmu'), ice: { ufrag: 'THEM', pwd: 'q'.repeat(22), candidates: [{ ...host, port: 6000 }] } });
    expect(applyAnswer(parseSdp(answer.sdp), offer.formats, { ice: OURS }).ice).toMatchObject({ ufrag: 'THEM', candidates: [{ port: 6000 }] });
    expect(applyAnswer(parseSdp(answer.sdp), offer.formats).ice).toBeUndefined();
  });
});
