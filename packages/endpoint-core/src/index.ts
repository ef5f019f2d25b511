export { Endpoint } from './endpoint';
export type { EndpointOptions, EndpointCallOptions, EndpointEvents, EndpointObserverEvents } from './endpoint';
export { ENDPOINT_TRANSITIONS } from './endpoint-state';
export type { EndpointState } from './endpoint-state';
export type { SessionModel, SessionDevice } from './session-model';
export type { EndpointWarning, EndpointWarningCode } from './endpoint-warnings';
export { Line } from './line/line';
export type { LineCounters, LineEvents, LineMessage, MakeCallOptions } from './line/line';
export type { MessageClass, MessageCounts, MessageSummary } from './line/message-summary';
export type { MessageDelivery, SendMessageOptions } from './line/messaging';
export { LINE_TRANSITIONS } from './line/line-state';
export { Call } from './call/call';
export type { CallEvents, DtmfMethod } from './call/call';
export type { CallInfo } from './call/call-info';
export { Conference } from './call/conference';
export type { ConferenceEvents } from './call/conference';
export { CALL_TRANSITIONS } from './call/call-state';
export { CallMedia } from './media/call-media';
export type { CallMediaEvents, CallMediaFailures, CallQuality, CallIce, MediaSecurity, MediaEngine, CallAudioStream } from './media/call-media';
export type { NegotiatedIm } from './media/im-session-description-handler';
export {
  SipError,
  InvalidStateError,
  InvalidArgumentError,
  CallRefusedError,
  NoSuchLineError,
  LineNotReadyError,
  NoMediaError,
  DtmfNotSentError,
  TransferFailedError,
  RequestFailedError,
  TransportUnsupportedError,
  ConnectionFailedError,
  NotConnectedError,
  PortUnavailableError,
  InvalidMessageError,
  MessageTooLargeError,
  TlsSettingsError,
  UnsupportedSipJsError,
} from './errors';
export type { SipErrorCode } from './errors';
export { LogFileError } from './logging/log-file';
export type { DiagnosticsLogger } from './logging/diagnostics-logger';
export { LOG_LEVEL_NAMES } from './logging/log-level';
export type { LogLevel } from './logging/log-level';
export { SDK_VERSION } from './line/identity';
export type { CallState, ConnectionState, SessionStatus } from '@sip-endpoint/policy';
