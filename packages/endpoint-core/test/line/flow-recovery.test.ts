// @serial-test: a sipp scenario expects each message in its order; a slowed endpoint retransmits and breaks it. Runs alone, after the others (scripts/run-jest.cjs).
import type { Server } from 'node:net';
import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { standaloneConfig, waitFor } from '../support/endpoints';
import { holdPort } from '../support/hold-port';
import { Kamailio, kamailioAvailable } from '../support/kamailio';
import { assertSippPassed, runSipp, sippAvailable } from '../support/sipp';
import { ESTABLISH, recv, RESPONSE, scenario, send } from '../support/sipp-scenario';
import { makeTestCertificates, type TestCertificates } from '../support/tls-certificates';

// A TLS line without a certificate of its own, or a WS line, has no listening port: Kamailio
// reaches it only over the connection it opened, whose port is in its Contact. When that
// connection is lost, the line connects again from another port and registers that Contact; its
// call's far end would still send its BYE to the old one, which nobody can reach. The call sends
// the new Contact in a re-INVITE (a target refresh), so that the far end's requests reach it.

const describeIf = kamailioAvailable() && sippAvailable() ? describe : describe.skip;

const SIP = testPorts(3);
const TLS = SIP + 1;
const WS = SIP + 2;

describeIf('a call on a line reached only over its own connection, when the connection is lost', () => {
  let kamailio: Kamailio;
  let certificates: TestCertificates;
  const startKamailio = (): Promise<Kamailio> => Kamailio.start(SIP, 'secret', { tls: { port: TLS, certificate: certificates.serverCertificate, key: certificates.serverKey }, ws: { port: WS } });
  beforeAll(async () => {
    certificates = makeTestCertificates(['127.0.0.1']);
    kamailio = await startKamailio();
  }, 20000);
  afterAll(async () => {
    await kamailio?.stop();
  });

  /** An auto-answering agent whose line registers to Kamailio over `protocol`, with no listening port; its log kept. */
  function agentOn(protocol: string, port: number, user: string): { agent: Endpoint; log: string[] } {
    const tcp = testPorts(10);
    const log: string[] = [];
    const agent = new Endpoint({
      config: standaloneConfig(user, testPorts(7), testPorts(50), {
        'server:0': `127.0.0.1:${port}`,
        'protocol:0': protocol,
        'proxies.proxy0.reg_timeout': '60',
        'proxies.proxy0.password': 'secret',
        'proxies.proxy0.reg_interval': '0',
        'policy.endpoint.tcp_port_min': String(tcp),
        'policy.endpoint.tcp_port_max': String(tcp + 9),
        'policy.session.auto_answer': '1',
        ...(protocol === 'TLS' ? { 'system.security.certificate': certificates.caCertificate } : {}),
      }),
      logger: (_level, message) => log.push(message),
    });
    return { agent, log };
  }

  /** Kamailio restarted while the line's old port is taken (a NAT would give the new connection another port anyway). */
  async function loseConnection(firstPort: number): Promise<Server> {
    await kamailio.stop();
    const blocker = await holdPort(firstPort);
    kamailio = await startKamailio();
    return blocker;
  }

  it.each([
    ['TLS', TLS, '5440'],
    ['WS', WS, '5450'],
  ])('%s: the line connects and registers again, the call sends its new Contact, and the far end\'s BYE reaches it', async (protocol, port, user) => {
    const { agent, log } = agentOn(protocol, port, user);
    const caller = new Endpoint({ config: standaloneConfig(`${user}1`, testPorts(7), testPorts(50), { 'server:0': `127.0.0.1:${SIP}`, 'proxies.proxy0.reg_timeout': '60', 'proxies.proxy0.password': 'secret' }) });
    await Promise.all([agent.start(), caller.start()]);
    let blocker: Server | undefined;
    try {
      await waitFor(() => agent.lines[0]!.state === 'READY' && caller.lines[0]!.state === 'READY', 8000, 'both lines registered');
      let answered: Call | undefined;
      agent.on('incomingCall', (call) => (answered ??= call));
      const call = await caller.makeCall(user);
      await waitFor(() => call.state === 'CONNECTED' && answered?.state === 'CONNECTED', 8000, 'the call connected');
      // The ACK of the agent's 200 came: no INVITE exchange is open when the connection goes.
      await waitFor(() => log.some((line) => /received ACK request/.test(line)), 5000, 'the ACK of the agent\'s 200');
      const firstPort = agent.lines[0]!.port;

      // Kamailio goes away with every connection, and comes back on the same ports: the line
      // reconnects from another port.
      blocker = await loseConnection(firstPort!);
      await waitFor(() => agent.lines[0]!.port !== firstPort && agent.lines[0]!.state === 'READY', 15000, 'the line registered again from a new port');
      await waitFor(() => log.some((line) => /given the new Contact .*re-INVITE answered 2xx/.test(line)), 8000, 'the call to send its new Contact');
      expect(log.find((line) => line.includes('given the new Contact'))).toContain(`:${agent.lines[0]!.port};transport=${protocol.toLowerCase()}`);
      expect(answered!.state).toBe('CONNECTED');
      expect(call.state).toBe('CONNECTED');

      // The far end hangs up: its BYE goes to the new Contact, over the line's new connection.
      await call.hangup();
      await waitFor(() => answered!.state === 'DISCONNECTED', 5000, 'the far end\'s BYE to reach the agent');
      expect(answered!.endReason).toBeUndefined();
    } finally {
      blocker?.close();
      await Promise.all([agent.stop(), caller.stop()]);
    }
  }, 60000);

  it('a far end that no longer knows the call answers the target refresh 481: the call ends, with the reason', async () => {
    const { agent, log } = agentOn('TLS', TLS, '5460');
    await agent.start();
    let blocker: Server | undefined;
    try {
      await waitFor(() => agent.lines[0]!.state === 'READY', 8000, 'the line registered');
      let answered: Call | undefined;
      agent.on('incomingCall', (call) => (answered ??= call));
      const sipp = runSipp({
        scenario: scenario('a far end that forgets the call', [
          ...ESTABLISH(),
          recv('request="INVITE"', [], ' timeout="25000"'),
          send(RESPONSE('481 Call/Transaction Does Not Exist')),
          '<recv request="ACK" optional="true"/>',
          recv('request="BYE"', [], ' timeout="10000"'),
          send(RESPONSE('200 OK')),
        ]),
        remotePort: SIP,
        localPort: testPorts(1),
        service: '5460',
        timeoutS: 40,
      });
      await waitFor(() => answered?.state === 'CONNECTED' && log.some((line) => /received ACK request/.test(line)), 8000, 'the call connected and acknowledged');
      blocker = await loseConnection(agent.lines[0]!.port!);
      await waitFor(() => answered!.state === 'DISCONNECTED', 20000, 'the call to end');
      expect(answered!.endReason).toMatch(/signalling was lost with the line's connection: target refresh answered 481/);
      assertSippPassed(await sipp);
    } finally {
      blocker?.close();
      await agent.stop();
    }
  }, 60000);
});
