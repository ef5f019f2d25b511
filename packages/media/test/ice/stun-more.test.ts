import { IceError, STUN_ATTRIBUTE, buildStun, checkStunFingerprint, checkStunIntegrity, decodeErrorCode, decodeMappedAddress, decodeXorAddress, encodeXorAddress, errorCodeAttribute, isStun, parseStun, readUint32, STUN_METHOD, stunAttribute, type StunMessage } from '@sip-endpoint/media';

// The edges of the STUN codec that RFC 5769's vectors (stun.test.ts) do not reach: headers that
// almost fit, address values of the wrong size or family, IPv6 text forms and ERROR-CODE's classes.
const hex = (...parts: string[]) => Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');
const TRANSACTION = hex('b7e7a701bc34d686fa87dfae');

function parsed(data: Uint8Array): StunMessage {
  const message = parseStun(data);
  if ('malformed' in message) throw new Error(message.malformed);
  return message;
}

describe('isStun', () => {
  const header = (lengthField: string, ...body: string[]) => hex(`0001${lengthField} 2112a442 b7e7a701bc34d686fa87dfae`, ...body);

  it('takes a bare header and one with a body whose length the header gives', () => {
    expect(isStun(header('0000'))).toBe(true);
    expect(isStun(header('0004', '00060000'))).toBe(true);
  });

  it('refuses fewer than 20 bytes, even 4 zero bytes (no header to read)', () => {
    expect(isStun(Buffer.alloc(4))).toBe(false);
    expect(isStun(Buffer.alloc(19))).toBe(false);
    expect(isStun(header('0000').subarray(0, 19))).toBe(false);
  });

  it('refuses a first byte with either of its top two bits set (RTP, RTCP, DTLS)', () => {
    for (const bits of [0x40, 0x80, 0xc0]) {
      const data = header('0000');
      data[0] = data[0]! | bits;
      expect([bits, isStun(data)]).toEqual([bits, false]);
    }
  });

  it('refuses a body length that is not a multiple of 4, even when it matches the datagram', () => {
    expect(isStun(header('0002', '0000'))).toBe(false);
    expect(isStun(header('0005', '0006000141'))).toBe(false);
  });

  it('refuses a header length that is not what the datagram holds, longer or shorter', () => {
    expect(isStun(header('0004'))).toBe(false);
    expect(isStun(header('0000', '00060000'))).toBe(false);
    expect(isStun(header('0008', '00060000'))).toBe(false);
  });

  it('reads only the first `length` bytes when given a length', () => {
    const data = Buffer.concat([header('0004', '00060000'), hex('ffffffff')]);
    expect(isStun(data)).toBe(false);
    expect(isStun(data, 24)).toBe(true);
    expect(isStun(data, 20)).toBe(false);
  });
});

describe('checkStunIntegrity and checkStunFingerprint without the attribute', () => {
  it('answer false for a bare 20-byte message (and do not read outside it)', () => {
    const message = parsed(buildStun({ method: STUN_METHOD.binding, cls: 'request', transactionId: TRANSACTION }));
    expect([message.integrityOffset, message.fingerprintOffset]).toEqual([-1, -1]);
    expect(checkStunIntegrity(message, Buffer.from('key'))).toBe(false);
    expect(checkStunFingerprint(message)).toBe(false);
  });

  it('answer false for integrity on a message with only a fingerprint, and true for its fingerprint', () => {
    const message = parsed(buildStun({ method: STUN_METHOD.binding, cls: 'request', transactionId: TRANSACTION, fingerprint: true }));
    expect([message.integrityOffset, message.fingerprintOffset]).toEqual([-1, 20]);
    expect(checkStunIntegrity(message, Buffer.from('key'))).toBe(false);
    expect(checkStunFingerprint(message)).toBe(true);
  });
});

describe('parseStun and stunAttribute', () => {
  it('reads an empty attribute that ends the message, and finds no attribute the message lacks', () => {
    const message = parsed(hex('0001000c 2112a442 b7e7a701bc34d686fa87dfae', '80220003 616263ff', '00060000'));
    expect(message.attributes.map((attribute) => [attribute.type, Buffer.from(attribute.value).toString('hex')])).toEqual([
      [STUN_ATTRIBUTE.software, '616263'],
      [STUN_ATTRIBUTE.username, ''],
    ]);
    expect(stunAttribute(message, STUN_ATTRIBUTE.username)?.length).toBe(0);
    expect(stunAttribute(message, STUN_ATTRIBUTE.realm)).toBeUndefined();
    expect([message.integrityOffset, message.fingerprintOffset]).toEqual([-1, -1]);
  });

  it('keeps the attributes before MESSAGE-INTEGRITY and that one, and notes where it and FINGERPRINT are', () => {
    const data = buildStun({ method: STUN_METHOD.binding, cls: 'request', transactionId: TRANSACTION, attributes: [{ type: STUN_ATTRIBUTE.username, value: hex('41') }], integrityKey: Buffer.from('key'), fingerprint: true });
    const message = parsed(data);
    expect(message.attributes.map((attribute) => attribute.type)).toEqual([STUN_ATTRIBUTE.username, STUN_ATTRIBUTE.messageIntegrity]);
    expect([message.integrityOffset, message.fingerprintOffset]).toEqual([28, 52]);
    expect([checkStunIntegrity(message, Buffer.from('key')), checkStunFingerprint(message)]).toEqual([true, true]);
  });
});

describe('readUint32', () => {
  it('reads 4 bytes big-endian, and gives undefined for no value or another size', () => {
    expect(readUint32(hex('00000102'))).toBe(258);
    expect(readUint32(hex('ffffffff'))).toBe(0xffffffff);
    expect(readUint32(undefined)).toBeUndefined();
    expect(readUint32(hex('000001'))).toBeUndefined();
    expect(readUint32(hex('0000000102'))).toBeUndefined();
  });
});

describe('XOR-MAPPED-ADDRESS and MAPPED-ADDRESS values', () => {
  it('writes an IPv4 address byte for byte (RFC 5769 2.2)', () => {
    expect(Buffer.from(encodeXorAddress({ address: '192.0.2.1', port: 32853 }, TRANSACTION)).toString('hex')).toBe('0001a147e112a643');
  });

  it('refuses a dotted text with four parts that is no IPv4 address', () => {
    for (const address of ['256.1.1.1', '1.2.3.x', '1.2.3']) {
      expect(() => encodeXorAddress({ address, port: 1 }, TRANSACTION)).toThrow(new IceError(`${address} is not an IP address`));
    }
  });

  it('writes an IPv6 address with an IPv4 tail of several digits in each part', () => {
    const value = encodeXorAddress({ address: '::ffff:192.168.100.200', port: 5060 }, TRANSACTION);
    // 0000:0000:0000:0000:0000:ffff:c0a8:64c8, XORed with the cookie and the transaction id.
    const plain = hex('00000000000000000000ffffc0a864c8');
    const mask = Buffer.concat([hex('2112a442'), TRANSACTION]);
    expect(Buffer.from(value).toString('hex')).toBe(`0002${(5060 ^ 0x2112).toString(16).padStart(4, '0')}${Buffer.from(plain.map((byte, i) => byte ^ mask[i]!)).toString('hex')}`);
    expect(decodeXorAddress(value, TRANSACTION)).toEqual({ address: '::ffff:c0a8:64c8', port: 5060 });
  });

  it.each([
    ['1:0:0:0:1:0:0:1', '1::1:0:0:1'],
    ['1:0:0:1:0:0:1:1', '1::1:0:0:1:1'],
    ['1:1:0:0:1:0:0:0', '1:1:0:0:1::'],
    ['1:0:1:1:1:1:1:1', '1:0:1:1:1:1:1:1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:1:0:0:0:0:1', '0:0:1::1'],
    ['fe80::1:2%eth0', 'fe80::1:2'],
  ])('writes %s back as %s (the first longest run of zero groups as "::")', (address, text) => {
    expect(decodeXorAddress(encodeXorAddress({ address, port: 9 }, TRANSACTION), TRANSACTION)).toEqual({ address: text, port: 9 });
  });

  it.each([
    ['a family 3 value of IPv6 size', '0003a147 e112a643 00000000 00000000 00000000'],
    ['an IPv4 value with a byte more', '0001a147 e112a643 00'],
    ['an IPv4 value of IPv6 size', '0001a147 e112a643 00000000 00000000 00000000'],
    ['an IPv6 value with a byte more', '0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9 00'],
    ['an IPv6 value of IPv4 size', '0002a147 e112a643'],
    ['an IPv4 value a byte short', '0001a147 e112a6'],
    ['a family 0 header alone', '0000a147'],
    ['nothing', ''],
  ])('decodes no XOR address from %s', (_, value) => {
    expect(decodeXorAddress(hex(value), TRANSACTION)).toBeUndefined();
  });

  it('decodes a plain IPv4 and IPv6 MAPPED-ADDRESS', () => {
    expect(decodeMappedAddress(hex('00011f90 c0000201'))).toEqual({ address: '192.0.2.1', port: 8080 });
    expect(decodeMappedAddress(hex('00021f90 20010db8 00000000 00000000 00000001'))).toEqual({ address: '2001:db8::1', port: 8080 });
    expect(decodeMappedAddress(hex('0002ffff 20010db8 12345678 00110000 00000000'))).toEqual({ address: '2001:db8:1234:5678:11::', port: 65535 });
  });

  it.each([
    ['no value', undefined],
    ['a family 3 value of IPv6 size', hex('00031f90 20010db8 00000000 00000000 00000001')],
    ['an IPv4 value with a byte more', hex('00011f90 c0000201 00')],
    ['an IPv4 value of IPv6 size', hex('00011f90 20010db8 00000000 00000000 00000001')],
    ['an IPv6 value with a byte more', hex('00021f90 20010db8 00000000 00000000 00000001 00')],
    ['an IPv6 value of IPv4 size', hex('00021f90 c0000201')],
    ['an IPv4 value a byte short', hex('00011f90 c00002')],
    ['a family 0 header alone', hex('00001f90')],
    ['nothing', hex('')],
  ])('decodes no MAPPED-ADDRESS from %s', (_, value) => {
    expect(decodeMappedAddress(value)).toBeUndefined();
  });
});

describe('ERROR-CODE', () => {
  it.each([
    [300, 'Try Alternate', '00000300'],
    [420, 'Unknown Attribute', '00000414'],
    [599, 'x', '00000563'],
    [699, '', '00000663'],
  ])('writes %i %s as class and number', (code, reason, head) => {
    const attribute = errorCodeAttribute(code, reason);
    expect(attribute.type).toBe(0x0009);
    expect(Buffer.from(attribute.value).toString('hex')).toBe(head + Buffer.from(reason).toString('hex'));
    expect(decodeErrorCode(attribute.value)).toEqual({ code, reason });
  });

  it('writes a UTF-8 reason', () => {
    expect(Buffer.from(errorCodeAttribute(400, 'Bad Request \u00e9').value).toString('hex')).toBe(`00000400${Buffer.from('Bad Request \u00e9', 'utf8').toString('hex')}`);
  });

  it('reads a code without a reason, and nothing from fewer than 4 bytes or no value', () => {
    expect(decodeErrorCode(hex('00000401'))).toEqual({ code: 401, reason: '' });
    expect(decodeErrorCode(hex('ffffff01'))).toEqual({ code: 701, reason: '' });
    expect(decodeErrorCode(hex('000004'))).toBeUndefined();
    expect(decodeErrorCode(undefined)).toBeUndefined();
  });
});
