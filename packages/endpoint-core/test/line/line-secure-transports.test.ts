import { createSocket } from 'node:dgram';
import { EndpointConfig, type AddressResolver } from '@sip-endpoint/config';
import { Line } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { readTlsSettings } from '../../src/transport/tls-settings';
import { waitFor } from '../support/endpoints';
import { Kamailio, kamailioAvailable } from '../support/kamailio';
import { lineContext, registeringLineConfig, until } from '../support/lines';
import { makeTestCertificates, type TestCertificates } from '../support/tls-certificates';

const describeIf = kamailioAvailable() ? describe : describe.skip;

// Kamailio's listeners: a block of 4 ports of this jest worker's range, taken when the file loads.
const SIP = testPorts(4);
const TLS = SIP + 1;
const WS = SIP + 2;
const WSS = SIP + 3;

/** Resolves the certificate's name to the loopback address, and nothing else. */
const resolver: AddressResolver = {
  lookup: async (host, family) => (host === 'sip.example.test' && family === 4 ? ['127.0.0.1'] : []),
  resolveSrv: async () => [],
};

interface Traced {
  line: Line;
  /** The line's SIP ports (its listeners) and TCP client ports, from this jest worker's range. */
  sipPorts: { min: number; max: number };
  tcpPorts: { min: number; max: number };
  out: string[];
  /** The 200s to our REGISTERs, as they came. */
  accepted: string[];
  received: string[];
  /** The remote port of each MESSAGE received: which connection it came on. */
  from: number[];
}

function lineFor(user: string, protocol: string, server: string, settings: Record<string, string> = {}): Traced {
  const { config, sipPorts, tcpPorts } = registeringLineConfig(user, protocol, server, settings);
  const out: string[] = [];
  const accepted: string[] = [];
  const received: string[] = [];
  const from: number[] = [];
  const line = new Line({
    connectivity: config.connectivities[0]!,
    context: lineContext(config),
    resolver,
    timing: { firstRetryMs: 300 },
    trace: (direction, message, remote) => {
      if (direction === 'out') out.push(message);
      else if (message.startsWith('MESSAGE')) from.push(remote.port);
      else if (/^SIP\/2\.0 200 /.test(message) && /^CSeq:\s*\d+ REGISTER\s*$/im.test(message)) accepted.push(message);
    },
  });
  line.on('message', (message) => received.push(message.body));
  return { line, sipPorts, tcpPorts, out, accepted, received, from };
}

/** A MESSAGE to `user` sent to Kamailio over UDP: Kamailio finds the registered Contact and relays it. */
async function messageThroughKamailio(user: string, body: string): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  const request = [
    `MESSAGE sip:${user}@127.0.0.1:${SIP} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-${user}-${Date.now()};rport`,
    'Max-Forwards: 70',
    `From: <sip:carol@127.0.0.1:${port}>;tag=carol`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${user}-${Date.now()}@127.0.0.1`,
    'CSeq: 1 MESSAGE',
    'Content-Type: text/plain',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
  socket.unref();
  socket.send(request, SIP, '127.0.0.1');
  setTimeout(() => socket.close(), 3000).unref();
}

const register = (out: string[]): string => out.find((m) => m.startsWith('REGISTER')) ?? '';

describeIf('lines over TLS, WS and WSS with Kamailio', () => {
  let kamailio: Kamailio;
  let certificates: TestCertificates;
  beforeAll(async () => {
    certificates = makeTestCertificates(['sip.example.test']);
    kamailio = await Kamailio.start(SIP, 'secret', { tls: { port: TLS, certificate: certificates.serverCertificate, key: certificates.serverKey }, ws: { port: WS }, wss: { port: WSS } });
  });
  afterAll(async () => {
    await kamailio?.stop();
  });

  it('registers over TLS when the test CA is the configured certificate: READY, Via TLS, Contact transport=tls, client port in tcp_port_min..max, and is reached over its connection', async () => {
    const { line, tcpPorts, out, received, from } = lineFor('5400', 'TLS', `127.0.0.1:${TLS}`, { 'system.security.certificate': certificates.caCertificate });
    await line.start();
    await until(line, 'READY', 8000);
    try {
      const port = line.port!;
      expect(port).toBeGreaterThanOrEqual(tcpPorts.min);
      expect(port).toBeLessThanOrEqual(tcpPorts.max);
      expect(register(out)).toMatch(new RegExp(`^Via: SIP/2\\.0/TLS 127\\.0\\.0\\.1:${port};`, 'm'));
      expect(register(out)).toMatch(new RegExp(`^Contact: <sip:5400@127\\.0\\.0\\.1:${port};transport=tls>`, 'm'));
      // Without a listening port of ours, Kamailio reaches us over the connection we opened.
      await messageThroughKamailio('5400', 'over our TLS connection');
      await waitFor(() => received.length > 0, 5000);
      expect(received).toEqual(['over our TLS connection']);
      expect(from).toEqual([TLS]);
    } finally {
      await line.close();
    }
  });

  it('goes FAILED with the certificate error when the server\'s CA is not trusted', async () => {
    const { line } = lineFor('5401', 'TLS', `127.0.0.1:${TLS}`);
    await line.start();
    await until(line, 'FAILED', 8000);
    await line.close();
    expect(line.reason).toMatch(/over TLS: .*(self[- ]signed|unable to (get|verify)|local issuer)/i);
  });

  it('with tls-target-name-check host: FAILED naming the mismatch when the server is given by address, READY when given by the certificate\'s name', async () => {
    const byAddress = lineFor('5402', 'TLS', `127.0.0.1:${TLS}`, { 'system.security.certificate': certificates.caCertificate, 'system.security.tls-target-name-check': 'host' });
    await byAddress.line.start();
    await until(byAddress.line, 'FAILED', 8000);
    await byAddress.line.close();
    expect(byAddress.line.reason).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list/);

    const byName = lineFor('5403', 'TLS', `sip.example.test:${TLS}`, { 'system.security.certificate': certificates.caCertificate, 'system.security.tls-target-name-check': 'host' });
    await byName.line.start();
    await until(byName.line, 'READY', 8000);
    await byName.line.close();
  });

  it('sec_protocol fixes the TLS version: TLSv13 registers, TLSv1 is refused by a server that wants TLS 1.2 or later', async () => {
    const modern = lineFor('5404', 'TLS', `127.0.0.1:${TLS}`, { 'system.security.certificate': certificates.caCertificate, 'system.security.sec_protocol': 'TLSv13' });
    await modern.line.start();
    await until(modern.line, 'READY', 8000);
    await modern.line.close();
    const old = lineFor('5405', 'TLS', `127.0.0.1:${TLS}`, { 'system.security.certificate': certificates.caCertificate, 'system.security.sec_protocol': 'TLSv1' });
    await old.line.start();
    await until(old.line, 'FAILED', 8000);
    await old.line.close();
    expect(old.line.reason).toMatch(/over TLS: .*(version|protocol|alert)/i);
  });

  it('with a certificate and key configured, listens for TLS: Contact carries the listening port, and Kamailio connects to it', async () => {
    // The server's own certificate and key, with its CA, stand for ours.
    const bundle = `${certificates.dir}/ours.pem`;
    const { readFileSync, writeFileSync } = await import('node:fs');
    writeFileSync(bundle, readFileSync(certificates.serverBundle, 'latin1') + readFileSync(certificates.caCertificate, 'latin1'));
    const { line, sipPorts, out, received, from } = lineFor('5406', 'TLS', `127.0.0.1:${TLS}`, { 'system.security.certificate': bundle });
    await line.start();
    await until(line, 'READY', 8000);
    try {
      const port = line.port!;
      expect(port).toBeGreaterThanOrEqual(sipPorts.min);
      expect(port).toBeLessThanOrEqual(sipPorts.max);
      expect(register(out)).toMatch(new RegExp(`^Contact: <sip:5406@127\\.0\\.0\\.1:${port};transport=tls>`, 'm'));
      await messageThroughKamailio('5406', 'to our TLS port');
      await waitFor(() => received.length > 0, 5000);
      expect(received).toEqual(['to our TLS port']);
      // A connection Kamailio opened to our listening port, not the one we opened to its port.
      expect(from).toHaveLength(1);
      expect(from[0]).not.toBe(TLS);
    } finally {
      await line.close();
    }
  });

  it('registers over WS (subprotocol sip, Via WS, Contact transport=ws) and is reached over its WebSocket', async () => {
    const { line, out, received, from } = lineFor('5410', 'WS', `127.0.0.1:${WS}`);
    await line.start();
    await until(line, 'READY', 8000);
    try {
      expect(register(out)).toMatch(/^Via: SIP\/2\.0\/WS 127\.0\.0\.1:\d+;/m);
      expect(register(out)).toMatch(/^Contact: <sip:5410@127\.0\.0\.1:\d+;transport=ws>/m);
      await messageThroughKamailio('5410', 'over the WebSocket');
      await waitFor(() => received.length > 0, 5000);
      expect(received).toEqual(['over the WebSocket']);
      expect(from).toEqual([WS]);
    } finally {
      await line.close();
    }
  });

  it('registers over WSS with the test CA (Via WSS), and FAILED with the certificate error without it', async () => {
    const good = lineFor('5411', 'WSS', `127.0.0.1:${WSS}`, { 'system.security.certificate': certificates.caCertificate });
    await good.line.start();
    await until(good.line, 'READY', 8000);
    await good.line.close();
    expect(register(good.out)).toMatch(/^Via: SIP\/2\.0\/WSS 127\.0\.0\.1:\d+;/m);
    expect(register(good.out)).toMatch(/;transport=wss>/m);
    const bad = lineFor('5412', 'WSS', `127.0.0.1:${WSS}`);
    await bad.line.start();
    await until(bad.line, 'FAILED', 8000);
    await bad.line.close();
    expect(bad.line.reason).toMatch(new RegExp(`wss://127\\.0\\.0\\.1:${WSS}/ over WSS: .*(self[- ]signed|unable to (get|verify)|local issuer)`, 'i'));
  });

  it('a WS line reconnects when Kamailio restarts and registers again over the new connection', async () => {
    const { line, out, accepted, received } = lineFor('5413', 'WS', `127.0.0.1:${WS}`);
    await line.start();
    await until(line, 'READY', 8000);
    try {
      const first = line.port;
      const acceptedBefore = accepted.length;
      await kamailio.stop();
      kamailio = await Kamailio.start(SIP, 'secret', { tls: { port: TLS, certificate: certificates.serverCertificate, key: certificates.serverKey }, ws: { port: WS }, wss: { port: WSS } });
      await waitFor(() => line.port !== first && out.filter((m) => m.startsWith('REGISTER')).length >= 3, 10000);
      // Registered again: the new Kamailio accepted a REGISTER (after its digest challenge), so it
      // has the binding the MESSAGE below needs. READY alone may still be the old registration's.
      await waitFor(() => accepted.length > acceptedBefore, 10000, 'the new Kamailio to accept a REGISTER');
      const last = out.filter((m) => m.startsWith('REGISTER')).at(-1)!;
      expect(last).toMatch(new RegExp(`^Contact: <sip:5413@127\\.0\\.0\\.1:${line.port};transport=ws>`, 'm'));
      await waitFor(() => line.state === 'READY', 5000);
      // Kamailio lost its bindings when it restarted: reachable again only thanks to the new REGISTER.
      await messageThroughKamailio('5413', 'after the restart');
      await waitFor(() => received.length > 0, 5000);
      expect(received).toEqual(['after the restart']);
    } finally {
      await line.close();
    }
  }, 30000);
});

describe('TLS settings', () => {
  it('refuses sec_protocol SSLv3 and a certificate thumbprint with ERR_SIP_TLS_SETTINGS', () => {
    const config = EndpointConfig.defaults();
    expect(() => readTlsSettings(config.with({ 'system.security.sec_protocol': 'SSLv3' }))).toThrow(expect.objectContaining({ code: 'ERR_SIP_TLS_SETTINGS' }));
    expect(() => readTlsSettings(config.with({ 'system.security.certificate': 'a9 4a 8f e5 cc b1 9b a6 1c 4c 08 73 d3 91 e9 87 98 2f bb d3' }))).toThrow(/thumbprint/);
  });

  it('trusts the system authorities plus the configured certificate, and maps sec_protocol to one TLS version', () => {
    const certificates = makeTestCertificates(['sip.example.test']);
    const plain = readTlsSettings(EndpointConfig.defaults());
    const settings = readTlsSettings(EndpointConfig.defaults().with({ 'system.security.certificate': certificates.caCertificate, 'system.security.sec_protocol': 'TLSv12' }));
    expect(plain.ca.length).toBeGreaterThan(50);
    expect(settings.ca.length).toBe(plain.ca.length + 1);
    expect([settings.minVersion, settings.maxVersion, settings.key]).toEqual(['TLSv1.2', 'TLSv1.2', undefined]);
    expect([plain.minVersion, plain.checkName]).toEqual([undefined, false]);
  });
});
