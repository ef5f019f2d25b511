import { connect as netConnect, type Socket } from 'node:net';
import { Messager, UserAgent, type Message } from 'sip.js';
import { testPorts } from '@sip-endpoint/test-support';
import { listenSipTcp, TcpTransport } from '../../src/transport/tcp-transport';
import { SipStreamFramer } from '../../src/transport/sip-stream-framer';
import { InvalidMessageError, MessageTooLargeError } from '@sip-endpoint/endpoint-core';

describe('SipStreamFramer', () => {
  const message = (body: string) => `MESSAGE sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nl: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

  it('cuts messages by their Content-Length in bytes, across chunks and several per chunk', () => {
    const out: string[] = [];
    const framer = new SipStreamFramer((m) => out.push(m));
    const stream = Buffer.from(message('héllo wörld') + message('') + message('x'.repeat(3000)));
    for (let i = 0; i < stream.length; i += 7) framer.push(stream.subarray(i, i + 7));
    expect(out.map((m) => m.split('\r\n\r\n')[1])).toEqual(['héllo wörld', '', 'x'.repeat(3000)]);
  });

  it('reports a double-CRLF keep-alive as a ping and skips it', () => {
    const out: string[] = [];
    let pings = 0;
    const framer = new SipStreamFramer((m) => out.push(m), () => pings++);
    framer.push(Buffer.from(`\r\n\r\n${message('a')}\r\n\r\n`));
    expect([out.length, pings]).toEqual([1, 2]);
  });

  it('refuses a message without Content-Length, and one above the size limit', () => {
    expect(() => new SipStreamFramer(() => undefined).push(Buffer.from('OPTIONS sip:a SIP/2.0\r\nVia: x\r\n\r\n'))).toThrow(InvalidMessageError);
    expect(() => new SipStreamFramer(() => undefined, undefined, 100).push(Buffer.from(message('y'.repeat(200))))).toThrow(MessageTooLargeError);
  });
});

describe('TcpTransport with sip.js', () => {
  /** A user agent listening on a block of 10 ports of this jest worker's range, connecting from another 10. */
  async function party(name: string, target: () => { address: string; port: number }) {
    const listen = testPorts(10);
    const local = testPorts(10);
    const server = await listenSipTcp('127.0.0.1', listen, listen + 9);
    const port = (server.address() as { port: number }).port;
    const received: string[] = [];
    const ua = new UserAgent({
      uri: UserAgent.makeURI(`sip:${name}@127.0.0.1:${port};transport=tcp`),
      transportConstructor: TcpTransport,
      transportOptions: { server, viaHost: '127.0.0.1', target, localAddress: '127.0.0.1', localPortRange: { min: local, max: local + 9 } },
      viaHost: '127.0.0.1',
      contactParams: { transport: 'tcp' },
      logBuiltinEnabled: false,
      delegate: {
        onMessage: (message: Message) => {
          received.push(message.request.body);
          void message.accept();
        },
      },
    });
    ua.contact.uri.port = port;
    await ua.start();
    return { ua, port, received };
  }

  it('carries a MESSAGE larger than any UDP datagram should be, and its 200 back on the same connection', async () => {
    const bobPort = { value: 0 };
    const alice = await party('alice', () => ({ address: '127.0.0.1', port: bobPort.value }));
    const bob = await party('bob', () => ({ address: '127.0.0.1', port: alice.port }));
    bobPort.value = bob.port;
    try {
      const body = 'ünïcode '.repeat(400);
      const status = await new Promise<number>((resolve) => {
        void new Messager(alice.ua, UserAgent.makeURI(`sip:bob@127.0.0.1:${bob.port};transport=tcp`)!, body).message({
          requestDelegate: { onAccept: (r) => resolve(r.message.statusCode ?? 0), onReject: (r) => resolve(r.message.statusCode ?? 0) },
        });
      });
      expect(status).toBe(200);
      expect(bob.received).toEqual([body]);
    } finally {
      await alice.ua.stop();
      await bob.ua.stop();
    }
  });
});

describe('TcpTransport: connections the far end opens', () => {
  async function open(port: number): Promise<{ socket: Socket; closed: Promise<number> }> {
    const socket = netConnect({ host: '127.0.0.1', port });
    const opened = Date.now();
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, closed };
  }

  it('closes one that stays idle for inboundIdleMs, and keeps one that talks', async () => {
    const first = testPorts(1);
    const server = await listenSipTcp('127.0.0.1', first, first);
    const transport = new TcpTransport(undefined, { viaHost: '127.0.0.1', target: undefined, server, inboundIdleMs: 300 });
    try {
      const idle = await open(first);
      const talking = await open(first);
      const pings = setInterval(() => talking.socket.write('\r\n\r\n'), 100);
      const idleFor = await idle.closed;
      expect(idleFor).toBeGreaterThanOrEqual(250);
      expect(idleFor).toBeLessThan(2000);
      expect(talking.socket.destroyed).toBe(false);
      clearInterval(pings);
      talking.socket.destroy();
    } finally {
      await transport.dispose();
    }
  });

  it('takes at most maxInboundPerAddress connections from one address at once (an attacker cannot hold every descriptor)', async () => {
    const first = testPorts(1);
    const server = await listenSipTcp('127.0.0.1', first, first);
    const transport = new TcpTransport(undefined, { viaHost: '127.0.0.1', target: undefined, server, maxInboundPerAddress: 3 });
    const sockets: Socket[] = [];
    try {
      const opened = await Promise.all(Array.from({ length: 5 }, () => open(first)));
      sockets.push(...opened.map((o) => o.socket));
      const outcome = await Promise.all(opened.map((o) => Promise.race([o.closed.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('open'), 500))])));
      expect(outcome.filter((o) => o === 'closed')).toHaveLength(2);
      // One closed, one more may come.
      sockets[outcome.indexOf('open')]!.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const again = await open(first);
      sockets.push(again.socket);
      expect(await Promise.race([again.closed.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('open'), 500))])).toBe('open');
    } finally {
      for (const socket of sockets) socket.destroy();
      await transport.dispose();
    }
  });
});
