/**
 * Inputs of the E-model for one stream and interval.
 *
 * @public
 */
export interface EModelInput {
  /** Equipment impairment factor of the codec (ITU-T G.113). */
  ie: number;
  /** Packet-loss robustness factor of the codec with its concealment (ITU-T G.113). */
  bpl: number;
  /** Packet loss, in percent (0 to 100). */
  lossPercent: number;
  /** Burst ratio (1 for random loss, above 1 for bursty loss). @defaultValue 1 */
  burstRatio?: number;
  /** Mean one-way delay in milliseconds (network half-RTT plus jitter buffer plus packetisation). */
  oneWayDelayMs: number;
}

/** R with every other parameter at its G.107 default (no loss, no delay, a G.711 codec): 93.2. */
const R_DEFAULT = 93.2;

/**
 * The transmission rating R of ITU-T G.107 (narrowband scale), with the default values of all
 * parameters the endpoint cannot know (loudness ratings, noise, echo): R = Ro - Is - Id - Ie,eff + A,
 * where Ro - Is = 93.2 and A = 0.
 *
 * @remarks
 * Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl) (G.107 7.1). The delay impairment Id uses the
 * usual simplification of G.107's formula for the default echo settings:
 * Id = 0.024 Ta + 0.11 (Ta - 177.3) for Ta above 177.3 ms.
 *
 * @public
 */
export function transmissionRating(input: EModelInput): number {
  const ppl = Math.max(0, Math.min(100, input.lossPercent));
  const burstRatio = Math.max(1, input.burstRatio ?? 1);
  const ieEff = input.ie + ((95 - input.ie) * ppl) / (ppl / burstRatio + input.bpl);
  const ta = Math.max(0, input.oneWayDelayMs);
  // Stryker disable next-line EqualityOperator: at 177.3 ms the added term is 0 either way.
  const id = 0.024 * ta + (ta > 177.3 ? 0.11 * (ta - 177.3) : 0);
  return R_DEFAULT - id - ieEff;
}

/**
 * Converts R to a mean opinion score (G.107 Annex B): 1 below R = 0, 4.5 above R = 100,
 * else 1 + 0.035 R + R (R - 60) (100 - R) 7e-6.
 *
 * @public
 */
export function mosFromR(r: number): number {
  // Stryker disable next-line EqualityOperator: the formula gives 1 at R = 0 too.
  if (r <= 0) return 1;
  // Stryker disable next-line EqualityOperator: the formula gives 4.5 at R = 100 too.
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

/** MOS of a stream by the E-model. @public */
export function estimateMos(input: EModelInput): number {
  return mosFromR(transmissionRating(input));
}
