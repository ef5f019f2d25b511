/* eslint-disable @typescript-eslint/no-explicit-any -- the tests write deliberately malformed values into parsed bodies */
import { Ajv } from 'ajv';
import { CALL_STATES } from '@sip-endpoint/policy';
import {
  CONNECTION_STATES,
  CONNECTOR_CALL_STATES,
  CONNECTOR_ROUTES,
  SESSION_STATUSES,
  audioRequestSchema,
  configSchema,
  emptyResponseSchema,
  errorBodySchema,
  registerHeadersSchema,
  registerRequestSchema,
  sessionSchema,
} from '@sip-endpoint/connector-client';
import type { Config, Session } from '@sip-endpoint/connector-client';
// The call model's schema is a part of sessionSchema that the package does not export.
import { callSchema } from '../src/schemas';
import { EMPTY_BODY_TEXT, EXAMPLE_SESSION_TEXT, LOGIN_CONFIG_TEXT, REGISTERED_SESSION_TEXT, TRANSCRIPT_BEARER } from './support/transcript';

const ajv = new Ajv({ allErrors: true, strict: true });
const session = ajv.compile(sessionSchema);
const config = ajv.compile(configSchema);
const audio = ajv.compile(audioRequestSchema);
const empty = ajv.compile(emptyResponseSchema);
const errorBody = ajv.compile(errorBodySchema);
const register = ajv.compile(registerRequestSchema);
const registerHeaders = ajv.compile(registerHeadersSchema);
const call = ajv.compile(callSchema);

/** A deep copy of the transcript's registered session, changed by `edit`. */
function registered(edit: (s: Record<string, any>) => void): unknown {
  const copy = JSON.parse(REGISTERED_SESSION_TEXT) as Record<string, any>;
  edit(copy);
  return copy;
}

describe('schemas against the spec\'s transcript', () => {
  it('sessionSchema accepts the spec\'s GET /session example data', () => {
    expect(session(JSON.parse(EXAMPLE_SESSION_TEXT))).toBe(true);
  });

  it('sessionSchema accepts the transcript\'s registered session, sep_connection_status included', () => {
    expect(session(JSON.parse(REGISTERED_SESSION_TEXT))).toBe(true);
    const typed: Session = JSON.parse(REGISTERED_SESSION_TEXT) as Session;
    expect(typed.connectivities?.connections?.[0]?.state).toBe('READY');
  });

  it('configSchema accepts the transcript\'s POST /session body', () => {
    expect(config(JSON.parse(LOGIN_CONFIG_TEXT))).toBe(true);
    const typed = JSON.parse(LOGIN_CONFIG_TEXT) as Config;
    expect(typed.options?.softphone?.session_expire).toBe(60);
  });

  it('the 200 and 403 bodies `{}` fit emptyResponseSchema and errorBodySchema', () => {
    expect(empty(JSON.parse(EMPTY_BODY_TEXT))).toBe(true);
    expect(errorBody(JSON.parse(EMPTY_BODY_TEXT))).toBe(true);
    expect(errorBody({ statusCode: 400, error: 'Bad Request', message: 'body/connectivities/protocol must be equal to one of the allowed values' })).toBe(true);
  });

  it('registerHeadersSchema accepts the transcript\'s Bearer header and no header', () => {
    expect(registerHeaders({ authorization: `Bearer ${TRANSCRIPT_BEARER}` })).toBe(true);
    expect(registerHeaders({})).toBe(true);
    expect(register({})).toBe(true);
  });

  it('every value of the spec\'s enums is accepted, ALETING and ALERTING both', () => {
    for (const state of CONNECTOR_CALL_STATES) expect(call({ uuid: 'u', state })).toBe(true);
    expect(CONNECTOR_CALL_STATES).toEqual(expect.arrayContaining(['ALETING', 'ALERTING', 'VQ_ALARM', 'VQ_ALARM_OFF', 'MEDIA_OFFER', 'OFFER_WAITING']));
    for (const state of CONNECTION_STATES) expect(session(registered((s) => (s['connectivities'].connections[0].state = state)))).toBe(true);
    for (const status of SESSION_STATUSES) expect(session(registered((s) => (s['status'] = status)))).toBe(true);
  });
});

describe('the call states of the wire', () => {
  it('are every state an SDK call takes (policy\'s CALL_STATES) plus the spec\'s wire-only values, each once', () => {
    expect(CONNECTOR_CALL_STATES).toEqual(expect.arrayContaining([...CALL_STATES]));
    expect(new Set(CONNECTOR_CALL_STATES).size).toBe(CONNECTOR_CALL_STATES.length);
    // The spec's thirteen values (ALETING spelt so) and ALERTING, what this SDK's endpoint reports.
    expect([...CONNECTOR_CALL_STATES].sort()).toEqual(
      ['UNKNOWN', 'ALETING', 'CONNECTED', 'DISCONNECTED', 'IN_PROGRESS', 'HELD', 'MEDIA_OFFER', 'OFFER_WAITING', 'MEDIA_ACCEPTED', 'MEDIA_REJECTED', 'RINGING', 'VQ_ALARM', 'VQ_ALARM_OFF', 'ALERTING'].sort(),
    );
  });
});

describe('schemas reject malformed bodies', () => {
  it.each<[string, (s: Record<string, any>) => void]>([
    ['an unknown status', (s) => (s['status'] = 'READY')],
    ['a lower-case status', (s) => (s['status'] = 'initialized')],
    ['an unknown connection state', (s) => (s['connectivities'].connections[0].state = 'CONNECTED')],
    ['an unknown protocol', (s) => (s['connectivities'].protocol = 'sctp')],
    ['connections that is not a list', (s) => (s['connectivities'].connections = { server: 'a' })],
    ['a volume given as text', (s) => (s['devices'].speaker.volume = '100')],
    ['a volume above 100', (s) => (s['devices'].microphone.volume = 101)],
    ['a fractional volume', (s) => (s['devices'].microphone.volume = 7.5)],
    ['headset_used given as text', (s) => (s['devices'].headset_used = 'false')],
    ['an unknown call state', (s) => (s['phone'].calls = [{ uuid: 'a', state: 'TALKING' }])],
    ['a call uuid that is a number', (s) => (s['phone'].calls = [{ uuid: 42, state: 'RINGING' }])],
    ['calls that is not a list', (s) => (s['phone'].calls = 'none')],
    ['a fractional rtt_ms', (s) => (s['phone'].rtt_ms = 1.5)],
    ['a MOS given as text', (s) => (s['phone'].local_mos = '4.1')],
    ['vq_alarm_on given as a number', (s) => (s['phone'].vq_alarm_on = 1)],
  ])('sessionSchema rejects %s', (_name, edit) => {
    expect(session(registered(edit))).toBe(false);
  });

  it('sessionSchema rejects a body that is not an object', () => {
    expect(session([])).toBe(false);
    expect(session('INITIALIZED')).toBe(false);
    expect(session(null)).toBe(false);
  });

  it.each<[string, unknown]>([
    ['a misspelt top-level property', { connectivity: { protocol: 'udp' } }],
    ['an override key that is not domain.section.setting', { options: { sipendpoint: { auto_restart: '1' } } }],
    ['an override value that is an object', { options: { sipendpoint: { 'policy.connector.auto_restart': { on: true } } } }],
    ['session_expire given as text', { options: { softphone: { session_expire: '60' } } }],
    ['session_expire with a fraction', { options: { softphone: { session_expire: 1.5 } } }],
    ['enforce_headset_usage given as text', { options: { softphone: { enforce_headset_usage: 'yes' } } }],
    ['an unknown softphone option', { options: { softphone: { sessionExpire: 60 } } }],
    ['an unknown protocol', { connectivities: { protocol: 'UDPX', connections: [] } }],
    ['a connection with an unknown property', { connectivities: { connections: [{ server: 'a:5060', user: '1', password: 'x' }] } }],
    ['a connection user that is a number', { connectivities: { connections: [{ server: 'a:5060', user: 5320 }] } }],
  ])('configSchema rejects %s', (_name, body) => {
    expect(config(body)).toBe(false);
  });

  it('audioRequestSchema accepts a mute and a volume and rejects out-of-range or unknown fields', () => {
    expect(audio({ microphone: { muted: true }, speaker: { volume: 0 } })).toBe(true);
    expect(audio({ speaker: { volume: -1 } })).toBe(false);
    expect(audio({ speaker: { volume: 100.5 } })).toBe(false);
    expect(audio({ microphone: { mute: true } })).toBe(false);
    expect(audio({ headset: true })).toBe(false);
  });

  it('registerRequestSchema rejects a body with a token, registerHeadersSchema a non-Bearer header', () => {
    expect(register({ token: TRANSCRIPT_BEARER })).toBe(false);
    expect(registerHeaders({ authorization: 'Basic dXNlcjpwYXNz' })).toBe(false);
    expect(registerHeaders({ authorization: 'Bearer two words' })).toBe(false);
    expect(registerHeaders({ authorization: 'Bearer ' })).toBe(false);
  });

  it('emptyResponseSchema rejects a body with properties', () => {
    expect(empty({ ok: true })).toBe(false);
    expect(empty([])).toBe(false);
  });
});

describe('CONNECTOR_ROUTES', () => {
  it('lists the seven routes of the spec', () => {
    expect(CONNECTOR_ROUTES.map((route) => `${route.method} ${route.path}`).sort()).toEqual(
      ['DELETE /calls', 'DELETE /register', 'DELETE /session', 'GET /session', 'POST /audio', 'POST /register', 'POST /session'],
    );
  });

  it('every schema compiles twice in one strict ajv, as a server registering each route would', () => {
    const shared = new Ajv({ strict: true });
    for (let round = 0; round < 2; round++) {
      for (const route of CONNECTOR_ROUTES) {
        for (const schema of [route.body, route.headers, route.response]) {
          if (schema) expect(typeof shared.compile({ ...schema })).toBe('function');
        }
      }
    }
  });
});
