import { Core, Grammar, NameAddrHeader, URI } from 'sip.js';

/*
 * A SIP message parser for the hot path: the same result as sip.js's `Core.Parser.parseMessage`,
 * whose every well-known header goes through the PEG grammar (about 0.26 ms for an INVITE).
 * The start line and the headers every message carries (Via, From, To, Call-ID, CSeq, Contact,
 * Max-Forwards, Content-Type, Content-Length) are read here by hand when they have the common
 * shape; any value this code does not recognise as certainly the grammar's (IPv6, escapes,
 * quoted pairs, folded lines, rare parameters, lists) goes to the grammar as before, so the
 * result is sip.js's either way: `test/sip/message-parser.test.ts` compares the two on every kind
 * of message the tests exchange and on generated header values.
 *
 * Each reader returns `undefined` for "not certain: ask the grammar". They read with a cursor
 * (`at`) shared by the module: no object per character or per parameter beyond the result.
 */

/** Character classes of RFC 3261's grammar as sip.js writes it (ASCII only; anything else: the grammar). */
const ALPHANUM = 1;
const TOKEN = 2; // alphanum - . ! % * _ + ` ' ~
const USER = 4; // unreserved and user-unreserved, without escapes
const PARAM = 8; // paramchar: param-unreserved and unreserved, without escapes
const WORD = 16; // token plus ( ) < > : \ " / [ ] ? { }
const HOST = 32; // what a hostname or an IPv4 address is made of
const classes = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const alnum = /[A-Za-z0-9]/.test(ch);
  const mark = "-_.!~*'()".includes(ch);
  let bits = 0;
  if (alnum) bits |= ALPHANUM;
  if (alnum || "-.!%*_+`'~".includes(ch)) bits |= TOKEN | WORD;
  if ('()<>:\\"/[]?{}'.includes(ch)) bits |= WORD;
  if (alnum || mark || '&=+$,;?/'.includes(ch)) bits |= USER;
  if (alnum || mark || '[]/:&+$'.includes(ch)) bits |= PARAM;
  if (alnum || ch === '.' || ch === '-' || ch === '_') bits |= HOST;
  classes[c] = bits;
}

function is(code: number, kind: number): boolean {
  return code < 128 && (classes[code]! & kind) !== 0;
}

/** The cursor of the readers below. */
let at = 0;

/** Advances `at` over characters of `kind`; returns where the run began. */
function run(s: string, kind: number, end: number): number {
  const start = at;
  while (at < end && is(s.charCodeAt(at), kind)) at++;
  return start;
}

/** Whether `s` starts at `i` with `word`, in any case. */
function startsWithI(s: string, i: number, word: string): boolean {
  if (i + word.length > s.length) return false;
  for (let k = 0; k < word.length; k++) {
    let c = s.charCodeAt(i + k);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== word.charCodeAt(k)) return false;
  }
  return true;
}

/** A decimal octet as the grammar takes it (no leading zero, at most 255). */
function decOctet(s: string, from: number, to: number): boolean {
  const n = to - from;
  if (n < 1 || n > 3) return false;
  if (n > 1 && s.charCodeAt(from) === 48) return false;
  let value = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
    value = value * 10 + c - 48;
  }
  return value <= 255;
}

function isIPv4(s: string, from: number, to: number): boolean {
  let start = from;
  let dots = 0;
  for (let i = from; i <= to; i++) {
    if (i === to || s.charCodeAt(i) === 46) {
      if (!decOctet(s, start, i)) return false;
      if (i < to) dots++;
      start = i + 1;
    }
  }
  return dots === 3;
}

/** Labels of [A-Za-z0-9_-] joined by dots, the last one a letter then [A-Za-z0-9-] (no trailing dot). */
function isHostname(s: string, from: number, to: number): boolean {
  let label = from;
  for (let i = from; i <= to; i++) {
    if (i < to && s.charCodeAt(i) !== 46) continue;
    if (i === label) return false;
    if (i === to) {
      const first = s.charCodeAt(label);
      if (!((first >= 65 && first <= 90) || (first >= 97 && first <= 122))) return false;
      for (let k = label; k < to; k++) if (s.charCodeAt(k) === 95) return false;
    }
    label = i + 1;
  }
  return true;
}

/** The host at `at` (a hostname or an IPv4 address; an IPv6 reference: undefined). */
function readHost(s: string, end: number): { host: string; type: 'domain' | 'IPv4' } | undefined {
  const start = run(s, HOST, end);
  if (at === start) return undefined;
  if (isHostname(s, start, at)) return { host: s.slice(start, at), type: 'domain' };
  if (isIPv4(s, start, at)) return { host: s.slice(start, at), type: 'IPv4' };
  return undefined;
}

/** An optional `:port` at `at` (1 to 5 digits); null: none; undefined: not a port the grammar takes as such. */
function readPort(s: string, end: number): number | null | undefined {
  if (at >= end || s.charCodeAt(at) !== 58) return null;
  at++;
  const start = at;
  while (at < end && at - start < 6 && s.charCodeAt(at) >= 48 && s.charCodeAt(at) <= 57) at++;
  const n = at - start;
  if (n < 1 || n > 5) return undefined;
  return Number(s.slice(start, at));
}

/** Whether a parameter value keyword of the grammar (`udp`, `phone`...) would take a prefix of `value` and fail on the rest. */
function keywordPrefix(value: string, keywords: readonly string[]): 'exact' | 'prefix' | 'none' {
  const lower = value.toLowerCase();
  for (const keyword of keywords) {
    if (lower === keyword) return 'exact';
    if (lower.startsWith(keyword)) return 'prefix';
  }
  return 'none';
}

const URI_TRANSPORTS = ['udp', 'tcp', 'sctp', 'tls'];
const URI_USERS = ['phone', 'ip'];

/**
 * A SIP URI at `at` up to `end`: `sip:` or `sips:`, user, host, port, and with `withParameters`
 * its parameters (no URI headers). Leaves `at` after it.
 */
function readUri(s: string, end: number, withParameters: boolean): URI | undefined {
  let scheme: string;
  if (startsWithI(s, at, 'sips:')) scheme = s.slice(at, at + 4);
  else if (startsWithI(s, at, 'sip:')) scheme = s.slice(at, at + 3);
  else return undefined;
  at += scheme.length + 1;
  // userinfo: the longest run of user characters, when an '@' ends it.
  const userStart = run(s, USER, end);
  let user: string | undefined;
  if (at < end) {
    const c = s.charCodeAt(at);
    if (c === 64) {
      if (at === userStart) return undefined;
      user = s.slice(userStart, at);
      at++;
    } else if (c === 37 || c === 58) {
      // An escape, or a password (or the port of a URI without user): the grammar decides.
      if (c === 37) return undefined;
      at++;
      while (at < end && (is(s.charCodeAt(at), ALPHANUM) || "-_.!~*'()&=+$,%".includes(s[at]!))) at++;
      if (at < end && s.charCodeAt(at) === 64) return undefined;
      at = userStart;
    } else at = userStart;
  } else at = userStart;
  const host = readHost(s, end);
  if (!host) return undefined;
  const port = readPort(s, end);
  if (port === undefined) return undefined;
  if (!withParameters) return new URI(scheme, user as string, host.host, port ?? (undefined as unknown as number));
  let parameters: Record<string, string | undefined> | undefined;
  while (at < end && s.charCodeAt(at) === 59) {
    at++;
    const nameStart = run(s, PARAM, end);
    if (at === nameStart) return undefined;
    // A name run stops at '=' (not a paramchar), so the name has no '=' in it.
    const name = s.slice(nameStart, at);
    const lower = name.toLowerCase();
    const hasValue = at < end && s.charCodeAt(at) === 61;
    parameters ??= {};
    if (lower.startsWith('lr')) {
      if (lower !== 'lr') return undefined;
      if (hasValue) {
        at++;
        const valueStart = run(s, TOKEN, end);
        if (at === valueStart || s.slice(valueStart, at).includes('%')) return undefined;
      }
      parameters['lr'] = undefined;
      continue;
    }
    if (!hasValue) {
      parameters[lower] = undefined;
      continue;
    }
    at++;
    if (lower === 'transport' || lower === 'user') {
      const valueStart = run(s, TOKEN, end);
      const value = s.slice(valueStart, at);
      if (value === '' || value.includes('%') || keywordPrefix(value, lower === 'transport' ? URI_TRANSPORTS : URI_USERS) === 'prefix') return undefined;
      parameters[lower] = value.toLowerCase();
      continue;
    }
    if (lower === 'method' || lower === 'ttl' || lower === 'maddr') return undefined;
    const valueStart = run(s, PARAM, end);
    if (at === valueStart) return undefined;
    parameters[lower] = s.slice(valueStart, at);
  }
  if (at < end && s.charCodeAt(at) === 37) return undefined;
  if (at < end && s.charCodeAt(at) === 63) return undefined; // URI headers: the grammar
  // (sip.js's Parameters turns an undefined value into null, as the grammar's result does)
  return new URI(scheme, user as string, host.host, port ?? (undefined as unknown as number), parameters as Record<string, string | null> | undefined);
}

/** The name (lower case) and value (undefined without '=') of the parameter {@link readParameter} read last. */
let parameterName = '';
let parameterValue: string | undefined;

/**
 * A header parameter at `at`: ';', a token, and '=' with a token (possibly empty), followed by
 * another ';' or the end; false when it is not of that shape (the grammar then decides).
 */
function readParameter(s: string, end: number): boolean {
  if (s.charCodeAt(at) !== 59) return false;
  at++;
  const nameStart = run(s, TOKEN, end);
  if (at === nameStart) return false;
  parameterName = s.slice(nameStart, at).toLowerCase();
  parameterValue = undefined;
  if (at < end && s.charCodeAt(at) === 61) {
    at++;
    const valueStart = run(s, TOKEN, end);
    parameterValue = s.slice(valueStart, at);
  }
  return at >= end || s.charCodeAt(at) === 59;
}

/** Skips spaces and tabs. */
function skipWhitespace(s: string, end: number): void {
  while (at < end && (s.charCodeAt(at) === 32 || s.charCodeAt(at) === 9)) at++;
}

/**
 * A name-addr or addr-spec with its parameters (From, To, one Contact), as the grammar builds it:
 * `kind` says which parameters are special (From and To: `tag`, set last; Contact: `expires`).
 */
function readNameAddr(s: string, kind: 'from-to' | 'contact'): NameAddrHeader | undefined {
  const end = s.length;
  at = 0;
  let displayName: string | undefined;
  let uri: URI | undefined;
  if (startsWithI(s, 0, 'sip:') || startsWithI(s, 0, 'sips:')) {
    // addr-spec: the URI without parameters; what follows a ';' is the header's.
    uri = readUri(s, end, false);
    if (!uri) return undefined;
  } else {
    if (s.charCodeAt(0) === 34) {
      const close = s.indexOf('"', 1);
      if (close < 0) return undefined;
      for (let i = 1; i < close; i++) {
        const c = s.charCodeAt(i);
        // qdtext without quoted pairs: printable ASCII but '"' and '\', space, tab, non-ASCII
        if (c === 92 || (c < 32 && c !== 9) || c === 127) return undefined;
      }
      displayName = s.slice(1, close);
      at = close + 1;
    } else {
      // tokens separated by whitespace, up to the '<'
      while (at < end && s.charCodeAt(at) !== 60) {
        const c = s.charCodeAt(at);
        if (!(is(c, TOKEN) || c === 32 || c === 9)) return undefined;
        at++;
      }
      const text = s.slice(0, at).trim();
      if (text !== '') displayName = text;
    }
    skipWhitespace(s, end);
    if (at >= end || s.charCodeAt(at) !== 60) return undefined;
    at++;
    const close = s.indexOf('>', at);
    if (close < 0) return undefined;
    uri = readUri(s, close, true);
    if (!uri || at !== close) return undefined;
    at = close + 1;
    skipWhitespace(s, end);
  }
  let parameters: Record<string, string | undefined> | undefined;
  let tag: string | undefined;
  while (at < end) {
    if (!readParameter(s, end) || parameterValue === '') return undefined;
    const name = parameterName;
    let value = parameterValue;
    if (kind === 'from-to' && name === 'tag') {
      if (value === undefined) return undefined;
      tag = value;
      continue;
    }
    if (kind === 'contact' && name === 'q') return undefined;
    if (kind === 'contact' && name === 'expires' && value !== undefined) {
      if (!/^\d{1,15}$/.test(value)) return undefined;
      value = String(Number(value));
    }
    parameters ??= {};
    parameters[name] = value;
  }
  const header = new NameAddrHeader(uri, displayName as string, parameters as Record<string, string>);
  if (tag) header.setParam('tag', tag);
  return header;
}

const VIA_TRANSPORTS = ['udp', 'tcp', 'tls', 'sctp'];

/** sip.js's parsed Via (one via-parm): protocol, transport, host, port and the known parameters. */
export interface ParsedVia {
  protocol: string;
  transport: string;
  host_type: string;
  host: string;
  port?: number;
  ttl?: number;
  maddr?: string;
  received?: string;
  branch?: string;
  rport?: string;
  params?: Record<string, string | undefined>;
}

function readVia(s: string): ParsedVia | undefined {
  const end = s.length;
  if (!startsWithI(s, 0, 'sip/')) return undefined;
  const protocol = s.slice(0, 3);
  at = 4;
  const versionStart = run(s, TOKEN, end);
  if (at === versionStart || at >= end || s.charCodeAt(at) !== 47) return undefined;
  at++;
  const transportStart = run(s, TOKEN, end);
  const transport = s.slice(transportStart, at);
  if (transport === '' || keywordPrefix(transport, VIA_TRANSPORTS) === 'prefix') return undefined;
  const lws = at;
  skipWhitespace(s, end);
  if (at === lws) return undefined;
  const host = readHost(s, end);
  if (!host) return undefined;
  const port = readPort(s, end);
  if (port === undefined) return undefined;
  const via: ParsedVia = { protocol, transport, host_type: host.type, host: host.host };
  if (port !== null) via.port = port;
  while (at < end) {
    if (!readParameter(s, end)) return undefined;
    const name = parameterName;
    const value = parameterValue;
    if (value !== undefined) {
      if (name === 'ttl' || name === 'maddr') return undefined;
      if (name === 'received') {
        if (!isIPv4(value, 0, value.length)) return undefined;
        via.received = value;
        // (the grammar's IPv4 rule, run again for this address, leaves its type as the host's)
        via.host_type = 'IPv4';
        continue;
      }
      if (name === 'branch') {
        if (value === '') return undefined;
        via.branch = value;
        continue;
      }
      if (name === 'rport') {
        if (!/^\d*$/.test(value)) return undefined;
        via.rport = value;
        continue;
      }
      if (value === '') return undefined;
    }
    via.params ??= {};
    via.params[name] = value;
  }
  return via;
}

const METHODS = ['INVITE', 'ACK', 'OPTIONS', 'BYE', 'CANCEL', 'REGISTER', 'SUBSCRIBE', 'PUBLISH', 'NOTIFY', 'REFER'];

/** A method as the grammar reads it: one of its keywords, or a token no keyword is a prefix of. */
function isMethod(method: string): boolean {
  if (method === '') return false;
  for (let i = 0; i < method.length; i++) if (!is(method.charCodeAt(i), TOKEN)) return false;
  for (const keyword of METHODS) if (method !== keyword && method.startsWith(keyword)) return false;
  return !method.includes('%');
}

function readCSeq(s: string): { value: number; method: string } | undefined {
  at = 0;
  while (at < s.length && s.charCodeAt(at) >= 48 && s.charCodeAt(at) <= 57) at++;
  if (at === 0 || at > 15) return undefined;
  const value = Number(s.slice(0, at));
  const lws = at;
  skipWhitespace(s, s.length);
  if (at === lws) return undefined;
  const method = s.slice(at);
  return isMethod(method) ? { value, method } : undefined;
}

function readCallId(s: string): string | undefined {
  let ats = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 64) {
      if (++ats > 1 || i === 0 || i === s.length - 1) return undefined;
    } else if (!is(c, WORD)) return undefined;
  }
  return s === '' ? undefined : s;
}

function readNumber(s: string): number | undefined {
  return /^\d{1,15}$/.test(s) ? Number(s) : undefined;
}

const MEDIA_TYPES = ['text', 'image', 'audio', 'video', 'application', 'message', 'multipart'];

/** `type/subtype` without parameters or whitespace: the value as it is. */
function readContentType(s: string): string | undefined {
  const slash = s.indexOf('/');
  if (slash <= 0 || slash === s.length - 1) return undefined;
  for (let i = 0; i < s.length; i++) if (i !== slash && (!is(s.charCodeAt(i), TOKEN) || s.charCodeAt(i) === 37)) return undefined;
  return keywordPrefix(s.slice(0, slash), MEDIA_TYPES) === 'prefix' ? undefined : s;
}

/** The grammar's start line: a request's method and URI, or a response's status. */
function readStartLine(line: string): { method: string; uri: URI } | { statusCode: number; reasonPhrase: string } | undefined {
  if (startsWithI(line, 0, 'sip/')) {
    const match = /^SIP\/(\d+\.\d+) (\d{3}) (.*)$/i.exec(line);
    if (!match) return undefined;
    const reason = match[3]!;
    for (let i = 0; i < reason.length; i++) {
      const c = reason.charCodeAt(i);
      // reserved, unreserved, space, tab, non-ASCII (an escape: the grammar)
      if (!(c >= 128 || c === 32 || c === 9 || is(c, ALPHANUM) || "-_.!~*'();/?:@&=+$,".includes(reason[i]!))) return undefined;
    }
    return { statusCode: Number(match[2]), reasonPhrase: reason };
  }
  const space = line.indexOf(' ');
  if (space <= 0) return undefined;
  const method = line.slice(0, space);
  if (!isMethod(method)) return undefined;
  const last = line.lastIndexOf(' ');
  if (last <= space || !/^SIP\/\d+\.\d+$/i.test(line.slice(last + 1))) return undefined;
  at = space + 1;
  const uri = readUri(line, last, true);
  if (!uri || at !== last) return undefined;
  return { method, uri };
}

/** Stores what a header reads as, so that sip.js's `parseHeader` returns it without the grammar. */
function keep(message: Core.IncomingMessage, name: string, parsed: unknown): unknown {
  const headers = message.headers[name]!;
  headers[headers.length - 1]!.parsed = parsed;
  return parsed;
}

/** Where a header line ends (folded lines included), as sip.js's `getHeader` finds it; -2 at the blank line, -1 when cut short. */
function headerEnd(data: string, headerStart: number): number {
  if (data.charCodeAt(headerStart) === 13 && data.charCodeAt(headerStart + 1) === 10) return -2;
  let start = headerStart;
  for (;;) {
    const partialEnd = data.indexOf('\r\n', start);
    if (partialEnd === -1) return -1;
    const next = data.charCodeAt(partialEnd + 2);
    // sip.js: a line that starts with whitespace (/\s/, Unicode spaces too) continues the header.
    const space = next < 128 ? next === 32 || (next >= 9 && next <= 13) : /\s/.test(data.charAt(partialEnd + 2));
    const folded = !(next === 13 && data.charCodeAt(partialEnd + 3) === 10) && space;
    if (!folded) return partialEnd;
    start = partialEnd + 2;
  }
}

/**
 * One header, as sip.js's `Parser.parseHeader` treats it, the common values read here: false when
 * the grammar refused it (sip.js then drops the message).
 */
function parseHeader(message: Core.IncomingRequestMessage | Core.IncomingResponseMessage, data: string, headerStart: number, end: number): boolean {
  const colon = data.indexOf(':', headerStart);
  const headerName = data.substring(headerStart, colon).trim();
  const value = data.substring(colon + 1, end).trim();
  // A folded line keeps its CRLF in the value: the grammar reads it.
  const plain = !value.includes('\n');
  let parsed: unknown;
  switch (headerName.toLowerCase()) {
    case 'via':
    case 'v': {
      message.addHeader('via', value);
      if (message.getHeaders('via').length === 1) {
        const via = plain && value.indexOf(',') < 0 ? readVia(value) : undefined;
        parsed = via !== undefined ? keep(message, 'Via', via) : message.parseHeader('Via');
        if (parsed) {
          message.via = parsed as Core.IncomingMessage['via'];
          message.viaBranch = (parsed as { branch: string }).branch;
        }
      } else parsed = 0;
      break;
    }
    case 'from':
    case 'f':
    case 'to':
    case 't': {
      const lower = headerName.toLowerCase();
      const from = lower === 'from' || lower === 'f';
      message.setHeader(from ? 'from' : 'to', value);
      const header = plain ? readNameAddr(value, 'from-to') : undefined;
      parsed = header !== undefined ? keep(message, from ? 'From' : 'To', header) : message.parseHeader(from ? 'from' : 'to');
      if (parsed) {
        if (from) {
          message.from = parsed as NameAddrHeader;
          message.fromTag = (parsed as NameAddrHeader).getParam('tag') as string;
        } else {
          message.to = parsed as NameAddrHeader;
          message.toTag = (parsed as NameAddrHeader).getParam('tag') as string;
        }
      }
      break;
    }
    case 'call-id':
    case 'i': {
      message.setHeader('call-id', value);
      const callId = plain ? readCallId(value) : undefined;
      parsed = callId !== undefined ? keep(message, 'Call-ID', callId) : message.parseHeader('call-id');
      if (parsed) message.callId = value;
      break;
    }
    case 'contact':
    case 'm': {
      // One contact of the common shape here; a list, '*' or anything else: the grammar.
      const contact = plain && value.indexOf(',') < 0 ? readNameAddr(value, 'contact') : undefined;
      if (contact !== undefined) {
        message.addHeader('contact', value);
        parsed = keep(message, 'Contact', contact);
        break;
      }
      return Core.Parser.parseHeader(message, data, headerStart, end) === true;
    }
    case 'content-length':
    case 'l': {
      message.setHeader('content-length', value);
      const length = readNumber(value);
      parsed = length !== undefined ? keep(message, 'Content-Length', length) : message.parseHeader('content-length');
      break;
    }
    case 'content-type':
    case 'c': {
      message.setHeader('content-type', value);
      const type = plain ? readContentType(value) : undefined;
      parsed = type !== undefined ? keep(message, 'Content-Type', type) : message.parseHeader('content-type');
      break;
    }
    case 'cseq': {
      message.setHeader('cseq', value);
      const cseq = plain ? readCSeq(value) : undefined;
      parsed = cseq !== undefined ? keep(message, 'CSeq', cseq) : message.parseHeader('cseq');
      if (parsed) message.cseq = (parsed as { value: number }).value;
      if (message instanceof Core.IncomingResponseMessage) message.method = (parsed as { method: string }).method;
      break;
    }
    case 'max-forwards': {
      message.setHeader('max-forwards', value);
      const hops = readNumber(value);
      parsed = hops !== undefined ? keep(message, 'Max-Forwards', hops) : message.parseHeader('max-forwards');
      break;
    }
    case 'www-authenticate':
    case 'proxy-authenticate':
      // Every challenge kept, parsed when asked for: a 401 may carry one per algorithm (RFC 8760
      // 2.4); sip.js's own parser keeps only the last.
      message.addHeader(headerName.toLowerCase(), value);
      parsed = 0;
      break;
    case 'record-route':
    case 'refer-to':
    case 'r':
      return Core.Parser.parseHeader(message, data, headerStart, end) === true;
    default:
      message.addHeader(headerName.toLowerCase(), value);
      parsed = 0;
  }
  return parsed !== undefined;
}

/**
 * Parses a SIP message as sip.js's `Core.Parser.parseMessage` does, with the common values of the
 * common headers read by hand. `undefined` (and a warning or error to `logger`, in sip.js's words)
 * when it is not one.
 */
export function parseSipMessage(data: string, logger: Core.Logger): Core.IncomingRequestMessage | Core.IncomingResponseMessage | undefined {
  let end = data.indexOf('\r\n');
  if (end === -1) {
    logger.warn('no CRLF found, not a SIP message, discarded');
    return undefined;
  }
  const firstLine = data.substring(0, end);
  const start = readStartLine(firstLine) ?? grammarStartLine(firstLine);
  if (start === undefined) {
    logger.warn(`error parsing first line of SIP message: "${firstLine}"`);
    return undefined;
  }
  let message: Core.IncomingRequestMessage | Core.IncomingResponseMessage;
  if ('method' in start) {
    message = new Core.IncomingRequestMessage();
    message.method = start.method;
    message.ruri = start.uri;
  } else {
    message = new Core.IncomingResponseMessage();
    message.statusCode = start.statusCode;
    message.reasonPhrase = start.reasonPhrase;
  }
  message.data = data;
  let headerStart = end + 2;
  let bodyStart: number;
  for (;;) {
    end = headerEnd(data, headerStart);
    if (end === -2) {
      bodyStart = headerStart + 2;
      break;
    }
    if (end === -1) {
      logger.error('malformed message');
      return undefined;
    }
    if (!parseHeader(message, data, headerStart, end)) {
      const colon = data.indexOf(':', headerStart);
      logger.error(`error parsing header '${data.substring(headerStart, colon).trim()}'`);
      return undefined;
    }
    headerStart = end + 2;
  }
  message.body = message.hasHeader('content-length') ? data.substr(bodyStart, Number(message.getHeader('content-length'))) : data.substring(bodyStart);
  return message;
}

/** The start line by the grammar (a tel: URI, an IPv6 host, escapes...). */
function grammarStartLine(line: string): { method: string; uri: URI } | { statusCode: number; reasonPhrase: string } | undefined {
  const parsed = Grammar.parse(line, 'Request_Response') as -1 | { method?: string; uri?: URI; status_code?: number; reason_phrase?: string };
  if (parsed === -1) return undefined;
  if (!parsed.status_code) return { method: parsed.method!, uri: parsed.uri! };
  return { statusCode: parsed.status_code, reasonPhrase: parsed.reason_phrase! };
}
