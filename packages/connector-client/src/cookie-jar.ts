/**
 * The cookies of one Softphone, kept from `Set-Cookie` and sent back in `Cookie` (Node's fetch has
 * no cookie jar). The client only talks to one origin, under one path, so name is the only key.
 */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  /** The value of a cookie, or undefined. */
  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  /** Sets (or, with undefined, removes) a cookie by hand. */
  set(name: string, value: string | undefined): void {
    if (value === undefined || value === '') this.#cookies.delete(name);
    else this.#cookies.set(name, value);
  }

  /** Forgets every cookie. */
  clear(): void {
    this.#cookies.clear();
  }

  /**
   * Applies the `Set-Cookie` header lines of a response: an empty value, `Max-Age` of zero or less,
   * or an `Expires` in the past removes the cookie (the spec's `DELETE /session` answers
   * `SEPSESSIONID=`).
   */
  store(setCookieLines: readonly string[], now = Date.now()): void {
    for (const line of setCookieLines) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue; // RFC 6265 5.2: no '=' or an empty name: ignore the line.
      const name = pair.slice(0, eq).trim();
      let value = pair.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (name === '') continue;
      let expired = value === '';
      for (const attribute of attributes) {
        const sep = attribute.indexOf('=');
        const key = (sep < 0 ? attribute : attribute.slice(0, sep)).trim().toLowerCase();
        const attrValue = sep < 0 ? '' : attribute.slice(sep + 1).trim();
        if (key === 'max-age' && /^-?\d+$/.test(attrValue) && Number(attrValue) <= 0) expired = true;
        if (key === 'expires') {
          const when = Date.parse(attrValue);
          if (!Number.isNaN(when) && when <= now) expired = true;
        }
      }
      if (expired) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  /** The `Cookie` request header, or undefined when there is no cookie. */
  header(): string | undefined {
    if (this.#cookies.size === 0) return undefined;
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The `Set-Cookie` lines of a response, whether or not its Headers has `getSetCookie()`. */
export function setCookieLines(headers: Headers): string[] {
  const withGetter = headers as Headers & { getSetCookie?: () => string[] };
  if (typeof withGetter.getSetCookie === 'function') return withGetter.getSetCookie();
  const joined = headers.get('set-cookie');
  if (joined === null) return [];
  // Joined with ", ": split before each "name=" that follows a comma (an Expires date has no '=').
  return joined.split(/,(?=\s*[^;,=\s]+=)/).map((line) => line.trim());
}
