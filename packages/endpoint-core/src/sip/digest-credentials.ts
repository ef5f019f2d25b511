import { createHash, randomBytes } from 'node:crypto';

/** The digest algorithms we answer (RFC 7616, RFC 8760), strongest first. */
export const DIGEST_ALGORITHMS = ['SHA-512-256', 'SHA-256', 'MD5'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

const HASHES: Record<DigestAlgorithm, string> = { 'SHA-512-256': 'sha512-256', 'SHA-256': 'sha256', MD5: 'md5' };

/** A challenge as sip.js's grammar reads a WWW-Authenticate or Proxy-Authenticate header. */
interface Challenge {
  realm?: string;
  nonce?: string;
  opaque?: string;
  stale?: boolean;
  algorithm?: string;
  qop?: string[] | string;
}

/** The request as sip.js hands it to credentials. */
interface Request {
  method: string;
  ruri: { toString(): string };
}

/**
 * Digest credentials for sip.js's challenge handling (its `digestAuthenticationFactory`, a patch:
 * `src/sip/README.md`): MD5, SHA-256 and SHA-512-256 (RFC 8760), without qop (RFC 2069) or with
 * `qop=auth` or `auth-int` (the body's hash in A2), a fresh cnonce for each answer and the nonce
 * count going up for each use of a nonce, so that a nonce and count are never sent twice. sip.js's
 * own credentials know MD5 only and hash an empty body for auth-int.
 */
export class DigestCredentials {
  readonly #username: string;
  readonly #password: string;
  #nonce: string | undefined;
  #nonceCount = 0;
  #header: string | undefined;
  readonly #warn: (message: string) => void;
  readonly #cnonce: () => string;

  /** `cnonce` makes each answer's client nonce (12 random bytes in hex unless a test fixes it). */
  constructor(username: string, password: string, warn: (message: string) => void = () => undefined, cnonce: () => string = () => randomBytes(12).toString('hex')) {
    this.#username = username;
    this.#password = password;
    this.#warn = warn;
    this.#cnonce = cnonce;
  }

  /** Answers `challenge` for `request` (and its `body`); false when the challenge cannot be answered. */
  authenticate(request: Request, challenge: Challenge, body?: string): boolean {
    const algorithm = String(challenge.algorithm ?? 'MD5').toUpperCase() as DigestAlgorithm;
    if (!DIGEST_ALGORITHMS.includes(algorithm)) {
      this.#warn(`a digest challenge with algorithm ${algorithm}: only ${DIGEST_ALGORITHMS.join(', ')} are answered`);
      return false;
    }
    const { realm, nonce } = challenge;
    if (!realm || !nonce) {
      this.#warn('a digest challenge without realm or nonce');
      return false;
    }
    const offered = (Array.isArray(challenge.qop) ? challenge.qop : challenge.qop ? [challenge.qop] : []).map((q) => q.toLowerCase());
    // auth when offered (it does not depend on a body a proxy may rewrite), else auth-int.
    const qop = offered.length === 0 ? undefined : offered.includes('auth') ? 'auth' : offered.includes('auth-int') ? 'auth-int' : null;
    if (qop === null) {
      this.#warn(`a digest challenge whose qop (${offered.join(', ')}) is neither auth nor auth-int`);
      return false;
    }
    if (nonce !== this.#nonce) {
      this.#nonce = nonce;
      this.#nonceCount = 0;
    }
    this.#nonceCount = (this.#nonceCount % 0xffffffff) + 1;
    const h = (text: string): string => createHash(HASHES[algorithm]).update(text, 'utf8').digest('hex');
    const uri = request.ruri.toString();
    const ha1 = h(`${this.#username}:${realm}:${this.#password}`);
    const ha2 = qop === 'auth-int' ? h(`${request.method}:${uri}:${h(body ?? '')}`) : h(`${request.method}:${uri}`);
    const nc = this.#nonceCount.toString(16).padStart(8, '0');
    const cnonce = this.#cnonce();
    const response = qop ? h(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : h(`${ha1}:${nonce}:${ha2}`);
    const quote = (text: string): string => `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
    const params = [`username=${quote(this.#username)}`, `realm=${quote(realm)}`, `nonce=${quote(nonce)}`, `uri=${quote(uri)}`, `response=${quote(response)}`, `algorithm=${algorithm}`];
    if (challenge.opaque !== undefined) params.push(`opaque=${quote(challenge.opaque)}`);
    if (qop) params.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
    this.#header = `Digest ${params.join(', ')}`;
    return true;
  }

  /** The Authorization or Proxy-Authorization value of the last answer. */
  toString(): string {
    if (!this.#header) throw new Error('no digest challenge answered yet');
    return this.#header;
  }
}
