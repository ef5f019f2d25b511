import { DtxController } from './comfort-noise';
import { EchoCanceller } from './echo-canceller';
import { GainControl } from './gain-control';
import { NoiseSuppressor } from './noise-suppressor';

/**
 * Audio processing of an {@link AudioStream} (`AudioStreamOptions.processing`): what the
 * `policy.session` settings `echo_control`, `noise_suppression`, `agc_mode`, `rx_agc_mode`,
 * `dtx_mode` and `vad_level` switch on. All off by default.
 *
 * @public
 */
export interface AudioProcessingOptions {
  /** `echo_control`: remove the echo of what the stream plays from the microphone. */
  echoControl?: boolean;
  /** `noise_suppression`: RNNoise on the microphone. */
  noiseSuppression?: boolean;
  /** `agc_mode`: bring the microphone's speech to -18 dBFS. */
  agc?: boolean;
  /** `rx_agc_mode`: the same on received audio, before the speaker. */
  rxAgc?: boolean;
  /** `dtx_mode`: in the microphone's silences send CN packets (when `comfortNoise` is negotiated) or nothing. */
  dtx?: boolean;
  /** `vad_level`: 0 (conventional) to 3 (aggressive). @defaultValue 0 */
  vadLevel?: number;
  /** The negotiated CN payload type (RFC 3389), at the codec's clock rate: sent under DTX, played as comfort noise when received. */
  comfortNoise?: { payloadType: number };
}

/** The microphone's chain at one codec rate: echo control, noise suppression, AGC, then the DTX decision. */
export class MicrophoneProcessing {
  readonly sampleRate: number;
  readonly echo: EchoCanceller | undefined;
  readonly #noise: NoiseSuppressor | undefined;
  readonly #agc: GainControl | undefined;
  readonly dtx: DtxController | undefined;

  constructor(options: AudioProcessingOptions, sampleRate: number, frameSamples: number, frameMs: number) {
    this.sampleRate = sampleRate;
    this.echo = options.echoControl ? new EchoCanceller({ sampleRate, frameSamples }) : undefined;
    this.#noise = options.noiseSuppression ? new NoiseSuppressor(sampleRate, frameSamples) : undefined;
    this.#agc = options.agc ? new GainControl({ sampleRate }) : undefined;
    this.dtx = options.dtx ? new DtxController({ sampleRate, frameMs, vadLevel: options.vadLevel ?? 0 }) : undefined;
  }

  /** Whether any processor changes the microphone's samples. */
  get active(): boolean {
    return this.echo !== undefined || this.#noise !== undefined || this.#agc !== undefined;
  }

  process(frame: Int16Array, length: number): void {
    this.echo?.process(frame, length);
    this.#noise?.process(frame, length);
    this.#agc?.process(frame, length);
  }

  close(): void {
    this.#noise?.close();
    this.dtx?.close();
  }
}
