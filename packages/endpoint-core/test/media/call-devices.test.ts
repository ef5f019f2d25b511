import { dominantFrequency, rms } from '@sip-endpoint/media/testing';
import type { Call } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { standaloneEndpoint, waitFor } from '../support/endpoints';

const endpoint = (user: string, frequency: number, settings: Record<string, string> = {}, logger?: (level: number, message: string) => void) =>
  standaloneEndpoint(user, testPorts(7), testPorts(50), frequency, settings, logger ? { logger } : {});

describe("a call's devices", () => {
  it.each([
    ['pcmu', 'PCMU/8000', 8000],
    ['g722', 'G722/16000', 16000],
    ['opus', 'opus/48000/2', 16000],
  ] as const)('open when the stream starts, at 16 kHz or the codec rate when lower: %s (%s) records at %d Hz', async (codec, name, rate) => {
    const settings = { 'codecs.enabled.audio': `${codec},telephone-event` };
    const alice = endpoint('1101', 1000, settings);
    const bob = endpoint('1102', 600, { ...settings, 'policy.session.auto_answer': '1' });
    await alice.endpoint.start();
    await bob.endpoint.start();
    try {
      const call = await alice.endpoint.makeCall(`sip:1102@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'CONNECTED', 5000, 'connected');
      expect(call.info().codec).toBe(name);
      await waitFor(() => alice.devices.recording('speaker').samples.length >= rate * 0.6, 5000, '0.6 s recorded');
      expect(alice.devices.recording('speaker').sampleRate).toBe(rate);
      expect(bob.devices.recording('speaker').sampleRate).toBe(rate);
      await call.hangup();
    } finally {
      await alice.endpoint.stop();
      await bob.endpoint.stop();
    }
  }, 20000);

  it('a microphone unplugged while the call rings: the selection drops it, the answered call connects without it (silence sent)', async () => {
    const logs: string[] = [];
    const alice = endpoint('1111', 1000, {}, (level, message) => level <= 3 && logs.push(message));
    const bob = endpoint('1112', 600);
    await alice.endpoint.start();
    await bob.endpoint.start();
    try {
      const incoming: Call[] = [];
      bob.endpoint.on('incomingCall', (call) => incoming.push(call));
      const call = await alice.endpoint.makeCall(`sip:1112@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
      await waitFor(() => incoming[0]?.state === 'ALERTING' || incoming[0]?.state === 'RINGING', 5000, 'Bob rings');
      alice.devices.remove('mic');
      await waitFor(() => call.media.devices.input === undefined, 2000, 'the selection without a microphone');
      await incoming[0]!.answer();
      await waitFor(() => call.state === 'CONNECTED', 5000, 'connected');
      await waitFor(() => alice.devices.recording('speaker').samples.length >= 8000 * 0.8 && bob.devices.recording('speaker').samples.length >= 8000 * 0.8, 5000, '0.8 s recorded at both');
      const heardByAlice = alice.devices.recording('speaker');
      expect(dominantFrequency(heardByAlice.samples.subarray(heardByAlice.sampleRate * 0.4), heardByAlice.sampleRate)).toBe(600);
      expect(rms(bob.devices.recording('speaker').samples)).toBeLessThan(50);
      expect(call.state).toBe('CONNECTED');
      expect(logs.some((message) => /audio moved to the microphone \(none\) and the speaker "Headset Earphone \(Jabra\)"/.test(message))).toBe(true);
      await call.hangup();
    } finally {
      await alice.endpoint.stop();
      await bob.endpoint.stop();
    }
  }, 20000);

  it('a microphone that cannot be opened (busy): the call connects without it, silence sent, a warning logged', async () => {
    const logs: string[] = [];
    const alice = endpoint('1113', 1000, {}, (level, message) => level <= 2 && logs.push(message));
    const bob = endpoint('1114', 600, { 'policy.session.auto_answer': '1' });
    // The device is there, but opening it fails (another program holds it).
    alice.devices.openInput = (id: string): never => {
      throw new Error(`${id} is busy`);
    };
    await alice.endpoint.start();
    await bob.endpoint.start();
    try {
      const call = await alice.endpoint.makeCall(`sip:1114@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'CONNECTED', 5000, 'connected');
      await waitFor(() => bob.devices.recording('speaker').samples.length >= 8000 * 0.8, 5000, '0.8 s recorded');
      expect(rms(bob.devices.recording('speaker').samples)).toBeLessThan(50);
      expect(logs.some((message) => /microphone mic could not be opened \(mic is busy\).*goes on without it/.test(message))).toBe(true);
      await call.hangup();
    } finally {
      await alice.endpoint.stop();
      await bob.endpoint.stop();
    }
  }, 20000);
});
