/**
 * Receive statistics of one RTP source, per RFC 3550: extended highest sequence number with
 * wrap-around and the resynchronisation after a big jump of A.1 (no probation: the first packet
 * is taken as valid), expected and lost packets (A.3), and interarrival jitter
 * (A.8). All numbers; nothing is allocated per packet.
 *
 * @public
 */
export class ReceptionStats {
  /** Packets received (duplicates included), since the source was validated. */
  received = 0;
  /** Payload octets received. */
  octets = 0;
  /** Interarrival jitter in timestamp units (A.8), 1/16 smoothing. */
  jitter = 0;
  /** Packets that arrived with a sequence number already seen or too old. */
  duplicates = 0;
  #baseSeq = 0;
  #maxSeq = 0;
  #cycles = 0;
  #badSeq = 0x10001;
  #started = false;
  #lastTransit = 0;
  #hasTransit = false;
  #expectedPrior = 0;
  #receivedPrior = 0;

  /** Forgets the source: the next packet starts the counts afresh (a new SSRC). */
  reset(): void {
    this.#started = false;
    this.#hasTransit = false;
    this.jitter = 0;
    this.#init(0);
  }

  /**
   * The source's clock rate changed (a mid-call codec switch) by `ratio` (new rate / old): the
   * jitter goes on in the new timestamp units, and the next packet's transit starts afresh (the
   * timestamps of the two rates are not comparable).
   */
  changeClockRate(ratio: number): void {
    this.jitter *= ratio;
    this.#hasTransit = false;
  }

  /** Extended highest sequence number received (cycles in the high 16 bits). */
  get extendedMax(): number {
    return this.#cycles + this.#maxSeq;
  }

  /** Packets expected from the first to the highest sequence number. */
  get expected(): number {
    return this.#started ? this.extendedMax - this.#baseSeq + 1 : 0;
  }

  /** Cumulative packets lost (may be negative with duplicates, as RFC 3550 allows). */
  get lost(): number {
    return this.expected - (this.received - this.duplicates);
  }

  /**
   * Records a packet. `arrival` is the arrival time in timestamp units (clock rate ticks).
   * Returns false for a packet to drop (a big jump in sequence numbers, until the next one follows it).
   */
  update(sequence: number, timestamp: number, arrival: number, payloadLength: number, measureJitter = true): boolean {
    if (!this.#started) {
      this.#init(sequence);
      this.#started = true;
    } else {
      const delta = (sequence - this.#maxSeq) & 0xffff;
      if (delta === 0) {
        this.duplicates++;
      } else if (delta < 3000) {
        // Stryker disable next-line EqualityOperator: sequence equals the highest only when delta is 0, handled above.
        if (sequence < this.#maxSeq) this.#cycles += 0x10000;
        this.#maxSeq = sequence;
      } else if (delta <= 0x10000 - 100) {
        // A large jump: the source restarted; accept after two in a row.
        if (sequence === this.#badSeq) {
          this.#init(sequence);
        } else {
          this.#badSeq = (sequence + 1) & 0xffff;
          return false;
        }
      } else {
        // Reordered or duplicate older packet: counted, not a new maximum.
      }
    }
    this.received++;
    this.octets += payloadLength;
    if (!measureJitter) return true;
    const transit = arrival - timestamp;
    if (this.#hasTransit) {
      // Timestamps wrap at 2^32: the difference is taken modulo 2^32, as the shorter way round.
      let d = Math.abs(transit - this.#lastTransit) % 0x100000000;
      if (d > 0x7fffffff) d = 0x100000000 - d;
      this.jitter += (d - this.jitter) / 16;
    }
    this.#lastTransit = transit;
    this.#hasTransit = true;
    return true;
  }

  /** Loss since the previous call, for an RTCP report block: fraction (0..255) and the counts. */
  interval(): { fractionLost: number; expected: number; lost: number } {
    const expected = this.expected - this.#expectedPrior;
    const received = this.received - this.duplicates - this.#receivedPrior;
    this.#expectedPrior = this.expected;
    this.#receivedPrior = this.received - this.duplicates;
    const lost = expected - received;
    // Packets received in the interval are never negative: lost > 0 means expected >= lost > 0.
    const fractionLost = lost <= 0 ? 0 : Math.min(255, Math.floor((lost << 8) / expected));
    return { fractionLost, expected, lost };
  }

  #init(sequence: number): void {
    this.#baseSeq = sequence;
    this.#maxSeq = sequence;
    this.#badSeq = 0x10001;
    this.#cycles = 0;
    this.received = 0;
    this.octets = 0;
    this.duplicates = 0;
    this.#expectedPrior = 0;
    this.#receivedPrior = 0;
  }
}
