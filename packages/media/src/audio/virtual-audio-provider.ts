import { SafeEmitter, type AudioDevice } from '@sip-endpoint/policy';
import { SipEndpointError } from '@sip-endpoint/config';
import type { AudioDeviceProvider, AudioDeviceProviderEvents, AudioInput, AudioOutput } from './audio-device-provider';
import { Resampler } from './resampler';
import { ToneGenerator } from './tones';
import { toMono, type WavAudio } from './wav';

/** What a virtual microphone produces. @public */
export type VirtualSource =
  | { kind: 'silence' }
  | { kind: 'tone'; frequencies: readonly number[]; levelDbfs?: number }
  | { kind: 'wav'; audio: WavAudio; loop?: boolean }
  | { kind: 'function'; fill: (frame: Int16Array, length: number, sampleRate: number) => void };

/** A virtual device to add. @public */
export interface VirtualDeviceSpec {
  name: string;
  /** Default: derived from the name. */
  id?: string;
  headset?: boolean;
  systemDefault?: boolean;
}

/**
 * A device could not be found or opened: code `ERR_MEDIA_DEVICE_NOT_FOUND` for an id no device
 * has, `ERR_MEDIA_INVALID_ARGUMENT` for a device of the wrong kind, a volume outside 0..100, or an
 * id already present.
 *
 * @public
 */
export class AudioDeviceError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_DEVICE_NOT_FOUND' | 'ERR_MEDIA_INVALID_ARGUMENT';

  constructor(code: 'ERR_MEDIA_DEVICE_NOT_FOUND' | 'ERR_MEDIA_INVALID_ARGUMENT', message: string) {
    super(code, message);
  }
}

interface DeviceState {
  device: AudioDevice;
  muted: boolean;
  volume: number;
  source?: VirtualSource;
  recorder?: Recorder;
}

/**
 * What a recording speaker played: every stream open on it mixed (summed, saturated) at its own
 * place in time, as a sound card mixes, at the rate of the first stream opened (others resampled).
 * Positions are absolute sample counts, so that clearing keeps the streams in step.
 */
interface Recorder {
  rate: number | undefined;
  buffer: Int16Array;
  /** Absolute position of buffer[0] and one past the last sample. */
  start: number;
  end: number;
}

function mixInto(recorder: Recorder, at: number, frame: Int16Array, length: number, gain: number): number {
  let from = 0;
  if (at < recorder.start) {
    from = Math.min(length, recorder.start - at);
    at = recorder.start;
  }
  const needed = at - recorder.start + (length - from);
  if (needed > recorder.buffer.length) {
    const grown = new Int16Array(Math.max(needed, recorder.buffer.length * 2, 8000));
    grown.set(recorder.buffer.subarray(0, recorder.end - recorder.start));
    recorder.buffer = grown;
  }
  const buffer = recorder.buffer;
  let offset = at - recorder.start;
  for (let i = from; i < length; i++, offset++) {
    const value = (offset < recorder.end - recorder.start ? buffer[offset]! : 0) + Math.round(frame[i]! * gain);
    buffer[offset] = value > 32767 ? 32767 : value < -32768 ? -32768 : value;
  }
  recorder.end = Math.max(recorder.end, at + (length - from));
  return at + (length - from);
}

function gainOf(volume: number): number {
  return volume >= 100 ? 1 : (volume / 100) ** 2;
}

/**
 * Audio devices without a sound card: microphones that play silence, tones, WAV files or any
 * function, and speakers that discard or record what they get. Devices are plugged and unplugged
 * in code, which emits `devicesChanged` as a sound system would, so that headless agents, tests and
 * the headset rules of the policy all work on any machine.
 *
 * @public
 */
export class VirtualAudioProvider extends SafeEmitter<AudioDeviceProviderEvents> implements AudioDeviceProvider {
  /** Its devices carry files, tones and recorders, not a sound system's audio. */
  readonly virtual = true;
  readonly #devices = new Map<string, DeviceState>();

  /**
   * @param options - `defaults: true` (the default) adds "Default Microphone" (silence) and
   * "Default Speaker" (records nothing), as the endpoint uses when given no provider.
   */
  constructor(options: { defaults?: boolean } = {}) {
    super();
    if (options.defaults ?? true) {
      this.addInput({ name: 'Default Microphone', id: 'default-microphone', systemDefault: true }, { kind: 'silence' }, false);
      this.addOutput({ name: 'Default Speaker', id: 'default-speaker', systemDefault: true }, { record: false }, false);
    }
  }

  list(): AudioDevice[] {
    return [...this.#devices.values()].map((state) => state.device);
  }

  /** Plugs in a microphone. */
  addInput(spec: VirtualDeviceSpec, source: VirtualSource = { kind: 'silence' }, notify = true): AudioDevice {
    return this.#add(spec, 'input', { source }, notify);
  }

  /** Plugs in a speaker; with `record: true` it keeps what is played (see {@link VirtualAudioProvider.recording}). */
  addOutput(spec: VirtualDeviceSpec, options: { record?: boolean } = {}, notify = true): AudioDevice {
    return this.#add(spec, 'output', options.record ? { recorder: { rate: undefined, buffer: new Int16Array(0), start: 0, end: 0 } } : {}, notify);
  }

  /** Unplugs a device. Open streams on it go silent. */
  remove(id: string): void {
    if (this.#devices.delete(id)) this.emit('devicesChanged', this.list());
  }

  /**
   * What a recording speaker has played so far: the streams open on it mixed, at the rate of the
   * first one opened.
   */
  recording(id: string): { sampleRate: number; samples: Int16Array } {
    const recorder = this.#state(id).recorder;
    if (!recorder) return { sampleRate: 8000, samples: new Int16Array(0) };
    return { sampleRate: recorder.rate ?? 8000, samples: recorder.buffer.slice(0, recorder.end - recorder.start) };
  }

  /** Forgets what a recording speaker has played (streams go on from where they are). */
  clearRecording(id: string): void {
    const recorder = this.#state(id).recorder;
    if (!recorder) return;
    recorder.start = recorder.end;
    recorder.buffer = new Int16Array(0);
  }

  openInput(id: string, sampleRate: number): AudioInput {
    const state = this.#state(id);
    if (state.device.kind !== 'input') throw new AudioDeviceError('ERR_MEDIA_INVALID_ARGUMENT', `${state.device.name} is not a microphone`);
    const fill = this.#filler(state.source ?? { kind: 'silence' }, sampleRate);
    const devices = this.#devices;
    let closed = false;
    return {
      device: state.device,
      sampleRate,
      read(frame, length) {
        if (closed || !devices.has(id) || state.muted) {
          frame.fill(0, 0, length);
          return;
        }
        fill(frame, length);
        if (state.volume < 100) {
          const gain = gainOf(state.volume);
          for (let i = 0; i < length; i++) frame[i] = Math.round(frame[i]! * gain);
        }
      },
      close() {
        closed = true;
      },
    };
  }

  openOutput(id: string, sampleRate: number): AudioOutput {
    const state = this.#state(id);
    if (state.device.kind !== 'output') throw new AudioDeviceError('ERR_MEDIA_INVALID_ARGUMENT', `${state.device.name} is not a speaker`);
    const recorder = state.recorder;
    if (recorder) recorder.rate ??= sampleRate;
    const resampler = recorder && recorder.rate !== sampleRate ? new Resampler(sampleRate, recorder.rate!) : undefined;
    let resampled = new Int16Array(0);
    // A stream starts where the device is now; while muted, time still passes for it.
    let position = recorder?.end ?? 0;
    const devices = this.#devices;
    let closed = false;
    return {
      device: state.device,
      sampleRate,
      // A speaker that records nothing plays to nobody.
      discards: !recorder,
      write(frame, length) {
        if (closed || !devices.has(id) || !recorder) return;
        let samples = frame;
        let count = length;
        if (resampler) {
          const room = Math.ceil((length * resampler.outputRate) / resampler.inputRate) + 4;
          if (resampled.length < room) resampled = new Int16Array(room);
          count = resampler.process(frame, length, resampled);
          samples = resampled;
        }
        position = mixInto(recorder, position, samples, count, state.muted ? 0 : gainOf(state.volume));
      },
      close() {
        closed = true;
      },
    };
  }

  setMuted(id: string, muted: boolean): void {
    this.#state(id).muted = muted;
  }

  isMuted(id: string): boolean {
    return this.#state(id).muted;
  }

  setVolume(id: string, volume: number): void {
    if (!(volume >= 0 && volume <= 100)) throw new AudioDeviceError('ERR_MEDIA_INVALID_ARGUMENT', `volume must be 0 to 100, not ${volume}`);
    this.#state(id).volume = volume;
  }

  getVolume(id: string): number {
    return this.#state(id).volume;
  }

  /** A microphone of silence, or a speaker that records nothing; false for an absent id. */
  silent(id: string): boolean {
    const state = this.#devices.get(id);
    if (!state) return false;
    return state.device.kind === 'input' ? (state.source ?? { kind: 'silence' }).kind === 'silence' : !state.recorder;
  }

  #add(spec: VirtualDeviceSpec, kind: 'input' | 'output', extra: Partial<DeviceState>, notify: boolean): AudioDevice {
    const id = spec.id ?? `${kind}:${spec.name}`;
    if (this.#devices.has(id)) throw new AudioDeviceError('ERR_MEDIA_INVALID_ARGUMENT', `a device with id ${id} is already present`);
    const device: AudioDevice = { id, name: spec.name, kind };
    if (spec.headset !== undefined) device.headset = spec.headset;
    if (spec.systemDefault !== undefined) device.systemDefault = spec.systemDefault;
    this.#devices.set(id, { device, muted: false, volume: 100, ...extra });
    if (notify) this.emit('devicesChanged', this.list());
    return device;
  }

  #state(id: string): DeviceState {
    const state = this.#devices.get(id);
    if (!state) throw new AudioDeviceError('ERR_MEDIA_DEVICE_NOT_FOUND', `no audio device with id ${id}`);
    return state;
  }

  #filler(source: VirtualSource, sampleRate: number): (frame: Int16Array, length: number) => void {
    switch (source.kind) {
      case 'silence':
        return (frame, length) => frame.fill(0, 0, length);
      case 'tone': {
        const generator = new ToneGenerator(sampleRate, source.frequencies, source.levelDbfs ?? -10);
        return (frame, length) => generator.fill(frame, length);
      }
      case 'function':
        return (frame, length) => source.fill(frame, length, sampleRate);
      case 'wav': {
        const mono = toMono(source.audio);
        let samples = mono;
        if (source.audio.sampleRate !== sampleRate) {
          const resampler = new Resampler(source.audio.sampleRate, sampleRate);
          samples = new Int16Array(resampler.outputLength(mono.length));
          const written = resampler.process(mono, mono.length, samples);
          samples = samples.subarray(0, written);
        }
        let position = 0;
        const loop = source.loop ?? false;
        return (frame, length) => {
          for (let i = 0; i < length; i++) {
            if (position >= samples.length) {
              if (!loop || samples.length === 0) {
                frame.fill(0, i, length);
                return;
              }
              position = 0;
            }
            frame[i] = samples[position++]!;
          }
        };
      }
    }
  }
}
