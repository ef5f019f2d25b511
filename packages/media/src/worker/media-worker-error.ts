import { SipEndpointError } from '@sip-endpoint/config';

/**
 * A media worker thread could not do what was asked: it stopped (crashed, or its pool closed)
 * while it carried a stream, the pool was asked for no thread, or the worker lacks a codec.
 *
 * @public
 */
export class MediaWorkerError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_WORKER';

  constructor(message: string, cause?: unknown) {
    super('ERR_MEDIA_WORKER', message, cause === undefined ? undefined : { cause });
  }
}
