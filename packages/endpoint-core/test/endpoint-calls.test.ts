import type { DtmfEvent } from '@sip-endpoint/media';
import { dominantFrequency } from '@sip-endpoint/media/testing';
import type { Call } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { readdirSync } from 'node:fs';
import { standaloneEndpoint, untilRecorded, waitFor } from './support/endpoints';

/** A stand-alone endpoint with a block of 7 SIP ports and 50 RTP ports of this jest worker's range. */
const endpoint = (user: string, frequency: number, settings: Record<string, string> = {}, options: { spareRtpPorts?: number } = {}) => standaloneEndpoint(user, testPorts(7), testPorts(50), frequency, settings, options);
const descriptors = (): number => readdirSync('/proc/self/fd').length;

describe('two endpoints on 127.0.0.1 in stand-alone mode', () => {
  it('Alice calls, Bob auto-answers by policy; audio both ways, DTMF by RFC 2833 and INFO, hold, retrieve, hang-up', async () => {
    const alice = endpoint('1001', 1000);
    const bob = endpoint('1002', 600, { 'policy.session.auto_answer': '1' });
    await alice.endpoint.start();
    await bob.endpoint.start();
    try {
      expect(alice.endpoint.session().connectivities.connections).toEqual([{ server: '127.0.0.1:5060', user: '1001', state: 'STANDALONE' }]);
      expect(alice.endpoint.session().status).toBe('INITIALIZED');
      const incoming: Call[] = [];
      bob.endpoint.on('incomingCall', (call) => incoming.push(call));
      const call = await alice.endpoint.makeCall(`sip:1002@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'CONNECTED');
      expect(incoming).toHaveLength(1);
      expect(incoming[0]!.state).toBe('CONNECTED');
      await untilRecorded(0.8, alice.devices, bob.devices);

      const heardByAlice = alice.devices.recording('speaker');
      const heardByBob = bob.devices.recording('speaker');
      expect(dominantFrequency(heardByAlice.samples.subarray(heardByAlice.sampleRate * 0.4), heardByAlice.sampleRate)).toBe(600);
      expect(dominantFrequency(heardByBob.samples.subarray(heardByBob.sampleRate * 0.4), heardByBob.sampleRate)).toBe(1000);
      expect(call.info()).toMatchObject({ direction: 'outgoing', state: 'CONNECTED', codec: 'PCMU/8000', line: 0 });
      expect(alice.endpoint.session().phone.calls).toEqual([{ uuid: call.id, state: 'CONNECTED', security: 'none' }]);

      const digits: DtmfEvent[] = [];
      bob.endpoint.on('dtmf', (_call, event) => digits.push(event));
      await call.sendDtmf('12');
      await waitFor(() => digits.length >= 2, 5000, 'the RFC 2833 digits (reported when each ends)');
      await call.sendDtmf('#', { method: 'info' });
      await waitFor(() => digits.length >= 3, 5000, 'the INFO digit');
      expect(digits.map((d) => `${d.digit}:${d.source}`)).toEqual(['1:rfc4733', '2:rfc4733', '#:info']);

      await call.hold();
      expect(call.state).toBe('HELD');
      await call.retrieve();
      expect(call.state).toBe('CONNECTED');

      await call.hangup();
      await waitFor(() => incoming[0]!.state === 'DISCONNECTED');
      expect(alice.endpoint.calls).toEqual([]);
    } finally {
      await alice.endpoint.stop();
      await bob.endpoint.stop();
    }
  }, 20000);

  it.each([
    ['by default each endpoint keeps one RTP socket pair bound after its first call, for the next answer', undefined, 4],
    ['with spareRtpPorts 0 nothing stays bound between calls', 0, 0],
  ])('%s; stop gives every descriptor back', async (_name, spareRtpPorts, heldDescriptors) => {
    const start = descriptors();
    const alice = endpoint('1101', 1000, {}, spareRtpPorts === undefined ? {} : { spareRtpPorts });
    const bob = endpoint('1102', 600, { 'policy.session.auto_answer': '1' }, spareRtpPorts === undefined ? {} : { spareRtpPorts });
    await alice.endpoint.start();
    await bob.endpoint.start();
    try {
      const idle = descriptors();
      for (let round = 0; round < 3; round++) {
        const call = await alice.endpoint.makeCall(`sip:1102@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
        await waitFor(() => call.state === 'CONNECTED', 5000, `call ${round} connected`);
        await untilRecorded(0.2, alice.devices, bob.devices);
        await call.hangup();
        await waitFor(() => alice.endpoint.calls.length === 0 && bob.endpoint.calls.length === 0, 5000, `call ${round} over`);
        // Between calls: the pairs bound ahead (two descriptors each), and nothing else.
        await waitFor(() => descriptors() === idle + heldDescriptors, 2000, `descriptors ${descriptors()} after call ${round}, expected ${idle} + ${heldDescriptors}`);
      }
    } finally {
      await alice.endpoint.stop();
      await bob.endpoint.stop();
    }
    await waitFor(() => descriptors() <= start, 2000, `descriptors ${descriptors()} back to ${start} once stopped`);
  }, 30000);

  it('sets up a call from an INVITE without SDP: our offer in the 200 OK, the answer in the ACK', async () => {
    const alice = endpoint('4001', 800);
    const bob = endpoint('4002', 500, { 'policy.session.auto_answer': '1' });
    await alice.endpoint.start();
    await bob.endpoint.start();
    try {
      const call = await alice.endpoint.makeCall(`sip:4002@127.0.0.1:${bob.endpoint.lines[0]!.port}`, { delayedOffer: true });
      await waitFor(() => call.state === 'CONNECTED');
      await untilRecorded(0.7, alice.devices, bob.devices);
      const heardByAlice = alice.devices.recording('speaker');
      const heardByBob = bob.devices.recording('speaker');
      expect(dominantFrequency(heardByAlice.samples.subarray(heardByAlice.sampleRate * 0.3), heardByAlice.sampleRate)).toBe(500);
      expect(dominantFrequency(heardByBob.samples.subarray(heardByBob.sampleRate * 0.3), heardByBob.sampleRate)).toBe(800);
      await call.hangup();
    } finally {
      await alice.endpoint.stop();
      await bob.endpoint.stop();
    }
  }, 15000);

  it('rejects by policy with sip_code_when_headset_na when the headset is required and absent, and lets a call ring otherwise', async () => {
    const alice = endpoint('2001', 1000);
    const bob = endpoint('2002', 600, { 'policy.device.use_headset': '1', 'policy.device.headset_name': 'Plantronics', 'policy.session.reject_session_when_headset_na': '1', 'policy.session.sip_code_when_headset_na': '486' });
    const carol = endpoint('2003', 700);
    await Promise.all([alice.endpoint.start(), bob.endpoint.start(), carol.endpoint.start()]);
    try {
      const rejected = await alice.endpoint.makeCall(`sip:2002@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
      await waitFor(() => rejected.state === 'DISCONNECTED');
      expect(rejected.info().rejectedWith).toBe(486);
      // Bob's outgoing calls are refused too.
      await expect(bob.endpoint.makeCall('sip:2001@127.0.0.1')).rejects.toMatchObject({ code: 'ERR_SIP_CALL_REFUSED' });

      const ringing: Call[] = [];
      carol.endpoint.on('incomingCall', (call) => ringing.push(call));
      const call = await alice.endpoint.makeCall(`sip:2003@127.0.0.1:${carol.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'ALERTING');
      expect(ringing[0]!.state).toBe('RINGING');
      await ringing[0]!.answer();
      await waitFor(() => call.state === 'CONNECTED');
      await ringing[0]!.hangup();
      await waitFor(() => call.state === 'DISCONNECTED');
    } finally {
      await Promise.all([alice.endpoint.stop(), bob.endpoint.stop(), carol.endpoint.stop()]);
    }
  }, 20000);
});
