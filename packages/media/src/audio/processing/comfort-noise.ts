import { VoiceActivityDetector } from './voice-activity';

/**
 * RFC 3389 comfort noise: the level byte of a CN payload (the spectral coefficients that may follow
 * it are optional, and neither sent nor read here: the noise played is white, shaped only by the
 * codec path), a generator that plays it, and the sender's DTX decision.
 *
 * Levels are in -dBov (RFC 3389 3.1): 0 dBov is the overload point, here a full-scale 16-bit
 * square wave (RMS 32767), so 30 means an RMS of 32767 / 10^1.5.
 */

/** The level byte for a noise of this RMS (16-bit scale): 0 to 127 -dBov. @public */
export function comfortNoiseLevel(rms: number): number {
  if (!(rms > 0)) return 127;
  const dbov = Math.round(-20 * Math.log10(rms / 32767));
  return Math.max(0, Math.min(127, dbov));
}

/** The RMS (16-bit scale) a CN level byte stands for. @public */
export function comfortNoiseRms(level: number): number {
  return 32767 * 10 ** (-(level & 0x7f) / 20);
}

/**
 * Plays comfort noise at the level of the last CN packet: white noise from a small generator
 * (xorshift), its level moving to a new packet's over about 40 ms, and faded in from the last
 * sample played before it (and out into the speech after it) so that neither boundary clicks.
 * Allocates nothing per frame.
 *
 * @public
 */
export class ComfortNoiseGenerator {
  #seed = 0x2545f491;
  #rms = 0;
  #targetRms = 0;
  /** The last sample written, for a step-free start of the next stretch. */
  #last = 0;
  readonly #levelStep: number;
  readonly #fade: number;
  /** Frames of comfort noise played, for statistics. */
  frames = 0;

  constructor(readonly sampleRate: number) {
    this.#levelStep = 1 - Math.exp(-1 / (0.04 * sampleRate));
    this.#fade = Math.max(1, Math.round(sampleRate * 0.004));
  }

  /** A CN packet's level byte: the noise moves to it. */
  setLevel(level: number): void {
    this.#targetRms = comfortNoiseRms(level);
  }

  /**
   * Writes `length` samples of noise to `frame`. `lastPlayed` is the sample played just before,
   * when the noise starts after speech: the first samples move from it to the noise.
   */
  generate(frame: Int16Array, length: number, lastPlayed?: number): void {
    let seed = this.#seed;
    let rms = this.#rms;
    const target = this.#targetRms;
    const step = this.#levelStep;
    const fade = lastPlayed === undefined ? 0 : Math.min(this.#fade, length);
    // Uniform noise in [-1, 1) has an RMS of 1/sqrt(3).
    const scale = Math.sqrt(3);
    for (let i = 0; i < length; i++) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      rms += (target - rms) * step;
      let y = ((seed >>> 0) / 2147483648 - 1) * scale * rms;
      if (i < fade) {
        const w = (i + 1) / (fade + 1);
        y = lastPlayed! * (1 - w) + y * w;
      }
      frame[i] = y > 32767 ? 32767 : y < -32768 ? -32768 : Math.round(y);
    }
    this.#seed = seed;
    this.#rms = rms;
    this.#last = length > 0 ? frame[length - 1]! : this.#last;
    this.frames++;
  }

  /** The last sample of noise written (speech after it fades in from there). */
  get lastSample(): number {
    return this.#last;
  }
}

/** What the sender does with one frame under DTX. @public */
export type DtxDecision = 'speech' | 'sid' | 'silent';

/** Options of {@link DtxController}. @public */
export interface DtxOptions {
  sampleRate: number;
  frameMs: number;
  /** `vad_level`: the VAD's aggressiveness, 0 to 3. @defaultValue 0 */
  vadLevel?: number;
  /** Speech goes on being sent this long after the VAD last heard it (word ends, short pauses). @defaultValue 200 */
  hangoverMs?: number;
  /** During silence, a CN packet at least this often, and whenever the noise moved 3 dB. @defaultValue 400 */
  sidIntervalMs?: number;
}

/**
 * The sender's discontinuous transmission: each frame is `speech` (send it), `sid` (send a CN
 * packet with {@link DtxController.level}) or `silent` (send nothing). The VAD's speech is held for
 * the hangover, so that word ends and the pauses inside words are sent; a frame of speech after
 * silence is sent at once (the VAD takes 10 ms blocks, and the onset's frame is speech). A frame
 * is speech when the WebRTC VAD says so and it stands 6 to 9 dB (by `vad_level`) over the
 * background's floor. The background level (for CN) is followed over the frames that are not speech.
 *
 * @public
 */
export class DtxController {
  readonly #vad: VoiceActivityDetector;
  readonly #hangover: number;
  readonly #sidInterval: number;
  #sinceSpeech = Number.MAX_SAFE_INTEGER;
  #sinceSid = 0;
  #noisePower = -1;
  #floor = 32767 * 32767 * 1e-6;
  readonly #rise: number;
  readonly #margin: number;
  #sentLevel = -1;
  /** The CN level byte of the background, for the next `sid`. */
  level = 127;
  /** Frames of silence not sent, and CN packets, since the start. */
  readonly counts = { speech: 0, sid: 0, silent: 0 };

  constructor(options: DtxOptions) {
    this.#vad = new VoiceActivityDetector(options.sampleRate, options.vadLevel ?? 0);
    this.#hangover = Math.max(1, Math.round((options.hangoverMs ?? 200) / options.frameMs));
    this.#rise = 10 ** ((6 * options.frameMs) / 1000 / 10);
    // How far over the background a frame must be to count as speech, by vad_level: 6 to 9 dB (a 20 ms frame of steady noise
    // wanders a few dB over its minimum).
    this.#margin = 10 ** ([6, 7, 8, 9][options.vadLevel ?? 0]! / 10);
    this.#sidInterval = Math.max(1, Math.round((options.sidIntervalMs ?? 400) / options.frameMs));
  }

  /** Decides for one frame (after the microphone's processing, before encoding). */
  decide(frame: Int16Array, length: number): DtxDecision {
    let sum = 0;
    for (let i = 0; i < length; i++) sum += frame[i]! * frame[i]!;
    const power = sum / Math.max(1, length) + 1;
    // The background's floor: follows quiet frames down at once, creeps up (6 dB a second) so that
    // a louder room is learnt; it starts at -60 dBFS, under any room.
    this.#floor = power < this.#floor ? power : this.#floor * this.#rise;
    // Speech is what the WebRTC VAD calls speech and stands out of the background: the VAD alone
    // takes a steady low-frequency room noise for voice at its gentler modes.
    const speech = power > this.#floor * this.#margin && this.#vad.isSpeech(frame, length);
    if (speech) this.#sinceSpeech = 0;
    else if (this.#sinceSpeech < Number.MAX_SAFE_INTEGER) this.#sinceSpeech++;
    if (!speech) {
      this.#noisePower = this.#noisePower < 0 ? power : this.#noisePower * 0.8 + power * 0.2;
      this.level = comfortNoiseLevel(Math.sqrt(this.#noisePower));
    }
    if (this.#sinceSpeech <= this.#hangover) {
      this.#sentLevel = -1;
      this.counts.speech++;
      return 'speech';
    }
    this.#sinceSid++;
    if (this.#sentLevel < 0 || this.#sinceSid >= this.#sidInterval || Math.abs(this.level - this.#sentLevel) >= 3) {
      this.#sentLevel = this.level;
      this.#sinceSid = 0;
      this.counts.sid++;
      return 'sid';
    }
    this.counts.silent++;
    return 'silent';
  }

  /**
   * The CN level byte of the background's floor: the quiet end of what the microphone hears,
   * steadier than {@link DtxController.level} (which follows every frame that is not speech, a
   * distant voice's syllables too).
   */
  get floorLevel(): number {
    return comfortNoiseLevel(Math.sqrt(this.#floor));
  }

  close(): void {
    this.#vad.close();
  }
}
