import { replaceSentBy, type SipPeek } from './sip-peek';

/**
 * The 408 a transport hands to sip.js when a client transaction gets no final response within
 * `sip_transaction_timeout` (Timers B and F, RFC 3261 17.1.1.2 and 17.1.2.2): the request's Via
 * (with the sent-by sip.js wrote), From, To, Call-ID and CSeq, as a response copies them.
 * `status` makes another one: `503 Service Unavailable` for a request the transport could not send
 * (RFC 3261 8.1.3.1).
 */
export function timeoutResponse(request: string, peek: SipPeek, viaHost: string, status = '408 Request Timeout'): string {
  const headers = request.slice(request.indexOf('\r\n') + 2, peek.headerEnd);
  const keep = headers
    .split('\r\n')
    .filter((line) => /^(via|v|from|f|to|t|call-id|i|cseq)\s*:/i.test(line))
    .map((line) => (/^(via|v)\s*:/i.test(line) ? replaceSentBy(line, formatHost(viaHost)) : line));
  return [`SIP/2.0 ${status}`, ...keep, 'Content-Length: 0', '', ''].join('\r\n');
}

/** A host for a Via or URI: IPv6 literals in brackets. */
export function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** A host from a Via or URI: IPv6 brackets removed. */
export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
