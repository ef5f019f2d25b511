import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { SRTP_DROP, SrtpContext, SrtpError, type SrtpSuite } from '@sip-endpoint/media';
import { allocationsDuring } from '@sip-endpoint/test-support';
import { AesEncryptor, aesCounterXor } from '../../src/srtp/aes';
import { HmacSha1 } from '../../src/srtp/hmac-sha1';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('AES block cipher', () => {
  it('encrypts the examples of FIPS-197 appendix C for 128, 192 and 256-bit keys', () => {
    const plain = hex('00112233445566778899aabbccddeeff');
    const cases: [string, string][] = [
      ['000102030405060708090a0b0c0d0e0f', '69c4e0d86a7b0430d8cdb78070b4c55a'],
      ['000102030405060708090a0b0c0d0e0f1011121314151617', 'dda97ca4864cdfe06eaf70a0ec0d7191'],
      ['000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', '8ea2b7ca516745bfeafc49904b496089'],
    ];
    for (const [key, cipher] of cases) {
      const out = new Uint8Array(16);
      new AesEncryptor(hex(key)).encryptBlock(plain, 0, out, 0);
      expect(Buffer.from(out).toString('hex')).toBe(cipher);
    }
  });

  it('agrees with OpenSSL (node:crypto) on random keys and blocks, at any offset', () => {
    for (const keyBytes of [16, 24, 32]) {
      for (let trial = 0; trial < 50; trial++) {
        const key = randomBytes(keyBytes);
        const block = randomBytes(40);
        const expected = createCipheriv(`aes-${keyBytes * 8}-ecb`, key, null).setAutoPadding(false).update(block.subarray(7, 23));
        const out = new Uint8Array(32);
        new AesEncryptor(key).encryptBlock(block, 7, out, 3);
        expect(Buffer.from(out.subarray(3, 19)).equals(expected)).toBe(true);
      }
    }
  });

  it('refuses a key that is not 16, 24 or 32 bytes', () => {
    expect(() => new AesEncryptor(new Uint8Array(15))).toThrow(SrtpError);
    expect(() => new AesEncryptor(new Uint8Array(33))).toThrow('16, 24 or 32 bytes, not 33');
  });

  it('in counter mode gives the keystream of RFC 3711 B.2, and agrees with OpenSSL over many blocks', () => {
    const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
    const iv = new Uint8Array(16);
    iv.set(hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'));
    const zeros = new Uint8Array(16 * 300 + 5);
    aesCounterXor(new AesEncryptor(key), iv, new Uint8Array(16), zeros, 0, zeros.length);
    expect(Buffer.from(zeros.subarray(0, 16)).toString('hex')).toBe('e03ead0935c95e80e166b16dd92b4eb4');
    const ivStart = Buffer.alloc(16);
    ivStart.set(hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'));
    const reference = createCipheriv('aes-128-ctr', key, ivStart).update(Buffer.alloc(zeros.length));
    expect(Buffer.from(zeros).equals(reference)).toBe(true);
  });

  it('in counter mode XORs only the range asked for', () => {
    const data = new Uint8Array(40).fill(7);
    aesCounterXor(new AesEncryptor(new Uint8Array(16)), new Uint8Array(16), new Uint8Array(16), data, 12, 30);
    expect([...data.subarray(0, 12)]).toEqual(new Array(12).fill(7));
    expect([...data.subarray(30)]).toEqual(new Array(10).fill(7));
    expect(data.subarray(12, 30).some((byte) => byte !== 7)).toBe(true);
  });
});

describe('HMAC-SHA1', () => {
  it('agrees with OpenSSL for keys and messages of every length around the block size, fed in pieces', () => {
    for (const keyLength of [0, 1, 20, 63, 64, 65, 100]) {
      for (const messageLength of [0, 1, 51, 52, 55, 56, 63, 64, 65, 119, 120, 128, 200, 1500]) {
        const key = randomBytes(keyLength);
        const message = randomBytes(messageLength);
        const roc = 0x89abcdef;
        const expected = createHmac('sha1', key).update(message).update(Buffer.from([0x89, 0xab, 0xcd, 0xef])).digest();
        const hmac = new HmacSha1(key);
        const cut = Math.floor(messageLength / 3);
        hmac.update(message, 0, cut);
        hmac.update(message, cut, messageLength);
        hmac.updateUint32(roc);
        const out = new Uint8Array(22);
        hmac.finish(out, 1, 20);
        expect(Buffer.from(out.subarray(1, 21)).toString('hex')).toBe(expected.toString('hex'));
        expect([out[0], out[21]]).toEqual([0, 0]);
      }
    }
  });

  it('starts afresh after finish, and verify tells a right tag from a wrong one', () => {
    const key = randomBytes(20);
    const hmac = new HmacSha1(key);
    const message = randomBytes(172);
    const tag = createHmac('sha1', key).update(message).digest().subarray(0, 10);
    hmac.update(message, 0, 50);
    hmac.finish(new Uint8Array(20), 0, 20); // an abandoned message leaves nothing behind
    hmac.update(message, 0, message.length);
    expect(hmac.verify(tag, 0, 10)).toBe(true);
    for (let i = 0; i < 10; i++) {
      const wrong = Buffer.from(tag);
      wrong[i]! ^= 0x01;
      hmac.update(message, 0, message.length);
      expect(hmac.verify(wrong, 0, 10)).toBe(false);
    }
  });
});

// RFC 3711 B.3's master key, with which libsrtp's srtp_driver validates its packets.
const MASTER = { masterKey: hex('E1F97A0D3E018BE0D64FA32C06DE4139'), masterSalt: hex('0EC675AD498AFEEBB6960B3AABE6') };
const LIBSRTP_RTP = hex('800f1234decafbadcafebabe' + 'ab'.repeat(16));
const LIBSRTP_SRTP = hex('800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb');
const LIBSRTP_RTCP = hex('81c8000bcafebabe' + 'ab'.repeat(16));
const LIBSRTP_SRTCP = hex('81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8 80000001 993e08cd54d6c1230798');

/** A packet in a buffer with room for the tag. */
function inBuffer(bytes: Uint8Array, room = 32): Uint8Array {
  const buffer = new Uint8Array(bytes.length + room);
  buffer.set(bytes);
  return buffer;
}

describe('SrtpContext against the reference packets of libsrtp', () => {
  it('protects the RTP packet to the same bytes (RFC 3711 B.3 keys, AES_CM_128_HMAC_SHA1_80), and reads it back', () => {
    const sender = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', ...MASTER });
    const packet = inBuffer(LIBSRTP_RTP);
    const length = sender.protectRtp(packet, LIBSRTP_RTP.length);
    expect(Buffer.from(packet.subarray(0, length)).toString('hex')).toBe(LIBSRTP_SRTP.toString('hex'));
    const receiver = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', ...MASTER });
    const received = inBuffer(LIBSRTP_SRTP);
    expect(receiver.unprotectRtp(received, LIBSRTP_SRTP.length)).toBe(LIBSRTP_RTP.length);
    expect(Buffer.from(received.subarray(0, LIBSRTP_RTP.length)).equals(LIBSRTP_RTP)).toBe(true);
    expect(receiver.counters).toMatchObject({ unprotectedRtp: 1, authenticationFailures: 0 });
  });

  it('reads the SRTCP packet (index 1, encrypted) and protects its second RTCP packet to the same bytes', () => {
    const receiver = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', ...MASTER });
    const received = inBuffer(LIBSRTP_SRTCP);
    expect(receiver.unprotectRtcp(received, LIBSRTP_SRTCP.length)).toBe(LIBSRTP_RTCP.length);
    expect(Buffer.from(received.subarray(0, LIBSRTP_RTCP.length)).equals(LIBSRTP_RTCP)).toBe(true);
    // We number from 0 as RFC 3711 section 3.4 says; libsrtp's first packet carries 1.
    const sender = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', ...MASTER });
    sender.protectRtcp(inBuffer(LIBSRTP_RTCP), LIBSRTP_RTCP.length);
    const packet = inBuffer(LIBSRTP_RTCP);
    const length = sender.protectRtcp(packet, LIBSRTP_RTCP.length);
    expect(Buffer.from(packet.subarray(0, length)).toString('hex')).toBe(LIBSRTP_SRTCP.toString('hex'));
  });
});

/**
 * SRTP written a second time, on node:crypto's AES-CTR and HMAC: what our own AES and SHA-1 must
 * agree with for every suite, index and SSRC.
 */
function referenceProtect(suite: SrtpSuite, masterKey: Uint8Array, masterSalt: Uint8Array, packet: Uint8Array, rolloverCounter: number): Buffer {
  const aes = `aes-${masterKey.length * 8}-ctr`;
  const derive = (label: number, length: number): Buffer => {
    const iv = Buffer.alloc(16);
    iv.set(masterSalt);
    iv[7]! ^= label;
    return createCipheriv(aes, masterKey, iv).update(Buffer.alloc(length));
  };
  const key = derive(0, masterKey.length);
  const authKey = derive(1, 20);
  const salt = derive(2, 14);
  const view = Buffer.from(packet);
  const ssrc = view.readUInt32BE(8);
  const index = rolloverCounter * 65536 + view.readUInt16BE(2);
  const iv = Buffer.alloc(16);
  iv.set(salt);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  const indexBytes = Buffer.alloc(8);
  indexBytes.writeBigUInt64BE(BigInt(index));
  // The 48-bit index (bytes 2 to 7 of the 64-bit number) lands on IV bytes 8 to 13.
  for (let i = 8; i < 14; i++) iv[i]! ^= indexBytes[i - 6]!;
  const encrypted = Buffer.concat([view.subarray(0, 12), createCipheriv(aes, key, iv).update(view.subarray(12))]);
  const roc = Buffer.alloc(4);
  roc.writeUInt32BE(rolloverCounter);
  const tag = createHmac('sha1', authKey).update(encrypted).update(roc).digest().subarray(0, suite.endsWith('_32') ? 4 : 10);
  return Buffer.concat([encrypted, tag]);
}

function rtpPacket(sequence: number, ssrc: number, payload: Uint8Array): Uint8Array {
  const packet = new Uint8Array(12 + payload.length + 16);
  packet[0] = 0x80;
  packet[1] = 0;
  packet[2] = sequence >>> 8;
  packet[3] = sequence;
  new DataView(packet.buffer).setUint32(4, sequence * 160);
  new DataView(packet.buffer).setUint32(8, ssrc);
  packet.set(payload, 12);
  return packet;
}

describe('SrtpContext, every suite', () => {
  const suites: [SrtpSuite, number, number][] = [
    ['AES_CM_128_HMAC_SHA1_80', 16, 10],
    ['AES_CM_128_HMAC_SHA1_32', 16, 4],
    ['AES_256_CM_HMAC_SHA1_80', 32, 10],
    ['AES_256_CM_HMAC_SHA1_32', 32, 4],
  ];
  it.each(suites)('%s: agrees with SRTP written on node:crypto across a sequence wrap, and its peer reads it', (suite, keyBytes, tagBytes) => {
    const material = { suite, masterKey: randomBytes(keyBytes), masterSalt: randomBytes(14) };
    const sender = new SrtpContext(material);
    const receiver = new SrtpContext(material);
    expect([sender.rtpTagBytes, sender.rtcpTagBytes]).toEqual([tagBytes, 10]);
    const ssrc = 0x9abcdef0;
    let rolloverCounter = 0;
    for (let n = 0; n < 40; n++) {
      const sequence = (65520 + n) & 0xffff;
      if (sequence === 0) rolloverCounter++;
      const payload = randomBytes(160 + (n % 7));
      const packet = rtpPacket(sequence, ssrc, payload);
      const plainLength = 12 + payload.length;
      const expected = referenceProtect(suite, material.masterKey, material.masterSalt, packet.subarray(0, plainLength), rolloverCounter);
      const length = sender.protectRtp(packet, plainLength);
      expect(length).toBe(plainLength + tagBytes);
      expect(Buffer.from(packet.subarray(0, length)).toString('hex')).toBe(expected.toString('hex'));
      expect(receiver.unprotectRtp(packet, length)).toBe(plainLength);
      expect(Buffer.from(packet.subarray(12, plainLength)).equals(payload)).toBe(true);
    }
    expect(receiver.counters).toMatchObject({ unprotectedRtp: 40, authenticationFailures: 0, replayed: 0 });
  });

  // RTP keystream is made 64 packets ahead (KeystreamBatches, 192 bytes a packet); late packets,
  // jumps and longer payloads take the block-by-block way. Both must give SRTP exactly.
  it.each(suites)('%s: keystream made ahead agrees with node:crypto over several batches, jumps, late packets, a rollover and payloads longer than a batch holds', (suite, keyBytes) => {
    const material = { suite, masterKey: randomBytes(keyBytes), masterSalt: randomBytes(14) };
    const sender = new SrtpContext(material);
    const receiver = new SrtpContext(material);
    const ssrc = 0x01020304;
    const sizes = [0, 1, 15, 16, 17, 160, 191, 192, 193, 208, 300, 1200];
    // Sequences: 150 in order (three batches), a jump of 1000, then across the wrap.
    const sequences = [...Array.from({ length: 150 }, (_, n) => 65000 + n), ...Array.from({ length: 20 }, (_, n) => 64400 + n)].map((s) => s & 0xffff);
    sequences.push(...Array.from({ length: 150 }, (_, n) => (65500 + n) & 0xffff));
    const sent: { packet: Uint8Array; length: number; payload: Buffer }[] = [];
    let rolloverCounter = 0;
    let last = -1;
    for (const [n, sequence] of sequences.entries()) {
      if (last > 60000 && sequence < 5000) rolloverCounter++;
      if (sequence > last || last - sequence > 30000) last = sequence;
      const payload = randomBytes(sizes[n % sizes.length]!);
      const packet = new Uint8Array(12 + payload.length + 16);
      packet.set(rtpPacket(sequence, ssrc, payload).subarray(0, 12 + payload.length));
      const plainLength = 12 + payload.length;
      // The jump back (64400...) is late to the sender too: its index is below the highest.
      const roc = sequence >= 64400 && sequence < 64420 ? 0 : rolloverCounter;
      const expected = referenceProtect(suite, material.masterKey, material.masterSalt, packet.subarray(0, plainLength), roc);
      const length = sender.protectRtp(packet, plainLength);
      expect([n, Buffer.from(packet.subarray(0, length)).toString('hex')]).toEqual([n, expected.toString('hex')]);
      sent.push({ packet, length, payload });
    }
    // The receiver gets them with each group of five reversed (late packets within a batch and across two).
    const order: number[] = [];
    for (let at = 0; at < sent.length; at += 5) order.push(...[at + 4, at + 3, at + 2, at + 1, at].filter((i) => i < sent.length));
    let received = 0;
    for (const i of order) {
      const { packet, length, payload } = sent[i]!;
      const result = receiver.unprotectRtp(packet, length);
      if (result === SRTP_DROP.tooOld) continue; // the jump back, after packets far ahead of it
      expect([i, result]).toEqual([i, 12 + payload.length]);
      expect([i, Buffer.from(packet.subarray(12, result)).equals(payload)]).toEqual([i, true]);
      received++;
    }
    expect(receiver.counters.authenticationFailures).toBe(0);
    expect(received).toBe(300);
  });
});

describe('SrtpContext drops what it must, counts it, and goes on', () => {
  const material = { suite: 'AES_CM_128_HMAC_SHA1_80' as const, masterKey: randomBytes(16), masterSalt: randomBytes(14) };
  /** Protected copies of packets 1..n of one stream. */
  const stream = (count: number, ssrc = 7, first = 1): Uint8Array[] => {
    const sender = new SrtpContext(material);
    return Array.from({ length: count }, (_, n) => {
      const packet = rtpPacket((first + n) & 0xffff, ssrc, new Uint8Array(160).fill(n));
      const length = sender.protectRtp(packet, 172);
      return packet.slice(0, length);
    });
  };
  const receive = (receiver: SrtpContext, packet: Uint8Array): number => receiver.unprotectRtp(inBuffer(packet), packet.length);

  it('refuses a replayed packet, takes one reordered within the window, refuses one older than the window', () => {
    const packets = stream(100);
    const receiver = new SrtpContext(material);
    expect(receive(receiver, packets[0]!)).toBe(172);
    expect(receive(receiver, packets[0]!)).toBe(SRTP_DROP.replayed);
    for (let n = 2; n < 100; n++) expect(receive(receiver, packets[n]!)).toBe(172);
    // Packet 2 (index 2) is 98 behind the highest (100): outside the 64-packet window.
    expect(receive(receiver, packets[1]!)).toBe(SRTP_DROP.tooOld);
    expect(receive(receiver, packets[40]!)).toBe(SRTP_DROP.replayed);
    expect(receiver.counters).toMatchObject({ unprotectedRtp: 99, replayed: 2, tooOld: 1, authenticationFailures: 0 });
  });

  it('takes late packets 63 behind and 1 behind, each once; the window slides by 33 and by 64 without losing track', () => {
    const packets = stream(300);
    const receiver = new SrtpContext(material);
    const order = [0, 63, 1, 62, 96, 95, 200, 137, 136, 199, 201];
    const results = order.map((n) => receive(receiver, packets[n]!));
    expect(results).toEqual([172, 172, 172, 172, 172, 172, 172, 172, SRTP_DROP.tooOld, 172, 172]);
    expect(order.map((n) => receive(receiver, packets[n]!))).toEqual([
      SRTP_DROP.tooOld, SRTP_DROP.tooOld, SRTP_DROP.tooOld, SRTP_DROP.tooOld, SRTP_DROP.tooOld, SRTP_DROP.tooOld,
      SRTP_DROP.replayed, SRTP_DROP.tooOld, SRTP_DROP.tooOld, SRTP_DROP.replayed, SRTP_DROP.replayed,
    ]);
  });

  it('drops a packet with any bit changed (header, payload or tag) as an authentication failure, then reads the next', () => {
    const packets = stream(3);
    const receiver = new SrtpContext(material);
    for (const at of [1, 3, 8, 12, 100, 171, 172, 181]) {
      const forged = Uint8Array.from(packets[0]!);
      forged[at]! ^= 0x10;
      expect(receive(receiver, forged)).toBe(SRTP_DROP.authentication);
    }
    expect(receive(receiver, packets[0]!)).toBe(172);
    expect(receiver.counters).toMatchObject({ authenticationFailures: 8, unprotectedRtp: 1 });
  });

  it('drops what is not SRTP: too short for header and tag, version not 2, CSRCs or extension past the end', () => {
    const receiver = new SrtpContext(material);
    const [packet] = stream(1);
    expect(receive(receiver, packet!.subarray(0, 21))).toBe(SRTP_DROP.malformed);
    const version1 = Uint8Array.from(packet!);
    version1[0] = 0x40;
    expect(receive(receiver, version1)).toBe(SRTP_DROP.malformed);
    const csrcs = Uint8Array.from(packet!.subarray(0, 30));
    csrcs[0] = 0x8f; // 15 CSRCs: 72 bytes of header
    expect(receive(receiver, csrcs)).toBe(SRTP_DROP.malformed);
    const extension = Uint8Array.from(packet!.subarray(0, 30));
    extension[0] = 0x90;
    extension[14] = 0xff; // an extension of 65280 words
    expect(receive(receiver, extension)).toBe(SRTP_DROP.malformed);
    expect(receiver.counters.malformed).toBe(4);
    expect(receive(receiver, packet!)).toBe(172);
    expect(new SrtpContext(material).protectRtp(new Uint8Array(40), 11)).toBe(SRTP_DROP.malformed);
  });

  it('encrypts after CSRCs and a header extension, which stay readable', () => {
    const sender = new SrtpContext(material);
    const receiver = new SrtpContext(material);
    const packet = new Uint8Array(12 + 4 + 8 + 20 + 10);
    packet.set([0x91, 0, 0, 5], 0); // extension, one CSRC
    packet.set([0, 0, 0, 9], 8);
    packet.set([0xaa, 0xbb, 0xcc, 0xdd], 12);
    packet.set([0xbe, 0xde, 0, 1, 1, 2, 3, 4], 16);
    packet.fill(0x55, 24, 44);
    const length = sender.protectRtp(packet, 44);
    expect([...packet.subarray(12, 24)]).toEqual([0xaa, 0xbb, 0xcc, 0xdd, 0xbe, 0xde, 0, 1, 1, 2, 3, 4]);
    expect(packet.subarray(24, 44).every((byte) => byte === 0x55)).toBe(false);
    expect(receiver.unprotectRtp(packet, length)).toBe(44);
    expect(packet.subarray(24, 44).every((byte) => byte === 0x55)).toBe(true);
  });

  it('follows the rollover counter across a wrap, a late packet from before the wrap included', () => {
    const packets = stream(40, 7, 65520); // sequences 65520..65535, then 0..23
    const receiver = new SrtpContext(material);
    const order = [...Array(40).keys()].filter((n) => n !== 14);
    for (const n of order) expect(receive(receiver, packets[n]!)).toBe(172);
    expect(receive(receiver, packets[14]!)).toBe(172); // sequence 65534, rollover counter 0, after 0..23 of counter 1
    expect(receiver.counters.unprotectedRtp).toBe(40);
  });

  it('keeps a window per SSRC, and forgets the oldest of more than eight', () => {
    const receiver = new SrtpContext(material);
    const bySource = Array.from({ length: 9 }, (_, ssrc) => stream(2, 100 + ssrc));
    for (const packets of bySource) expect(receive(receiver, packets[1]!)).toBe(172);
    // The second source is still known: its packet 1 replays. The first was forgotten: its packet 1 is taken again.
    expect(receive(receiver, bySource[1]![1]!)).toBe(SRTP_DROP.replayed);
    expect(receive(receiver, bySource[0]![1]!)).toBe(172);
  });

  it('refuses master keys and salts of the wrong size, and a buffer without room for the tag', () => {
    expect(() => new SrtpContext({ ...material, masterKey: randomBytes(32) })).toThrow('16-byte master key, not 32');
    expect(() => new SrtpContext({ ...material, suite: 'AES_256_CM_HMAC_SHA1_80' })).toThrow('32-byte master key, not 16');
    expect(() => new SrtpContext({ ...material, masterSalt: randomBytes(12) })).toThrow('14-byte master salt, not 12');
    const packet = rtpPacket(1, 1, new Uint8Array(160));
    expect(() => new SrtpContext(material).protectRtp(packet.subarray(0, 180), 172)).toThrow('10 bytes after the RTP packet');
    expect(() => new SrtpContext(material).protectRtcp(new Uint8Array(30), 20)).toThrow('14 bytes after the RTCP packet');
  });
});

describe('SRTCP', () => {
  const material = { suite: 'AES_CM_128_HMAC_SHA1_32' as const, masterKey: randomBytes(16), masterSalt: randomBytes(14) };
  const report = (): Uint8Array => inBuffer(hex('80c90001 01020304'), 20);

  it('numbers packets from 0 with the E flag, encrypts after the first 8 bytes, tags 80 bits even in the _32 suite', () => {
    const sender = new SrtpContext(material);
    const receiver = new SrtpContext(material);
    const rtcp = inBuffer(LIBSRTP_RTCP);
    const length = sender.protectRtcp(rtcp, 24);
    expect(length).toBe(24 + 4 + 10);
    expect(Buffer.from(rtcp.subarray(0, 8)).equals(LIBSRTP_RTCP.subarray(0, 8))).toBe(true);
    expect(Buffer.from(rtcp.subarray(8, 24)).equals(LIBSRTP_RTCP.subarray(8))).toBe(false);
    expect(Buffer.from(rtcp.subarray(24, 28)).toString('hex')).toBe('80000000');
    expect(receiver.unprotectRtcp(rtcp, length)).toBe(24);
    expect(Buffer.from(rtcp.subarray(0, 24)).equals(LIBSRTP_RTCP)).toBe(true);
    const second = report();
    sender.protectRtcp(second, 8);
    expect(Buffer.from(second.subarray(8, 12)).toString('hex')).toBe('80000001');
  });

  it('with UNENCRYPTED_SRTCP sends the report in clear with E = 0, still authenticated; the peer reads it and refuses it altered', () => {
    const sender = new SrtpContext({ ...material, unencryptedSrtcp: true });
    const receiver = new SrtpContext({ ...material, unencryptedSrtcp: true });
    const rtcp = inBuffer(LIBSRTP_RTCP);
    const length = sender.protectRtcp(rtcp, 24);
    expect(Buffer.from(rtcp.subarray(0, 24)).equals(LIBSRTP_RTCP)).toBe(true);
    expect(Buffer.from(rtcp.subarray(24, 28)).toString('hex')).toBe('00000000');
    const altered = Uint8Array.from(rtcp);
    altered[10]! ^= 1;
    expect(receiver.unprotectRtcp(altered, length)).toBe(SRTP_DROP.authentication);
    expect(receiver.unprotectRtcp(rtcp, length)).toBe(24);
    expect(Buffer.from(rtcp.subarray(0, 24)).equals(LIBSRTP_RTCP)).toBe(true);
    // A receiver that expected encryption still reads it: the E flag says what was done.
    const strict = new SrtpContext(material);
    const again = inBuffer(LIBSRTP_RTCP);
    const length2 = new SrtpContext({ ...material, unencryptedSrtcp: true }).protectRtcp(again, 24);
    expect(strict.unprotectRtcp(again, length2)).toBe(24);
  });

  it('refuses a replayed SRTCP index, a forged E flag, and packets too short to hold index and tag', () => {
    const sender = new SrtpContext(material);
    const receiver = new SrtpContext(material);
    const first = report();
    const length = sender.protectRtcp(first, 8);
    const copy = Uint8Array.from(first);
    expect(receiver.unprotectRtcp(first, length)).toBe(8);
    expect(receiver.unprotectRtcp(copy, length)).toBe(SRTP_DROP.replayed);
    const flipped = report();
    const flippedLength = sender.protectRtcp(flipped, 8);
    flipped[8]! ^= 0x80;
    expect(receiver.unprotectRtcp(flipped, flippedLength)).toBe(SRTP_DROP.authentication);
    expect(receiver.unprotectRtcp(new Uint8Array(21), 21)).toBe(SRTP_DROP.malformed);
    expect(receiver.unprotectRtcp(new Uint8Array(30), 30)).toBe(SRTP_DROP.malformed); // version 0
    expect(new SrtpContext(material).protectRtcp(new Uint8Array(30), 7)).toBe(SRTP_DROP.malformed);
    expect(receiver.counters).toMatchObject({ unprotectedRtcp: 1, replayed: 1, authenticationFailures: 1, malformed: 2 });
  });
});

describe('SrtpContext allocates nothing per packet', () => {
  it('protects and unprotects 20 000 RTP and 2 000 RTCP packets each way within a byte budget per batch of keystream and no collection', async () => {
    const material = { suite: 'AES_CM_128_HMAC_SHA1_80' as const, masterKey: randomBytes(16), masterSalt: randomBytes(14) };
    const sender = new SrtpContext(material);
    const receiver = new SrtpContext(material);
    const packet = rtpPacket(0, 42, new Uint8Array(160));
    const rtcp = inBuffer(LIBSRTP_RTCP);
    let sequence = 0;
    const run = (count: number): void => {
      for (let n = 0; n < count; n++) {
        packet[2] = sequence >>> 8;
        packet[3] = sequence;
        sequence = (sequence + 1) & 0xffff;
        const length = sender.protectRtp(packet, 172);
        if (receiver.unprotectRtp(packet, length) !== 172) throw new Error('lost a packet');
        if (n % 10 === 0 && receiver.unprotectRtcp(rtcp, sender.protectRtcp(rtcp, 24)) !== 24) throw new Error('lost a report');
      }
    };
    run(30_000); // until V8 has optimized both directions
    const allocations = await allocationsDuring(() => run(20_000));
    expect(allocations.youngCollections).toBe(0);
    // The RTP keystream comes from node:crypto 64 packets at a time, in a new Buffer each time (its
    // objects, about 340 bytes): a budget of 512 bytes a batch. One 16-byte object per packet
    // would add 640 kB.
    const batches = 2 * Math.ceil(20_000 / 64);
    expect(allocations.youngBytes).toBeLessThan(batches * 512);
  }, 30_000);

  it('protects and unprotects 20 000 SRTCP packets with nothing allocated (SRTCP makes no keystream ahead)', async () => {
    const material = { suite: 'AES_CM_128_HMAC_SHA1_80' as const, masterKey: randomBytes(16), masterSalt: randomBytes(14) };
    const sender = new SrtpContext(material);
    const receiver = new SrtpContext(material);
    const rtcp = inBuffer(LIBSRTP_RTCP);
    const run = (count: number): void => {
      for (let n = 0; n < count; n++) if (receiver.unprotectRtcp(rtcp, sender.protectRtcp(rtcp, 24)) !== 24) throw new Error('lost a report');
    };
    run(20_000);
    const allocations = await allocationsDuring(() => run(20_000));
    expect(allocations.youngCollections).toBe(0);
    expect(allocations.youngBytes).toBeLessThan(20_000); // one byte a packet: a 16-byte object each would be 320 kB
  }, 30_000);
});

describe('SrtpContext.keyEquals', () => {
  it('tells the same master key and salt from any other', () => {
    const material = { suite: 'AES_CM_128_HMAC_SHA1_80' as const, masterKey: randomBytes(16), masterSalt: randomBytes(14) };
    const context = new SrtpContext(material);
    expect(context.keyEquals({ ...material, masterKey: Uint8Array.from(material.masterKey) })).toBe(true);
    for (const field of ['masterKey', 'masterSalt'] as const) {
      const other = Uint8Array.from(material[field]);
      other[other.length - 1]! ^= 1;
      expect(context.keyEquals({ ...material, [field]: other })).toBe(false);
    }
    expect(context.keyEquals({ ...material, masterKey: randomBytes(32) })).toBe(false);
    // The context keeps its own copy: the caller's array may change afterwards.
    material.masterKey[0]! ^= 1;
    expect(context.keyEquals({ ...material, masterKey: Uint8Array.from(material.masterKey) })).toBe(false);
  });
});

describe('SrtpContext against a model of the replay window and the rollover counter', () => {
  const material = { suite: 'AES_CM_128_HMAC_SHA1_80' as const, masterKey: randomBytes(16), masterSalt: randomBytes(14) };

  /** A small seeded generator (mulberry32): the same deliveries at every run. */
  const generator = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  it.each([1, 2, 3])('decides like the model for 4000 deliveries (seed %d): new, late within the window, too old, replayed, jumps ahead by less and more than the window, across a sequence wrap', (seed) => {
    const random = generator(seed);
    // Indices 0..1199, the sequence wrapping at index 400 (sequences from 65136).
    const count = 1200;
    const firstSequence = 65536 - 400;
    const sender = new SrtpContext(material);
    const payloads: Uint8Array[] = [];
    const packets: Uint8Array[] = [];
    for (let k = 0; k < count; k++) {
      const payload = randomBytes(20);
      const packet = rtpPacket((firstSequence + k) & 0xffff, 0x1234, payload);
      const length = sender.protectRtp(packet, 32);
      payloads.push(payload);
      packets.push(packet.slice(0, length));
    }
    expect(sender.counters.protectedRtp).toBe(count);
    const receiver = new SrtpContext(material);
    const delivered = new Set<number>();
    let highest = -1;
    const tally = { unprotectedRtp: 0, replayed: 0, tooOld: 0 };
    let cursor = 0;
    const kinds = new Set<string>();
    for (let step = 0; step < 4000 && cursor < count; step++) {
      const r = random();
      let k: number;
      if (r < 0.5) k = cursor++;
      else if (r < 0.75) k = Math.max(0, cursor - 1 - Math.floor(random() * 40));
      else if (r < 0.88) k = Math.max(0, cursor - 41 - Math.floor(random() * 60));
      else if (r < 0.97) k = cursor = Math.min(count - 1, cursor + 1 + Math.floor(random() * 40));
      else k = cursor = Math.min(count - 1, cursor + 64 + Math.floor(random() * 40));
      if (k >= cursor) cursor = k + 1;
      // The model: RFC 3711 3.3.2 with a 64-packet window.
      let expected: number;
      if (highest < 0 || k > highest) {
        expected = 32;
        kinds.add(highest >= 0 && k - highest >= 64 ? 'jump past the window' : highest >= 0 && k - highest >= 32 ? 'jump of 32 or more' : 'new');
      } else if (highest - k >= 64) {
        expected = SRTP_DROP.tooOld;
        kinds.add('too old');
      } else if (delivered.has(k)) {
        expected = SRTP_DROP.replayed;
        kinds.add(highest - k >= 32 ? 'replayed, 32 or more behind' : 'replayed');
      } else {
        expected = 32;
        kinds.add(highest - k >= 32 ? 'late, 32 or more behind' : 'late');
      }
      const copy = inBuffer(packets[k]!);
      const result = receiver.unprotectRtp(copy, packets[k]!.length);
      expect([step, k, result]).toEqual([step, k, expected]);
      if (expected === 32) {
        expect(Buffer.from(copy.subarray(12, 32)).equals(Buffer.from(payloads[k]!))).toBe(true);
        delivered.add(k);
        highest = Math.max(highest, k);
        tally.unprotectedRtp++;
      } else if (expected === SRTP_DROP.replayed) tally.replayed++;
      else tally.tooOld++;
    }
    expect(receiver.counters).toMatchObject({ ...tally, authenticationFailures: 0, malformed: 0 });
    // Every kind of decision was met.
    expect([...kinds].sort()).toEqual(['jump of 32 or more', 'jump past the window', 'late', 'late, 32 or more behind', 'new', 'replayed', 'replayed, 32 or more behind', 'too old']);
  });

  /** Protected copies of the packets with these sequences, in this order, from one sender. */
  const sent = (sequences: number[]) => {
    const sender = new SrtpContext(material);
    return sequences.map((sequence) => {
      const packet = rtpPacket(sequence, 0x66, new Uint8Array(20).fill(sequence & 0xff));
      return packet.slice(0, sender.protectRtp(packet, 32));
    });
  };
  const deliver = (receiver: SrtpContext, packet: Uint8Array) => receiver.unprotectRtp(inBuffer(packet), packet.length);

  it('the rollover estimate at its edges: exactly half a cycle ahead and behind (RFC 3711 3.3.1), forward runs past sequence 16384 in a later cycle, a sequence "before" the first cycle', () => {
    // Up to index 65636 (cycle 1, sequence 100), then 32768 ahead (sequence 32868: cycle 1, new);
    // or then 20000 and 20001, in cycle 1.
    const half = sent([0, 30000, 60000, 100, 32868]);
    const receiver = new SrtpContext(material);
    expect(half.map((packet) => deliver(receiver, packet))).toEqual([32, 32, 32, 32, 32]);
    const forward = sent([0, 30000, 60000, 100, 20000, 20001]);
    const fourth = new SrtpContext(material);
    expect(forward.map((packet) => deliver(fourth, packet))).toEqual([32, 32, 32, 32, 32, 32]);
    // Exactly half a cycle behind the highest (sequence 40000, then 7232): the same cycle, too old.
    const behind = sent([0, 30000, 40000, 7232]);
    const other = new SrtpContext(material);
    expect(behind.map((packet) => deliver(other, packet))).toEqual([32, 32, 32, SRTP_DROP.tooOld]);
    // Highest 100 in the first cycle, then 60000: not a cycle before the first (there is none): new.
    const early = sent([100, 60000]);
    const third = new SrtpContext(material);
    expect(early.map((packet) => deliver(third, packet))).toEqual([32, 32]);
  });

  it('the window after a jump of exactly 64 is empty, and an index exactly 32 behind is remembered', () => {
    // Indices 0..31 received, then 95 (64 ahead): 62 (33 behind, never received) is new.
    const packets = sent(Array.from({ length: 96 }, (_, n) => n));
    const receiver = new SrtpContext(material);
    for (let n = 0; n < 32; n++) expect(deliver(receiver, packets[n]!)).toBe(32);
    expect(deliver(receiver, packets[95]!)).toBe(32);
    expect(deliver(receiver, packets[62]!)).toBe(32);
    // 40 received, 8 missing: 8 (32 behind) is taken once, then refused as replayed.
    const again = new SrtpContext(material);
    for (let n = 0; n <= 40; n++) if (n !== 8) expect(deliver(again, packets[n]!)).toBe(32);
    expect(deliver(again, packets[8]!)).toBe(32);
    expect(deliver(again, packets[8]!)).toBe(SRTP_DROP.replayed);
  });

  it('a stream that starts at index 0 keeps 0 in its window when 1 and 2 come: 0 again is refused as replayed', () => {
    const packets = sent([0, 1, 2]);
    const receiver = new SrtpContext(material);
    expect(packets.map((packet) => deliver(receiver, packet))).toEqual([32, 32, 32]);
    expect(packets.map((packet) => deliver(receiver, packet))).toEqual([SRTP_DROP.replayed, SRTP_DROP.replayed, SRTP_DROP.replayed]);
    expect(receiver.counters).toMatchObject({ unprotectedRtp: 3, replayed: 3, tooOld: 0 });
  });

  it('a sender protecting an old packet again (a retransmission) keeps its rollover counter for what follows', () => {
    const sender = new SrtpContext(material);
    const protect = (sequence: number) => {
      const packet = rtpPacket(sequence, 0x55, new Uint8Array(20).fill(7));
      const length = sender.protectRtp(packet, 32);
      return Buffer.from(packet.subarray(0, length));
    };
    // Up to index 70000 (rollover 1, sequence 4464) in steps the estimate follows.
    for (const sequence of [0, 30000, 60000, 4464]) protect(sequence);
    // Index 38000 again (rollover 0), then sequence 6000: index 71536, rollover 1.
    expect(protect(38000).toString('hex')).toBe(referenceProtect(material.suite, material.masterKey, material.masterSalt, rtpPacket(38000, 0x55, new Uint8Array(20).fill(7)).subarray(0, 32), 0).toString('hex'));
    expect(protect(6000).toString('hex')).toBe(referenceProtect(material.suite, material.masterKey, material.masterSalt, rtpPacket(6000, 0x55, new Uint8Array(20).fill(7)).subarray(0, 32), 1).toString('hex'));
  });

  it('reads CSRCs and a header extension as header (left clear), refuses headers that do not fit, and takes a packet with no payload', () => {
    const sender = new SrtpContext(material);
    const receiver = new SrtpContext(material);
    // CC = 2, X = 1 with one extension word: the payload starts at 12 + 8 + 4 + 4 = 28.
    const packet = new Uint8Array(28 + 20 + 16);
    packet[0] = 0x80 | 0x10 | 2;
    packet[3] = 9;
    new DataView(packet.buffer).setUint32(8, 0x77);
    packet.set([0xbe, 0xde, 0x00, 0x01, 1, 2, 3, 4], 20);
    packet.fill(0xaa, 28, 48);
    const header = Buffer.from(packet.subarray(0, 28));
    const length = sender.protectRtp(packet, 48);
    expect(length).toBe(58);
    expect(Buffer.from(packet.subarray(0, 28)).equals(header)).toBe(true);
    expect(Buffer.from(packet.subarray(28, 48)).equals(Buffer.alloc(20, 0xaa))).toBe(false);
    expect(receiver.unprotectRtp(packet, length)).toBe(48);
    expect(Buffer.from(packet.subarray(28, 48)).equals(Buffer.alloc(20, 0xaa))).toBe(true);
    // An extension longer than the packet; an extension header cut off; a CSRC list cut off.
    const overrun = Uint8Array.from(packet);
    overrun[22] = 0;
    overrun[23] = 9;
    expect(sender.protectRtp(overrun, 48)).toBe(SRTP_DROP.malformed);
    const noExtensionHeader = new Uint8Array(16 + 16);
    noExtensionHeader[0] = 0x90;
    expect(sender.protectRtp(noExtensionHeader, 15)).toBe(SRTP_DROP.malformed);
    // With its 4 bytes there (an extension of no words), it is a packet with no payload.
    expect(sender.protectRtp(noExtensionHeader, 16)).toBe(26);
    const csrcs = new Uint8Array(20 + 16);
    csrcs[0] = 0x82;
    expect(sender.protectRtp(csrcs, 19)).toBe(SRTP_DROP.malformed);
    // Exactly the header: an empty payload is a packet.
    expect(sender.protectRtp(csrcs, 20)).toBe(30);
    // Shorter than a fixed header, or not version 2; a bare 12-byte header is a packet.
    const bare = new Uint8Array(12 + 16);
    bare[0] = 0x80;
    expect(sender.protectRtp(bare, 11)).toBe(SRTP_DROP.malformed);
    bare[0] = 0x40;
    expect(sender.protectRtp(bare, 12)).toBe(SRTP_DROP.malformed);
    bare[0] = 0x80;
    expect(sender.protectRtp(bare, 12)).toBe(22);
    expect(sender.counters).toMatchObject({ protectedRtp: 4, malformed: 5 });
  });

  it('SRTCP: a buffer with exactly the room needed is enough; a packet that is not RTCP version 2 is malformed; the counters count', () => {
    const sender = new SrtpContext(material);
    const receiver = new SrtpContext(material);
    const compound = Uint8Array.from([0x80, 201, 0, 1, 0, 0, 0, 9]);
    const exact = new Uint8Array(8 + 4 + 10);
    exact.set(compound);
    expect(sender.protectRtcp(exact, 8)).toBe(22);
    expect(sender.counters.protectedRtcp).toBe(1);
    expect(receiver.unprotectRtcp(exact, 21)).toBe(SRTP_DROP.malformed);
    const wrongVersion = Uint8Array.from(exact);
    wrongVersion[0] = 0x40;
    expect(receiver.unprotectRtcp(wrongVersion, 22)).toBe(SRTP_DROP.malformed);
    expect(receiver.unprotectRtcp(exact, 22)).toBe(8);
    expect(receiver.counters).toMatchObject({ unprotectedRtcp: 1, malformed: 2 });
  });

  it('keyEquals: the same key and salt only, whatever their lengths', () => {
    const context = new SrtpContext(material);
    expect(context.keyEquals(material)).toBe(true);
    expect(context.keyEquals({ ...material, masterKey: Buffer.concat([material.masterKey, Buffer.alloc(16)]) })).toBe(false);
    expect(context.keyEquals({ ...material, masterSalt: material.masterSalt.subarray(0, 13) })).toBe(false);
    expect(context.keyEquals({ ...material, masterKey: randomBytes(16) })).toBe(false);
  });

  it('SrtpError carries its code', () => {
    expect(new SrtpError('x')).toMatchObject({ code: 'ERR_MEDIA_SRTP_INVALID', message: 'x', name: 'SrtpError' });
  });
});

describe('HmacSha1 compares only the tag', () => {
  it('verify ignores what follows the tag in the buffer', () => {
    const key = randomBytes(20);
    const message = randomBytes(50);
    const hmac = new HmacSha1(key);
    const data = new Uint8Array(50 + 10 + 4).fill(0xff);
    data.set(message);
    hmac.update(message, 0, 50);
    hmac.finish(data, 50, 10);
    expect(Buffer.from(data.subarray(50, 60)).equals(createHmac('sha1', key).update(message).digest().subarray(0, 10))).toBe(true);
    // finish wrote the tag and nothing after it.
    expect(data[60]).toBe(0xff);
    hmac.update(data, 0, 50);
    expect(hmac.verify(data, 50, 10)).toBe(true);
  });
});
