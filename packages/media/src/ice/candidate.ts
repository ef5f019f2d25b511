import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';

/** The kinds of ICE candidates (RFC 8445 5.1.1): our own address, the one a STUN server saw, one learned from a check, a TURN relay. @public */
export type IceCandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

/** One ICE candidate, as an `a=candidate` line carries it (RFC 8839 5.1). @public */
export interface IceCandidate {
  foundation: string;
  /** 1 is RTP (and RTCP with rtcp-mux), 2 RTCP. */
  component: number;
  transport: 'udp';
  priority: number;
  address: string;
  port: number;
  type: IceCandidateType;
  /** For srflx, prflx and relay: the address it was derived from. */
  relatedAddress?: string;
  relatedPort?: number;
}

/** RFC 8445 5.1.2.2's recommended type preferences. */
export const TYPE_PREFERENCE: Record<IceCandidateType, number> = { host: 126, prflx: 110, srflx: 100, relay: 0 };

/** A candidate's priority (RFC 8445 5.1.2.1). @public */
export function candidatePriority(type: IceCandidateType, component = 1, localPreference = 65535): number {
  return TYPE_PREFERENCE[type] * 2 ** 24 + localPreference * 2 ** 8 + (256 - component);
}

/**
 * Reads the value of an `a=candidate` attribute (what follows `candidate:`); undefined for one we
 * cannot use (not UDP, a host name, a number out of range, an unknown type), which is skipped.
 *
 * @public
 */
export function parseCandidate(value: string): IceCandidate | undefined {
  const parts = value.trim().split(/\s+/);
  // Seven fields end at "typ": the type, undefined, is refused below.
  if (parts[6] !== 'typ') return undefined;
  const [foundation, component, transport, priority, address, port, , type] = parts as [string, string, string, string, string, string, string, string];
  if (transport.toLowerCase() !== 'udp' || !/^[A-Za-z0-9+/]{1,32}$/.test(foundation)) return undefined;
  if (!/^\d{1,3}$/.test(component) || !/^\d{1,10}$/.test(priority) || !/^\d{1,5}$/.test(port)) return undefined;
  if (isIP(address) === 0 || Number(port) > 65535 || Number(priority) > 0xffffffff || Number(component) < 1 || Number(component) > 256) return undefined;
  if (type !== 'host' && type !== 'srflx' && type !== 'prflx' && type !== 'relay') return undefined;
  const candidate: IceCandidate = { foundation, component: Number(component), transport: 'udp', priority: Number(priority), address, port: Number(port), type };
  // Stryker disable next-line EqualityOperator,ArithmeticOperator: one more turn reads a name without a value (undefined), which is neither an IP address nor a port.
  for (let i = 8; i + 1 < parts.length; i += 2) {
    if (parts[i] === 'raddr' && isIP(parts[i + 1]!) !== 0) candidate.relatedAddress = parts[i + 1]!;
    else if (parts[i] === 'rport' && /^\d{1,5}$/.test(parts[i + 1]!)) candidate.relatedPort = Number(parts[i + 1]);
  }
  return candidate;
}

/** Writes a candidate as the value of an `a=candidate` attribute. @public */
export function formatCandidate(candidate: IceCandidate): string {
  const related = candidate.relatedAddress !== undefined ? ` raddr ${candidate.relatedAddress} rport ${candidate.relatedPort ?? 0}` : '';
  return `${candidate.foundation} ${candidate.component} UDP ${candidate.priority} ${candidate.address} ${candidate.port} typ ${candidate.type}${related}`;
}

const ICE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Random ICE credentials: an 8-character ufrag and a 24-character password (RFC 8839 5.4: at least 4 and 22). @public */
export function iceCredentials(): { ufrag: string; pwd: string } {
  const text = (length: number): string => [...randomBytes(length)].map((byte) => ICE_CHARS[byte & 63]).join('');
  return { ufrag: text(8), pwd: text(24) };
}
