import { type Socket } from 'node:dgram';
import type { Server } from 'node:net';
import { TransportState, type Emitter, type Transport } from 'sip.js';
/** Options of {@link UdpTransport}, passed by sip.js as `transportOptions`. @public */
export interface UdpTransportOptions {
    /** A socket already bound (see {@link bindSipUdp}); the transport closes it on dispose. */
    socket: Socket;
    /** The host in our Via and Contact: the UserAgent's `viaHost`. */
    viaHost: string;
    /**
     * Where requests go: the registrar / outbound proxy of the line, or a function giving it (read at
     * every request, so that failover can move it).
     */
    target: {
        address: string;
        port: number;
    } | (() => {
        address: string;
        port: number;
    }) | undefined;
    /** RFC 3261 T1. @defaultValue 500 */
    t1Ms?: number;
    /** RFC 3261 T2. @defaultValue 4000 */
    t2Ms?: number;
    /** `sip_transaction_timeout`: a client transaction without a final response by then ends with 408. @defaultValue 32000 */
    transactionTimeoutMs?: number;
    /** Called with every message sent and received (after Via handling), for logs and tests. */
    trace?: (direction: 'out' | 'in', message: string, remote: {
        address: string;
        port: number;
    }) => void;
    /**
     * The TCP side (RFC 3261 18.1.1): requests larger than `maxDatagramRequestBytes` go over TCP to
     * the same target, and requests arriving on `server` (a TCP listener, best on the UDP port's
     * number) are answered on their connection. `false`: UDP only. @defaultValue `{}` (outgoing
     * connections from ephemeral ports, no listener)
     */
    tcp?: {
        server?: Server;
        localAddress?: string;
        localPortRange?: {
            min: number;
            max: number;
        };
    } | false;
    /** Requests larger than this many bytes go over TCP (RFC 3261 18.1.1: 1300 when the path MTU is unknown). @defaultValue 1300 */
    maxDatagramRequestBytes?: number;
}
/**
 * Binds a UDP socket for SIP on the first free port of `min`..`max` (`sip_port_min`..`sip_port_max`),
 * on `address` (`0.0.0.0`, `::` or one interface's address).
 *
 * @public
 */
export declare function bindSipUdp(address: string, min: number, max: number): Promise<Socket>;
/**
 * SIP over UDP for sip.js, with what sip.js leaves to the transport over an unreliable network:
 *
 * - **Addressing.** sip.js gives `send()` no destination: requests go to the line's target
 *   (registrar or outbound proxy); responses to the top Via's `received`/`rport` (RFC 3581), else
 *   its sent-by. Our Via carries our real port (sip.js writes none), and it is taken off again
 *   in responses so that sip.js recognises them as its own.
 * - **Retransmission (RFC 3261 17.1).** Requests are sent again after T1, 2T1, ... (INVITE: until
 *   any response, Timer A; others: capped at T2, and at T2 after a provisional, Timer E) and end
 *   with a 408 handed to sip.js at `sip_transaction_timeout` (Timers B and F). A non-2xx final
 *   response to INVITE is sent again until its ACK comes (Timer G).
 * - **Absorbing retransmitted requests.** A request seen again (same branch and method) within
 *   32 s is answered with the last response sent for it, and never reaches sip.js twice.
 * - **Bad input.** A request sip.js would drop is answered 400 Bad Request when it has the
 *   headers to build a response from (488 for an INVITE whose SDP offer does not parse); garbage,
 *   unusable responses and ACKs are dropped; nothing sip.js throws on a message escapes.
 * - **Large requests over TCP (RFC 3261 18.1.1).** A request above 1300 bytes goes over TCP to
 *   the same target, its Via transport changed to TCP, its response taken from that connection
 *   (no retransmissions: TCP is reliable); its ACK or CANCEL follows it there. When no TCP
 *   connection can be opened, it goes over UDP after all. Requests arriving on the TCP listener
 *   are answered on their connection.
 *
 * @public
 */
export declare class UdpTransport implements Transport {
    #private;
    readonly protocol = "UDP";
    onConnect: (() => void) | undefined;
    onDisconnect: ((error?: Error) => void) | undefined;
    onMessage: ((message: string) => void) | undefined;
    constructor(_logger: unknown, options: UdpTransportOptions);
    get state(): TransportState;
    get stateChange(): Emitter<TransportState>;
    /** The local port. */
    get port(): number;
    /** Points requests at another server (failover, or a new `server:N`). */
    setTarget(address: string, port: number): void;
    isConnected(): boolean;
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    dispose(): Promise<void>;
    send(message: string): Promise<void>;
}
//# sourceMappingURL=udp-transport.d.ts.map