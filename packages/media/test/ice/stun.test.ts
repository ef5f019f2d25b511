import { IceError, buildStun, checkStunFingerprint, checkStunIntegrity, decodeErrorCode, decodeMappedAddress, decodeXorAddress, encodeXorAddress, errorCodeAttribute, isStun, longTermKey, parseStun, readUint32, STUN_ATTRIBUTE, STUN_METHOD, stunAttribute, textAttribute, uint32Attribute, type StunMessage } from '@sip-endpoint/media';

// RFC 5769's test vectors (sections 2.1 to 2.4), as hex.
const hex = (...parts: string[]) => Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');
const SAMPLE_REQUEST = hex(
  '00010058 2112a442 b7e7a701bc34d686fa87dfae',
  '80220010 5354554e207465737420636c69656e74',
  '00240004 6e0001ff',
  '80290008 932ff9b151263b36',
  '00060009 6576746a3a68367659202020',
  '00080014 9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2',
  '80280004 e57a3bcf',
);
const IPV4_RESPONSE = hex('0101003c 2112a442 b7e7a701bc34d686fa87dfae', '8022000b 7465737420766563746f7220', '00200008 0001a147e112a643', '00080014 2b91f599fd9e90c38c7489f92af9ba53f06be7d7', '80280004 c07d4c96');
const IPV6_RESPONSE = hex('01010048 2112a442 b7e7a701bc34d686fa87dfae', '8022000b 7465737420766563746f7220', '00200014 0002a1470113a9faa5d3f179bc25f4b5bed2b9d9', '00080014 a382954e4be67bf11784c97c8292c275bfe3ed41', '80280004 c8fb0b4c');
const LONG_TERM_REQUEST = hex(
  '00010060 2112a442 78ad3433c6ad72c029da412e',
  '00060012 e3839ee38388e383aae38383e382afe382b90000',
  '0015001c 662f2f3439396b39353464364f4c33346f4c39465354767936347341',
  '0014000b 6578616d706c652e6f726700',
  '00080014 f67024656dd64a3e02b8e0712e85c9a28ca89666',
);
const PASSWORD = Buffer.from('VOkJxbRl1RmTxUk/WvJxBt');
const TRANSACTION = hex('b7e7a701bc34d686fa87dfae');

function parsed(data: Uint8Array): StunMessage {
  const message = parseStun(data);
  if ('malformed' in message) throw new Error(message.malformed);
  return message;
}

describe('STUN messages (RFC 8489) against RFC 5769\'s test vectors', () => {
  it('reads the sample request: a binding request with its attributes, integrity and fingerprint right', () => {
    const message = parsed(SAMPLE_REQUEST);
    expect([message.method, message.cls]).toEqual([STUN_METHOD.binding, 'request']);
    expect(Buffer.from(message.transactionId).equals(TRANSACTION)).toBe(true);
    expect(Buffer.from(stunAttribute(message, STUN_ATTRIBUTE.software)!).toString()).toBe('STUN test client');
    expect(readUint32(stunAttribute(message, STUN_ATTRIBUTE.priority))).toBe(0x6e0001ff);
    expect(Buffer.from(stunAttribute(message, STUN_ATTRIBUTE.username)!).toString()).toBe('evtj:h6vY');
    expect(checkStunIntegrity(message, PASSWORD)).toBe(true);
    expect(checkStunFingerprint(message)).toBe(true);
  });

  it.each([
    ['IPv4', IPV4_RESPONSE, { address: '192.0.2.1', port: 32853 }],
    ['IPv6', IPV6_RESPONSE, { address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 }],
  ])('reads the %s response: XOR-MAPPED-ADDRESS, integrity and fingerprint', (_family, data, mapped) => {
    const message = parsed(data);
    expect([message.method, message.cls]).toEqual([STUN_METHOD.binding, 'success']);
    expect(decodeXorAddress(stunAttribute(message, STUN_ATTRIBUTE.xorMappedAddress), message.transactionId)).toEqual(mapped);
    expect(checkStunIntegrity(message, PASSWORD)).toBe(true);
    expect(checkStunFingerprint(message)).toBe(true);
  });

  it('checks the long-term request with MD5(username:realm:password) (the password after SASLprep)', () => {
    const message = parsed(LONG_TERM_REQUEST);
    const username = Buffer.from(stunAttribute(message, STUN_ATTRIBUTE.username)!).toString();
    expect(username).toBe('\u30de\u30c8\u30ea\u30c3\u30af\u30b9');
    expect(Buffer.from(stunAttribute(message, STUN_ATTRIBUTE.realm)!).toString()).toBe('example.org');
    expect(checkStunIntegrity(message, longTermKey(username, 'example.org', 'TheMatrIX'))).toBe(true);
    expect(checkStunIntegrity(message, longTermKey(username, 'example.org', 'TheMatrix'))).toBe(false);
    expect(message.fingerprintOffset).toBe(-1);
    expect(checkStunFingerprint(message)).toBe(false);
  });

  it('writes the sample request and responses byte for byte (padded with spaces, as the RFC\'s are)', () => {
    const request = buildStun({
      method: STUN_METHOD.binding,
      cls: 'request',
      transactionId: TRANSACTION,
      attributes: [textAttribute(STUN_ATTRIBUTE.software, 'STUN test client'), uint32Attribute(STUN_ATTRIBUTE.priority, 0x6e0001ff), { type: STUN_ATTRIBUTE.iceControlled, value: hex('932ff9b151263b36') }, textAttribute(STUN_ATTRIBUTE.username, 'evtj:h6vY')],
      integrityKey: PASSWORD,
      fingerprint: true,
      padByte: 0x20,
    });
    expect(request.toString('hex')).toBe(SAMPLE_REQUEST.toString('hex'));
    for (const [family, data, address] of [
      ['v4', IPV4_RESPONSE, '192.0.2.1'],
      ['v6', IPV6_RESPONSE, '2001:db8:1234:5678:11:2233:4455:6677'],
    ] as const) {
      const response = buildStun({
        method: STUN_METHOD.binding,
        cls: 'success',
        transactionId: TRANSACTION,
        attributes: [textAttribute(STUN_ATTRIBUTE.software, 'test vector'), { type: STUN_ATTRIBUTE.xorMappedAddress, value: encodeXorAddress({ address, port: 32853 }, TRANSACTION) }],
        integrityKey: PASSWORD,
        fingerprint: true,
        padByte: 0x20,
      });
      expect([family, response.toString('hex')]).toEqual([family, data.toString('hex')]);
    }
  });

  it('finds a changed byte: integrity and fingerprint fail, and a wrong key fails integrity', () => {
    expect(checkStunIntegrity(parsed(SAMPLE_REQUEST), Buffer.from('wrong password'))).toBe(false);
    for (const at of [30, 45, 56]) {
      const changed = Buffer.from(SAMPLE_REQUEST);
      changed[at] = changed[at]! ^ 0x01;
      const message = parsed(changed);
      expect([at, checkStunIntegrity(message, PASSWORD), checkStunFingerprint(message)]).toEqual([at, false, false]);
    }
  });

  it('refuses what is not a STUN message, or one whose attributes do not fit, with a reason', () => {
    expect(isStun(Buffer.from([0x80, 0, 0, 0]))).toBe(false);
    const rtp = Buffer.alloc(172);
    rtp[0] = 0x80;
    expect(parseStun(rtp)).toEqual({ malformed: 'not a STUN message (header, magic cookie or length)' });
    const wrongCookie = Buffer.from(SAMPLE_REQUEST);
    wrongCookie[4] = 0x22;
    expect(parseStun(wrongCookie)).toHaveProperty('malformed');
    const cut = Buffer.from(SAMPLE_REQUEST.subarray(0, SAMPLE_REQUEST.length - 4));
    cut.writeUInt16BE(cut.length - 20, 2);
    expect(parseStun(cut)).toEqual({ malformed: 'attribute 0x8028 runs past the message' });
    expect(parseStun(hex('00010004 2112a442 b7e7a701bc34d686fa87dfae', '80280000'))).toEqual({ malformed: 'FINGERPRINT is not 4 bytes' });
    const overrun = Buffer.from(hex('00010008 2112a442 b7e7a701bc34d686fa87dfae', '00060010 41424344'));
    expect(parseStun(overrun)).toEqual({ malformed: 'attribute 0x6 runs past the message' });
    const shortIntegrity = Buffer.from(hex('00010008 2112a442 b7e7a701bc34d686fa87dfae', '00080004 41424344'));
    expect(parseStun(shortIntegrity)).toEqual({ malformed: 'MESSAGE-INTEGRITY is not 20 bytes' });
    const afterFingerprint = Buffer.from(hex('00010010 2112a442 b7e7a701bc34d686fa87dfae', '80280004 00000000', '00060004 41424344'));
    expect(parseStun(afterFingerprint)).toEqual({ malformed: 'an attribute follows FINGERPRINT' });
  });

  it('ignores attributes between MESSAGE-INTEGRITY and FINGERPRINT, as RFC 8489 14.5 says', () => {
    const message = buildStun({ method: STUN_METHOD.binding, cls: 'request', attributes: [textAttribute(STUN_ATTRIBUTE.username, 'a:b')], integrityKey: PASSWORD });
    const withExtra = Buffer.concat([message, hex('80220004 41424344')]);
    withExtra.writeUInt16BE(withExtra.length - 20, 2);
    const read = parsed(withExtra);
    expect(read.attributes.map((a) => a.type)).toEqual([STUN_ATTRIBUTE.username, STUN_ATTRIBUTE.messageIntegrity]);
    // The integrity still checks: it covers what came before it, with the length as if it ended there.
    expect(checkStunIntegrity(read, PASSWORD)).toBe(true);
  });

  it('writes every method and class so that they read back', () => {
    for (const method of Object.values(STUN_METHOD)) {
      for (const cls of ['request', 'indication', 'success', 'error'] as const) {
        const read = parsed(buildStun({ method, cls }));
        expect([read.method, read.cls]).toEqual([method, cls]);
      }
    }
  });

  it('encodes and decodes addresses, error codes and plain MAPPED-ADDRESS', () => {
    for (const address of ['10.0.0.1', '::1', 'fe80::1:2', '2001:db8::', '::ffff:192.0.2.7']) {
      const decoded = decodeXorAddress(encodeXorAddress({ address, port: 4 }, TRANSACTION), TRANSACTION);
      expect(decoded?.port).toBe(4);
      expect(decoded?.address).toBe(address === '::ffff:192.0.2.7' ? '::ffff:c000:207' : address);
    }
    expect(() => encodeXorAddress({ address: 'example.com', port: 1 }, TRANSACTION)).toThrow(new IceError('example.com is not an IP address'));
    expect(decodeXorAddress(hex('0003a147e112a643'), TRANSACTION)).toBeUndefined();
    expect(decodeXorAddress(undefined, TRANSACTION)).toBeUndefined();
    expect(decodeErrorCode(errorCodeAttribute(401, 'Unauthorized').value)).toEqual({ code: 401, reason: 'Unauthorized' });
    expect(decodeErrorCode(errorCodeAttribute(487, 'Role Conflict').value)).toEqual({ code: 487, reason: 'Role Conflict' });
    expect(decodeErrorCode(hex('0000'))).toBeUndefined();
    expect(decodeMappedAddress(hex('00011f90c0000201'))).toEqual({ address: '192.0.2.1', port: 8080 });
    expect(decodeMappedAddress(hex('00051f90c0000201'))).toBeUndefined();
    expect(readUint32(hex('0102'))).toBeUndefined();
  });
});
