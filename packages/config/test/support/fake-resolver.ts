import type { AddressResolver } from '@sip-endpoint/config';

/** A DNS stand-in with fixed records, so that SRV ordering and fallbacks can be tested exactly. */
export function fakeResolver(records: {
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
  srv?: Record<string, { name: string; port: number; priority: number; weight: number }[]>;
  failing?: string[];
}): AddressResolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async lookup(host, family) {
      asked.push(`${family === 4 ? 'A' : 'AAAA'} ${host}`);
      if (records.failing?.includes(host)) throw Object.assign(new Error('DNS timeout'), { code: 'ETIMEOUT' });
      return (family === 4 ? records.a : records.aaaa)?.[host] ?? [];
    },
    async resolveSrv(name) {
      asked.push(`SRV ${name}`);
      return records.srv?.[name] ?? [];
    },
  };
}
