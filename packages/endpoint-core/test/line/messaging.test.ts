import { createSocket } from 'node:dgram';
import { Endpoint, InvalidArgumentError, RequestFailedError, type LineMessage } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { Baresip, baresipAvailable } from '../support/baresip';
import { standaloneConfig, waitFor } from '../support/endpoints';
import { Kamailio, kamailioAvailable } from '../support/kamailio';

// Instant messages outside a session (RFC 3428): sent to baresip (its core takes text/plain and
// refuses other types with 415) and between two agents through Kamailio; what a line refuses.

const describeIf = baresipAvailable() && kamailioAvailable() ? describe : describe.skip;

describeIf('MESSAGE (RFC 3428) against baresip and through Kamailio', () => {
  it('delivers text/plain to baresip (200, the body on its side); text/html is refused with 415 and the promise says so', async () => {
    const baresip = await Baresip.start({ user: 'bob' });
    const agent = new Endpoint({ config: standaloneConfig('3500', testPorts(7), testPorts(50)) });
    await agent.start();
    try {
      const target = `sip:bob@127.0.0.1:${baresip.port}`;
      await expect(agent.sendMessage(target, 'hello from the agent')).resolves.toEqual({ statusCode: 200, reasonPhrase: 'OK' });
      const got = baresip.sipTrace().find((message) => !message.sent && message.method === 'MESSAGE');
      expect(got?.body).toBe('hello from the agent');
      expect(got?.text).toMatch(/^Content-Type: text\/plain/im);
      const refused = await agent.sendMessage(target, '<b>hello</b>', { contentType: 'text/html' }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(RequestFailedError);
      expect((refused as RequestFailedError).statusCode).toBe(415);
    } finally {
      await agent.stop();
      await baresip.stop();
    }
  }, 30000);

  it('between two agents registered with Kamailio: text/html delivered and emitted with its sender and type; an unknown DN gets 404', async () => {
    const port = testPorts(1);
    const kamailio = await Kamailio.start(port, 'secret');
    const registered = (user: string): Endpoint => new Endpoint({ config: standaloneConfig(user, testPorts(7), testPorts(50), { 'server:0': `127.0.0.1:${port}`, 'proxies.proxy0.reg_timeout': '60', 'proxies.proxy0.password': 'secret' }) });
    const alice = registered('3510');
    const bob = registered('3511');
    const got: Array<[number, LineMessage]> = [];
    bob.on('message', (line, message) => got.push([line, message]));
    await Promise.all([alice.start(), bob.start()]);
    try {
      await waitFor(() => alice.lines[0]!.state === 'READY' && bob.lines[0]!.state === 'READY', 8000, 'both registered');
      await expect(alice.sendMessage('3511', '<p>Customer <b>waiting</b></p>', { contentType: 'text/html; charset=utf-8' })).resolves.toMatchObject({ statusCode: 200 });
      await waitFor(() => got.length > 0, 3000, 'the message');
      expect(got[0]).toEqual([0, { from: 'sip:3510@127.0.0.1', contentType: 'text/html; charset=utf-8', body: '<p>Customer <b>waiting</b></p>' }]);
      const unknown = await alice.sendMessage('3599', 'anyone?').catch((error: unknown) => error);
      expect((unknown as RequestFailedError).statusCode).toBe(404);
    } finally {
      await Promise.all([alice.stop(), bob.stop()]);
      await kamailio.stop();
    }
  }, 30000);
});

describe('a line refusing MESSAGEs it cannot take', () => {
  /** Sends a MESSAGE from a raw socket and resolves with the final status and the response. */
  async function send(port: number, type: string, body: string): Promise<{ status: number; text: string }> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const local = socket.address().port;
    const id = Math.random().toString(36).slice(2);
    try {
      return await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no answer to the MESSAGE')), 3000);
        socket.on('message', (data) => {
          const text = data.toString();
          const status = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1] ?? 0);
          if (status >= 200) {
            clearTimeout(timer);
            resolve({ status, text });
          }
        });
        socket.send(
          [`MESSAGE sip:3520@127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${id};rport`, 'Max-Forwards: 70', `From: <sip:customer@127.0.0.1:${local}>;tag=${id}`, 'To: <sip:3520@127.0.0.1>', `Call-ID: ${id}@127.0.0.1`, 'CSeq: 1 MESSAGE', `Content-Type: ${type}`, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'),
          port,
          '127.0.0.1',
        );
      });
    } finally {
      socket.close();
    }
  }

  it('415 with Accept for another content type, 413 for a body over 16 KiB, neither emitted; the line keeps taking good ones', async () => {
    const agent = new Endpoint({ config: standaloneConfig('3520', testPorts(7), testPorts(50)) });
    const got: LineMessage[] = [];
    agent.on('message', (_line, message) => got.push(message));
    await agent.start();
    try {
      const port = agent.lines[0]!.port!;
      const json = await send(port, 'application/json', '{"a":1}');
      expect(json.status).toBe(415);
      expect(json.text).toMatch(/^Accept: text\/plain, text\/html\r$/m);
      expect((await send(port, 'text/plain', 'x'.repeat(16 * 1024 + 1))).status).toBe(413);
      expect(got).toEqual([]);
      expect((await send(port, 'text/plain; charset=UTF-8', 'still here')).status).toBe(200);
      expect(got.map((message) => message.body)).toEqual(['still here']);
    } finally {
      await agent.stop();
    }
  });

  it('sendMessage refuses a content type that is not type/subtype, a body over 16 KiB, a header with a line break', async () => {
    const agent = new Endpoint({ config: standaloneConfig('3530', testPorts(7), testPorts(50)) });
    await agent.start();
    try {
      const target = 'sip:nobody@127.0.0.1:9';
      await expect(agent.sendMessage(target, 'x', { contentType: 'plain' })).rejects.toThrow(InvalidArgumentError);
      await expect(agent.sendMessage(target, 'x'.repeat(16 * 1024 + 1))).rejects.toThrow(/at most 16384/);
      await expect(agent.sendMessage(target, 'x', { headers: { Subject: 'a\r\nInjected: 1' } })).rejects.toThrow(InvalidArgumentError);
    } finally {
      await agent.stop();
    }
  });
});

describe('MESSAGE in a call\'s dialog', () => {
  it('goes both ways on a connected call, as call.message and endpoint callMessage; refused before the call connects and after it ends', async () => {
    const alice = new Endpoint({ config: standaloneConfig('3540', testPorts(7), testPorts(50)) });
    const bob = new Endpoint({ config: standaloneConfig('3541', testPorts(7), testPorts(50), { 'policy.session.auto_answer': '1' }) });
    const atBob: Array<[string, LineMessage]> = [];
    bob.on('callMessage', (call, message) => atBob.push([call.id, message]));
    await Promise.all([alice.start(), bob.start()]);
    try {
      const call = await alice.makeCall(`sip:3541@127.0.0.1:${bob.lines[0]!.port}`);
      await expect(call.sendMessage('too early')).rejects.toThrow(/on a call that is (IN_PROGRESS|ALERTING)/);
      await waitFor(() => call.state === 'CONNECTED' && bob.calls[0]?.state === 'CONNECTED', 5000, 'the call');
      const atAlice: LineMessage[] = [];
      call.on('message', (message) => atAlice.push(message));
      await expect(call.sendMessage('Can you hear me?')).resolves.toMatchObject({ statusCode: 200 });
      await waitFor(() => atBob.length > 0, 3000, 'the message at bob');
      expect(atBob[0]).toEqual([bob.calls[0]!.id, { from: 'sip:3540@127.0.0.1', contentType: 'text/plain', body: 'Can you hear me?' }]);
      await expect(bob.calls[0]!.sendMessage('<i>yes</i>', { contentType: 'text/html' })).resolves.toMatchObject({ statusCode: 200 });
      await waitFor(() => atAlice.length > 0, 3000, 'the answer at alice');
      expect(atAlice[0]).toMatchObject({ contentType: 'text/html', body: '<i>yes</i>' });
      expect(alice.calls).toHaveLength(1);
      await call.hangup();
      await expect(call.sendMessage('too late')).rejects.toThrow(/DISCONNECTED/);
    } finally {
      await Promise.all([alice.stop(), bob.stop()]);
    }
  });
});
