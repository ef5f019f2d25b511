import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, rootCertificates, type ConnectionOptions, type PeerCertificate, type SecureVersion } from 'node:tls';
import type { EndpointConfig } from '@sip-endpoint/config';
import { TlsSettingsError } from '../errors';

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

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem', '/etc/ssl/cert.pem'];
let systemCertificates: string[] | undefined;

/** The certificate authorities of the system: Node's bundled set plus the operating system's bundle, read once. */
export function systemCaCertificates(): string[] {
  if (systemCertificates) return systemCertificates;
  const found = new Set<string>(rootCertificates);
  const bundle = SYSTEM_BUNDLES.find((file) => existsSync(file));
  if (bundle) {
    try {
      for (const pem of pemBlocks(readFileSync(bundle, 'latin1'), 'CERTIFICATE')) found.add(pem);
    } catch {
      // Unreadable: Node's own set still applies.
    }
  }
  systemCertificates = [...found];
  return systemCertificates;
}

function pemBlocks(text: string, label: string): string[] {
  return text.match(new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----`, 'g')) ?? [];
}

const VERSIONS: Record<string, SecureVersion> = { TLSv1: 'TLSv1', TLSv11: 'TLSv1.1', TLSv12: 'TLSv1.2', TLSv13: 'TLSv1.3' };

/**
 * Reads the TLS settings of `system.security`: `certificate` (a PEM file: its certificates are
 * trusted in addition to the system's; with a private key in the same file it is also our own
 * certificate, for client authentication and for a listening TLS port), `tls-target-name-check`
 * and `sec_protocol` (`SSLv23`: the highest version both sides support, from TLS 1.2; `TLSv1`,
 * `TLSv11`, `TLSv12`, `TLSv13`: that version only).
 *
 * @throws {@link TlsSettingsError} when the certificate file cannot be read or
 * holds no certificate, when `certificate` is a thumbprint (a Windows certificate store name,
 * which Node cannot open), or for `sec_protocol` `SSLv3`, which Node refuses.
 * @public
 */
export function readTlsSettings(config: EndpointConfig): TlsSettings {
  const secProtocol = config.get('system.security.sec_protocol');
  if (secProtocol === 'SSLv3') throw new TlsSettingsError('system.security.sec_protocol SSLv3 is not available: Node refuses SSL 3.0; use SSLv23 or a TLS version');
  const version = VERSIONS[secProtocol];
  const old = secProtocol === 'TLSv1' || secProtocol === 'TLSv11';
  const ca = [...systemCaCertificates()];
  let cert: string | undefined;
  let key: string | undefined;
  const file = config.get('system.security.certificate').trim();
  if (file !== '') {
    if (!existsSync(file)) {
      const thumbprint = /^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(file.replace(/[\s:]/g, ''));
      throw new TlsSettingsError(
        thumbprint
          ? `system.security.certificate "${file}" looks like a certificate thumbprint; this SDK reads a PEM file instead: give its path`
          : `system.security.certificate: no file ${file}`,
      );
    }
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch (error) {
      throw new TlsSettingsError(`system.security.certificate: cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
    const certificates = pemBlocks(text, 'CERTIFICATE');
    if (certificates.length === 0) throw new TlsSettingsError(`system.security.certificate: ${file} holds no PEM certificate`);
    ca.push(...certificates);
    const privateKey = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/.exec(text);
    if (privateKey) {
      cert = certificates.join('\n');
      key = privateKey[0];
    }
  }
  return {
    ca,
    cert,
    key,
    checkName: config.get('system.security.tls-target-name-check') === 'host',
    minVersion: version,
    maxVersion: version,
    // OpenSSL 3 only offers TLS 1.0 and 1.1 at security level 0.
    ciphers: old ? 'DEFAULT:@SECLEVEL=0' : undefined,
  };
}

/**
 * `node:tls` client options for a connection to a server called `serverName` (the name in the
 * configuration, checked against the certificate when `checkName`; sent as SNI unless it is an IP
 * address).
 */
export function tlsClientOptions(settings: TlsSettings, serverName: string): ConnectionOptions {
  return {
    ca: settings.ca,
    ...(settings.cert && settings.key ? { cert: settings.cert, key: settings.key } : {}),
    ...(settings.minVersion ? { minVersion: settings.minVersion } : {}),
    ...(settings.maxVersion ? { maxVersion: settings.maxVersion } : {}),
    ...(settings.ciphers ? { ciphers: settings.ciphers } : {}),
    ...(isIP(serverName) === 0 && serverName !== '' ? { servername: serverName } : {}),
    rejectUnauthorized: true,
    // The chain is always verified; the name only with tls-target-name-check = host.
    checkServerIdentity: (_host: string, certificate: PeerCertificate) => (settings.checkName ? checkServerIdentity(serverName, certificate) : undefined),
  };
}
