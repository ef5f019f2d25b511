/**
 * Receive statistics of one RTP source, per RFC 3550: extended highest sequence number with
 * wrap-around and the probation of A.1, expected and lost packets (A.3), and interarrival jitter
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
   * Returns false for a packet to drop (bad sequence during probation or a big jump).
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
        if (sequence < this.#maxSeq) this.#cycles += 0x10000;
        this.#maxSeq = sequence;
      } else if (delta <= 0xffff - 100) {
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
      let d = transit - this.#lastTransit;
      if (d < 0) d = -d;
      // Transit differences beyond half the 32-bit range are timestamp wraps.
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
    const fractionLost = expected <= 0 || lost <= 0 ? 0 : Math.min(255, Math.floor((lost << 8) / expected));
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
