import { Endpoint } from '@sip-endpoint/endpoint-core';
import { VirtualAudioProvider, type AudioInput, type AudioOutput } from '@sip-endpoint/media';
import { testPorts } from '@sip-endpoint/test-support';
import { DeviceKeeper, keepOpenOf } from '../../src/media/device-keeper';
import { sleep, standaloneConfig, standaloneEndpoint, waitFor } from '../support/endpoints';

/** A provider that counts the devices it opened and closed (a sound server's slow opens, here counted). */
class CountingProvider extends VirtualAudioProvider {
  readonly opened: string[] = [];
  readonly closed: string[] = [];

  constructor() {
    super({ defaults: false });
    this.addInput({ name: 'Headset Microphone (Jabra)', id: 'mic' }, { kind: 'tone', frequencies: [500] });
    this.addInput({ name: 'Built-in Microphone', id: 'builtin-mic' });
    this.addOutput({ name: 'Headset Earphone (Jabra)', id: 'speaker' }, { record: true });
  }

  override openInput(id: string, sampleRate: number): AudioInput {
    const input = super.openInput(id, sampleRate);
    this.opened.push(`${id}@${sampleRate}`);
    return { ...input, device: input.device, sampleRate: input.sampleRate, read: (frame, length) => input.read(frame, length), close: () => (this.closed.push(`${id}@${sampleRate}`), input.close()) };
  }

  override openOutput(id: string, sampleRate: number): AudioOutput {
    const output = super.openOutput(id, sampleRate);
    this.opened.push(`${id}@${sampleRate}`);
    return { device: output.device, sampleRate: output.sampleRate, write: (frame, length) => output.write(frame, length), close: () => (this.closed.push(`${id}@${sampleRate}`), output.close()) };
  }
}

const log = (): void => undefined;

describe('DeviceKeeper', () => {
  it('defer_device_release: a device closed by a stream stays open that long; opened again at the same rate meanwhile, it is not reopened', async () => {
    const provider = new CountingProvider();
    const keeper = new DeviceKeeper(provider, { releaseDelayMs: 150, keepOpen: { input: false, output: false }, keepOpenRate: 16000, log });
    const first = keeper.openInput('mic', 8000);
    first.close();
    first.close(); // twice is harmless: one release
    const second = keeper.openInput('mic', 8000);
    expect(provider.opened).toEqual(['mic@8000']);
    // Another rate needs another opening; a second stream on a device in use too.
    const wideband = keeper.openInput('mic', 16000);
    const beside = keeper.openInput('mic', 8000);
    expect(provider.opened).toEqual(['mic@8000', 'mic@16000', 'mic@8000']);
    for (const lease of [second, wideband, beside]) lease.close();
    expect(provider.closed).toEqual([]);
    expect(keeper.openCount).toBe(3);
    await sleep(250);
    expect(provider.closed.sort()).toEqual(['mic@16000', 'mic@8000', 'mic@8000']);
    expect(keeper.openCount).toBe(0);
  });

  it('defer_device_release 0 closes at once', () => {
    const provider = new CountingProvider();
    const keeper = new DeviceKeeper(provider, { releaseDelayMs: 0, keepOpen: { input: false, output: false }, keepOpenRate: 16000, log });
    keeper.openOutput('speaker', 8000).close();
    expect(provider.closed).toEqual(['speaker@8000']);
  });

  it('keep-open (webrtc_audio_layer 3000): the selected devices open at once and stay open across streams; a new selection releases the old one', async () => {
    expect([0, 2, 500, 1000, 1002, 2001, 3000, 3002].map((layer) => keepOpenOf(layer))).toEqual([
      { input: false, output: false },
      { input: false, output: false },
      { input: false, output: false },
      { input: true, output: false },
      { input: true, output: false },
      { input: false, output: true },
      { input: true, output: true },
      { input: true, output: true },
    ]);
    const provider = new CountingProvider();
    const keeper = new DeviceKeeper(provider, { releaseDelayMs: 0, keepOpen: keepOpenOf(3000), keepOpenRate: 16000, log });
    const mic = provider.list().find((device) => device.id === 'mic');
    const speaker = provider.list().find((device) => device.id === 'speaker');
    keeper.keep({ input: mic, output: speaker });
    expect(provider.opened).toEqual(['mic@16000', 'speaker@16000']);
    // A call at 8 kHz takes the kept devices as they are (its stream resamples from 16 kHz).
    const lease = keeper.openInput('mic', 8000);
    expect(lease.sampleRate).toBe(16000);
    lease.close();
    keeper.openOutput('speaker', 8000).close();
    expect(provider.opened).toEqual(['mic@16000', 'speaker@16000']);
    expect(provider.closed).toEqual([]);
    // The built-in microphone is selected now: the headset's is released, the new one kept.
    keeper.keep({ input: provider.list().find((device) => device.id === 'builtin-mic'), output: speaker });
    expect(provider.closed).toEqual(['mic@16000']);
    expect(provider.opened.at(-1)).toBe('builtin-mic@16000');
    keeper.close();
    expect(provider.closed.sort()).toEqual(['builtin-mic@16000', 'mic@16000', 'speaker@16000']);
  });
});

describe('the endpoint holds its devices as the settings say', () => {
  it('webrtc_audio_layer 3000: microphone and speaker open when the endpoint starts, a call uses them without opening anything, they close when it stops', async () => {
    const provider = new CountingProvider();
    const agent = new Endpoint({ config: standaloneConfig('1301', testPorts(7), testPorts(50), { 'policy.endpoint.webrtc_audio_layer': '3000', 'policy.device.use_headset': '1', 'policy.device.headset_name': 'Jabra' }), devices: provider });
    const far = standaloneEndpoint('1302', testPorts(7), testPorts(50), 700, { 'policy.session.auto_answer': '1' });
    await agent.start();
    await far.endpoint.start();
    try {
      await waitFor(() => provider.opened.length === 2, 2000, 'the devices kept open');
      expect(provider.opened).toEqual(['mic@16000', 'speaker@16000']);
      const call = await agent.makeCall(`sip:1302@127.0.0.1:${far.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'CONNECTED', 5000, 'connected');
      // The call plays on the kept speaker (the far end's tone arrives) and opened nothing more.
      await waitFor(() => provider.recording('speaker').samples.length > 16000 * 0.5, 5000, 'the kept speaker plays');
      expect(provider.opened).toEqual(['mic@16000', 'speaker@16000']);
      await call.hangup();
      expect(provider.closed).toEqual([]);
    } finally {
      await agent.stop();
      await far.endpoint.stop();
    }
    expect(provider.closed.sort()).toEqual(['mic@16000', 'speaker@16000']);
  }, 20000);
});
