// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { readdirSync, readFileSync } from 'node:fs';
import { AudioDeviceError, PulseAudioProvider, SoundServerError, ToneGenerator } from '@sip-endpoint/media';
import type { AudioDevice } from '@sip-endpoint/policy';
import { PulseAudioServer, waitFor } from '@sip-endpoint/test-support';
import { peerAvailable } from '../support/peers';
import { runClock, tick } from '../support/device-clock';
import { checkCapture, checkHotPlug, checkTonePlayback, checkVolumeAndMute } from '../support/pulse-provider-checks';
import { dominantFrequency, rms } from '../support/signal';

/**
 * The PulseAudio provider against a real server of its own (test-support's PulseAudioServer: null
 * sinks, no hardware, its own socket): the list, hot-plug, a tone played and recorded, a sound
 * reaching a microphone, volume and mute, the server dying in mid-stream, and the round-trip delay
 * of the provider's own playback and recording.
 */

const describePulse = peerAvailable('pulseaudio') ? describe : describe.skip;

describePulse('PulseAudioProvider against a private PulseAudio server', () => {
  let server: PulseAudioServer;
  let provider: PulseAudioProvider;
  const errors: SoundServerError[] = [];

  beforeAll(async () => {
    server = await PulseAudioServer.start({
      sinks: [
        { name: 'speaker', description: 'Test Speaker' },
        // Unicode and typographic quotes in the description, as localized cards have.
        { name: 'line', description: 'Ödd “quoted” Line' },
      ],
    });
    // A microphone that hears what is played into `line`: a real source (not a monitor) whose
    // master is line's monitor, flagged a headset as a USB headset's source is.
    await server.pactl('load-module', 'module-remap-source', 'master=line.monitor', 'source_name=mic', 'source_properties=\'device.description="Loopback Mic" device.form_factor=headset\'');
    await server.pactl('set-default-source', 'mic');
    provider = new PulseAudioProvider({ server: server.server, debounceMs: 50, retryMs: [100, 500] });
    provider.on('soundServerError', (error) => errors.push(error));
  }, 25_000);

  afterAll(async () => {
    provider?.close();
    await server?.stop();
  });

  it('lists the null sinks and the microphone by name and description, defaults first, without monitors', () => {
    const list = provider.list();
    expect(list).toEqual<AudioDevice[]>([
      { id: 'speaker', name: 'Test Speaker', kind: 'output', systemDefault: true },
      { id: 'line', name: 'Ödd “quoted” Line', kind: 'output' },
      { id: 'mic', name: 'Loopback Mic', kind: 'input', headset: true, systemDefault: true },
    ]);
    expect(list.some((device) => device.id.endsWith('.monitor'))).toBe(false);
    expect(provider.connected).toBe(true);
  });

  it('emits devicesChanged within a second when a headset is plugged in, and again when it is removed', async () => {
    await checkHotPlug(server, provider);
  });

  it('plays a tone through openOutput that the sink\'s monitor records at its frequency and level', async () => {
    // -10 dBFS peak is -13 dBFS RMS for a sine; the server passes it at 100 % volume.
    const median = await checkTonePlayback(server, provider);
    expect(median).toBeGreaterThan(-14.5);
    expect(median).toBeLessThan(-11.5);
  });

  it('gives openInput\'s frames what is played into the sink its source hears', async () => {
    await checkCapture(server, provider);
  });

  it('sends volume and mute to the server and reads what the server says back', async () => {
    await checkVolumeAndMute(server, provider);
  });

  it('refuses an absent device, a device of the other kind and an impossible rate with typed errors, odd names passed safely', () => {
    for (const id of ['nope', 'spa ce "quoted" \'single\' $(touch /tmp/pwned) ü', '--help', '']) {
      expect(() => provider.openOutput(id, 8000)).toThrow(AudioDeviceError);
      expect(() => provider.openInput(id, 8000)).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_DEVICE_NOT_FOUND' }));
      expect(() => provider.setVolume(id, 50)).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_DEVICE_NOT_FOUND' }));
    }
    expect(() => provider.openInput('speaker', 8000)).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_INVALID_ARGUMENT' }));
    expect(() => provider.openOutput('mic', 8000)).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_INVALID_ARGUMENT' }));
    for (const rate of [0, -8000, 44.1, 1_000_000, Number.NaN]) {
      expect(() => provider.openOutput('speaker', rate)).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_INVALID_ARGUMENT', message: expect.stringContaining('sample rate') }));
    }
    expect(() => provider.setVolume('speaker', 101)).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_INVALID_ARGUMENT' }));
  });

  it('says clearly when pactl is missing or no server answers', () => {
    expect(() => new PulseAudioProvider({ commands: { pactl: '/nonexistent/pactl' } })).toThrow(SoundServerError);
    expect(() => new PulseAudioProvider({ commands: { pactl: '/nonexistent/pactl' } })).toThrow(/install pulseaudio-utils/);
    expect(PulseAudioProvider.available({ commands: { pactl: '/nonexistent/pactl' } })).toBe(false);
    expect(PulseAudioProvider.available({ server: 'unix:/nonexistent/native' })).toBe(false);
    expect(PulseAudioProvider.available({ server: server.server })).toBe(true);
    // A server that does not answer is no error: an empty list, and retries in the background.
    const away = new PulseAudioProvider({ server: 'unix:/nonexistent/native' });
    try {
      expect(away.list()).toEqual([]);
      expect(away.connected).toBe(false);
    } finally {
      away.close();
    }
  });

  it('measures the round trip of its own playback and recording: a click written to a sink reaches the input on its monitor', async () => {
    const rate = 16000;
    const length = rate / 50;
    // A second microphone on speaker's monitor: what openOutput plays comes back on openInput.
    const remap = Number((await server.pactl('load-module', 'module-remap-source', 'master=speaker.monitor', 'source_name=speaker_loop', 'source_properties=\'device.description="Speaker Loop"\'')).trim());
    await waitFor(() => provider.list().some((device) => device.id === 'speaker_loop'), 2000, 'the loop source listed');
    const output = provider.openOutput('speaker', rate);
    const input = provider.openInput('speaker_loop', rate);
    try {
      const delays: number[] = [];
      /** What the output said waited ahead of the device when each heard click was written, in ms. */
      const queuedAtClick: number[] = [];
      // One click at a time: the next only once the last was heard (or after 2.5 s), so that a
      // delay longer than the spacing of the clicks cannot pass for a short one.
      let clickAt = -1;
      let clickQueued = 0;
      let nextClick = 50;
      let dropped = 0;
      await runClock(9000, rate, {
        input,
        output,
        // A click at the start of a frame, the first a second in (both streams settle meanwhile).
        fill: (() => {
          let index = 0;
          return (frame: Int16Array) => {
            frame.fill(0);
            if (index === nextClick) {
              frame.fill(20000, 0, 16);
              clickAt = index;
              nextClick = index + 125;
            }
            index++;
          };
        })(),
        onFrame: (frame, index) => {
          const stats = output.stats();
          if (index === clickAt) {
            // A click the output dropped (its stream not playing yet: a null sink starts a new
            // stream up to 2 s late) is never heard: another one soon.
            if (stats.droppedSamples > dropped) {
              clickAt = -1;
              nextClick = index + 10;
            } else clickQueued = (stats.queued * 1000) / rate; // as it was just before the click's frame
          }
          dropped = stats.droppedSamples;
          if (clickAt < 0 || index < clickAt) return;
          const at = frame.findIndex((sample) => Math.abs(sample) > 5000);
          if (at >= 0) {
            delays.push(((index - clickAt) * length + at) / (rate / 1000));
            queuedAtClick.push(clickQueued);
            clickAt = -1;
            nextClick = Math.min(nextClick, index + 10);
          }
        },
      });
      const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
      const roundTrip = median(delays);
      process.stdout.write(
        `PulseAudio round trip (pacat -> null sink -> monitor -> remap source -> parec): median ${roundTrip.toFixed(1)} ms of ${delays.map((d) => d.toFixed(0)).join(', ')} ms; ` +
          `ahead of the device at each click ${queuedAtClick.map((d) => d.toFixed(0)).join(', ')} ms; ${JSON.stringify({ output: output.stats(), input: input.stats() })}\n`,
      );
      expect(delays.length).toBeGreaterThanOrEqual(3);
      // Measured: medians of 61-89 ms over eleven runs on a 2-core machine, idle and with three
      // busy loops beside it (output 15-60 ms of it per click, input 30-55); before pacat's clock
      // was read, 1.3-1.7 s (README, "PulseAudio devices"). Each way is bounded by construction:
      // the output by outputQueueMs (80), the input by a frame and inputLatencyMs (40) plus
      // parec's delivery. The bounds leave room for a slower machine, not for a delay line.
      expect(median(queuedAtClick)).toBeLessThan(100);
      expect(median(delays.map((delay, i) => delay - queuedAtClick[i]!))).toBeLessThan(100);
      expect(roundTrip).toBeLessThan(180);
    } finally {
      output.close();
      input.close();
      await server.unload(remap);
    }
  }, 20_000);

  it('survives the server dying in mid-stream: silence and dropped frames meanwhile, the devices back when it returns', async () => {
    const rate = 8000;
    const input = provider.openInput('mic', rate);
    const output = provider.openOutput('speaker', rate);
    const lists: AudioDevice[][] = [];
    const connection: boolean[] = [];
    const onList = (list: AudioDevice[]): void => void lists.push(list);
    const onConnection = (connected: boolean): void => void connection.push(connected);
    provider.on('devicesChanged', onList);
    provider.on('connectionChanged', onConnection);
    try {
      await runClock(300, rate, { input, output });
      expect(input.stats().running).toBe(true);
      await server.kill();
      // The clock goes on while it is away: no throw, silence read, frames dropped.
      const during = await runClock(1000, rate, { input, output });
      expect(rms(during.subarray(during.length / 2))).toBe(0);
      expect(input.stats().running).toBe(false);
      expect(output.stats().running).toBe(false);
      expect(output.stats().droppedSamples).toBeGreaterThan(0);
      expect(provider.list()).toEqual([]);
      expect(lists[lists.length - 1]).toEqual([]);
      // Lost once, and never back while it is away: a device list read just before the kill
      // and answered after it is stale, not a sign of life (applied, it once showed the dead
      // server connected for a moment on a loaded CI run).
      expect(connection).toEqual([false]);
      expect(errors.some((error) => error.code === 'ERR_MEDIA_SOUND_SERVER')).toBe(true);

      await server.restart();
      await server.pactl('load-module', 'module-remap-source', 'master=line.monitor', 'source_name=mic', 'source_properties=\'device.description="Loopback Mic" device.form_factor=headset\'');
      await waitFor(() => provider.list().some((device) => device.id === 'mic') && input.stats().running && output.stats().running, 5000, 'the devices and both streams back').catch((error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify({ list: provider.list(), input: input.stats(), output: output.stats(), errors: errors.map((e) => e.message) })}`);
      });
      expect(connection).toEqual([false, true]);
      expect(lists[lists.length - 1]!.map((device) => device.id)).toEqual(expect.arrayContaining(['speaker', 'line', 'mic']));
      expect(input.stats().restarts).toBeGreaterThanOrEqual(1);

      // The same input hears again, at once. It used to hear only zeros for its first second at
      // times (three tries were allowed): not the provider but the test's server. The restarted
      // server's null sinks idled in 2 s blocks, and the new parec on `mic` (a remap of line's
      // monitor) and the pacat playing into `line` both waited for the next block, up to 2 s.
      // test-support's PulseAudioServer now keeps its sinks awake (a 10 ms stream of zeros each).
      const tone = new Int16Array(rate);
      new ToneGenerator(rate, [500], -6).fill(tone, tone.length);
      const [, heard] = await Promise.all([server.play('line', tone, rate), runClock(1500, rate, { input, output })]);
      const frequency = dominantFrequency(heard, rate);
      expect(frequency).toBeCloseTo(500, -1);
    } finally {
      provider.off('devicesChanged', onList);
      provider.off('connectionChanged', onConnection);
      input.close();
      output.close();
    }
  }, 30_000);

  /** The `pactl subscribe` processes talking to `address` (their PULSE_SERVER), from /proc. */
  function subscribers(address: string): number[] {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'pactl\0subscribe\0' && readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`PULSE_SERVER=${address}`);
        } catch {
          return false;
        }
      })
      .map(Number);
  }

  it('close() ends every child: the streams\' and the subscriber\'s clients leave the server', async () => {
    // Its own server address (the same socket, spelt differently), to tell its subscriber from the shared provider's.
    const address = server.server.replace('unix:/', 'unix://');
    const own = new PulseAudioProvider({ server: address, clientName: 'sep-close-test' });
    expect(subscribers(address)).toHaveLength(1);
    own.openInput('mic', 8000);
    own.openOutput('speaker', 8000);
    const clients = async (): Promise<string> => server.pactl('list', 'clients');
    const deadline = Date.now() + 3000;
    while ((await clients()).split('application.name = "sep-close-test"').length - 1 < 2) {
      if (Date.now() > deadline) throw new Error('the stream clients never showed');
      await tick();
    }
    own.close();
    own.close();
    const gone = Date.now() + 3000;
    while ((await clients()).includes('sep-close-test')) {
      if (Date.now() > gone) throw new Error('the stream clients stayed after close()');
      await tick();
    }
    await waitFor(() => subscribers(address).length === 0, 2000, 'the subscriber gone');
    expect(() => own.openInput('mic', 8000)).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_INVALID_ARGUMENT' }));
  });
});
