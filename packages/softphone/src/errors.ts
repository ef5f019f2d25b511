import { SipEndpointError } from '@sip-endpoint/config';

/**
 * Stable error codes of the softphone package.
 *
 * @public
 */
export type SoftphoneErrorCode =
  /** The command line is wrong (unknown option, missing `--config`, bad `--log-level`). */
  | 'ERR_SOFTPHONE_USAGE'
  /** The connector settings cannot be used (no certificate file for `https`, unreadable PEM, no key in it). */
  | 'ERR_SOFTPHONE_CONNECTOR_SETTINGS'
  /** The connector port could not be opened (in use, not allowed). */
  | 'ERR_SOFTPHONE_CONNECTOR_LISTEN'
  /** A Connector API request was refused (its `statusCode` says how). */
  | 'ERR_CONNECTOR_BAD_REQUEST'
  | 'ERR_CONNECTOR_SETTING_FORBIDDEN'
  /** `POST /audio` named a device that is not present. */
  | 'ERR_CONNECTOR_UNKNOWN_DEVICE'
  /** `POST /session` asked for something this softphone does not do (WebRTC). */
  | 'ERR_CONNECTOR_UNSUPPORTED'
  /** The endpoint could not start on `POST /register`. */
  | 'ERR_CONNECTOR_REGISTER_FAILED'
  /** The softphone is stopping or stopped. */
  | 'ERR_SOFTPHONE_STOPPED';

/**
 * An error of the softphone: its `code` is one of {@link SoftphoneErrorCode}; `statusCode` is the
 * HTTP status the Connector API answers with it.
 *
 * @public
 */
export class SoftphoneError extends SipEndpointError {
  declare readonly code: SoftphoneErrorCode;
  /** HTTP status of the Connector API response that reports it. */
  readonly statusCode: number;

  constructor(code: SoftphoneErrorCode, message: string, options: { statusCode?: number; cause?: unknown } = {}) {
    super(code, message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.statusCode = options.statusCode ?? 400;
  }
}
