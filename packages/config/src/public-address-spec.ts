import { isIP } from 'node:net';
import { parseCidr, type Cidr } from './cidr';
import type { SettingType } from './setting-type';

/**
 * One rule of the `$(rule1,rule2,...)` form of `public_address`.
 *
 * @public
 */
export type InterfaceRule =
  | { type: 'if'; name: string }
  | { type: 'if!='; name: string }
  | { type: 'net'; cidr: Cidr }
  | { type: 'net!='; cidr: Cidr };

/**
 * `policy.endpoint.public_address`, read into what it asks for.
 *
 * @public
 */
export type PublicAddressSpec =
  /** Empty or `$auto`: first usable address of the first active adapter, families per `ip_versions`. */
  | { kind: 'auto' }
  /** `$ipv4` / `$ipv6`: as `$auto`, restricted to one family. */
  | { kind: 'family'; family: 'IPv4' | 'IPv6' }
  /** `$host`: the standard host name, resolved to an address for Contact and SDP. */
  | { kind: 'host' }
  /** `$fqdn`: the fully qualified name, used as is in Contact. */
  | { kind: 'fqdn' }
  /** `$net:CIDR`: first address within the subnet. */
  | { kind: 'net'; cidr: Cidr }
  /** `$(if=...,if!=...,net=...,net!=...)`: an adapter matching at least one positive rule and no negative one. */
  | { kind: 'rules'; rules: InterfaceRule[] }
  /** `$Name`: the adapter whose name (or description) contains `Name`. */
  | { kind: 'adapter'; name: string }
  /** An explicit IP address: used as is; `ip_versions` has no effect. */
  | { kind: 'ip'; address: string; family: 'IPv4' | 'IPv6' }
  /** An explicit host name or FQDN: used as is in Contact, resolved for SDP. */
  | { kind: 'hostname'; name: string };

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;
const RULE = /^\s*(if|if!|net|net!)\s*=\s*(?:'([^']*)'|"([^"]*)"|([^,]*?))\s*$/i;

function unbracket(text: string): string {
  return text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
}

function splitRules(body: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const char of body) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === ',') {
      parts.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  parts.push(current);
  return parts.filter((part) => part.trim() !== '');
}

function parseRules(body: string): { ok: true; rules: InterfaceRule[] } | { ok: false; reason: string } {
  const rules: InterfaceRule[] = [];
  for (const part of splitRules(body)) {
    const match = RULE.exec(part);
    if (!match) return { ok: false, reason: `"${part.trim()}" is not if=, if!=, net= or net!=` };
    // Stryker disable next-line StringLiteral: RULE always captures its operator when it matches.
    const operator = (match[1] ?? '').toLowerCase();
    // Stryker disable next-line StringLiteral: RULE matches one of its three value groups whenever it matches.
    const value = match[2] ?? match[3] ?? match[4] ?? '';
    if (operator === 'if' || operator === 'if!') {
      if (value === '') return { ok: false, reason: `rule "${part.trim()}" names no interface` };
      rules.push({ type: operator === 'if' ? 'if' : 'if!=', name: value });
    } else {
      const cidr = parseCidr(value);
      if (cidr === undefined) return { ok: false, reason: `"${value}" is not a CIDR subnet` };
      rules.push({ type: operator === 'net' ? 'net' : 'net!=', cidr });
    }
  }
  if (rules.length === 0) return { ok: false, reason: 'the rule list is empty' };
  return { ok: true, rules };
}

/**
 * Reads a `public_address` value. Never throws. The parser of the `public_address` setting type; not exported by the package.
 *
 * @internal
 */
export function parsePublicAddress(text: string): { ok: true; value: PublicAddressSpec } | { ok: false; reason: string } {
  const value = text.trim();
  if (value === '') return { ok: true, value: { kind: 'auto' } };
  if (value.startsWith('$')) {
    const body = value.slice(1);
    const keyword = body.toLowerCase();
    if (keyword === 'auto') return { ok: true, value: { kind: 'auto' } };
    if (keyword === 'ipv4') return { ok: true, value: { kind: 'family', family: 'IPv4' } };
    if (keyword === 'ipv6') return { ok: true, value: { kind: 'family', family: 'IPv6' } };
    if (keyword === 'host') return { ok: true, value: { kind: 'host' } };
    if (keyword === 'fqdn') return { ok: true, value: { kind: 'fqdn' } };
    if (keyword.startsWith('net:')) {
      const cidr = parseCidr(body.slice(4));
      return cidr ? { ok: true, value: { kind: 'net', cidr } } : { ok: false, reason: `"${body.slice(4)}" is not a CIDR subnet` };
    }
    if (body.startsWith('(')) {
      if (!body.endsWith(')')) return { ok: false, reason: 'the rule list has no closing parenthesis' };
      const parsed = parseRules(body.slice(1, -1));
      return parsed.ok ? { ok: true, value: { kind: 'rules', rules: parsed.rules } } : parsed;
    }
    // Stryker disable next-line MethodExpression: the value is trimmed first: what follows "$" is empty or ends in a non-blank.
    if (body.trim() === '') return { ok: false, reason: '"$" names no adapter' };
    return { ok: true, value: { kind: 'adapter', name: body } };
  }
  const literal = unbracket(value);
  const version = isIP(literal);
  if (version !== 0) return { ok: true, value: { kind: 'ip', address: literal, family: version === 4 ? 'IPv4' : 'IPv6' } };
  if (HOSTNAME.test(value)) return { ok: true, value: { kind: 'hostname', name: value } };
  return { ok: false, reason: `"${value}" is not an IP address, a host name or a $ form` };
}

/** @public */
export const publicAddressType: SettingType<PublicAddressSpec> = {
  label: 'address',
  values: 'empty, $auto, $ipv4, $ipv6, $host, $fqdn, $net:CIDR, $adapter-name, $(if=..,if!=..,net=..,net!=..), an IP address or a host name',
  schema: { type: 'object', properties: { kind: { enum: ['auto', 'family', 'host', 'fqdn', 'net', 'rules', 'adapter', 'ip', 'hostname'] } }, required: ['kind'] },
  emptyIsValue: true,
  parse: parsePublicAddress,
  format: formatPublicAddress,
};

/**
 * Writes a {@link PublicAddressSpec} back as setting text.
 *
 * @public
 */
export function formatPublicAddress(spec: PublicAddressSpec): string {
  switch (spec.kind) {
    case 'auto':
      return '$auto';
    case 'family':
      return spec.family === 'IPv4' ? '$ipv4' : '$ipv6';
    case 'host':
      return '$host';
    case 'fqdn':
      return '$fqdn';
    case 'net':
      return `$net:${spec.cidr.text}`;
    case 'rules':
      return `$(${spec.rules.map(formatRule).join(',')})`;
    case 'adapter':
      return `$${spec.name}`;
    case 'ip':
      return spec.address;
    case 'hostname':
      return spec.name;
  }
}

function formatRule(rule: InterfaceRule): string {
  switch (rule.type) {
    case 'if':
      return `if='${rule.name}'`;
    case 'if!=':
      return `if!='${rule.name}'`;
    case 'net':
      return `net='${rule.cidr.text}'`;
    case 'net!=':
      return `net!='${rule.cidr.text}'`;
  }
}
