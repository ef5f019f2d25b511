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

/**
 * An RTCP XR VoIP Metrics Report Block (RFC 3611 4.7): how a receiver finds a stream. Rates are
 * fractions (0 to 1); levels in dB; `undefined` is RFC 3611's "unavailable" (127).
 *
 * @public
 */
export interface VoipMetrics {
  /** The source reported on. */
  ssrc: number;
  /** Packets lost in the network, and discarded (late or early) by the jitter buffer, as fractions of those expected. */
  lossRate: number;
  discardRate: number;
  /** Burst and gap densities (fractions) and mean durations (ms), by the Gmin rule. */
  burstDensity: number;
  gapDensity: number;
  burstDurationMs: number;
  gapDurationMs: number;
  /** Round trip (RTCP) and end-system delay, ms. */
  roundTripDelayMs: number;
  endSystemDelayMs: number;
  /** Signal and noise level (dBm0), residual echo return loss (dB): undefined when not measured. */
  signalLevel: number | undefined;
  noiseLevel: number | undefined;
  rerl: number | undefined;
  gmin: number;
  /** R factor, external R factor, MOS-LQ and MOS-CQ: undefined when not estimated. */
  rFactor: number | undefined;
  externalRFactor: number | undefined;
  mosLq: number | undefined;
  mosCq: number | undefined;
  /** Receiver configuration: packet loss concealment (0 unspecified, 1 disabled, 2 enhanced, 3 standard), jitter buffer adaptive (0 unknown, 2 non-adaptive, 3 adaptive) and its rate (0-15). */
  plc: 0 | 1 | 2 | 3;
  jitterBufferAdaptive: 0 | 1 | 2 | 3;
  jitterBufferRate: number;
  /** Jitter buffer nominal, maximum and absolute maximum delay, ms. */
  jitterBufferNominalMs: number;
  jitterBufferMaxMs: number;
  jitterBufferAbsMaxMs: number;
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
  /** VoIP Metrics blocks of an XR packet in the compound (RFC 3611 4.7); empty when none. */
  voipMetrics: VoipMetrics[];
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
  /** Append an XR packet with these VoIP Metrics blocks (RFC 3611), after the SDES. */
  voipMetrics?: readonly VoipMetrics[];
}

/** A byte of RFC 3611: the value, clamped to 0..126, or 127 for unavailable. */
function byteOr127(value: number | undefined): number {
  return value === undefined || !Number.isFinite(value) ? 127 : Math.max(0, Math.min(126, Math.round(value)));
}

/** A signed level byte of RFC 3611 (dB, -126..126 in two's complement), or 127 for unavailable. */
function levelOr127(value: number | undefined): number {
  return value === undefined || !Number.isFinite(value) ? 127 : Math.max(-126, Math.min(126, Math.round(value))) & 0xff;
}

function fraction8(rate: number): number {
  return Math.max(0, Math.min(255, Math.round((Number.isFinite(rate) ? rate : 0) * 256)));
}

function ms16(value: number): number {
  return Math.max(0, Math.min(0xffff, Math.round(Number.isFinite(value) ? value : 0)));
}

/** The 36 octets of a VoIP Metrics block at `offset`. */
function writeVoipMetrics(view: DataView, offset: number, m: VoipMetrics): void {
  view.setUint8(offset, 7);
  view.setUint8(offset + 1, 0);
  view.setUint16(offset + 2, 8);
  view.setUint32(offset + 4, m.ssrc >>> 0);
  view.setUint8(offset + 8, fraction8(m.lossRate));
  view.setUint8(offset + 9, fraction8(m.discardRate));
  view.setUint8(offset + 10, fraction8(m.burstDensity));
  view.setUint8(offset + 11, fraction8(m.gapDensity));
  view.setUint16(offset + 12, ms16(m.burstDurationMs));
  view.setUint16(offset + 14, ms16(m.gapDurationMs));
  view.setUint16(offset + 16, ms16(m.roundTripDelayMs));
  view.setUint16(offset + 18, ms16(m.endSystemDelayMs));
  view.setUint8(offset + 20, levelOr127(m.signalLevel));
  view.setUint8(offset + 21, levelOr127(m.noiseLevel));
  view.setUint8(offset + 22, byteOr127(m.rerl));
  view.setUint8(offset + 23, Math.max(0, Math.min(255, Math.round(m.gmin))));
  view.setUint8(offset + 24, byteOr127(m.rFactor));
  view.setUint8(offset + 25, byteOr127(m.externalRFactor));
  view.setUint8(offset + 26, byteOr127(m.mosLq === undefined ? undefined : m.mosLq * 10));
  view.setUint8(offset + 27, byteOr127(m.mosCq === undefined ? undefined : m.mosCq * 10));
  view.setUint8(offset + 28, ((m.plc & 3) << 6) | ((m.jitterBufferAdaptive & 3) << 4) | (m.jitterBufferRate & 0x0f));
  view.setUint8(offset + 29, 0);
  view.setUint16(offset + 30, ms16(m.jitterBufferNominalMs));
  view.setUint16(offset + 32, ms16(m.jitterBufferMaxMs));
  view.setUint16(offset + 34, ms16(m.jitterBufferAbsMaxMs));
}

function readVoipMetrics(view: DataView, offset: number): VoipMetrics {
  const or = (value: number, scale = 1): number | undefined => (value === 127 ? undefined : value / scale);
  const level = (value: number): number | undefined => (value === 127 ? undefined : value > 127 ? value - 256 : value);
  const config = view.getUint8(offset + 28);
  return {
    ssrc: view.getUint32(offset + 4),
    lossRate: view.getUint8(offset + 8) / 256,
    discardRate: view.getUint8(offset + 9) / 256,
    burstDensity: view.getUint8(offset + 10) / 256,
    gapDensity: view.getUint8(offset + 11) / 256,
    burstDurationMs: view.getUint16(offset + 12),
    gapDurationMs: view.getUint16(offset + 14),
    roundTripDelayMs: view.getUint16(offset + 16),
    endSystemDelayMs: view.getUint16(offset + 18),
    signalLevel: level(view.getUint8(offset + 20)),
    noiseLevel: level(view.getUint8(offset + 21)),
    rerl: or(view.getUint8(offset + 22)),
    gmin: view.getUint8(offset + 23),
    rFactor: or(view.getUint8(offset + 24)),
    externalRFactor: or(view.getUint8(offset + 25)),
    mosLq: or(view.getUint8(offset + 26), 10),
    mosCq: or(view.getUint8(offset + 27), 10),
    plc: ((config >> 6) & 3) as VoipMetrics['plc'],
    jitterBufferAdaptive: ((config >> 4) & 3) as VoipMetrics['jitterBufferAdaptive'],
    jitterBufferRate: config & 0x0f,
    jitterBufferNominalMs: view.getUint16(offset + 30),
    jitterBufferMaxMs: view.getUint16(offset + 32),
    jitterBufferAbsMaxMs: view.getUint16(offset + 34),
  };
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
  const metrics = (content.voipMetrics ?? []).slice(0, 16);
  const xrWords = metrics.length > 0 ? 2 + metrics.length * 9 : 0;
  const out = new Uint8Array((reportWords + sdesWords + xrWords + byeWords) * 4);
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
  if (xrWords > 0) {
    // XR (RFC 3611 2): its header (PT 207, the reserved bits 0), our SSRC, the blocks.
    header(view, offset, 0, 207, xrWords);
    view.setUint32(offset + 4, content.ssrc >>> 0);
    for (const [index, block] of metrics.entries()) writeVoipMetrics(view, offset + 8 + index * 36, block);
    offset += xrWords * 4;
  }
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
  const report: RtcpReport = { ssrc: 0, sender: undefined, reports: [], cname: undefined, bye: false, voipMetrics: [] };
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
    } else if (type === 207) {
      // XR: report blocks after the sender's SSRC; VoIP Metrics (BT 7, 36 octets) are read, the
      // others skipped by their length; a block that overruns the packet ends the reading.
      let cursor = offset + 8;
      while (cursor + 4 <= offset + bytes) {
        const blockType = view.getUint8(cursor);
        const blockBytes = (view.getUint16(cursor + 2) + 1) * 4;
        if (cursor + blockBytes > offset + bytes) break;
        if (blockType === 7 && blockBytes === 36 && report.voipMetrics.length < 16) report.voipMetrics.push(readVoipMetrics(view, cursor));
        cursor += blockBytes;
      }
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
