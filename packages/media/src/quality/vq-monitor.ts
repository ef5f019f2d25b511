import { estimateMos, transmissionRating } from './e-model';

/** One interval's measurements of a received stream. @public */
export interface VqSample {
  /** Packets expected in the interval. */
  expected: number;
  /** Packets the listener missed in the interval: lost on the way, or discarded by the jitter buffer. */
  lost: number;
  /** Round-trip time from RTCP, when known. */
  rttMs: number | undefined;
  /** Jitter buffer delay. */
  jitterBufferMs: number;
  /** Packetisation delay (ptime). */
  frameMs: number;
}

/** Options of {@link VqMonitor}. @public */
export interface VqMonitorOptions {
  /** Codec impairment (G.113). */
  impairment: { ie: number; bpl: number };
  /** MOS below which the alarm is raised; 0 disables alarms (`vq_alarm_threshold`). @defaultValue 0 */
  alarmThreshold?: number;
}

/** What a {@link VqMonitor} reports after each interval. @public */
export interface VqReport {
  /** MOS over the whole call so far (`local_mos`). */
  mos: number;
  /** MOS of the last interval (`local_inter_mos`). */
  intervalMos: number;
  /**
   * Listening quality over the whole call so far: the MOS of the same loss without the delay
   * impairment (`mos` is conversational: it counts the mean one-way delay). RTCP XR and RFC 6035
   * reports carry both (MOS-LQ and MOS-CQ).
   */
  listeningMos: number;
  /** The E-model's transmission rating R over the whole call so far, of which `mos` is made (G.107). */
  rFactor: number;
  /** Loss over the whole call so far, in percent of the packets expected (lost on the way or discarded late). */
  lossPercent: number;
  /** Mean one-way delay over the call so far, in ms: half the RTT, the jitter buffer, the packetisation. */
  oneWayDelayMs: number;
  /** Last RTT, when known (`rtt_ms`). */
  rttMs: number | undefined;
  /** The alarm is on. */
  alarm: boolean;
  /** The alarm changed with this interval: raised or cleared. */
  alarmChanged: 'raised' | 'cleared' | undefined;
}

/**
 * Voice quality of one received stream over a call: feeds interval measurements into the E-model,
 * keeps the whole-call and last-interval MOS, and raises and clears the VQ alarm around the
 * threshold.
 *
 * @public
 */
export class VqMonitor {
  #impairment: { ie: number; bpl: number };
  readonly #threshold: number;
  #expected = 0;
  #lost = 0;
  #delaySum = 0;
  #intervals = 0;
  #alarm = false;
  #last: VqReport;

  constructor(options: VqMonitorOptions) {
    this.#impairment = options.impairment;
    this.#threshold = options.alarmThreshold ?? 0;
    const perfect = estimateMos({ ...this.#impairment, lossPercent: 0, oneWayDelayMs: 0 });
    this.#last = { mos: perfect, intervalMos: perfect, listeningMos: perfect, rFactor: transmissionRating({ ...this.#impairment, lossPercent: 0, oneWayDelayMs: 0 }), lossPercent: 0, oneWayDelayMs: 0, rttMs: undefined, alarm: false, alarmChanged: undefined };
  }

  /** The latest report. */
  get report(): VqReport {
    return this.#last;
  }

  /** The codec changed in mid-call: the intervals from now on are rated with its impairment. */
  setImpairment(impairment: { ie: number; bpl: number }): void {
    this.#impairment = impairment;
  }

  /** Adds an interval and returns the new report. */
  add(sample: VqSample): VqReport {
    const oneWay = (sample.rttMs ?? 0) / 2 + sample.jitterBufferMs + sample.frameMs;
    const intervalLoss = sample.expected > 0 ? (100 * Math.max(0, sample.lost)) / sample.expected : 0;
    const intervalMos = estimateMos({ ...this.#impairment, lossPercent: intervalLoss, oneWayDelayMs: oneWay });
    this.#expected += Math.max(0, sample.expected);
    this.#lost += Math.max(0, sample.lost);
    this.#delaySum += oneWay;
    this.#intervals++;
    const callLoss = this.#expected > 0 ? (100 * this.#lost) / this.#expected : 0;
    const meanDelay = this.#delaySum / this.#intervals;
    const mos = estimateMos({ ...this.#impairment, lossPercent: callLoss, oneWayDelayMs: meanDelay });
    const listeningMos = estimateMos({ ...this.#impairment, lossPercent: callLoss, oneWayDelayMs: 0 });
    const rFactor = transmissionRating({ ...this.#impairment, lossPercent: callLoss, oneWayDelayMs: meanDelay });
    let alarmChanged: VqReport['alarmChanged'];
    // A MOS is never below 1: a threshold of 0 (or anything up to 1) never raises the alarm.
    if (!this.#alarm && intervalMos < this.#threshold) {
      this.#alarm = true;
      alarmChanged = 'raised';
    } else if (this.#alarm && intervalMos >= this.#threshold) {
      this.#alarm = false;
      alarmChanged = 'cleared';
    }
    this.#last = { mos, intervalMos, listeningMos, rFactor, lossPercent: callLoss, oneWayDelayMs: meanDelay, rttMs: sample.rttMs, alarm: this.#alarm, alarmChanged };
    return this.#last;
  }
}
