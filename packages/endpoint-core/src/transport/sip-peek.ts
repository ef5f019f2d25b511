/**
 * Just enough of a SIP message for the transport layer: the start line, the top Via, CSeq and
 * Call-ID, read with a few string searches and no full parse (the transport sees every message).
 * sip.js does the real parse afterwards.
 */
export interface SipPeek {
  kind: 'request' | 'response';
  /** Request method, or the CSeq method for a response. */
  method: string;
  /** Response status code (0 for a request). */
  status: number;
  /** Top Via: branch, sent-by host and port, received and rport parameters. */
  via: { transport: string; host: string; port: number | undefined; branch: string; received: string | undefined; rport: number | undefined; line: string } | undefined;
  cseq: number;
  callId: string;
  /** Offset of the blank line that ends the headers, or -1. */
  headerEnd: number;
}

const COMPACT: Record<string, string> = { v: 'via', i: 'call-id', l: 'content-length' };

const VIA = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+(\[[^\]]+\]|[^\s;:]+)(?::(\d+))?\s*(.*)$/;
const BRANCH = /;\s*branch(?:\s*=\s*([^;\s]*))?/i;
const RECEIVED = /;\s*received(?:\s*=\s*([^;\s]*))?/i;
const RPORT = /;\s*rport(?:\s*=\s*([^;\s]*))?/i;
const CSEQ = /^(\d+)\s+([A-Za-z]+)/;

/** A Via parameter's value ('' for a flag), or undefined when it is absent. */
function viaParam(params: string, pattern: RegExp): string | undefined {
  const found = pattern.exec(params);
  return found ? (found[1] ?? '') : undefined;
}

/**
 * Whether the header starting at `position` may be one the peek reads (Via, CSeq, Call-ID, or
 * their compact forms v and i): its first character past ASCII white space is v, c or i (or
 * not ASCII, which the exact comparison then settles). The transport sees every message, and most
 * headers are none of these: they are skipped without a copy of their name.
 */
function mayBeWanted(message: string, position: number, colon: number): boolean {
  let at = position;
  while (at < colon && message.charCodeAt(at) <= 32) at++;
  const code = message.charCodeAt(at) | 0x20;
  return code === 0x76 /* v */ || code === 0x63 /* c */ || code === 0x69 /* i */ || message.charCodeAt(at) > 127;
}

/** A SIP message's start line and where its headers end; `undefined` when it is not a SIP message. */
export function peekStartLine(message: string): Pick<SipPeek, 'kind' | 'method' | 'status' | 'headerEnd'> | undefined {
  const firstEnd = message.indexOf('\r\n');
  if (firstEnd < 0) return undefined;
  const first = message.slice(0, firstEnd);
  let headerEnd = message.indexOf('\r\n\r\n');
  if (headerEnd < 0) headerEnd = message.length;
  const response = /^SIP\/2\.0 (\d{3}) /.exec(first);
  if (response) return { kind: 'response', method: '', status: Number(response[1]), headerEnd };
  const request = /^([A-Za-z]+) \S+ SIP\/2\.0$/.exec(first);
  if (!request) return undefined;
  return { kind: 'request', method: request[1]!.toUpperCase(), status: 0, headerEnd };
}

/** Reads the parts of a SIP message the transport needs; `undefined` when it is not a SIP message. */
export function peekSip(message: string): SipPeek | undefined {
  const start = peekStartLine(message);
  if (!start) return undefined;
  const { kind, status, headerEnd } = start;
  let method = start.method;
  let via: SipPeek['via'];
  let cseq = 0;
  let callId = '';
  const end = headerEnd;
  let position = message.indexOf('\n') + 1;
  while (position > 0 && position < end) {
    let stop = message.indexOf('\n', position);
    if (stop < 0 || stop > end) stop = end;
    // Folded lines (leading space or tab) continue the previous header.
    let next = stop + 1;
    let folded = false;
    while (next < end && (message.charCodeAt(next) === 32 || message.charCodeAt(next) === 9)) {
      folded = true;
      const more = message.indexOf('\n', next);
      stop = more < 0 || more > end ? end : more;
      next = stop + 1;
    }
    const lineStart = position;
    position = next;
    // The colon of an unfolded line is on the line itself; a folded one is unfolded first.
    const rawColon = message.indexOf(':', lineStart);
    if (!folded && (rawColon < 0 || rawColon >= stop || !mayBeWanted(message, lineStart, rawColon))) continue;
    let line = message.slice(lineStart, stop);
    if (folded) line = line.replace(/\r?\n[ \t]+/g, ' ');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const raw = line.slice(0, colon).trim().toLowerCase();
    const name = COMPACT[raw] ?? raw;
    if (name === 'via') {
      if (via !== undefined) continue;
      const value = line.slice(colon + 1).trim().split(',')[0]!.trim();
      const match = VIA.exec(value);
      if (match) {
        const params = match[4] ?? '';
        const rport = viaParam(params, RPORT);
        via = {
          transport: match[1]!.toUpperCase(),
          host: match[2]!,
          port: match[3] !== undefined ? Number(match[3]) : undefined,
          branch: viaParam(params, BRANCH) ?? '',
          received: viaParam(params, RECEIVED) || undefined,
          rport: rport !== undefined && rport !== '' ? Number(rport) : undefined,
          line: message.slice(lineStart, stop).replace(/\r$/, ''),
        };
      }
    } else if (name === 'cseq') {
      const match = CSEQ.exec(line.slice(colon + 1).trim());
      if (match) {
        cseq = Number(match[1]);
        if (kind === 'response') method = match[2]!.toUpperCase();
      }
    } else if (name === 'call-id') {
      callId = line.slice(colon + 1).trim();
    }
  }
  return { kind, method, status, via, cseq, callId, headerEnd };
}

/** A Via header line with its (first) sent-by replaced by `sentBy` (`host` or `host:port`). */
export function replaceSentBy(viaLine: string, sentBy: string): string {
  return viaLine.replace(/(SIP\s*\/\s*2\.0\s*\/\s*[A-Za-z]+\s+)(\[[^\]]+\]|[^\s;:,]+)(:\d+)?/, `$1${sentBy}`);
}

/** Replaces the top Via's sent-by (`host` or `host:port`) and returns the new message. */
export function setTopViaSentBy(message: string, peek: SipPeek, sentBy: string): string {
  if (!peek.via) return message;
  const line = peek.via.line;
  const at = message.indexOf(line);
  return at < 0 ? message : message.slice(0, at) + replaceSentBy(line, sentBy) + message.slice(at + line.length);
}

/**
 * Where a request goes when there is no proxy (stand-alone): the host and port of its Request-URI
 * (RFC 3263 without DNS: an IP address or a host name, default port 5060, 5061 for sips).
 */
export function requestUriTarget(message: string): { address: string; port: number } | undefined {
  const match = /^[A-Za-z]+ (sips?):(?:[^@\s]*@)?(\[[^\]]+\]|[^:;?\s>]+)(?::(\d+))?/.exec(message);
  if (!match) return undefined;
  const host = match[2]!.startsWith('[') ? match[2]!.slice(1, -1) : match[2]!;
  return { address: host, port: match[3] !== undefined ? Number(match[3]) : match[1] === 'sips' ? 5061 : 5060 };
}

/** Replaces the top Via's transport token (`UDP` to `TCP` when a request is too large for UDP) and returns the new message. */
export function setTopViaTransport(message: string, peek: SipPeek, transport: string): string {
  if (!peek.via) return message;
  const line = peek.via.line;
  const at = message.indexOf(line);
  const replaced = line.replace(/(SIP\s*\/\s*2\.0\s*\/\s*)[A-Za-z]+/, `$1${transport}`);
  return at < 0 ? message : message.slice(0, at) + replaced + message.slice(at + line.length);
}
