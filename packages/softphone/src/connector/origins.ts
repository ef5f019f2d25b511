/**
 * Whether a browser `Origin` may use the connector, per `allowed_origin_headers`: FQDNs
 * (`gwa-use1.genesyscloud.com`) and domains in star notation (`*.genesyscloud.com`: any name
 * ending in `.genesyscloud.com`, not `genesyscloud.com` itself). An entry may carry a scheme and a
 * port (`https://wwe.example.com:8443`), which must then match too; without them any scheme and
 * port match. Comparison ignores case. An empty list allows every origin.
 *
 * @param origin - the request's `Origin` header.
 * @param allowed - the `allowed_origin_headers` entries.
 * @public
 */
export function originAllowed(origin: string, allowed: readonly string[]): boolean {
  const entries = allowed.map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== '');
  if (entries.length === 0) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" and other opaque origins match no entry
  }
  const host = url.hostname.toLowerCase();
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const port = url.port || (scheme === 'https' ? '443' : scheme === 'http' ? '80' : '');
  return entries.some((entry) => {
    const parsed = /^(?:([a-z][a-z0-9+.-]*):\/\/)?([^/:]+|\[[^\]]+\])(?::(\d+))?\/?$/.exec(entry);
    if (!parsed) return false;
    const [, entryScheme, entryHost = '', entryPort] = parsed;
    if (entryScheme !== undefined && entryScheme !== scheme) return false;
    if (entryPort !== undefined && entryPort !== port) return false;
    if (entryScheme !== undefined && entryPort === undefined && port !== (entryScheme === 'https' ? '443' : entryScheme === 'http' ? '80' : port)) return false;
    return hostMatches(entryHost, host);
  });
}

/** `*` stands for one or more labels: `*.example.com` matches `a.example.com` and `a.b.example.com`. */
function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (!pattern.includes('*')) return pattern === host;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[a-z0-9-]+(?:\\.[a-z0-9-]+)*');
  return new RegExp(`^${source}$`).test(host);
}
