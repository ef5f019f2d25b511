/**
 * Options of {@link JitterBuffer}; every field has a default.
 *
 * @public
 */
export interface JitterBufferOptions {
  /** RTP clock rate of the stream. @defaultValue 8000 */
  clockRate?: number;
  /** Frame duration in milliseconds (the ptime). @defaultValue 20 */
  frameMs?: number;
  /** Least playout delay. @defaultValue 20 */
  minDelayMs?: number;
  /** Most playout delay; packets that would need more are dropped as late. @defaultValue 400 */
  maxDelayMs?: number;
  /** Largest payload kept; longer ones are cut to this. @defaultValue 1500 */
  maxPayloadBytes?: number;
  /**
   * The payload size the stream is expected to carry (a stream passes its codec's payload for a
   * few frames). Every slot gets this much room in one store, allocated at the first packet; a
   * slot that receives a larger payload gets a buffer of `maxPayloadBytes` of its own, once.
   * @defaultValue maxPayloadBytes
   */
  expectedPayloadBytes?: number;
  /** Frames of concealment after the buffer ran dry before it plays silence instead. @defaultValue 5 */
  maxConcealedFrames?: number;
}

/** Counters and current state of a jitter buffer. @public */
export interface JitterBufferStats {
  /** Packets accepted into the buffer. */
  received: number;
  /** Packets that came after their playout time and were dropped. */
  late: number;
  /** Packets seen twice. */
  duplicates: number;
  /** Frames never received by their playout time. */
  lost: number;
  /** Frames given out for concealment (lost frames and underruns). */
  concealed: number;
  /** Frames dropped to bring the delay down (clock drift, a delay spike that passed). */
  dropped: number;
  /** Times the buffer ran dry and had to fill again. */
  underruns: number;
  /** Times the source's SSRC changed. */
  ssrcChanges: number;
  /** Delay of the audio being played: frames buffered times the frame duration. */
  currentDelayMs: number;
  /** The delay the buffer aims at, from the recent arrival jitter. */
  targetDelayMs: number;
}

/**
 * What {@link JitterBuffer.pop} gives for one frame time:
 * - `frame`: a packet to decode (`payload` is valid until the next `push` or `pop`);
 * - `lost`: the frame is missing; conceal it;
 * - `silence`: nothing to play (not started, filling again, or a long gap); play silence.
 *
 * @public
 */
export type PlayoutResult =
  | { kind: 'frame'; payload: Uint8Array; payloadType: number; timestamp: number; sequence: number; marker: boolean }
  | { kind: 'lost' }
  | { kind: 'silence' };

const CAPACITY = 128;
/** The view of a slot that has held nothing yet. */
const EMPTY = new Uint8Array(0);
const WINDOW = 128;

interface Slot {
  filled: boolean;
  sequence: number;
  timestamp: number;
  payloadType: number;
  marker: boolean;
  length: number;
  data: Uint8Array;
  /** A view of `data` of the last length used: rebuilt only when the payload size changes. */
  view: Uint8Array;
}

/**
 * An adaptive jitter buffer for one RTP stream, driven by a clock that calls {@link JitterBuffer.pop}
 * once per frame.
 *
 * @remarks
 * Packets are kept by sequence number (reordering and duplicates handled); late packets are
 * dropped. The target delay follows the spread of recent arrival delays (the 95th percentile of
 * the delay above the fastest packet of the last 128, plus one frame and 10 ms, in whole frames),
 * within the configured bounds. Playout starts, and starts again after the buffer ran dry, once the target is buffered.
 * A buffer that holds clearly more than its target for a while drops a frame: that absorbs clock
 * drift and delay spikes that have passed. A new SSRC starts the stream afresh. Payloads are
 * copied into slots of one store, allocated with the first packet; once each slot has been used
 * (the first 128 packets), `push` and `pop` allocate nothing.
 *
 * @public
 */
export class JitterBuffer {
  #clockRate: number;
  readonly #frameMs: number;
  readonly #minDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #maxConcealed: number;
  readonly #slots: Slot[];
  readonly #slotBytes: number;
  readonly #maxPayloadBytes: number;
  #store: Uint8Array | undefined;
  readonly #relativeDelays = new Float64Array(WINDOW);
  readonly #sorted = new Float64Array(WINDOW);
  readonly #result = {
    // Stryker disable next-line BooleanLiteral: every field is set before the frame is given out.
    frame: { kind: 'frame' as const, payload: new Uint8Array(0) as Uint8Array, payloadType: 0, timestamp: 0, sequence: 0, marker: false },
    lost: { kind: 'lost' as const },
    silence: { kind: 'silence' as const },
  };
  #delayCount = 0;
  #delayIndex = 0;
  #ssrc: number | undefined;
  /** Extended sequence of the next frame to play; undefined until playout starts. */
  #playSeq: number | undefined;
  #highestSeq: number | undefined;
  #lastSeq16 = 0;
  #cycles = 0;
  #firstTimestamp = 0;
  /** The media time of `#firstTimestamp`: 0, or where a change of clock rate re-based the timeline. */
  #baseMs = 0;
  /** The media time and extended sequence of the newest packet, for a re-base. */
  #lastMediaMs = 0;
  #lastExtended = -1;
  /** Whether the next packet starts a timeline at a new clock rate. */
  #rebase = false;
  // Stryker disable next-line BooleanLiteral: the first packet resets it.
  #buffering = true;
  #dryFrames = 0;
  #overTarget = 0;
  #consecutiveLate = 0;
  #targetFramesCached = 1;
  #stats: JitterBufferStats;

  constructor(options: JitterBufferOptions = {}) {
    this.#clockRate = options.clockRate ?? 8000;
    this.#frameMs = options.frameMs ?? 20;
    this.#minDelayMs = options.minDelayMs ?? 20;
    this.#maxDelayMs = Math.max(this.#minDelayMs, options.maxDelayMs ?? 400);
    this.#maxConcealed = options.maxConcealedFrames ?? 5;
    this.#maxPayloadBytes = options.maxPayloadBytes ?? 1500;
    // Stryker disable next-line MethodExpression,LogicalOperator: a larger room per slot plays the same; only memory tells.
    this.#slotBytes = Math.min(this.#maxPayloadBytes, options.expectedPayloadBytes ?? this.#maxPayloadBytes);
    // The slots' room is one store, allocated with the first packet (not when a call is set up),
    // and each slot's view of it is made the first time the slot is used.
    // Stryker disable next-line BooleanLiteral: the first packet resets every slot before one is read.
    this.#slots = Array.from({ length: CAPACITY }, () => ({ filled: false, sequence: 0, timestamp: 0, payloadType: 0, marker: false, length: 0, data: EMPTY, view: EMPTY }));
    this.#stats = { received: 0, late: 0, duplicates: 0, lost: 0, concealed: 0, dropped: 0, underruns: 0, ssrcChanges: 0, currentDelayMs: 0, targetDelayMs: this.#minDelayMs };
  }

  /** A copy of the counters. */
  stats(): JitterBufferStats {
    return { ...this.#stats, currentDelayMs: this.#bufferedFrames() * this.#frameMs };
  }

  /**
   * The source's clock rate changed (a mid-call codec switch): the packets from the next one on
   * are timed at `clockRate`. The next packet is taken to follow the newest one by one frame per
   * sequence number, so that the delays measured before and after the switch stay comparable.
   */
  setClockRate(clockRate: number): void {
    if (clockRate === this.#clockRate) return;
    this.#clockRate = clockRate;
    this.#rebase = this.#ssrc !== undefined;
  }

  /**
   * Adds a received packet. `payload` is copied. `arrivalMs` is the receive time on a monotonic
   * clock (`performance.now()`).
   */
  push(ssrc: number, sequence: number, timestamp: number, payloadType: number, marker: boolean, payload: Uint8Array, offset: number, length: number, arrivalMs: number): void {
    if (this.#ssrc !== ssrc) {
      if (this.#ssrc !== undefined) this.#stats.ssrcChanges++;
      this.#reset(ssrc, sequence, timestamp);
    }
    let extended = this.#extend(sequence);
    this.#recordDelay(timestamp, arrivalMs, extended);
    if (extended < (this.#playSeq ?? extended)) {
      this.#stats.late++;
      // Many late packets in a row are not late: the sender's sequence jumped back. Follow it.
      if (++this.#consecutiveLate < 8) return;
      this.#reset(ssrc, sequence, timestamp);
      extended = this.#extend(sequence);
    }
    this.#consecutiveLate = 0;
    const slot = this.#slots[extended % CAPACITY]!;
    if (slot.filled && slot.sequence === extended) {
      this.#stats.duplicates++;
      return;
    }
    if (extended - (this.#playSeq ?? extended) >= CAPACITY) {
      // Too far ahead of playout to keep: the stream jumped; follow it.
      this.#restartPlayout();
    }
    // Stryker disable next-line ConditionalExpression,EqualityOperator: new room for every packet plays the same; the allocation test fails it.
    if (length > slot.data.length) {
      slot.data = this.#room(extended % CAPACITY, length);
      slot.view = EMPTY;
      // Stryker disable next-line ConditionalExpression,EqualityOperator: the played view is cut to the room anyway; this keeps it cached.
      if (length > slot.data.length) length = slot.data.length;
    }
    slot.filled = true;
    slot.sequence = extended;
    slot.timestamp = timestamp;
    slot.payloadType = payloadType;
    slot.marker = marker;
    slot.length = length;
    const data = slot.data;
    // Stryker disable next-line EqualityOperator: one more byte lands past the payload, outside the view played.
    for (let i = 0; i < length; i++) data[i] = payload[offset + i]!;
    this.#highestSeq = Math.max(this.#highestSeq ?? extended, extended);
    this.#stats.received++;
  }

  /** Room for a payload of `length` bytes in slot `index`: its part of the store, or (larger) a buffer of its own. */
  #room(index: number, length: number): Uint8Array {
    const bytes = this.#slotBytes;
    // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: a buffer of its own for every slot plays the same; only memory tells.
    if (length <= bytes) {
      this.#store ??= new Uint8Array(CAPACITY * bytes);
      return this.#store.subarray(index * bytes, (index + 1) * bytes);
    }
    return new Uint8Array(this.#maxPayloadBytes);
  }

  /** The frame to play now; call once per frame duration. */
  pop(): PlayoutResult {
    // Stryker disable next-line ConditionalExpression: the buffering branch gives silence too when nothing came; this tells the type checker.
    if (this.#highestSeq === undefined) return this.#result.silence;
    if (this.#buffering) {
      const target = this.#targetFrames();
      if (this.#bufferedFrames() < target) {
        // Filling again after running dry: conceal the first frames, then play silence.
        if (this.#dryFrames > 0) {
          this.#dryFrames++;
          if (this.#dryFrames <= this.#maxConcealed) {
            this.#stats.concealed++;
            return this.#result.lost;
          }
        }
        return this.#result.silence;
      }
      this.#buffering = false;
    }
    this.#playSeq ??= this.#oldestBuffered();
    let playSeq = this.#playSeq;

    // Drift and passed spikes: hold clearly more than the target for a while, then drop one frame.
    const buffered = this.#bufferedFrames();
    if (buffered > this.#targetFrames() + 2) {
      if (++this.#overTarget >= 25) {
        this.#overTarget = 0;
        // Nothing else can be in the slot due now (a packet as far ahead restarts playout).
        // Stryker disable next-line BooleanLiteral: a slot plays only when it holds the sequence due, and a restart clears all.
        this.#slots[playSeq % CAPACITY]!.filled = false;
        playSeq++;
        this.#playSeq = playSeq;
        this.#stats.dropped++;
      }
    } else {
      this.#overTarget = 0;
    }

    const slot = this.#slots[playSeq % CAPACITY]!;
    if (slot.filled && slot.sequence === playSeq) {
      // Stryker disable next-line BooleanLiteral: a slot plays only when it holds the sequence due, and a restart clears all.
      slot.filled = false;
      this.#playSeq = playSeq + 1;
      this.#dryFrames = 0;
      const frame = this.#result.frame;
      // Stryker disable next-line ConditionalExpression: a new view every frame plays the same; the allocation test (outside the mutation run) fails it.
      if (slot.view.length !== slot.length) slot.view = slot.data.subarray(0, slot.length);
      frame.payload = slot.view;
      frame.payloadType = slot.payloadType;
      frame.timestamp = slot.timestamp;
      frame.sequence = slot.sequence & 0xffff;
      frame.marker = slot.marker;
      return frame;
    }
    if (this.#highestSeq >= playSeq) {
      // A later packet is here, this one is not: it is lost.
      this.#playSeq = playSeq + 1;
      this.#stats.lost++;
      this.#stats.concealed++;
      return this.#result.lost;
    }
    // Nothing newer: the buffer ran dry while playing (the refill branch above conceals the
    // frames after this one). Conceal a little, then play silence and fill up again.
    this.#stats.underruns++;
    this.#dryFrames = 1;
    this.#buffering = true;
    if (this.#maxConcealed >= 1) {
      this.#stats.concealed++;
      return this.#result.lost;
    }
    return this.#result.silence;
  }

  #reset(ssrc: number, sequence: number, timestamp: number): void {
    this.#ssrc = ssrc;
    for (const slot of this.#slots) slot.filled = false;
    this.#cycles = 0;
    this.#lastSeq16 = sequence;
    this.#playSeq = undefined;
    this.#highestSeq = undefined;
    this.#buffering = true;
    this.#dryFrames = 0;
    this.#overTarget = 0;
    this.#delayCount = 0;
    this.#delayIndex = 0;
    this.#consecutiveLate = 0;
    this.#targetFramesCached = 1;
    this.#firstTimestamp = timestamp;
    this.#baseMs = 0;
    this.#lastMediaMs = 0;
    this.#lastExtended = -1;
    this.#rebase = false;
  }

  #restartPlayout(): void {
    for (const slot of this.#slots) slot.filled = false;
    this.#playSeq = undefined;
    this.#highestSeq = undefined;
    this.#buffering = true;
  }

  /** 16-bit sequence to a monotonic extended sequence, tolerant of reordering near a wrap. */
  #extend(sequence: number): number {
    const delta = (sequence - this.#lastSeq16) & 0xffff;
    if (delta < 0x8000) {
      if (sequence < this.#lastSeq16) this.#cycles += 0x10000;
      this.#lastSeq16 = sequence;
      return this.#cycles + sequence;
    }
    // Older than the last one seen.
    // Stryker disable next-line EqualityOperator: a sequence equal to the last one seen is a delta of 0 and never comes here.
    return sequence > this.#lastSeq16 ? this.#cycles - 0x10000 + sequence : this.#cycles + sequence;
  }

  #recordDelay(timestamp: number, arrivalMs: number, extended: number): void {
    if (this.#rebase && this.#lastExtended >= 0) {
      this.#rebase = false;
      this.#baseMs = this.#lastMediaMs + (extended - this.#lastExtended) * this.#frameMs;
      this.#firstTimestamp = timestamp;
    }
    // The signed 32-bit difference handles the timestamp wrap.
    const mediaMs = this.#baseMs + (((timestamp - this.#firstTimestamp) | 0) / this.#clockRate) * 1000;
    if (extended > this.#lastExtended) {
      this.#lastExtended = extended;
      this.#lastMediaMs = mediaMs;
    }
    // Only the spread of delays counts: their origin is any constant.
    const delay = arrivalMs - mediaMs;
    // A clock that is not a number (a caller's bug) must not poison the window.
    const value = Number.isFinite(delay) ? delay : 0;
    // The sorted copy of the window is kept up to date by moving the new value into place
    // (starting where the value it replaces was): no sort, and none of its scratch arrays.
    const sorted = this.#sorted;
    const n = this.#delayCount;
    let at = n;
    if (n === WINDOW) at = this.#sortedIndexOf(this.#relativeDelays[this.#delayIndex]!);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: moving up too far, or past equal values, is undone by the loop below; the array ends at the window's size.
    while (at + 1 < n && sorted[at + 1]! < value) {
      sorted[at] = sorted[at + 1]!;
      at++;
    }
    // Stryker disable next-line ConditionalExpression,EqualityOperator: below index 0 there is no value to compare; passing equal values orders them alike.
    while (at > 0 && sorted[at - 1]! > value) {
      sorted[at] = sorted[at - 1]!;
      at--;
    }
    sorted[at] = value;
    this.#relativeDelays[this.#delayIndex] = value;
    this.#delayIndex = (this.#delayIndex + 1) % WINDOW;
    if (n < WINDOW) this.#delayCount = n + 1;
    this.#targetFramesCached = this.#computeTargetFrames();
  }

  /** Where `value` (one of the window's) sits in the sorted copy: a binary search. */
  #sortedIndexOf(value: number): number {
    const sorted = this.#sorted;
    let low = 0;
    // Stryker disable next-line ArithmeticOperator: the value is in the window, so the search never reaches past its end.
    let high = this.#delayCount - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (sorted[middle]! < value) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  #targetFrames(): number {
    return this.#targetFramesCached;
  }

  /** Target delay in frames from the spread of recent relative delays (the sorted window's 95th percentile minus its minimum). */
  #computeTargetFrames(): number {
    const n = this.#delayCount;
    const sorted = this.#sorted;
    // The window holds at least the packet just recorded; floor(0.95 n) is at most n - 1.
    const spread = sorted[Math.floor(n * 0.95)]! - sorted[0]!;
    // One frame plus the spread plus 10 ms of margin, in whole frames: a packet a fraction of a
    // millisecond behind its playout tick must not make the buffer run dry.
    const targetMs = Math.min(this.#maxDelayMs, Math.max(this.#minDelayMs, spread + this.#frameMs + 10));
    this.#stats.targetDelayMs = targetMs;
    return Math.max(1, Math.ceil(targetMs / this.#frameMs - 1e-9));
  }

  #bufferedFrames(): number {
    if (this.#highestSeq === undefined) return 0;
    const from = this.#playSeq ?? this.#oldestBuffered();
    return Math.max(0, this.#highestSeq - from + 1);
  }

  #oldestBuffered(): number {
    let oldest = this.#highestSeq ?? 0;
    for (const slot of this.#slots) if (slot.filled) oldest = Math.min(oldest, slot.sequence);
    return oldest;
  }
}
