import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { Endpoint } from '@sip-endpoint/endpoint-core';
import { EndpointConfig } from '@sip-endpoint/config';
import { testPorts } from '@sip-endpoint/test-support';
import { Kamailio, kamailioAvailable } from '../support/kamailio';
import { standaloneConfig, waitFor } from '../support/endpoints';

// sip_accept_requests_from: a line that registers takes SIP requests over UDP only from its
// server and from sip_trusted_addresses; anyone else (a SIP scanner ringing agents straight on
// their port) gets no answer at all. The "stranger" sends from 127.0.0.2 and 127.0.0.3 (all of
// 127/8 is this machine's), the registrar is on 127.0.0.1.

const describeIf = kamailioAvailable() ? describe : describe.skip;

async function socketOn(address: string): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  return socket;
}

/** Sends `method` from `socket` to the line's port; the status of the answer, or undefined when none came in `ms`. */
async function ask(socket: Socket, endpoint: Endpoint, method: 'OPTIONS' | 'INVITE', ms = 600): Promise<number | undefined> {
  const port = endpoint.lines[0]!.port!;
  const user = endpoint.config.connectivities[0]!.user;
  const token = randomBytes(6).toString('hex');
  const { address, port: own } = socket.address();
  const sdp = ['v=0', `o=- 1 1 IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0', `m=audio ${own + 2} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
  const body = method === 'INVITE' ? sdp : '';
  const text = [
    `${method} sip:${user}@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP ${address}:${own};branch=z9hG4bK${token};rport`,
    `From: <sip:scanner@${address}>;tag=${token}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${token}@${address}`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:scanner@${address}:${own}>`,
    'Max-Forwards: 70',
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      resolve(undefined);
    }, ms);
    const onMessage = (data: Buffer): void => {
      const reply = data.toString();
      if (!reply.includes(token)) return;
      const status = Number(/^SIP\/2\.0 (\d{3})/.exec(reply)?.[1]);
      if (status === 100) return;
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(status);
    };
    socket.on('message', onMessage);
    socket.send(text, port, '127.0.0.1');
  });
}

describeIf('sip_accept_requests_from and sip_trusted_addresses', () => {
  let kamailio: Kamailio;
  const sockets: Socket[] = [];
  let server: Socket;
  let stranger: Socket;
  let trusted: Socket;
  beforeAll(async () => {
    kamailio = await Kamailio.start(testPorts(1));
    server = await socketOn('127.0.0.1');
    stranger = await socketOn('127.0.0.2');
    trusted = await socketOn('127.0.0.3');
    sockets.push(server, stranger, trusted);
  }, 20_000);
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await kamailio.stop();
  });

  function registering(user: string, settings: Record<string, string>, log: string[] = []): Endpoint {
    const config: EndpointConfig = standaloneConfig(user, testPorts(8), testPorts(50), { 'server:0': `127.0.0.1:${kamailio.port}`, 'proxies.proxy0.reg_timeout': '60', 'proxies.proxy0.password': 'secret', 'policy.session.auto_answer': '1', ...settings });
    return new Endpoint({ config, logger: (_level, message) => log.push(message) });
  }

  it('by default, a registered line answers its server\'s address only: a stranger gets nothing, is counted and logged once, and rings no one', async () => {
    const log: string[] = [];
    const agent = registering('6101', {}, log);
    let rung = 0;
    agent.on('incomingCall', () => rung++);
    await agent.start();
    try {
      await waitFor(() => agent.lines[0]!.state === 'READY', 5000, 'registered');
      expect(await ask(server, agent, 'OPTIONS')).toBe(200);
      expect(await ask(stranger, agent, 'OPTIONS')).toBeUndefined();
      expect(await ask(stranger, agent, 'INVITE')).toBeUndefined();
      expect(rung).toBe(0);
      expect(agent.lines[0]!.counters.requestsRefused).toBe(2);
      expect(log.filter((line) => line.includes('SIP requests from 127.0.0.2 are dropped'))).toHaveLength(1);
      // The line still works through its server's address.
      expect(await ask(server, agent, 'INVITE', 2000)).toBe(200);
      expect(rung).toBe(1);
    } finally {
      await agent.stop();
    }
  }, 20_000);

  it('sip_trusted_addresses lets an address or a subnet in, and nobody else', async () => {
    const agent = registering('6102', { 'policy.endpoint.sip_trusted_addresses': '127.0.0.3, 10.0.0.0/8' });
    await agent.start();
    try {
      await waitFor(() => agent.lines[0]!.state === 'READY', 5000, 'registered');
      expect(await ask(trusted, agent, 'OPTIONS')).toBe(200);
      expect(await ask(stranger, agent, 'OPTIONS')).toBeUndefined();
    } finally {
      await agent.stop();
    }
  }, 20_000);

  it('sip_accept_requests_from any takes requests from anyone', async () => {
    const agent = registering('6103', { 'policy.endpoint.sip_accept_requests_from': 'any' });
    await agent.start();
    try {
      await waitFor(() => agent.lines[0]!.state === 'READY', 5000, 'registered');
      expect(await ask(stranger, agent, 'OPTIONS')).toBe(200);
      expect(agent.lines[0]!.counters.requestsRefused).toBe(0);
    } finally {
      await agent.stop();
    }
  }, 20_000);

  it('a stand-alone line takes requests from anyone, or only from sip_trusted_addresses when set', async () => {
    const open = new Endpoint({ config: standaloneConfig('6104', testPorts(8), testPorts(50)) });
    const closed = new Endpoint({ config: standaloneConfig('6105', testPorts(8), testPorts(50), { 'policy.endpoint.sip_trusted_addresses': '127.0.0.3/32' }) });
    await open.start();
    await closed.start();
    try {
      expect(await ask(stranger, open, 'OPTIONS')).toBe(200);
      expect(await ask(trusted, closed, 'OPTIONS')).toBe(200);
      expect(await ask(stranger, closed, 'OPTIONS')).toBeUndefined();
    } finally {
      await open.stop();
      await closed.stop();
    }
  }, 20_000);

  it('refuses a trusted entry that is neither an address nor a subnet: the default (none), with a warning naming it', () => {
    const config = EndpointConfig.defaults().with({ 'policy.endpoint.sip_trusted_addresses': '127.0.0.3, example.com' });
    expect(config.get('policy.endpoint.sip_trusted_addresses')).toEqual([]);
    expect(config.warnings.map((warning) => warning.message).join('\n')).toMatch(/"example\.com" is neither an IP address nor a CIDR subnet/);
  });
});
