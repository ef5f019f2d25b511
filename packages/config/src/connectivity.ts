import type { ConnectivityNode } from './config-document';
import { ConfigError, type ConfigWarning } from './errors';
import { parseHostPort } from './host-port';
import { MAX_CONNECTIVITIES } from './setting-definition';

/** SIP transports a Connectivity can name. @public */
export type SipTransport = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';

const TRANSPORTS: readonly SipTransport[] = ['UDP', 'TCP', 'TLS', 'WS', 'WSS'];

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
  /** `host[:port]` as written. Without a port, the host is looked up as an SRV record. */
  server: string;
  /** Host part of `server`. */
  host: string;
  /** Port part of `server`, when written. */
  port: number | undefined;
  /** Transport, upper-case. Missing: UDP. */
  protocol: SipTransport;
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
    const hostPort = parseHostPort(server);
    if (!hostPort.ok) throw new ConfigError('ERR_CONFIG_INVALID_CONNECTIVITY', `${key} server: ${hostPort.reason}`, location);
    const protocol = protocolText === '' ? 'UDP' : (protocolText.toUpperCase() as SipTransport);
    if (!TRANSPORTS.includes(protocol)) {
      throw new ConfigError('ERR_CONFIG_INVALID_CONNECTIVITY', `${key} protocol "${protocolText}" is not one of ${TRANSPORTS.join(', ')}`, { key: `${key}.protocol`, line: node.line });
    }
    result.push({ index, user, server, host: hostPort.value.host, port: hostPort.value.port, protocol, line: node.line });
  });
  return result;
}
