import { DtlsError, DtlsSrtpHandshake, dtlsCertificateFromPem, generateDtlsCertificate, RtpSession, writeRtpHeader, type DtlsCertificate } from '@sip-endpoint/media';
import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerAvailable, waitFor } from '@sip-endpoint/test-support';
import { workerPorts } from '../support/ports';

const ports = workerPorts(12);

describe('DTLS-SRTP between two RTP sessions', () => {
  let certificates: [DtlsCertificate, DtlsCertificate];
  beforeAll(async () => {
    certificates = [await generateDtlsCertificate(), await generateDtlsCertificate()];
  });

  async function pair(): Promise<[RtpSession, RtpSession]> {
    const a = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const b = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    a.setRemote('127.0.0.1', b.localPort, b.localPort, true);
    b.setRemote('127.0.0.1', a.localPort, a.localPort, true);
    return [a, b];
  }

  it('makes a certificate with a sha-256 fingerprint as SDP writes it, a new one each time', () => {
    const [first, second] = certificates;
    expect(first.fingerprint.algorithm).toBe('sha-256');
    expect(first.fingerprint.value).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(first.fingerprint.value).not.toBe(second.fingerprint.value);
  });

  it('hands the two ends the same keys, crossed: what one sends the other reads, both ways', async () => {
    const [a, b] = await pair();
    try {
      await Promise.all([
        DtlsSrtpHandshake.run(a, { role: 'client', certificate: certificates[0], remoteFingerprint: certificates[1].fingerprint }),
        DtlsSrtpHandshake.run(b, { role: 'server', certificate: certificates[1], remoteFingerprint: certificates[0].fingerprint }),
      ]);
      const received: number[] = [];
      b.setReceiver((header, data) => received.push(data[header.payloadOffset]!));
      const packet = new Uint8Array(12 + 160).fill(42);
      writeRtpHeader(packet, false, 0, 1, 160, 7);
      a.sendRtp(packet, packet.length);
      await waitFor(() => received.length === 1, 2000, 'a packet through SRTP');
      expect(received).toEqual([42]);
      expect(b.srtp?.receive.counters.unprotectedRtp).toBe(1);
      const back: number[] = [];
      a.setReceiver((header, data) => back.push(data[header.payloadOffset]!));
      packet.fill(43, 12);
      b.sendRtp(packet, packet.length);
      await waitFor(() => back.length === 1, 2000, 'a packet back');
      expect(back).toEqual([43]);
    } finally {
      a.close();
      b.close();
    }
  });

  it('refuses a peer whose certificate is not the one its fingerprint names, and leaves the session without SRTP', async () => {
    const [a, b] = await pair();
    try {
      const results = await Promise.allSettled([
        DtlsSrtpHandshake.run(a, { role: 'client', certificate: certificates[0], remoteFingerprint: { algorithm: 'sha-256', value: certificates[0].fingerprint.value }, timeoutMs: 3000 }),
        DtlsSrtpHandshake.run(b, { role: 'server', certificate: certificates[1], remoteFingerprint: certificates[0].fingerprint, timeoutMs: 3000 }),
      ]);
      expect(results[0]).toMatchObject({ status: 'rejected', reason: expect.any(DtlsError) });
      expect((results[0] as PromiseRejectedResult).reason.message).toMatch(/is not the one its SDP fingerprint names/);
      expect(a.srtp).toBeUndefined();
    } finally {
      a.close();
      b.close();
    }
  });

  it('gives up with DtlsError when no client comes', async () => {
    // (The server waits: a client's retransmissions of its first flight would go on for half a
    // minute in werift-dtls, which has no way to stop them.)
    const [a, b] = await pair();
    b.close();
    try {
      await expect(DtlsSrtpHandshake.run(a, { role: 'server', certificate: certificates[0], remoteFingerprint: certificates[1].fingerprint, timeoutMs: 500 })).rejects.toThrow(new DtlsError('no DTLS handshake within 500 ms'));
      expect(a.srtp).toBeUndefined();
    } finally {
      a.close();
    }
  });

  it('takes the DTLS datagrams that came before it began (early): a ClientHello sent once, never again, still starts it', async () => {
    const [a, b] = await pair();
    try {
      // The client's first ClientHello (no cookie yet) leaves once; its retransmissions are
      // dropped on the way. (One with the cookie of a HelloVerifyRequest passes.)
      const send = a.sendDatagram.bind(a);
      let hellos = 0;
      a.sendDatagram = (data, to) => {
        const sessionIdLength = data[59] ?? 0;
        const withoutCookie = data[0] === 22 && data[13] === 1 && data[60 + sessionIdLength] === 0;
        if (withoutCookie && ++hellos > 1) return;
        send(data, to);
      };
      const early: { data: Buffer; from: { address: string; port: number } }[] = [];
      b.setDatagramHandler('dtls', (data, from) => early.push({ data: Buffer.from(data), from }));
      const client = DtlsSrtpHandshake.run(a, { role: 'client', certificate: certificates[0], remoteFingerprint: certificates[1].fingerprint, timeoutMs: 8000 });
      await waitFor(() => early.length === 1, 3000, 'the ClientHello, before the server began');
      const server = DtlsSrtpHandshake.run(b, { role: 'server', certificate: certificates[1], remoteFingerprint: certificates[0].fingerprint, timeoutMs: 8000, early });
      await expect(Promise.all([client, server])).resolves.toHaveLength(2);
      expect(b.srtp).toBeDefined();
    } finally {
      a.close();
      b.close();
    }
  }, 20_000);

  it('gives up with DtlsError when its signal is aborted (the call ended first), at once or later', async () => {
    const [a, b] = await pair();
    b.close();
    try {
      const controller = new AbortController();
      const pending = DtlsSrtpHandshake.run(a, { role: 'server', certificate: certificates[0], remoteFingerprint: certificates[1].fingerprint, timeoutMs: 60_000, signal: controller.signal });
      controller.abort();
      await expect(pending).rejects.toThrow(new DtlsError('the DTLS handshake was given up (aborted)'));
      await expect(DtlsSrtpHandshake.run(a, { role: 'server', certificate: certificates[0], remoteFingerprint: certificates[1].fingerprint, signal: controller.signal })).rejects.toThrow('aborted');
      expect(a.srtp).toBeUndefined();
    } finally {
      a.close();
    }
  });
});

describe('dtlsCertificateFromPem', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sep-dtls-pem-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const made = (name: string, newkey: string[]) => {
    execFileSync('openssl', ['req', '-x509', '-newkey', ...newkey, '-nodes', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`), '-days', '1', '-subj', `/CN=${name}`], { stdio: 'ignore' });
    return { certPem: readFileSync(join(dir, `${name}.pem`), 'utf8'), keyPem: readFileSync(join(dir, `${name}.key`), 'utf8') };
  };
  const runIf = peerAvailable('openssl') ? it : it.skip;

  runIf('takes an ECDSA P-256 certificate and its key, with its sha-256 fingerprint', () => {
    const { certPem, keyPem } = made('p256', ['ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']);
    expect(dtlsCertificateFromPem(certPem, keyPem)).toEqual({ certPem, keyPem, fingerprint: { algorithm: 'sha-256', value: new X509Certificate(certPem).fingerprint256 } });
  });

  runIf('refuses what the handshake cannot sign with, with a DtlsError saying why', () => {
    const p256 = made('p256b', ['ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']);
    const other = made('other', ['ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']);
    const rsa = made('rsa', ['rsa:2048']);
    const p384 = made('p384', ['ec', '-pkeyopt', 'ec_paramgen_curve:secp384r1']);
    expect(() => dtlsCertificateFromPem('not a certificate', p256.keyPem)).toThrow(/^the DTLS certificate is not a PEM certificate/);
    expect(() => dtlsCertificateFromPem(p256.certPem, 'not a key')).toThrow(/^the DTLS key is not a PEM private key/);
    expect(() => dtlsCertificateFromPem(p256.certPem, other.keyPem)).toThrow(new DtlsError("the DTLS key is not the certificate's"));
    expect(() => dtlsCertificateFromPem(rsa.certPem, rsa.keyPem)).toThrow(new DtlsError('the DTLS key is rsa; an ECDSA P-256 key is needed'));
    expect(() => dtlsCertificateFromPem(p384.certPem, p384.keyPem)).toThrow(new DtlsError('the DTLS key is secp384r1; an ECDSA P-256 key is needed'));
    expect(() => dtlsCertificateFromPem('', '')).toThrow(DtlsError);
  });
});

describe('DTLS-SRTP against OpenSSL (s_client -use_srtp)', () => {
  const describeIf = peerAvailable('openssl') ? it : it.skip;
  describeIf('completes the handshake as server, checks OpenSSL\'s certificate, and keys SRTP with the material OpenSSL exports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sep-dtls-'));
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    try {
      const key = join(dir, 'key.pem');
      const cert = join(dir, 'cert.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=openssl-peer'], { stdio: 'ignore' });
      const theirs = { algorithm: 'sha-256', value: new X509Certificate(readFileSync(cert)).fingerprint256 };
      const ours = await generateDtlsCertificate();
      const handshake = DtlsSrtpHandshake.run(session, { role: 'server', certificate: ours, remoteFingerprint: theirs, timeoutMs: 8000 });
      const client = spawn('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${session.localPort}`, '-cert', cert, '-key', key, '-use_srtp', 'SRTP_AES128_CM_SHA1_80', '-keymatexport', 'EXTRACTOR-dtls_srtp', '-keymatexportlen', '60'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      client.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const srtp = await handshake;
      await waitFor(() => /Keying material: [0-9A-F]{120}/.test(output), 5000, "OpenSSL's exported keying material");
      client.stdin.end();
      client.kill();
      expect(output).toMatch(/SRTP Extension negotiated, profile=SRTP_AES128_CM_SHA1_80/);
      // RFC 5764 4.2: client key, server key, client salt, server salt; we are the server.
      const material = Buffer.from(/Keying material: ([0-9A-F]{120})/.exec(output)![1]!, 'hex');
      expect(srtp.send.keyEquals({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: material.subarray(16, 32), masterSalt: material.subarray(46, 60) })).toBe(true);
      expect(srtp.receive.keyEquals({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: material.subarray(0, 16), masterSalt: material.subarray(32, 46) })).toBe(true);
    } finally {
      session.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
