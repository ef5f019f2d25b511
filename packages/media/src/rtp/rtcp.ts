/**
 * RTCP (RFC 3550 6): building and reading compound packets of sender reports, receiver reports,
 * source descriptions and BYE. RTCP is sent every few seconds, so these functions allocate freely.
 */

/** One reception report block (RFC 3550 6.4.1). @public */
export interface ReportBlock {
  /** The source reported on. */
  ssrc: number;
  /** Fraction of packets lost since the previous report, 0 to 255 (/256). */
  fractionLost: number;
  /** Cumulative packets lost (24-bit signed). */
  cumulativeLost: number;
  /** Extended highest sequence number received. */
  highestSequence: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP time of the last SR received from the source (0: none). */
  lastSr: number;
  /** Delay since that SR, in 1/65536 s. */
  delaySinceLastSr: number;
}

/** A sender report's sender information. @public */
export interface SenderInfo {
  /** NTP time, seconds since 1900 (integer part) and fraction in 1/2^32. */
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

/** What a compound RTCP packet said. @public */
export interface RtcpReport {
  /** SSRC of the packet's sender. */
  ssrc: number;
  /** Present for a sender report. */
  sender: SenderInfo | undefined;
  reports: ReportBlock[];
  /** CNAME from SDES, when present. */
  cname: string | undefined;
  /** True when the compound carried a BYE. */
  bye: boolean;
}

const NTP_EPOCH_OFFSET = 2208988800;

/** The current time as NTP seconds and fraction. @public */
export function ntpNow(nowMs: number = Date.now()): { seconds: number; fraction: number } {
  const seconds = Math.floor(nowMs / 1000) + NTP_EPOCH_OFFSET;
  const fraction = Math.floor(((nowMs % 1000) / 1000) * 0x100000000) >>> 0;
  return { seconds: seconds >>> 0, fraction };
}

/** The middle 32 bits of an NTP time (the LSR format). @public */
export function ntpMiddle(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}

function header(view: DataView, offset: number, count: number, type: number, lengthWords: number): void {
  view.setUint8(offset, 0x80 | (count & 0x1f));
  view.setUint8(offset + 1, type);
  view.setUint16(offset + 2, lengthWords - 1);
}

function writeBlock(view: DataView, offset: number, block: ReportBlock): void {
  view.setUint32(offset, block.ssrc >>> 0);
  const lost = Math.max(-0x800000, Math.min(0x7fffff, block.cumulativeLost)) & 0xffffff;
  view.setUint32(offset + 4, ((block.fractionLost & 0xff) << 24) | lost);
  view.setUint32(offset + 8, block.highestSequence >>> 0);
  view.setUint32(offset + 12, Math.round(block.jitter) >>> 0);
  view.setUint32(offset + 16, block.lastSr >>> 0);
  view.setUint32(offset + 20, block.delaySinceLastSr >>> 0);
}

/** Fields of {@link buildRtcp}. @public */
export interface RtcpContent {
  ssrc: number;
  /** Sender information: a sender report when present, a receiver report otherwise. */
  sender?: SenderInfo;
  reports: readonly ReportBlock[];
  cname: string;
  /** Append a BYE (with this reason, possibly empty). */
  bye?: string;
}

/** The UTF-8 octets of a text, cut to 255 at most (an SDES item, a BYE reason), before a whole character. */
function utf8Upto255(text: string): Uint8Array {
  const octets = new TextEncoder().encode(text);
  let end = Math.min(octets.length, 255);
  // Back to the first octet of a character that would be cut (continuation octets are 10xxxxxx).
  while (((octets[end] ?? 0) & 0xc0) === 0x80) end--;
  return octets.subarray(0, end);
}

/**
 * Builds a compound RTCP packet: SR or RR, SDES with CNAME, and an optional BYE.
 *
 * @public
 */
export function buildRtcp(content: RtcpContent): Uint8Array {
  const reports = content.reports.slice(0, 31);
  const reportWords = 2 + (content.sender ? 5 : 0) + reports.length * 6;
  const cname = utf8Upto255(content.cname);
  const sdesWords = 1 + Math.ceil((4 + 2 + cname.length + 1) / 4);
  const reason = content.bye !== undefined ? utf8Upto255(content.bye) : undefined;
  const byeWords = reason === undefined ? 0 : 2 + (reason.length > 0 ? Math.ceil((1 + reason.length) / 4) : 0);
  const out = new Uint8Array((reportWords + sdesWords + byeWords) * 4);
  const view = new DataView(out.buffer);
  let offset = 0;
  header(view, offset, reports.length, content.sender ? 200 : 201, reportWords);
  view.setUint32(offset + 4, content.ssrc >>> 0);
  offset += 8;
  if (content.sender) {
    view.setUint32(offset, content.sender.ntpSeconds >>> 0);
    view.setUint32(offset + 4, content.sender.ntpFraction >>> 0);
    view.setUint32(offset + 8, content.sender.rtpTimestamp >>> 0);
    view.setUint32(offset + 12, content.sender.packetCount >>> 0);
    view.setUint32(offset + 16, content.sender.octetCount >>> 0);
    offset += 20;
  }
  for (const block of reports) {
    writeBlock(view, offset, block);
    offset += 24;
  }
  header(view, offset, 1, 202, sdesWords);
  view.setUint32(offset + 4, content.ssrc >>> 0);
  out[offset + 8] = 1; // CNAME
  out[offset + 9] = cname.length;
  out.set(cname, offset + 10);
  offset += sdesWords * 4; // the END item and padding are the zeros already there
  if (reason !== undefined) {
    header(view, offset, 1, 203, byeWords);
    view.setUint32(offset + 4, content.ssrc >>> 0);
    if (reason.length > 0) {
      out[offset + 8] = reason.length;
      out.set(reason, offset + 9);
    }
  }
  return out;
}

/**
 * Reads a compound RTCP packet. Returns `undefined` for anything that is not valid RTCP (bad
 * version, lengths that do not add up, a first packet that is not SR or RR); never throws.
 *
 * @public
 */
export function parseRtcp(data: Uint8Array, length: number = data.length): RtcpReport | undefined {
  const view = new DataView(data.buffer, data.byteOffset, length);
  const report: RtcpReport = { ssrc: 0, sender: undefined, reports: [], cname: undefined, bye: false };
  let offset = 0;
  let first = true;
  while (offset + 4 <= length) {
    const b0 = view.getUint8(offset);
    if (b0 >> 6 !== 2) return undefined;
    const count = b0 & 0x1f;
    const type = view.getUint8(offset + 1);
    const bytes = (view.getUint16(offset + 2) + 1) * 4;
    if (offset + bytes > length) return undefined;
    if (first && type !== 200 && type !== 201) return undefined;
    first = false;
    if (type === 200 || type === 201) {
      const senderBytes = type === 200 ? 20 : 0;
      if (bytes < 8 + senderBytes + count * 24) return undefined;
      report.ssrc = view.getUint32(offset + 4);
      let cursor = offset + 8;
      if (type === 200) {
        report.sender = {
          ntpSeconds: view.getUint32(cursor),
          ntpFraction: view.getUint32(cursor + 4),
          rtpTimestamp: view.getUint32(cursor + 8),
          packetCount: view.getUint32(cursor + 12),
          octetCount: view.getUint32(cursor + 16),
        };
        cursor += 20;
      }
      for (let i = 0; i < count; i++, cursor += 24) {
        const lostWord = view.getUint32(cursor + 4);
        const lost24 = lostWord & 0xffffff;
        report.reports.push({
          ssrc: view.getUint32(cursor),
          fractionLost: lostWord >>> 24,
          cumulativeLost: lost24 & 0x800000 ? lost24 - 0x1000000 : lost24,
          highestSequence: view.getUint32(cursor + 8),
          jitter: view.getUint32(cursor + 12),
          lastSr: view.getUint32(cursor + 16),
          delaySinceLastSr: view.getUint32(cursor + 20),
        });
      }
    } else if (type === 202 && count > 0) {
      let cursor = offset + 8;
      while (cursor + 2 <= offset + bytes) {
        const item = view.getUint8(cursor);
        if (item === 0) break;
        const itemLength = view.getUint8(cursor + 1);
        if (cursor + 2 + itemLength > offset + bytes) break;
        if (item === 1 && report.cname === undefined) report.cname = new TextDecoder().decode(data.subarray(cursor + 2, cursor + 2 + itemLength));
        cursor += 2 + itemLength;
      }
    } else if (type === 203) {
      report.bye = true;
    }
    offset += bytes;
  }
  // Trailing octets too few for a header: the lengths do not add up to the datagram's.
  return first || offset !== length ? undefined : report;
}

/**
 * Round-trip time from a report block (RFC 3550 6.4.1): arrival time minus LSR minus DLSR.
 * Returns `undefined` when the block carries no LSR.
 *
 * @public
 */
export function roundTripMs(block: ReportBlock, arrivalMs: number = Date.now()): number | undefined {
  if (block.lastSr === 0) return undefined;
  const now = ntpNow(arrivalMs);
  const arrival = ntpMiddle(now.seconds, now.fraction);
  const rtt = (arrival - block.lastSr - block.delaySinceLastSr) >>> 0;
  // Values near 2^32 are small negatives (clock resolution); treat as zero.
  if (rtt > 0x80000000) return 0;
  return (rtt / 65536) * 1000;
}
