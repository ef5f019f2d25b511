import { SipEndpointError } from '@sip-endpoint/config';

/** An SDP body that cannot be used: malformed, or without the lines offer/answer needs. @public */
export class SdpError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_SDP_INVALID';

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MEDIA_SDP_INVALID', message, options);
  }
}
