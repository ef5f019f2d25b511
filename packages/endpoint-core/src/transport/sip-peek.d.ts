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
    via: {
        transport: string;
        host: string;
        port: number | undefined;
        branch: string;
        received: string | undefined;
        rport: number | undefined;
        line: string;
    } | undefined;
    cseq: number;
    callId: string;
    /** Offset of the blank line that ends the headers, or -1. */
    headerEnd: number;
}
/** Reads the parts of a SIP message the transport needs; `undefined` when it is not a SIP message. */
export declare function peekSip(message: string): SipPeek | undefined;
/** A Via header line with its (first) sent-by replaced by `sentBy` (`host` or `host:port`). */
export declare function replaceSentBy(viaLine: string, sentBy: string): string;
/** Replaces the top Via's sent-by (`host` or `host:port`) and returns the new message. */
export declare function setTopViaSentBy(message: string, peek: SipPeek, sentBy: string): string;
/**
 * Where a request goes when there is no proxy (stand-alone): the host and port of its Request-URI
 * (RFC 3263 without DNS: an IP address or a host name, default port 5060, 5061 for sips).
 */
export declare function requestUriTarget(message: string): {
    address: string;
    port: number;
} | undefined;
/** Replaces the top Via's transport token (`UDP` to `TCP` when a request is too large for UDP) and returns the new message. */
export declare function setTopViaTransport(message: string, peek: SipPeek, transport: string): string;
//# sourceMappingURL=sip-peek.d.ts.map