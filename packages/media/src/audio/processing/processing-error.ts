import { SipEndpointError } from '@sip-endpoint/config';

/**
 * An audio processor cannot run: its WebAssembly module (RNNoise, the WebRTC VAD) could not be
 * found or instantiated, or it was given a sample rate or frame it does not take.
 *
 * @public
 */
export class AudioProcessingError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_AUDIO_PROCESSING';

  constructor(message: string, cause?: unknown) {
    super('ERR_MEDIA_AUDIO_PROCESSING', message, cause === undefined ? undefined : { cause });
  }
}
