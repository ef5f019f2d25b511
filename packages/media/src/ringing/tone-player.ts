import { SafeEmitter, type RingingPlan } from '@sip-endpoint/policy';
import type { AudioDeviceProvider, AudioOutput } from '../audio/audio-device-provider';
import { readWav, toMono, type WavAudio } from '../audio/wav';
import { resolveMediaFile } from './sample-ringtones';
import { MediaClock } from '../media-clock';

/** Options of {@link TonePlayer.play}. @public */
export interface TonePlayOptions {
  /** Play again and again (ringtone) or once through. @defaultValue true */
  loop?: boolean;
  /** Stop after this many ms; `null` for no limit. @defaultValue null */
  timeoutMs?: number | null;
}

/** Events of a {@link TonePlayer}. @public */
export type TonePlayerEvents = {
  /** Playback ended: stopped, timed out, or a once-through file finished. */
  ended: ['stopped' | 'timeout' | 'finished'];
};

/**
 * Plays one WAV file on one output device, 20 ms at a time on the media clock, looped or once,
 * with an optional time limit: the building block of ringtones, ringback and the call-waiting tone.
 * A listener that throws is reported as `listenerError` (a `SafeEmitter`); playback goes on.
 *
 * @public
 */
export class TonePlayer extends SafeEmitter<TonePlayerEvents> {
  readonly #output: AudioOutput;
  readonly #samples: Int16Array;
  readonly #frame: Int16Array;
  readonly #loop: boolean;
  #position = 0;
  #elapsedMs = 0;
  #timeoutMs: number | null;
  #stop: (() => void) | undefined;

  constructor(output: AudioOutput, audio: WavAudio, options: TonePlayOptions = {}, clock: MediaClock = MediaClock.shared) {
    super();
    this.#output = output;
    this.#samples = toMono(audio);
    this.#frame = new Int16Array(Math.round(audio.sampleRate * 0.02));
    this.#loop = options.loop ?? true;
    this.#timeoutMs = options.timeoutMs ?? null;
    this.#stop = clock.add(20, () => this.#tick());
  }

  /** True until playback ends. */
  get playing(): boolean {
    return this.#stop !== undefined;
  }

  /** Stops playing and releases the output. Calling it twice is harmless. */
  stop(): void {
    this.#end('stopped');
  }

  #tick(): void {
    const frame = this.#frame;
    const samples = this.#samples;
    let written = 0;
    while (written < frame.length) {
      if (this.#position >= samples.length) {
        if (!this.#loop || samples.length === 0) break;
        this.#position = 0;
      }
      const count = Math.min(frame.length - written, samples.length - this.#position);
      frame.set(samples.subarray(this.#position, this.#position + count), written);
      written += count;
      this.#position += count;
    }
    if (written > 0) this.#output.write(frame, written);
    this.#elapsedMs += 20;
    if (written < frame.length) this.#end('finished');
    else if (this.#timeoutMs !== null && this.#elapsedMs >= this.#timeoutMs) this.#end('timeout');
  }

  #end(reason: 'stopped' | 'timeout' | 'finished'): void {
    if (!this.#stop) return;
    this.#stop();
    this.#stop = undefined;
    this.#output.close();
    this.emit('ended', reason);
    this.removeAllListeners();
  }
}

/** Events of a {@link Ringer}. @public */
export type RingerEvents = {
  /** A file could not be read or a device opened; the other outputs go on. */
  error: [Error];
};

/**
 * Rings for an incoming call as the policy's `ringingPlan` says: the file of each output on its
 * device, looped or once, with the plan's time limit; `answered()` stops the players unless the
 * plan plays once through regardless (`ringing_enabled` 6 and 7); `stop()` stops everything.
 * A listener that throws (the `onError` of {@link Ringer.start} too) is reported as
 * `listenerError`, or to `SafeEmitter.unhandled` while nothing listens to that; ringing goes on.
 *
 * @public
 */
export class Ringer extends SafeEmitter<RingerEvents> {
  readonly #players: TonePlayer[] = [];
  readonly #plan: RingingPlan;
  #stopped = false;

  private constructor(plan: RingingPlan) {
    super();
    this.#plan = plan;
  }

  /**
   * Reads the plan's files (relative paths from `baseDir`) and starts playing. Outputs whose file
   * cannot be read, or whose device is absent, are reported through `error` and skipped.
   */
  static async start(plan: RingingPlan, provider: AudioDeviceProvider, options: { baseDir?: string; clock?: MediaClock; onError?: (error: Error) => void } = {}): Promise<Ringer> {
    const ringer = new Ringer(plan);
    if (options.onError) ringer.on('error', options.onError);
    for (const output of plan.outputs) {
      if (!output.device) continue;
      try {
        const path = resolveMediaFile(output.file, options.baseDir);
        const audio = await readWav(path);
        if (ringer.#stopped) break;
        const device = provider.openOutput(output.device.id, audio.sampleRate);
        ringer.#players.push(new TonePlayer(device, audio, { loop: plan.loop, timeoutMs: plan.timeoutMs }, options.clock));
      } catch (error) {
        ringer.emit('error', error as Error);
      }
    }
    return ringer;
  }

  /** Players still playing. */
  get playing(): number {
    return this.#players.filter((player) => player.playing).length;
  }

  /** The call was answered: stop, unless the plan plays once through regardless. */
  answered(): void {
    if (this.#plan.stopOnAnswer) this.stop();
  }

  /** Stops every player. Calling it twice is harmless. */
  stop(): void {
    this.#stopped = true;
    for (const player of this.#players) player.stop();
  }
}
