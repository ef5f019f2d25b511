import fc from 'fast-check';
import { write, type SessionDescription as RawSdp } from 'sdp-transform';
import { formatCandidate, parseSdp, SdpOrigin, writeAudioSdp, type AudioSdpFields, type IceCandidate } from '@sip-endpoint/media';

// writeAudioSdp writes its text directly (sdp-transform's writer, with its format strings and
// regular expressions, was a tenth of an answer's handling). The oracle: the description built
// the way writeAudioSdp built it before, written by sdp-transform. Both must give the same text
// for any fields, and what we write must parse.

/** writeAudioSdp as it was: a description for sdp-transform's writer. */
function reference(fields: AudioSdpFields, version: number): string {
  const family = fields.address.includes(':') ? 6 : 4;
  const audio: RawSdp['media'][number] = {
    type: 'audio',
    port: fields.port,
    protocol: fields.protocol ?? 'RTP/AVP',
    payloads: fields.formats.map((f) => f.payloadType).join(' ') || '0',
    rtp: fields.formats.map((f) => ({ payload: f.payloadType, codec: f.encoding, rate: f.clockRate, ...(f.channels > 1 ? { encoding: f.channels } : {}) })),
    fmtp: fields.formats.filter((f) => f.fmtp !== '').map((f) => ({ payload: f.payloadType, config: f.fmtp })),
    direction: fields.direction,
  };
  if (fields.port !== 0 && fields.ptimeMs !== undefined) audio.ptime = fields.ptimeMs;
  if (fields.rtcpMux && fields.port !== 0) audio.rtcpMux = 'rtcp-mux';
  const written: { value: string }[] = [];
  if (fields.crypto && fields.port !== 0) written.push(...fields.crypto.map((value) => ({ value: `crypto:${value}` })));
  if (fields.ice && fields.port !== 0) {
    audio.iceUfrag = fields.ice.ufrag;
    audio.icePwd = fields.ice.pwd;
    written.push(...fields.ice.candidates.map((candidate) => ({ value: `candidate:${formatCandidate(candidate)}` })));
  }
  if (written.length > 0) audio.invalid = written;
  if (fields.fingerprint && fields.port !== 0) audio.fingerprint = { type: fields.fingerprint.algorithm, hash: fields.fingerprint.value };
  if (fields.setup && fields.port !== 0) audio.setup = fields.setup;
  const media: RawSdp['media'] = [];
  const rejected = [...(fields.rejected ?? [])].sort((a, b) => a.index - b.index);
  const audioIndex = fields.audioIndex ?? 0;
  for (let i = 0, r = 0; i < rejected.length + 1; i++) {
    if (i === audioIndex) media.push(audio);
    else {
      const other = rejected[r++]!;
      media.push({ type: other.type, port: 0, protocol: other.protocol, payloads: other.formats || '0', rtp: [], fmtp: [] });
    }
  }
  return write({
    version: 0,
    origin: { username: fields.username ?? '-', sessionId: fields.origin.sessionId, sessionVersion: version, netType: 'IN', ipVer: family, address: fields.address },
    name: '-',
    connection: { version: family, ip: fields.address },
    timing: { start: 0, stop: 0 },
    media,
  });
}

const token = fc.stringMatching(/^[A-Za-z0-9+/=-]{1,24}$/);
const format = fc.record({
  payloadType: fc.integer({ min: 0, max: 127 }),
  encoding: fc.constantFrom('PCMU', 'PCMA', 'G722', 'opus', 'telephone-event', 'iLBC', 'CN'),
  clockRate: fc.constantFrom(8000, 16000, 48000),
  channels: fc.constantFrom(1, 1, 2),
  fmtp: fc.constantFrom('', '0-16', 'minptime=10;useinbandfec=1', 'mode=30'),
});
const candidate: fc.Arbitrary<IceCandidate> = fc.record({
  foundation: fc.stringMatching(/^[a-z0-9]{1,8}$/),
  component: fc.constantFrom(1, 2),
  transport: fc.constant('udp'),
  priority: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  address: fc.constantFrom('127.0.0.1', '192.0.2.7', '2001:db8::1'),
  port: fc.integer({ min: 1, max: 65535 }),
  type: fc.constantFrom('host', 'srflx', 'relay'),
}) as fc.Arbitrary<IceCandidate>;
const fieldsArbitrary = fc.record(
  {
    sessionId: fc.stringMatching(/^[0-9]{1,13}$/),
    version: fc.integer({ min: 0, max: 1000 }),
    username: token,
    address: fc.constantFrom('127.0.0.1', '203.0.113.9', '::1', '2001:db8::5'),
    port: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 65535 })),
    formats: fc.array(format, { maxLength: 5 }),
    direction: fc.constantFrom('sendrecv', 'sendonly', 'recvonly', 'inactive') as fc.Arbitrary<AudioSdpFields['direction']>,
    ptimeMs: fc.constantFrom(10, 20, 30, 60),
    rejected: fc.array(fc.record({ type: fc.constantFrom('video', 'application', 'text'), protocol: fc.constantFrom('RTP/AVP', 'RTP/SAVPF', 'UDP/DTLS/SCTP'), formats: fc.constantFrom('', '96 97', 'webrtc-datachannel') }), { maxLength: 3 }),
    audioIndex: fc.nat(3),
    rtcpMux: fc.boolean(),
    newVersion: fc.boolean(),
    protocol: fc.constantFrom('RTP/AVP', 'RTP/SAVP', 'UDP/TLS/RTP/SAVPF'),
    crypto: fc.array(fc.constantFrom('1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4', '2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj'), { maxLength: 2 }),
    fingerprint: fc.record({ algorithm: fc.constantFrom('sha-256', 'sha-1'), value: fc.constantFrom('AB:CD:EF:01', '00') }),
    setup: fc.constantFrom('actpass', 'active', 'passive') as fc.Arbitrary<NonNullable<AudioSdpFields['setup']>>,
    ice: fc.record({ ufrag: fc.stringMatching(/^[a-zA-Z0-9]{4,8}$/), pwd: fc.stringMatching(/^[a-zA-Z0-9]{22,24}$/), candidates: fc.array(candidate, { maxLength: 3 }) }),
  },
  { requiredKeys: ['sessionId', 'version', 'address', 'port', 'formats', 'direction'] },
);

describe('writeAudioSdp', () => {
  it('writes the text sdp-transform writes of the same description, for generated fields', () => {
    fc.assert(
      fc.property(fieldsArbitrary, (generated) => {
        const { sessionId, version, audioIndex, rejected, ...rest } = generated;
        // The audio line among the others: at most one past the rejected ones.
        const fields: AudioSdpFields = { ...rest, ...(rejected ? { rejected: rejected.map((r, index) => ({ ...r, index })) } : {}), ...(audioIndex !== undefined ? { audioIndex: Math.min(audioIndex, rejected?.length ?? 0) } : {}), origin: new SdpOrigin(sessionId, version) };
        const ours = writeAudioSdp(fields);
        const theirs = reference({ ...fields, origin: new SdpOrigin(sessionId, version) }, fields.newVersion ? version + 1 : version);
        expect(ours).toBe(theirs);
      }),
      { numRuns: 3000 },
    );
  });

  it('writes what parseSdp reads back', () => {
    const text = writeAudioSdp({
      origin: new SdpOrigin('42', 3),
      address: '192.0.2.1',
      port: 40000,
      formats: [
        { payloadType: 0, encoding: 'PCMU', clockRate: 8000, channels: 1, fmtp: '' },
        { payloadType: 111, encoding: 'opus', clockRate: 48000, channels: 2, fmtp: 'useinbandfec=1' },
        { payloadType: 101, encoding: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-16' },
      ],
      direction: 'sendonly',
      ptimeMs: 20,
      rtcpMux: true,
      rejected: [{ index: 1, type: 'video', protocol: 'RTP/AVP', formats: '96' }],
    });
    expect(text).toBe(
      ['v=0', 'o=- 42 3 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 40000 RTP/AVP 0 111 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:111 useinbandfec=1', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendonly', 'a=rtcp-mux', 'm=video 0 RTP/AVP 96', ''].join('\r\n'),
    );
    const parsed = parseSdp(text);
    expect(parsed.audio?.port).toBe(40000);
    expect(parsed.audio?.direction).toBe('sendonly');
  });
});
