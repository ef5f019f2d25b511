import { randomBytes } from 'node:crypto';
import { SRTP_SUITES, srtpSuiteSizes, type SrtpKeyMaterial, type SrtpSuite } from '../srtp/srtp-context';
import { SdpError } from './sdp-error';

/**
 * One `a=crypto` attribute (SDES, RFC 4568 section 9.1) as written: its tag, suite name, inline
 * keys and session parameters. The suite may be one we do not speak; {@link chooseCrypto} decides.
 *
 * @public
 */
export interface CryptoAttribute {
  /** 1 to 9 digits, echoed in the answer. */
  tag: number;
  /** The crypto suite as written (`AES_CM_128_HMAC_SHA1_80`, ...). */
  suite: string;
  keys: {
    /** The master key followed by the master salt. */
    keySalt: Uint8Array;
    /** The key's lifetime in packets, when given (`2^31` or `1024`). */
    lifetime: number | undefined;
    /** The master key identifier and its length in bytes, when given. */
    mki: { value: number; length: number } | undefined;
  }[];
  /** Session parameters, as written (`UNENCRYPTED_SRTCP`, `KDR=0`, `WSH=128`, ...). */
  sessionParams: string[];
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Reads the value of an `a=crypto` attribute (what follows `a=crypto:`).
 *
 * @throws {@link SdpError} when it is not `<tag> <suite> inline:<key||salt>[|lifetime][|mki:length] [params]`:
 * a tag that is not 1 to 9 digits, a key method other than `inline`, a key that is not base64, a
 * lifetime or MKI that is not a number. The message never holds the key.
 * @public
 */
export function parseCryptoAttribute(value: string): CryptoAttribute {
  const fields = value.trim().split(/[ \t]+/);
  if (fields.length < 3) throw new SdpError(`a=crypto needs a tag, a suite and a key (${fields.length} field(s) given)`);
  const [tagText, suite, keyParams, ...sessionParams] = fields as [string, string, string, ...string[]];
  if (!/^\d{1,9}$/.test(tagText)) throw new SdpError(`a=crypto tag "${tagText.slice(0, 12)}" is not 1 to 9 digits`);
  if (!/^[A-Za-z0-9_]+$/.test(suite)) throw new SdpError('a=crypto suite name holds characters a suite name cannot');
  const keys = keyParams.split(';').map((param) => {
    const colon = param.indexOf(':');
    const method = colon < 0 ? param : param.slice(0, colon);
    if (method.toLowerCase() !== 'inline') throw new SdpError(`a=crypto key method "${method.slice(0, 12)}" is not inline`);
    if (colon < 0) throw new SdpError('a=crypto inline key is missing');
    const [keySaltText = '', ...rest] = param.slice(colon + 1).split('|');
    if (!BASE64.test(keySaltText) || keySaltText.length % 4 === 1) throw new SdpError('a=crypto key is not base64');
    let lifetime: number | undefined;
    let mki: { value: number; length: number } | undefined;
    for (const part of rest) {
      const mkiMatch = /^(\d+):(\d+)$/.exec(part);
      if (mkiMatch && mki === undefined) {
        mki = { value: Number(mkiMatch[1]), length: Number(mkiMatch[2]) };
        continue;
      }
      const lifetimeMatch = /^(2\^)?(\d+)$/.exec(part);
      if (lifetimeMatch && lifetime === undefined && mki === undefined) {
        lifetime = lifetimeMatch[1] ? 2 ** Number(lifetimeMatch[2]) : Number(lifetimeMatch[2]);
        continue;
      }
      throw new SdpError(`a=crypto key parameter "${part.slice(0, 20)}" is neither a lifetime nor an MKI`);
    }
    return { keySalt: new Uint8Array(Buffer.from(keySaltText, 'base64')), lifetime, mki };
  });
  return { tag: Number(tagText), suite, keys, sessionParams };
}

/** What {@link chooseCrypto} found in an offer's or answer's `a=crypto` lines. @public */
export type CryptoChoice =
  | { ok: true; tag: number; key: SrtpKeyMaterial }
  | {
      ok: false;
      /** Why no line could be used, for a Warning header or a log line (never a key). */
      reason: string;
    };

/** Session parameters we can honour: UNENCRYPTED_SRTCP, a key derivation rate of 0, a window size hint. */
function unsupportedParam(params: string[]): string | undefined {
  return params.find((param) => param !== 'UNENCRYPTED_SRTCP' && param !== 'KDR=0' && !/^WSH=\d+$/.test(param));
}

/**
 * Picks, among the values of an SDP stream's `a=crypto` attributes, the first one we can use
 * (RFC 4568 section 7.1.1: the offerer lists them in its preference): a suite of
 * {@link SRTP_SUITES}, one key of the suite's size without MKI, and only session parameters we
 * honour. Lines that cannot be read at all are skipped like those we cannot use.
 *
 * @public
 */
export function chooseCrypto(values: readonly string[]): CryptoChoice {
  const reasons: string[] = [];
  for (const value of values) {
    let attribute: CryptoAttribute;
    try {
      attribute = parseCryptoAttribute(value);
    } catch (error) {
      reasons.push((error as SdpError).message);
      continue;
    }
    const suite = attribute.suite as SrtpSuite;
    if (!SRTP_SUITES.includes(suite)) {
      reasons.push(`suite ${attribute.suite} is not supported`);
      continue;
    }
    const sizes = srtpSuiteSizes(suite);
    if (attribute.keys.length !== 1) {
      reasons.push(`${suite}: ${attribute.keys.length} keys (only one, without MKI, is supported)`);
      continue;
    }
    const [key] = attribute.keys as [CryptoAttribute['keys'][number]];
    if (key.mki !== undefined) {
      reasons.push(`${suite}: a key with an MKI is not supported`);
      continue;
    }
    if (key.keySalt.length !== sizes.masterKey + sizes.masterSalt) {
      reasons.push(`${suite}: the key is ${key.keySalt.length} bytes, not ${sizes.masterKey + sizes.masterSalt}`);
      continue;
    }
    const unsupported = unsupportedParam(attribute.sessionParams);
    if (unsupported !== undefined) {
      reasons.push(`${suite}: session parameter ${unsupported.slice(0, 24)} is not supported`);
      continue;
    }
    return {
      ok: true,
      tag: attribute.tag,
      key: {
        suite,
        masterKey: key.keySalt.slice(0, sizes.masterKey),
        masterSalt: key.keySalt.slice(sizes.masterKey),
        unencryptedSrtcp: attribute.sessionParams.includes('UNENCRYPTED_SRTCP'),
      },
    };
  }
  return { ok: false, reason: values.length === 0 ? 'no a=crypto line' : `no usable a=crypto line: ${reasons.join('; ')}` };
}

/** A fresh random master key and salt for `suite`: what we offer or answer with. @public */
export function generateSrtpKey(suite: SrtpSuite, unencryptedSrtcp = false): SrtpKeyMaterial {
  const sizes = srtpSuiteSizes(suite);
  return { suite, masterKey: randomBytes(sizes.masterKey), masterSalt: randomBytes(sizes.masterSalt), unencryptedSrtcp };
}

/** The value of an `a=crypto` attribute for our key (`1 AES_CM_128_HMAC_SHA1_80 inline:...`). @public */
export function formatCryptoAttribute(tag: number, key: SrtpKeyMaterial): string {
  const keySalt = Buffer.concat([key.masterKey, key.masterSalt]).toString('base64');
  return `${tag} ${key.suite} inline:${keySalt}${key.unencryptedSrtcp === true ? ' UNENCRYPTED_SRTCP' : ''}`;
}
