import { dominantFrequency, rms } from '@sip-endpoint/media/testing';
import { TransferFailedError, type Call, type Endpoint } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { recorded, standaloneEndpoint, untilRecorded, waitFor } from '../support/endpoints';

const uriOf = (user: string, endpoint: Endpoint): string => `sip:${user}@127.0.0.1:${endpoint.lines[0]!.port}`;

/** The dominant frequency of the last `seconds` a virtual speaker played. */
function lastHeard(recording: { samples: Int16Array; sampleRate: number }, seconds = 0.3): number {
  return dominantFrequency(recording.samples.subarray(recording.samples.length - Math.round(recording.sampleRate * seconds)), recording.sampleRate);
}

describe('transfers between three stand-alone endpoints', () => {
  it('blind: Bob REFERs Alice to Carol; Alice calls Carol, Bob hangs up on the final NOTIFY, audio flows between Alice and Carol', async () => {
    const alice = standaloneEndpoint('7001', testPorts(7), testPorts(50), 1000);
    const bob = standaloneEndpoint('7002', testPorts(7), testPorts(50), 600, { 'policy.session.auto_answer': '1' });
    const carol = standaloneEndpoint('7003', testPorts(7), testPorts(50), 700, { 'policy.session.auto_answer': '1' });
    await Promise.all([alice.endpoint.start(), bob.endpoint.start(), carol.endpoint.start()]);
    try {
      const atBob: Call[] = [];
      bob.endpoint.on('incomingCall', (call) => atBob.push(call));
      const referred: [Call, Call][] = [];
      alice.endpoint.on('referred', (from, to) => referred.push([from, to]));
      const first = await alice.endpoint.makeCall(uriOf('7002', bob.endpoint));
      await waitFor(() => first.state === 'CONNECTED' && atBob[0]?.state === 'CONNECTED');
      // The first call carries audio both ways before Bob transfers it.
      await untilRecorded(0.3, alice.devices, bob.devices);
      await atBob[0]!.transfer(uriOf('7003', carol.endpoint));
      // Bob's side ended once Carol answered; so did Alice's first call (Bob's BYE).
      expect(atBob[0]!.state).toBe('DISCONNECTED');
      await waitFor(() => first.state === 'DISCONNECTED');
      expect(referred).toHaveLength(1);
      const [from, second] = referred[0]!;
      expect(from).toBe(first);
      expect(second.info()).toMatchObject({ direction: 'outgoing', state: 'CONNECTED', relatedTo: first.id });
      expect(second.info().remote).toContain('7003@127.0.0.1');
      await untilRecorded(recorded(alice.devices) + 0.8, alice.devices);
      await untilRecorded(0.8, carol.devices);
      expect(lastHeard(alice.devices.recording('speaker'))).toBe(700);
      expect(lastHeard(carol.devices.recording('speaker'))).toBe(1000);
      expect(bob.endpoint.calls).toEqual([]);
      await second.hangup();
    } finally {
      await Promise.all([alice.endpoint.stop(), bob.endpoint.stop(), carol.endpoint.stop()]);
    }
  }, 20000);

  it('blind to a target that refuses: the transfer fails with the target status and the original call stays up', async () => {
    const alice = standaloneEndpoint('7011', testPorts(7), testPorts(50), 1000);
    const bob = standaloneEndpoint('7012', testPorts(7), testPorts(50), 600, { 'policy.session.auto_answer': '1' });
    // Carol requires a headset she does not have: she rejects with 486.
    const carol = standaloneEndpoint('7013', testPorts(7), testPorts(50), 700, { 'policy.device.use_headset': '1', 'policy.device.headset_name': 'Plantronics', 'policy.session.reject_session_when_headset_na': '1', 'policy.session.sip_code_when_headset_na': '486' });
    await Promise.all([alice.endpoint.start(), bob.endpoint.start(), carol.endpoint.start()]);
    try {
      const atBob: Call[] = [];
      bob.endpoint.on('incomingCall', (call) => atBob.push(call));
      const first = await alice.endpoint.makeCall(uriOf('7012', bob.endpoint));
      await waitFor(() => first.state === 'CONNECTED' && atBob[0]?.state === 'CONNECTED');
      const failure = await atBob[0]!.transfer(uriOf('7013', carol.endpoint)).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TransferFailedError);
      expect((failure as TransferFailedError).statusCode).toBe(486);
      expect(atBob[0]!.state).toBe('CONNECTED');
      expect(first.state).toBe('CONNECTED');
      await expect(atBob[0]!.transfer('not a uri <>')).rejects.toMatchObject({ code: 'ERR_SIP_INVALID_ARGUMENT' });
      await first.hangup();
    } finally {
      await Promise.all([alice.endpoint.stop(), bob.endpoint.stop(), carol.endpoint.stop()]);
    }
  }, 20000);

  it('attended: Bob consults Carol, then transfers Alice to her with Replaces; Carol\'s new call replaces the consultation', async () => {
    const alice = standaloneEndpoint('7021', testPorts(7), testPorts(50), 1000);
    const bob = standaloneEndpoint('7022', testPorts(7), testPorts(50), 600, { 'policy.session.auto_answer': '1' });
    const carol = standaloneEndpoint('7023', testPorts(7), testPorts(50), 700, { 'policy.session.auto_answer': '1' });
    await Promise.all([alice.endpoint.start(), bob.endpoint.start(), carol.endpoint.start()]);
    try {
      const atBob: Call[] = [];
      const atCarol: Call[] = [];
      bob.endpoint.on('incomingCall', (call) => atBob.push(call));
      carol.endpoint.on('incomingCall', (call) => atCarol.push(call));
      const first = await alice.endpoint.makeCall(uriOf('7022', bob.endpoint));
      await waitFor(() => first.state === 'CONNECTED' && atBob[0]?.state === 'CONNECTED');
      await atBob[0]!.hold();
      await waitFor(() => first.state === 'HELD');
      const consultation = await bob.endpoint.makeCall(uriOf('7023', carol.endpoint));
      await waitFor(() => consultation.state === 'CONNECTED' && atCarol[0]?.state === 'CONNECTED');
      await atBob[0]!.transfer(consultation);
      await waitFor(() => consultation.state === 'DISCONNECTED' && first.state === 'DISCONNECTED');
      expect(atBob[0]!.state).toBe('DISCONNECTED');
      expect(atCarol).toHaveLength(2);
      expect(atCarol[0]!.state).toBe('DISCONNECTED');
      expect(atCarol[1]!.info()).toMatchObject({ state: 'CONNECTED', relatedTo: atCarol[0]!.id });
      const [second] = alice.endpoint.calls;
      expect(second?.state).toBe('CONNECTED');
      await untilRecorded(recorded(alice.devices) + 0.8, alice.devices);
      await untilRecorded(recorded(carol.devices) + 0.8, carol.devices);
      expect(lastHeard(alice.devices.recording('speaker'))).toBe(700);
      expect(lastHeard(carol.devices.recording('speaker'))).toBe(1000);
      expect(bob.endpoint.calls).toEqual([]);
      await second!.hangup();
    } finally {
      await Promise.all([alice.endpoint.stop(), bob.endpoint.stop(), carol.endpoint.stop()]);
    }
  }, 25000);
});

describe('hold by the far end, and mute', () => {
  it('a sendonly re-INVITE from the far end makes our call HELD (heldBy remote) until it retrieves; mute sends silence', async () => {
    const alice = standaloneEndpoint('7031', testPorts(7), testPorts(50), 1000);
    const bob = standaloneEndpoint('7032', testPorts(7), testPorts(50), 600, { 'policy.session.auto_answer': '1' });
    await Promise.all([alice.endpoint.start(), bob.endpoint.start()]);
    try {
      const atBob: Call[] = [];
      bob.endpoint.on('incomingCall', (call) => atBob.push(call));
      const call = await alice.endpoint.makeCall(uriOf('7032', bob.endpoint));
      await waitFor(() => call.state === 'CONNECTED' && atBob[0]?.state === 'CONNECTED');
      await atBob[0]!.hold();
      await waitFor(() => call.state === 'HELD');
      expect(call.info().heldBy).toBe('remote');
      await expect(call.retrieve()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE', name: 'InvalidStateError' });
      // Both hold; Bob retrieves: Alice still holds.
      await call.hold();
      expect(call.info().heldBy).toBe('both');
      await atBob[0]!.retrieve();
      await waitFor(() => call.info().heldBy === 'local');
      expect(call.state).toBe('HELD');
      await call.retrieve();
      expect(call.state).toBe('CONNECTED');
      expect(call.info().heldBy).toBeUndefined();

      // Media time, not wall time: 0.5 s of audio after the retrieve, 0.7 s muted, 0.6 s unmuted.
      await untilRecorded(recorded(bob.devices) + 0.5, bob.devices);
      call.mute();
      expect(call.info().muted).toBe(true);
      const before = bob.devices.recording('speaker').samples.length;
      await untilRecorded(recorded(bob.devices) + 0.7, bob.devices);
      const heard = bob.devices.recording('speaker');
      expect(rms(heard.samples.subarray(before + Math.round(heard.sampleRate * 0.25)))).toBeLessThan(50);
      call.mute(false);
      await untilRecorded(recorded(bob.devices) + 0.6, bob.devices);
      expect(lastHeard(bob.devices.recording('speaker'))).toBe(1000);
      await call.hangup();
      expect(() => call.mute()).toThrow('DISCONNECTED');
    } finally {
      await Promise.all([alice.endpoint.stop(), bob.endpoint.stop()]);
    }
  }, 20000);
});
