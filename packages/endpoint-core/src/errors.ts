import { SipEndpointError } from '@sip-endpoint/config';
import { InvalidStateError } from '@sip-endpoint/policy';

/**
 * Every code endpoint-core throws, one per condition; the README's error table says which class
 * carries it and when. `ERR_INVALID_STATE` ({@link InvalidStateError}, shared with media) covers
 * operations the object's state does not allow.
 *
 * @public
 */
export type SipErrorCode =
  | 'ERR_INVALID_STATE'
  | 'ERR_SIP_INVALID_ARGUMENT'
  | 'ERR_SIP_CALL_REFUSED'
  | 'ERR_SIP_NO_SUCH_LINE'
  | 'ERR_SIP_LINE_NOT_READY'
  | 'ERR_SIP_NO_MEDIA'
  | 'ERR_SIP_DTMF_NOT_SENT'
  | 'ERR_SIP_TRANSFER_FAILED'
  | 'ERR_SIP_REQUEST_FAILED'
  | 'ERR_SIP_TRANSPORT_UNSUPPORTED'
  | 'ERR_SIP_CONNECTION_FAILED'
  | 'ERR_SIP_NOT_CONNECTED'
  | 'ERR_SIP_PORT_UNAVAILABLE'
  | 'ERR_SIP_INVALID_MESSAGE'
  | 'ERR_SIP_MESSAGE_TOO_LARGE'
  | 'ERR_SIP_TLS_SETTINGS'
  | 'ERR_SIP_LOG_FILE'
  | 'ERR_SIP_UNSUPPORTED_SIP_JS';

/** The base of endpoint-core's own errors: a {@link SipEndpointError} whose code is a {@link SipErrorCode}. @public */
export class SipError extends SipEndpointError {
  declare readonly code: SipErrorCode;

  constructor(code: Exclude<SipErrorCode, 'ERR_INVALID_STATE'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A method got an argument it cannot use (a target that is no SIP URI or DN, a status out of range). @public */
export class InvalidArgumentError extends SipError {
  constructor(message: string) {
    super('ERR_SIP_INVALID_ARGUMENT', message);
  }
}

/** The policy's `canMakeCall` refused an outgoing call. @public */
export class CallRefusedError extends SipError {
  /** The policy's reason. */
  readonly reason: string;

  constructor(reason: string) {
    super('ERR_SIP_CALL_REFUSED', `the call is refused: ${reason}`);
    this.reason = reason;
  }
}

/** `makeCall` named a line the configuration does not have. @public */
export class NoSuchLineError extends SipError {
  readonly line: number;

  constructor(line: number, count: number) {
    super('ERR_SIP_NO_SUCH_LINE', `there is no line ${line}: the configuration has ${count} Connectivity line(s), numbered from 0`);
    this.line = line;
  }
}

/**
 * No line can place the call now: the line asked for (or every line) is not READY or STANDALONE.
 * The message says the state and what to do (wait for `connectionStateChanged`, check the
 * registrar).
 *
 * @public
 */
export class LineNotReadyError extends SipError {
  /** The line's state (the first line's when none was asked for). */
  readonly state: string;
  /** Why it FAILED, when it did. */
  readonly reason: string | undefined;

  constructor(message: string, state: string, reason?: string) {
    super('ERR_SIP_LINE_NOT_READY', message);
    this.state = state;
    this.reason = reason;
  }
}

/** The call has no media stream (yet) for what was asked (DTMF by RFC 2833 or in-band). @public */
export class NoMediaError extends SipError {
  constructor(message: string) {
    super('ERR_SIP_NO_MEDIA', message);
  }
}

/** Digits of `call.sendDtmf()` that did not go out: the call ended first. `unsent` lists them, in order. @public */
export class DtmfNotSentError extends SipError {
  /** The digits that were not sent. */
  readonly unsent: string;

  constructor(unsent: string, why = 'the call ended') {
    super('ERR_SIP_DTMF_NOT_SENT', `DTMF ${unsent} was not sent: ${why}`);
    this.unsent = unsent;
  }
}

/** A transfer the far end or the transfer target refused, or that did not complete in time. @public */
export class TransferFailedError extends SipError {
  /** The SIP status of the REFER's rejection or of the NOTIFY's sipfrag, when there was one. */
  readonly statusCode: number | undefined;

  constructor(message: string, statusCode?: number) {
    super('ERR_SIP_TRANSFER_FAILED', message);
    this.statusCode = statusCode;
  }
}

/** A request of ours in a dialog (a re-INVITE for hold or retrieve) failed. @public */
export class RequestFailedError extends SipError {
  /** The final status, when a response came. */
  readonly statusCode: number | undefined;

  constructor(message: string, statusCode?: number, options?: { cause?: unknown }) {
    super('ERR_SIP_REQUEST_FAILED', message, options);
    this.statusCode = statusCode;
  }
}

/** A Connectivity asks for a transport we do not have, or one a stand-alone line cannot use. @public */
export class TransportUnsupportedError extends SipError {
  constructor(message: string) {
    super('ERR_SIP_TRANSPORT_UNSUPPORTED', message);
  }
}

/** A TCP, TLS, WS or WSS connection to the server could not be opened. @public */
export class ConnectionFailedError extends SipError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SIP_CONNECTION_FAILED', message, options);
  }
}

/** A message was to go over a connection that is closed or was lost. @public */
export class NotConnectedError extends SipError {
  constructor(message: string) {
    super('ERR_SIP_NOT_CONNECTED', message);
  }
}

/** No SIP port could be opened in the configured range. @public */
export class PortUnavailableError extends SipError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SIP_PORT_UNAVAILABLE', message, options);
  }
}

/** A message to send is not a usable SIP message (no Request-URI, no Via). @public */
export class InvalidMessageError extends SipError {
  constructor(message: string) {
    super('ERR_SIP_INVALID_MESSAGE', message);
  }
}

/** A stream connection carried a SIP message above the size limit. @public */
export class MessageTooLargeError extends SipError {
  constructor(message: string) {
    super('ERR_SIP_MESSAGE_TOO_LARGE', message);
  }
}

/** `system.security` settings that TLS cannot use (a certificate file that does not read, SSLv3). @public */
export class TlsSettingsError extends SipError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SIP_TLS_SETTINGS', message, options);
  }
}

/** The installed sip.js is not the patched 0.21.2 (`patches/sip.js+0.21.2.patch` not applied, or another version). @public */
export class UnsupportedSipJsError extends SipError {
  constructor(message: string) {
    super('ERR_SIP_UNSUPPORTED_SIP_JS', message);
  }
}

export { InvalidStateError };
