import { readFileSync } from 'node:fs';

/** One UDP datagram read from a capture file. */
export interface CapturedDatagram {
  /** Capture time in ms from the first packet. */
  timeMs: number;
  sourcePort: number;
  destinationPort: number;
  payload: Uint8Array;
}

/**
 * Reads the UDP datagrams of a libpcap file (Ethernet or Linux cooked capture, IPv4 or IPv6, VLAN
 * tags allowed). Only the payloads and ports are kept: the capture's addresses are never used.
 */
export function readPcapUdp(path: string): CapturedDatagram[] {
  const data = readFileSync(path);
  const magic = data.readUInt32LE(0);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!little && data.readUInt32BE(0) !== 0xa1b2c3d4 && data.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${path} is not a pcap file`);
  const nanos = (little ? magic : data.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (offset: number): number => (little ? data.readUInt32LE(offset) : data.readUInt32BE(offset));
  const linkType = u32(20);
  const result: CapturedDatagram[] = [];
  let offset = 24;
  let first: number | undefined;
  while (offset + 16 <= data.length) {
    const seconds = u32(offset);
    const fraction = u32(offset + 4);
    const length = u32(offset + 8);
    const frame = data.subarray(offset + 16, offset + 16 + length);
    offset += 16 + length;
    const timeMs = seconds * 1000 + (nanos ? fraction / 1e6 : fraction / 1e3);
    first ??= timeMs;
    let ip: number;
    let etherType: number;
    if (linkType === 1) {
      etherType = frame.readUInt16BE(12);
      ip = 14;
      while (etherType === 0x8100) {
        etherType = frame.readUInt16BE(ip + 2);
        ip += 4;
      }
    } else if (linkType === 113) {
      etherType = frame.readUInt16BE(14);
      ip = 16;
    } else {
      throw new Error(`link type ${linkType} is not supported`);
    }
    let udp: number;
    if (etherType === 0x0800) {
      if (frame[ip + 9] !== 17) continue;
      udp = ip + (frame[ip]! & 0x0f) * 4;
    } else if (etherType === 0x86dd) {
      if (frame[ip + 6] !== 17) continue;
      udp = ip + 40;
    } else {
      continue;
    }
    const udpLength = frame.readUInt16BE(udp + 4);
    result.push({
      timeMs: timeMs - first,
      sourcePort: frame.readUInt16BE(udp),
      destinationPort: frame.readUInt16BE(udp + 2),
      payload: new Uint8Array(frame.subarray(udp + 8, udp + udpLength)),
    });
  }
  return result;
}
