import { type SipPeek } from './sip-peek';
/**
 * The 408 a transport hands to sip.js when a client transaction gets no final response within
 * `sip_transaction_timeout` (Timers B and F, RFC 3261 17.1.1.2 and 17.1.2.2): the request's Via
 * (with the sent-by sip.js wrote), From, To, Call-ID and CSeq, as a response copies them.
 */
export declare function timeoutResponse(request: string, peek: SipPeek, viaHost: string): string;
/** A host for a Via or URI: IPv6 literals in brackets. */
export declare function formatHost(host: string): string;
/** A host from a Via or URI: IPv6 brackets removed. */
export declare function stripBrackets(host: string): string;
//# sourceMappingURL=timeout-response.d.ts.map