/**
 * Cuts a SIP byte stream (TCP, TLS) into messages by their Content-Length (RFC 3261 18.3), which
 * counts bytes, not characters. Blank lines between messages are keep-alives (RFC 5626 4.4.1):
 * a double CRLF is reported as a ping so that the transport can answer it with a single CRLF.
 */
export declare class SipStreamFramer {
    #private;
    constructor(onMessage: (message: string) => void, onPing?: () => void, maxMessageBytes?: number);
    /**
     * Adds received bytes; emits every complete message. Throws a `RangeError` when the stream
     * cannot be framed (no Content-Length, or a message above the size limit): the connection must
     * then be closed.
     */
    push(chunk: Buffer): void;
}
//# sourceMappingURL=sip-stream-framer.d.ts.map