import { Messager, UserAgent, type Message } from 'sip.js';
import { testPorts } from '@sip-endpoint/test-support';
import { bindSipUdp, UdpTransport } from '../../src/transport/udp-transport';
import { DropFirstRelay } from '../support/sip-relay';

interface Party {
  ua: UserAgent;
  port: number;
  received: string[];
  transport: () => UdpTransport;
}

/** A user agent on the first free port of a block of 10 from this jest worker's range. */
async function party(name: string, target: () => { address: string; port: number }, options: { transactionTimeoutMs?: number } = {}): Promise<Party> {
  const first = testPorts(10);
  const socket = await bindSipUdp('127.0.0.1', first, first + 9);
  const port = socket.address().port;
  const received: string[] = [];
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:${name}@127.0.0.1:${port}`),
    transportConstructor: UdpTransport,
    transportOptions: { socket, viaHost: '127.0.0.1', target, transactionTimeoutMs: options.transactionTimeoutMs },
    viaHost: '127.0.0.1',
    forceRport: true,
    contactParams: { transport: 'udp' },
    logLevel: 'error',
    delegate: {
      onMessage: (message: Message) => {
        received.push(message.request.body);
        void message.accept();
      },
    },
  });
  ua.contact.uri.port = port;
  await ua.start();
  return { ua, port, received, transport: () => ua.transport as unknown as UdpTransport };
}

function sendMessage(from: Party, toPort: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const messager = new Messager(from.ua, UserAgent.makeURI(`sip:bob@127.0.0.1:${toPort}`)!, body);
    messager
      .message({ requestDelegate: { onAccept: (response) => resolve(response.message.statusCode ?? 0), onReject: (response) => resolve(response.message.statusCode ?? 0) } })
      .catch(reject);
  });
}

describe('UdpTransport with sip.js', () => {
  it('carries a MESSAGE and its 200 between two user agents, with our port in Via and Contact', async () => {
    const bobPort = { value: 0 };
    const alice = await party('alice', () => ({ address: '127.0.0.1', port: bobPort.value }));
    const bob = await party('bob', () => ({ address: '127.0.0.1', port: alice.port }));
    bobPort.value = bob.port;
    try {
      const status = await sendMessage(alice, bob.port, 'hello');
      expect(status).toBe(200);
      expect(bob.received).toEqual(['hello']);
      expect(alice.ua.contact.toString()).toContain(`@127.0.0.1:${alice.port};transport=udp`);
    } finally {
      await alice.ua.stop();
      await bob.ua.stop();
    }
  });

  it('retransmits through a network that drops the first copy of every message, and delivers each once', async () => {
    const relayPort = { value: 0 };
    const alice = await party('alice', () => ({ address: '127.0.0.1', port: relayPort.value }));
    const bob = await party('bob', () => ({ address: '127.0.0.1', port: relayPort.value }));
    const relay = await DropFirstRelay.open({ address: '127.0.0.1', port: bob.port });
    relayPort.value = relay.port;
    try {
      const started = Date.now();
      const status = await sendMessage(alice, bob.port, 'through loss');
      expect(status).toBe(200);
      // The request was dropped once (resent after T1) and so was the 200 (Bob answers the retransmission again).
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect(bob.received).toEqual(['through loss']);
      expect(relay.dropped).toBeGreaterThanOrEqual(2);
    } finally {
      relay.close();
      await alice.ua.stop();
      await bob.ua.stop();
    }
  }, 20000);

  it('ends a request nobody answers with 408 at sip_transaction_timeout', async () => {
    // A port of this worker's range that nothing binds.
    const nobody = testPorts(1);
    const alice = await party('alice', () => ({ address: '127.0.0.1', port: nobody }), { transactionTimeoutMs: 1200 });
    const started = Date.now();
    const status = await sendMessage(alice, nobody, 'nobody');
    expect(status).toBe(408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1100);
    // Our 1.2 s, not sip.js's 32 s (Timer F): ten times 1.2 s is the bound a loaded machine needs.
    expect(Date.now() - started).toBeLessThan(12000);
    await alice.ua.stop();
  }, 40000);
});

describe('UDP keep-alives (udpKeepAliveS)', () => {
  it('an endpoint\'s UDP line sends a double CRLF to its server at the interval given, none without it, and none after stop', async () => {
    const { createSocket } = await import('node:dgram');
    const { EndpointConfig } = await import('@sip-endpoint/config');
    const { Endpoint } = await import('@sip-endpoint/endpoint-core');
    const { waitFor } = await import('@sip-endpoint/test-support');
    /** A server that answers nothing: it sorts what comes into pings and SIP. */
    const server = async () => {
      const socket = createSocket('udp4');
      const seen = { pings: 0, sip: [] as string[] };
      socket.on('message', (data) => (data.toString() === '\r\n\r\n' ? seen.pings++ : seen.sip.push(data.toString())));
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      return { socket, seen, port: socket.address().port };
    };
    const [a, b] = [await server(), await server()];
    const first = testPorts(10);
    const config = (port: number, sip: number) =>
      EndpointConfig.defaults().with({
        'user:0': 'agent',
        'server:0': `127.0.0.1:${port}`,
        'proxies.proxy0.reg_timeout': '1800',
        'policy.endpoint.public_address': '127.0.0.1',
        'policy.endpoint.sip_port_min': String(sip),
        'policy.endpoint.sip_port_max': String(sip + 4),
        'system.media.ringing_file': '',
      });
    const withPings = new Endpoint({ config: config(a.port, first), udpKeepAliveS: 0.2 });
    const without = new Endpoint({ config: config(b.port, first + 5) });
    try {
      await Promise.all([withPings.start(), without.start()]);
      await waitFor(() => a.seen.pings >= 3 && b.seen.sip.length > 0, 10_000, 'three pings at one server, SIP at the other');
      expect(a.seen.sip.some((message) => message.startsWith('REGISTER '))).toBe(true);
      expect(b.seen.sip.some((message) => message.startsWith('REGISTER '))).toBe(true);
      expect(b.seen.pings).toBe(0);
    } finally {
      await Promise.all([withPings.stop(), without.stop()]);
    }
    // Stopped: no more, even after several intervals.
    const after = a.seen.pings;
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(a.seen.pings).toBe(after);
    a.socket.close();
    b.socket.close();
  }, 30_000);
});
