import type { AudioInput, AudioOutput } from './audio-device-provider';
import { Resampler } from './resampler';
import { SampleRing } from './sample-ring';
import { MediaClock } from '../media-clock';
import { StreamClosedError } from '../audio-stream';

/** Options of a {@link ConferenceMixer}. @public */
export interface ConferenceMixerOptions {
  /** The microphone everyone in the conference hears; none: silence. Opened at `sampleRate`. */
  input?: AudioInput;
  /** The speaker that plays every leg; none: nothing is played. Opened at `sampleRate`. */
  output?: AudioOutput;
  /** The rate the mix is made at. @defaultValue 16000 */
  sampleRate?: number;
  /** How often it mixes. @defaultValue 20 */
  ptimeMs?: number;
  /** What drives it (tests give their own). @defaultValue MediaClock.shared */
  clock?: Pick<MediaClock, 'add'>;
}

const clamp = (value: number): number => (value > 32767 ? 32767 : value < -32768 ? -32768 : value);

/** The buffers of one leg: everything a tick needs, made once when the leg joins. */
class LegBuffers {
  readonly inputRate: number;
  readonly outputRate: number;
  /** What the leg's stream received, at the mixer's rate, waiting for the next mix. */
  readonly fromLeg: SampleRing;
  /** What the leg's stream is to send, at its input rate. */
  readonly toLeg: SampleRing;
  /** This tick's frame of the leg, at the mixer's rate. */
  readonly heard: Int16Array;
  /** This tick's mix for the leg, at the mixer's rate, then at the leg's. */
  readonly mix: Int16Array;
  readonly mixResampled: Int16Array;
  readonly written: Int16Array;
  readonly toMixer: Resampler | undefined;
  readonly toStream: Resampler | undefined;
  /** The most samples the ring to the stream keeps before old ones go (three of the mixer's frames). */
  readonly toLegLatency: number;
  muted = false;
  left = false;

  constructor(inputRate: number, outputRate: number, mixerRate: number, frameSamples: number, ptimeMs: number) {
    this.inputRate = inputRate;
    this.outputRate = outputRate;
    this.toMixer = outputRate !== mixerRate ? new Resampler(outputRate, mixerRate) : undefined;
    this.toStream = inputRate !== mixerRate ? new Resampler(mixerRate, inputRate) : undefined;
    // Rings of 8 frames (160 ms at 20 ms) absorb a stall's catch-up ticks on either side.
    this.fromLeg = new SampleRing(frameSamples * 8);
    this.toLeg = new SampleRing(Math.ceil((inputRate * ptimeMs * 8) / 1000) + 8);
    this.toLegLatency = Math.ceil((inputRate * ptimeMs * 3) / 1000);
    this.heard = new Int16Array(frameSamples);
    this.mix = new Int16Array(frameSamples);
    this.mixResampled = new Int16Array(Math.ceil((frameSamples * inputRate) / mixerRate) + 8);
    // A write is one frame of the stream: up to 120 ms at 48 kHz is room enough for any ptime.
    this.written = new Int16Array(Math.ceil((mixerRate * 120) / 1000) + 8);
  }
}

/**
 * One call's place in a {@link ConferenceMixer}: the stream reads it as its microphone (the
 * conference's microphone and every other leg) and writes it as its speaker (what it received).
 * Made by {@link ConferenceMixer.join}.
 *
 * @public
 */
export class ConferenceLeg {
  readonly #buffers: LegBuffers;
  readonly #leave: (leg: LegBuffers) => void;

  /** @internal Made by the mixer. */
  constructor(buffers: LegBuffers, leave: (leg: LegBuffers) => void) {
    this.#buffers = buffers;
    this.#leave = leave;
  }

  /** The rate the leg's stream reads at. */
  get inputRate(): number {
    return this.#buffers.inputRate;
  }

  /** The rate the leg's stream writes at. */
  get outputRate(): number {
    return this.#buffers.outputRate;
  }

  /** Whether the conference's microphone is left out of what this leg sends (the call is muted); the other legs are still sent. */
  get muted(): boolean {
    return this.#buffers.muted;
  }

  set muted(muted: boolean) {
    this.#buffers.muted = muted;
  }

  /** Whether the leg left (or the mixer closed): it reads silence, and what it writes is dropped. */
  get left(): boolean {
    return this.#buffers.left;
  }

  /** What this leg sends: the microphone (unless muted) and every other leg, `length` samples at `inputRate`. */
  read(frame: Int16Array, length: number): void {
    const leg = this.#buffers;
    if (leg.left) {
      frame.fill(0, 0, length);
      return;
    }
    leg.toLeg.pull(frame, length);
    // After a stall the mixer may have run ahead: keep no more than three frames waiting.
    if (leg.toLeg.size > leg.toLegLatency) leg.toLeg.drop(leg.toLeg.size - leg.toLegLatency);
  }

  /** What this leg received (`length` samples at `outputRate`), for the others and the speaker. */
  write(frame: Int16Array, length: number): void {
    const leg = this.#buffers;
    if (leg.left) return;
    if (!leg.toMixer) {
      leg.fromLeg.push(frame, length);
      return;
    }
    // A frame longer than the room left is written in parts (the resampler keeps its state).
    let offset = 0;
    const part = Math.floor(((leg.written.length - 8) * leg.outputRate) / leg.toMixer.outputRate);
    while (offset < length) {
      const n = Math.min(part, length - offset);
      const written = leg.toMixer.process(offset === 0 ? frame : frame.subarray(offset), n, leg.written);
      leg.fromLeg.push(leg.written, written);
      offset += n;
    }
  }

  /** Leaves the conference: the others stop hearing this leg. Twice is harmless. */
  leave(): void {
    this.#leave(this.#buffers);
  }
}

/**
 * A local conference bridge: mixes the microphone with any number of legs (streams of calls) at
 * one rate, every `ptimeMs` on the media clock. Each leg hears the microphone and every other leg,
 * never itself; the speaker plays every leg (not the microphone). Sums saturate.
 *
 * @remarks
 * A leg is a port pair for one stream ({@link ConferenceLeg}): the stream reads it as its
 * microphone and writes it as its speaker, at its own rates (resampled to and from the mixer's).
 * Frames go through short rings, so streams of any ptime, ticking at any phase, join; the rings
 * and resamplers are made when a leg joins, and a tick allocates nothing.
 *
 * @public
 */
export class ConferenceMixer {
  readonly sampleRate: number;
  readonly ptimeMs: number;
  /** Samples per mix. */
  readonly frameSamples: number;
  #input: AudioInput | undefined;
  #output: AudioOutput | undefined;
  readonly #mic: Int16Array;
  readonly #sum: Int32Array;
  readonly #speaker: Int16Array;
  /** The legs, replaced (not changed) on join and leave, so that a tick walks a stable array. */
  #legs: LegBuffers[] = [];
  #stop: (() => void) | undefined;

  /** Starts mixing at once (silence until legs join). */
  constructor(options: ConferenceMixerOptions = {}) {
    this.sampleRate = options.sampleRate ?? 16000;
    this.ptimeMs = options.ptimeMs ?? 20;
    this.frameSamples = Math.round((this.sampleRate * this.ptimeMs) / 1000);
    this.#input = options.input;
    this.#output = options.output;
    this.#mic = new Int16Array(this.frameSamples);
    this.#sum = new Int32Array(this.frameSamples);
    this.#speaker = new Int16Array(this.frameSamples);
    this.#stop = (options.clock ?? MediaClock.shared).add(this.ptimeMs, () => this.#tick());
  }

  /** The legs in the conference. */
  get legs(): number {
    return this.#legs.length;
  }

  /** Whether {@link ConferenceMixer.close} was called. */
  get closed(): boolean {
    return this.#stop === undefined;
  }

  /**
   * A new leg for a stream that reads at `inputRate` and writes at `outputRate` (its devices'
   * rates). Throws `StreamClosedError` once the mixer is closed, `InvalidSampleRateError` for a rate
   * that is not a positive whole number.
   */
  join(inputRate: number, outputRate = inputRate): ConferenceLeg {
    if (this.closed) throw new StreamClosedError();
    const buffers = new LegBuffers(inputRate, outputRate, this.sampleRate, this.frameSamples, this.ptimeMs);
    this.#legs = [...this.#legs, buffers];
    return new ConferenceLeg(buffers, (leg) => this.#remove(leg));
  }

  /**
   * Mixes with another microphone and speaker from the next tick (the devices in use changed: a
   * headset plugged in, or removed), each open at the mixer's rate; undefined for none. Those
   * used before are closed. Once the mixer is closed, the devices given are closed at once.
   */
  setDevices(input: AudioInput | undefined, output: AudioOutput | undefined): void {
    if (this.closed) {
      input?.close();
      output?.close();
      return;
    }
    const previous = { input: this.#input, output: this.#output };
    this.#input = input;
    this.#output = output;
    if (previous.input !== input) previous.input?.close();
    if (previous.output !== output) previous.output?.close();
  }

  /** Stops mixing, makes every leg leave, and closes the microphone and speaker. Twice is harmless. */
  close(): void {
    if (!this.#stop) return;
    this.#stop();
    this.#stop = undefined;
    for (const leg of this.#legs) leg.left = true;
    this.#legs = [];
    this.#input?.close();
    this.#output?.close();
  }

  #remove(leg: LegBuffers): void {
    if (leg.left) return;
    leg.left = true;
    leg.fromLeg.clear();
    leg.toLeg.clear();
    this.#legs = this.#legs.filter((other) => other !== leg);
  }

  #tick(): void {
    const n = this.frameSamples;
    const mic = this.#mic;
    const sum = this.#sum;
    const legs = this.#legs;
    // The microphone is read every tick, so that a file or tone source keeps its pace.
    if (this.#input) this.#input.read(mic, n);
    else mic.fill(0);
    for (let i = 0; i < n; i++) sum[i] = mic[i]!;
    for (let l = 0; l < legs.length; l++) {
      const leg = legs[l]!;
      leg.fromLeg.pull(leg.heard, n);
      // A stream that ran ahead (a stall's catch-up ticks) would otherwise be late from then on.
      if (leg.fromLeg.size > 2 * n) leg.fromLeg.drop(leg.fromLeg.size - n);
      const heard = leg.heard;
      for (let i = 0; i < n; i++) sum[i] = sum[i]! + heard[i]!;
    }
    const output = this.#output;
    if (output && output.discards !== true) {
      const speaker = this.#speaker;
      for (let i = 0; i < n; i++) speaker[i] = clamp(sum[i]! - mic[i]!);
      output.write(speaker, n);
    }
    for (let l = 0; l < legs.length; l++) {
      const leg = legs[l]!;
      const heard = leg.heard;
      const mix = leg.mix;
      // Everyone but the leg itself; the microphone too unless the leg's call is muted.
      if (leg.muted) for (let i = 0; i < n; i++) mix[i] = clamp(sum[i]! - heard[i]! - mic[i]!);
      else for (let i = 0; i < n; i++) mix[i] = clamp(sum[i]! - heard[i]!);
      if (leg.toStream) {
        const written = leg.toStream.process(mix, n, leg.mixResampled);
        leg.toLeg.push(leg.mixResampled, written);
      } else {
        leg.toLeg.push(mix, n);
      }
    }
  }
}
