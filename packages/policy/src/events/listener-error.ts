import { SipEndpointError } from '@sip-endpoint/config';

/**
 * A listener of an SDK object threw. The object went on (the other listeners ran, the SIP
 * transaction or media packet that raised the event was not affected) and reported this as its
 * `listenerError` event; `cause` is what the listener threw.
 *
 * @public
 */
export class ListenerError extends SipEndpointError {
  /** The event whose listener threw. */
  readonly event: string;
  /** The kind of object that emitted it (`Endpoint`, `Line`, `Call`, `AudioStream`, ...). */
  readonly source: string;

  constructor(source: string, event: string, cause: unknown) {
    super('ERR_LISTENER_THREW', `a listener of ${source} '${event}' threw: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.source = source;
    this.event = event;
  }
}
