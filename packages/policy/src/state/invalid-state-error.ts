import { SipEndpointError } from '@sip-endpoint/config';

/**
 * An operation the object's state does not allow (answering a call that is not ringing, starting
 * an endpoint that was stopped), or a state change its transition table does not have.
 *
 * @public
 */
export class InvalidStateError extends SipEndpointError {
  /** The state the object was in. */
  readonly state: string | undefined;

  constructor(message: string, state?: string) {
    super('ERR_INVALID_STATE', message);
    this.state = state;
  }
}
