import { EndpointConfig } from '@sip-endpoint/config';
import { Endpoint } from '@sip-endpoint/endpoint-core';
import { Kamailio, kamailioAvailable } from '../support/kamailio';

const describeIf = kamailioAvailable() ? describe : describe.skip;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeIf('an endpoint with two Connectivity lines for one DN (disaster recovery)', () => {
  it('keeps the live site READY while the dead one retries, and places calls through the READY line', async () => {
    const kamailio = await Kamailio.start(45295);
    const config = EndpointConfig.defaults().with({
      'user:0': '5400',
      'server:0': '127.0.0.1:45296', // nobody there
      'user:1': '5400',
      'server:1': '127.0.0.1:45295',
      'proxies.proxy0.reg_timeout': '60',
      'proxies.proxy0.password': 'secret',
      'proxies.proxy0.reg_interval': '1',
      'proxies.proxy1.reg_timeout': '60',
      'proxies.proxy1.password': 'secret',
      'policy.endpoint.sip_transaction_timeout': '600',
      'policy.endpoint.public_address': '127.0.0.1',
      'policy.endpoint.sip_port_min': '46900',
      'policy.endpoint.sip_port_max': '46906',
      'policy.endpoint.rtp_port_min': '47100',
      'policy.endpoint.rtp_port_max': '47199',
    });
    const endpoint = new Endpoint({ config });
    try {
      await endpoint.start();
      for (let i = 0; i < 100 && endpoint.lines[1]!.state !== 'READY'; i++) await sleep(20);
      await sleep(800);
      const connections = endpoint.session().connectivities.connections;
      expect(connections[1]).toEqual({ server: '127.0.0.1:45295', user: '5400', state: 'READY' });
      expect(['TRYING', 'FAILED']).toContain(connections[0]!.state);
      expect(endpoint.session().status).toBe('INITIALIZED');
      // An outgoing call goes through the READY line (Kamailio answers 404: nobody is registered as 9999).
      const call = await endpoint.makeCall('9999');
      expect(call.line).toBe(1);
      for (let i = 0; i < 100 && call.state !== 'DISCONNECTED'; i++) await sleep(20);
      expect(call.info().rejectedWith).toBe(404);
    } finally {
      await endpoint.stop();
      await kamailio.stop();
    }
  }, 15000);
});
