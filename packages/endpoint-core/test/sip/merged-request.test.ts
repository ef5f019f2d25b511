import type { Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { testPorts } from '@sip-endpoint/test-support';
import { standaloneEndpoint, waitFor } from '../support/endpoints';
import { rawInvite, rawSipSocket, type RawResponse } from '../support/raw-sip';

// RFC 3261 8.2.2.2: a request without a To tag whose From tag, Call-ID and CSeq match a request
// of a server transaction in progress, arriving on another branch (a forked request merged at
// the UAS), gets 482 (Loop Detected). sip.js scanned every server transaction for it on every
// request (about 640 at 20 calls a second, each INVITE's kept 32 s after its 2xx); our patch keeps
// them indexed by that triple. What must hold either way is the rule itself.

const RAW_PORT = testPorts(1);
const MEDIA_PORT = testPorts(2);

function invite(port: number, call: { callId: string; fromTag: string; cseq: number; branch: string }): string {
  return rawInvite({ port, rawPort: RAW_PORT, mediaPort: MEDIA_PORT, ...call });
}

describe('merged requests (RFC 3261 8.2.2.2)', () => {
  let socket: Socket;
  let received: RawResponse[] = [];

  beforeAll(async () => {
    ({ socket, responses: received } = await rawSipSocket(RAW_PORT));
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
