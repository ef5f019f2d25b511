// @serial-test: a sipp scenario expects each message in its order; a slowed endpoint retransmits and breaks it. Runs alone, after the others (scripts/run-jest.cjs).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { Call } from '@sip-endpoint/endpoint-core';
import { peerAvailable, testPorts } from '@sip-endpoint/test-support';
import { assertSippPassed, runSipp, sippAvailable } from '../support/sipp';
import { ACK, AUTO_ANSWER, HANG_UP, INVITE, RESPONSE, SDP, pause, recv, scenario, send } from '../support/sipp-scenario';
import { standaloneEndpoint, waitFor } from '../support/endpoints';

// A DTLS-SRTP call whose far end is sipp (signalling) and OpenSSL's DTLS server (media port): the
// offer names a certificate by its fingerprint, and we (the answerer, DTLS client) check the one
// OpenSSL shows. The right fingerprint keys the call; a wrong one ends it, logged.
const describeIf = sippAvailable() && peerAvailable('openssl') ? describe : describe.skip;

describeIf('DTLS-SRTP fingerprint check in a call (sipp + openssl s_server)', () => {
  let dir: string;
  let server: ChildProcess | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sep-dtls-call-'));
  });

  afterEach(() => {
    server?.kill();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  function certificate(name: string): { cert: string; key: string; fingerprint: string } {
    const key = join(dir, `${name}.key`);
    const cert = join(dir, `${name}.pem`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`], { stdio: 'ignore' });
    return { cert, key, fingerprint: new X509Certificate(readFileSync(cert)).fingerprint256 };
  }

  /** OpenSSL's DTLS 1.2 server with use_srtp on `port`, showing `shown`'s certificate. */
  function dtlsServer(port: number, shown: { cert: string; key: string }): void {
    server = spawn('openssl', ['s_server', '-dtls1_2', '-accept', `127.0.0.1:${port}`, '-cert', shown.cert, '-key', shown.key, '-use_srtp', 'SRTP_AES128_CM_SHA1_80', '-quiet'], { stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** sipp's DTLS-SRTP offer: the media at `port`, passive (we start the handshake), the fingerprint given. */
  const offer = (port: number, fingerprint: string) =>
    SDP('sendrecv', '[media_ip]', String(port)).replace('RTP/AVP', 'UDP/TLS/RTP/SAVP').replace('a=sendrecv', `a=fingerprint:sha-256 ${fingerprint}\na=setup:passive\na=rtcp-mux\na=sendrecv`);

  async function call(fingerprintOf: 'shown' | 'other', steps: (sdp: string) => string[]): Promise<{ call: Call; log: string[]; sipp: Promise<void> }> {
    const shown = certificate('shown');
    const other = certificate('other');
    const mediaPort = testPorts(2);
    dtlsServer(mediaPort, shown);
    const log: string[] = [];
    const us = standaloneEndpoint('agent', testPorts(7), testPorts(50), 700, { 'system.security.use_srtp': 'optional', 'system.diagnostics.enable_logging': '1', 'system.diagnostics.log_level': '3' }, { logger: (level, message) => log.push(`${level} ${message}`) });
    const calls: Call[] = [];
    us.endpoint.on('incomingCall', (incoming) => calls.push(incoming));
    await us.endpoint.start();
    const sipp = runSipp({ remotePort: us.endpoint.lines[0]!.port!, localPort: testPorts(1), scenario: scenario(`dtls ${fingerprintOf}`, steps(offer(mediaPort, fingerprintOf === 'shown' ? shown.fingerprint : other.fingerprint))) })
      .then(assertSippPassed)
      .finally(() => us.endpoint.stop());
    await waitFor(() => calls.length === 1, 10000, 'the call');
    return { call: calls[0]!, log, sipp };
  }

  const establish = (sdp: string) => [
    send(INVITE(AUTO_ANSWER, sdp), ' retrans="500"'),
    '<recv response="100" optional="true"/>',
    '<recv response="180" optional="true"/>',
    recv('response="200"', [{ header: 'CSeq:', regexp: 'INVITE' }, { regexp: 'm=audio [0-9]+ UDP/TLS/RTP/SAVP 0' }, { regexp: 'a=setup:active' }, { regexp: 'a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}' }], ' rrs="true"', true),
    send(ACK(1)),
  ];

  it('the certificate OpenSSL shows is the offer\'s: the handshake keys the call, which goes on', async () => {
    const { call: incoming, sipp } = await call('shown', (sdp) => [...establish(sdp), pause(2500), ...HANG_UP(2)]);
    await waitFor(() => (incoming.media.security as { state?: string }).state === 'established', 8000, 'the DTLS handshake');
    expect(incoming.media.security).toEqual({ kind: 'dtls', suite: 'AES_CM_128_HMAC_SHA1_80', role: 'client', state: 'established' });
    expect(incoming.media.failures).toEqual({ negotiation: 0, security: 0 });
    await sipp;
    expect(incoming.state).toBe('DISCONNECTED');
  }, 30000);

  it('the certificate is not the offer\'s: the handshake fails, the log says why, and we end the call (BYE)', async () => {
    const { call: incoming, log, sipp } = await call('other', (sdp) => [...establish(sdp), recv('request="BYE"', [], ' timeout="12000"'), send(RESPONSE('200 OK'))]);
    await sipp;
    expect(incoming.state).toBe('DISCONNECTED');
    expect(incoming.media.security).toMatchObject({ kind: 'dtls', role: 'client', state: 'failed' });
    expect(incoming.media.failures).toEqual({ negotiation: 0, security: 1 });
    expect(incoming.endReason).toMatch(/^the DTLS-SRTP handshake failed: the peer's certificate \(sha-256 [0-9A-F:]+\) is not the one its SDP fingerprint names/);
    expect(log.find((line) => line.includes('DTLS-SRTP handshake (client) failed'))).toMatch(/^1 .*the peer's certificate \(sha-256 [0-9A-F:]+\) is not the one its SDP fingerprint names; the call ends/);
  }, 30000);
});
