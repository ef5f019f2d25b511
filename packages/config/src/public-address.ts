import { hostname as osHostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { systemResolver, type AddressResolver } from './address-lookup';
import type { EndpointConfig } from './endpoint-config';
import { ConfigError } from './errors';
import type { IpVersion } from './ip-versions';
import type { InterfaceRule, PublicAddressSpec } from './public-address-spec';

/** One address of a network interface, as `os.networkInterfaces()` gives it. @public */
export interface InterfaceAddress {
  address: string;
  family: 'IPv4' | 'IPv6' | 4 | 6;
  internal: boolean;
  mac?: string;
}

/** Options of {@link resolvePublicAddress}; each defaults to the running machine's. @public */
export interface PublicAddressOptions {
  /** Interfaces by name, in the system's order. Default: `os.networkInterfaces()`. */
  interfaces?: Record<string, readonly InterfaceAddress[] | undefined>;
  /** Adapter descriptions by interface name; `if=` rules and `$name` match these too. */
  descriptions?: Record<string, string>;
  /** Standard host name, for `$host`. Default: `os.hostname()`. */
  hostname?: string;
  /** Fully qualified name, for `$fqdn`. Default: the host name if it has a dot, else its reverse lookup. */
  fqdn?: string;
  /** Name resolution for host names. Default: the system resolver. */
  resolver?: Pick<AddressResolver, 'lookup'> & { reverse?: (address: string) => Promise<string[]> };
}

/**
 * The local address the endpoint uses.
 *
 * @public
 */
export interface ResolvedPublicAddress {
  /** The IP address: bound to, and written in SDP. */
  address: string;
  family: IpVersion;
  /** What Contact carries: the host name or FQDN for an explicit name or `$fqdn`, else the address. */
  contactHost: string;
  /** Interface the address belongs to, when it is a local one. */
  interfaceName: string | undefined;
  /** MAC address of that interface, when known (for `include_mac_address`). */
  mac: string | undefined;
  /** True when no external interface qualified and a loopback address was taken instead. */
  loopbackFallback: boolean;
  /** The `public_address` form this came from. */
  spec: PublicAddressSpec;
}

interface Candidate {
  interfaceName: string;
  description: string;
  address: string;
  family: IpVersion;
  internal: boolean;
  mac: string | undefined;
}

function familyOf(value: InterfaceAddress['family']): IpVersion {
  return value === 4 || value === 'IPv4' ? 'IPv4' : 'IPv6';
}

function usable(candidate: Candidate): boolean {
  const address = candidate.address.toLowerCase();
  if (address === '0.0.0.0' || address === '::') return false;
  if (candidate.family === 'IPv4') return !address.startsWith('169.254.');
  return !/^fe[89ab][0-9a-f]:/.test(address);
}

function candidatesOf(options: PublicAddressOptions): Candidate[] {
  const interfaces = options.interfaces ?? (networkInterfaces() as Record<string, readonly InterfaceAddress[] | undefined>);
  const result: Candidate[] = [];
  for (const [interfaceName, addresses] of Object.entries(interfaces)) {
    for (const entry of addresses ?? []) {
      result.push({
        interfaceName,
        description: options.descriptions?.[interfaceName] ?? '',
        address: entry.address,
        family: familyOf(entry.family),
        internal: entry.internal,
        mac: entry.mac && entry.mac !== '00:00:00:00:00:00' ? entry.mac : undefined,
      });
    }
  }
  return result.filter(usable);
}

function nameMatches(candidate: Candidate, name: string): boolean {
  const wanted = name.toLowerCase();
  return candidate.interfaceName.toLowerCase().includes(wanted) || candidate.description.toLowerCase().includes(wanted);
}

/**
 * Picks the first address in `families` order, interfaces in system order; external interfaces
 * first, loopback only when nothing else qualifies and `allowLoopback`.
 */
function pick(candidates: readonly Candidate[], families: readonly IpVersion[], allowLoopback: boolean): { candidate: Candidate; loopback: boolean } | undefined {
  for (const internal of allowLoopback ? [false, true] : [false]) {
    for (const family of families) {
      const found = candidates.find((candidate) => candidate.family === family && candidate.internal === internal);
      if (found) return { candidate: found, loopback: internal };
    }
  }
  return undefined;
}

function ruleMatches(rule: InterfaceRule, interfaceCandidates: readonly Candidate[]): boolean {
  switch (rule.type) {
    case 'if':
    case 'if!=':
      return interfaceCandidates.some((candidate) => nameMatches(candidate, rule.name));
    case 'net':
    case 'net!=':
      return interfaceCandidates.some((candidate) => rule.cidr.contains(candidate.address));
  }
}

function unavailable(what: string): ConfigError {
  return new ConfigError('ERR_CONFIG_ADDRESS_UNAVAILABLE', `public_address: ${what}`, { key: 'policy.endpoint.public_address' });
}

async function lookupFirst(resolver: Pick<AddressResolver, 'lookup'>, host: string, families: readonly IpVersion[]): Promise<{ address: string; family: IpVersion } | undefined> {
  for (const family of families) {
    const [address] = await resolver.lookup(host, family === 'IPv4' ? 4 : 6);
    if (address !== undefined) return { address, family };
  }
  return undefined;
}

/**
 * Resolves `policy.endpoint.public_address` (with `policy.endpoint.ip_versions`) to the address
 * the endpoint binds, writes in SDP and puts in Contact.
 *
 * @remarks
 * `$auto` takes the first usable address (not link-local) of the first interface in the system's
 * order, families per `ip_versions`; when the machine has only loopback, loopback is used and
 * `loopbackFallback` says so. `$net:`, `$name` and `$(...)` forms throw
 * `ERR_CONFIG_ADDRESS_UNAVAILABLE` while no interface qualifies: the endpoint waits and tries again
 * (a VPN may come up later). An explicit host name and `$fqdn` go into Contact as names; SDP always
 * gets an address.
 *
 * @public
 */
export async function resolvePublicAddress(config: EndpointConfig, options: PublicAddressOptions = {}): Promise<ResolvedPublicAddress> {
  const spec = config.get('policy.endpoint.public_address');
  const ipVersions = config.get('policy.endpoint.ip_versions');
  const resolver = options.resolver ?? systemResolver;
  const candidates = candidatesOf(options);
  const fromCandidate = (candidate: Candidate, loopback: boolean): ResolvedPublicAddress => ({
    address: candidate.address,
    family: candidate.family,
    contactHost: candidate.address,
    interfaceName: candidate.interfaceName,
    mac: candidate.mac,
    loopbackFallback: loopback,
    spec,
  });
  const byAddress = (address: string): Candidate | undefined => candidates.find((candidate) => candidate.address.toLowerCase() === address.toLowerCase());
  const fromName = async (name: string, contactHost: string): Promise<ResolvedPublicAddress> => {
    const found = isIP(name) !== 0 ? { address: name, family: (isIP(name) === 4 ? 'IPv4' : 'IPv6') as IpVersion } : await lookupFirst(resolver, name, ipVersions);
    if (!found) throw unavailable(`${name} does not resolve to an ${ipVersions.join(' or ')} address`);
    const local = byAddress(found.address);
    return { ...found, contactHost, interfaceName: local?.interfaceName, mac: local?.mac, loopbackFallback: false, spec };
  };

  switch (spec.kind) {
    case 'auto':
    case 'family': {
      const families = spec.kind === 'family' ? [spec.family] : ipVersions;
      const picked = pick(candidates, families, true);
      if (!picked) throw unavailable(`no ${families.join(' or ')} address on this machine`);
      return fromCandidate(picked.candidate, picked.loopback);
    }
    case 'net': {
      const found = candidates.find((candidate) => spec.cidr.contains(candidate.address));
      if (!found) throw unavailable(`no interface has an address in ${spec.cidr.text}`);
      return fromCandidate(found, false);
    }
    case 'adapter': {
      const matching = candidates.filter((candidate) => nameMatches(candidate, spec.name));
      const picked = pick(matching, ipVersions, true);
      if (!picked) throw unavailable(`no interface named like "${spec.name}" has an ${ipVersions.join(' or ')} address`);
      return fromCandidate(picked.candidate, false);
    }
    case 'rules': {
      const positive = spec.rules.filter((rule) => rule.type === 'if' || rule.type === 'net');
      const negative = spec.rules.filter((rule) => rule.type === 'if!=' || rule.type === 'net!=');
      const names = [...new Set(candidates.map((candidate) => candidate.interfaceName))];
      const chosen = names.filter((name) => {
        const own = candidates.filter((candidate) => candidate.interfaceName === name);
        return (positive.length === 0 || positive.some((rule) => ruleMatches(rule, own))) && !negative.some((rule) => ruleMatches(rule, own));
      });
      // Among the interfaces that qualify the system's order decides (external before loopback);
      // within the chosen interface, an address on a net= subnet comes first.
      const nets = positive.filter((rule): rule is Extract<InterfaceRule, { type: 'net' }> => rule.type === 'net');
      let picked: { candidate: Candidate; loopback: boolean } | undefined;
      for (const name of chosen) {
        const own = candidates.filter((candidate) => candidate.interfaceName === name && !candidate.internal);
        const onNet = own.filter((candidate) => nets.some((rule) => rule.cidr.contains(candidate.address)));
        picked = pick(onNet, ipVersions, false) ?? pick(own, ipVersions, false);
        if (picked) break;
      }
      picked ??= pick(candidates.filter((candidate) => chosen.includes(candidate.interfaceName)), ipVersions, true);
      if (!picked) throw unavailable('no interface satisfies the rules');
      return fromCandidate(picked.candidate, false);
    }
    case 'ip': {
      const local = byAddress(spec.address);
      return { address: spec.address, family: spec.family, contactHost: spec.address, interfaceName: local?.interfaceName, mac: local?.mac, loopbackFallback: false, spec };
    }
    case 'hostname':
      return fromName(spec.name, spec.name);
    case 'host': {
      const name = options.hostname ?? osHostname();
      const resolved = await fromName(name, name);
      return { ...resolved, contactHost: resolved.address };
    }
    case 'fqdn': {
      const fqdn = options.fqdn ?? (await defaultFqdn(options, resolver));
      return fromName(fqdn, fqdn);
    }
  }
}

async function defaultFqdn(options: PublicAddressOptions, resolver: NonNullable<PublicAddressOptions['resolver']>): Promise<string> {
  const name = options.hostname ?? osHostname();
  if (name.includes('.')) return name;
  const reverse = resolver.reverse ?? (async (address: string) => (await import('node:dns/promises')).reverse(address));
  try {
    const [address] = await resolver.lookup(name, 4);
    if (address !== undefined) {
      const [fqdn] = await reverse(address);
      if (fqdn?.includes('.')) return fqdn;
    }
  } catch {
    // No reverse record: the plain host name is the best name there is.
  }
  return name;
}
