import type { AudioDevice } from '@sip-endpoint/policy';
import type { AudioDeviceProvider, AudioInput, AudioOutput } from '@sip-endpoint/media';

/** How a {@link DeviceKeeper} holds devices. */
export interface DeviceKeeperOptions {
  /**
   * `defer_device_release`: how long a device a stream closed stays open, in ms, so that a stream
   * that opens it again at once (a call after a call, a conference's leg back on its devices)
   * takes it as it is; 0 closes at once.
   */
  releaseDelayMs: number;
  /**
   * `webrtc_audio_layer` 1000, 2000, 3000 (and their 1001, 1002... forms): the selected microphone,
   * speaker or both are opened when the endpoint starts and kept open until it stops, so that no
   * call waits for a slow device to open.
   */
  keepOpen: { input: boolean; output: boolean };
  /** The rate kept-open devices run at (the native streams' device rate: streams resample from it). */
  keepOpenRate: number;
  log: (level: number, message: string) => void;
}

/** One opened device and who holds it. */
interface Held<T extends AudioInput | AudioOutput> {
  readonly kind: 'input' | 'output';
  readonly id: string;
  readonly device: T;
  /** A stream reads or writes it now (one stream at a time: two readers would share its frames). */
  leased: boolean;
  /** Kept open for the endpoint's life (keep-open mode, the selected device). */
  kept: boolean;
  /** The deferred release under way. */
  timer: NodeJS.Timeout | undefined;
}

/**
 * Opens the devices of calls and conferences on the endpoint's provider, and holds them as
 * `defer_device_release` and the keep-open modes of `webrtc_audio_layer` say: a stream gets a
 * lease of a device, and closing the lease hands the device back rather than closing it. A
 * device kept open, or one whose release is deferred and that was open at the rate asked, is
 * leased again without being reopened. A device is leased to one stream at a time; a second
 * stream on the same device (a held call beside the active one) opens its own.
 */
export class DeviceKeeper {
  readonly #provider: AudioDeviceProvider;
  readonly #options: DeviceKeeperOptions;
  readonly #held = new Set<Held<AudioInput> | Held<AudioOutput>>();
  #closed = false;

  constructor(provider: AudioDeviceProvider, options: DeviceKeeperOptions) {
    this.#provider = provider;
    this.#options = options;
  }

  /** How many devices are open now (leased, kept or waiting for their release), for tests and logs. */
  get openCount(): number {
    return this.#held.size;
  }

  /** A lease of a microphone at `sampleRate` (a kept-open one runs at its own rate: the stream resamples). */
  openInput(id: string, sampleRate: number): AudioInput {
    const { device, release } = this.#lease('input', id, sampleRate, () => this.#provider.openInput(id, sampleRate));
    return {
      device: device.device,
      sampleRate: device.sampleRate,
      read: (frame, length) => device.read(frame, length),
      close: release,
    };
  }

  /** A lease of a speaker at `sampleRate` (a kept-open one runs at its own rate). */
  openOutput(id: string, sampleRate: number): AudioOutput {
    const { device, release } = this.#lease('output', id, sampleRate, () => this.#provider.openOutput(id, sampleRate));
    return {
      device: device.device,
      sampleRate: device.sampleRate,
      get discards(): boolean {
        return device.discards === true;
      },
      write: (frame, length) => device.write(frame, length),
      close: release,
    };
  }

  /**
   * The endpoint's selection changed (or it started): in keep-open mode, the selected microphone
   * and speaker are opened now and kept; one kept before and no longer selected is released.
   */
  keep(selection: { input: AudioDevice | undefined; output: AudioDevice | undefined }): void {
    if (this.#closed) return;
    for (const kind of ['input', 'output'] as const) {
      if (!this.#options.keepOpen[kind]) continue;
      const wanted = selection[kind]?.id;
      for (const entry of [...this.#held]) {
        if (entry.kind !== kind || !entry.kept || entry.id === wanted) continue;
        entry.kept = false;
        if (!entry.leased) this.#release(entry);
      }
      if (wanted === undefined || [...this.#held].some((entry) => entry.kind === kind && entry.kept && entry.id === wanted)) continue;
      try {
        const rate = this.#options.keepOpenRate;
        const entry = kind === 'input' ? this.#add('input', wanted, this.#provider.openInput(wanted, rate)) : this.#add('output', wanted, this.#provider.openOutput(wanted, rate));
        entry.kept = true;
        this.#options.log(3, `the ${kind === 'input' ? 'microphone' : 'speaker'} ${wanted} is kept open (webrtc_audio_layer)`);
      } catch (error) {
        this.#options.log(2, `the ${kind === 'input' ? 'microphone' : 'speaker'} ${wanted} could not be kept open: ${(error as Error).message}`);
      }
    }
  }

  /** Closes every device it holds, leased or not (the endpoint stops: its calls are over). */
  close(): void {
    this.#closed = true;
    for (const entry of [...this.#held]) this.#close(entry);
  }

  /** The device a stream gets: one held that it may take, else one opened now; and the lease's close. */
  #lease<T extends AudioInput | AudioOutput>(kind: 'input' | 'output', id: string, sampleRate: number, open: () => T): { device: T; release: () => void } {
    const entry = (this.#take(kind, id, sampleRate) as Held<T> | undefined) ?? this.#add(kind, id, open());
    entry.leased = true;
    return { device: entry.device, release: this.#releaser(entry as Held<AudioInput> | Held<AudioOutput>) };
  }

  /** An idle device of this kind and id a stream may take: kept open (any rate), or released late at the same rate. */
  #take(kind: 'input' | 'output', id: string, sampleRate: number): Held<AudioInput> | Held<AudioOutput> | undefined {
    for (const entry of this.#held) {
      if (entry.kind !== kind || entry.id !== id || entry.leased) continue;
      if (!entry.kept && entry.device.sampleRate !== sampleRate) continue;
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = undefined;
      return entry;
    }
    return undefined;
  }

  #add<T extends AudioInput | AudioOutput>(kind: 'input' | 'output', id: string, device: T): Held<T> {
    const entry: Held<T> = { kind, id, device, leased: false, kept: false, timer: undefined };
    this.#held.add(entry as Held<AudioInput> | Held<AudioOutput>);
    return entry;
  }

  /** The lease's close: once, it hands the device back. */
  #releaser(entry: Held<AudioInput> | Held<AudioOutput>): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      entry.leased = false;
      if (!entry.kept) this.#release(entry);
    };
  }

  /** Closes a device no stream holds, now or after `releaseDelayMs`. */
  #release(entry: Held<AudioInput> | Held<AudioOutput>): void {
    const delay = this.#options.releaseDelayMs;
    if (this.#closed || delay <= 0) {
      this.#close(entry);
      return;
    }
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (!entry.leased && !entry.kept) this.#close(entry);
    }, delay);
    entry.timer.unref();
  }

  #close(entry: Held<AudioInput> | Held<AudioOutput>): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    this.#held.delete(entry);
    try {
      entry.device.close();
    } catch (error) {
      this.#options.log(2, `closing the ${entry.kind === 'input' ? 'microphone' : 'speaker'} ${entry.id}: ${(error as Error).message}`);
    }
  }
}

/** The keep-open part of `webrtc_audio_layer`: 1000 the microphone, 2000 the speaker, 3000 both (plus 0, 1, 2, and 500's MMCSS: Windows only). */
export function keepOpenOf(layer: number): { input: boolean; output: boolean } {
  const mode = Math.floor(layer / 1000);
  return { input: mode === 1 || mode === 3, output: mode === 2 || mode === 3 };
}
