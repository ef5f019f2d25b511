import { createSocket } from 'node:dgram';
import { Endpoint } from '@sip-endpoint/endpoint-core';
import { testPorts, waitFor } from '@sip-endpoint/test-support';
import { standaloneConfig } from '../support/endpoints';
import { Kamailio, kamailioAvailable } from '../support/kamailio';

const describeIf = kamailioAvailable() ? describe : describe.skip;

describeIf('an endpoint with two Connectivity lines for one DN (disaster recovery)', () => {
  it('keeps the live site READY while the dead one retries, and places calls through the READY line', async () => {
    const kamailio = await Kamailio.start(testPorts(1));
    const live = `127.0.0.1:${kamailio.port}`;
    // The dead site: a socket that answers nothing and counts the REGISTER transactions (a new
    // branch is a new attempt; the same branch again is a retransmission).
    const deadSocket = createSocket('udp4');
    const attempts = new Set<string>();
    deadSocket.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('REGISTER ')) attempts.add(/branch=([^;\s]+)/.exec(text)?.[1] ?? '');
    });
    await new Promise<void>((resolve) => deadSocket.bind(testPorts(1), '127.0.0.1', resolve));
    const dead = `127.0.0.1:${deadSocket.address().port}`;
    // The test endpoint's configuration on 127.0.0.1, with two registering lines for one DN.
    const config = standaloneConfig('5400', testPorts(7), testPorts(50), {
      'server:0': dead,
      'user:1': '5400',
      'server:1': live,
      'proxies.proxy0.reg_timeout': '60',
      'proxies.proxy0.password': 'secret',
      'proxies.proxy0.reg_interval': '1',
      'proxies.proxy1.reg_timeout': '60',
      'proxies.proxy1.password': 'secret',
      'policy.endpoint.sip_transaction_timeout': '600',
    });
    const endpoint = new Endpoint({ config });
    const deadStates: string[] = [];
    endpoint.on('connectionStateChanged', (line, state) => line === 0 && deadStates.push(state));
    try {
      await endpoint.start();
      await waitFor(() => endpoint.lines[1]!.state === 'READY', 5000, 'the live line to register');
      // The dead site's REGISTER times out (sip_transaction_timeout 600 ms), and it retries: after
      // half a second, then every reg_interval (1 s), each time a new REGISTER transaction.
      await waitFor(() => deadStates.includes('FAILED'), 5000, 'the dead line to fail');
      await waitFor(() => attempts.size >= 3, 6000, 'three REGISTER attempts at the dead site');
      expect(deadStates.slice(0, 4)).toEqual(['TRYING', 'FAILED', 'TRYING', 'FAILED']);
      const connections = endpoint.session().connectivities.connections;
      expect(connections[1]).toEqual({ server: live, user: '5400', state: 'READY' });
      expect(['TRYING', 'FAILED']).toContain(connections[0]!.state);
      expect(endpoint.session().status).toBe('INITIALIZED');
      // An outgoing call goes through the READY line (Kamailio answers 404: nobody is registered as 9999).
      const call = await endpoint.makeCall('9999');
      expect(call.line).toBe(1);
      await waitFor(() => call.state === 'DISCONNECTED', 5000, 'the 404');
      expect(call.info().rejectedWith).toBe(404);
    } finally {
      await endpoint.stop();
      await kamailio.stop();
      deadSocket.close();
    }
  }, 20000);
});
