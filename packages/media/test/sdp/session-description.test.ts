import { SipEndpointError } from '@sip-endpoint/config';
import { answerDirection, parseSdp, SdpError, SdpOrigin, writeAudioSdp, type AudioSdpFields, type MediaDirection, type ParsedSdp } from '@sip-endpoint/media';
import type * as SessionDescription from '../../src/sdp/session-description';

const crlf = (...lines: string[]): string => `${lines.join('\r\n')}\r\n`;

/** What parseSdp gives, without the raw sdp-transform tree. */
const parsed = (text: string): Omit<ParsedSdp, 'raw'> => {
  const { raw: _raw, ...rest } = parseSdp(text);
  return rest;
};

/** A session with one audio line: `media` replaces the m= line and its attributes. */
const session = (...media: string[]): string => crlf('v=0', 'o=- 1 2 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', ...media);

const pcmu = { payloadType: 0, encoding: 'PCMU', clockRate: 8000, channels: 1, fmtp: '' };

describe('parseSdp reads real-world offers', () => {
  it('names every static payload type of RFC 3551 it knows when the offer has no a=rtpmap, and leaves out the others', () => {
    const offer = session('m=audio 4000 RTP/AVP 0 3 4 8 9 13 18 15');
    const expected = [
      [0, 'PCMU', 8000, 1],
      [3, 'GSM', 8000, 1],
      [4, 'G723', 8000, 1],
      [8, 'PCMA', 8000, 1],
      // G.722's RTP clock is 8000 although it samples at 16 kHz (RFC 3551 section 4.5.2).
      [9, 'G722', 8000, 1],
      [13, 'CN', 8000, 1],
      [18, 'G729', 8000, 1],
      // 15 (G728) is not in the table and has no rtpmap: left out, no name is made up for it.
    ];
    const names = (read: typeof parseSdp) => read(offer).audio?.formats.map((f) => [f.payloadType, f.encoding, f.clockRate, f.channels]);
    expect(names(parseSdp)).toEqual(expected);
    // The table is built when the module loads: a copy loaded within this test reads the same
    // (StrykerJS activates a mutant of it only in a module loaded during a test that covers it).
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const isolated = require('../../src/sdp/session-description') as typeof SessionDescription;
      expect(names(isolated.parseSdp)).toEqual(expected);
    });
  });

  it('an rtpengine offer through Kamailio: static types, G.729 fmtp, telephone-event, a=rtcp, ptime', () => {
    const offer = crlf(
      'v=0',
      'o=- 1545997027 1545997028 IN IP4 203.0.113.10',
      's=rtpengine',
      'c=IN IP4 203.0.113.10',
      't=0 0',
      'm=audio 30000 RTP/AVP 0 8 18 101',
      'a=maxptime:150',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:18 G729/8000',
      'a=fmtp:18 annexb=no',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16',
      'a=sendrecv',
      'a=rtcp:30011',
      'a=ptime:20',
    );
    expect(parsed(offer)).toEqual({
      sessionId: '1545997027',
      version: 1545997028,
      audio: {
        index: 0,
        address: '203.0.113.10',
        port: 30000,
        rtcpPort: 30011,
        rtcpMux: false,
        direction: 'sendrecv',
        held: false,
        formats: [
          pcmu,
          { payloadType: 8, encoding: 'PCMA', clockRate: 8000, channels: 1, fmtp: '' },
          { payloadType: 18, encoding: 'G729', clockRate: 8000, channels: 1, fmtp: 'annexb=no' },
          { payloadType: 101, encoding: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-16' },
        ],
        ptimeMs: 20,
        secure: false,
        crypto: [],
        protocol: 'RTP/AVP',
      },
      media: [{ type: 'audio', port: 30000, protocol: 'RTP/AVP', formats: '0 8 18 101' }],
    });
  });

  it('a baresip offer over IPv6: opus/48000/2 with its fmtp, a dynamic type without rtpmap left out, LF line ends', () => {
    const offer = [
      'v=0',
      'o=- 1234567 8901234 IN IP6 2001:db8::10',
      's=-',
      'c=IN IP6 2001:db8::10',
      't=0 0',
      'm=audio 10000 RTP/AVP 96 97 9 101',
      'b=AS:128',
      'a=rtpmap:96 opus/48000/2',
      'a=fmtp:96 stereo=1;sprop-stereo=1',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=sendrecv',
      'a=label:1',
      'a=ssrc:1860478346 cname:3a9a4e01f9b3a8b8',
      '',
    ].join('\n');
    expect(parsed(offer).audio).toEqual({
      index: 0,
      address: '2001:db8::10',
      port: 10000,
      rtcpPort: 10001,
      rtcpMux: false,
      direction: 'sendrecv',
      held: false,
      formats: [
        { payloadType: 96, encoding: 'opus', clockRate: 48000, channels: 2, fmtp: 'stereo=1;sprop-stereo=1' },
        { payloadType: 9, encoding: 'G722', clockRate: 8000, channels: 1, fmtp: '' },
        { payloadType: 101, encoding: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-15' },
      ],
      ptimeMs: undefined,
      secure: false,
      crypto: [],
      protocol: 'RTP/AVP',
    });
  });

  it('a Chrome offer: SAVPF with DTLS and ICE, rtcp-mux, a=rtcp with an address, the video line after the audio', () => {
    const offer = crlf(
      'v=0',
      'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      'a=group:BUNDLE 0 1',
      'a=msid-semantic: WMS',
      'm=audio 54321 UDP/TLS/RTP/SAVPF 111 0 8 126',
      'c=IN IP4 198.51.100.7',
      'a=rtcp:9 IN IP4 0.0.0.0',
      'a=candidate:842163049 1 udp 1677729535 198.51.100.7 54321 typ srflx raddr 10.0.0.2 rport 54321 generation 0',
      'a=ice-ufrag:EsAw',
      'a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1',
      'a=ice-options:trickle',
      'a=fingerprint:sha-256 49:66:12:17:0D:1C:91:AE:57:4C:C6:36:DD:D5:97:D2:7D:62:C9:9A:7F:B9:A3:F4:70:03:E7:43:91:73:23:5A',
      'a=setup:actpass',
      'a=mid:0',
      'a=sendrecv',
      'a=rtcp-mux',
      'a=rtpmap:111 opus/48000/2',
      'a=rtcp-fb:111 transport-cc',
      'a=fmtp:111 minptime=10;useinbandfec=1',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:126 telephone-event/8000',
      'm=video 54322 UDP/TLS/RTP/SAVPF 96 97',
      'c=IN IP4 198.51.100.7',
      'a=rtpmap:96 VP8/90000',
      'a=rtpmap:97 rtx/90000',
      'a=fmtp:97 apt=96',
    );
    expect(parsed(offer)).toEqual({
      sessionId: '4611731400430051336',
      version: 2,
      audio: {
        index: 0,
        address: '198.51.100.7',
        port: 54321,
        rtcpPort: 9,
        rtcpMux: true,
        direction: 'sendrecv',
        held: false,
        formats: [
          { payloadType: 111, encoding: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' },
          pcmu,
          { payloadType: 8, encoding: 'PCMA', clockRate: 8000, channels: 1, fmtp: '' },
          { payloadType: 126, encoding: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '' },
        ],
        ptimeMs: undefined,
        secure: true,
        crypto: [],
        protocol: 'UDP/TLS/RTP/SAVPF',
        fingerprint: { algorithm: 'sha-256', value: '49:66:12:17:0D:1C:91:AE:57:4C:C6:36:DD:D5:97:D2:7D:62:C9:9A:7F:B9:A3:F4:70:03:E7:43:91:73:23:5A' },
        setup: 'actpass',
        ice: {
          ufrag: 'EsAw',
          pwd: 'P2uYro0UCOQ4zxjKXaWCBui1',
          lite: false,
          candidates: [{ foundation: '842163049', component: 1, transport: 'udp', priority: 1677729535, address: '198.51.100.7', port: 54321, type: 'srflx', relatedAddress: '10.0.0.2', relatedPort: 54321 }],
        },
      },
      media: [
        { type: 'audio', port: 54321, protocol: 'UDP/TLS/RTP/SAVPF', formats: '111 0 8 126' },
        { type: 'video', port: 54322, protocol: 'UDP/TLS/RTP/SAVPF', formats: '96 97' },
      ],
    });
  });

  it('several m= lines: the first audio line with a port is used, its own c= before the session one; every line is listed', () => {
    const offer = crlf(
      'v=0',
      'o=bob 2890844526 2890844527 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      'm=video 5000 RTP/AVP 31',
      'm=audio 0 RTP/AVP 0',
      'm=audio 6000 RTP/AVP 8',
      'c=IN IP4 192.0.2.99',
      'm=image 0 udptl t38',
      'm=audio 7000 RTP/AVP 0',
    );
    const sdp = parsed(offer);
    expect(sdp.audio).toMatchObject({ index: 2, address: '192.0.2.99', port: 6000, formats: [{ payloadType: 8, encoding: 'PCMA', clockRate: 8000, channels: 1, fmtp: '' }] });
    expect(sdp.media).toEqual([
      { type: 'video', port: 5000, protocol: 'RTP/AVP', formats: '31' },
      { type: 'audio', port: 0, protocol: 'RTP/AVP', formats: '0' },
      { type: 'audio', port: 6000, protocol: 'RTP/AVP', formats: '8' },
      { type: 'image', port: 0, protocol: 'udptl', formats: 't38' },
      { type: 'audio', port: 7000, protocol: 'RTP/AVP', formats: '0' },
    ]);
  });

  it('the first audio line when every audio line is rejected with port 0', () => {
    const sdp = parsed(session('m=video 5000 RTP/AVP 31', 'm=audio 0 RTP/AVP 8', 'm=audio 0 RTP/AVP 0'));
    expect(sdp.audio).toMatchObject({ index: 1, port: 0, rtcpPort: 1, formats: [{ payloadType: 8, encoding: 'PCMA' }] });
  });

  it('no audio stream in an offer with video only: audio undefined, the lines listed', () => {
    const sdp = parsed(session('m=video 5000 RTP/AVP 31', 'm=application 5002 UDP/DTLS/SCTP webrtc-datachannel'));
    expect(sdp).toEqual({
      sessionId: '1',
      version: 2,
      audio: undefined,
      media: [
        { type: 'video', port: 5000, protocol: 'RTP/AVP', formats: '31' },
        { type: 'application', port: 5002, protocol: 'UDP/DTLS/SCTP', formats: 'webrtc-datachannel' },
      ],
    });
  });

  it.each([
    ['a=sendrecv', '192.0.2.1', 'sendrecv', false],
    ['a=sendonly', '192.0.2.1', 'sendonly', true],
    ['a=recvonly', '192.0.2.1', 'recvonly', false],
    ['a=inactive', '192.0.2.1', 'inactive', true],
    ['a=sendrecv', '0.0.0.0', 'sendonly', true],
    ['a=recvonly', '0.0.0.0', 'recvonly', true],
    ['a=inactive', '0.0.0.0', 'inactive', true],
  ] as const)('%s with c=IN IP4 %s is direction %s, held %s', (line, address, direction, held) => {
    const sdp = parsed(session('m=audio 4000 RTP/AVP 0', `c=IN IP4 ${address}`, line));
    expect(sdp.audio).toMatchObject({ address, direction, held });
  });

  it('a session-level direction applies to the audio line; a media-level one wins over it', () => {
    const atSession = crlf('v=0', 'o=- 1 2 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'a=sendonly', 'm=audio 4000 RTP/AVP 0');
    expect(parsed(atSession).audio).toMatchObject({ direction: 'sendonly', held: true });
    expect(parsed(atSession.replace('m=audio 4000 RTP/AVP 0', 'm=audio 4000 RTP/AVP 0\r\na=recvonly')).audio).toMatchObject({ direction: 'recvonly', held: false });
    expect(parsed(session('m=audio 4000 RTP/AVP 0')).audio).toMatchObject({ direction: 'sendrecv', held: false });
  });

  const cryptoLine = '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32';
  it.each([
    ['RTP/AVP', [], false],
    ['RTP/AVP', [`a=crypto:${cryptoLine}`], false],
    ['RTP/SAVP', [`a=crypto:${cryptoLine}`], true],
    ['RTP/SAVP', [], true],
    ['RTP/SAVPF', [], true],
    ['UDP/TLS/RTP/SAVP', [], true],
    ['RTP/AVPF', [], false],
  ] as const)('%s with %j requires SRTP: %s, and lists its a=crypto lines', (protocol, lines, secure) => {
    expect(parsed(session(`m=audio 4000 ${protocol} 0`, ...lines)).audio).toMatchObject({ protocol, secure, crypto: lines.map((line) => line.slice('a=crypto:'.length)) });
  });

  it("keeps each a=crypto line whole, session parameters included, and only the audio line's", () => {
    const text = crlf(
      'v=0',
      'o=- 1 2 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      'm=video 0 RTP/SAVP 96',
      'a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR',
      'm=audio 4000 RTP/SAVP 0',
      'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR KDR=0 UNENCRYPTED_SRTCP',
      'a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR',
    );
    expect(parseSdp(text).audio?.crypto).toEqual([
      '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR KDR=0 UNENCRYPTED_SRTCP',
      '2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR',
    ]);
  });

  it.each([
    ['224.2.1.1/127', '224.2.1.1'],
    ['pbx.example.com', 'pbx.example.com'],
    ['PBX-1.Example.COM', 'PBX-1.Example.COM'],
    ['2001:db8::1', '2001:db8::1'],
  ])('reads the connection address %s as %s', (address, bare) => {
    expect(parsed(session('m=audio 4000 RTP/AVP 0', `c=IN IP4 ${address}`)).audio?.address).toBe(bare);
  });

  it.each([
    ['0', 0],
    ['65535', 65535],
  ])('accepts the audio port %s', (port, value) => {
    expect(parsed(session(`m=audio ${port} RTP/AVP 0`)).audio?.port).toBe(value);
  });

  it('takes payload types 0 to 127, with any spacing; a line without formats has none', () => {
    expect(parsed(session('m=audio 4000 RTP/AVP  0   127 ', 'a=rtpmap:127 L16/8000')).audio?.formats).toEqual([pcmu, { payloadType: 127, encoding: 'L16', clockRate: 8000, channels: 1, fmtp: '' }]);
    const bare = parsed(session('m=audio 4000 RTP/AVP'));
    expect(bare.audio?.formats).toEqual([]);
    expect(bare.media).toEqual([{ type: 'audio', port: 4000, protocol: 'RTP/AVP', formats: '' }]);
  });

  it('tolerates spaces after v=0 and LF-only line ends', () => {
    const text = session('m=audio 4000 RTP/AVP 0');
    expect(parsed(text.replace('v=0', 'v=0  '))).toEqual(parsed(text));
    expect(parsed(text.replace(/\r\n/g, '\n'))).toEqual(parsed(text));
    expect(parsed(text.replace(/\r\n$/, ''))).toEqual(parsed(text));
  });
});

describe('parseSdp refuses what cannot be used with an SdpError', () => {
  const body = session('m=audio 4000 RTP/AVP 0');
  it.each([
    ['an empty body', '', 'not an SDP body: no v=0 line'],
    ['text', 'hello world', 'not an SDP body: no v=0 line'],
    ['a Buffer, not decoded', Buffer.from(body), 'not an SDP body: no v=0 line'],
    ['undefined', undefined, 'not an SDP body: no v=0 line'],
    ['v=1', body.replace('v=0', 'v=1'), 'not an SDP body: no v=0 line'],
    ['v=01', body.replace('v=0', 'v=01'), 'not an SDP body: no v=0 line'],
    ['v=0x', body.replace('v=0', 'v=0x'), 'not an SDP body: no v=0 line'],
    ['xv=0', body.replace('v=0', 'xv=0'), 'not an SDP body: no v=0 line'],
    ['no o=', body.replace('o=- 1 2 IN IP4 192.0.2.1\r\n', ''), 'SDP has no o= line'],
    ['an o= line without its fields', body.replace('o=- 1 2 IN IP4 192.0.2.1', 'o=alice'), 'SDP has no o= line'],
    ['no m=', crlf('v=0', 'o=- 1 2 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0'), 'SDP has no m= line'],
    ['a port that is not a number', session('m=audio x RTP/AVP 0'), 'm= line 0 is not "<media> <port> <proto> <fmt> ..."'],
    ['a negative port', session('m=audio -1 RTP/AVP 0'), 'm= line 0 is not "<media> <port> <proto> <fmt> ..."'],
    ['a port count', session('m=audio 4000/2 RTP/AVP 0'), 'm= line 0 is not "<media> <port> <proto> <fmt> ..."'],
    ['no media type', session('m= 4000 RTP/AVP 0'), 'm= line 0 is not "<media> <port> <proto> <fmt> ..."'],
    ['no protocol', session('m=audio 4000  0'), 'm= line 0 is not "<media> <port> <proto> <fmt> ..."'],
    ['a second line that does not read', session('m=audio 4000 RTP/AVP 0', 'm=x-game 5000 RTP/AVP 0'), 'm= line 1 is not "<media> <port> <proto> <fmt> ..."'],
    ['no c=', crlf('v=0', 'o=- 1 2 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm=audio 4000 RTP/AVP 0'), 'audio m= line 0 has no c= address'],
    ['no c= for the audio line used', crlf('v=0', 'o=- 1 2 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm=video 5000 RTP/AVP 31', 'c=IN IP4 192.0.2.1', 'm=audio 4000 RTP/AVP 0'), 'audio m= line 1 has no c= address'],
    ['an empty port', session('m=audio  RTP/AVP 0'), 'audio port "" is not valid'],
    ['port 65536', session('m=audio 65536 RTP/AVP 0'), 'audio port "65536" is not valid'],
    ['port 99999', session('m=audio 99999 RTP/AVP 0'), 'audio port "99999" is not valid'],
    ['payload type 128', session('m=audio 4000 RTP/AVP 0 128'), 'audio formats "0 128" are not payload types'],
    ['names for formats', session('m=audio 4000 RTP/AVP x y'), 'audio formats "x y" are not payload types'],
    ['a hexadecimal format', session('m=audio 4000 RTP/AVP 8 0x0'), 'audio formats "8 0x0" are not payload types'],
    ['an exponent', session('m=audio 4000 RTP/AVP 1e1'), 'audio formats "1e1" are not payload types'],
    ['a signed format', session('m=audio 4000 RTP/AVP +8'), 'audio formats "+8" are not payload types'],
    ['a decimal format', session('m=audio 4000 RTP/AVP 8.0'), 'audio formats "8.0" are not payload types'],
  ])('%s', (_name, text, message) => {
    let error: unknown;
    try {
      parseSdp(text as string);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(SdpError);
    expect(error).toBeInstanceOf(SipEndpointError);
    expect(error).toMatchObject({ name: 'SdpError', code: 'ERR_MEDIA_SDP_INVALID', message });
  });

  it.each([['1.2.3.4;x'], ['pbx_1'], ['_pbx'], ['pbx_'], ['[2001:db8::1]'], ['']])('the connection address %j', (address) => {
    const text = session('m=audio 4000 RTP/AVP 0', `c=IN IP4 ${address}`);
    expect(() => parseSdp(text)).toThrow(SdpError);
    expect(() => parseSdp(text)).toThrow(`"${address}" is not a connection address`);
  });

  it('an error of the SDP parser itself, with it as the cause', () => {
    const failure = new RangeError('Maximum call stack size exceeded');
    jest.isolateModules(() => {
      jest.doMock('sdp-transform', () => ({ ...jest.requireActual<object>('sdp-transform'), parse: () => { throw failure; } }));
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const isolated = require('../../src/sdp/session-description') as typeof SessionDescription;
      let error: unknown;
      try {
        isolated.parseSdp(body);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toMatchObject({ name: 'SdpError', code: 'ERR_MEDIA_SDP_INVALID', message: 'SDP does not parse: Maximum call stack size exceeded', cause: failure });
    });
    jest.dontMock('sdp-transform');
  });
});

describe('SdpError', () => {
  it('is a SipEndpointError with the code ERR_MEDIA_SDP_INVALID, its message and its cause', () => {
    const cause = new Error('inner');
    const error = new SdpError('bad body', { cause });
    expect(error).toBeInstanceOf(SipEndpointError);
    expect(error).toMatchObject({ name: 'SdpError', code: 'ERR_MEDIA_SDP_INVALID', message: 'bad body', cause });
  });
});

describe('answerDirection', () => {
  const all: MediaDirection[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];
  // RFC 3264 6.1: we send only if we want to and they receive; we receive only if we want to and they send.
  const expected: Record<MediaDirection, Record<MediaDirection, MediaDirection>> = {
    sendrecv: { sendrecv: 'sendrecv', sendonly: 'sendonly', recvonly: 'recvonly', inactive: 'inactive' },
    sendonly: { sendrecv: 'recvonly', sendonly: 'inactive', recvonly: 'recvonly', inactive: 'inactive' },
    recvonly: { sendrecv: 'sendonly', sendonly: 'sendonly', recvonly: 'inactive', inactive: 'inactive' },
    inactive: { sendrecv: 'inactive', sendonly: 'inactive', recvonly: 'inactive', inactive: 'inactive' },
  };
  it.each(all.flatMap((offered) => all.map((wanted) => [offered, wanted, expected[offered][wanted]] as const)))('offered %s, wanted %s: %s', (offered, wanted, answer) => {
    expect(answerDirection(offered, wanted)).toBe(answer);
  });

  it.each(all)('wants sendrecv by default (offered %s)', (offered) => {
    expect(answerDirection(offered)).toBe(expected[offered].sendrecv);
  });
});

describe('writeAudioSdp', () => {
  const opus = { payloadType: 111, encoding: 'opus', clockRate: 48000, channels: 2, fmtp: 'useinbandfec=1' };
  const events = { payloadType: 101, encoding: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-16' };
  const fields = (more: Partial<AudioSdpFields> = {}): AudioSdpFields => ({ origin: new SdpOrigin('42', 3), address: '192.0.2.5', port: 9000, formats: [opus, pcmu, events], direction: 'sendrecv', ...more });

  it('writes an offer in RFC 8866 order with CRLF line ends: rtpmap for each format (channels above 1 only), fmtp where set, ptime, direction, rtcp-mux', () => {
    expect(writeAudioSdp(fields({ username: 'alice', newVersion: true, ptimeMs: 20, rtcpMux: true }))).toBe(
      crlf(
        'v=0',
        'o=alice 42 4 IN IP4 192.0.2.5',
        's=-',
        'c=IN IP4 192.0.2.5',
        't=0 0',
        'm=audio 9000 RTP/AVP 111 0 101',
        'a=rtpmap:111 opus/48000/2',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:111 useinbandfec=1',
        'a=fmtp:101 0-16',
        'a=ptime:20',
        'a=sendrecv',
        'a=rtcp-mux',
      ),
    );
  });

  it('keeps the o= version without newVersion, user - by default, no ptime or rtcp-mux unless asked, IP6 for an IPv6 address', () => {
    const origin = new SdpOrigin('42', 3);
    expect(writeAudioSdp(fields({ origin, address: '2001:db8::5', formats: [pcmu], direction: 'recvonly' }))).toBe(
      crlf('v=0', 'o=- 42 3 IN IP6 2001:db8::5', 's=-', 'c=IN IP6 2001:db8::5', 't=0 0', 'm=audio 9000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=recvonly'),
    );
    expect(origin.version).toBe(3);
    expect(writeAudioSdp(fields({ origin, formats: [pcmu], rtcpMux: false, newVersion: true }))).toContain('o=- 42 4 IN IP4 192.0.2.5\r\n');
    expect(origin.version).toBe(4);
  });

  it('rejects the audio with port 0: no ptime or rtcp-mux; the other offered lines in their places with port 0, format 0 where they had none', () => {
    const text = writeAudioSdp(
      fields({
        port: 0,
        formats: [],
        direction: 'inactive',
        ptimeMs: 20,
        rtcpMux: true,
        audioIndex: 2,
        rejected: [
          { index: 3, type: 'application', protocol: 'UDP/DTLS/SCTP', formats: 'webrtc-datachannel' },
          { index: 0, type: 'video', protocol: 'RTP/AVP', formats: '' },
          { index: 1, type: 'image', protocol: 'udptl', formats: 't38' },
        ],
      }),
    );
    expect(text).toBe(
      crlf(
        'v=0',
        'o=- 42 3 IN IP4 192.0.2.5',
        's=-',
        'c=IN IP4 192.0.2.5',
        't=0 0',
        'm=video 0 RTP/AVP 0',
        'm=image 0 udptl t38',
        'm=audio 0 RTP/AVP 0',
        'a=inactive',
        'm=application 0 UDP/DTLS/SCTP webrtc-datachannel',
      ),
    );
  });

  it('puts the audio line first by default, before the rejected ones', () => {
    const text = writeAudioSdp(fields({ formats: [pcmu], rejected: [{ index: 1, type: 'video', protocol: 'RTP/AVP', formats: '31' }] }));
    expect(text.split('\r\n').filter((line) => line.startsWith('m='))).toEqual(['m=audio 9000 RTP/AVP 0', 'm=video 0 RTP/AVP 31']);
  });

  it('reads back as it was written', () => {
    const sdp = parseSdp(writeAudioSdp(fields({ ptimeMs: 30, rtcpMux: true, direction: 'sendonly' })));
    expect(sdp.audio).toEqual({ index: 0, address: '192.0.2.5', port: 9000, rtcpPort: 9001, rtcpMux: true, direction: 'sendonly', held: true, formats: [opus, pcmu, events], ptimeMs: 30, secure: false, crypto: [], protocol: 'RTP/AVP' });
  });
});

describe('SdpOrigin', () => {
  it('keeps its session id and counts versions from the one given', () => {
    const origin = new SdpOrigin('7', 5);
    expect([origin.sessionId, origin.version, origin.next(), origin.next(), origin.version]).toEqual(['7', 5, 6, 7, 7]);
    expect(new SdpOrigin('8').version).toBe(0);
  });
});
