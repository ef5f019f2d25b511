import type { Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions, type Server as TlsServer } from 'node:tls';
import type { SipTarget } from './connection-transport';
import { listenFirstFree, TcpTransport, type TcpTransportOptions } from './tcp-transport';
import { tlsClientOptions, type TlsSettings } from './tls-settings';
import { TlsSettingsError } from '../errors';

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
 * @throws {@link TlsSettingsError} when `settings` has no certificate and key.
 * @public
 */
export async function listenSipTls(address: string, min: number, max: number, settings: TlsSettings): Promise<TlsServer> {
  if (!settings.cert || !settings.key) throw new TlsSettingsError('a TLS listening port needs a certificate and its private key (system.security.certificate)');
  const options = {
    cert: settings.cert,
    key: settings.key,
    ...(settings.minVersion ? { minVersion: settings.minVersion } : {}),
    ...(settings.maxVersion ? { maxVersion: settings.maxVersion } : {}),
    ...(settings.ciphers ? { ciphers: settings.ciphers } : {}),
  };
  return listenFirstFree(`SIP over TLS on ${address}`, address, min, max, () => createTlsServer(options));
}

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
export class TlsTransport extends TcpTransport {
  override readonly protocol: string = 'TLS';
  readonly #tls: TlsSettings;
  readonly #serverName: string | undefined;

  constructor(logger: unknown, options: TlsTransportOptions) {
    super(logger, options);
    this.#tls = options.tls;
    this.#serverName = options.serverName;
  }

  protected override openSocket(target: SipTarget, localAddress: string | undefined, localPort: number): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const client: ConnectionOptions = tlsClientOptions(this.#tls, this.#serverName ?? target.address);
      const socket = tlsConnect({ ...client, host: target.address, port: target.port, ...(localAddress ? { localAddress } : {}), ...(localPort ? { localPort } : {}) });
      socket.once('secureConnect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', (error) => {
        socket.destroy();
        reject(error);
      });
    });
  }
}
