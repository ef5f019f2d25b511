import { isIP } from 'node:net';
import { systemResolver, type AddressResolver } from './address-lookup';
import { splitServer, type SipTransport } from './connectivity';
import { ConfigError } from './errors';
import { parseHostPort } from './host-port';
import type { IpVersion } from './ip-versions';

/** One place to send SIP requests to. @public */
export interface ServerTarget {
  /** The name the address came from (SRV target or the host itself). */
  host: string;
  /** IP address. */
  address: string;
  port: number;
  family: IpVersion;
  transport: SipTransport;
  /** SRV priority (lower first); 0 when no SRV record was used. */
  priority: number;
}

/** Options of {@link resolveServer}. @public */
export interface ResolveServerOptions {
  /** DNS access; default: the system resolver. */
  resolver?: AddressResolver;
  /** Families to try, preferred first (`ip_versions`). Default: IPv4 then IPv6. */
  ipVersions?: readonly IpVersion[];
}

/** Most SRV targets used per service, as the specification sets. @public */
export const MAX_SRV_TARGETS = 20;

const SRV_PREFIX: Partial<Record<SipTransport, string>> = {
  UDP: '_sip._udp.',
  TCP: '_sip._tcp.',
  TLS: '_sips._tcp.',
};

/** Default port of a transport when neither the server text nor SRV gives one. */
export function defaultPort(transport: SipTransport): number {
  if (transport === 'HTTPS') return 443;
  return transport === 'TLS' || transport === 'WSS' ? 5061 : 5060;
}

/**
 * Turns a Connectivity `server` into the addresses to try, in order.
 *
 * @remarks
 * `host:port` and IP literals are looked up as A/AAAA. A host without a port is first looked up as
 * SRV (`_sip._udp`, `_sip._tcp` or `_sips._tcp` by transport), ordered by priority with the weight
 * ignored, at most 20 targets; each target resolves in one family only (IPv4 and IPv6 are not mixed
 * for one name). Without SRV records the host's A/AAAA records are used with the default port.
 *
 * @throws {@link ConfigError} `ERR_CONFIG_INVALID_CONNECTIVITY` for a malformed server text,
 * `ERR_CONFIG_SERVER_UNRESOLVED` when nothing resolves or DNS fails.
 * @public
 */
export async function resolveServer(server: string, transport: SipTransport, options: ResolveServerOptions = {}): Promise<ServerTarget[]> {
  const split = splitServer(server, transport);
  if (!split.ok) throw new ConfigError('ERR_CONFIG_INVALID_CONNECTIVITY', `server: ${split.reason}`, { key: 'server' });
  const parsed = parseHostPort(split.hostPort);
  if (!parsed.ok) throw new ConfigError('ERR_CONFIG_INVALID_CONNECTIVITY', `server: ${parsed.reason}`, { key: 'server' });
  const { host, port } = parsed.value;
  const resolver = options.resolver ?? systemResolver;
  const families = options.ipVersions ?? ['IPv4', 'IPv6'];

  if (parsed.value.ipVersion !== 0) {
    return [{ host, address: host, port: port ?? defaultPort(transport), family: parsed.value.ipVersion === 4 ? 'IPv4' : 'IPv6', transport, priority: 0 }];
  }

  const addressesOf = async (name: string): Promise<{ family: IpVersion; addresses: string[] }> => {
    for (const family of families) {
      const addresses = (await resolver.lookup(name, family === 'IPv4' ? 4 : 6)).filter((address) => isIP(address) !== 0);
      if (addresses.length > 0) return { family, addresses };
    }
    return { family: families[0] ?? 'IPv4', addresses: [] };
  };

  try {
    const prefix = SRV_PREFIX[transport];
    if (port === undefined && prefix !== undefined) {
      const records = await resolver.resolveSrv(`${prefix}${host}`);
      if (records.length > 0) {
        const ordered = records
          .map((record, index) => ({ record, index }))
          .sort((a, b) => a.record.priority - b.record.priority || a.index - b.index)
          .slice(0, MAX_SRV_TARGETS);
        const targets: ServerTarget[] = [];
        for (const { record } of ordered) {
          const { family, addresses } = await addressesOf(record.name);
          for (const address of addresses) targets.push({ host: record.name, address, port: record.port, family, transport, priority: record.priority });
        }
        if (targets.length > 0) return targets;
        throw new ConfigError('ERR_CONFIG_SERVER_UNRESOLVED', `no SRV target of ${prefix}${host} resolves to an address`, { key: 'server' });
      }
    }
    const { family, addresses } = await addressesOf(host);
    if (addresses.length === 0) {
      throw new ConfigError('ERR_CONFIG_SERVER_UNRESOLVED', `${host} has no ${families.join(' or ')} address${port === undefined && prefix ? ' and no SRV record' : ''}`, { key: 'server' });
    }
    return addresses.map((address) => ({ host, address, port: port ?? defaultPort(transport), family, transport, priority: 0 }));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError('ERR_CONFIG_SERVER_UNRESOLVED', `looking up ${host} failed: ${(error as Error).message}`, { key: 'server' }, { cause: error });
  }
}
