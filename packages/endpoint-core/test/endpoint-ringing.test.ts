import { VirtualAudioProvider } from '@sip-endpoint/media';
import { dominantFrequency, rms } from '@sip-endpoint/media/testing';
import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { recorded, standaloneConfig, standaloneEndpoint, toneFileDir, untilRecorded, waitFor } from './support/endpoints';

describe('ringing for an incoming call', () => {
  it('plays the ringtone of the ringing plan on the speaker until the call is answered', async () => {
    const dir = await toneFileDir('ring.wav', 425, 0.3);
    const make = (user: string, settings: Record<string, string> = {}) => standaloneEndpoint(user, testPorts(7), testPorts(50), 0, settings, { mediaDir: dir });
    const alice = make('6001');
    const bob = make('6002', { 'system.media.ringing_file': 'ring.wav', 'policy.session.ringing_enabled': '1' });
    await alice.endpoint.start();
    await bob.endpoint.start();
    try {
      const ringing: Call[] = [];
      bob.endpoint.on('incomingCall', (call) => ringing.push(call));
      await alice.endpoint.makeCall(`sip:6002@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
      await waitFor(() => ringing.length === 1, 5000, 'the incoming call');
      await untilRecorded(0.6, bob.devices);
      const rang = bob.devices.recording('speaker');
      expect(rang.samples.length).toBeGreaterThan(rang.sampleRate * 0.4); // looped past the 0.3 s file
      expect(Math.abs(dominantFrequency(rang.samples, rang.sampleRate) - 425)).toBeLessThanOrEqual(2);
      await ringing[0]!.answer();
      await waitFor(() => ringing[0]!.state === 'CONNECTED', 5000, 'the answer');
      // Skip 0.1 s of what was in flight, then 0.3 s of what plays after the answer.
      await untilRecorded(recorded(bob.devices) + 0.1, bob.devices);
      bob.devices.clearRecording('speaker');
      await untilRecorded(0.3, bob.devices);
      // The ringtone stopped: what plays now is the call's (silent) audio.
      const after = bob.devices.recording('speaker');
      expect(rms(after.samples)).toBeLessThan(100);
      await ringing[0]!.hangup();
    } finally {
      await alice.endpoint.stop();
      await bob.endpoint.stop();
    }
  }, 15000);
});

describe('ringback for an outgoing call', () => {
  it('ringback_enabled 2 loops the local ringback_file on the speaker while the call alerts, and stops on answer', async () => {
    const dir = await toneFileDir('ringback.wav', 440, 0.25);
    const alice = standaloneEndpoint('6101', testPorts(7), testPorts(50), 0, { 'policy.session.ringback_enabled': '2', 'policy.session.ringback_file': 'ringback.wav' }, { mediaDir: dir });
    const bob = standaloneEndpoint('6102', testPorts(7), testPorts(50), 0);
    await Promise.all([alice.endpoint.start(), bob.endpoint.start()]);
    try {
      const ringing: Call[] = [];
      bob.endpoint.on('incomingCall', (call) => ringing.push(call));
      const call = await alice.endpoint.makeCall(`sip:6102@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'ALERTING', 5000, 'the 180');
      await untilRecorded(0.8, alice.devices);
      expect(call.state).toBe('ALERTING');
      const heard = alice.devices.recording('speaker');
      expect(heard.samples.length).toBeGreaterThan(heard.sampleRate * 0.5); // looped past the 0.25 s file
      expect(Math.abs(dominantFrequency(heard.samples, heard.sampleRate) - 440)).toBeLessThanOrEqual(2);
      await ringing[0]!.answer();
      await waitFor(() => call.state === 'CONNECTED', 5000, 'the 200');
      // Skip 0.15 s of what was in flight, then 0.3 s of what plays after the answer.
      await untilRecorded(recorded(alice.devices) + 0.15, alice.devices);
      alice.devices.clearRecording('speaker');
      await untilRecorded(0.3, alice.devices);
      expect(rms(alice.devices.recording('speaker').samples)).toBeLessThan(100);
      await call.hangup();
    } finally {
      await Promise.all([alice.endpoint.stop(), bob.endpoint.stop()]);
    }
  }, 15000);
});

describe('enforce_headset_usage', () => {
  it('keeps the lines unregistered (WAITING_HEADSET) until the configured headset is plugged in', async () => {
    const config = standaloneConfig('6201', testPorts(7), testPorts(50), { 'policy.device.use_headset': '1', 'policy.device.headset_name': 'Jabra' });
    const devices = new VirtualAudioProvider({ defaults: false });
    devices.addInput({ name: 'Built-in Microphone', id: 'mic' }, { kind: 'silence' });
    devices.addOutput({ name: 'Built-in Speaker', id: 'speaker' });
    const endpoint = new Endpoint({ config, devices, enforceHeadsetUsage: true });
    const statuses: string[] = [];
    endpoint.on('statusChanged', (status) => statuses.push(status));
    await endpoint.start();
    try {
      expect(endpoint.session().status).toBe('WAITING_HEADSET');
      expect(endpoint.lines.map((line) => line.state)).toEqual(['DISABLED']);
      devices.addInput({ name: 'Headset Microphone (Jabra)', id: 'jabra-mic' }, { kind: 'silence' });
      devices.addOutput({ name: 'Headset Earphone (Jabra)', id: 'jabra-speaker' });
      await waitFor(() => endpoint.lines[0]?.state === 'STANDALONE', 5000, 'the line to start');
      expect(endpoint.lines[0]?.state).toBe('STANDALONE');
      expect(endpoint.session().status).toBe('INITIALIZED');
      // In between, INITIALIZING while the lines start.
      expect(statuses[0]).toBe('WAITING_HEADSET');
      expect(statuses.at(-1)).toBe('INITIALIZED');
    } finally {
      await endpoint.stop();
    }
  }, 10000);
});
