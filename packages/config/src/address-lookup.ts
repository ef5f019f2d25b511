import { lookup as dnsLookup, resolveSrv as dnsResolveSrv } from 'node:dns/promises';

/**
 * Name resolution the configuration package uses; inject one in tests or to use another DNS.
 *
 * @public
 */
export interface AddressResolver {
  /** Addresses of `host` in one family (empty when it has none). */
  lookup(host: string, family: 4 | 6): Promise<string[]>;
  /** SRV records of `name` (empty when it has none). */
  resolveSrv(name: string): Promise<{ name: string; port: number; priority: number; weight: number }[]>;
}

const NO_RECORD = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME', 'EAI_NONAME', 'EAI_NODATA', 'NXDOMAIN', 'ESERVFAIL']);

/** True for the DNS errors that mean "no such record" rather than a failure to ask. */
export function isNoRecordError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && NO_RECORD.has(String((error as { code?: unknown }).code));
}

/**
 * The system resolver (`getaddrinfo` for addresses, the configured DNS servers for SRV).
 *
 * @public
 */
export const systemResolver: AddressResolver = {
  async lookup(host, family) {
    try {
      const found = await dnsLookup(host, { all: true, family });
      return found.map((entry) => entry.address);
    } catch (error) {
      if (isNoRecordError(error)) return [];
      throw error;
    }
  },
  async resolveSrv(name) {
    try {
      return await dnsResolveSrv(name);
    } catch (error) {
      if (isNoRecordError(error)) return [];
      throw error;
    }
  },
};
