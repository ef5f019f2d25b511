// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { PulseAudioProvider, ToneGenerator } from '@sip-endpoint/media';
import type { AudioDevice } from '@sip-endpoint/policy';
import { PipeWireServer, waitFor } from '@sip-endpoint/test-support';
import { dbfs, runClock, tick } from '../support/device-clock';
import { peerAvailable } from '../support/peers';
import { dominantFrequency, rms } from '../support/signal';

/**
 * The PulseAudio provider against PipeWire's PulseAudio server (pipewire-pulse, with wireplumber,
 * as current desktops run it; test-support's PipeWireServer: null sinks, no card, its own
 * socket and session bus): the same tools (pactl, pacat, parec) and protocol, another server
 * behind them. The list with a headset, hot-plug, a tone played, a sound reaching a microphone,
 * volume and mute.
 */

const describePipeWire = peerAvailable('pipewire-pulse') && peerAvailable('wireplumber') ? describe : describe.skip;

describePipeWire('PulseAudioProvider against a private PipeWire (pipewire-pulse)', () => {
  let server: PipeWireServer;
  let provider: PulseAudioProvider;

  beforeAll(async () => {
    server = await PipeWireServer.start({
      sinks: [
        { name: 'speaker', description: 'Test Speaker' },
        { name: 'line', description: 'Ödd “quoted” Line' },
      ],
    });
    // A microphone that hears what is played into `line`, flagged a headset as a USB headset's source is.
    await server.pactl('load-module', 'module-remap-source', 'master=line.monitor', 'source_name=mic', 'source_properties=\'device.description="Loopback Mic" device.form_factor=headset\'');
    await server.pactl('set-default-sink', 'speaker');
    await server.pactl('set-default-source', 'mic');
    provider = new PulseAudioProvider({ server: server.server, debounceMs: 50, retryMs: [100, 500] });
    await waitFor(() => provider.list().some((device) => device.id === 'mic' && device.systemDefault === true) && provider.list().some((device) => device.id === 'speaker' && device.systemDefault === true), 3000, 'the defaults listed');
  }, 30_000);

  afterAll(async () => {
    provider?.close();
    await server?.stop();
  });

  it('is PipeWire answering, and the provider lists its sinks and the headset microphone by description, defaults marked, without monitors', async () => {
    expect(await server.pactl('info')).toMatch(/^Server Name: PulseAudio \(on PipeWire [\d.]+\)$/m);
    const list = provider.list();
    expect(list).toContainEqual<AudioDevice>({ id: 'speaker', name: 'Test Speaker', kind: 'output', systemDefault: true });
    expect(list).toContainEqual<AudioDevice>({ id: 'line', name: 'Ödd “quoted” Line', kind: 'output' });
    expect(list).toContainEqual<AudioDevice>({ id: 'mic', name: 'Loopback Mic', kind: 'input', headset: true, systemDefault: true });
    expect(list.some((device) => device.id.endsWith('.monitor'))).toBe(false);
    expect(provider.connected).toBe(true);
  });

  it('emits devicesChanged within a second when a headset is plugged in, and again when it is removed', async () => {
    const lists: { at: number; list: AudioDevice[] }[] = [];
    const listener = (list: AudioDevice[]): void => void lists.push({ at: performance.now(), list });
    provider.on('devicesChanged', listener);
    try {
      const plugged = performance.now();
      const module = await server.loadNullSink({ name: 'jabra_headset', description: 'Jabra Headset' });
      await waitFor(() => lists.some((entry) => entry.list.some((device) => device.id === 'jabra_headset')), 2000, 'the headset in devicesChanged');
      const added = lists.find((entry) => entry.list.some((device) => device.id === 'jabra_headset'))!;
      expect(added.at - plugged).toBeLessThan(1000);
      expect(added.list).toContainEqual({ id: 'jabra_headset', name: 'Jabra Headset', kind: 'output' });
      const unplugged = performance.now();
      await server.unload(module);
      await waitFor(() => !provider.list().some((device) => device.id === 'jabra_headset'), 2000, 'the headset gone from the list');
      const removed = lists[lists.length - 1]!;
      expect(removed.list.some((device) => device.id === 'jabra_headset')).toBe(false);
      expect(removed.at - unplugged).toBeLessThan(1000);
    } finally {
      provider.off('devicesChanged', listener);
    }
  });

  it('plays a tone through openOutput that the sink\'s monitor records at its frequency and level', async () => {
    const rate = 16000;
    const output = provider.openOutput('speaker', rate);
    try {
      const tone = new ToneGenerator(rate, [1000], -10);
      const [recorded] = await Promise.all([
        new Promise<Int16Array>((resolve, reject) => setTimeout(() => server.record('speaker.monitor', rate, 600).then(resolve, reject), 400)),
        runClock(1400, rate, { output, fill: (frame, length) => tone.fill(frame, length) }),
      ]);
      expect(dominantFrequency(recorded, rate)).toBeCloseTo(1000, -1);
      // The same tone played by pacat itself and recorded the same way is the reference level:
      // -10 dBFS peak is -13 dBFS RMS, but PipeWire's stereo monitor comes down to mono at +3 dB
      // (its downmix sums the channels at -3 dB each), where PulseAudio's averages them.
      const reference = new Int16Array(rate * 1.4);
      new ToneGenerator(rate, [1000], -10).fill(reference, reference.length);
      const [played] = await Promise.all([new Promise<Int16Array>((resolve, reject) => setTimeout(() => server.record('speaker.monitor', rate, 600).then(resolve, reject), 400)), server.play('speaker', reference, rate)]);
      // Judged on the median 20 ms frame, as on PulseAudio.
      const median = (samples: Int16Array): number => {
        const frame = rate / 50;
        const levels = Array.from({ length: Math.floor(samples.length / frame) }, (_, i) => dbfs(rms(samples.subarray(i * frame, (i + 1) * frame)))).sort((x, y) => x - y);
        return levels[Math.floor(levels.length / 2)]!;
      };
      const ours = median(recorded);
      const pacat = median(played);
      expect({ ours, pacat, near: Math.abs(ours - pacat) < 1.5 && Math.abs(pacat + 10) < 1.5 }).toMatchObject({ near: true });
      expect(output.stats().writtenSamples).toBeGreaterThan(rate * 0.6);
    } finally {
      output.close();
    }
  });

  it('gives openInput\'s frames what is played into the sink its source hears', async () => {
    const rate = 8000;
    const input = provider.openInput('mic', rate);
    try {
      const tone = new Int16Array(rate);
      new ToneGenerator(rate, [700], -6).fill(tone, tone.length);
      const [, heard] = await Promise.all([new Promise<void>((resolve, reject) => setTimeout(() => server.play('line', tone, rate).then(resolve, reject), 200)), runClock(1800, rate, { input })]);
      const window = rate / 2;
      let best = 0;
      let bestAt = 0;
      for (let at = 0; at + window <= heard.length; at += rate / 50) {
        const level = rms(heard.subarray(at, at + window));
        if (level > best) [best, bestAt] = [level, at];
      }
      expect(dominantFrequency(heard.subarray(bestAt, bestAt + window), rate)).toBeCloseTo(700, -1);
      expect(dbfs(best)).toBeGreaterThan(-11);
    } finally {
      input.close();
    }
  });

  it('sends volume and mute to the server and reads back what another client sets', async () => {
    provider.setVolume('speaker', 40);
    provider.setMuted('mic', true);
    const check = async (): Promise<boolean> => {
      const sinks = await server.pactl('list', 'sinks');
      const sources = await server.pactl('list', 'sources');
      return /Name: speaker\n(?:\t.*\n)*?\tVolume: [^\n]*\/ +40% \//.test(sinks) && /Name: mic\n(?:\t.*\n)*?\tMute: yes/.test(sources);
    };
    const deadline = Date.now() + 3000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`the server did not take the volume and mute:\n${await server.pactl('list', 'sinks')}`);
      await tick();
    }
    await server.pactl('set-sink-volume', 'speaker', '70%');
    await server.pactl('set-source-mute', 'mic', '0');
    await waitFor(() => provider.getVolume('speaker') === 70 && !provider.isMuted('mic'), 2000, 'the volume and mute read back');
  });
});
