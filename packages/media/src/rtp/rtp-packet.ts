/**
 * The fixed header of an RTP packet (RFC 3550 5.1), read into a reusable object so that the
 * receive path allocates nothing per packet: the payload is described by offset and length into
 * the datagram.
 *
 * @public
 */
export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** Offset of the payload in the datagram (after CSRCs and any header extension). */
  payloadOffset: number;
  /** Payload length, padding removed. */
  payloadLength: number;
}

/** A header object to reuse with {@link parseRtpHeader}. @public */
export function createRtpHeader(): RtpHeader {
  return { marker: false, payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0, payloadOffset: 0, payloadLength: 0 };
}

/** Size of the fixed RTP header we send (no CSRC, no extension). @public */
export const RTP_HEADER_BYTES = 12;

/**
 * Reads an RTP header. Returns false (and leaves `out` in an unspecified state) for a datagram
 * that is not RTP version 2 or whose lengths do not add up; never throws.
 *
 * @public
 */
export function parseRtpHeader(data: Uint8Array, length: number, out: RtpHeader): boolean {
  if (length < RTP_HEADER_BYTES) return false;
  const first = data[0]!;
  if (first >> 6 !== 2) return false;
  const csrcCount = first & 0x0f;
  let offset = RTP_HEADER_BYTES + csrcCount * 4;
  if (first & 0x10) {
    // Header extension: 16-bit profile, 16-bit length in 32-bit words.
    if (length < offset + 4) return false;
    offset += 4 + ((data[offset + 2]! << 8) | data[offset + 3]!) * 4;
  }
  let end = length;
  if (first & 0x20) {
    // The count includes itself, so 0 is no padding; one past the header shows as offset > end.
    const padding = data[length - 1]!;
    if (padding === 0) return false;
    end -= padding;
  }
  if (offset > end) return false;
  const second = data[1]!;
  out.marker = (second & 0x80) !== 0;
  out.payloadType = second & 0x7f;
  out.sequence = (data[2]! << 8) | data[3]!;
  out.timestamp = ((data[4]! << 24) | (data[5]! << 16) | (data[6]! << 8) | data[7]!) >>> 0;
  out.ssrc = ((data[8]! << 24) | (data[9]! << 16) | (data[10]! << 8) | data[11]!) >>> 0;
  out.payloadOffset = offset;
  out.payloadLength = end - offset;
  return true;
}

/**
 * Writes a 12-byte RTP header (version 2, no padding, extension or CSRC) at the start of `out`.
 *
 * @public
 */
export function writeRtpHeader(out: Uint8Array, marker: boolean, payloadType: number, sequence: number, timestamp: number, ssrc: number): void {
  out[0] = 0x80;
  out[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  out[2] = (sequence >> 8) & 0xff;
  out[3] = sequence & 0xff;
  out[4] = (timestamp >>> 24) & 0xff;
  out[5] = (timestamp >>> 16) & 0xff;
  out[6] = (timestamp >>> 8) & 0xff;
  out[7] = timestamp & 0xff;
  out[8] = (ssrc >>> 24) & 0xff;
  out[9] = (ssrc >>> 16) & 0xff;
  out[10] = (ssrc >>> 8) & 0xff;
  out[11] = ssrc & 0xff;
}

/**
 * True when a datagram on a multiplexed port is RTCP rather than RTP (RFC 5761 4: payload types
 * 64 to 95 in the second byte belong to RTCP: SR 200, RR 201, SDES 202, BYE 203, APP 204, ...).
 *
 * @public
 */
export function isRtcp(data: Uint8Array, length: number): boolean {
  if (length < 2) return false;
  const type = data[1]!;
  return type >= 192 && type <= 223;
}
