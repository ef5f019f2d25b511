import { isIP } from 'node:net';
import { parseCidr, type Cidr } from './cidr';
import type { SettingType } from './setting-type';

/**
 * `sip_trusted_addresses`: IP addresses and CIDR subnets, comma-separated (`10.0.0.5, 192.168.1.0/24,
 * fd00::/8`); an address alone is its own /32 or /128. Empty is the empty list. One entry that is
 * neither makes the whole value invalid (the setting's default, with a warning naming it).
 */
export const addressListType: SettingType<Cidr[]> = {
  label: 'address list',
  values: 'comma-separated IP addresses and CIDR subnets (`10.0.0.5, 192.168.1.0/24`), or empty',
  schema: { type: 'array', items: { type: 'string' } },
  emptyIsValue: true,
  parse: (text) => {
    const list: Cidr[] = [];
    for (const item of text.split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0)) {
      const version = isIP(item);
      const cidr = version === 4 ? parseCidr(`${item}/32`) : version === 6 ? parseCidr(`${item}/128`) : parseCidr(item);
      if (!cidr) return { ok: false, reason: `"${item}" is neither an IP address nor a CIDR subnet` };
      list.push(cidr);
    }
    return { ok: true, value: list };
  },
  // An address alone was read as its /32 or /128, and is written so.
  format: (value) => value.map((cidr) => cidr.text).join(','),
};
