import { isIP } from 'node:net';

/**
 * A `host[:port]` text, split. IPv6 literals are written in brackets when a port follows
 * (`[2001:db8::1]:5060`); a bare IPv6 literal has no port.
 *
 * @public
 */
export interface HostPort {
  /** Host name or IP literal (without brackets). */
  host: string;
  /** The port, when one is written. */
  port: number | undefined;
  /** 4 or 6 for an IP literal, 0 for a host name. */
  ipVersion: 0 | 4 | 6;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*\.?$/i;

/**
 * Splits `host[:port]`. Returns a reason instead when the text is not one. Used for Connectivity servers and by `resolveServer`; not exported by the package.
 *
 * @internal
 */
export function parseHostPort(text: string): { ok: true; value: HostPort } | { ok: false; reason: string } {
  const value = text.trim();
  let host: string;
  let portText: string | undefined;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    // Stryker disable next-line EqualityOperator: the text starts with "[", so a "]" is never at index 0.
    if (close < 0) return { ok: false, reason: `"${text}" has no closing bracket` };
    host = value.slice(1, close);
    const rest = value.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return { ok: false, reason: `"${text}" has text after the bracket` };
      portText = rest.slice(1);
    }
    if (isIP(host) !== 6) return { ok: false, reason: `"${host}" is not an IPv6 address` };
  } else if (value.indexOf(':') !== value.lastIndexOf(':')) {
    host = value;
    if (isIP(host) !== 6) return { ok: false, reason: `"${text}" is not host:port` };
  } else {
    const colon = value.indexOf(':');
    host = colon >= 0 ? value.slice(0, colon) : value;
    // Stryker disable next-line EqualityOperator: a colon at index 0 leaves no host, refused just after whatever the port.
    portText = colon >= 0 ? value.slice(colon + 1) : undefined;
  }
  if (host === '') return { ok: false, reason: `"${text}" names no host` };
  const ipVersion = isIP(host) as 0 | 4 | 6;
  if (ipVersion === 0 && !HOST_NAME.test(host)) return { ok: false, reason: `"${host}" is not a host name or IP address` };
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return { ok: false, reason: `"${portText}" is not a port` };
    port = Number.parseInt(portText, 10);
    if (port < 1 || port > 65535) return { ok: false, reason: `port ${port} is outside 1 to 65535` };
  }
  return { ok: true, value: { host, port, ipVersion } };
}
