import { type ConnectionOptions, type SecureVersion } from 'node:tls';
import { type EndpointConfig } from '@sip-endpoint/config';
/**
 * What TLS (SIP over TLS, WSS) needs from the configuration, in the shape `node:tls` takes.
 *
 * @public
 */
export interface TlsSettings {
    /** Trusted certificate authorities: the system's plus the configured certificate(s), PEM. */
    ca: string[];
    /** Our certificate chain (PEM), when the configured file carries a private key too. */
    cert: string | undefined;
    /** Our private key (PEM), when the configured file has one. */
    key: string | undefined;
    /** `tls-target-name-check`: `host` checks that the server certificate names the server. */
    checkName: boolean;
    minVersion: SecureVersion | undefined;
    maxVersion: SecureVersion | undefined;
    /** OpenSSL cipher list, when an old TLS version needs a lower security level. */
    ciphers: string | undefined;
}
/** The certificate authorities of the system: Node's bundled set plus the operating system's bundle, read once. */
export declare function systemCaCertificates(): string[];
/**
 * Reads the TLS settings of `system.security`: `certificate` (a PEM file: its certificates are
 * trusted in addition to the system's; with a private key in the same file it is also our own
 * certificate, for client authentication and for a listening TLS port), `tls-target-name-check`
 * and `sec_protocol` (`SSLv23`: the highest version both sides support, from TLS 1.2; `TLSv1`,
 * `TLSv11`, `TLSv12`, `TLSv13`: that version only).
 *
 * @throws `SipEndpointError` `ERR_SIP_TLS_SETTINGS` when the certificate file cannot be read or
 * holds no certificate, when `certificate` is a thumbprint (a Windows certificate store name,
 * which Node cannot open), or for `sec_protocol` `SSLv3`, which Node refuses.
 * @public
 */
export declare function readTlsSettings(config: EndpointConfig): TlsSettings;
/**
 * `node:tls` client options for a connection to a server called `serverName` (the name in the
 * configuration, checked against the certificate when `checkName`; sent as SNI unless it is an IP
 * address).
 */
export declare function tlsClientOptions(settings: TlsSettings, serverName: string): ConnectionOptions;
//# sourceMappingURL=tls-settings.d.ts.map