import { SipEndpointError } from '@sip-endpoint/config';

/**
 * SRTP cannot be set up or used as asked: key material of the wrong size for its suite, an
 * `a=crypto` attribute that cannot be read or used, or a packet buffer without room for the tag.
 * (Packets that fail authentication or replay checks are not thrown: they are dropped and counted.)
 *
 * @public
 */
export class SrtpError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_SRTP_INVALID';

  constructor(message: string) {
    super('ERR_MEDIA_SRTP_INVALID', message);
  }
}
