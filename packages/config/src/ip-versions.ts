import type { SettingType } from './setting-type';

/** An IP family as the settings spell it. @public */
export type IpVersion = 'IPv4' | 'IPv6';

/**
 * `policy.endpoint.ip_versions`: the families the endpoint may use for its local address,
 * in order of preference. `IPv4` or `IPv6` alone restricts to that family; an empty value
 * means `IPv4,IPv6`.
 *
 * @public
 */
export const ipVersionsType: SettingType<IpVersion[]> = {
  label: 'IP families',
  values: 'IPv4, IPv6, IPv4,IPv6, IPv6,IPv4, or empty (= IPv4,IPv6)',
  schema: { type: 'array', items: { enum: ['IPv4', 'IPv6'] }, minItems: 1, maxItems: 2, uniqueItems: true },
  emptyIsValue: true,
  parse(text) {
    const names = text.split(',').map((part) => part.trim().toLowerCase()).filter((part) => part !== '');
    if (names.length === 0) return { ok: true, value: ['IPv4', 'IPv6'] };
    const families: IpVersion[] = [];
    for (const name of names) {
      const family: IpVersion | undefined = name === 'ipv4' ? 'IPv4' : name === 'ipv6' ? 'IPv6' : undefined;
      if (family === undefined) return { ok: false, reason: `"${name}" is not IPv4 or IPv6` };
      if (families.includes(family)) return { ok: false, reason: `${family} is named twice` };
      families.push(family);
    }
    return { ok: true, value: families };
  },
  format: (families) => families.join(','),
};
