import { buildRtcp, createRtpHeader, isRtcp, ntpMiddle, ntpNow, parseRtcp, parseRtpHeader, ReceptionStats, roundTripMs, writeRtpHeader, type ReportBlock, type RtpHeader } from '@sip-endpoint/media';

/** A part of a packet: an octet, octets, or a text's UTF-8 octets. */
type Part = number | readonly number[] | string;

/** The octets of a packet, written part after part. */
function octets(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === 'number') out.push(part);
    else if (typeof part === 'string') out.push(...new TextEncoder().encode(part));
    else out.push(...part);
  }
  return Uint8Array.from(out);
}

/** A 16-bit field, network order. */
const u16 = (value: number): number[] => [(value >>> 8) & 0xff, value & 0xff];
/** A 32-bit field, network order. */
const u32 = (value: number): number[] => [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
/** `count` zero octets. */
const zeros = (count: number): number[] => new Array<number>(count).fill(0);

/**
 * A datagram in a receive buffer that held a longer one before: the octets past `length` are an
 * older packet's (0xff), and every index the parser reads is recorded.
 */
function inReusedBuffer(packet: Uint8Array, length = packet.length): { data: Uint8Array; reads: number[] } {
  const buffer = new Uint8Array(Math.max(packet.length, length) + 64).fill(0xff);
  buffer.set(packet);
  const reads: number[] = [];
  const data = new Proxy(buffer, {
    get(target, key) {
      if (typeof key === 'string' && /^-?\d+$/.test(key)) reads.push(Number(key));
      return Reflect.get(target, key) as unknown;
    },
  });
  return { data, reads };
}

describe('writeRtpHeader', () => {
  it.each([
    { marker: true, payloadType: 8, sequence: 0xfffe, timestamp: 0xdeadbeef, ssrc: 0x12345678, bytes: [0x80, 0x88, 0xff, 0xfe, 0xde, 0xad, 0xbe, 0xef, 0x12, 0x34, 0x56, 0x78] },
    { marker: false, payloadType: 127, sequence: 0x0102, timestamp: 0x01020304, ssrc: 0xfedcba98, bytes: [0x80, 0x7f, 0x01, 0x02, 0x01, 0x02, 0x03, 0x04, 0xfe, 0xdc, 0xba, 0x98] },
    { marker: false, payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0, bytes: [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
    // Seven bits of payload type, sixteen of sequence number: the rest does not spill over.
    { marker: false, payloadType: 0x80 | 96, sequence: 0x1abcd, timestamp: 0xffffffff, ssrc: 0x80000001, bytes: [0x80, 96, 0xab, 0xcd, 0xff, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x01] },
  ])('writes V=2, no padding, extension or CSRC, then M $marker, PT $payloadType, sequence, timestamp and SSRC', ({ marker, payloadType, sequence, timestamp, ssrc, bytes }) => {
    const packet = new Uint8Array(16).fill(0xaa);
    writeRtpHeader(packet, marker, payloadType, sequence, timestamp, ssrc);
    expect(Array.from(packet)).toEqual([...bytes, 0xaa, 0xaa, 0xaa, 0xaa]);
  });
});

describe('createRtpHeader', () => {
  it('gives a new header of zeros and no marker each time', () => {
    const header = createRtpHeader();
    expect(header).toEqual({ marker: false, payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0, payloadOffset: 0, payloadLength: 0 });
    expect(createRtpHeader()).not.toBe(header);
  });
});

describe('parseRtpHeader on real packets', () => {
  const fixed = (first: number, second: number): Part[] => [first, second, ...u16(0xabcd), ...u32(0x00010203), ...u32(0xcafebabe)];
  const cases: { name: string; packet: Uint8Array; header: Omit<RtpHeader, 'sequence' | 'timestamp' | 'ssrc'> }[] = [
    { name: 'a header and nothing else', packet: octets(...fixed(0x80, 0)), header: { marker: false, payloadType: 0, payloadOffset: 12, payloadLength: 0 } },
    { name: 'a marker and 3 octets of payload', packet: octets(...fixed(0x80, 0x80 | 111), 1, 2, 3), header: { marker: true, payloadType: 111, payloadOffset: 12, payloadLength: 3 } },
    { name: 'fifteen CSRCs', packet: octets(...fixed(0x8f, 9), ...zeros(60), 7), header: { marker: false, payloadType: 9, payloadOffset: 72, payloadLength: 1 } },
    {
      // RFC 8285 one-byte header extension (0xBEDE, one word), two CSRCs, 5 octets of payload, 3 of padding.
      name: 'CSRCs, a header extension and padding',
      packet: octets(...fixed(0xb2, 0xe0), ...u32(0x11223344), ...u32(0x55667788), 0xbe, 0xde, ...u16(1), 0x10, 0xaa, 0, 0, 1, 2, 3, 4, 5, 0, 0, 3),
      header: { marker: true, payloadType: 96, payloadOffset: 28, payloadLength: 5 },
    },
    { name: 'an empty header extension ending the packet', packet: octets(...fixed(0x90, 0), 0x10, 0x00, ...u16(0)), header: { marker: false, payloadType: 0, payloadOffset: 16, payloadLength: 0 } },
    { name: 'an extension of two words and one octet of padding', packet: octets(...fixed(0xb0, 0), 0x10, 0x00, ...u16(2), ...zeros(8), 9, 1), header: { marker: false, payloadType: 0, payloadOffset: 24, payloadLength: 1 } },
    { name: 'padding only (all of the payload)', packet: octets(...fixed(0xa0, 0), 0, 0, 0, 4), header: { marker: false, payloadType: 0, payloadOffset: 12, payloadLength: 0 } },
    { name: 'one octet of padding', packet: octets(...fixed(0xa0, 8), 0xd5, 1), header: { marker: false, payloadType: 8, payloadOffset: 12, payloadLength: 1 } },
  ];

  it.each(cases)('reads $name', ({ packet, header }) => {
    // Into a header that held another packet: every field is written.
    const out: RtpHeader = { marker: !header.marker, payloadType: 1, sequence: 2, timestamp: 3, ssrc: 4, payloadOffset: 5, payloadLength: 6 };
    expect(parseRtpHeader(packet, packet.length, out)).toBe(true);
    expect(out).toEqual({ ...header, sequence: 0xabcd, timestamp: 0x00010203, ssrc: 0xcafebabe });
  });

  it.each(cases)('reads $name from a reused receive buffer, reading nothing past the datagram', ({ packet, header }) => {
    const { data, reads } = inReusedBuffer(packet);
    const out = createRtpHeader();
    expect(parseRtpHeader(data, packet.length, out)).toBe(true);
    expect(out).toEqual({ ...header, sequence: 0xabcd, timestamp: 0x00010203, ssrc: 0xcafebabe });
    expect(reads.filter((index) => index < 0 || index >= packet.length)).toEqual([]);
  });
});

describe('parseRtpHeader on malformed datagrams', () => {
  const header = (first: number): number[] => [first, 0, ...u16(1), ...u32(2), ...u32(0x12345678)];
  const padded = octets(...header(0xa0), 1, 2, 3, 4);
  const cases: [string, Uint8Array, number][] = [
    // The first octets of a valid padded packet, as a short datagram in a reused buffer leaves them.
    ...Array.from({ length: 12 }, (_, length): [string, Uint8Array, number] => [`${length} octets long`, padded, length]),
    ['version 0', octets(0x00, ...header(0x80).slice(1)), 12],
    ['version 1', octets(0x40, ...header(0x80).slice(1)), 12],
    ['version 3', octets(0xc0, ...header(0x80).slice(1)), 12],
    ['CSRCs past the end', octets(...header(0x81)), 12],
    ['CSRCs past the end by one octet', octets(...header(0x82), ...zeros(7)), 19],
    ['padding with a count of 0', octets(...header(0xa0), 1, 2, 3, 0), 16],
    ['padding longer than the payload', octets(...header(0xa0), 1, 2, 3, 5), 16],
    ['padding of 255 octets', octets(...header(0xa0), 1, 2, 3, 255), 16],
    ['padding reaching into the CSRCs', octets(...header(0xa1), ...u32(7), 1, 3), 18],
    ['an extension bit and no extension header', octets(...header(0x90)), 12],
    ['an extension header cut after two octets', octets(...header(0x90), 0xbe, 0xde), 14],
    ['an extension header cut after three octets', octets(...header(0x90), 0xbe, 0xde, 0), 15],
    ['an extension longer than the packet', octets(...header(0x90), 0xbe, 0xde, ...u16(1), 0, 0, 0), 19],
    ['an extension and padding longer than what is left', octets(...header(0xb0), 0xbe, 0xde, ...u16(1), 0, 0, 0, 0, 0, 0, 0, 5), 24],
  ];

  it.each(cases)('refuses a datagram with %s', (_name, packet, length) => {
    expect(parseRtpHeader(packet, length, createRtpHeader())).toBe(false);
  });

  it.each(cases)('refuses a datagram with %s in a reused buffer, reading nothing past it', (_name, packet, length) => {
    const { data, reads } = inReusedBuffer(packet.subarray(0, length), length);
    expect(parseRtpHeader(data, length, createRtpHeader())).toBe(false);
    expect(reads.filter((index) => index < 0 || index >= length)).toEqual([]);
  });
});

describe('isRtcp (RFC 5761 4)', () => {
  it.each([
    [0, false],
    [0x80 | 8, false], // PCMA with the marker
    [191, false], // payload type 63 with the marker
    [192, true],
    [200, true], // SR
    [201, true], // RR
    [202, true], // SDES
    [203, true], // BYE
    [204, true], // APP
    [207, true], // XR
    [223, true],
    [224, false], // payload type 96 with the marker
    [255, false],
  ])('takes second octet %i for RTCP: %s', (second, rtcp) => {
    expect(isRtcp(Uint8Array.from([0x80, second, 0, 1]), 4)).toBe(rtcp);
  });

  it.each([0, 1])('takes a datagram of %i octets for no RTCP, whatever the buffer holds past it', (length) => {
    expect(isRtcp(Uint8Array.from([0x80, 200, 0, 1]), length)).toBe(false);
  });
});

describe('ntpNow and ntpMiddle', () => {
  it.each([
    // NTP counts from 1900: 2208988800 s before the Unix epoch.
    [0, 2208988800, 0],
    [1500, 2208988801, 0x80000000],
    [1_700_000_000_250, 3908988800, 0x40000000],
    [1_700_000_000_999, 3908988800, Math.floor(0.999 * 0x100000000)],
    // NTP era 1 starts on 2036-02-07 at 06:28:16 UTC: the seconds wrap.
    [Date.UTC(2036, 1, 7, 6, 28, 16), 0, 0],
    [Date.UTC(2036, 1, 7, 6, 28, 17, 500), 1, 0x80000000],
  ])('gives the NTP time of %i ms as %i s and fraction %i', (ms, seconds, fraction) => {
    expect(ntpNow(ms)).toEqual({ seconds, fraction });
  });

  it('takes the low 16 bits of the seconds and the high 16 bits of the fraction', () => {
    expect(ntpMiddle(0x12345678, 0x9abcdef0)).toBe(0x56789abc);
    expect(ntpMiddle(0xffffffff, 0xffffffff)).toBe(0xffffffff);
  });
});

/** A report block with these fields, the others zero. */
function block(fields: Partial<ReportBlock>): ReportBlock {
  return { ssrc: 0, fractionLost: 0, cumulativeLost: 0, highestSequence: 0, jitter: 0, lastSr: 0, delaySinceLastSr: 0, ...fields };
}

/** An SDES packet of one chunk: header, SSRC, CNAME item, and the END octet with padding to a word. */
function sdes(ssrc: number, cname: Uint8Array): number[] {
  const chunk = [...u32(ssrc), 1, cname.length, ...cname, 0];
  while (chunk.length % 4 !== 0) chunk.push(0);
  return [0x81, 202, ...u16(chunk.length / 4), ...chunk];
}

describe('buildRtcp', () => {
  it.each(['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'user@host'])('builds an RR and an SDES with CNAME %j ended by a null octet and padded to a word', (cname) => {
    const packet = buildRtcp({ ssrc: 0x01020304, reports: [], cname });
    expect(Array.from(packet)).toEqual([0x80, 201, ...u16(1), ...u32(0x01020304), ...sdes(0x01020304, new TextEncoder().encode(cname))]);
  });

  it('builds an SR with its sender information and two report blocks, an SDES and a BYE with a reason', () => {
    const packet = buildRtcp({
      ssrc: 0xa1b2c3d4,
      sender: { ntpSeconds: 3900000000, ntpFraction: 0x80000001, rtpTimestamp: 0xfffffff0, packetCount: 50, octetCount: 8000 },
      reports: [
        block({ ssrc: 0x22222222, fractionLost: 25, cumulativeLost: -3, highestSequence: 70000, jitter: 37.4, lastSr: 0xabcd1234, delaySinceLastSr: 65536 }),
        block({ ssrc: 0x33333333, fractionLost: 255, cumulativeLost: 0x123456, highestSequence: 0xffffffff, jitter: 2.5, lastSr: 0, delaySinceLastSr: 0 }),
      ],
      cname: 'me@example.org',
      bye: 'bye',
    });
    expect(Array.from(packet)).toEqual([
      // SR: V=2, RC=2, PT=200, length (2 + 5 + 2 * 6) - 1 words.
      0x82, 200, ...u16(18), ...u32(0xa1b2c3d4),
      ...u32(3900000000), ...u32(0x80000001), ...u32(0xfffffff0), ...u32(50), ...u32(8000),
      ...u32(0x22222222), 25, 0xff, 0xff, 0xfd, ...u32(70000), ...u32(37), ...u32(0xabcd1234), ...u32(65536),
      ...u32(0x33333333), 255, 0x12, 0x34, 0x56, ...u32(0xffffffff), ...u32(3), ...u32(0), ...u32(0),
      ...sdes(0xa1b2c3d4, new TextEncoder().encode('me@example.org')),
      // BYE: SC=1, the SSRC, then the reason's length and text.
      0x81, 203, ...u16(2), ...u32(0xa1b2c3d4), 3, ...new TextEncoder().encode('bye'),
    ]);
  });

  it.each([
    ['', []],
    ['x', [1, 0x78, 0, 0]],
    ['abc', [3, 0x61, 0x62, 0x63]],
    ['abcd', [4, 0x61, 0x62, 0x63, 0x64, 0, 0, 0]],
  ])('ends with a BYE of reason %j, padded to a word', (reason, tail) => {
    const packet = buildRtcp({ ssrc: 9, reports: [], cname: 'c', bye: reason });
    const bye = [0x81, 203, ...u16(1 + tail.length / 4), ...u32(9), ...tail];
    expect(Array.from(packet.subarray(packet.length - bye.length))).toEqual(bye);
    expect(packet.length).toBe(8 + 12 + bye.length);
  });

  it('writes the cumulative loss as signed 24 bits, clamped to its range', () => {
    const lost = (cumulativeLost: number): number[] => Array.from(buildRtcp({ ssrc: 1, reports: [block({ cumulativeLost })], cname: '' }).subarray(12, 16));
    expect(lost(0)).toEqual([0, 0, 0, 0]);
    expect(lost(-1)).toEqual([0, 0xff, 0xff, 0xff]);
    expect(lost(0x7fffff)).toEqual([0, 0x7f, 0xff, 0xff]);
    expect(lost(0x1000000)).toEqual([0, 0x7f, 0xff, 0xff]);
    expect(lost(-0x800000)).toEqual([0, 0x80, 0, 0]);
    expect(lost(-0x900000)).toEqual([0, 0x80, 0, 0]);
  });

  it('writes 31 report blocks at most, the count field being five bits', () => {
    const reports = Array.from({ length: 32 }, (_, i) => block({ ssrc: i + 1 }));
    const packet = buildRtcp({ ssrc: 1, reports, cname: '' });
    expect(packet[0]).toBe(0x80 | 31);
    expect(packet.length).toBe((2 + 31 * 6) * 4 + 12);
    expect(parseRtcp(packet)!.reports.map((report) => report.ssrc)).toEqual(reports.slice(0, 31).map((report) => report.ssrc));
  });

  it.each([
    ['300 ASCII characters', 'a'.repeat(300), 'a'.repeat(255)],
    ['255 ASCII characters', 'b'.repeat(255), 'b'.repeat(255)],
    ['200 two-octet characters', 'é'.repeat(200), 'é'.repeat(127)],
    ['100 three-octet characters', '€'.repeat(100), '€'.repeat(85)],
    ['an ASCII character and 100 three-octet ones', 'a' + '€'.repeat(100), 'a' + '€'.repeat(84)],
    ['100 four-octet characters', '𝄞'.repeat(100), '𝄞'.repeat(63)],
  ])('cuts a CNAME or BYE reason of %s to 255 octets at most, before a whole character', (_name, text, sent) => {
    const packet = buildRtcp({ ssrc: 7, reports: [], cname: text, bye: text });
    const octetsSent = new TextEncoder().encode(sent);
    expect(octetsSent.length).toBeLessThanOrEqual(255);
    const reason = [octetsSent.length, ...octetsSent];
    while (reason.length % 4 !== 0) reason.push(0);
    expect(Array.from(packet)).toEqual([0x80, 201, ...u16(1), ...u32(7), ...sdes(7, octetsSent), 0x81, 203, ...u16(1 + reason.length / 4), ...u32(7), ...reason]);
    expect(parseRtcp(packet)).toMatchObject({ cname: sent, bye: true });
  });
});

describe('parseRtcp', () => {
  const rr = (ssrc: number): number[] => [0x80, 201, ...u16(1), ...u32(ssrc)];
  const report = (fields: Partial<{ ssrc: number; cname: string; bye: boolean }>): object => ({ ssrc: 0x0a0b0c0d, sender: undefined, reports: [], cname: undefined, bye: false, voipMetrics: [], ...fields });

  it('reads an SR with three report blocks, an SDES and a BYE', () => {
    const reports = [
      block({ ssrc: 0x22222222, fractionLost: 25, cumulativeLost: -3, highestSequence: 70000, jitter: 37, lastSr: 0xabcd1234, delaySinceLastSr: 65536 }),
      block({ ssrc: 0x33333333, fractionLost: 255, cumulativeLost: -0x800000, highestSequence: 0xffffffff, jitter: 0x80000000, lastSr: 1, delaySinceLastSr: 0xffffffff }),
      block({ ssrc: 0x44444444, fractionLost: 1, cumulativeLost: 0x7fffff, highestSequence: 0x10005, jitter: 0, lastSr: 0, delaySinceLastSr: 0 }),
    ];
    const sender = { ntpSeconds: 3900000000, ntpFraction: 0x80000000, rtpTimestamp: 1234, packetCount: 50, octetCount: 8000 };
    // An SSRC whose last octet is not the CNAME's length.
    const packet = buildRtcp({ ssrc: 0x0a0b0c0d, sender, reports, cname: 'alice@example.com', bye: '' });
    expect(parseRtcp(packet)).toEqual({ ssrc: 0x0a0b0c0d, sender, reports, cname: 'alice@example.com', bye: true, voipMetrics: [] });
  });

  it('reads a datagram of the length given, not the whole buffer', () => {
    const packet = octets(...rr(0x0a0b0c0d), ...sdes(0x0a0b0c0d, octets('cn')));
    const buffer = new Uint8Array(packet.length + 8).fill(0x81);
    buffer.set(packet);
    expect(parseRtcp(buffer, packet.length)).toEqual(report({ cname: 'cn' }));
  });

  it.each([
    ['an RR and a BYE of no source (4 octets, the last)', [...rr(0x0a0b0c0d), 0x80, 203, 0, 0], { bye: true }],
    ['an RR and an APP packet', [...rr(0x0a0b0c0d), 0x80, 204, ...u16(2), ...u32(0x0a0b0c0d), ...octets('name')], {}],
    ['an RR and an SDES that lists no source', [...rr(0x0a0b0c0d), 0x80, 202, ...u16(2), ...u32(0x0a0b0c0d), 1, 2, ...octets('cn')], {}],
    ['an SDES with a NAME before the CNAME', [...rr(0x0a0b0c0d), 0x81, 202, ...u16(4), ...u32(0x0a0b0c0d), 2, 3, ...octets('Bob'), 1, 2, ...octets('cn'), 0, 0, 0], { cname: 'cn' }],
    ['an SDES with two CNAMEs', [...rr(0x0a0b0c0d), 0x81, 202, ...u16(3), ...u32(0x0a0b0c0d), 1, 1, ...octets('a'), 1, 1, ...octets('b'), 0, 0], { cname: 'a' }],
    ['a second SDES after one with a CNAME', [...rr(0x0a0b0c0d), ...sdes(0x0a0b0c0d, octets('first')), ...sdes(0x0a0b0c0d, octets('second'))], { cname: 'first' }],
    // Only the first chunk (the sender's) is read; the END octet ends it.
    ['an SDES whose first chunk has no CNAME, the second one has', [...rr(0x0a0b0c0d), 0x82, 202, ...u16(6), ...u32(0x0a0b0c0d), 2, 2, ...octets('Bo'), 0, 0, 0, 0, ...u32(0x05000000), 1, 5, ...octets('other'), 0], {}],
    ['a CNAME filling the chunk, no END octet', [...rr(0x0a0b0c0d), 0x81, 202, ...u16(2), ...u32(0x0a0b0c0d), 1, 2, ...octets('ab')], { cname: 'ab' }],
    ['an empty CNAME in the last two octets', [...rr(0x0a0b0c0d), 0x81, 202, ...u16(2), ...u32(0x0a0b0c0d), 2, 0, 1, 0], { cname: '' }],
    ['a NAME filling the last chunk, no END octet', [...rr(0x0a0b0c0d), 0x81, 202, ...u16(2), ...u32(0x0a0b0c0d), 2, 2, ...octets('Bo')], {}],
    ['a CNAME one octet longer than its chunk', [...rr(0x0a0b0c0d), 0x81, 202, ...u16(2), ...u32(0x0a0b0c0d), 1, 3, ...octets('ab')], {}],
    ['a CNAME longer than its chunk, an RR after', [...rr(0x0a0b0c0d), 0x81, 202, ...u16(2), ...u32(0x0a0b0c0d), 1, 7, ...octets('ab'), ...rr(0x0a0b0c0d)], {}],
  ])('reads %s', (_name, packet, fields) => {
    expect(parseRtcp(octets(...packet))).toEqual(report(fields));
  });

  it.each([
    ['empty', []],
    ['three octets', [0x80, 201, 0]],
    ['an RR of version 1', [0x40, 201, ...u16(1), ...u32(5)]],
    ['an RR of version 3', [0xc0, 201, ...u16(1), ...u32(5)]],
    ['an SR of version 0 with its sender information', [0x00, 200, ...u16(6), ...u32(5), ...zeros(20)]],
    ['an RR and then a packet of version 1', [...rr(5), 0x41, 202, ...u16(1), ...u32(5)]],
    ['an SR without its sender information', [0x80, 200, ...u16(1), ...u32(5)]],
    ['an SR with four octets of the sender information missing', [0x80, 200, ...u16(5), ...u32(5), ...zeros(16)]],
    ['an SR with a report block missing', [0x81, 200, ...u16(6), ...u32(5), ...zeros(20)]],
    ['an RR with a report block missing, a BYE after', [0x81, 201, ...u16(1), ...u32(5), 0x81, 203, ...u16(1), ...u32(5)]],
    ['an RR with one word of its report block', [0x81, 201, ...u16(2), ...u32(5), ...u32(6)]],
    ['an RR with four octets of its report block missing', [0x81, 201, ...u16(6), ...u32(5), ...zeros(20)]],
    ['an RR with the second report block cut', [0x82, 201, ...u16(12), ...u32(5), ...zeros(44)]],
    ['a length past the end', [0x80, 201, ...u16(9), ...u32(5)]],
    ['an SDES first', [0x81, 202, ...u16(1), ...u32(5)]],
    ['a BYE first', [0x81, 203, ...u16(1), ...u32(5)]],
    ['two octets after the last packet', [...rr(5), 0, 0]],
    ['three octets after the last packet', [...rr(5), 0x80, 203, 0]],
  ])('refuses %s, without throwing', (_name, packet) => {
    expect(parseRtcp(octets(...packet))).toBeUndefined();
  });
});

describe('roundTripMs (RFC 3550 6.4.1)', () => {
  // The SR goes out at a whole second, comes back in an RR with LSR and DLSR.
  const sentAt = Date.UTC(2024, 5, 1, 12, 0, 0);
  const sent = ntpNow(sentAt);
  const lastSr = ntpMiddle(sent.seconds, sent.fraction);

  it('takes the arrival minus LSR minus DLSR, in 1/65536 s', () => {
    // Held 250 ms by the other side, back 400 ms after it left: 150 ms on the wire.
    const arrival = ntpNow(sentAt + 400);
    const units = ntpMiddle(arrival.seconds, arrival.fraction) - lastSr - 0.25 * 65536;
    expect(roundTripMs(block({ lastSr, delaySinceLastSr: 0.25 * 65536 }), sentAt + 400)).toBe((units / 65536) * 1000);
    expect(roundTripMs(block({ lastSr, delaySinceLastSr: 0.25 * 65536 }), sentAt + 400)).toBeCloseTo(150, 1);
    expect(roundTripMs(block({ lastSr, delaySinceLastSr: 0 }), sentAt + 3000)).toBe(3000);
    expect(roundTripMs(block({ lastSr, delaySinceLastSr: 65536 }), sentAt + 3500)).toBe(2500);
  });

  it('counts across the wrap of the middle 32 bits', () => {
    // Arrival at NTP seconds 0xabcd0001 (middle 0x00010000); the SR left 3 s before (middle 0xfffe0000).
    const arrivalAt = (0xabcd0001 - 2208988800) * 1000;
    expect(ntpMiddle(ntpNow(arrivalAt).seconds, ntpNow(arrivalAt).fraction)).toBe(0x00010000);
    expect(roundTripMs(block({ lastSr: 0xfffe0000, delaySinceLastSr: 0x8000 }), arrivalAt)).toBe(2500);
  });

  it('gives undefined without an LSR', () => {
    expect(roundTripMs(block({ lastSr: 0, delaySinceLastSr: 0 }), sentAt + 100)).toBeUndefined();
  });

  it.each([
    [0x80000000, (0x80000000 / 65536) * 1000],
    [0x80000001, 0],
    [0xffffffff, 0],
    [1, 1000 / 65536],
    [0, 0],
  ])('reads a difference of %i units as %d ms (beyond 2^31 a small negative, from clock resolution)', (units, ms) => {
    // A DLSR that leaves `units` from LSR to the arrival.
    const arrival = ntpNow(sentAt + 5000);
    const delaySinceLastSr = (ntpMiddle(arrival.seconds, arrival.fraction) - lastSr - units) >>> 0;
    expect(roundTripMs(block({ lastSr, delaySinceLastSr }), sentAt + 5000)).toBe(ms);
  });
});

describe('ReceptionStats (RFC 3550 A.1, A.3)', () => {
  /** Packets of 160 octets with these sequence numbers; what update returned for each. */
  function receive(stats: ReceptionStats, sequences: readonly number[]): boolean[] {
    return sequences.map((sequence) => stats.update(sequence, sequence * 160, sequence * 160, 160));
  }

  it('starts at zero', () => {
    const stats = new ReceptionStats();
    expect([stats.received, stats.octets, stats.jitter, stats.duplicates, stats.expected, stats.lost]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(stats.interval()).toEqual({ fractionLost: 0, expected: 0, lost: 0 });
  });

  it.each([
    // sequences, extended highest, received, duplicates; expected = highest - first + 1 (A.3), lost = expected - (received - duplicates).
    ['in order', [10, 11, 12, 13], 13, 4, 0],
    ['with gaps', [10, 12, 15], 15, 3, 0],
    ['across the wrap, with a loss', [65533, 65534, 0, 1, 3], 0x10000 + 3, 5, 0],
    ['across two wraps in steps of 2999', Array.from({ length: 45 }, (_, i) => (i * 2999) % 0x10000), 44 * 2999, 45, 0],
    ['with duplicates of the highest', [10, 11, 11, 12, 12, 12], 12, 6, 3],
    ['reordered', [10, 12, 11, 14, 13], 14, 5, 0],
    ['with a packet 99 behind the highest (reordered, counted)', [1000, 1001, 902], 1001, 3, 0],
    ['with a late packet from before the wrap', [65535, 0, 65534], 0x10000, 3, 0],
    ['2999 ahead (a dropout)', [1000, 3999], 3999, 2, 0],
  ])('counts a stream %s', (_name, sequences, extendedMax, received, duplicates) => {
    const stats = new ReceptionStats();
    expect(receive(stats, sequences)).toEqual(sequences.map(() => true));
    const expected = extendedMax - sequences[0]! + 1;
    expect({ extendedMax: stats.extendedMax, expected: stats.expected, received: stats.received, duplicates: stats.duplicates, lost: stats.lost, octets: stats.octets }).toEqual({
      extendedMax,
      expected,
      received,
      duplicates,
      lost: expected - (received - duplicates),
      octets: received * 160,
    });
  });

  it('lets the loss go negative when old packets come again (A.3)', () => {
    const stats = new ReceptionStats();
    receive(stats, [65535, 0, 65534, 65535]);
    expect([stats.expected, stats.received, stats.lost]).toEqual([2, 4, -2]);
  });

  it.each([
    ['3000 ahead', [1000, 4000]],
    ['100 behind', [1000, 900]],
    ['101 behind', [1000, 899]],
    ['half the sequence space ahead', [1000, 1000 + 0x8000]],
    ['3000 ahead across the wrap', [64536, 2000]],
  ])('drops a packet %s, counting nothing', (_name, sequences) => {
    const stats = new ReceptionStats();
    expect(receive(stats, sequences)).toEqual([true, false]);
    expect([stats.extendedMax, stats.expected, stats.received, stats.octets, stats.lost]).toEqual([sequences[0], 1, 1, 160, 0]);
  });

  it.each([
    ['ahead', [100, 101, 20000, 20001, 20002], [true, true, false, true, true], 20001],
    ['behind', [30000, 30001, 29000, 29001, 29002], [true, true, false, true, true], 29001],
    ['to the end of the sequence space', [30000, 65535, 0, 1], [true, false, true, true], 0],
  ])('starts afresh when a big jump %s is followed by the next number (a restart of the source)', (_name, sequences, accepted, base) => {
    const stats = new ReceptionStats();
    expect(receive(stats, sequences)).toEqual(accepted);
    const last = sequences[sequences.length - 1]!;
    expect([stats.extendedMax, stats.expected, stats.received, stats.octets, stats.lost]).toEqual([last, last - base + 1, last - base + 1, (last - base + 1) * 160, 0]);
  });

  it('does not start afresh when the packet after a big jump is not the next one', () => {
    const stats = new ReceptionStats();
    expect(receive(stats, [100, 20000, 19999, 20002, 101])).toEqual([true, false, false, false, true]);
    expect([stats.extendedMax, stats.expected, stats.received]).toEqual([101, 2, 2]);
  });

  it('forgets the source on reset: counts, jitter and the last transit time', () => {
    const stats = new ReceptionStats();
    for (let i = 0; i < 20; i++) stats.update(100 + i, i * 160, i * 160 + (i % 2) * 40, 160);
    stats.update(119, 0, 0, 160);
    stats.interval();
    expect(stats.jitter).toBeGreaterThan(0);
    stats.reset();
    expect([stats.received, stats.octets, stats.jitter, stats.duplicates, stats.expected, stats.lost]).toEqual([0, 0, 0, 0, 0, 0]);
    // A new source far from the old numbers, with another transit time.
    expect(stats.update(40000, 1000, 900_000, 20)).toBe(true);
    expect([stats.extendedMax, stats.expected, stats.received, stats.octets, stats.duplicates, stats.jitter]).toEqual([40000, 1, 1, 20, 0, 0]);
    expect(stats.update(40001, 1160, 900_170, 20)).toBe(true);
    expect(stats.jitter).toBe(10 / 16);
    expect(stats.interval()).toEqual({ fractionLost: 0, expected: 2, lost: 0 });
  });

  it('gives the loss of each interval and its fraction in 1/256 (A.3)', () => {
    const stats = new ReceptionStats();
    const interval = (sequences: readonly number[]): ReturnType<ReceptionStats['interval']> => {
      receive(stats, sequences);
      return stats.interval();
    };
    // fraction = (lost << 8) / expected, in whole 1/256; 0 when nothing was lost or more came than expected.
    expect(interval([1, 2, 3, 5, 6, 8, 9, 10])).toEqual({ fractionLost: Math.floor((2 << 8) / 10), expected: 10, lost: 2 });
    expect(interval([11, 11, 11, 12, 13, 14, 16, 17, 18, 19, 20])).toEqual({ fractionLost: Math.floor((1 << 8) / 10), expected: 10, lost: 1 });
    // Two packets again from behind the highest (reordered or repeated): counted, so more came than expected.
    expect(interval([21, 19, 20])).toEqual({ fractionLost: 0, expected: 1, lost: -2 });
    expect(interval([])).toEqual({ fractionLost: 0, expected: 0, lost: 0 });
    expect(interval([22, 22, 1022])).toEqual({ fractionLost: Math.floor((999 << 8) / 1001), expected: 1001, lost: 999 });
    expect([stats.expected, stats.received, stats.duplicates, stats.lost]).toEqual([1022, 8 + 11 + 3 + 3, 2 + 1, 2 + 1 - 2 + 999]);
  });
});

describe('ReceptionStats jitter (RFC 3550 A.8)', () => {
  /** J after packets of (timestamp, arrival), by A.8: D = (Rj - Sj) - (Ri - Si), J += (|D| - J) / 16. */
  function rfcJitter(packets: readonly (readonly [number, number])[]): number {
    let jitter = 0;
    for (let i = 1; i < packets.length; i++) {
      const d = packets[i]![1] - packets[i]![0] - (packets[i - 1]![1] - packets[i - 1]![0]);
      jitter += (Math.abs(d) - jitter) / 16;
    }
    return jitter;
  }

  it('measures nothing from the first packet', () => {
    const stats = new ReceptionStats();
    expect(stats.update(1, 1000, 987_654, 160)).toBe(true);
    expect(stats.jitter).toBe(0);
  });

  it('smooths the transit differences by 1/16', () => {
    const lateness = [0, 10, -5, 30, 30, 0, 7, -20, 3, 3, 100, 0];
    const packets = lateness.map((late, i) => [0x1000 + i * 160, 5_000_000 + i * 160 + late] as const);
    const stats = new ReceptionStats();
    packets.forEach(([timestamp, arrival], i) => expect(stats.update(i, timestamp, arrival, 160)).toBe(true));
    expect(stats.jitter).toBe(rfcJitter(packets));
  });

  it('leaves out the packets not measured (telephone events), also as the previous transit time', () => {
    const stats = new ReceptionStats();
    expect(stats.update(1, 160, 1000, 160)).toBe(true);
    // An event packet: its timestamp stays at the event's start, arrivals go on.
    expect(stats.update(2, 160, 1500, 4, false)).toBe(true);
    expect(stats.jitter).toBe(0);
    expect(stats.update(3, 480, 1330, 160)).toBe(true);
    expect(stats.jitter).toBe(rfcJitter([[160, 1000], [480, 1330]]));
    expect([stats.received, stats.octets]).toEqual([3, 324]);
  });

  it.each([
    // Timestamps wrap at 2^32: the transit difference is taken modulo 2^32, the shorter way round.
    ['5 ticks late across the timestamp wrap', 0xffffff60, 0, 165, 5],
    ['5 ticks early across the timestamp wrap', 0xffffff60, 0, 155, 5],
    ['5 ticks late, a reordered packet from before the wrap', 0x100, 0xfffffff0, -0x110 + 5, 5],
    ['5 ticks early, a reordered packet from before the wrap', 0x100, 0xfffffff0, -0x110 - 5, 5],
    ['on time across the wrap', 0xffffffff, 0, 1, 0],
    ['2^31 - 1 late', 0, 0, 0x7fffffff, 0x7fffffff],
    ['2^31 late', 0, 0, 0x80000000, 0x80000000],
    ['2^31 + 1 late (2^31 - 1 early)', 0, 0, 0x80000001, 0x7fffffff],
    ['2^32 - 5 late (5 early)', 0, 0, 0xfffffffb, 5],
    ['2^32 + 5 late (5 late)', 0, 0, 0x100000005, 5],
  ])('takes a packet %s as the shorter transit difference modulo 2^32', (_name, firstTimestamp, secondTimestamp, arrivalDelta, distance) => {
    const stats = new ReceptionStats();
    stats.update(1, firstTimestamp, 1_000_000, 160);
    stats.update(2, secondTimestamp, 1_000_000 + arrivalDelta, 160);
    expect(stats.jitter).toBe(distance / 16);
  });
});
