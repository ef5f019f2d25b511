import { SipEndpointError } from '@sip-endpoint/config';

/** No free even/odd port pair is left in the RTP range. @public */
export class PortRangeExhaustedError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_PORTS_EXHAUSTED';

  constructor(min: number, max: number) {
    super('ERR_MEDIA_PORTS_EXHAUSTED', `no free RTP port pair between ${min} and ${max}`);
  }
}

/** An RTP port range that is not one: bounds outside 1..65535, not whole numbers, or min above max. @public */
export class InvalidPortRangeError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_PORT_RANGE_INVALID';
  /** The lower bound given. */
  readonly min: number;
  /** The upper bound given. */
  readonly max: number;

  /**
   * @param min - The lower bound given.
   * @param max - The upper bound given.
   */
  constructor(min: number, max: number) {
    super('ERR_MEDIA_PORT_RANGE_INVALID', `RTP port range ${min}..${max} is not valid`);
    this.min = min;
    this.max = max;
  }
}

/**
 * Hands out RTP port pairs (an even RTP port, RTCP on the next) from `rtp_port_min`..`rtp_port_max`,
 * round-robin so that a port just released is not reused at once (late packets of the old call do
 * not reach the new one), and takes them back when a stream closes.
 *
 * @public
 */
export class PortAllocator {
  readonly min: number;
  readonly max: number;
  readonly #inUse = new Set<number>();
  #cursor: number;

  /**
   * @param min - `rtp_port_min` (an odd value starts at the next even port).
   * @param max - `rtp_port_max`.
   * @throws {@link InvalidPortRangeError} for bounds outside 1..65535, not whole, or in the wrong order.
   */
  constructor(min: number, max: number) {
    if (!(Number.isInteger(min) && Number.isInteger(max) && min >= 1 && max <= 65535 && min <= max)) {
      throw new InvalidPortRangeError(min, max);
    }
    this.min = min % 2 === 0 ? min : min + 1;
    this.max = max;
    this.#cursor = this.min;
  }

  /** Pairs the range can hold. */
  get capacity(): number {
    return Math.max(0, Math.floor((this.max - this.min + 1) / 2));
  }

  /** Ports currently handed out. */
  get used(): number {
    return this.#inUse.size;
  }

  /**
   * The next free even port (its odd neighbour is reserved with it), skipping any in `exclude`
   * (ports the system refused). Throws {@link PortRangeExhaustedError} when none is left.
   */
  acquire(exclude?: ReadonlySet<number>): number {
    for (let tries = 0; tries < this.capacity; tries++) {
      const port = this.#cursor;
      // The cursor only ever names a port whose odd neighbour is in the range too: it starts at
      // min (the loop runs only when a pair fits) and moves on only to a pair that fits.
      this.#cursor = port + 2 + 1 > this.max ? this.min : port + 2;
      if (!this.#inUse.has(port) && !exclude?.has(port)) {
        this.#inUse.add(port);
        return port;
      }
    }
    throw new PortRangeExhaustedError(this.min, this.max);
  }

  /** Gives a pair back. Releasing twice is harmless. */
  release(port: number): void {
    this.#inUse.delete(port);
  }
}
