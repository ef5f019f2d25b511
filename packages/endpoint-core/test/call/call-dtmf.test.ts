import { testPorts } from '@sip-endpoint/test-support';
import { DtmfNotSentError, type Call } from '@sip-endpoint/endpoint-core';
import { standaloneEndpoint, waitFor } from '../support/endpoints';

/** Alice calls Bob, who answers by policy; both stand-alone on 127.0.0.1. */
async function connected(): Promise<{ call: Call; heard: string[]; stop: () => Promise<void> }> {
  const alice = standaloneEndpoint('7101', testPorts(8), testPorts(50), 900);
  const bob = standaloneEndpoint('7102', testPorts(8), testPorts(50), 500, { 'policy.session.auto_answer': '1' });
  await alice.endpoint.start();
  await bob.endpoint.start();
  const heard: string[] = [];
  bob.endpoint.on('dtmf', (_call, event) => heard.push(`${event.digit}:${event.source}`));
  const call = await alice.endpoint.makeCall(`sip:7102@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
  await waitFor(() => call.state === 'CONNECTED' && call.media.stream !== undefined, 5000, 'the call');
  return {
    call,
    heard,
    stop: async () => {
      await alice.endpoint.stop();
      await bob.endpoint.stop();
    },
  };
}

describe('call.sendDtmf', () => {
  it('resolves once the digits have gone out, not before', async () => {
    const { call, heard, stop } = await connected();
    try {
      const started = Date.now();
      await call.sendDtmf('123');
      // Three RFC 4733 events of 100 ms, their end packets and 60 ms gaps.
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      await waitFor(() => heard.length === 3, 5000, 'three digits at Bob');
      expect(heard).toEqual(['1:rfc4733', '2:rfc4733', '3:rfc4733']);
    } finally {
      await stop();
    }
  }, 20000);

  it('keeps the order across methods: an INFO digit asked for after RFC 2833 digits goes after them', async () => {
    const { call, heard, stop } = await connected();
    try {
      const first = call.sendDtmf('45');
      const second = call.sendDtmf('#', { method: 'info' });
      await Promise.all([first, second]);
      await waitFor(() => heard.length === 3, 5000, 'three digits at Bob');
      expect(heard).toEqual(['4:rfc4733', '5:rfc4733', '#:info']);
    } finally {
      await stop();
    }
  }, 20000);

  it('rejects with DtmfNotSentError naming the digits not sent when the call is hung up first', async () => {
    const { call, stop } = await connected();
    try {
      const sending = call.sendDtmf('67');
      const queued = call.sendDtmf('8', { method: 'info' });
      await call.hangup();
      const error = await sending.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DtmfNotSentError);
      expect(error).toMatchObject({ code: 'ERR_SIP_DTMF_NOT_SENT', unsent: '67' });
      await expect(queued).rejects.toMatchObject({ code: 'ERR_SIP_DTMF_NOT_SENT', unsent: '8' });
    } finally {
      await stop();
    }
  }, 20000);
});
