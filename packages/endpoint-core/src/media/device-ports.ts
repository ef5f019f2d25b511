import type { AudioDevice } from '@sip-endpoint/policy';
import type { AudioInput, AudioOutput, ConferenceLeg } from '@sip-endpoint/media';

/** What a port without a device says it is (a stream needs a port to join a conference). */
const NO_MICROPHONE: AudioDevice = { id: '', name: 'no microphone', kind: 'input' };
const NO_SPEAKER: AudioDevice = { id: '', name: 'no speaker', kind: 'output' };

/**
 * The microphone a call's stream reads: its own opened device, or, while the call is in a
 * conference, its conference leg. The stream is made with this port from the start, so that it
 * can join and leave a conference without being rebuilt.
 */
export class MicrophonePort implements AudioInput {
  readonly sampleRate: number;
  #own: AudioInput | undefined;
  #leg: ConferenceLeg | undefined;

  /** `sampleRate`: the device's, or, without one, the rate that spares the stream resampling. */
  constructor(own: AudioInput | undefined, sampleRate: number) {
    this.#own = own;
    this.sampleRate = own?.sampleRate ?? sampleRate;
  }

  get device(): AudioDevice {
    return this.#own?.device ?? NO_MICROPHONE;
  }

  /** The leg read instead of the device; undefined: the device. */
  set leg(leg: ConferenceLeg | undefined) {
    this.#leg = leg;
  }

  read(frame: Int16Array, length: number): void {
    if (this.#leg) this.#leg.read(frame, length);
    else if (this.#own) this.#own.read(frame, length);
    else frame.fill(0, 0, length);
  }

  /**
   * Reads another microphone from now on (the endpoint chose another device, one was unplugged):
   * it must be open at this port's rate, which the stream's resampler was made for; undefined
   * reads silence. The one read before is closed.
   */
  replace(own: AudioInput | undefined): void {
    const previous = this.#own;
    this.#own = own;
    previous?.close();
  }

  close(): void {
    this.#own?.close();
  }
}

/** The speaker a call's stream writes: its own opened device, or its conference leg. */
export class SpeakerPort implements AudioOutput {
  readonly sampleRate: number;
  #own: AudioOutput | undefined;
  #leg: ConferenceLeg | undefined;

  /**
   * `sampleRate`: the device's when it plays; the codec's when it discards (or there is none). A
   * native stream builds its resampler only for a speaker that plays, and writes at its codec's
   * rate otherwise: the port must then say that rate, for the leg to read what it is given.
   */
  constructor(own: AudioOutput | undefined, codecRate: number) {
    this.#own = own;
    this.sampleRate = own && own.discards !== true ? own.sampleRate : codecRate;
  }

  get device(): AudioDevice {
    return this.#own?.device ?? NO_SPEAKER;
  }

  /** In a conference the frames go to the leg (for the others and the conference's speaker). */
  get discards(): boolean {
    return this.#leg === undefined && (this.#own === undefined || this.#own.discards === true);
  }

  set leg(leg: ConferenceLeg | undefined) {
    this.#leg = leg;
  }

  write(frame: Int16Array, length: number): void {
    if (this.#leg) this.#leg.write(frame, length);
    else this.#own?.write(frame, length);
  }

  /**
   * Plays on another speaker from now on, open at this port's rate (the rate the stream writes);
   * undefined plays nothing. The one played on before is closed.
   */
  replace(own: AudioOutput | undefined): void {
    const previous = this.#own;
    this.#own = own;
    previous?.close();
  }

  close(): void {
    this.#own?.close();
  }
}
