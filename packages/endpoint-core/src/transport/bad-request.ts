import { randomBytes } from 'node:crypto';
import type { Core } from 'sip.js';
import { parseOffer } from '../media/offer-cache';
import { imOffer } from '../media/im-session-description-handler';
import { parseSipMessage } from '../sip/message-parser';

/**
 * The longest header line a received message may have (8 KiB): a request with a longer one is
 * answered 400, a response with one is dropped.
 */
export const MAX_HEADER_LINE_BYTES = 8192;

/** What a transport does with a received message before sip.js sees it. */
export type Screening =
  /**
   * Well-formed as far as the transport can tell: hand it to sip.js; `parsed` is the message as
   * sip.js's parser makes it (made for the screening), which sip.js takes instead of parsing it.
   */
  | { action: 'deliver'; parsed?: Core.IncomingRequestMessage | Core.IncomingResponseMessage }
  /** Nothing can or should be answered (not SIP, a response, an ACK, no Via/From/To/Call-ID/CSeq). */
  | { action: 'drop'; reason: string }
  /** A request that cannot be processed: send `response` (a 400, or 488 for an SDP offer that cannot be used) instead. */
  | { action: 'reply'; status: number; reason: string; response: string };

interface RawHeader {
  /** Lower-case long name (compact forms expanded). */
  name: string;
  /** The line as received (folded lines joined with a space). */
  line: string;
  value: string;
}

const COMPACT: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id', l: 'content-length', c: 'content-type', m: 'contact' };

/** The header lines of a message, folded lines joined; `undefined` for the start line's end missing. */
function rawHeaders(message: string): { start: string; headers: RawHeader[]; body: string } | undefined {
  const firstEnd = message.indexOf('\r\n');
  if (firstEnd < 0) return undefined;
  let end = message.indexOf('\r\n\r\n');
  const body = end < 0 ? '' : message.slice(end + 4);
  if (end < 0) end = message.length;
  const block = message.slice(firstEnd + 2, end).replace(/\r\n[ \t]+/g, ' ');
  const headers: RawHeader[] = [];
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const raw = line.slice(0, colon).trim().toLowerCase();
    headers.push({ name: COMPACT[raw] ?? raw, line, value: line.slice(colon + 1).trim() });
  }
  return { start: message.slice(0, firstEnd), headers, body };
}

/**
 * The message as sip.js's parser makes it (by the hot path's parser, `src/sip/message-parser.ts`),
 * silenced; what it would have logged is the reason it failed.
 */
function sipJsParse(message: string): { parsed: Core.IncomingRequestMessage | Core.IncomingResponseMessage | undefined; complaint: string | undefined } {
  let complaint: string | undefined;
  const note = (text: unknown): void => {
    complaint ??= String(text);
  };
  const logger = { error: note, warn: note, log: () => undefined, debug: () => undefined } as unknown as Core.Logger;
  try {
    return { parsed: parseSipMessage(message, logger), complaint };
  } catch (error) {
    // sip.js throws on some inputs (a response whose CSeq does not parse).
    return { parsed: undefined, complaint: `sip.js cannot parse it: ${(error as Error).message}` };
  }
}

const quoted = (text: string): string => `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ').slice(0, 200)}"`;

/**
 * A response to a request that will not reach sip.js: its Via lines, From, To (with a tag added
 * when it has none, RFC 3261 8.2.6.2), Call-ID and CSeq, a Warning with the reason.
 */
function buildResponse(headers: RawHeader[], status: number, phrase: string, reason: string, agentHost: string): string {
  const pick = (name: string) => headers.filter((header) => header.name === name);
  const to = pick('to')[0]!;
  const toLine = /;\s*tag\s*=/i.test(to.value) ? to.line : `${to.line};tag=${randomBytes(5).toString('hex')}`;
  return [
    `SIP/2.0 ${status} ${phrase}`,
    ...pick('via').map((header) => header.line),
    pick('from')[0]!.line,
    toLine,
    pick('call-id')[0]!.line,
    pick('cseq')[0]!.line,
    `Warning: 399 ${agentHost} ${quoted(reason)}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/**
 * `503 Service Unavailable` with `Retry-After` to a request a source sent above its rate limit
 * (RFC 3261 21.5.4), or undefined when the request lacks what a response is built from.
 */
export function serviceUnavailable(message: string, agentHost: string, retryAfterS: number): string | undefined {
  const raw = rawHeaders(message);
  if (!raw || !['via', 'from', 'to', 'call-id', 'cseq'].every((name) => raw.headers.some((header) => header.name === name))) return undefined;
  return buildResponse(raw.headers, 503, 'Service Unavailable', 'too many requests from this address', agentHost).replace('\r\nContent-Length: 0', `\r\nRetry-After: ${retryAfterS}\r\nContent-Length: 0`);
}

/**
 * Decides what a transport does with a received SIP message before sip.js sees it. sip.js drops
 * silently what it cannot parse (and throws on a response whose CSeq does not parse); RFC 3261
 * wants a request that cannot be understood answered with 400 (8.2, 21.4.1), including a
 * Content-Length larger than the datagram's body (18.3). So:
 *
 * - a response, or an ACK, that sip.js would not take is dropped (neither is ever answered);
 * - a request sip.js cannot parse, or without a mandatory header (Via, From, To, Call-ID, CSeq),
 *   whose CSeq method differs from its method or whose CSeq number is beyond 32 bits, whose
 *   Content-Length is more than its body, with a header line above {@link MAX_HEADER_LINE_BYTES},
 *   with more than {@link MAX_HEADER_FIELDS} header fields, with Call-ID, CSeq, From, To,
 *   Max-Forwards, Content-Length or Content-Type more than once, or with a body and no
 *   Content-Type, is answered `400 Bad Request` when
 *   its Via, From, To, Call-ID and CSeq lines are there to build a response from, and dropped
 *   otherwise;
 * - an INVITE whose SDP offer does not parse, or has no audio stream and is no IM session's offer
 *   (an IM stream alone, `m=message`), is answered `488 Not Acceptable Here`.
 *
 * Responses carry a `Warning: 399` saying why. `message` is the request as the transport will
 * deliver it (with `received`/`rport` already in its Via); `agentHost` goes in the Warning.
 */
/** The largest CSeq number: RFC 3261 8.1.1.5 has it a 32-bit unsigned integer. */
const MAX_CSEQ = 0xffffffff;

/** The most header fields a message may have (RFC 4475's longest valid message has 45). */
export const MAX_HEADER_FIELDS = 256;

/** Headers a message carries at most once (RFC 3261 7.3.1: their values are not comma lists). */
const SINGLE_HEADERS = ['call-id', 'cseq', 'from', 'to', 'max-forwards', 'content-length', 'content-type'];

/** Why the header fields of a message are unusable in number or repetition, if they are. */
function headerCountProblem(headers: readonly RawHeader[]): string | undefined {
  if (headers.length > MAX_HEADER_FIELDS) return `the message has ${headers.length} header fields, more than ${MAX_HEADER_FIELDS}`;
  for (const name of SINGLE_HEADERS) {
    let count = 0;
    for (const header of headers) if (header.name === name && ++count > 1) return `the ${name} header appears more than once (RFC 3261 7.3.1)`;
  }
  return undefined;
}

function responseProblem(raw: NonNullable<ReturnType<typeof rawHeaders>>): string | undefined {
  if (!/^SIP\/2\.0 [1-6]\d\d( |$)/.test(raw.start)) return 'the status line does not parse';
  const long = raw.headers.find((header) => Buffer.byteLength(header.line) > MAX_HEADER_LINE_BYTES);
  if (long) return `the ${long.name} header line is longer than ${MAX_HEADER_LINE_BYTES} bytes`;
  const counted = headerCountProblem(raw.headers);
  if (counted) return counted;
  for (const name of ['via', 'from', 'to', 'call-id']) if (!raw.headers.some((header) => header.name === name)) return `the ${name} header is missing`;
  const cseq = raw.headers.find((header) => header.name === 'cseq')?.value;
  if (cseq === undefined || !/^\d{1,10}\s+[A-Za-z]+$/.test(cseq.trim())) return 'the CSeq header is missing or does not parse';
  if (Number(/^\d+/.exec(cseq.trim())![0]) > MAX_CSEQ) return `the CSeq number is larger than 2**32 - 1`;
  return undefined;
}

export function screenIncoming(message: string, agentHost: string): Screening {
  const raw = rawHeaders(message);
  if (!raw) return { action: 'drop', reason: 'not a SIP message (no CRLF)' };
  const isResponse = raw.start.startsWith('SIP/2.0 ');
  const method = isResponse ? '' : (/^([A-Za-z]+) /.exec(raw.start)?.[1]?.toUpperCase() ?? '');
  if (isResponse) {
    // Responses are checked cheaply (a burst of registrations is all responses): a status line,
    // the headers that match it to a transaction, and a CSeq sip.js can read (one it cannot read
    // used to crash it). One that passes is parsed here, once, and sip.js takes it as it is.
    const problem = responseProblem(raw);
    if (problem !== undefined) return { action: 'drop', reason: `a response that cannot be used: ${problem}` };
    const { parsed } = sipJsParse(message);
    return parsed ? { action: 'deliver', parsed } : { action: 'deliver' };
  }
  let parsed: Core.IncomingRequestMessage | Core.IncomingResponseMessage | undefined;
  const problem = ((): string | undefined => {
    const long = raw.headers.find((header) => Buffer.byteLength(header.line) > MAX_HEADER_LINE_BYTES);
    if (long) return `the ${long.name} header line is longer than ${MAX_HEADER_LINE_BYTES} bytes`;
    // Two Call-IDs or CSeqs in one INVITE were answered (RFC 4475 3.3.5: found by the fuzzer).
    const counted = headerCountProblem(raw.headers);
    if (counted) return counted;
    const result = sipJsParse(message);
    parsed = result.parsed;
    const complaint = result.complaint;
    if (!parsed) return complaint ?? 'the message does not parse';
    for (const name of ['via', 'from', 'to', 'call-id', 'cseq']) if (!parsed.hasHeader(name)) return `the ${name === 'call-id' ? 'Call-ID' : name === 'cseq' ? 'CSeq' : name.replace(/^./, (c) => c.toUpperCase())} header is missing or does not parse`;
    if (isResponse) return undefined;
    const request = parsed as Core.IncomingRequestMessage;
    const cseq = parsed.parseHeader('cseq') as { method?: string } | undefined;
    if (cseq?.method?.toUpperCase() !== request.method.toUpperCase()) return `the CSeq method ${cseq?.method ?? '(none)'} is not the request's ${request.method}`;
    // RFC 3261 8.1.1.5: a 32-bit unsigned integer (sip.js reads any digits, as a float past 2**53).
    const number = /^\s*(\d+)/.exec(parsed.getHeader('cseq') ?? '')?.[1] ?? '';
    if (!(Number(number) <= MAX_CSEQ)) return `the CSeq number ${number.length > 40 ? `${number.slice(0, 40)}...` : number} is larger than 2**32 - 1 (RFC 3261 8.1.1.5)`;
    const length = parsed.getHeader('content-length');
    if (length !== undefined && Number(length) > Buffer.byteLength(raw.body)) return `Content-Length ${length} is more than the ${Buffer.byteLength(raw.body)} bytes of the body`;
    // RFC 3261 20.15: a body needs its Content-Type (without it sip.js cannot answer the INVITE,
    // and an auto-answered call stayed RINGING: found by the fuzzer).
    if (Number(length ?? Buffer.byteLength(raw.body)) > 0 && !parsed.hasHeader('content-type')) return 'the request has a body and no Content-Type (RFC 3261 20.15)';
    return undefined;
  })();
  if (problem === undefined && (isResponse || method !== 'INVITE')) return { action: 'deliver', ...(parsed ? { parsed } : {}) };
  if (isResponse) return { action: 'drop', reason: `a response that cannot be used: ${problem ?? ''}` };
  if (method === 'ACK') return { action: 'drop', reason: `an ACK that cannot be used: ${problem ?? ''}` };
  const answerable = ['via', 'from', 'to', 'call-id', 'cseq'].every((name) => raw.headers.some((header) => header.name === name)) && /branch\s*=/i.test(raw.headers.find((h) => h.name === 'via')?.value ?? '');
  if (problem !== undefined) {
    if (!answerable) return { action: 'drop', reason: `a request that cannot be answered (no Via with a branch, From, To, Call-ID or CSeq): ${problem}` };
    return { action: 'reply', status: 400, reason: problem, response: buildResponse(raw.headers, 400, 'Bad Request', problem, agentHost) };
  }
  // An INVITE sip.js would take: is its offer SDP that parses?
  const type = raw.headers.find((header) => header.name === 'content-type')?.value.split(';')[0]?.trim().toLowerCase();
  const length = Number(raw.headers.find((header) => header.name === 'content-length')?.value ?? Buffer.byteLength(raw.body));
  const body = Buffer.from(raw.body).subarray(0, length).toString();
  if (type === 'application/sdp' && body.trim() !== '') {
    let reason: string | undefined;
    try {
      // An offer of an IM stream alone is an instant-messaging session (no audio to find).
      if (!imOffer(body) && !parseOffer(body).audio) reason = 'the SDP offer has no audio stream';
    } catch (error) {
      reason = `the SDP offer does not parse: ${(error as Error).message}`;
    }
    if (reason !== undefined) return { action: 'reply', status: 488, reason, response: buildResponse(raw.headers, 488, 'Not Acceptable Here', reason, agentHost) };
  }
  return { action: 'deliver', ...(parsed ? { parsed } : {}) };
}
