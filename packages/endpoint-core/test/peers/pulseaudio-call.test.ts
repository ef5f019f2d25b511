// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import { PulseAudioProvider, ToneGenerator } from '@sip-endpoint/media';
import { powerAt, rms } from '@sip-endpoint/media/testing';
import { peerAvailable, PulseAudioServer, testPorts } from '@sip-endpoint/test-support';
import { sleep, standaloneConfig, standaloneEndpoint, waitFor } from '../support/endpoints';

// A call on a real sound server's devices: a private PulseAudio server (null sinks, no hardware)
// gives the agent a built-in speaker and microphone; the far end (another endpoint) sends 700 Hz.
// What the agent's speaker plays is recorded from its sink's monitor with parec; what is played
// into the microphone's source reaches the far end. Then a Jabra headset is plugged in (a sink and
// a source loaded like a USB headset's) and the call moves to it, and back when it is unplugged.

const describePulse = peerAvailable('pulseaudio') ? describe : describe.skip;
const RATE = 16000;

/** The level of `hz` in `samples`, in dB relative to a full-scale sine. */
function levelDb(samples: Int16Array, rate: number, hz: number): number {
  return 10 * Math.log10(Math.max(1e-12, powerAt(samples, rate, hz)) / ((32767 * 32767 * samples.length) / 4));
}

/** `seconds` of a tone at -12 dBFS. */
function tone(hz: number, seconds: number): Int16Array {
  const samples = new Int16Array(Math.round(RATE * seconds));
  new ToneGenerator(RATE, [hz], -12).fill(samples);
  return samples;
}

describePulse('a call on PulseAudio devices, with a headset plugged in and out', () => {
  let server: PulseAudioServer;

  /** The built-in microphone, which hears what the test plays into builtin_feed, and the defaults (again after a restart). */
  async function builtinDevices(): Promise<void> {
    await server.pactl('load-module', 'module-remap-source', 'master=builtin_feed.monitor', 'source_name=builtin_mic', 'source_properties=\'device.description="Built-in Microphone"\'');
    await server.pactl('set-default-sink', 'builtin_speaker');
    await server.pactl('set-default-source', 'builtin_mic');
  }

  beforeAll(async () => {
    server = await PulseAudioServer.start({ sinks: [{ name: 'builtin_speaker', description: 'Built-in Audio Analog Stereo' }, { name: 'builtin_feed', description: 'Built-in Feed' }] });
    await builtinDevices();
  }, 25_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('plays the far end on the selected sink, sends the selected source, and follows the headset', async () => {
    const provider = new PulseAudioProvider({ server: server.server, debounceMs: 50 });
    const agent = new Endpoint({ config: standaloneConfig('1501', testPorts(7), testPorts(50), { 'policy.device.use_headset': '1', 'policy.device.headset_name': 'Jabra', 'codecs.enabled.audio': 'g722,telephone-event' }), devices: provider, audioProcessing: 'off' });
    const far = standaloneEndpoint('1502', testPorts(7), testPorts(50), 700, { 'policy.session.auto_answer': '1', 'codecs.enabled.audio': 'g722,telephone-event' });
    await agent.start();
    await far.endpoint.start();
    const modules: number[] = [];
    try {
      const call: Call = await agent.makeCall(`sip:1502@127.0.0.1:${far.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'CONNECTED', 5000, 'connected');
      expect(call.media.devices).toMatchObject({ input: { id: 'builtin_mic' }, output: { id: 'builtin_speaker' } });

      /** What a sink played over `ms`, after `settleMs` (the path's delay). */
      const played = async (sink: string, settleMs: number, ms = 800): Promise<Int16Array> => {
        await sleep(settleMs);
        return server.record(`${sink}.monitor`, RATE, ms);
      };
      /** Plays `hz` into a feed sink for 3 s and returns what the far end heard meanwhile (its last second). */
      const farHears = async (feed: string, hz: number): Promise<Int16Array> => {
        const playing = server.play(feed, tone(hz, 3), RATE);
        await sleep(2000);
        far.devices.clearRecording('speaker');
        await waitFor(() => far.devices.recording('speaker').samples.length >= 16000 * 0.8, 3000, 'the far end recording');
        await playing;
        return far.devices.recording('speaker').samples;
      };

      // On the built-in devices.
      const onBuiltin = await played('builtin_speaker', 1500);
      expect(levelDb(onBuiltin, RATE, 700)).toBeGreaterThan(-25);
      expect(levelDb(await farHears('builtin_feed', 1100), 16000, 1100)).toBeGreaterThan(-25);

      // The headset comes: its earphone (a sink) and its microphone (a source hearing jabra_feed).
      modules.push(await server.loadNullSink({ name: 'jabra_earphone', description: 'Jabra EVOLVE 40 Stereo' }));
      modules.push(await server.loadNullSink({ name: 'jabra_feed', description: 'Jabra Feed' }));
      const pluggedAt = performance.now();
      modules.push(Number((await server.pactl('load-module', 'module-remap-source', 'master=jabra_feed.monitor', 'source_name=jabra_mic', 'source_properties=\'device.description="Jabra EVOLVE 40 Mono" device.form_factor=headset\'')).trim()));
      await waitFor(() => call.media.devices.input?.id === 'jabra_mic' && call.media.devices.output?.id === 'jabra_earphone', 3000, 'the call on the headset');
      const movedInMs = performance.now() - pluggedAt;
      expect(movedInMs).toBeLessThan(1500);
      const onHeadset = await played('jabra_earphone', 1500);
      expect(levelDb(onHeadset, RATE, 700)).toBeGreaterThan(-25);
      // The built-in speaker plays nothing any more.
      expect(rms(await server.record('builtin_speaker.monitor', RATE, 500))).toBeLessThan(30);
      expect(levelDb(await farHears('jabra_feed', 1300), 16000, 1300)).toBeGreaterThan(-25);

      // Unplugged: back on the built-in devices.
      for (const module of modules.splice(0).reverse()) await server.unload(module);
      await waitFor(() => call.media.devices.input?.id === 'builtin_mic' && call.media.devices.output?.id === 'builtin_speaker', 3000, 'the call back on the built-in devices');
      expect(levelDb(await played('builtin_speaker', 1500), RATE, 700)).toBeGreaterThan(-25);
      expect(call.state).toBe('CONNECTED');
      await call.hangup();
      process.stdout.write(`PulseAudio call: moved to the headset ${movedInMs.toFixed(0)} ms after it was plugged in\n`);
    } finally {
      for (const module of modules.reverse()) await server.unload(module).catch(() => undefined);
      await agent.stop();
      await far.endpoint.stop();
      provider.close();
    }
  }, 60_000);

  it('goes on when the sound server dies mid-call (media both ways, on no device), and is back on the devices when it returns', async () => {
    const provider = new PulseAudioProvider({ server: server.server, debounceMs: 50 });
    const agent = new Endpoint({ config: standaloneConfig('1503', testPorts(7), testPorts(50), { 'codecs.enabled.audio': 'g722,telephone-event' }), devices: provider, audioProcessing: 'off' });
    const far = standaloneEndpoint('1504', testPorts(7), testPorts(50), 700, { 'policy.session.auto_answer': '1', 'codecs.enabled.audio': 'g722,telephone-event' });
    await agent.start();
    await far.endpoint.start();
    try {
      const call: Call = await agent.makeCall(`sip:1504@127.0.0.1:${far.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'CONNECTED', 5000, 'connected');
      expect(call.media.devices).toMatchObject({ input: { id: 'builtin_mic' }, output: { id: 'builtin_speaker' } });
      await sleep(1000);

      await server.kill();
      // The devices are gone: the call goes on without them (silence sent, what comes in dropped).
      await waitFor(() => call.media.devices.input === undefined && call.media.devices.output === undefined, 3000, 'the call off the dead server\'s devices');
      const sent = call.media.stats()!.sent.packets;
      const received = call.media.stats()!.received.packets;
      await sleep(2000);
      expect(call.state).toBe('CONNECTED');
      expect(call.media.stats()!.sent.packets - sent).toBeGreaterThan(80);
      expect(call.media.stats()!.received.packets - received).toBeGreaterThan(80);

      await server.restart();
      await builtinDevices();
      await waitFor(() => call.media.devices.input?.id === 'builtin_mic' && call.media.devices.output?.id === 'builtin_speaker', 5000, 'the call back on the built-in devices');
      // The far end's tone plays on the speaker again, and the microphone reaches the far end.
      await sleep(1500);
      const played = await server.record('builtin_speaker.monitor', RATE, 800);
      expect(levelDb(played, RATE, 700)).toBeGreaterThan(-25);
      const playing = server.play('builtin_feed', tone(900, 3), RATE);
      await sleep(2000);
      far.devices.clearRecording('speaker');
      await waitFor(() => far.devices.recording('speaker').samples.length >= 16000 * 0.8, 3000, 'the far end recording');
      await playing;
      expect(levelDb(far.devices.recording('speaker').samples, 16000, 900)).toBeGreaterThan(-25);
      expect(call.state).toBe('CONNECTED');
      await call.hangup();
    } finally {
      await agent.stop();
      await far.endpoint.stop();
      provider.close();
    }
  }, 60_000);
});
