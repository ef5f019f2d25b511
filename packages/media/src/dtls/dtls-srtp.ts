import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { SipEndpointError } from '@sip-endpoint/config';
// werift-dtls names a main file it does not ship (lib/index.js): its entry point is this one.
import { CipherContext, DtlsClient, DtlsServer, HashAlgorithm, NamedCurveAlgorithm, SignatureAlgorithm, type DtlsSocket } from 'werift-dtls/lib/dtls/src/index.js';
import type { RtpSession, RtpSessionSrtp } from '../rtp/rtp-session';
import type { DtlsFingerprint } from '../sdp/session-description';
import { SrtpContext, type SrtpKeyMaterial } from '../srtp/srtp-context';

/** A DTLS handshake failed, timed out, or the peer's certificate is not the one its SDP announced. @public */
export class DtlsError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_DTLS_FAILED';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MEDIA_DTLS_FAILED', message, options);
  }
}

/** Our DTLS certificate (self-signed ECDSA P-256) and its fingerprint for `a=fingerprint`. @public */
export interface DtlsCertificate {
  certPem: string;
  keyPem: string;
  /** `sha-256` and the digest of the DER certificate, as `a=fingerprint` writes it (`AB:CD:...`). */
  fingerprint: { algorithm: 'sha-256'; value: string };
}

/** Makes a fresh self-signed ECDSA P-256 certificate for DTLS-SRTP (one per endpoint is enough). @public */
export async function generateDtlsCertificate(): Promise<DtlsCertificate> {
  const { certPem, keyPem } = await CipherContext.createSelfSignedCertificateWithKey({ signature: SignatureAlgorithm.ecdsa_3, hash: HashAlgorithm.sha256_4 }, NamedCurveAlgorithm.secp256r1_23);
  return { certPem, keyPem, fingerprint: { algorithm: 'sha-256', value: new X509Certificate(certPem).fingerprint256 } };
}

/**
 * Our DTLS certificate from PEM text (a configured one instead of a generated one): an ECDSA
 * P-256 key and its certificate, as the handshake signs with ECDSA over SHA-256.
 *
 * @throws {@link DtlsError} when the text is not a certificate and its key, or the key is not P-256.
 * @public
 */
export function dtlsCertificateFromPem(certPem: string, keyPem: string): DtlsCertificate {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch (error) {
    throw new DtlsError(`the DTLS certificate is not a PEM certificate: ${(error as Error).message}`, { cause: error });
  }
  let curve: string | undefined;
  try {
    const key = createPrivateKey(keyPem);
    curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : key.asymmetricKeyType;
    if (!certificate.checkPrivateKey(key)) throw new DtlsError('the DTLS key is not the certificate\'s');
  } catch (error) {
    if (error instanceof DtlsError) throw error;
    throw new DtlsError(`the DTLS key is not a PEM private key: ${(error as Error).message}`, { cause: error });
  }
  if (curve !== 'prime256v1') throw new DtlsError(`the DTLS key is ${curve ?? 'of an unknown kind'}; an ECDSA P-256 key is needed`);
  return { certPem, keyPem, fingerprint: { algorithm: 'sha-256', value: certificate.fingerprint256 } };
}

/** The fingerprint of a DER certificate with `algorithm` (`sha-1`, `sha-256`, `sha-384`, `sha-512`), as SDP writes it. */
export function certificateFingerprint(der: Uint8Array, algorithm: string): string {
  const hash = { 'sha-1': 'sha1', 'sha-224': 'sha224', 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' }[algorithm.toLowerCase()];
  if (hash === undefined) throw new DtlsError(`fingerprint algorithm ${algorithm} is not supported`);
  return createHash(hash)
    .update(der)
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
}

/** Options of {@link DtlsSrtpHandshake.run}. @public */
export interface DtlsSrtpOptions {
  /** `client` (our a=setup is active) starts the handshake; `server` (passive) waits for it. */
  role: 'client' | 'server';
  certificate: DtlsCertificate;
  /** The peer's `a=fingerprint`: its certificate must hash to this. */
  remoteFingerprint: DtlsFingerprint;
  /** Give up after this long. @defaultValue 10000 */
  timeoutMs?: number;
  /** Gives up when aborted (the call ended first): the promise rejects with a {@link DtlsError}. */
  signal?: AbortSignal;
  /**
   * DTLS datagrams that arrived before the handshake began (a client's first flight can come
   * before the answer that says who is the server), taken first.
   */
  early?: readonly { data: Buffer; from: { address: string; port: number } }[];
  /**
   * The component whose port the handshake runs on: `rtp`, or `rtcp` for the second association
   * of DTLS-SRTP without rtcp-mux (RFC 5764 4.1), whose keys protect RTCP. @defaultValue 'rtp'
   */
  component?: 'rtp' | 'rtcp';
  /**
   * Put the keys on the session when done (`setSrtp`; RTP's keys then protect RTCP too). False
   * leaves that to the caller, which has two associations to combine. @defaultValue true
   */
  apply?: boolean;
}

/** SRTP_AES128_CM_HMAC_SHA1_80 (RFC 5764 4.1.2): 16-byte keys, 14-byte salts. */
const PROFILE_AES128_CM_SHA1_80 = 1;

/**
 * DTLS-SRTP (RFC 5763, 5764) on an RTP session's port: a DTLS 1.2 handshake (werift-dtls) with the
 * `use_srtp` extension, the peer's certificate checked against its SDP fingerprint, then the
 * exported keys put on the session (`setSrtp`). The session's DTLS datagrams go to the handshake
 * (RFC 7983 demultiplexing), and its replies leave from the RTP port.
 *
 * @remarks
 * werift-dtls cannot stop a client's retransmissions of a flight once they started: after a
 * client handshake that failed or timed out they go on for about half a minute (sent nowhere once
 * the session is closed). A server waits without retransmitting.
 *
 * @public
 */
export class DtlsSrtpHandshake {
  /**
   * Runs the handshake; resolves with the SRTP contexts it put on the session.
   *
   * @throws {@link DtlsError} on a failed or timed-out handshake, or a certificate that does not
   * match the fingerprint (the session is then left without SRTP).
   */
  static async run(session: RtpSession, options: DtlsSrtpOptions): Promise<RtpSessionSrtp> {
    let peer: { address: string; port: number } | undefined;
    const rtcp = options.component === 'rtcp';
    const kind = rtcp ? 'rtcp-dtls' : 'dtls';
    const transport = {
      type: 'udp',
      closed: false,
      onData: (_data: Buffer, _from: unknown): void => undefined,
      get address() {
        return { address: session.localAddress, port: rtcp ? session.localRtcpPort : session.localPort, family: session.family };
      },
      send: async (data: Buffer): Promise<void> => {
        if (rtcp) session.sendRtcpDatagram(data, peer);
        else session.sendDatagram(data, peer);
      },
      close: async (): Promise<void> => undefined,
    };
    const dtlsOptions = {
      transport,
      cert: options.certificate.certPem,
      key: options.certificate.keyPem,
      signatureHash: { signature: SignatureAlgorithm.ecdsa_3, hash: HashAlgorithm.sha256_4 },
      srtpProfiles: [PROFILE_AES128_CM_SHA1_80],
      // As server we ask for the client's certificate (its fingerprint is checked, RFC 5763 5).
      // As client, werift would otherwise wait for a CertificateRequest that a server need not
      // send (OpenSSL's does not); it still sends ours when one comes.
      certificateRequest: options.role === 'server',
    };
    const socket: DtlsSocket = options.role === 'client' ? new DtlsClient(dtlsOptions as never) : new DtlsServer(dtlsOptions as never);
    session.setDatagramHandler(kind, (data, from) => {
      peer = from;
      transport.onData(data, { address: from.address, port: from.port });
    });
    for (const { data, from } of options.early ?? []) {
      peer = from;
      transport.onData(data, { address: from.address, port: from.port });
    }
    try {
      await new Promise<void>((resolve, reject) => {
        const signal = options.signal;
        const onAbort = (): void => {
          clearTimeout(timer);
          reject(new DtlsError('the DTLS handshake was given up (aborted)'));
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          reject(new DtlsError(`no DTLS handshake within ${options.timeoutMs ?? 10000} ms`));
        }, options.timeoutMs ?? 10000);
        if (signal?.aborted) onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        socket.onConnect.subscribe(() => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
        socket.onError.subscribe((error: Error) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          reject(new DtlsError(`DTLS handshake failed: ${error.message}`, { cause: error }));
        });
        if (options.role === 'client') void (socket as DtlsClient).connect().catch((error: unknown) => reject(new DtlsError(`DTLS handshake failed: ${(error as Error).message}`, { cause: error })));
      });
      const certificate = socket.remoteCertificate;
      if (!certificate) throw new DtlsError('the peer sent no certificate');
      const actual = certificateFingerprint(certificate, options.remoteFingerprint.algorithm);
      if (actual !== options.remoteFingerprint.value.toUpperCase()) throw new DtlsError(`the peer's certificate (${options.remoteFingerprint.algorithm} ${actual}) is not the one its SDP fingerprint names`);
      // RFC 5764 4.2: client key, server key, client salt, server salt.
      const material = socket.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 2 * 16 + 2 * 14);
      const key = (offset: number, saltOffset: number): SrtpKeyMaterial => ({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: material.subarray(offset, offset + 16), masterSalt: material.subarray(saltOffset, saltOffset + 14) });
      const client = key(0, 32);
      const server = key(16, 46);
      const srtp = options.role === 'client' ? { send: new SrtpContext(client), receive: new SrtpContext(server) } : { send: new SrtpContext(server), receive: new SrtpContext(client) };
      if (options.apply !== false) session.setSrtp(srtp);
      // The association ends with the call (the signal): werift closes its socket then.
      options.signal?.addEventListener('abort', () => socket.close(), { once: true });
      return srtp;
    } catch (error) {
      session.setDatagramHandler(kind, undefined);
      socket.close();
      throw error instanceof DtlsError ? error : new DtlsError(`DTLS handshake failed: ${(error as Error).message}`, { cause: error });
    }
  }
}
