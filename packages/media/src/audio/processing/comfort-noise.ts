import { VoiceActivityDetector } from './voice-activity';

/**
 * RFC 3389 comfort noise: the CN payload (a level byte, then the reflection coefficients of an
 * all-pole model of the noise's spectrum), the sender's estimate of both from the microphone's
 * silences, a generator that plays a payload as noise of that level and shape, and the sender's
 * DTX decision.
 *
 * Levels are in -dBov (RFC 3389 3.1): 0 dBov is the overload point, here a full-scale 16-bit
 * square wave (RMS 32767), so 30 means an RMS of 32767 / 10^1.5.
 *
 * Reflection coefficients (RFC 3389 3.2) are sent as a byte `N = round(k * 128) + 127` (0 to 254),
 * read as `k = (N - 127) / 128`, with the sign of the model `A(z) = 1 + a1 z^-1 + ...`: noise
 * with more low than high frequencies (a room, a fan) has a negative first coefficient. That is
 * the convention of FFmpeg's CN encoder and decoder and of libwebrtc's CN (its Schur recursion
 * negates a positive correlation's coefficient), which the tests check against (FFmpeg's payloads
 * here, libwebrtc playing ours through an SBC).
 */

/** Reflection coefficients sent in a CN payload (the model order; RFC 3389 leaves it free). @public */
export const COMFORT_NOISE_ORDER = 10;
/** The most reflection coefficients read from a received CN payload; later ones are ignored. */
const MAX_RECEIVED_ORDER = 16;

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

/** A reflection coefficient as a CN payload byte (RFC 3389 3.2). */
function quantizeReflection(k: number): number {
  return Math.max(0, Math.min(254, Math.round(k * 128) + 127));
}

/** A CN payload byte as a reflection coefficient. */
function reflectionOf(byte: number): number {
  return (byte - 127) / 128;
}

/**
 * Reflection coefficients of the all-pole model of a spectrum given by its autocorrelation
 * `r[0..order]` (Levinson-Durbin), written to `k[0..order-1]`; `a` and `previous` are scratch of
 * `order + 1`. Returns the model order reached: a step that would make the filter unstable (the
 * autocorrelation of a near-silent or clipped signal) ends it, and the coefficients after it are 0.
 */
function reflectionsFromAutocorrelation(r: Float64Array, order: number, k: Float64Array, a: Float64Array, previous: Float64Array): number {
  k.fill(0, 0, order);
  if (!(r[0]! > 0)) return 0;
  a.fill(0);
  a[0] = 1;
  let error = r[0]!;
  for (let i = 1; i <= order; i++) {
    let acc = r[i]!;
    for (let j = 1; j < i; j++) acc += a[j]! * r[i - j]!;
    const ki = -acc / error;
    if (!(Math.abs(ki) < 0.999)) return i - 1;
    previous.set(a);
    for (let j = 1; j < i; j++) a[j] = previous[j]! + ki * previous[i - j]!;
    a[i] = ki;
    k[i - 1] = ki;
    error *= 1 - ki * ki;
  }
  return order;
}

/**
 * Plays comfort noise as the last CN payload describes it: white noise from a small generator
 * (xorshift) through the all-pole filter of the payload's reflection coefficients (none: white),
 * at the payload's level. The level moves to a new payload's over about 40 ms and the spectrum
 * over a few frames (the coefficients are interpolated as reflection coefficients, which keeps the
 * filter stable), and the noise is faded in from the last sample played before it (and out into
 * the speech after it) so that neither boundary clicks. Allocates nothing per frame.
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
  /** Reflection coefficients asked for, and those played (moving to them frame by frame). */
  readonly #targetReflections = new Float64Array(MAX_RECEIVED_ORDER);
  readonly #reflections = new Float64Array(MAX_RECEIVED_ORDER);
  /** The lattice filter's backward errors of the last sample, stage by stage. */
  readonly #backward = new Float64Array(MAX_RECEIVED_ORDER + 1);
  #order = 0;
  #shaped = false;
  /** Frames of comfort noise played, for statistics. */
  frames = 0;

  constructor(readonly sampleRate: number) {
    this.#levelStep = 1 - Math.exp(-1 / (0.04 * sampleRate));
    this.#fade = Math.max(1, Math.round(sampleRate * 0.004));
  }

  /** A CN packet's level byte, with no spectrum: the noise moves to that level, white. */
  setLevel(level: number): void {
    this.#targetRms = comfortNoiseRms(level);
    this.#targetReflections.fill(0);
  }

  /**
   * A CN payload (RFC 3389): its level byte, and the reflection coefficients after it (up to 16
   * are read). An empty payload changes nothing.
   */
  setPayload(payload: Uint8Array, length = payload.length): void {
    if (length < 1) return;
    this.#targetRms = comfortNoiseRms(payload[0]!);
    const order = Math.min(MAX_RECEIVED_ORDER, length - 1);
    for (let i = 0; i < MAX_RECEIVED_ORDER; i++) this.#targetReflections[i] = i < order ? reflectionOf(payload[1 + i]!) : 0;
    // The first spectrum is taken as it is; later ones are moved to.
    if (!this.#shaped) {
      this.#reflections.set(this.#targetReflections);
      this.#shaped = true;
    }
  }

  /** The reflection coefficients being played (the model's spectrum; 0 beyond its order). */
  get reflections(): Float64Array {
    return this.#reflections;
  }

  /**
   * Writes `length` samples of noise to `frame`. `lastPlayed` is the sample played just before,
   * when the noise starts after speech: the first samples move from it to the noise.
   */
  generate(frame: Int16Array, length: number, lastPlayed?: number): void {
    const gain = this.#prepareFilter();
    const order = this.#order;
    const k = this.#reflections;
    const b = this.#backward;
    let seed = this.#seed;
    let rms = this.#rms;
    const target = this.#targetRms;
    const step = this.#levelStep;
    const fade = lastPlayed === undefined ? 0 : Math.min(this.#fade, length);
    // Uniform noise in [-1, 1) has an RMS of 1/sqrt(3); the filter raises the power by 1 / gain^2.
    const scale = Math.sqrt(3) * gain;
    for (let i = 0; i < length; i++) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      rms += (target - rms) * step;
      // The all-pole lattice, from the last stage to the first: stable for any |k| < 1 (a direct
      // form of 16 poles near the unit circle is not, in floating point), and its state needs no
      // rebuilding when the coefficients move.
      let y = ((seed >>> 0) / 2147483648 - 1) * scale * rms;
      for (let j = order; j >= 1; j--) {
        y -= k[j - 1]! * b[j - 1]!;
        b[j] = b[j - 1]! + k[j - 1]! * y;
      }
      b[0] = y;
      let out = y;
      if (i < fade) {
        const w = (i + 1) / (fade + 1);
        out = lastPlayed! * (1 - w) + y * w;
      }
      frame[i] = out > 32767 ? 32767 : out < -32768 ? -32768 : Math.round(out);
    }
    this.#seed = seed;
    this.#rms = rms;
    this.#last = length > 0 ? frame[length - 1]! : this.#last;
    this.frames++;
  }

  /**
   * Moves the played reflection coefficients a step towards the asked ones, and returns the
   * excitation's gain that keeps the output at the asked level: the square root of the model's
   * prediction error, the product of (1 - k^2).
   */
  #prepareFilter(): number {
    const k = this.#reflections;
    const target = this.#targetReflections;
    let order = 0;
    let gain = 1;
    for (let i = 0; i < MAX_RECEIVED_ORDER; i++) {
      k[i] = 0.6 * k[i]! + 0.4 * target[i]!;
      if (Math.abs(k[i]!) < 1e-4 && target[i] === 0) k[i] = 0;
      if (k[i] !== 0) order = i + 1;
      gain *= 1 - k[i]! * k[i]!;
    }
    // A lower order than before: the stages beyond it hold nothing.
    for (let j = order + 1; j <= this.#order; j++) this.#backward[j] = 0;
    this.#order = order;
    return Math.sqrt(gain);
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
 * packet: {@link DtxController.writeSid}, the background's level and spectrum) or `silent` (send
 * nothing). The VAD's speech is held for the hangover, so that word ends and the pauses inside
 * words are sent; a frame of speech after silence is sent at once (the VAD takes 10 ms blocks, and the onset's frame is speech). A frame
 * is speech when the WebRTC VAD says so and it stands 6 to 9 dB (by `vad_level`) over the
 * background's floor. The background's level and spectrum (for CN) are followed over the frames
 * that are not speech.
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
  /** The last second's frame powers (a ring), whose minimum the floor is raised to. */
  readonly #recent: Float64Array;
  #recentCount = 0;
  readonly #margin: number;
  #sentLevel = -1;
  /** The background's autocorrelation (lags 0 to the model order), followed like its power. */
  readonly #autocorrelation = new Float64Array(COMFORT_NOISE_ORDER + 1);
  #autocorrelationKnown = false;
  /** One frame's autocorrelation, the lag window, and scratch of the model's estimate. */
  readonly #frameCorrelation = new Float64Array(COMFORT_NOISE_ORDER + 1);
  readonly #lagWindow = new Float64Array(COMFORT_NOISE_ORDER + 1);
  readonly #windowed = new Float64Array(COMFORT_NOISE_ORDER + 1);
  readonly #reflections = new Float64Array(COMFORT_NOISE_ORDER);
  readonly #a = new Float64Array(COMFORT_NOISE_ORDER + 1);
  readonly #previous = new Float64Array(COMFORT_NOISE_ORDER + 1);
  /** The CN level byte of the background, for the next `sid`. */
  level = 127;
  /** Frames of silence not sent, and CN packets, since the start. */
  readonly counts = { speech: 0, sid: 0, silent: 0 };

  constructor(options: DtxOptions) {
    this.#vad = new VoiceActivityDetector(options.sampleRate, options.vadLevel ?? 0);
    this.#hangover = Math.max(1, Math.round((options.hangoverMs ?? 200) / options.frameMs));
    this.#rise = 10 ** ((6 * options.frameMs) / 1000 / 10);
    this.#recent = new Float64Array(Math.max(1, Math.round(1000 / options.frameMs)));
    // How far over the background a frame must be to count as speech, by vad_level: 6 to 9 dB (a 20 ms frame of steady noise
    // wanders a few dB over its minimum).
    this.#margin = 10 ** ([6, 7, 8, 9][options.vadLevel ?? 0]! / 10);
    this.#sidInterval = Math.max(1, Math.round((options.sidIntervalMs ?? 400) / options.frameMs));
    // A Gaussian lag window (about 100 Hz wide) smooths the model's spectrum: a 20 ms frame's
    // sharp peaks are not the room's.
    for (let i = 0; i <= COMFORT_NOISE_ORDER; i++) this.#lagWindow[i] = Math.exp(-0.5 * ((2 * Math.PI * 100 * i) / options.sampleRate) ** 2);
  }

  /** Decides for one frame (after the microphone's processing, before encoding). */
  decide(frame: Int16Array, length: number): DtxDecision {
    let sum = 0;
    for (let i = 0; i < length; i++) sum += frame[i]! * frame[i]!;
    const power = sum / Math.max(1, length) + 1;
    // The background's floor: follows quiet frames down at once, creeps up (6 dB a second), and is
    // raised to the quietest frame of the last second; it starts at -60 dBFS, under any room.
    this.#floor = Math.max(power < this.#floor ? power : this.#floor * this.#rise, this.#quietestOfSecond(power));
    // Speech is what the WebRTC VAD calls speech and stands out of the background: the VAD alone
    // takes a steady low-frequency room noise for voice at its gentler modes.
    const speech = power > this.#floor * this.#margin && this.#vad.isSpeech(frame, length);
    if (speech) this.#sinceSpeech = 0;
    else if (this.#sinceSpeech < Number.MAX_SAFE_INTEGER) this.#sinceSpeech++;
    if (!speech) {
      this.#noisePower = this.#noisePower < 0 ? power : this.#noisePower * 0.8 + power * 0.2;
      this.level = comfortNoiseLevel(Math.sqrt(this.#noisePower));
      this.#followSpectrum(frame, length);
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
   * The quietest frame power of the last second, this one's included (0 until a second has been
   * heard). A room louder than the floor for a whole second (speech pauses between syllables, so
   * its quietest frame of a second is the room) raises the floor to it at once, rather than after
   * the climb (3 s from -60 to -42 dBFS).
   */
  #quietestOfSecond(power: number): number {
    const recent = this.#recent;
    recent[this.#recentCount % recent.length] = power;
    this.#recentCount++;
    if (this.#recentCount < recent.length) return 0;
    let quietest = recent[0]!;
    for (let i = 1; i < recent.length; i++) if (recent[i]! < quietest) quietest = recent[i]!;
    return quietest;
  }

  /** Follows the background's autocorrelation with this frame's (normalised by its length). */
  #followSpectrum(frame: Int16Array, length: number): void {
    const r = this.#frameCorrelation;
    for (let lag = 0; lag <= COMFORT_NOISE_ORDER; lag++) {
      let sum = 0;
      for (let i = lag; i < length; i++) sum += frame[i]! * frame[i - lag]!;
      r[lag] = sum / Math.max(1, length);
    }
    const known = this.#autocorrelation;
    for (let lag = 0; lag <= COMFORT_NOISE_ORDER; lag++) known[lag] = this.#autocorrelationKnown ? known[lag]! * 0.8 + r[lag]! * 0.2 : r[lag]!;
    this.#autocorrelationKnown = true;
  }

  /**
   * Writes the CN payload of the background for the next `sid` to `target` at `offset`: its level
   * byte, then {@link COMFORT_NOISE_ORDER} reflection coefficients of its spectrum (RFC 3389).
   * Returns its length in bytes. Allocates nothing.
   */
  writeSid(target: Uint8Array, offset = 0): number {
    target[offset] = this.level;
    const windowed = this.#windowed;
    const r = this.#autocorrelation;
    // The lag window, and a little white noise (40 dB under the background) so that a pure tone or
    // silence still gives a stable model.
    for (let lag = 0; lag <= COMFORT_NOISE_ORDER; lag++) windowed[lag] = r[lag]! * this.#lagWindow[lag]! * (lag === 0 ? 1.0001 : 1);
    const k = this.#reflections;
    if (this.#autocorrelationKnown) reflectionsFromAutocorrelation(windowed, COMFORT_NOISE_ORDER, k, this.#a, this.#previous);
    else k.fill(0);
    for (let i = 0; i < COMFORT_NOISE_ORDER; i++) target[offset + 1 + i] = quantizeReflection(k[i]!);
    return 1 + COMFORT_NOISE_ORDER;
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
