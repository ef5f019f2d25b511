export {
  CONNECTOR_BASE_PATH,
  SESSION_COOKIE_NAME,
  SESSION_STATUSES,
  CONNECTION_STATES,
  CONNECTOR_CALL_STATES,
  CONNECTIVITY_PROTOCOLS,
} from './models';
export type {
  SessionStatus,
  ConnectionState,
  ConnectorCallState,
  ConnectivityProtocol,
  Call,
  Connection,
  Connectivities,
  Device,
  DevicesSpeaker,
  DevicesMicrophone,
  Devices,
  Phone,
  Session,
  SipEndpointOverrides,
  ConfigOptionsSoftphone,
  ConfigOptions,
  Config,
  AudioRequest,
  RegisterRequest,
  EmptyBody,
  ErrorBody,
} from './models';
export {
  sessionSchema,
  configSchema,
  audioRequestSchema,
  registerRequestSchema,
  registerHeadersSchema,
  emptyResponseSchema,
  errorBodySchema,
  CONNECTOR_ROUTES,
} from './schemas';
export type { ConnectorJsonSchema, ConnectorRoute } from './schemas';
export { ConnectorClient } from './connector-client';
export type { ConnectorClientOptions, ConnectorRetryOptions } from './connector-client';
export { SessionWatcher } from './session-watcher';
export type { SessionWatcherOptions, SessionWatcherEvents } from './session-watcher';
export {
  ConnectorError,
  ConnectorHttpError,
  ConnectorForbiddenError,
  ConnectorBadRequestError,
  ConnectorNotFoundError,
  ConnectorServerError,
  ConnectorResponseError,
  ConnectorUnreachableError,
  ConnectorTimeoutError,
  ConnectorArgumentError,
} from './errors';
export type { ConnectorErrorCode } from './errors';
