// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { PulseAudioProvider, ToneGenerator } from '@sip-endpoint/media';
import type { AudioDevice } from '@sip-endpoint/policy';
import { PipeWireServer, waitFor } from '@sip-endpoint/test-support';
import { peerAvailable } from '../support/peers';
import { checkCapture, checkHotPlug, checkTonePlayback, checkVolumeAndMute, medianFrameDbfs } from '../support/pulse-provider-checks';

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
    await checkHotPlug(server, provider);
  });

  it('plays a tone through openOutput that the sink\'s monitor records at its frequency, at the level pacat itself plays it', async () => {
    const ours = await checkTonePlayback(server, provider);
    // The same tone played by pacat and recorded the same way is the reference: -10 dBFS peak is
    // -13 dBFS RMS, but PipeWire's stereo monitor comes down to mono at +3 dB (its downmix sums
    // the channels at -3 dB each, where PulseAudio's averages them).
    const rate = 16000;
    const reference = new Int16Array(rate * 1.4);
    new ToneGenerator(rate, [1000], -10).fill(reference, reference.length);
    const [played] = await Promise.all([new Promise<Int16Array>((resolve, reject) => setTimeout(() => server.record('speaker.monitor', rate, 600).then(resolve, reject), 400)), server.play('speaker', reference, rate)]);
    const pacat = medianFrameDbfs(played, rate);
    expect({ ours, pacat, near: Math.abs(ours - pacat) < 1.5 && Math.abs(pacat + 10) < 1.5 }).toMatchObject({ near: true });
  });

  it('gives openInput\'s frames what is played into the sink its source hears', async () => {
    await checkCapture(server, provider);
  });

  it('sends volume and mute to the server and reads back what another client sets', async () => {
    await checkVolumeAndMute(server, provider);
  });
});
