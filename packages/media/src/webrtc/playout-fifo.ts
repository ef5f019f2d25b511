import { SampleRing } from '../audio/sample-ring';

/** Options of {@link PlayoutFifo}; all in samples at the speaker's rate. */
export interface PlayoutFifoOptions {
  /** Samples taken each tick (10 ms of them). */
  frameSamples: number;
  /** How much it holds before it plays, at the start and after running dry. @defaultValue 2 frames */
  prefill?: number;
  /** Past this much held, the oldest samples go, down to `trimTo`. @defaultValue 10 frames */
  highWater?: number;
  /** What is left after a trim. @defaultValue 4 frames */
  trimTo?: number;
}

/**
 * The speaker's side of a WebRTC stream with echo control: libwebrtc hands over what it plays on
 * its own thread's clock, and the frames reach the event loop in bursts (several at once after a
 * busy moment, none for a while). They wait here, and the stream's media clock takes one frame a
 * tick, the same tick it reads the microphone: the frame given to the speaker is then the echo
 * canceller's reference, in step with the microphone, whatever the bursts were.
 *
 * A ring of samples, allocation-free. It plays once `prefill` samples are held (again after
 * running dry: the shortfall is silence), and when more than `highWater` pile up (a burst after a
 * long stall) the oldest go, down to `trimTo`: the delay it adds stays within a few frames.
 */
export class PlayoutFifo {
  readonly #ring: SampleRing;
  readonly #frame: number;
  readonly #prefill: number;
  readonly #highWater: number;
  readonly #trimTo: number;
  #playing = false;
  /** Times it ran dry while playing. */
  underruns = 0;
  /** Samples dropped by trims. */
  trimmed = 0;

  constructor(options: PlayoutFifoOptions) {
    const frame = options.frameSamples;
    this.#frame = frame;
    this.#prefill = options.prefill ?? frame * 2;
    this.#highWater = options.highWater ?? frame * 10;
    this.#trimTo = options.trimTo ?? frame * 4;
    this.#ring = new SampleRing(this.#highWater + frame * 8);
  }

  /** Samples held. */
  get level(): number {
    return this.#ring.size;
  }

  /** Adds what libwebrtc played (already at the speaker's rate). */
  push(samples: Int16Array, length: number): void {
    const ring = this.#ring;
    this.trimmed += ring.push(samples, length);
    if (ring.size > this.#highWater) {
      const drop = ring.size - this.#trimTo;
      ring.drop(drop);
      this.trimmed += drop;
    }
  }

  /** Fills `out` with the next frame (`frameSamples` samples): held samples, silence for what is missing. */
  pull(out: Int16Array): void {
    const n = this.#frame;
    if (!this.#playing) {
      if (this.#ring.size < this.#prefill) {
        out.fill(0, 0, n);
        return;
      }
      this.#playing = true;
    }
    const take = this.#ring.take(out, n);
    if (take < n) {
      out.fill(0, take, n);
      this.underruns++;
      this.#playing = false;
    }
  }

  /** Forgets what is held (a new rate, a stop). */
  clear(): void {
    this.#ring.clear();
    this.#playing = false;
  }
}
