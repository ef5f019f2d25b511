import type { AudioDevice, SafeEmitter } from '@sip-endpoint/policy';

/** A microphone opened for a stream: the media clock pulls one frame per tick. @public */
export interface AudioInput {
  readonly device: AudioDevice;
  readonly sampleRate: number;
  /** Fills `frame` with the next `length` samples (silence when muted). */
  read(frame: Int16Array, length: number): void;
  /** Releases the device. Calling it twice is harmless. */
  close(): void;
}

/** A speaker opened for a stream: the media clock pushes one frame per tick. @public */
export interface AudioOutput {
  readonly device: AudioDevice;
  readonly sampleRate: number;
  /**
   * True when whatever is written is thrown away (a null speaker: nobody hears it, nothing records
   * it). A stream then neither resamples for this output nor writes to it; it still decodes what
   * it receives, for in-band DTMF detection and `onPlayout`. Absent means false.
   */
  readonly discards?: boolean;
  /** Plays `length` samples of `frame` (dropped when muted, scaled by the volume). */
  write(frame: Int16Array, length: number): void;
  /** Releases the device. Calling it twice is harmless. */
  close(): void;
}

/** Events of an {@link AudioDeviceProvider}. @public */
export type AudioDeviceProviderEvents = {
  /** A device was plugged in or removed; the argument is the new list. */
  devicesChanged: [AudioDevice[]];
};

/**
 * Where audio devices come from: a sound system, or the {@link VirtualAudioProvider} of WAV files,
 * tones and recorders. The list is in the provider's priority order (defaults first).
 *
 * @remarks
 * A provider is a `SafeEmitter` (`@sip-endpoint/policy`), so an implementation derives from that
 * class: a `devicesChanged` listener that throws is reported as `listenerError` and never reaches
 * the sound system's callback.
 *
 * @public
 */
export interface AudioDeviceProvider extends SafeEmitter<AudioDeviceProviderEvents> {
  /** The present devices. */
  list(): AudioDevice[];
  /** Opens a microphone at a sample rate. Throws `ERR_MEDIA_DEVICE_NOT_FOUND` for an absent id. */
  openInput(id: string, sampleRate: number): AudioInput;
  /** Opens a speaker at a sample rate. Throws `ERR_MEDIA_DEVICE_NOT_FOUND` for an absent id. */
  openOutput(id: string, sampleRate: number): AudioOutput;
  setMuted(id: string, muted: boolean): void;
  isMuted(id: string): boolean;
  /** Volume from 0 to 100. */
  setVolume(id: string, volume: number): void;
  getVolume(id: string): number;
  /**
   * Whether a device carries no sound, for as long as it is present: a microphone that only ever
   * gives silence, a speaker that throws away what it gets (nobody hears it, nothing records it).
   * A stream on such devices needs none of their frames: the endpoint may run it in a media
   * worker thread (`mediaThreads`). Optional; absent, or false, means the device carries sound.
   */
  silent?(id: string): boolean;
  /**
   * True for devices that are not a sound system's (files, tones, recorders: test signals and
   * simulated agents): the endpoint then leaves their audio unprocessed (no echo control, noise
   * suppression or AGC) unless asked. Absent, or false, means a sound system's devices.
   */
  readonly virtual?: boolean;
}
