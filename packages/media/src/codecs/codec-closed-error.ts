import { SipEndpointError } from '@sip-endpoint/config';

/**
 * An encoder or decoder was used after its `close()` (which freed its native or WebAssembly
 * state). Code `ERR_MEDIA_CODEC_CLOSED`.
 *
 * @public
 */
export class CodecClosedError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_CODEC_CLOSED';
  /** The codec's encoding name (`opus`). */
  readonly codec: string;
  /** Which half was used. */
  readonly part: 'encoder' | 'decoder';

  /**
   * @param codec - The codec's encoding name (`opus`).
   * @param part - `encoder` or `decoder`.
   */
  constructor(codec: string, part: 'encoder' | 'decoder') {
    super('ERR_MEDIA_CODEC_CLOSED', `the ${codec} ${part} is closed`);
    this.codec = codec;
    this.part = part;
  }
}
