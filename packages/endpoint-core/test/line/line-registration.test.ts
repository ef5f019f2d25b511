import { createSocket } from 'node:dgram';
import { EndpointConfig } from '@sip-endpoint/config';
import { Line } from '@sip-endpoint/endpoint-core';
import { testPorts, waitFor } from '@sip-endpoint/test-support';
import { Kamailio, kamailioAvailable } from '../support/kamailio';
import { lineContext, states, until } from '../support/lines';

const describeIf = kamailioAvailable() ? describe : describe.skip;

/** SIP ports for a line: a block of 7 from this jest worker's range. */
function sipPorts(): Record<string, string> {
  const first = testPorts(7);
  return { 'policy.endpoint.sip_port_min': String(first), 'policy.endpoint.sip_port_max': String(first + 6) };
}

function lineFor(server: string, settings: Record<string, string> = {}, user = '5320', trace?: (direction: 'out' | 'in', message: string) => void): Line {
  const config = EndpointConfig.defaults().with({ 'user:0': user, 'server:0': server, 'proxies.proxy0.reg_timeout': '60', 'proxies.proxy0.password': 'secret', 'proxies.proxy0.reg_interval': '1', ...sipPorts(), ...settings });
  return new Line({ connectivity: config.connectivities[0]!, context: lineContext(config), timing: { firstRetryMs: 300 }, ...(trace ? { trace } : {}) });
}

describe('a registrar that challenges one REGISTER twice (as a retransmission under load makes Kamailio do)', () => {
  it('answers the first challenge and ignores the second, which belongs to a transaction already replaced: READY, not FAILED', async () => {
    // Two 401s with different nonces for the same branch, back to back, then 200 to the
    // authenticated REGISTER: what 500 agents starting at once met with Kamailio.
    const registrar = createSocket('udp4');
    const seen: string[] = [];
    registrar.on('message', (data, remote) => {
      const text = data.toString();
      const head = text.split('\r\n\r\n')[0]!.split('\r\n');
      const header = (name: string) => head.filter((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((line) => line.slice(name.length + 1).trim());
      const authorized = header('Authorization').length > 0;
      seen.push(authorized ? 'REGISTER+auth' : 'REGISTER');
      const reply = (status: string, extra: string[]) =>
        registrar.send([`SIP/2.0 ${status}`, ...header('Via').map((via) => `Via: ${via};received=127.0.0.1`), `From: ${header('From')[0]}`, `To: ${header('To')[0]};tag=reg1`, `Call-ID: ${header('Call-ID')[0]}`, `CSeq: ${header('CSeq')[0]}`, ...extra, 'Content-Length: 0', '', ''].join('\r\n'), remote.port, remote.address);
      if (!authorized) {
        reply('401 Unauthorized', ['WWW-Authenticate: Digest realm="127.0.0.1", nonce="first"']);
        reply('401 Unauthorized', ['WWW-Authenticate: Digest realm="127.0.0.1", nonce="second"']);
      } else {
        reply('200 OK', [`Contact: ${header('Contact')[0]};expires=60`]);
      }
    });
    await new Promise<void>((resolve) => registrar.bind(testPorts(1), '127.0.0.1', resolve));
    const line = lineFor(`127.0.0.1:${registrar.address().port}`, { 'proxies.proxy0.reg_interval': '0' }, '5329');
    const seenStates = states(line);
    try {
      await line.start();
      await until(line, 'READY');
      // The second 401 must change nothing: a quiet period that is the behaviour under test.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(seenStates).toEqual(['TRYING', 'READY']);
      expect(seen.slice(0, 2)).toEqual(['REGISTER', 'REGISTER+auth']);
    } finally {
      await line.close();
      registrar.close();
    }
  }, 15000);
});

describeIf('a line registering with Kamailio (digest auth, UDP)', () => {
  let kamailio: Kamailio;
  let server: string;
  beforeAll(async () => {
    kamailio = await Kamailio.start(testPorts(1));
    server = `127.0.0.1:${kamailio.port}`;
  }, 20000); // Kamailio.start waits up to 10 s for its OPTIONS answer
  afterAll(async () => {
    await kamailio.stop();
  });

  it('registers: TRYING then READY, and unregisters on stop: SHUTDOWN', async () => {
    const line = lineFor(server);
    const seen = states(line);
    await line.start();
    await until(line, 'READY');
    await line.close();
    await line.close();
    expect(seen).toEqual(['TRYING', 'READY', 'SHUTDOWN']);
  });

  it('refreshes the registration before it expires', async () => {
    const accepted: string[] = [];
    const line = lineFor(server, { 'proxies.proxy0.reg_timeout': '3' }, '5321', (direction, message) => {
      if (direction === 'in' && /^SIP\/2\.0 200/.test(message) && /CSeq:\s*\d+ REGISTER/i.test(message)) accepted.push(/Contact:[^\r]*expires=(\d+)/i.exec(message)?.[1] ?? '?');
    });
    const seen = states(line);
    await line.start();
    await until(line, 'READY');
    // Registered with Expires 3, then refreshed: the refresh's 200 is waited for (it is due just
    // before the 3 s run out), and the line stayed READY through it.
    await waitFor(() => accepted.length >= 2, 10000, 'the refresh accepted');
    expect(line.state).toBe('READY');
    expect(seen).toEqual(['TRYING', 'READY']);
    expect(accepted[0]).toBe('3');
    await line.close();
  }, 20000);

  it('a wrong password gives FAILED with the registrar\'s reason', async () => {
    const line = lineFor(server, { 'proxies.proxy0.password': 'wrong', 'proxies.proxy0.reg_interval': '0' });
    await line.start();
    await until(line, 'FAILED');
    expect(line.reason).toMatch(/^(401|403)/);
    await line.close();
  });

  it('sends our User-Agent and, with an instance id, +sip.instance and reg-id in the REGISTER Contact', async () => {
    const registers: string[] = [];
    const config = EndpointConfig.defaults().with({ 'user:0': '5322', 'server:0': server, 'proxies.proxy0.reg_timeout': '60', 'proxies.proxy0.password': 'secret', ...sipPorts() });
    const line = new Line({
      connectivity: config.connectivities[0]!,
      context: lineContext(config),
      userAgentString: 'SipEndpointSDK-Node/test',
      instanceId: '00000000-0000-1000-8000-aabbcc001122',
      trace: (direction, message) => direction === 'out' && message.startsWith('REGISTER') && registers.push(message),
    });
    await line.start();
    await until(line, 'READY');
    await line.close();
    expect(registers[0]).toMatch(/^User-Agent: SipEndpointSDK-Node\/test\r$/m);
    expect(registers[0]).toMatch(/^Contact: <sip:5322@127\.0\.0\.1:\d+;transport=udp>;reg-id=1;\+sip\.instance="<urn:uuid:00000000-0000-1000-8000-aabbcc001122>";expires=60\r$/m);
  });

  it('registers again with the address the registrar saw when reg_match_received_rport is 1', async () => {
    const contacts: string[] = [];
    const registers: string[] = [];
    const config = EndpointConfig.defaults().with({ 'user:0': '5323', 'server:0': server, 'proxies.proxy0.reg_timeout': '60', 'proxies.proxy0.password': 'secret', 'proxies.proxy0.reg_match_received_rport': '1', ...sipPorts() });
    // We announce 127.0.0.2 but send from 127.0.0.1: Kamailio answers with received=127.0.0.1.
    const line = new Line({
      connectivity: config.connectivities[0]!,
      context: lineContext(config),
      contactHost: '127.0.0.2',
      trace: (direction, message) => {
        if (direction !== 'out' || !message.startsWith('REGISTER')) return;
        registers.push(message);
        // The address of the binding the REGISTER keeps (not the one it removes).
        contacts.push(/^Contact: <sip:5323@([^:;>]+)[^>]*>;expires=60\r$/m.exec(message)?.[1] ?? '');
      },
    });
    const seen = states(line);
    await line.start();
    await until(line, 'READY');
    await waitFor(() => contacts.includes('127.0.0.1'), 5000, 'a REGISTER with the address Kamailio saw');
    await line.close();
    expect(contacts[0]).toBe('127.0.0.2');
    expect(contacts).toContain('127.0.0.1');
    // The REGISTER with the new address removes the old binding (RFC 3261 10.2.2): the registrar
    // would otherwise go on routing calls to an address it cannot reach.
    const corrected = registers[contacts.indexOf('127.0.0.1')]!;
    expect(corrected.match(/^Contact: .*$/gm)).toEqual([expect.stringMatching(/^Contact: <sip:5323@127\.0\.0\.2:\d+;transport=udp>;expires=0$/), expect.stringMatching(/^Contact: <sip:5323@127\.0\.0\.1:\d+;transport=udp>;expires=60$/)]);
    // Once the server took it (the same REGISTER sent again with credentials after its challenge),
    // the old binding is not named again.
    const taken = registers.findIndex((register, i) => contacts[i] === '127.0.0.1' && /^Authorization: /m.test(register));
    expect(taken).toBeGreaterThanOrEqual(0);
    expect(registers.slice(taken + 1).flatMap((register) => register.match(/^Contact: .*127\.0\.0\.2.*$/gm) ?? [])).toEqual([]);
    expect(seen).toEqual(['TRYING', 'READY', 'SHUTDOWN']);
  });

  it('stays stand-alone with reg_timeout 0: no REGISTER', async () => {
    const line = lineFor(server, { 'proxies.proxy0.reg_timeout': '0' });
    await line.start();
    expect(line.state).toBe('STANDALONE');
    await line.close();
  });
});

describeIf('a line registering with Kamailio over TCP', () => {
  let kamailio: Kamailio;
  beforeAll(async () => {
    kamailio = await Kamailio.start(testPorts(1));
  }, 20000); // Kamailio.start waits up to 10 s for its OPTIONS answer
  afterAll(async () => {
    await kamailio.stop();
  });

  it('registers over TCP from a client port in tcp_port_min..tcp_port_max, with transport=tcp in Contact', async () => {
    const sent: string[] = [];
    const tcp = testPorts(10);
    const config = EndpointConfig.defaults().with({
      'user:0': '5330',
      'server:0': `127.0.0.1:${kamailio.port}`,
      'protocol:0': 'TCP',
      'proxies.proxy0.reg_timeout': '60',
      'proxies.proxy0.password': 'secret',
      ...sipPorts(),
      'policy.endpoint.tcp_port_min': String(tcp),
      'policy.endpoint.tcp_port_max': String(tcp + 9),
    });
    const line = new Line({ connectivity: config.connectivities[0]!, context: lineContext(config), trace: (direction, message, remote) => direction === 'out' && sent.push(`${remote.port} ${message.split('\r\n').find((l) => l.startsWith('Contact')) ?? ''}`) });
    await line.start();
    await until(line, 'READY');
    expect(sent[0]).toMatch(new RegExp(`^${kamailio.port} Contact: <sip:5330@127\\.0\\.0\\.1:\\d+;transport=tcp>`));
    await line.close();
    expect(line.state).toBe('SHUTDOWN');
  });
});

describeIf('a line whose registrar is down, then up', () => {
  it('goes FAILED and TRYING while the registrar is down, then READY once it is up', async () => {
    // The registrar's port: nothing there until Kamailio starts on it.
    const registrar = testPorts(1);
    const line = lineFor(`127.0.0.1:${registrar}`, { 'policy.endpoint.sip_transaction_timeout': '800' });
    const seen = states(line);
    await line.start();
    await until(line, 'FAILED');
    expect(line.reason).toMatch(/^408/);
    const kamailio = await Kamailio.start(registrar);
    try {
      await until(line, 'READY', 15000);
      expect(seen.slice(0, 3)).toEqual(['TRYING', 'FAILED', 'TRYING']);
      expect(seen.at(-1)).toBe('READY');
    } finally {
      await line.close();
      await kamailio.stop();
    }
  }, 30000);
});
