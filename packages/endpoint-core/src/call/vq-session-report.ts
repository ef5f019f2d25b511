/**
 * The voice-quality session report of a call (RFC 6035: `application/vq-rtcpxr`, event package
 * `vq-rtcpxr`), published at the end of each call to `vq_report_collector`.
 */

/** The content type of a voice-quality report (RFC 6035 4). */
export const VQ_REPORT_TYPE = 'application/vq-rtcpxr';

/** The event package of voice-quality reports (RFC 6035 4). */
export const VQ_REPORT_EVENT = 'vq-rtcpxr';

/** What the report says of one direction's stream (the metrics of RFC 6035 4.3, those we measure). */
export interface VqStreamMetrics {
  /** Network loss, percent of the packets expected. */
  lossPercent: number;
  /** Packets discarded by the jitter buffer (late), percent of the packets expected. */
  discardPercent: number;
  /** Interarrival jitter (RFC 3550), ms. */
  jitterMs: number;
  /** Jitter buffer: nominal (the delay it aimed at last) and current delay, ms; undefined for the far end's. */
  jitterBuffer: { nominalMs: number; currentMs: number } | undefined;
  /** Listening and conversational MOS, and R; undefined when not measured (the far end's, from an RR). */
  quality: { listeningMos: number; conversationalMos: number; rFactor: number } | undefined;
}

/** Everything a call's report is made of. */
export interface VqSessionReportInput {
  callId: string;
  /** Our URI and the far end's, as the dialog names them; who sent the INVITE. */
  localId: string;
  remoteId: string;
  origId: string;
  /** The tags of the INVITE's From and To (whoever sent it), for DialogID. */
  fromTag: string;
  toTag: string;
  /** Our media address and port, the far end's, and the SSRCs. */
  local: { address: string; port: number; ssrc: number };
  remote: { address: string; port: number; ssrc: number | undefined };
  start: Date;
  stop: Date;
  /** The codec: payload type, encoding name, clock rate, frame duration and frames per packet. */
  codec: { payloadType: number; encoding: string; clockRate: number; frameMs: number; framesPerPacket: number };
  /** Round-trip time from RTCP, ms, when known. */
  rttMs: number | undefined;
  /** Mean one-way delay of what we hear (half the RTT, jitter buffer, packetisation), ms. */
  oneWayDelayMs: number;
  /** What we received (local metrics) and, from the far end's reports, what it received. */
  localMetrics: VqStreamMetrics;
  remoteMetrics: VqStreamMetrics | undefined;
}

/** A number with at most `digits` decimals, as the report writes it. */
function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? String(Math.round(value * 10 ** digits) / 10 ** digits) : '0';
}

/** `0x` and 8 hex digits. */
function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}

/** An ISO 8601 time in UTC without milliseconds (RFC 6035's Timestamps). */
function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A header value on one line: line breaks and control characters become spaces. */
function oneLine(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
}

function metricLines(input: VqSessionReportInput, metrics: VqStreamMetrics): string[] {
  const lines = [
    `Timestamps: START=${timestamp(input.start)} STOP=${timestamp(input.stop)}`,
    // PLC 3: standard concealment; SSUP off: we send no silence suppression.
    `SessionDesc: PT=${input.codec.payloadType} PD=${oneLine(input.codec.encoding)} SR=${input.codec.clockRate} FD=${fixed(input.codec.frameMs, 0)} FPP=${input.codec.framesPerPacket} PPS=${fixed(1000 / (input.codec.frameMs * input.codec.framesPerPacket), 0)} PLC=3 SSUP=off`,
  ];
  // JBA 3: adaptive.
  if (metrics.jitterBuffer) lines.push(`JitterBuffer: JBA=3 JBN=${fixed(metrics.jitterBuffer.nominalMs, 0)} JBM=${fixed(Math.max(metrics.jitterBuffer.nominalMs, metrics.jitterBuffer.currentMs), 0)}`);
  lines.push(`PacketLoss: NLR=${fixed(metrics.lossPercent, 1)} JDR=${fixed(metrics.discardPercent, 1)}`);
  const delay = [input.rttMs !== undefined ? `RTD=${fixed(input.rttMs, 0)}` : '', metrics.jitterBuffer ? `ESD=${fixed(metrics.jitterBuffer.currentMs + input.codec.frameMs * input.codec.framesPerPacket, 0)}` : '', `IAJ=${fixed(metrics.jitterMs, 0)}`].filter((part) => part !== '');
  lines.push(`Delay: ${delay.join(' ')}`);
  if (metrics.quality) lines.push(`QualityEst: RCQ=${fixed(metrics.quality.rFactor, 0)} MOSLQ=${metrics.quality.listeningMos.toFixed(1)} MOSCQ=${metrics.quality.conversationalMos.toFixed(1)} QoEEstAlg=G.107`);
  return lines;
}

/**
 * The body of a call's `VQSessionReport: CallTerm` (RFC 6035 4): the call's identity and
 * addresses, then the metrics of what we received (`LocalMetrics`) and, when the far end's RTCP
 * reported on our stream, what it received (`RemoteMetrics`), then the dialog. Values that would
 * break a line (a display name with a line break) are flattened.
 */
export function vqSessionReport(input: VqSessionReportInput): string {
  const lines = [
    'VQSessionReport: CallTerm',
    `CallID: ${oneLine(input.callId)}`,
    `LocalID: ${oneLine(input.localId)}`,
    `RemoteID: ${oneLine(input.remoteId)}`,
    `OrigID: ${oneLine(input.origId)}`,
    `LocalAddr: IP=${input.local.address} PORT=${input.local.port} SSRC=${hex32(input.local.ssrc)}`,
    `RemoteAddr: IP=${input.remote.address} PORT=${input.remote.port}${input.remote.ssrc !== undefined ? ` SSRC=${hex32(input.remote.ssrc)}` : ''}`,
    'LocalMetrics:',
    ...metricLines(input, input.localMetrics),
  ];
  if (input.remoteMetrics) lines.push('RemoteMetrics:', ...metricLines(input, input.remoteMetrics));
  lines.push(`DialogID: ${oneLine(input.callId)};to-tag=${oneLine(input.toTag)};from-tag=${oneLine(input.fromTag)}`);
  return `${lines.join('\r\n')}\r\n`;
}
