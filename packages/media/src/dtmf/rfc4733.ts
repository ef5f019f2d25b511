import { DTMF_EVENTS, type DtmfDigit } from './dtmf-digits';

/** Options of {@link TelephoneEventSender}. @public */
export interface TelephoneEventSenderOptions {
  /** RTP clock rate of telephone-event (8000 unless negotiated otherwise). @defaultValue 8000 */
  clockRate?: number;
  /** Packet interval in ms (the audio ptime). @defaultValue 20 */
  packetMs?: number;
  /** Tone duration in ms. @defaultValue 100 */
  durationMs?: number;
  /** Pause between digits in ms. @defaultValue 60 */
  gapMs?: number;
  /** Volume, 0 to 63 (-dBm0). @defaultValue 10 */
  volume?: number;
}

/** What the sender wants sent on one packet tick. @public */
export interface TelephoneEventPacket {
  /** Four payload bytes, written into the caller's buffer. */
  length: 4;
  /** Marker bit: set on the first packet of an event. */
  marker: boolean;
  /** The event's RTP timestamp: the same on every packet of one event. */
  timestamp: number;
}

/**
 * Sends digits as RFC 4733 telephone-events: on each packet tick the stream asks
 * {@link TelephoneEventSender.next} whether to send an event packet instead of audio. One event
 * keeps its start timestamp, its duration grows every packet, the first packet has the marker
 * bit, and the end packet (E bit) is sent three times.
 *
 * @public
 */
export class TelephoneEventSender {
  readonly #clockRate: number;
  readonly #packetTicks: number;
  readonly #durationTicks: number;
  readonly #gapPackets: number;
  readonly #volume: number;
  readonly #queue: DtmfDigit[] = [];
  // Stryker disable next-line BooleanLiteral: marker and timestamp are set before every return of the packet
  readonly #packet: TelephoneEventPacket = { length: 4, marker: false, timestamp: 0 };
  #event: { digit: DtmfDigit; timestamp: number; elapsed: number; endsSent: number; first: boolean } | undefined;
  #gapLeft = 0;
  #completed = 0;

  constructor(options: TelephoneEventSenderOptions = {}) {
    this.#clockRate = options.clockRate ?? 8000;
    const packetMs = options.packetMs ?? 20;
    this.#packetTicks = Math.round((this.#clockRate * packetMs) / 1000);
    this.#durationTicks = Math.max(this.#packetTicks, Math.round((this.#clockRate * (options.durationMs ?? 100)) / 1000));
    this.#gapPackets = Math.ceil((options.gapMs ?? 60) / packetMs);
    this.#volume = Math.max(0, Math.min(63, options.volume ?? 10));
  }

  /** Digits waiting or being sent. */
  get busy(): boolean {
    return this.#event !== undefined || this.#queue.length > 0 || this.#gapLeft > 0;
  }

  /** How many digits have been sent whole (their last end packet went out). */
  get completed(): number {
    return this.#completed;
  }

  /** Queues digits to send after those already queued. */
  send(digits: readonly DtmfDigit[]): void {
    this.#queue.push(...digits);
  }

  /**
   * Called on every packet tick with the RTP timestamp the audio packet of this tick would carry.
   * Returns the event packet to send instead (its payload written into `out`), or `undefined` to
   * send audio.
   */
  next(timestamp: number, out: Uint8Array): TelephoneEventPacket | undefined {
    if (this.#event === undefined) {
      if (this.#gapLeft > 0) {
        this.#gapLeft--;
        return undefined;
      }
      const digit = this.#queue.shift();
      if (digit === undefined) return undefined;
      this.#event = { digit, timestamp, elapsed: 0, endsSent: 0, first: true };
    }
    const event = this.#event;
    // Capped: the end packets (sent once it reaches the duration) repeat the final duration.
    event.elapsed = Math.min(this.#durationTicks, event.elapsed + this.#packetTicks);
    const ending = event.elapsed >= this.#durationTicks;
    out[0] = DTMF_EVENTS.indexOf(event.digit);
    out[1] = (ending ? 0x80 : 0) | this.#volume;
    out[2] = (event.elapsed >> 8) & 0xff;
    out[3] = event.elapsed & 0xff;
    this.#packet.marker = event.first;
    this.#packet.timestamp = event.timestamp;
    event.first = false;
    if (ending && ++event.endsSent >= 3) {
      this.#event = undefined;
      this.#completed++;
      this.#gapLeft = this.#gapPackets;
    }
    return this.#packet;
  }
}

/** A digit received as telephone-event. @public */
export interface ReceivedTelephoneEvent {
  digit: DtmfDigit;
  /** Duration in ms, from the event's last packet. */
  durationMs: number;
  volume: number;
}

/**
 * Receives RFC 4733 telephone-events: one digit per event (identified by its RTP timestamp),
 * however many packets and retransmitted end packets carry it. A digit is reported when its end
 * packet arrives, or when a new event starts or {@link TelephoneEventReceiver.flush} finds it idle
 * for a second (its end packets were lost).
 *
 * @public
 */
export class TelephoneEventReceiver {
  readonly #clockRate: number;
  readonly #onDigit: (event: ReceivedTelephoneEvent) => void;
  #current: { timestamp: number; digit: DtmfDigit; duration: number; volume: number; lastSeenMs: number } | undefined;
  #lastReportedTimestamp: number | undefined;

  constructor(onDigit: (event: ReceivedTelephoneEvent) => void, clockRate = 8000) {
    this.#onDigit = onDigit;
    this.#clockRate = clockRate;
  }

  /** Feeds one telephone-event payload. Malformed payloads and events other than 0-15 are ignored. */
  receive(timestamp: number, payload: Uint8Array, offset: number, length: number, nowMs: number): void {
    if (length < 4) return;
    const event = payload[offset]!;
    if (event > 15) return;
    const end = (payload[offset + 1]! & 0x80) !== 0;
    const volume = payload[offset + 1]! & 0x3f;
    const duration = (payload[offset + 2]! << 8) | payload[offset + 3]!;
    if (timestamp === this.#lastReportedTimestamp) return; // retransmitted end of a reported event
    if (this.#current && this.#current.timestamp !== timestamp) this.#report();
    const digit = DTMF_EVENTS[event]!;
    if (!this.#current) this.#current = { timestamp, digit, duration, volume, lastSeenMs: nowMs };
    this.#current.duration = Math.max(this.#current.duration, duration);
    this.#current.lastSeenMs = nowMs;
    if (end) this.#report();
  }

  /** Reports an event whose end packets never came, once it has been idle for a second. */
  flush(nowMs: number): void {
    if (this.#current && nowMs - this.#current.lastSeenMs >= 1000) this.#report();
  }

  /** Only called with an event under way. */
  #report(): void {
    const current = this.#current!;
    this.#current = undefined;
    this.#lastReportedTimestamp = current.timestamp;
    this.#onDigit({ digit: current.digit, durationMs: Math.round((current.duration / this.#clockRate) * 1000), volume: current.volume });
  }
}
