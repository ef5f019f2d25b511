import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EndpointConfig } from '@sip-endpoint/config';
import { ListenerError, ringingPlan, SafeEmitter, selectDevices } from '@sip-endpoint/policy';
import { waitFor } from '@sip-endpoint/test-support';
import { Ringer, TonePlayer, ToneGenerator, VirtualAudioProvider, writeWav } from '@sip-endpoint/media';
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
    // Ring until both files have looped (the speakers' 0.2 s file more than twice).
    await waitFor(() => provider.recording(speakers.id).samples.length > 8000 * 0.45 && provider.recording(headset.id).samples.length > 16000 * 0.35, 5000, 'both files looped');
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
    const { provider, plan, speakers } = setup({ 'policy.session.ringing_timeout': '1' });
    expect(plan.timeoutMs).toBe(1000);
    const ringer = await Ringer.start({ ...plan, timeoutMs: 300 }, provider, { baseDir: dir });
    await waitFor(() => ringer.playing === 0, 5000, 'the ringing to stop');
    expect(ringer.playing).toBe(0);
    // The limit is media time, 20 ms a tick: exactly 300 ms played on the system default (the 0.2 s
    // file once and a half: neither its end nor later), however late the ticks came (wall time is
    // no measure of it on a loaded machine).
    expect(provider.recording(speakers.id).samples.length).toBe(8000 * 0.3);
  });

  it('plays once through and is not stopped by the answer with ringing_enabled 6', async () => {
    const dir = await files();
    const { provider, plan, headset } = setup({ 'policy.session.ringing_enabled': '6' });
    const ringer = await Ringer.start(plan, provider, { baseDir: dir });
    ringer.answered();
    expect(ringer.playing).toBe(1);
    await waitFor(() => ringer.playing === 0, 5000, 'the file to end');
    expect(ringer.playing).toBe(0);
    // Once through (0.3 s, its last 20 ms frame maybe short), neither stopped early nor looped:
    // counted in samples, not in wall time.
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

  describe('listener errors', () => {
    const original = SafeEmitter.unhandled;
    afterEach(() => {
      SafeEmitter.unhandled = original;
    });

    it('reports an onError that throws (nothing listens to listenerError yet) and rings on the other outputs', async () => {
      const dir = await files();
      const { provider, plan } = setup({ 'policy.session.ringing_enabled': '3', 'policy.session.ringing_file': 'missing.wav' });
      const unhandled: ListenerError[] = [];
      SafeEmitter.unhandled = (error) => unhandled.push(error);
      const ringer = await Ringer.start(plan, provider, {
        baseDir: dir,
        onError: () => {
          throw new Error('a broken onError');
        },
      });
      expect(ringer.playing).toBe(1);
      expect(unhandled).toHaveLength(1);
      expect(unhandled[0]).toMatchObject({ code: 'ERR_LISTENER_THREW', source: 'Ringer', event: 'error' });
      ringer.stop();
    });

    it('reports a throwing listener as listenerError on the ringer, and the other listeners still run', async () => {
      const dir = await files();
      const { provider, plan } = setup({});
      const ringer = await Ringer.start(plan, provider, { baseDir: dir });
      const errors: ListenerError[] = [];
      const seen: string[] = [];
      ringer.on('listenerError', (error) => errors.push(error));
      ringer.on('error', () => {
        throw new Error('a broken listener');
      });
      ringer.on('error', (error) => seen.push(error.message));
      // The ringer's own errors come while it starts; a later one is emitted here as it would be.
      expect(() => ringer.emit('error', new Error('no such file'))).not.toThrow();
      expect(seen).toEqual(['no such file']);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(ListenerError);
      expect(errors[0]).toMatchObject({ code: 'ERR_LISTENER_THREW', source: 'Ringer', event: 'error' });
      ringer.stop();
    });
  });
});

describe('TonePlayer listener errors', () => {
  it('reports a throwing ended listener as listenerError on the player, and the other listeners still run', async () => {
    const provider = new VirtualAudioProvider({ defaults: false });
    const speaker = provider.addOutput({ name: 'Speaker' }, { record: true });
    const samples = new Int16Array(8000 * 0.1);
    new ToneGenerator(8000, [425], -10).fill(samples);
    const player = new TonePlayer(provider.openOutput(speaker.id, 8000), { sampleRate: 8000, channels: 1, format: 'pcm16', samples }, { loop: false });
    const errors: ListenerError[] = [];
    const reasons: string[] = [];
    player.on('listenerError', (error) => errors.push(error));
    player.on('ended', () => {
      throw new Error('a broken listener');
    });
    player.on('ended', (reason) => reasons.push(reason));
    await waitFor(() => !player.playing, 5000, 'the tone to finish');
    expect(reasons).toEqual(['finished']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ListenerError);
    expect(errors[0]).toMatchObject({ code: 'ERR_LISTENER_THREW', source: 'TonePlayer', event: 'ended' });
    expect(provider.recording(speaker.id).samples.length).toBe(800);
  });
});
