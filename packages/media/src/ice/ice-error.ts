import { SipEndpointError } from '@sip-endpoint/config';

/** A STUN, TURN or ICE step failed: no answer in time, an error answer, or an answer that cannot be used. @public */
export class IceError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_ICE_FAILED';
  /** The STUN error code of the answer, when it was one (401, 438, 487...). */
  readonly stunCode: number | undefined;

  constructor(message: string, stunCode?: number) {
    super('ERR_MEDIA_ICE_FAILED', message);
    this.stunCode = stunCode;
  }
}
