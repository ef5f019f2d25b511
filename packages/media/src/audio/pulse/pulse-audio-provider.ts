import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { SafeEmitter, type AudioDevice } from '@sip-endpoint/policy';
import type { AudioDeviceProvider, AudioDeviceProviderEvents } from '../audio-device-provider';
import { AudioDeviceError } from '../virtual-audio-provider';
import { parseDefaults, parseDeviceList, parseEvent, toAudioDevices, type PulseDeviceInfo } from './pactl-text';
import { PulseInput, PulseOutput, type ChildStream, type PulseAudioInput, type PulseAudioOutput, type StreamContext } from './pulse-streams';
import { SoundServerError } from './sound-server-error';

/** Options of {@link PulseAudioProvider}. @public */
export interface PulseAudioProviderOptions {
  /**
   * The server every child talks to (their `PULSE_SERVER`), e.g. `unix:/run/user/1000/pulse/native`.
   * @defaultValue the environment's `PULSE_SERVER`, else the user's own server
   */
  server?: string;
  /** Where `pactl`, `pacat` and `parec` are. @defaultValue found on the PATH */
  commands?: { pactl?: string; pacat?: string; parec?: string };
  /** The client name the server shows for the SDK's streams. @defaultValue 'sip-endpoint' */
  clientName?: string;
  /** `pacat --latency-msec` of playback. @defaultValue 40 */
  outputLatencyMs?: number;
  /** `parec --latency-msec` of recording: how often it delivers. @defaultValue 20 */
  inputLatencyMs?: number;
  /**
   * Recorded audio kept for a late reader at most (older audio is dropped). What stays between
   * reads is less: a frame and `inputLatencyMs`, the rest dropped within half a second. @defaultValue 100
   */
  inputBufferMs?: number;
  /**
   * Played audio that may wait ahead of what the device has played, in the pipe, in `pacat` and in
   * the server (newer frames are dropped beyond it): the most the output adds to the delay. It
   * is measured (what was written less what pacat's clock says was played), so it holds whatever
   * the device does. Lower gives less delay and more underruns when the media clock comes late
   * (the pacat stream holds `outputLatencyMs` of it). @defaultValue 80
   */
  outputQueueMs?: number;
  /** How long the list waits after a hot-plug event for the others that come with it. @defaultValue 100 */
  debounceMs?: number;
  /** Backoff of reconnecting to a server that went away, and of restarting a stream's child: the first delay, doubled up to the second. @defaultValue [250, 4000] */
  retryMs?: readonly [number, number];
  /** What the provider has to say (a stalled playback, a reconnection); nothing by default. */
  log?: (level: 'warn' | 'info' | 'debug', message: string) => void;
}

/** Events of a {@link PulseAudioProvider}. @public */
export type PulseAudioProviderEvents = AudioDeviceProviderEvents & {
  /** Something failed away from any caller: a stream's child stopped, a volume command was refused, the server went away. */
  soundServerError: [SoundServerError];
  /** The server answers (true) or went away (false). */
  connectionChanged: [boolean];
};

/** The widest rates PulseAudio takes (`PA_RATE_MAX` is 384 kHz; PipeWire's pulse server takes the same). */
const MAX_RATE = 384_000;

interface DeviceState {
  info: PulseDeviceInfo;
  device: AudioDevice;
}

/**
 * The microphones and speakers of a PulseAudio server (or of PipeWire through its PulseAudio
 * server, `pipewire-pulse`), driven through the `pulseaudio-utils` programs: `pactl` for the list,
 * the defaults, volume, mute and hot-plug (`pactl subscribe`), a `parec` child per open
 * microphone and a `pacat` child per open speaker.
 *
 * @remarks
 * The constructor reads the list once, synchronously (a few milliseconds), so that `list()` is
 * right at once; later reads are asynchronous. Without `pactl` it throws a
 * {@link SoundServerError}; {@link PulseAudioProvider.available} asks first. A server that does
 * not answer is no error: the list is empty, the provider tries again with backoff, and emits
 * `devicesChanged` when the server answers. Volume and mute are the server's own (what the desktop's
 * mixer shows): `setVolume` and `setMuted` send them, the getters give the last value read back.
 * Call {@link PulseAudioProvider.close} when done: it ends the `pactl subscribe` child and every
 * stream's child.
 *
 * @public
 */
export class PulseAudioProvider extends SafeEmitter<PulseAudioProviderEvents> implements AudioDeviceProvider {
  readonly #env: NodeJS.ProcessEnv;
  readonly #pactl: string;
  readonly #context: StreamContext;
  readonly #debounceMs: number;
  readonly #retryMs: readonly [number, number];
  readonly #log: (level: 'warn' | 'info' | 'debug', message: string) => void;
  readonly #streams = new Set<ChildStream>();
  #devices = new Map<string, DeviceState>();
  #list: AudioDevice[] = [];
  #signature = '[]';
  #connected = false;
  /** How many times the server went away: a read begun before the last loss is stale. */
  #losses = 0;
  #closed = false;
  #subscriber: ChildProcess | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #reconnect: NodeJS.Timeout | undefined;
  #reconnectDelay: number;
  #refreshing: Promise<AudioDevice[]> | undefined;
  #refreshAgain = false;

  constructor(options: PulseAudioProviderOptions = {}) {
    super();
    this.#env = childEnv(options.server);
    this.#pactl = options.commands?.pactl ?? 'pactl';
    this.#debounceMs = options.debounceMs ?? 100;
    this.#retryMs = options.retryMs ?? [250, 4000];
    this.#reconnectDelay = this.#retryMs[0];
    this.#log = options.log ?? (() => {});
    this.#context = {
      env: this.#env,
      pacat: options.commands?.pacat ?? 'pacat',
      parec: options.commands?.parec ?? 'parec',
      clientName: options.clientName ?? 'sip-endpoint',
      outputLatencyMs: options.outputLatencyMs ?? 40,
      inputLatencyMs: options.inputLatencyMs ?? 20,
      inputBufferMs: options.inputBufferMs ?? 100,
      outputQueueMs: options.outputQueueMs ?? 80,
      retryMs: this.#retryMs,
      report: (error) => this.#report(error),
      log: (level, message) => this.#log(level, message),
      closed: (stream) => this.#streams.delete(stream),
    };
    this.#readSync();
    // Without a server it exits at once, and its exit starts the reconnection.
    this.#subscribe();
  }

  /**
   * Whether `pactl` can be run and a server answers it (the one of `options.server`, else the
   * user's own), asked synchronously. False on a machine without pulseaudio-utils or without a
   * sound server: keep the virtual devices there.
   */
  static available(options: Pick<PulseAudioProviderOptions, 'server' | 'commands'> = {}): boolean {
    const info = spawnSync(options.commands?.pactl ?? 'pactl', ['info'], { env: childEnv(options.server), encoding: 'utf8', timeout: 2000 });
    return !info.error && info.status === 0;
  }

  /** Whether the server answered the last time the provider asked. */
  get connected(): boolean {
    return this.#connected;
  }

  list(): AudioDevice[] {
    return [...this.#list];
  }

  /**
   * Reads the list again now (hot-plug events do it by themselves); emits `devicesChanged` when it
   * differs. Rejects with a {@link SoundServerError} when the server does not answer.
   */
  refresh(): Promise<AudioDevice[]> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    const run = async (): Promise<AudioDevice[]> => {
      try {
        do {
          this.#refreshAgain = false;
          const losses = this.#losses;
          const [list, info] = await Promise.all([this.#pactlRun(['list']), this.#pactlRun(['info'])]);
          // Read before the server went away (its subscriber ended meanwhile): stale, and not a
          // sign of life; the reconnection reads again. (Applied, it once reported the dead
          // server connected for a moment.)
          if (this.#losses !== losses) break;
          this.#apply(list, info);
        } while (this.#refreshAgain && !this.#closed);
        return this.list();
      } finally {
        this.#refreshing = undefined;
      }
    };
    this.#refreshing = run();
    return this.#refreshing;
  }

  openInput(id: string, sampleRate: number): PulseAudioInput {
    const device = this.#open(id, sampleRate, 'input');
    const input = new PulseInput(device, sampleRate, this.#context);
    this.#streams.add(input);
    input.start();
    return input;
  }

  openOutput(id: string, sampleRate: number): PulseAudioOutput {
    const device = this.#open(id, sampleRate, 'output');
    const output = new PulseOutput(device, sampleRate, this.#context);
    this.#streams.add(output);
    output.start();
    return output;
  }

  setMuted(id: string, muted: boolean): void {
    const state = this.#state(id);
    state.info.muted = muted;
    this.#command([state.info.kind === 'output' ? 'set-sink-mute' : 'set-source-mute', id, muted ? '1' : '0'], id);
  }

  isMuted(id: string): boolean {
    return this.#state(id).info.muted;
  }

  setVolume(id: string, volume: number): void {
    if (!(volume >= 0 && volume <= 100)) throw new AudioDeviceError('ERR_MEDIA_INVALID_ARGUMENT', `volume must be 0 to 100, not ${volume}`);
    const state = this.#state(id);
    const percent = Math.round(volume);
    state.info.volume = percent;
    this.#command([state.info.kind === 'output' ? 'set-sink-volume' : 'set-source-volume', id, `${percent}%`], id);
  }

  /** The device's volume as last read from the server (or set here), 0 to 100 (a server's boost above 100 % reads as 100). */
  getVolume(id: string): number {
    return Math.min(100, this.#state(id).info.volume);
  }

  /** Ends the `pactl subscribe` child, every open stream's child and every timer. Calling it twice is harmless. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#debounce);
    clearTimeout(this.#reconnect);
    this.#stopSubscriber();
    for (const stream of [...this.#streams]) stream.close();
  }

  /** Same as {@link PulseAudioProvider.close}. */
  dispose(): void {
    this.close();
  }

  #open(id: string, sampleRate: number, kind: 'input' | 'output'): AudioDevice {
    if (this.#closed) throw new AudioDeviceError('ERR_MEDIA_INVALID_ARGUMENT', 'the PulseAudio provider is closed');
    if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > MAX_RATE) {
      throw new AudioDeviceError('ERR_MEDIA_INVALID_ARGUMENT', `PulseAudio takes whole sample rates from 1 to ${MAX_RATE} Hz, not ${sampleRate}`);
    }
    const state = this.#state(id);
    if (state.device.kind !== kind) throw new AudioDeviceError('ERR_MEDIA_INVALID_ARGUMENT', `${state.device.name} is not a ${kind === 'input' ? 'microphone' : 'speaker'}`);
    return state.device;
  }

  #state(id: string): DeviceState {
    const state = this.#devices.get(id);
    if (!state) throw new AudioDeviceError('ERR_MEDIA_DEVICE_NOT_FOUND', `the sound server has no device ${JSON.stringify(id)}${this.#connected ? '' : ' (it does not answer now)'}`);
    return state;
  }

  /** The first read, synchronous so that `list()` is right when the constructor returns. */
  #readSync(): void {
    const run = (args: string[]): string | undefined => {
      const result = spawnSync(this.#pactl, args, { env: this.#env, encoding: 'utf8', timeout: 2000, maxBuffer: 16 << 20 });
      // No pactl at all is the one failure that will not mend by itself.
      if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' || (result.error as NodeJS.ErrnoException | undefined)?.code === 'EACCES') {
        throw new SoundServerError(`${this.#pactl} cannot be run (${result.error!.message}): install pulseaudio-utils (it works with PulseAudio, and with PipeWire through pipewire-pulse), or use the VirtualAudioProvider`);
      }
      return result.error || result.status !== 0 ? undefined : result.stdout;
    };
    const info = run(['info']);
    const list = info === undefined ? undefined : run(['list']);
    if (info === undefined || list === undefined) {
      this.#log('warn', 'the sound server does not answer pactl: no devices until it does');
      return;
    }
    this.#apply(list, info, false);
  }

  #apply(listText: string, infoText: string, notify = true): void {
    if (this.#closed) return;
    const all = parseDeviceList(listText);
    const list = toAudioDevices(all, parseDefaults(infoText));
    const infos = new Map(all.map((info) => [info.name, info]));
    this.#devices = new Map(list.map((device) => [device.id, { device, info: infos.get(device.id)! }]));
    this.#setConnected(true);
    this.#setList(list, notify);
  }

  #setList(list: AudioDevice[], notify = true): void {
    this.#list = list;
    const signature = JSON.stringify(list);
    if (signature === this.#signature) return;
    this.#signature = signature;
    if (notify) this.emit('devicesChanged', this.list());
  }

  #setConnected(connected: boolean): void {
    if (connected === this.#connected) return;
    this.#connected = connected;
    this.#log('info', connected ? 'the sound server answers' : 'the sound server went away');
    this.emit('connectionChanged', connected);
    if (connected) {
      this.#reconnectDelay = this.#retryMs[0];
      // Streams waiting out a backoff start now rather than up to its last delay later.
      for (const stream of this.#streams) stream.retryNow();
    }
  }

  #pactlRun(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.#pactl, args, { env: this.#env, encoding: 'utf8', timeout: 3000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
        if (error) reject(new SoundServerError(`pactl ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      });
    });
  }

  /** A volume or mute command: `--` first, so that a name or value starting with `-` is no option. */
  #command(args: string[], id: string): void {
    this.#pactlRun(['--', ...args]).catch((error: SoundServerError) => this.#report(new SoundServerError(error.message, id)));
  }

  #report(error: SoundServerError): void {
    this.#log('warn', error.message);
    this.emit('soundServerError', error);
  }

  /** `pactl subscribe`: one line per event of the server, for as long as it runs. */
  #subscribe(): void {
    if (this.#closed || this.#subscriber) return;
    let child: ChildProcess;
    try {
      child = spawn(this.#pactl, ['subscribe'], { env: this.#env, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch (error) {
      this.#lost(`pactl subscribe cannot start: ${(error as Error).message}`);
      return;
    }
    this.#subscriber = child;
    // The watcher must not keep a host's process alive by itself.
    child.unref();
    const stdout = child.stdout as (NodeJS.ReadableStream & { unref?: () => void }) | null;
    stdout?.unref?.();
    let pending = '';
    stdout?.setEncoding('utf8');
    stdout?.on('data', (text: string) => {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const event = parseEvent(line);
        // Sinks and sources come and go, change port (a headset jack) or volume; the server
        // changes its defaults; a card changes profile.
        if (event && (event.facility === 'sink' || event.facility === 'source' || event.facility === 'server' || event.facility === 'card')) this.#scheduleRefresh();
      }
    });
    child.on('error', (error) => {
      if (this.#subscriber !== child) return;
      this.#subscriber = undefined;
      this.#lost(`pactl subscribe: ${error.message}`);
    });
    child.on('exit', (code, signal) => {
      if (this.#subscriber !== child) return;
      this.#subscriber = undefined;
      this.#lost(`pactl subscribe exited (${signal ?? `code ${code}`})`);
    });
  }

  #stopSubscriber(): void {
    const child = this.#subscriber;
    this.#subscriber = undefined;
    if (!child) return;
    child.stdout?.destroy();
    child.kill('SIGKILL');
  }

  #scheduleRefresh(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.refresh().catch(() => {
        // The server went away: the subscriber's exit says so and reconnects.
      });
    }, this.#debounceMs);
    this.#debounce.unref();
  }

  /**
   * The subscriber stopped: the server restarted or died. The list empties (`devicesChanged`
   * with none) and reconnection begins, with backoff.
   */
  #lost(reason: string): void {
    if (this.#closed) return;
    this.#log('debug', reason);
    if (this.#connected) this.#report(new SoundServerError(`the sound server went away (${reason}); reconnecting`));
    this.#losses++;
    this.#devices = new Map();
    this.#setConnected(false);
    this.#setList([]);
    clearTimeout(this.#reconnect);
    this.#reconnect = setTimeout(() => this.#reconnectNow(), this.#reconnectDelay);
    this.#reconnect.unref();
    this.#reconnectDelay = Math.min(this.#reconnectDelay * 2, this.#retryMs[1]);
  }

  /**
   * The subscriber first, the list after: a device added between the two is in the list, or
   * its event reads the list again. A server still away ends the subscriber, which tries again.
   */
  #reconnectNow(): void {
    this.#reconnect = undefined;
    this.#subscribe();
    this.refresh().catch(() => {
      // The subscriber's exit follows, and schedules the next attempt.
    });
  }
}

/** The children's environment: English headings from pactl (parsed by us), and the chosen server. */
function childEnv(server: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  if (server !== undefined) env['PULSE_SERVER'] = server;
  return env;
}
