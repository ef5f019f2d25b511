/**
 * Turns PCM frames into RTP payloads. One encoder serves one stream; it keeps the codec's state
 * between frames. `encode` writes into a buffer the caller owns, so that the send path allocates
 * nothing per packet.
 *
 * @public
 */
export interface AudioEncoder {
  /**
   * Encodes one frame of 16-bit PCM at the codec's `sampleRate` (mono) into `out`.
   * @param pcm - the samples of one frame (e.g. 160 for 20 ms at 8 kHz)
   * @param out - where the payload goes; at least `maxPayloadBytes(pcm.length)` long
   * @returns the payload length in bytes
   */
  encode(pcm: Int16Array, out: Uint8Array): number;
  /** Frees native or WebAssembly resources; the encoder is unusable afterwards. Calling it twice is harmless. */
  close(): void;
}

/**
 * Turns RTP payloads back into PCM. One decoder serves one stream.
 *
 * @public
 */
export interface AudioDecoder {
  /**
   * Decodes one payload into `out` (mono, the codec's `sampleRate`).
   * @returns the number of samples written
   */
  decode(payload: Uint8Array, out: Int16Array): number;
  /**
   * Fills `out` with `samples` samples standing for a lost frame, for codecs that conceal loss
   * themselves (opus); absent when the jitter buffer's concealment must be used.
   * @returns the number of samples written
   */
  conceal?(out: Int16Array, samples: number): number;
  /** Frees native or WebAssembly resources. Calling it twice is harmless. */
  close(): void;
}

/**
 * An audio codec: what SDP says of it and how to make its encoders and decoders.
 *
 * @public
 */
export interface Codec {
  /** Canonical name as the configuration writes it: `PCMU/8000`, `G722/16000`, `opus/48000/2`. */
  readonly name: string;
  /** Encoding name of SDP's a=rtpmap: `PCMU`, `PCMA`, `G722`, `opus`, `telephone-event`. */
  readonly encoding: string;
  /** RTP clock rate of a=rtpmap (8000 for G.722, whose audio is 16 kHz). */
  readonly clockRate: number;
  /** Channels of a=rtpmap (2 for opus, which we still encode and decode as mono). */
  readonly channels: number;
  /** Sample rate of the PCM the encoder takes and the decoder gives. */
  readonly sampleRate: number;
  /** Static RTP payload type, when it has one (0 PCMU, 8 PCMA, 9 G722). */
  readonly staticPayloadType: number | undefined;
  /** Default a=fmtp parameters we send. */
  readonly fmtp: string;
  /** Largest payload of one frame of `samples` samples. */
  maxPayloadBytes(samples: number): number;
  /**
   * How long the first frame a fresh encoder and decoder pair gives stays (near) silent: their
   * look-ahead and filter delay. A stream switching to the codec in mid-call plays the old codec's
   * continuation that long before it cross-fades to the new one. @defaultValue 0
   */
  readonly delayMs?: number;
  /** Equipment impairment factor Ie and packet-loss robustness Bpl (ITU-T G.113), for the E-model. */
  readonly impairment: { ie: number; bpl: number };
  createEncoder(): AudioEncoder;
  createDecoder(): AudioDecoder;
}
