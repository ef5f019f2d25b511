/** What replaces a secret in the log. */
export const REDACTED = '<redacted>';

/** Passwords shorter than this are only removed where the syntax shows them (a literal search would shred the log). */
const MIN_LITERAL_SECRET = 4;

/** `text` as a regular expression that matches it literally. */
export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The rules, applied in order. Each keeps what names the secret and replaces only the secret.
 */
const RULES: readonly { gate: RegExp; pattern: RegExp; replace: string }[] = [
  // Authorization and Proxy-Authorization header values, folded continuation lines included
  // (the Digest response, the username's credentials, a Bearer token).
  { gate: /authorization/i, pattern: /\b((?:Proxy-)?Authorization[ \t]*:)[^\r\n]*(?:\r?\n[ \t]+[^\r\n]*)*/gi, replace: `$1 ${REDACTED}` },
  // A Digest response parameter found anywhere else.
  { gate: /response[ \t]*=/i, pattern: /\b(response[ \t]*=[ \t]*)("[^"\r\n]*"|[^\s,;]+)/gi, replace: `$1${REDACTED}` },
  // Bearer tokens.
  { gate: /bearer/i, pattern: /\b(Bearer[ \t]+)[A-Za-z0-9\-._~+/]+=*/gi, replace: `$1${REDACTED}` },
  // key=value, key: value and "key": "value" for passwords, secrets, tokens and API keys.
  {
    gate: /passw|pwd|secret|token|api[_-]?key/i,
    pattern: /\b((?:[\w-]*password|[\w-]*passwd|pwd|[\w-]*secret|[\w-]*token|api[_-]?key)["']?[ \t]*[:=][ \t]*)("[^"\r\n]*"|'[^'\r\n]*'|[^\s,;&"'}]+)/gi,
    replace: `$1${REDACTED}`,
  },
  // SDES keys of SRTP (RFC 4568): a=crypto:<tag> <suite> inline:<key||lifetime|mki>.
  { gate: /inline:/i, pattern: /(a=crypto:[ \t]*\d+[ \t]+\S+[ \t]+inline:)[^\s|]+/gi, replace: `$1${REDACTED}` },
  // A password in a SIP URI's userinfo (sip:user:password@host, RFC 3261 19.1.1 advises against it).
  { gate: /sips?:[^@\s]*:[^@\s]*@/i, pattern: /\b(sips?:[^:@\s;,<>"]+):[^@\s;,<>"]+@/gi, replace: `$1:${REDACTED}@` },
];

/**
 * Removes secrets from log text: `Authorization:` and `Proxy-Authorization:` header values,
 * Digest `response=` values, Bearer tokens, `password=`/`token=`/`secret=`-style values (also
 * as `key: value` and JSON), SRTP `a=crypto` keys, passwords in SIP URIs, and every occurrence
 * of the given secrets (the configured passwords) of 4 characters or more.
 *
 * @example
 * ```ts
 * new Redactor(['s3cret!']).redact('REGISTER ...\r\nAuthorization: Digest username="5320", response="6f1e..."');
 * // 'REGISTER ...\r\nAuthorization: <redacted>'
 * ```
 *
 * @public
 */
export class Redactor {
  readonly #literal: RegExp | undefined;

  /** @param secrets - values that must never be written, whatever the text around them */
  constructor(secrets: Iterable<string> = []) {
    const long = [...new Set(secrets)].filter((secret) => secret.length >= MIN_LITERAL_SECRET).sort((a, b) => b.length - a.length);
    this.#literal = long.length > 0 ? new RegExp(long.map(escapeRegExp).join('|'), 'g') : undefined;
  }

  /** The text with every secret replaced by `<redacted>`. */
  redact(text: string): string {
    let result = text;
    // Each rule's gate is a plain search, much cheaper than the rule on text it does not touch (most
    // of the log); a rule runs only where its gate found something.
    for (const rule of RULES) if (rule.gate.test(result)) result = result.replace(rule.pattern, rule.replace);
    if (this.#literal) result = result.replace(this.#literal, REDACTED);
    return result;
  }
}
