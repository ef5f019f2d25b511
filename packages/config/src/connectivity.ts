import type { ConnectivityNode } from './config-document';
import { ConfigError, type ConfigWarning } from './errors';
import { parseHostPort } from './host-port';
import { MAX_CONNECTIVITIES } from './setting-definition';

/**
 * SIP transports a Connectivity can name. `HTTPS` is the specification's WebRTC connectivity: SIP
 * over secure WebSocket to a WebRTC gateway, with the calls' media run by WebRTC (ICE, DTLS-SRTP).
 *
 * @public
 */
export type SipTransport = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS' | 'HTTPS';

const TRANSPORTS: readonly SipTransport[] = ['UDP', 'TCP', 'TLS', 'WS', 'WSS', 'HTTPS'];

/** Transports over WebSocket: their server may be a URL with a path. */
const WEBSOCKET_TRANSPORTS: readonly SipTransport[] = ['WS', 'WSS', 'HTTPS'];

/** URL schemes a WebSocket server may be written with, and the transports each fits. */
const SCHEMES: Readonly<Record<string, readonly SipTransport[]>> = { 'ws:': ['WS'], 'wss:': ['WSS', 'HTTPS'], 'https:': ['HTTPS'] };

/**
 * Splits a Connectivity `server` into `host[:port]` and the path of a WebSocket URL: over WS, WSS
 * and HTTPS it may be written `host[:port][/path]` or as a URL (`wss://host:port/path`,
 * `https://gateway.example.com/webrtc`); other transports take `host[:port]` only.
 *
 * @returns the host and port text and the path (undefined when none is written), or why not.
 * @public
 */
export function splitServer(server: string, protocol: SipTransport): { ok: true; hostPort: string; path: string | undefined } | { ok: false; reason: string } {
  let rest = server.trim();
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(rest);
  if (scheme) {
    const name = scheme[1]!.toLowerCase();
    const fits = SCHEMES[name];
    if (!fits) return { ok: false, reason: `"${scheme[1]}//" is not a WebSocket URL scheme (ws://, wss:// or https://)` };
    if (!fits.includes(protocol)) return { ok: false, reason: `a ${name}// URL does not fit protocol ${protocol} (it fits ${fits.join(' or ')})` };
    rest = rest.slice(scheme[0].length);
  }
  const slash = rest.indexOf('/');
  if (slash < 0) return { ok: true, hostPort: rest, path: undefined };
  if (!WEBSOCKET_TRANSPORTS.includes(protocol)) return { ok: false, reason: `a path ("${rest.slice(slash)}") is only for WS, WSS and HTTPS servers` };
  const path = rest.slice(slash);
  if (/[\s?#]/.test(path)) return { ok: false, reason: `the path "${path}" has a space, "?" or "#"` };
  return { ok: true, hostPort: rest.slice(0, slash), path };
}

/**
 * One `<Connectivity user server protocol/>` line of the Basic container: a DN registered with
 * one SIP Server (or SBC).
 *
 * @public
 */
export interface Connectivity {
  /** 0-based line index; `proxies.proxy<index>` holds its settings. */
  index: number;
  /** The DN. */
  user: string;
  /**
   * `host[:port]` as written (over WS, WSS and HTTPS also `host[:port]/path` or a `wss://` or
   * `https://` URL). Without a port, the host is looked up as an SRV record.
   */
  server: string;
  /** Host part of `server`. */
  host: string;
  /** Port part of `server`, when written. */
  port: number | undefined;
  /** Transport, upper-case. Missing: UDP. */
  protocol: SipTransport;
  /** The WebSocket URL's path (WS, WSS, HTTPS), when the server names one. */
  path: string | undefined;
  /** 1-based line in the file, when read from a file. */
  line: number | undefined;
}

/** Reads the Connectivity elements; invalid ones throw, empty ones and those past the sixth are noted and skipped. */
export function readConnectivities(nodes: readonly ConnectivityNode[], warnings: ConfigWarning[]): Connectivity[] {
  const result: Connectivity[] = [];
  nodes.forEach((node, index) => {
    const key = `Connectivity[${index}]`;
    const user = (node.attributes['user'] ?? '').trim();
    const server = (node.attributes['server'] ?? '').trim();
    const protocolText = (node.attributes['protocol'] ?? node.attributes['transport'] ?? '').trim();
    if (user === '' && server === '') {
      warnings.push({ kind: 'ignored', key, given: undefined, used: undefined, line: node.line, message: `${key} has no user and no server and is ignored` });
      return;
    }
    if (index >= MAX_CONNECTIVITIES) {
      warnings.push({ kind: 'ignored', key, given: `${user}@${server}`, used: undefined, line: node.line, message: `${key}: an endpoint has at most ${MAX_CONNECTIVITIES} connections; this one is ignored` });
      return;
    }
    const location = { key: `${key}.server`, line: node.line };
    if (server === '') throw new ConfigError('ERR_CONFIG_INVALID_CONNECTIVITY', `${key} has a user but no server`, location);
    if (user === '') throw new ConfigError('ERR_CONFIG_INVALID_CONNECTIVITY', `${key} has a server but no user (DN)`, { key: `${key}.user`, line: node.line });
    const protocol = protocolText === '' ? 'UDP' : (protocolText.toUpperCase() as SipTransport);
    if (!TRANSPORTS.includes(protocol)) {
      throw new ConfigError('ERR_CONFIG_INVALID_CONNECTIVITY', `${key} protocol "${protocolText}" is not one of ${TRANSPORTS.join(', ')}`, { key: `${key}.protocol`, line: node.line });
    }
    const split = splitServer(server, protocol);
    if (!split.ok) throw new ConfigError('ERR_CONFIG_INVALID_CONNECTIVITY', `${key} server: ${split.reason}`, location);
    const hostPort = parseHostPort(split.hostPort);
    if (!hostPort.ok) throw new ConfigError('ERR_CONFIG_INVALID_CONNECTIVITY', `${key} server: ${hostPort.reason}`, location);
    result.push({ index, user, server, host: hostPort.value.host, port: hostPort.value.port, protocol, path: split.path, line: node.line });
  });
  return result;
}
