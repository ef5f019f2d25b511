import { createSocket } from 'node:dgram';
import { testPorts } from '@sip-endpoint/test-support';
import { bindSipUdp } from '../../src/transport/udp-transport';

// The SIP socket hands a datagram to the kernel within send() when the address is an IP literal
// (lookupLiteral): a response leaves before the work that follows it in the same turn (the
// answer's stream is made right after the 200). Shown by changing the buffer right after send():
// with Node's default lookup the datagram would leave a tick later, carrying the changed bytes.
describe('the SIP UDP socket', () => {
  it('sends an IP literal\'s datagram before send() returns', async () => {
    const base = testPorts(8);
    const sip = await bindSipUdp('127.0.0.1', base, base + 3);
    const receiver = createSocket('udp4');
    await new Promise<void>((resolve) => receiver.bind(base + 4, '127.0.0.1', resolve));
    const received: string[] = [];
    receiver.on('message', (data) => received.push(data.toString()));
    try {
      const buffer = Buffer.from('SIP/2.0 200 OK');
      sip.send(buffer, base + 4, '127.0.0.1');
      buffer.write('CHANGED-AFTERWARDS');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(received).toEqual(['SIP/2.0 200 OK']);
    } finally {
      sip.close();
      receiver.close();
    }
  });
});
