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
  readonly #ring: Int16Array;
  readonly #frame: number;
  readonly #prefill: number;
  readonly #highWater: number;
  readonly #trimTo: number;
  #start = 0;
  #count = 0;
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
    this.#ring = new Int16Array(this.#highWater + frame * 8);
  }

  /** Samples held. */
  get level(): number {
    return this.#count;
  }

  /** Adds what libwebrtc played (already at the speaker's rate). */
  push(samples: Int16Array, length: number): void {
    const ring = this.#ring;
    const capacity = ring.length;
    for (let i = 0; i < length; i++) {
      if (this.#count === capacity) {
        this.#start = (this.#start + 1) % capacity;
        this.#count--;
        this.trimmed++;
      }
      ring[(this.#start + this.#count) % capacity] = samples[i]!;
      this.#count++;
    }
    if (this.#count > this.#highWater) {
      const drop = this.#count - this.#trimTo;
      this.#start = (this.#start + drop) % capacity;
      this.#count -= drop;
      this.trimmed += drop;
    }
  }

  /** Fills `out` with the next frame (`frameSamples` samples): held samples, silence for what is missing. */
  pull(out: Int16Array): void {
    const n = this.#frame;
    if (!this.#playing) {
      if (this.#count < this.#prefill) {
        out.fill(0, 0, n);
        return;
      }
      this.#playing = true;
    }
    const ring = this.#ring;
    const capacity = ring.length;
    const take = Math.min(n, this.#count);
    for (let i = 0; i < take; i++) out[i] = ring[(this.#start + i) % capacity]!;
    this.#start = (this.#start + take) % capacity;
    this.#count -= take;
    if (take < n) {
      out.fill(0, take, n);
      this.underruns++;
      this.#playing = false;
    }
  }

  /** Forgets what is held (a new rate, a stop). */
  clear(): void {
    this.#start = 0;
    this.#count = 0;
    this.#playing = false;
  }
}
