import { type Server, type Socket } from 'node:net';
import { ConnectionTransport, type ConnectionTransportOptions, type SipConnection, type SipTarget } from './connection-transport';
/** Options of {@link TcpTransport}, passed by sip.js as `transportOptions`. @public */
export interface TcpTransportOptions extends ConnectionTransportOptions {
    /** A listening server for connections the far end opens to us (see {@link listenSipTcp}; a TLS server for {@link TlsTransport}). */
    server?: Server;
    /** Local address of the connections we open. */
    localAddress?: string;
    /** `tcp_port_min`..`tcp_port_max` for the connections we open; absent: ephemeral ports. */
    localPortRange?: {
        min: number;
        max: number;
    };
}
/**
 * Listens for SIP over TCP on the first free port of `min`..`max`.
 *
 * @public
 */
export declare function listenSipTcp(address: string, min: number, max: number): Promise<Server>;
/** Listens with `create()`'s server on the first free port of `min`..`max`. */
export declare function listenFirstFree<T extends Server>(what: string, address: string, min: number, max: number, create: () => T): Promise<T>;
/**
 * SIP over TCP for sip.js (RFC 3261 18): messages framed by their Content-Length, requests on one
 * connection to the line's target (opened from `tcp_port_min`..`tcp_port_max` when set, reopened
 * when it drops), responses on the connection their request came on, connections from the far
 * end accepted on our listening port, CRLF keep-alives answered (and sent), and a 408 handed to
 * sip.js at `sip_transaction_timeout`. Our Via carries our listening port; it is taken off in
 * responses, which sip.js would drop otherwise. A stream that cannot be framed is closed.
 *
 * @public
 */
export declare class TcpTransport extends ConnectionTransport {
    #private;
    readonly protocol: string;
    constructor(_logger: unknown, options: TcpTransportOptions);
    protected listeningPort(): number | undefined;
    protected closeListener(): Promise<void>;
    /**
     * Opens one socket to `target` from `localPort` (0: ephemeral) and resolves once it can carry
     * messages. {@link TlsTransport} opens a TLS socket instead.
     */
    protected openSocket(target: SipTarget, localAddress: string | undefined, localPort: number): Promise<Socket>;
    protected dial(target: SipTarget): Promise<SipConnection>;
}
//# sourceMappingURL=tcp-transport.d.ts.map