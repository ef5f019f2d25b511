import { createRtpHeader, isRtcp, parseRtpHeader, writeRtpHeader, type RtpHeader } from '@sip-endpoint/media';

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
