import { createServer, STATUS_CODES } from 'node:http';
import { Messager, UserAgent } from 'sip.js';
import { WebSocketServer, type WebSocket } from 'ws';
import { testPorts, waitFor } from '@sip-endpoint/test-support';
import { WsTransport, type WsTransportOptions } from '../../src/transport/ws-transport';

/**
 * A WebSocket server on 127.0.0.1 (a port of this jest worker's range) that records every frame
 * and, when `answer`, replies 200 to each request.
 */
async function server(options: { subprotocol?: string | false; answer?: boolean } = {}) {
  const port = testPorts(1);
  const frames: string[] = [];
  const sockets: WebSocket[] = [];
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port,
    handleProtocols: (offered) => (options.subprotocol === false ? false : offered.has(options.subprotocol ?? 'sip') ? (options.subprotocol ?? 'sip') : false),
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (socket) => {
    sockets.push(socket);
    socket.on('message', (data) => {
      const request = data.toString();
      frames.push(request);
      if (!options.answer) return;
      const keep = request
        .slice(0, request.indexOf('\r\n\r\n'))
        .split('\r\n')
        .filter((line) => /^(via|from|to|call-id|cseq)\s*:/i.test(line))
        .map((line) => (/^to\s*:/i.test(line) ? `${line};tag=srv` : line));
      socket.send(['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n'));
    });
  });
  return {
    port,
    frames,
    sockets,
    close: () => new Promise<void>((resolve) => {
      for (const socket of wss.clients) socket.terminate();
      wss.close(() => resolve());
    }),
  };
}

async function agent(port: number, extra: Partial<WsTransportOptions> = {}) {
  const ua = new UserAgent({
    uri: UserAgent.makeURI('sip:alice@127.0.0.1'),
    transportConstructor: WsTransport,
    transportOptions: { viaHost: '127.0.0.1', target: { address: '127.0.0.1', port }, ...extra },
    viaHost: '127.0.0.1',
    contactParams: { transport: 'ws' },
    logBuiltinEnabled: false,
  });
  await ua.start();
  return ua;
}

function message(ua: UserAgent, body: string): Promise<string> {
  return new Promise((resolve) => {
    void new Messager(ua, UserAgent.makeURI('sip:bob@127.0.0.1')!, body).message({
      requestDelegate: { onAccept: (r) => resolve(`${r.message.statusCode}`), onReject: (r) => resolve(`${r.message.statusCode} ${r.message.reasonPhrase}`) },
    });
  });
}

describe('WsTransport (RFC 7118) with a WebSocket server', () => {
  it('sends one SIP message per frame with Via WS, and takes the 200 from a frame', async () => {
    const peer = await server({ answer: true });
    const ua = await agent(peer.port);
    try {
      expect(await message(ua, 'one')).toBe('200');
      expect(await message(ua, 'two')).toBe('200');
      expect(peer.frames).toHaveLength(2);
      expect(peer.frames.map((frame) => frame.split('\r\n\r\n')[1])).toEqual(['one', 'two']);
      expect(peer.frames[0]).toMatch(/^Via: SIP\/2\.0\/WS 127\.0\.0\.1:\d+;/m);
      expect(peer.sockets).toHaveLength(1); // both on one connection
    } finally {
      await ua.stop();
      await peer.close();
    }
  });

  it('hands sip.js a 408 at sip_transaction_timeout when the server never answers', async () => {
    const peer = await server();
    const ua = await agent(peer.port, { transactionTimeoutMs: 800 });
    try {
      const started = Date.now();
      expect(await message(ua, 'unanswered')).toBe('408 Request Timeout');
      expect(Date.now() - started).toBeGreaterThanOrEqual(700);
      expect(peer.frames).toHaveLength(1);
    } finally {
      await ua.stop();
      await peer.close();
    }
  }, 15000);

  it('a server that does not accept the sip subprotocol fails the connection: sip.js gets 503, openConnection() says why', async () => {
    const peer = await server({ subprotocol: false });
    const ua = await agent(peer.port);
    const transport = ua.transport as unknown as WsTransport;
    try {
      expect(await message(ua, 'refused')).toBe('503 Service Unavailable');
      await expect(transport.openConnection()).rejects.toMatchObject({ code: 'ERR_SIP_CONNECTION_FAILED', message: expect.stringMatching(new RegExp(`ws://127\\.0\\.0\\.1:${peer.port}/ over WS: .*subprotocol`, 'i')) });
      expect(peer.frames).toHaveLength(0);
    } finally {
      await ua.stop();
      await peer.close();
    }
  });

  it('an upgrade refused with an HTTP status says so: for 401, whether the token was missing or refused', async () => {
    const statuses = [401, 401, 403];
    const http = createServer((_request, response) => response.end());
    http.on('upgrade', (_request, socket) => {
      const status = statuses.shift() ?? 500;
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as { port: number }).port;
    const url = `ws://127.0.0.1:${port}/ over WS: the server refused the WebSocket upgrade with`;
    try {
      for (const [token, expected] of [
        [undefined, `${url} 401 Unauthorized: it wants an OAuth access token and the line has none (POST /register with a Bearer token, or endpoint.setAccessToken)`],
        ['stale', `${url} 401 Unauthorized: it refused the OAuth access token (expired or wrong): give a new one (POST /register, or endpoint.setAccessToken)`],
        ['good', `${url} 403 Forbidden`],
      ] as const) {
        const transport = new WsTransport(undefined, { viaHost: '127.0.0.1', target: { address: '127.0.0.1', port }, reconnect: false, ...(token ? { bearerToken: () => token } : {}) });
        await transport.connect();
        await expect(transport.openConnection()).rejects.toMatchObject({ code: 'ERR_SIP_CONNECTION_FAILED', message: `cannot connect to ${expected}` });
        await transport.dispose();
      }
    } finally {
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it('closes the connection on a frame over 64 KiB from the server (1009, RFC 6455 7.4.1; 100 MiB were buffered before) and opens a new one', async () => {
    const peer = await server({ answer: true });
    let reconnects = 0;
    const ua = await agent(peer.port, { onReconnect: () => reconnects++ });
    try {
      expect(await message(ua, 'before')).toBe('200');
      const closed = new Promise<number>((resolve) => peer.sockets[0]!.once('close', (code) => resolve(code)));
      peer.sockets[0]!.send(`SIP/2.0 200 OK\r\n${'X-Filler: x\r\n'.repeat(8000)}\r\n`);
      expect(await closed).toBe(1009);
      await waitFor(() => reconnects > 0, 5000, 'the reconnection');
      expect(await message(ua, 'after')).toBe('200');
    } finally {
      await ua.stop();
      await peer.close();
    }
  }, 15000);

  it('reopens the connection when the server drops it, and says so through onReconnect', async () => {
    const peer = await server({ answer: true });
    let reconnects = 0;
    const ua = await agent(peer.port, { onReconnect: () => reconnects++ });
    try {
      expect(await message(ua, 'before')).toBe('200');
      peer.sockets[0]!.terminate();
      await waitFor(() => reconnects > 0, 5000, 'the reconnection');
      expect(reconnects).toBe(1);
      expect(peer.sockets).toHaveLength(2);
      expect(await message(ua, 'after')).toBe('200');
      expect(peer.sockets).toHaveLength(2); // the reopened connection carries it
    } finally {
      await ua.stop();
      await peer.close();
    }
  }, 15000);
});
