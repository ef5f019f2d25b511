import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';

/**
 * The address lookup of our UDP sockets (`createSocket({ lookup: lookupLiteral })`). Node's
 * default resolves even an IP literal through `dns.lookup`, which answers on the next tick: the
 * datagram then leaves after the caller has returned, with whatever the caller's reused buffer
 * holds by then (two RTP packets sent in one tick from one buffer, the catch-up after an
 * event-loop stall, went out as two copies of the second), and after the work the caller does
 * next (a SIP response waits for the rest of the handling of its request). An IP literal is
 * answered at once, so `send` hands the bytes to the kernel before it returns; a host name still
 * goes through `dns.lookup`.
 *
 * @public
 */
export function lookupLiteral(hostname: string, options: LookupOneOptions | number, callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = isIP(hostname);
  if (family !== 0) {
    callback(null, hostname, family);
    return;
  }
  // dgram gives the family as a number (4 or 6), which dns.lookup takes as it takes { family }.
  dnsLookup(hostname, options as LookupOneOptions, callback);
}
