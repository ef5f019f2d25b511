import { createSocket, type Socket } from 'node:dgram';
import { Messager, UserAgent } from 'sip.js';
import { testPorts, waitFor } from '@sip-endpoint/test-support';
import { bindSipUdp, UdpTransport } from '../../src/transport/udp-transport';

/** A UDP socket whose name lookups fail as a resolver without the name would (no DNS query is made). */
function socketWithoutNames(port: number): Promise<Socket> {
  const socket = createSocket({
    type: 'udp4',
    lookup: (host, _options, callback) => {
      if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return callback(null, host, 4);
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), '', 4);
    },
  });
  return new Promise((resolve) => socket.bind(port, '127.0.0.1', () => resolve(socket)));
}

function userAgent(socket: Socket, target: () => { address: string; port: number }, errors: string[]): UserAgent {
  const port = socket.address().port;
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:alice@127.0.0.1:${port}`),
    transportConstructor: UdpTransport,
    transportOptions: { socket, viaHost: '127.0.0.1', target },
    viaHost: '127.0.0.1',
    forceRport: true,
    logLevel: 'error',
    logBuiltinEnabled: false,
    logConnector: (level: string, category: string, _label: string | undefined, content: string) => {
      if (level === 'error') errors.push(content);
    },
  });
  ua.contact.uri.port = port;
  return ua;
}

describe('UdpTransport: sends that fail, and responses that must go where the request came from', () => {
  it('a request to a name that does not resolve ends its transaction with 503 and a log line; the process goes on (the socket\'s error event used to end it: found by the fuzzer)', async () => {
    const socket = await socketWithoutNames(testPorts(1));
    const errors: string[] = [];
    const ua = userAgent(socket, () => ({ address: 'no-such-host.invalid', port: 5060 }), errors);
    await ua.start();
    try {
      const status = await new Promise<number>((resolve, reject) => {
        new Messager(ua, UserAgent.makeURI('sip:bob@no-such-host.invalid')!, 'hello')
          .message({ requestDelegate: { onAccept: (r) => resolve(r.message.statusCode ?? 0), onReject: (r) => resolve(r.message.statusCode ?? 0) } })
          .catch(reject);
      });
      expect(status).toBe(503);
      expect(errors.join('\n')).toMatch(/could not send to no-such-host\.invalid:5060: getaddrinfo ENOTFOUND/);
    } finally {
      await ua.stop();
    }
  });

  it('answers to the address a request came from even when its Via carries a received of another address (a forged received would reflect our responses to a third party)', async () => {
    const first = testPorts(3);
    const bobSocket = await bindSipUdp('127.0.0.1', first, first);
    const bob = userAgent(bobSocket, () => ({ address: '127.0.0.1', port: 9 }), []);
    await bob.start();
    const sender = createSocket('udp4');
    const victim = createSocket('udp4');
    await new Promise<void>((resolve) => sender.bind(first + 1, '127.0.0.1', () => resolve()));
    await new Promise<void>((resolve) => victim.bind(first + 1, '127.0.0.2', () => resolve()));
    const atSender: string[] = [];
    const atVictim: string[] = [];
    sender.on('message', (data) => atSender.push(data.toString()));
    victim.on('message', (data) => atVictim.push(data.toString()));
    try {
      for (const [i, via] of [`127.0.0.1:${first + 1};branch=z9hG4bK-forged1;received=127.0.0.2`, `127.0.0.1:${first + 1};branch=z9hG4bK-forged2;rport;received=127.0.0.2`, `sender.invalid:${first + 1};branch=z9hG4bK-forged3;received=127.0.0.2`].entries()) {
        const options = [`OPTIONS sip:alice@127.0.0.1:${first} SIP/2.0`, `Via: SIP/2.0/UDP ${via}`, 'Max-Forwards: 70', `From: <sip:x@127.0.0.1>;tag=${i}`, `To: <sip:alice@127.0.0.1:${first}>`, `Call-ID: forged-${i}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
        sender.send(options, first, '127.0.0.1');
        await waitFor(() => atSender.some((text) => text.includes(`Call-ID: forged-${i}`)), 3000, `the answer to request ${i} at its source`);
        const answer = atSender.find((text) => text.includes(`Call-ID: forged-${i}`))!;
        expect(answer).toMatch(/^SIP\/2\.0 200 /);
        expect(answer).not.toMatch(/received=127\.0\.0\.2/);
        // A sent-by other than the source gets the source as received (RFC 3261 18.2.1).
        if (via.startsWith('sender.invalid')) expect(answer).toMatch(/;received=127\.0\.0\.1/);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(atVictim).toEqual([]);
    } finally {
      sender.close();
      victim.close();
      await bob.stop();
    }
  });
});
