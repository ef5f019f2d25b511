import { createSocket } from 'node:dgram';
import { testPorts } from '@sip-endpoint/test-support';
import { Endpoint, InvalidArgumentError, LineNotReadyError } from '@sip-endpoint/endpoint-core';
import { Kamailio, kamailioAvailable } from './support/kamailio';
import { standaloneConfig, waitFor } from './support/endpoints';

const describeIf = kamailioAvailable() ? describe : describe.skip;

/** An endpoint of one line that registers as `user` with the registrar at `server`. */
function registering(user: string, server: string, settings: Record<string, string> = {}): Endpoint {
  return new Endpoint({ config: standaloneConfig(user, testPorts(8), testPorts(50), { 'server:0': server, 'proxies.proxy0.reg_timeout': '60', 'proxies.proxy0.password': 'secret', ...settings }) });
}

describeIf('makeCall right after start(), while the line registers with Kamailio', () => {
  let kamailio: Kamailio;
  beforeAll(async () => {
    kamailio = await Kamailio.start(testPorts(1));
  }, 20000); // Kamailio.start waits up to 10 s for its OPTIONS answer
  afterAll(async () => {
    await kamailio.stop();
  });

  it('waits for the line to be READY, then calls (the README snippet: start, then makeCall at once)', async () => {
    const agent = registering('5412', `127.0.0.1:${kamailio.port}`, { 'policy.session.auto_answer': '1' });
    const caller = registering('5411', `127.0.0.1:${kamailio.port}`);
    await agent.start();
    await waitFor(() => agent.lines[0]!.state === 'READY', 5000, 'the agent registered');
    await caller.start();
    try {
      expect(caller.lines[0]!.state).toBe('TRYING');
      const call = await caller.makeCall('5412');
      expect(caller.lines[0]!.state).toBe('READY');
      await waitFor(() => call.state === 'CONNECTED', 5000, 'the call');
      await call.hangup();
    } finally {
      await caller.stop();
      await agent.stop();
    }
  }, 20000);
});

describe('makeCall on a line that cannot call', () => {
  it('a registrar that never answers: waits readyTimeoutMs, then LineNotReadyError naming the state; a signal cancels sooner', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(testPorts(1), '127.0.0.1', resolve));
    const caller = registering('5421', `127.0.0.1:${silent.address().port}`);
    await caller.start();
    try {
      const started = Date.now();
      const error = await caller.makeCall('5422', { readyTimeoutMs: 300 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(LineNotReadyError);
      expect((error as LineNotReadyError).state).toBe('TRYING');
      expect((error as Error).message).toMatch(/line 0 cannot place calls while it is TRYING after waiting 300 ms: wait until it is READY/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      const controller = new AbortController();
      const cancelled = caller.makeCall('5422', { signal: controller.signal }).catch((caught: unknown) => caught);
      controller.abort(new Error('the agent hung up first'));
      expect(await cancelled).toEqual(new Error('the agent hung up first'));
      await expect(caller.makeCall('5422', { readyTimeoutMs: 0 })).rejects.toBeInstanceOf(LineNotReadyError);
      await expect(caller.makeCall('not a target')).rejects.toBeInstanceOf(InvalidArgumentError);
      // stop() with the REGISTER still unanswered does not wait for its transaction timeout (32 s):
      // it gives the user agent 2 s. The bound is ten times that, and still far below 32 s.
      const stopping = Date.now();
      await caller.stop();
      expect(Date.now() - stopping).toBeLessThan(20000);
    } finally {
      await caller.stop();
      silent.close();
    }
  }, 60000);

  it('a line that failed and will not retry (reg_interval 0) fails at once with the registrar\'s reason', async () => {
    const refusing = createSocket('udp4');
    refusing.on('message', (data, remote) => {
      const head = data.toString().split('\r\n\r\n')[0]!.split('\r\n');
      const header = (name: string) => head.filter((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((line) => line.slice(name.length + 1).trim());
      refusing.send([`SIP/2.0 403 Forbidden`, ...header('Via').map((via) => `Via: ${via}`), `From: ${header('From')[0]}`, `To: ${header('To')[0]};tag=r`, `Call-ID: ${header('Call-ID')[0]}`, `CSeq: ${header('CSeq')[0]}`, 'Content-Length: 0', '', ''].join('\r\n'), remote.port, remote.address);
    });
    await new Promise<void>((resolve) => refusing.bind(testPorts(1), '127.0.0.1', resolve));
    const caller = registering('5431', `127.0.0.1:${refusing.address().port}`, { 'proxies.proxy0.reg_interval': '0' });
    const reasons: (string | undefined)[] = [];
    caller.on('connectionStateChanged', (_line, state, _previous, reason) => state === 'FAILED' && reasons.push(reason));
    await caller.start();
    try {
      await waitFor(() => caller.lines[0]!.state === 'FAILED', 5000, 'FAILED');
      expect(reasons).toEqual(['403 Forbidden']);
      expect(caller.session().connectivities.connections).toEqual([expect.objectContaining({ state: 'FAILED', reason: '403 Forbidden' })]);
      // At once: rejected before the event loop turns, however slow the machine (a wait for READY
      // needs a timer or a state change, and would end with "after waiting 32000 ms").
      const outcome = caller.makeCall('5432').then(() => 'a call', (caught: unknown) => caught);
      const error = await Promise.race([outcome, new Promise((resolve) => setImmediate(() => resolve('still waiting')))]);
      expect(error).toBeInstanceOf(LineNotReadyError);
      expect((error as Error).message).toMatch(/line 0 cannot place calls while it is FAILED \(403 Forbidden\): check the registrar/);
    } finally {
      await caller.stop();
      refusing.close();
    }
  }, 20000);
});
