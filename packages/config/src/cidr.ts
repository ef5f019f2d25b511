import { BlockList, isIP } from 'node:net';

/**
 * A subnet in CIDR notation (RFC 4632), e.g. `192.168.0.0/16` or `fd00::/8`. Build one with
 * {@link parseCidr}.
 *
 * @public
 */
export class Cidr {
  /** The text as written. */
  readonly text: string;
  readonly family: 'IPv4' | 'IPv6';
  readonly #list = new BlockList();

  /** @internal */
  constructor(text: string, network: string, prefix: number, family: 'IPv4' | 'IPv6') {
    this.text = text;
    this.family = family;
    this.#list.addSubnet(network, prefix, family === 'IPv4' ? 'ipv4' : 'ipv6');
  }

  /** True when `address` (an IP literal) lies in this subnet. */
  contains(address: string): boolean {
    const version = isIP(address);
    if (version !== (this.family === 'IPv4' ? 4 : 6)) return false;
    return this.#list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }

  /** The text, so that JSON shows the subnet as written. */
  toJSON(): string {
    return this.text;
  }
}

/**
 * Reads a CIDR text; returns `undefined` when it is not one. Used by the `public_address` type; not exported by the package.
 *
 * @internal
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.lastIndexOf('/');
  // Stryker disable next-line ConditionalExpression,EqualityOperator: without a slash (or with one first) the network part is no IP address, and isIP refuses it just after.
  if (slash < 0) return undefined;
  const network = text.slice(0, slash).trim();
  const prefixText = text.slice(slash + 1).trim();
  const version = isIP(network);
  if (version === 0 || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number.parseInt(prefixText, 10);
  if (prefix > (version === 4 ? 32 : 128)) return undefined;
  return new Cidr(text.trim(), network, prefix, version === 4 ? 'IPv4' : 'IPv6');
}
