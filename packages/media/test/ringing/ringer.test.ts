import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EndpointConfig } from '@sip-endpoint/config';
import { ringingPlan, selectDevices } from '@sip-endpoint/policy';
import { Ringer, ToneGenerator, VirtualAudioProvider, writeWav } from '@sip-endpoint/media';
import { sleep } from '../support/engines';
import { dominantFrequency } from '../support/signal';

async function files(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sep-ring-'));
  const make = async (name: string, f: number, seconds: number, rate = 8000) => {
    const samples = new Int16Array(rate * seconds);
    new ToneGenerator(rate, [f], -10).fill(samples);
    await writeWav(join(dir, name), { sampleRate: rate, channels: 1, samples });
  };
  await make('ringing.wav', 425, 0.2);
  await make('headset.wav', 800, 0.3, 16000);
  return dir;
}

function setup(settings: Record<string, string>) {
  const provider = new VirtualAudioProvider({ defaults: false });
  provider.addInput({ name: 'Microphone (Realtek)' });
  const speakers = provider.addOutput({ name: 'Speakers (Realtek)', systemDefault: true }, { record: true });
  provider.addInput({ name: 'Headset Microphone (Jabra)' });
  const headset = provider.addOutput({ name: 'Headset Earphone (Jabra)' }, { record: true });
  const config = EndpointConfig.defaults().with({ 'policy.device.use_headset': '1', 'policy.device.headset_name': 'Jabra', 'policy.session.ringing_file': 'headset.wav', ...settings });
  const devices = provider.list();
  const plan = ringingPlan({ config, devices, calls: [], selection: selectDevices({ config, devices }) });
  return { provider, plan, speakers, headset };
}

describe('Ringer', () => {
  it('rings on the system default and the headset with their own files (ringing_enabled 3), looping until answered', async () => {
    const dir = await files();
    const { provider, plan, speakers, headset } = setup({ 'policy.session.ringing_enabled': '3' });
    const ringer = await Ringer.start(plan, provider, { baseDir: dir });
    await sleep(600);
    expect(ringer.playing).toBe(2);
    ringer.answered();
    expect(ringer.playing).toBe(0);
    const onSpeakers = provider.recording(speakers.id);
    const onHeadset = provider.recording(headset.id);
    expect(onSpeakers.samples.length).toBeGreaterThan(onSpeakers.sampleRate * 0.4); // longer than the 0.2 s file: looped
    expect(dominantFrequency(onSpeakers.samples, onSpeakers.sampleRate)).toBe(425);
    expect(onHeadset.sampleRate).toBe(16000);
    expect(dominantFrequency(onHeadset.samples, 16000)).toBe(800);
  });

  it('stops at ringing_timeout', async () => {
    const dir = await files();
    const { provider, plan } = setup({ 'policy.session.ringing_timeout': '1' });
    expect(plan.timeoutMs).toBe(1000);
    const ringer = await Ringer.start({ ...plan, timeoutMs: 200 }, provider, { baseDir: dir });
    await sleep(450);
    expect(ringer.playing).toBe(0);
  });

  it('plays once through and is not stopped by the answer with ringing_enabled 6', async () => {
    const dir = await files();
    const { provider, plan, headset } = setup({ 'policy.session.ringing_enabled': '6' });
    const ringer = await Ringer.start(plan, provider, { baseDir: dir });
    ringer.answered();
    expect(ringer.playing).toBe(1);
    await sleep(600);
    expect(ringer.playing).toBe(0);
    const played = provider.recording(headset.id).samples.length;
    expect(played).toBeGreaterThanOrEqual(16000 * 0.3 - 320);
    expect(played).toBeLessThanOrEqual(16000 * 0.3);
  });

  it('reports a missing file and rings on the other outputs', async () => {
    const dir = await files();
    const { provider, plan } = setup({ 'policy.session.ringing_enabled': '3', 'policy.session.ringing_file': 'missing.wav' });
    const errors: Error[] = [];
    const ringer = await Ringer.start(plan, provider, { baseDir: dir, onError: (error) => errors.push(error) });
    expect(errors).toHaveLength(1);
    expect(ringer.playing).toBe(1);
    ringer.stop();
    ringer.stop();
  });
});
