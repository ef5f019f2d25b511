/**
 * The longest header line a received message may have (8 KiB): a request with a longer one is
 * answered 400, a response with one is dropped.
 */
export declare const MAX_HEADER_LINE_BYTES = 8192;
/** What a transport does with a received message before sip.js sees it. */
export type Screening = 
/** Well-formed as far as the transport can tell: hand it to sip.js. */
{
    action: 'deliver';
}
/** Nothing can or should be answered (not SIP, a response, an ACK, no Via/From/To/Call-ID/CSeq). */
 | {
    action: 'drop';
    reason: string;
}
/** A request that cannot be processed: send `response` (a 400, or 488 for an SDP offer that cannot be used) instead. */
 | {
    action: 'reply';
    status: number;
    reason: string;
    response: string;
};
/**
 * Decides what a transport does with a received SIP message before sip.js sees it. sip.js drops
 * silently what it cannot parse (and throws on a response whose CSeq does not parse); RFC 3261
 * wants a request that cannot be understood answered with 400 (8.2, 21.4.1), including a
 * Content-Length larger than the datagram's body (18.3). So:
 *
 * - a response, or an ACK, that sip.js would not take is dropped (neither is ever answered);
 * - a request sip.js cannot parse, or without a mandatory header (Via, From, To, Call-ID, CSeq),
 *   whose CSeq method differs from its method, whose Content-Length is more than its body, or
 *   with a header line above {@link MAX_HEADER_LINE_BYTES}, is answered `400 Bad Request` when
 *   its Via, From, To, Call-ID and CSeq lines are there to build a response from, and dropped
 *   otherwise;
 * - an INVITE whose SDP offer does not parse, or has no audio stream, is answered
 *   `488 Not Acceptable Here` (the endpoint is audio only).
 *
 * Responses carry a `Warning: 399` saying why. `message` is the request as the transport will
 * deliver it (with `received`/`rport` already in its Via); `agentHost` goes in the Warning.
 */
export declare function screenIncoming(message: string, agentHost: string): Screening;
//# sourceMappingURL=bad-request.d.ts.map