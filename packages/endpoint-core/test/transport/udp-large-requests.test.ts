import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { Messager, UserAgent, type Message } from 'sip.js';
import { EndpointConfig } from '@sip-endpoint/config';
import { testPorts } from '@sip-endpoint/test-support';
import { lineContext } from '../support/lines';
import { Line } from '@sip-endpoint/endpoint-core';
import { bindSipUdp, UdpTransport } from '../../src/transport/udp-transport';
import { listenSipTcp } from '../../src/transport/tcp-transport';
import { peekSip } from '../../src/transport/sip-peek';
import { SipStreamFramer } from '../../src/transport/sip-stream-framer';

/**
 * A SIP peer on 127.0.0.1 (a port of this jest worker's range): UDP, and TCP on the same port
 * number when `tcp`, answering every request with 200.
 */
class Peer {
  readonly received: { transport: 'UDP' | 'TCP'; message: string }[] = [];
  private constructor(
    readonly port: number,
    private readonly udp: UdpSocket,
    private readonly tcp: Server | undefined,
  ) {}

  static async start(tcp: boolean): Promise<Peer> {
    const port = testPorts(1);
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
    const server = tcp ? createServer() : undefined;
    if (server) await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const peer = new Peer(port, udp, server);
    udp.on('message', (data, remote) => {
      const message = data.toString('utf8');
      peer.received.push({ transport: 'UDP', message });
      udp.send(ok(message), remote.port, remote.address);
    });
    server?.on('connection', (socket: Socket) => {
      const framer = new SipStreamFramer((message) => {
        peer.received.push({ transport: 'TCP', message });
        socket.write(ok(message));
      });
      socket.on('data', (chunk: Buffer) => framer.push(chunk));
      socket.on('error', () => undefined);
    });
    return peer;
  }

  async stop(): Promise<void> {
    this.udp.close();
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
  }
}

/** The 200 a peer sends back: the request's Via, From, To (with a tag), Call-ID and CSeq. */
function ok(request: string): string {
  const head = request.slice(0, request.indexOf('\r\n\r\n')).split('\r\n').slice(1);
  const keep = head.filter((line) => /^(via|from|to|call-id|cseq)\s*:/i.test(line)).map((line) => (/^to\s*:/i.test(line) && !/;tag=/.test(line) ? `${line};tag=peer` : line));
  return ['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n');
}

/** Alice's user agent, on the first free port of a block of 10 from this jest worker's range. */
async function alice(peerPort: number): Promise<{ ua: UserAgent; port: number; sent: string[] }> {
  const first = testPorts(10);
  const socket = await bindSipUdp('127.0.0.1', first, first + 9);
  const port = socket.address().port;
  const sent: string[] = [];
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:alice@127.0.0.1:${port}`),
    transportConstructor: UdpTransport,
    transportOptions: { socket, viaHost: '127.0.0.1', target: { address: '127.0.0.1', port: peerPort }, tcp: { localAddress: '127.0.0.1' }, trace: (direction: string, message: string) => direction === 'out' && sent.push(message) },
    viaHost: '127.0.0.1',
    forceRport: true,
    contactParams: { transport: 'udp' },
    logBuiltinEnabled: false,
  });
  ua.contact.uri.port = port;
  await ua.start();
  return { ua, port, sent };
}

function message(ua: UserAgent, port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    new Messager(ua, UserAgent.makeURI(`sip:bob@127.0.0.1:${port}`)!, body)
      .message({ requestDelegate: { onAccept: (r) => resolve(r.message.statusCode ?? 0), onReject: (r) => resolve(r.message.statusCode ?? 0) } })
      .catch(reject);
  });
}

const topVia = (message: string): string => /^Via: ([^\r]*)/m.exec(message)?.[1] ?? '';

describe('UdpTransport: requests above 1300 bytes go over TCP (RFC 3261 18.1.1)', () => {
  it('sends a request above 1300 bytes (counted in UTF-8) over TCP with Via TCP, a smaller one over UDP, and gets both 200s', async () => {
    const peer = await Peer.start(true);
    const a = await alice(peer.port);
    try {
      // ASCII well under the limit; accented letters whose characters fit but whose bytes do not; a long ASCII body.
      const bodies = ['x'.repeat(300), 'é'.repeat(600), 'y'.repeat(2000)];
      const statuses: number[] = [];
      for (const body of bodies) statuses.push(await message(a.ua, peer.port, body));
      expect(statuses).toEqual([200, 200, 200]);
      const messages = a.sent.filter((m) => m.startsWith('MESSAGE'));
      expect(messages).toHaveLength(3);
      // The accented one: fewer than 1300 characters, more than 1300 bytes.
      expect(messages[1]!.length).toBeLessThan(1300);
      for (const sent of messages) {
        const large = Buffer.byteLength(sent) > 1300;
        // Over TCP without a listener of ours, sent-by names the connection's port.
        expect(topVia(sent)).toMatch(new RegExp(`^SIP/2\\.0/${large ? 'TCP' : 'UDP'} 127\\.0\\.0\\.1:${large ? '\\d+' : a.port};`));
      }
      expect(peer.received.map((r) => `${r.transport} ${Buffer.byteLength(r.message) > 1300 ? 'large' : 'small'}`)).toEqual(['UDP small', 'TCP large', 'TCP large']);
    } finally {
      await a.ua.stop();
      await peer.stop();
    }
  });

  it('falls back to UDP when the target has no TCP listener', async () => {
    const peer = await Peer.start(false);
    const a = await alice(peer.port);
    try {
      expect(await message(a.ua, peer.port, 'z'.repeat(2000))).toBe(200);
      expect(peer.received.map((r) => r.transport)).toEqual(['UDP']);
      expect(topVia(peer.received[0]!.message)).toMatch(/^SIP\/2\.0\/UDP /);
    } finally {
      await a.ua.stop();
      await peer.stop();
    }
  });

  it('answers a request that arrives on its TCP listener on that connection', async () => {
    const first = testPorts(10);
    const socket = await bindSipUdp('127.0.0.1', first, first + 9);
    const port = socket.address().port;
    const server = await listenSipTcp('127.0.0.1', port, port);
    const got: string[] = [];
    const ua = new UserAgent({
      uri: UserAgent.makeURI(`sip:bob@127.0.0.1:${port}`),
      transportConstructor: UdpTransport,
      transportOptions: { socket, viaHost: '127.0.0.1', target: undefined, tcp: { server } },
      viaHost: '127.0.0.1',
      contactParams: { transport: 'udp' },
      logBuiltinEnabled: false,
      delegate: {
        onMessage: (incoming: Message) => {
          got.push(incoming.request.body);
          void incoming.accept();
        },
      },
    });
    ua.contact.uri.port = port;
    await ua.start();
    const client = netConnect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
    try {
      await new Promise<void>((resolve) => client.once('connect', resolve));
      const body = 'w'.repeat(1500);
      const request = [
        `MESSAGE sip:bob@127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/TCP 127.0.0.1:${client.localPort};branch=z9hG4bK-large-1`,
        'Max-Forwards: 70',
        'From: <sip:carol@127.0.0.1>;tag=c1',
        `To: <sip:bob@127.0.0.1:${port}>`,
        'Call-ID: large-over-tcp-1',
        'CSeq: 1 MESSAGE',
        'Content-Type: text/plain',
        `Content-Length: ${body.length}`,
        '',
        body,
      ].join('\r\n');
      const response = new Promise<string>((resolve) => {
        const framer = new SipStreamFramer(resolve);
        client.on('data', (chunk: Buffer) => framer.push(chunk));
      });
      client.write(request);
      const answer = await response;
      expect(answer).toMatch(/^SIP\/2\.0 200 /);
      expect(peekSip(answer)?.via?.branch).toBe('z9hG4bK-large-1');
      expect(got).toEqual([body]);
    } finally {
      client.destroy();
      await ua.stop();
    }
  });

  it('a UDP line listens for TCP on its SIP port number too, and answers a large request there', async () => {
    // Stand-alone (reg_timeout 0): the server, a port of this worker's range, is never contacted.
    const sip = testPorts(7);
    const config = EndpointConfig.defaults().with({ 'user:0': '5430', 'server:0': `127.0.0.1:${testPorts(1)}`, 'proxies.proxy0.reg_timeout': '0', 'policy.endpoint.sip_port_min': String(sip), 'policy.endpoint.sip_port_max': String(sip + 6) });
    const got: string[] = [];
    const line = new Line({
      connectivity: config.connectivities[0]!,
      context: lineContext(config),
    });
    line.on('message', (incoming) => got.push(incoming.body));
    await line.start();
    const port = line.port!;
    const client = netConnect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', resolve);
        client.once('error', reject);
      });
      const body = 'v'.repeat(1600);
      const response = new Promise<string>((resolve) => {
        const framer = new SipStreamFramer(resolve);
        client.on('data', (chunk: Buffer) => framer.push(chunk));
      });
      client.write(
        [
          `MESSAGE sip:5430@127.0.0.1:${port} SIP/2.0`,
          `Via: SIP/2.0/TCP 127.0.0.1:${client.localPort};branch=z9hG4bK-line-tcp-1`,
          'Max-Forwards: 70',
          'From: <sip:carol@127.0.0.1>;tag=c2',
          `To: <sip:5430@127.0.0.1:${port}>`,
          'Call-ID: line-tcp-1',
          'CSeq: 1 MESSAGE',
          'Content-Type: text/plain',
          `Content-Length: ${body.length}`,
          '',
          body,
        ].join('\r\n'),
      );
      expect(await response).toMatch(/^SIP\/2\.0 200 /);
      expect(got).toEqual([body]);
    } finally {
      client.destroy();
      await line.close();
    }
  });
});
