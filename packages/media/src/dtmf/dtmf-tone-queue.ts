import { ToneGenerator } from '../audio/tones';
import { dtmfFrequencies, type DtmfDigit } from './dtmf-digits';

/**
 * Digits played as tones, each 100 ms then 60 ms of silence, frame by frame: in-band DTMF written
 * over the microphone's audio, or `dtmf_feedback` added to what the speaker plays. Shared by the
 * native and the WebRTC streams.
 */
export class DtmfToneQueue {
  readonly #sampleRate: number;
  readonly #levelDbfs: number;
  readonly #queue: DtmfDigit[] = [];
  #tone: ToneGenerator | undefined;
  #toneLeft = 0;
  #gapLeft = 0;
  #completed = 0;
  /** The tone's samples before they are added to a frame (grown once to the largest frame). */
  #scratch = new Int16Array(0);

  constructor(sampleRate: number, levelDbfs: number) {
    this.#sampleRate = sampleRate;
    this.#levelDbfs = levelDbfs;
  }

  /** The rate the tones are made at. */
  get sampleRate(): number {
    return this.#sampleRate;
  }

  /** Digits whose tone has been played whole. */
  get completed(): number {
    return this.#completed;
  }

  push(digits: readonly DtmfDigit[]): void {
    this.#queue.push(...digits);
  }

  /**
   * Writes over `frame`: the tone, then silence to the frame's end; in a gap, silence for the
   * gap's part. Nothing to play leaves the frame as it is.
   */
  replace(frame: Int16Array, length: number): void {
    if (!this.#next()) return;
    if (this.#toneLeft > 0) {
      const count = Math.min(length, this.#toneLeft);
      this.#tone!.fill(frame, count);
      frame.fill(0, count, length);
      this.#played(count);
    } else {
      const count = Math.min(length, this.#gapLeft);
      frame.fill(0, 0, count);
      this.#gapLeft -= count;
    }
  }

  /** Adds the tone to `frame` (saturated); a gap leaves the frame as it is. */
  mix(frame: Int16Array, length: number): void {
    if (!this.#next()) return;
    if (this.#toneLeft > 0) {
      const count = Math.min(length, this.#toneLeft);
      if (this.#scratch.length < count) this.#scratch = new Int16Array(count);
      const tone = this.#scratch;
      this.#tone!.fill(tone, count);
      for (let i = 0; i < count; i++) frame[i] = Math.max(-32768, Math.min(32767, frame[i]! + tone[i]!));
      this.#played(count);
    } else {
      this.#gapLeft = Math.max(0, this.#gapLeft - length);
    }
  }

  /** Starts the next digit when the last one's tone and gap are over; false when there is none. */
  #next(): boolean {
    if (this.#toneLeft > 0 || this.#gapLeft > 0) return true;
    const digit = this.#queue.shift();
    if (digit === undefined) return false;
    this.#tone = new ToneGenerator(this.#sampleRate, dtmfFrequencies(digit), this.#levelDbfs);
    this.#toneLeft = Math.round(this.#sampleRate * 0.1);
    this.#gapLeft = Math.round(this.#sampleRate * 0.06);
    return true;
  }

  #played(count: number): void {
    this.#toneLeft -= count;
    if (this.#toneLeft === 0) this.#completed++;
  }
}
