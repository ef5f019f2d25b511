import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { Call } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { standaloneEndpoint, waitFor } from '../support/endpoints';

/** A stand-alone endpoint with a block of 7 SIP ports and 50 RTP ports of this jest worker's range. */
const endpoint = (user: string) => standaloneEndpoint(user, testPorts(7), testPorts(50)).endpoint;

/** Sends an out-of-dialog NOTIFY as SIP Server does, and resolves with the response's status. */
async function notify(port: number, user: string, event: string): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const local = socket.address().port;
  const token = randomBytes(6).toString('hex');
  const message = [
    `NOTIFY sip:${user}@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${token};rport`,
    `From: <sip:sipserver@127.0.0.1>;tag=${token}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${token}@127.0.0.1`,
    'CSeq: 1 NOTIFY',
    `Event: ${event}`,
    'Max-Forwards: 70',
    `Contact: <sip:sipserver@127.0.0.1:${local}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no response to NOTIFY')), 2000);
      socket.on('message', (data) => {
        const status = /^SIP\/2\.0 (\d{3})/.exec(data.toString())?.[1];
        if (status && Number(status) >= 200) {
          clearTimeout(timer);
          resolve(Number(status));
        }
      });
      socket.send(message, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

describe('third-party call control by NOTIFY, as SIP Server sends it', () => {
  it('Event: talk answers a ringing call, Event: hold holds it, Event: talk retrieves it; another event is refused', async () => {
    const alice = endpoint('3001');
    const agent = endpoint('3002');
    await alice.start();
    await agent.start();
    try {
      const ringing: Call[] = [];
      agent.on('incomingCall', (call) => ringing.push(call));
      const agentPort = agent.lines[0]!.port!;
      const call = await alice.makeCall(`sip:3002@127.0.0.1:${agentPort}`);
      await waitFor(() => ringing[0]?.state === 'RINGING');

      expect(await notify(agentPort, '3002', 'talk')).toBe(200);
      await waitFor(() => call.state === 'CONNECTED' && ringing[0]!.state === 'CONNECTED');

      expect(await notify(agentPort, '3002', 'hold')).toBe(200);
      await waitFor(() => ringing[0]!.state === 'HELD');

      expect(await notify(agentPort, '3002', 'talk')).toBe(200);
      await waitFor(() => ringing[0]!.state === 'CONNECTED');

      expect(await notify(agentPort, '3002', 'conference')).toBe(489);
      await call.hangup();
      await waitFor(() => ringing[0]!.state === 'DISCONNECTED');
      expect(await notify(agentPort, '3002', 'talk')).toBe(481);
    } finally {
      await alice.stop();
      await agent.stop();
    }
  }, 20000);
});
