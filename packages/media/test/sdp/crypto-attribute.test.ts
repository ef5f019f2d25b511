import { chooseCrypto, formatCryptoAttribute, generateSrtpKey, parseCryptoAttribute, SdpError, SRTP_SUITES } from '@sip-endpoint/media';

// 30 bytes of key and salt, as baresip and Asterisk write them.
const KEY_SALT = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';
const bytes = Buffer.from(KEY_SALT, 'base64');

describe('parseCryptoAttribute', () => {
  it('reads tag, suite, key, lifetime, MKI and session parameters', () => {
    expect(parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_SALT}|2^20|1:4 KDR=0 UNENCRYPTED_SRTCP`)).toEqual({
      tag: 1,
      suite: 'AES_CM_128_HMAC_SHA1_80',
      keys: [{ keySalt: new Uint8Array(bytes), lifetime: 2 ** 20, mki: { value: 1, length: 4 } }],
      sessionParams: ['KDR=0', 'UNENCRYPTED_SRTCP'],
    });
    expect(parseCryptoAttribute(`123456789\tAES_CM_128_HMAC_SHA1_32\tinline:${KEY_SALT}|1024`).keys[0]).toMatchObject({ lifetime: 1024, mki: undefined });
    expect(parseCryptoAttribute(`2 F8_128_HMAC_SHA1_80 inline:${KEY_SALT};inline:${KEY_SALT}`).keys).toHaveLength(2);
  });

  it.each([
    ['', 'needs a tag, a suite and a key (1 field(s) given)'],
    ['1 AES_CM_128_HMAC_SHA1_80', 'needs a tag, a suite and a key (2 field(s) given)'],
    [`x1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_SALT}`, 'tag "x1" is not 1 to 9 digits'],
    [`1234567890 AES_CM_128_HMAC_SHA1_80 inline:${KEY_SALT}`, 'is not 1 to 9 digits'],
    [`1 AES-CM inline:${KEY_SALT}`, 'suite name holds characters'],
    [`1 AES_CM_128_HMAC_SHA1_80 uri:${KEY_SALT}`, 'key method "uri" is not inline'],
    ['1 AES_CM_128_HMAC_SHA1_80 inline', 'inline key is missing'],
    ['1 AES_CM_128_HMAC_SHA1_80 inline:', 'key is not base64'],
    ['1 AES_CM_128_HMAC_SHA1_80 inline:abc$def', 'key is not base64'],
    ['1 AES_CM_128_HMAC_SHA1_80 inline:abcde', 'key is not base64'],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_SALT}|2^x`, 'key parameter "2^x" is neither a lifetime nor an MKI'],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_SALT}|1:4|2^31`, 'key parameter "2^31" is neither'],
  ])('refuses %p with an SdpError that does not show the key', (value, message) => {
    let thrown: unknown;
    try {
      parseCryptoAttribute(value);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SdpError);
    expect((thrown as Error).message).toContain(message);
    expect((thrown as Error).message).not.toContain(KEY_SALT);
  });
});

describe('chooseCrypto', () => {
  it('takes the first line it can use, in the offer\'s order, with its tag and key', () => {
    const choice = chooseCrypto([`1 AEAD_AES_128_GCM inline:${KEY_SALT}AAAAAAAAAAAAAAAA`, `2 AES_CM_128_HMAC_SHA1_32 inline:${KEY_SALT}`, `3 AES_CM_128_HMAC_SHA1_80 inline:${KEY_SALT}`]);
    expect(choice).toEqual({
      ok: true,
      tag: 2,
      key: { suite: 'AES_CM_128_HMAC_SHA1_32', masterKey: new Uint8Array(bytes.subarray(0, 16)), masterSalt: new Uint8Array(bytes.subarray(16)), unencryptedSrtcp: false },
    });
  });

  it('honours UNENCRYPTED_SRTCP, KDR=0 and a window size hint', () => {
    const choice = chooseCrypto([`5 AES_CM_128_HMAC_SHA1_80 inline:${KEY_SALT}|2^31 UNENCRYPTED_SRTCP KDR=0 WSH=128`]);
    expect(choice).toMatchObject({ ok: true, tag: 5, key: { unencryptedSrtcp: true } });
  });

  it('says why no line could be used, line by line, without a key in the reason', () => {
    const choice = chooseCrypto([
      `1 AEAD_AES_256_GCM inline:${KEY_SALT}`,
      `2 AES_CM_128_HMAC_SHA1_80 inline:${KEY_SALT}|2^31|1:1`,
      `3 AES_CM_128_HMAC_SHA1_80 inline:${KEY_SALT};inline:${KEY_SALT}`,
      `4 AES_256_CM_HMAC_SHA1_80 inline:${KEY_SALT}`,
      `5 AES_CM_128_HMAC_SHA1_80 inline:${KEY_SALT} UNENCRYPTED_SRTP`,
      `6 AES_CM_128_HMAC_SHA1_80 inline:${KEY_SALT} KDR=24`,
      'garbage',
    ]);
    expect(choice).toEqual({
      ok: false,
      reason:
        'no usable a=crypto line: suite AEAD_AES_256_GCM is not supported; AES_CM_128_HMAC_SHA1_80: a key with an MKI is not supported; ' +
        'AES_CM_128_HMAC_SHA1_80: 2 keys (only one, without MKI, is supported); AES_256_CM_HMAC_SHA1_80: the key is 30 bytes, not 46; ' +
        'AES_CM_128_HMAC_SHA1_80: session parameter UNENCRYPTED_SRTP is not supported; AES_CM_128_HMAC_SHA1_80: session parameter KDR=24 is not supported; ' +
        'a=crypto needs a tag, a suite and a key (1 field(s) given)',
    });
    expect(chooseCrypto([])).toEqual({ ok: false, reason: 'no a=crypto line' });
  });

  it.each(SRTP_SUITES.map((suite) => [suite]))('reads back what formatCryptoAttribute wrote for %s, with and without UNENCRYPTED_SRTCP', (suite) => {
    for (const unencrypted of [false, true]) {
      const key = generateSrtpKey(suite, unencrypted);
      const value = formatCryptoAttribute(7, key);
      expect(value).toMatch(new RegExp(`^7 ${suite} inline:[A-Za-z0-9+/]+=*${unencrypted ? ' UNENCRYPTED_SRTCP' : ''}$`));
      const choice = chooseCrypto([value]);
      expect(choice).toEqual({ ok: true, tag: 7, key: { suite, masterKey: new Uint8Array(key.masterKey), masterSalt: new Uint8Array(key.masterSalt), unencryptedSrtcp: unencrypted } });
    }
    expect(Buffer.from(generateSrtpKey(suite).masterKey).equals(Buffer.from(generateSrtpKey(suite).masterKey))).toBe(false);
  });
});
