import { ConnectionTransport, type ConnectionTransportOptions, type SipConnection, type SipTarget } from './connection-transport';
import { type TlsSettings } from './tls-settings';
/** Options of {@link WsTransport}, passed by sip.js as `transportOptions`. @public */
export interface WsTransportOptions extends ConnectionTransportOptions {
    /** With TLS settings the transport is WSS (`wss://`, Via `WSS`); without, WS. */
    tls?: TlsSettings;
    /** The server's name as configured, checked against its certificate (WSS) and sent as SNI. @defaultValue the target's address */
    serverName?: string;
    /** Path of the WebSocket URL. @defaultValue '/' */
    path?: string;
    /** Local address of the connections we open. */
    localAddress?: string;
    /** Milliseconds the opening handshake may take. @defaultValue 10000 */
    handshakeTimeoutMs?: number;
    /**
     * Seconds between WebSocket ping frames; a connection whose pong has not come by the next ping
     * is closed (and, with `reconnect`, opened again). @defaultValue 30
     */
    keepAliveS?: number;
}
/**
 * SIP over WebSocket for sip.js (RFC 7118), `ws://` or `wss://` (with TLS settings): the `sip`
 * subprotocol, one SIP message per WebSocket message (text frames out; text or binary in), Via
 * transport `WS` or `WSS`. Requests go on one connection to the target; responses on the
 * connection their request came on; a 408 is handed to sip.js at `sip_transaction_timeout`; ping
 * frames keep the connection alive and find out when it died. The connection is reopened as soon
 * as it drops (the server can only reach us over it) unless `reconnect` is `false`; `onReconnect`
 * says when it is back, so that the line registers again.
 *
 * @public
 */
export declare class WsTransport extends ConnectionTransport {
    #private;
    readonly protocol: string;
    constructor(_logger: unknown, options: WsTransportOptions);
    protected listeningPort(): number | undefined;
    protected dial(target: SipTarget): Promise<SipConnection>;
}
//# sourceMappingURL=ws-transport.d.ts.map