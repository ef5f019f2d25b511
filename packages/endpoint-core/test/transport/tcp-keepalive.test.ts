import { createServer, type Socket } from 'node:net';
import { waitFor } from '@sip-endpoint/test-support';
import { TcpTransport } from '../../src/transport/tcp-transport';

// RFC 5626 4.4.1 keep-alives on a SIP connection we opened: a double CRLF ("ping") every
// keepAliveS seconds, and a single CRLF ("pong") for each ping the server sends us.
describe('TCP keep-alives (RFC 5626 CRLF)', () => {
  it('sends a double CRLF on its connection every keepAliveS, answers the server\'s ping with a CRLF, and stops when disconnected', async () => {
    const received: { at: number; data: string }[] = [];
    let server: Socket | undefined;
    const listener = createServer((socket) => {
      server = socket;
      socket.on('data', (data) => received.push({ at: performance.now(), data: data.toString('latin1') }));
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as { port: number }).port;
    const transport = new TcpTransport(undefined, { viaHost: '127.0.0.1', target: { address: '127.0.0.1', port }, keepAliveS: 1 });
    try {
      await transport.connect();
      await transport.openConnection();
      await waitFor(() => received.filter((r) => r.data === '\r\n\r\n').length >= 2, 5000, 'two pings');
      const pings = received.filter((r) => r.data === '\r\n\r\n');
      // Paced by the interval, not sent back to back: measured where they arrive, in this same
      // process, so a stall can bunch them a little (hence half the period, not all of it).
      expect(pings[1]!.at - pings[0]!.at).toBeGreaterThanOrEqual(500);
      // The server pings us: a pong (one CRLF) comes back.
      const before = received.length;
      server!.write('\r\n\r\n');
      await waitFor(() => received.slice(before).some((r) => r.data === '\r\n'), 3000, 'the pong');
      await transport.disconnect();
      const after = received.length;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(received.slice(after).filter((r) => r.data.includes('\r\n'))).toEqual([]);
    } finally {
      await transport.dispose();
      server?.destroy();
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it('sends none with keepAliveS 0', async () => {
    const received: string[] = [];
    const listener = createServer((socket) => socket.on('data', (data) => received.push(data.toString('latin1'))));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as { port: number }).port;
    const transport = new TcpTransport(undefined, { viaHost: '127.0.0.1', target: { address: '127.0.0.1', port }, keepAliveS: 0 });
    try {
      await transport.connect();
      await transport.openConnection();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(received).toEqual([]);
    } finally {
      await transport.dispose();
      await new Promise((resolve) => listener.close(resolve));
    }
  });
});
