import { BlockList, isIP } from 'node:net';

/**
 * A subnet in CIDR notation (RFC 4632), e.g. `192.168.0.0/16` or `fd00::/8`.
 *
 * @public
 */
export interface Cidr {
  /** The text as written. */
  readonly text: string;
  readonly family: 'IPv4' | 'IPv6';
  /** True when `address` (an IP literal) lies in this subnet. */
  contains(address: string): boolean;
}

/**
 * Reads a CIDR text; returns `undefined` when it is not one.
 *
 * @public
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return undefined;
  const network = text.slice(0, slash).trim();
  const prefixText = text.slice(slash + 1).trim();
  const version = isIP(network);
  if (version === 0 || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number.parseInt(prefixText, 10);
  if (prefix > (version === 4 ? 32 : 128)) return undefined;
  const family = version === 4 ? 'IPv4' : 'IPv6';
  const nodeFamily = version === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  list.addSubnet(network, prefix, nodeFamily);
  return {
    text: text.trim(),
    family,
    contains(address: string): boolean {
      const addressVersion = isIP(address);
      if (addressVersion !== version) return false;
      return list.check(address, nodeFamily);
    },
  };
}
