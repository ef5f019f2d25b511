import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { testPorts } from '@sip-endpoint/test-support';
import { standaloneEndpoint, waitFor } from '../support/endpoints';

// RFC 3261 8.2.2.2: a request without a To tag whose From tag, Call-ID and CSeq match a request
// of a server transaction in progress, arriving on another branch (a forked request merged at
// the UAS), gets 482 (Loop Detected). sip.js scanned every server transaction for it on every
// request (about 640 at 20 calls a second, each INVITE's kept 32 s after its 2xx); our patch keeps
// them indexed by that triple. What must hold either way is the rule itself.

const RAW_PORT = testPorts(1);
const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${testPorts(2)} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

function invite(port: number, call: { callId: string; fromTag: string; cseq: number; branch: string }): string {
  const lines = [
    `INVITE sip:agent@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${RAW_PORT};branch=z9hG4bK${call.branch};rport`,
    `From: <sip:tester@127.0.0.1>;tag=${call.fromTag}`,
    'To: <sip:agent@127.0.0.1>',
    `Call-ID: ${call.callId}`,
    `CSeq: ${call.cseq} INVITE`,
    `Contact: <sip:tester@127.0.0.1:${RAW_PORT}>`,
    'Max-Forwards: 70',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(SDP)}`,
  ];
  return [...lines, '', SDP].join('\r\n');
}

describe('merged requests (RFC 3261 8.2.2.2)', () => {
  let socket: Socket;
  const received: { status: number; branch: string }[] = [];

  beforeAll(async () => {
    socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(RAW_PORT, '127.0.0.1', resolve));
    socket.on('message', (data) => {
      const text = data.toString();
      const status = /^SIP\/2\.0 (\d{3})/.exec(text);
      const branch = /;branch=z9hG4bK([^;\s]+)/.exec(text)?.[1] ?? '';
      if (status) received.push({ status: Number(status[1]), branch });
    });
  });
  afterAll(() => socket.close());

  it('the same From tag, Call-ID and CSeq on another branch gets 482 while the first rings; another CSeq or From tag does not', async () => {
    const { endpoint } = standaloneEndpoint('agent', testPorts(7), testPorts(50), 0);
    await endpoint.start();
    try {
      const port = endpoint.lines[0]!.port!;
      const token = randomBytes(6).toString('hex');
      const first = { callId: `${token}@127.0.0.1`, fromTag: token, cseq: 1, branch: `${token}a` };
      const statuses = (branch: string): number[] => [...new Set(received.filter((r) => r.branch === branch).map((r) => r.status))];
      socket.send(invite(port, first), port, '127.0.0.1');
      await waitFor(() => statuses(first.branch).includes(180), 5000, 'the first INVITE rings');

      const merged = { ...first, branch: `${token}b` };
      socket.send(invite(port, merged), port, '127.0.0.1');
      await waitFor(() => statuses(merged.branch).length > 0, 5000, 'an answer to the merged INVITE');
      expect(statuses(merged.branch)).toEqual([482]);

      // The same Call-ID with another From tag (another caller's leg) is a call of its own.
      const otherTag = { ...first, fromTag: `${token}x`, branch: `${token}c` };
      socket.send(invite(port, otherTag), port, '127.0.0.1');
      await waitFor(() => statuses(otherTag.branch).length > 0, 5000, 'an answer to the INVITE with another From tag');
      expect(statuses(otherTag.branch)).not.toContain(482);
      // The same leg's next CSeq is not merged either.
      const nextCseq = { ...first, cseq: 2, branch: `${token}d` };
      socket.send(invite(port, nextCseq), port, '127.0.0.1');
      await waitFor(() => statuses(nextCseq.branch).length > 0, 5000, 'an answer to the next CSeq');
      expect(statuses(nextCseq.branch)).not.toContain(482);
      // The first call rings on.
      expect(endpoint.calls.some((call) => call.state === 'RINGING')).toBe(true);
    } finally {
      await endpoint.stop();
    }
  }, 20_000);
});
