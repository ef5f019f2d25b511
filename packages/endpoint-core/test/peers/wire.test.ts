import { Line } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { Capture, tsharkAvailable } from '../support/capture';
import { Kamailio, kamailioAvailable } from '../support/kamailio';
import { lineContext, registeringLineConfig, states, until } from '../support/lines';
import { makeTestCertificates, type TestCertificates } from '../support/tls-certificates';

// What a line does on the wire, read from a tshark capture (Wireshark's SIP and TLS dissectors),
// not from our own trace or state: the unregistration, the TLS version, the REGISTERs sent.
const describeIf = kamailioAvailable() && tsharkAvailable() ? describe : describe.skip;

const SIP = testPorts(2);
const TLS = SIP + 1;

function lineFor(user: string, protocol: string, server: string, settings: Record<string, string> = {}): Line {
  const { config } = registeringLineConfig(user, protocol, server, settings);
  return new Line({ connectivity: config.connectivities[0]!, context: lineContext(config) });
}

describeIf('on the wire (tshark) with Kamailio', () => {
  let kamailio: Kamailio;
  let certificates: TestCertificates;
  beforeAll(async () => {
    certificates = makeTestCertificates(['sip.example.test']);
    kamailio = await Kamailio.start(SIP, 'secret', { tls: { port: TLS, certificate: certificates.serverCertificate, key: certificates.serverKey } });
  }, 30_000);
  afterAll(async () => {
    await kamailio?.stop();
  });

  it('a line that closes unregisters: a REGISTER with Expires 0 goes out after the registration and Kamailio answers it 200', async () => {
    const capture = await Capture.start(`udp port ${SIP}`);
    try {
      const line = lineFor('5501', 'UDP', `127.0.0.1:${SIP}`);
      const seen = states(line);
      await line.start();
      await until(line, 'READY', 8000);
      await line.close();
      expect(seen).toEqual(['TRYING', 'READY', 'SHUTDOWN']);
      await capture.stop();

      // Every REGISTER and every answer to one, in order: [method or status, CSeq number, the
      // Contact's expires (the message header as tshark extracted it from the datagram)].
      const rows = capture
        .fields('sip.CSeq.method == "REGISTER"', ['sip.Method', 'sip.Status-Code', 'sip.CSeq.seq', 'sip.msg_hdr'])
        .map(([method, status, cseq, header]) => [method, status, cseq, /^Contact:[^\r\n]*;expires=(\d+)/im.exec((header ?? '').replace(/\\r\\n/g, '\r\n'))?.[1] ?? '']);
      const requests = rows.filter(([method]) => method === 'REGISTER');
      const answers = rows.filter(([, status]) => status !== '');
      // Registration: a REGISTER challenged (401), then one with credentials accepted (200), expires
      // 60. The unregistration the same way: its REGISTER goes without the registration's
      // credentials (their nonce and count are never sent twice), is challenged and sent again.
      expect(requests.map(([, , , expires]) => expires)).toEqual(['60', '60', '0', '0']);
      expect(answers.map(([, status]) => status)).toEqual(['401', '200', '401', '200']);
      // The unregistration: the last REGISTER, a new CSeq, expires 0, answered 200 with no binding
      // left (a 200 to a REGISTER lists the bindings the registrar keeps).
      const [registration, unregister] = [requests[1]!, requests[3]!];
      expect(Number(unregister[2])).toBeGreaterThan(Number(registration[2]));
      expect(answers.at(-1)).toEqual(['', '200', unregister[2], '']);
      expect(answers[1]).toEqual(['', '200', registration[2], '60']);
    } finally {
      await capture.dispose();
    }
  }, 30_000);

  it.each([
    ['TLSv13', '0x0304'],
    ['TLSv12', '0x0303'],
  ] as const)('sec_protocol %s: the server hello on the wire chooses that version', async (secProtocol, version) => {
    const capture = await Capture.start(`tcp port ${TLS}`);
    try {
      const line = lineFor(secProtocol === 'TLSv13' ? '5502' : '5503', 'TLS', `127.0.0.1:${TLS}`, { 'system.security.certificate': certificates.caCertificate, 'system.security.sec_protocol': secProtocol });
      await line.start();
      await until(line, 'READY', 8000);
      await line.close();
      await capture.stop();
      // The ServerHello (handshake type 2): TLS 1.3 is chosen in its supported_versions
      // extension (its legacy version field says 1.2); TLS 1.2 in the version field, without one.
      const hellos = capture.fields('tls.handshake.type == 2', ['tls.handshake.version', 'tls.handshake.extensions.supported_version'], [`tcp.port==${TLS},tls`]);
      expect(hellos.length).toBeGreaterThanOrEqual(1);
      for (const [legacy, chosen] of hellos) {
        expect(legacy).toBe('0x0303');
        expect(chosen === '' ? legacy : chosen).toBe(version);
      }
      // And the client offered nothing older than TLS 1.2: its ClientHello's supported versions
      // (TLS 1.3 clients) or its version field (a TLS 1.2 client has no such extension).
      const offered = capture.fields('tls.handshake.type == 1', ['frame.number', 'tls.handshake.version', 'tls.handshake.extensions.supported_version'], [`tcp.port==${TLS},tls`]);
      expect(offered.length).toBeGreaterThanOrEqual(1);
      for (const [, legacy, versions] of offered) {
        const list = (versions ?? '').split(',').filter((v) => v !== '');
        for (const v of list.length > 0 ? list : [legacy]) expect(['0x0303', '0x0304']).toContain(v);
        if (secProtocol === 'TLSv12') expect(list).toEqual([]);
      }
    } finally {
      await capture.dispose();
    }
  }, 30_000);
});
