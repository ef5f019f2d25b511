import type { Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { Endpoint } from '@sip-endpoint/endpoint-core';
import { DefaultPolicy, type AnswerContext, type AnswerDecision } from '@sip-endpoint/policy';
import { testPorts } from '@sip-endpoint/test-support';
import { standaloneEndpoint, waitFor } from '../support/endpoints';
import { rawInvite, rawSipSocket, type RawResponse } from '../support/raw-sip';

// RFC 3261 17.2.1: an INVITE server transaction sends 100 Trying unless the application responds
// within 200 ms. Our patch of sip.js sends it once the INVITE's handling yields to I/O, when no
// response has gone by then: an auto-answer's 200 and a ringing call's 180, made at once, go
// without one before them; an application that takes its time (a policy asking a server) gets
// the 100 out at once, and the caller's INVITE is not retransmitted.

const RAW_PORT = testPorts(1);
const MEDIA_PORT = testPorts(2);

/** A policy that takes `ms` to decide to answer (a host asking its own server, say). */
class SlowPolicy extends DefaultPolicy {
  constructor(private readonly ms: number) {
    super();
  }

  override async shouldAnswer(ctx: AnswerContext): Promise<AnswerDecision> {
    await new Promise((resolve) => setTimeout(resolve, this.ms));
    return super.shouldAnswer(ctx);
  }
}

function invite(port: number): { text: string; callId: string } {
  const token = randomBytes(6).toString('hex');
  const callId = `${token}@127.0.0.1`;
  return { text: rawInvite({ port, rawPort: RAW_PORT, mediaPort: MEDIA_PORT, callId, fromTag: token, branch: token }), callId };
}

describe('100 Trying', () => {
  let socket: Socket;
  let received: RawResponse[] = [];

  beforeAll(async () => {
    ({ socket, responses: received } = await rawSipSocket(RAW_PORT));
  });
  afterAll(() => socket.close());

  /** Sends an INVITE to `endpoint`; the statuses it got back within `ms`, with their times after the send. */
  async function responses(endpoint: Endpoint, ms: number): Promise<{ status: number; afterMs: number }[]> {
    const { text, callId } = invite(endpoint.lines[0]!.port!);
    const sent = performance.now();
    socket.send(text, endpoint.lines[0]!.port!, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, ms));
    return received.filter((r) => r.callId === callId).map((r) => ({ status: r.status, afterMs: r.at - sent }));
  }

  it.each([
    ['an auto-answered INVITE gets its 200 without a 100', { 'policy.session.auto_answer': '1' }, [200]],
    ['a ringing INVITE gets its 180 without a 100', {}, [180]],
  ])('%s', async (_name, settings, statuses) => {
    const { endpoint } = standaloneEndpoint('agent', testPorts(7), testPorts(50), 0, settings);
    await endpoint.start();
    try {
      // An endpoint's first call may wait for work done once (what is loaded at first use), and
      // that INVITE may then get its 100: the second is the one judged.
      await responses(endpoint, 400);
      const got = await responses(endpoint, 400);
      // The 200 of our auto-answer is retransmitted until an ACK (none comes here): count each status once.
      expect([...new Set(got.map((r) => r.status))]).toEqual(statuses);
    } finally {
      await endpoint.stop();
    }
  }, 15_000);

  it('an INVITE the application takes 400 ms to decide on gets a 100 at once, then its 200', async () => {
    const { endpoint } = standaloneEndpoint('agent', testPorts(7), testPorts(50), 0, { 'policy.session.auto_answer': '1' }, { policy: new SlowPolicy(400) });
    await endpoint.start();
    try {
      const got = await responses(endpoint, 900);
      await waitFor(() => got.length > 0, 1000, 'responses');
      expect(got[0]!.status).toBe(100);
      // At once: well before the 400 ms (and T1's 500 ms, after which the INVITE would be sent again).
      expect(got[0]!.afterMs).toBeLessThan(200);
      expect(got.filter((r) => r.status === 100)).toHaveLength(1);
      expect(got.some((r) => r.status === 200 && r.afterMs >= 395)).toBe(true);
    } finally {
      await endpoint.stop();
    }
  }, 15_000);
});
