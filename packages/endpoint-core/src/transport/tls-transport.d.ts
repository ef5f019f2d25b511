import type { Socket } from 'node:net';
import { type Server as TlsServer } from 'node:tls';
import type { SipTarget } from './connection-transport';
import { TcpTransport, type TcpTransportOptions } from './tcp-transport';
import { type TlsSettings } from './tls-settings';
/** Options of {@link TlsTransport}, passed by sip.js as `transportOptions`. @public */
export interface TlsTransportOptions extends TcpTransportOptions {
    /** Certificates, versions and name check (see {@link readTlsSettings}). */
    tls: TlsSettings;
    /** The server's name as configured, checked against its certificate and sent as SNI. @defaultValue the target's address */
    serverName?: string;
    /** A TLS listening server (see {@link listenSipTls}), when we have a certificate and key. */
    server?: TlsServer;
}
/**
 * Listens for SIP over TLS on the first free port of `min`..`max`, with our certificate and key.
 * Clients are not asked for a certificate.
 *
 * @throws `SipEndpointError` `ERR_SIP_TLS_SETTINGS` when `settings` has no certificate and key.
 * @public
 */
export declare function listenSipTls(address: string, min: number, max: number, settings: TlsSettings): Promise<TlsServer>;
/**
 * SIP over TLS for sip.js (RFC 3261 26.2): the {@link TcpTransport} over `node:tls` sockets.
 * The server's certificate must chain to a system certificate authority or to the configured
 * `certificate`; with `tls-target-name-check` = `host` it must also name the server as
 * configured. `sec_protocol` fixes the TLS version. Connections the far end opens arrive on the
 * TLS listening server when there is one (a certificate with its key is configured); otherwise
 * the far end reaches us over our own connection, reopened as soon as it drops.
 *
 * @public
 */
export declare class TlsTransport extends TcpTransport {
    #private;
    readonly protocol: string;
    constructor(logger: unknown, options: TlsTransportOptions);
    protected openSocket(target: SipTarget, localAddress: string | undefined, localPort: number): Promise<Socket>;
}
//# sourceMappingURL=tls-transport.d.ts.map