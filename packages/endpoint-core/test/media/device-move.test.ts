// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import { VirtualAudioProvider } from '@sip-endpoint/media';
import { dominantFrequency, powerAt, rms } from '@sip-endpoint/media/testing';
import type { AudioDevice } from '@sip-endpoint/policy';
import { testPorts } from '@sip-endpoint/test-support';
import { standaloneConfig, standaloneEndpoint, waitFor } from '../support/endpoints';

// Hot-plug during a call: the specification's device selection runs at every change of the
// devices present, and the call in progress follows it. The agent starts on its built-in devices
// (no headset yet), a Jabra headset is plugged in mid-call (the call moves to it: the far end now
// hears the headset's microphone, the headset's earphone plays the far end), then unplugged (back
// to the built-in devices). What each device carried is checked on the recordings.

describe('a call in progress follows the device selection', () => {
  it('moves to a headset plugged in mid-call, within a second, and back when it is unplugged', async () => {
    const devices = new VirtualAudioProvider({ defaults: false });
    devices.addInput({ name: 'Built-in Microphone', id: 'builtin-mic' }, { kind: 'tone', frequencies: [400], levelDbfs: -12 });
    devices.addOutput({ name: 'Built-in Speaker', id: 'builtin-speaker' }, { record: true });
    const agent = new Endpoint({ config: standaloneConfig('1201', testPorts(7), testPorts(50), { 'policy.device.use_headset': '1', 'policy.device.headset_name': 'Jabra' }), devices });
    const far = standaloneEndpoint('1202', testPorts(7), testPorts(50), 700, { 'policy.session.auto_answer': '1' });
    await agent.start();
    await far.endpoint.start();
    try {
      const call: Call = await agent.makeCall(`sip:1202@127.0.0.1:${far.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'CONNECTED', 5000, 'connected');
      expect(call.media.devices).toMatchObject({ input: { id: 'builtin-mic' }, output: { id: 'builtin-speaker' } });
      await waitFor(() => devices.recording('builtin-speaker').samples.length > 8000 * 0.5, 5000, 'the built-in speaker plays');
      const moves: Array<{ input: AudioDevice | undefined; output: AudioDevice | undefined }> = [];
      call.media.on('devicesMoved', (moved) => moves.push(moved));

      // The headset comes (its microphone plays 1100 Hz): the call moves to it.
      const pluggedAt = performance.now();
      devices.addInput({ name: 'Jabra EVOLVE 40 Microphone', id: 'jabra-mic' }, { kind: 'tone', frequencies: [1100], levelDbfs: -12 });
      devices.addOutput({ name: 'Jabra EVOLVE 40 Earphone', id: 'jabra-speaker' }, { record: true });
      await waitFor(() => call.media.devices.input?.id === 'jabra-mic' && call.media.devices.output?.id === 'jabra-speaker', 1000, 'the call on the headset');
      const movedInMs = performance.now() - pluggedAt;
      expect(movedInMs).toBeLessThan(1000);
      expect(moves.at(-1)).toMatchObject({ input: { id: 'jabra-mic' }, output: { id: 'jabra-speaker' } });
      devices.clearRecording('builtin-speaker');
      far.devices.clearRecording('speaker');
      await waitFor(() => devices.recording('jabra-speaker').samples.length > 8000 * 0.6 && far.devices.recording('speaker').samples.length > 8000 * 0.6, 5000, 'audio on the headset');
      // Skip what was in flight at the move (the jitter buffer's delay), then judge.
      const onHeadset = devices.recording('jabra-speaker');
      expect(dominantFrequency(onHeadset.samples.subarray(onHeadset.sampleRate * 0.2), onHeadset.sampleRate)).toBe(700);
      const farHears = far.devices.recording('speaker');
      expect(dominantFrequency(farHears.samples.subarray(farHears.sampleRate * 0.2), farHears.sampleRate)).toBe(1100);
      // The built-in speaker got nothing more: it was closed at the move.
      expect(devices.recording('builtin-speaker').samples.length).toBe(0);

      // Unplugged: back on the built-in devices.
      devices.remove('jabra-mic');
      devices.remove('jabra-speaker');
      await waitFor(() => call.media.devices.input?.id === 'builtin-mic' && call.media.devices.output?.id === 'builtin-speaker', 1000, 'the call back on the built-in devices');
      far.devices.clearRecording('speaker');
      await waitFor(() => devices.recording('builtin-speaker').samples.length > 8000 * 0.6 && far.devices.recording('speaker').samples.length > 8000 * 0.6, 5000, 'audio on the built-in devices');
      const back = far.devices.recording('speaker');
      expect(dominantFrequency(back.samples.subarray(back.sampleRate * 0.2), back.sampleRate)).toBe(400);
      expect(rms(devices.recording('builtin-speaker').samples.subarray(8000 * 0.2))).toBeGreaterThan(500);
      expect(call.state).toBe('CONNECTED');
      await call.hangup();
    } finally {
      await agent.stop();
      await far.endpoint.stop();
    }
  }, 30000);

  it('a local conference follows too: plugged in mid-conference, the headset carries the mix both ways', async () => {
    const devices = new VirtualAudioProvider({ defaults: false });
    devices.addInput({ name: 'Built-in Microphone', id: 'builtin-mic' }, { kind: 'tone', frequencies: [400], levelDbfs: -12 });
    devices.addOutput({ name: 'Built-in Speaker', id: 'builtin-speaker' }, { record: true });
    const agent = new Endpoint({ config: standaloneConfig('1211', testPorts(7), testPorts(50), { 'policy.device.use_headset': '1', 'policy.device.headset_name': 'Jabra' }), devices });
    const bob = standaloneEndpoint('1212', testPorts(7), testPorts(50), 700, { 'policy.session.auto_answer': '1' });
    const carol = standaloneEndpoint('1213', testPorts(7), testPorts(50), 1300, { 'policy.session.auto_answer': '1' });
    for (const endpoint of [agent, bob.endpoint, carol.endpoint]) await endpoint.start();
    try {
      const toBob = await agent.makeCall(`sip:1212@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
      const toCarol = await agent.makeCall(`sip:1213@127.0.0.1:${carol.endpoint.lines[0]!.port}`);
      await waitFor(() => toBob.state === 'CONNECTED' && toCarol.state === 'CONNECTED', 5000, 'both connected');
      const conference = await agent.conference(toBob, toCarol);
      expect(conference.devices).toMatchObject({ input: { id: 'builtin-mic' }, output: { id: 'builtin-speaker' } });
      devices.addInput({ name: 'Jabra EVOLVE 40 Microphone', id: 'jabra-mic' }, { kind: 'tone', frequencies: [1100], levelDbfs: -12 });
      devices.addOutput({ name: 'Jabra EVOLVE 40 Earphone', id: 'jabra-speaker' }, { record: true });
      await waitFor(() => conference.devices.input?.id === 'jabra-mic' && conference.devices.output?.id === 'jabra-speaker', 1000, 'the conference on the headset');
      bob.devices.clearRecording('speaker');
      await waitFor(() => devices.recording('jabra-speaker').samples.length > 16000 * 0.8 && bob.devices.recording('speaker').samples.length > 8000 * 0.8, 5000, 'the mix on the headset');
      // The headset's earphone plays both calls; Bob hears the headset's microphone (and Carol).
      const heard = devices.recording('jabra-speaker');
      const level = (samples: Int16Array, rate: number, hz: number): number => 10 * Math.log10(powerAt(samples, rate, hz) / ((32767 * 32767 * samples.length) / 4));
      const tail = heard.samples.subarray(heard.sampleRate * 0.3);
      expect([level(tail, heard.sampleRate, 700) > -35, level(tail, heard.sampleRate, 1300) > -35]).toEqual([true, true]);
      const atBob = bob.devices.recording('speaker');
      const bobTail = atBob.samples.subarray(atBob.sampleRate * 0.3);
      expect([level(bobTail, atBob.sampleRate, 1100) > -35, level(bobTail, atBob.sampleRate, 400) < -55]).toEqual([true, true]);
      conference.split();
      await toBob.hangup();
      await toCarol.hangup();
    } finally {
      for (const endpoint of [agent, bob.endpoint, carol.endpoint]) await endpoint.stop();
    }
  }, 30000);
});
