import { overridesJsonSchema } from '@sip-endpoint/config';
import { CONNECTION_STATES, CONNECTIVITY_PROTOCOLS, CONNECTOR_CALL_STATES, SESSION_STATUSES } from './models';

/**
 * JSON Schemas (draft-07, as ajv 8's default `Ajv` reads them) of the Connector API v2 bodies.
 *
 * @remarks
 * Response schemas are open (unknown properties are allowed, as a newer Softphone may add some, e.g.
 * `sep_connection_status`); request schemas are closed, so that a misspelt property is a 400 rather
 * than silently ignored. No schema has an `$id`, so one ajv instance (fastify's) can compile any of
 * them any number of times, alone or nested.
 *
 * @packageDocumentation
 */

/**
 * A JSON Schema object, as ajv consumes it.
 *
 * @public
 */
export type ConnectorJsonSchema = { readonly [keyword: string]: unknown };

const { $id: _overridesId, ...sipendpoint } = overridesJsonSchema;
void _overridesId;

const volume = { type: 'integer', minimum: 0, maximum: 100 } as const;

/** Schema of the `call` model. @public */
export const callSchema = {
  type: 'object',
  properties: {
    uuid: { type: 'string' },
    state: { type: 'string', enum: [...CONNECTOR_CALL_STATES] },
    security: { type: 'string', enum: ['none', 'sdes', 'dtls', 'webrtc'] },
    kind: { type: 'string', enum: ['im'] },
  },
} as const satisfies ConnectorJsonSchema;

function connectionSchemaOf(closed: boolean) {
  return {
    type: 'object',
    properties: {
      server: { type: 'string' },
      user: { type: 'string' },
      state: { type: 'string', enum: [...CONNECTION_STATES] },
    },
    additionalProperties: !closed,
  } as const satisfies ConnectorJsonSchema;
}

function connectivitiesSchemaOf(closed: boolean) {
  return {
    type: 'object',
    properties: {
      protocol: { type: 'string', enum: [...CONNECTIVITY_PROTOCOLS] },
      connections: { type: 'array', items: connectionSchemaOf(closed) },
      sep_connection_status: { type: 'string' },
    },
    additionalProperties: !closed,
  } as const satisfies ConnectorJsonSchema;
}

function deviceSchemaOf(closed: boolean) {
  return {
    type: 'object',
    properties: {
      name: { type: 'string' },
      volume,
      muted: { type: 'boolean' },
    },
    additionalProperties: !closed,
  } as const satisfies ConnectorJsonSchema;
}

function devicesSchemaOf(closed: boolean) {
  return {
    type: 'object',
    properties: {
      headset_used: { type: 'boolean' },
      speaker: deviceSchemaOf(closed),
      microphone: deviceSchemaOf(closed),
    },
    additionalProperties: !closed,
  } as const satisfies ConnectorJsonSchema;
}

/** Schema of the `connection` model, as the Softphone reports it. @public */
export const connectionSchema = connectionSchemaOf(false);

/** Schema of the `connectivities` model, as the Softphone reports it. @public */
export const connectivitiesSchema = connectivitiesSchemaOf(false);

/** Schema of the `devices_speaker` / `devices_microphone` models, as the Softphone reports them. @public */
export const deviceSchema = deviceSchemaOf(false);

/** Schema of the `devices` model, as the Softphone reports it. @public */
export const devicesSchema = devicesSchemaOf(false);

/** Schema of the `phone` model. @public */
export const phoneSchema = {
  type: 'object',
  properties: {
    vq_alarm_on: { type: 'boolean' },
    local_inter_mos: { type: 'number' },
    local_mos: { type: 'number' },
    rtt_ms: { type: 'integer', minimum: 0 },
    calls: { type: 'array', items: callSchema },
  },
} as const satisfies ConnectorJsonSchema;

/** Schema of the `session` model: the 200 body of `GET /session`. @public */
export const sessionSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: [...SESSION_STATUSES] },
    connectivities: connectivitiesSchema,
    devices: devicesSchema,
    phone: phoneSchema,
  },
} as const satisfies ConnectorJsonSchema;

/**
 * Schema of the `config_options_softphone` model. `session_expire` is any integer: the Softphone
 * takes one outside 0-300 as 300, as the spec says.
 *
 * @public
 */
export const configOptionsSoftphoneSchema = {
  type: 'object',
  properties: {
    session_expire: { type: 'integer' },
    enforce_headset_usage: { type: 'boolean' },
    username: { type: 'string' },
  },
  additionalProperties: false,
} as const satisfies ConnectorJsonSchema;

/**
 * Schema of the `config_options` model; `sipendpoint` follows `overridesJsonSchema` of
 * `@sip-endpoint/config` (keys `domain.section.setting`).
 *
 * @public
 */
export const configOptionsSchema = {
  type: 'object',
  properties: {
    sipendpoint,
    softphone: configOptionsSoftphoneSchema,
  },
  additionalProperties: false,
} as const satisfies ConnectorJsonSchema;

/** Schema of the `config` model: the body of `POST /session`. @public */
export const configSchema = {
  type: 'object',
  properties: {
    options: configOptionsSchema,
    connectivities: connectivitiesSchemaOf(true),
  },
  additionalProperties: false,
} as const satisfies ConnectorJsonSchema;

/** Schema of the body of `POST /audio` (the `devices` model, closed). @public */
export const audioRequestSchema = devicesSchemaOf(true);

/**
 * Schema of the body of `POST /register`: none, or an empty object. The token travels in the
 * `Authorization` header (see {@link registerHeadersSchema}).
 *
 * @public
 */
export const registerRequestSchema = {
  type: 'object',
  maxProperties: 0,
} as const satisfies ConnectorJsonSchema;

/**
 * Schema of the headers of `POST /register`: an optional `Authorization: Bearer <token>` (WebRTC).
 *
 * @public
 */
export const registerHeadersSchema = {
  type: 'object',
  properties: {
    authorization: { type: 'string', pattern: '^Bearer [A-Za-z0-9\\-._~+/]+=*$' },
  },
} as const satisfies ConnectorJsonSchema;

/** Schema of the `{}` body of a successful `POST` or `DELETE`. @public */
export const emptyResponseSchema = {
  type: 'object',
  maxProperties: 0,
} as const satisfies ConnectorJsonSchema;

/** Schema of an error body (`{}` for the spec's 403; `message` and friends for a 400). @public */
export const errorBodySchema = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' },
  },
} as const satisfies ConnectorJsonSchema;

/**
 * One route of the Connector API v2, with the schemas of its bodies.
 *
 * @public
 */
export interface ConnectorRoute {
  /** HTTP method. */
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Path below {@link CONNECTOR_BASE_PATH}, e.g. `/session`. */
  readonly path: '/session' | '/register' | '/audio' | '/calls';
  /** Schema of the request body, when the route takes one. */
  readonly body?: ConnectorJsonSchema;
  /** Schema of the request headers, when the route reads one. */
  readonly headers?: ConnectorJsonSchema;
  /** Schema of the 200 body. */
  readonly response: ConnectorJsonSchema;
}

/**
 * The seven routes of the Connector API v2 with their schemas, ready for a server's route table.
 *
 * @public
 */
export const CONNECTOR_ROUTES: readonly ConnectorRoute[] = [
  { method: 'GET', path: '/session', response: sessionSchema },
  { method: 'POST', path: '/session', body: configSchema, response: emptyResponseSchema },
  { method: 'DELETE', path: '/session', response: emptyResponseSchema },
  { method: 'POST', path: '/register', body: registerRequestSchema, headers: registerHeadersSchema, response: emptyResponseSchema },
  { method: 'DELETE', path: '/register', response: emptyResponseSchema },
  { method: 'POST', path: '/audio', body: audioRequestSchema, response: emptyResponseSchema },
  { method: 'DELETE', path: '/calls', response: emptyResponseSchema },
];
