import { TransportState, type Emitter, type Transport } from 'sip.js';
/** An address and port to send to. @public */
export interface SipTarget {
    address: string;
    port: number;
}
/** Options every connection-oriented transport (TCP, TLS, WS, WSS) takes, passed by sip.js as `transportOptions`. @public */
export interface ConnectionTransportOptions {
    /** The host in our Via and Contact: the UserAgent's `viaHost`. */
    viaHost: string;
    /** Where requests go, or a function giving it (read at every request, so that failover can move it). */
    target: SipTarget | (() => SipTarget) | undefined;
    /** `sip_transaction_timeout` (Timers B and F). @defaultValue 32000 */
    transactionTimeoutMs?: number;
    /** Seconds between keep-alives on our connections (CRLF on streams, RFC 5626; ping frames on WebSockets); 0 for none. @defaultValue 60 */
    keepAliveS?: number;
    /**
     * Reopen the connection to the target as soon as it drops (after 0.5 s, then doubling up to
     * 30 s), instead of at the next request: the far end can only reach us over it when we have no
     * listening port. {@link ConnectionTransportOptions.onReconnect} tells when it is back.
     * @defaultValue false
     */
    reconnect?: boolean;
    /** Called when a connection to the target was reopened after a drop (register again: the binding was on the old one). */
    onReconnect?: () => void;
    trace?: (direction: 'out' | 'in', message: string, remote: {
        address: string;
        port: number;
    }) => void;
}
/** One open connection of a {@link ConnectionTransport}, whatever carries it (a TCP or TLS socket, a WebSocket). @public */
export interface SipConnection {
    readonly remote: SipTarget;
    /** Our end's port, when known. */
    readonly localPort: number | undefined;
    /** Whether messages can still be written. */
    readonly open: boolean;
    /** Writes one SIP message. */
    write(message: string): void;
    /** Sends a keep-alive (and may close a connection that stopped answering them). */
    keepAlive(): void;
    /** Closes the connection at once. */
    close(): void;
}
/**
 * What SIP over a connection (RFC 3261 18; TCP, TLS, WebSocket) needs whatever the connection:
 * requests on one connection per target, opened when first needed and reopened when it drops;
 * responses on the connection their request came on; a 408 handed to sip.js at
 * `sip_transaction_timeout` (Timer F, and Timer B until the first response to an INVITE);
 * keep-alives; our Via sent-by with our port on requests, taken off in responses (sip.js drops
 * responses whose Via has a port). Subclasses open the connections ({@link ConnectionTransport.dial})
 * and feed what they receive to {@link ConnectionTransport.deliver}.
 *
 * @public
 */
export declare abstract class ConnectionTransport implements Transport {
    #private;
    /** The transport token of the Via header: `TCP`, `TLS`, `WS`, `WSS`. */
    abstract readonly protocol: string;
    onConnect: (() => void) | undefined;
    onDisconnect: ((error?: Error) => void) | undefined;
    onMessage: ((message: string) => void) | undefined;
    constructor(options: ConnectionTransportOptions);
    /**
     * Opens one connection to `target` and returns it once it can carry messages; rejects with a
     * `SipEndpointError` (`ERR_SIP_CONNECTION_FAILED`) saying why it could not.
     */
    protected abstract dial(target: SipTarget): Promise<SipConnection>;
    /** Our listening port, when we have one. */
    protected abstract listeningPort(): number | undefined;
    get state(): TransportState;
    get stateChange(): Emitter<TransportState>;
    /** The port in our Via and Contact: the listening port, else the local port of our last connection. */
    get port(): number | undefined;
    isConnected(): boolean;
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    dispose(): Promise<void>;
    /** Closes the listening server, if any (on dispose). */
    protected closeListener(): Promise<void>;
    /**
     * Opens the connection to the target now (or reuses it) and returns its local port. A line
     * calls it before registering, so that the Contact can carry the port the far end will reach
     * us on, and a failure can be reported as what it is.
     */
    openConnection(): Promise<{
        localPort: number | undefined;
    }>;
    send(message: string): Promise<void>;
    /**
     * Sends a request to an explicit destination rather than the configured target (UDP's path for
     * requests too large for a datagram). The request's Via transport must already be this one's.
     */
    sendRequest(message: string, target: SipTarget): Promise<void>;
    /** Registers a connection (ours or the far end's) so that it is closed with the transport. */
    protected adopt(connection: SipConnection): void;
    /** A connection closed: forget it, and reopen it when it was ours to the target and `reconnect` is on. */
    protected dropped(connection: SipConnection): void;
    /** A message received on `connection`. */
    protected deliver(message: string, connection: SipConnection): void;
}
//# sourceMappingURL=connection-transport.d.ts.map