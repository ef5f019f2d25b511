import { createServer } from 'node:net';
import {
  ConnectorArgumentError,
  ConnectorBadRequestError,
  ConnectorClient,
  ConnectorForbiddenError,
  ConnectorHttpError,
  ConnectorNotFoundError,
  ConnectorResponseError,
  ConnectorServerError,
  ConnectorTimeoutError,
  ConnectorUnreachableError,
} from '@sip-endpoint/connector-client';
import type { Config } from '@sip-endpoint/connector-client';
import { SipEndpointError } from '@sip-endpoint/config';
import { testPorts } from '@sip-endpoint/test-support';
import { TranscriptPeer } from './support/transcript-peer';
import {
  LOGIN_CONFIG_TEXT,
  REGISTERED_SESSION_TEXT,
  TRANSCRIPT_BEARER,
  TRANSCRIPT_CSRF_TOKEN,
  TRANSCRIPT_ORIGIN,
  TRANSCRIPT_VERSION,
} from './support/transcript';

/** The port of the current test's peer (a block of its own from testPorts, in beforeEach). */
let port: number;

const LOGIN_CONFIG = JSON.parse(LOGIN_CONFIG_TEXT) as Config;

function client(at = port, extra: Partial<ConstructorParameters<typeof ConnectorClient>[0]> = {}): ConnectorClient {
  return new ConnectorClient({ baseUrl: `http://127.0.0.1:${at}`, origin: TRANSCRIPT_ORIGIN, csrfToken: TRANSCRIPT_CSRF_TOKEN, ...extra });
}

describe('ConnectorClient against a peer replaying the spec\'s transcript', () => {
  let peer: TranscriptPeer;

  beforeEach(async () => {
    port = testPorts(1);
    peer = await new TranscriptPeer().listen(port);
  });

  afterEach(async () => {
    await peer.close();
  });

  it('plays the transcript: 403 + cookie, POST /session, register with Bearer, GET /session, DELETE /register, DELETE /session', async () => {
    const c = client();
    expect(c.sessionId).toBeUndefined();

    const first = await c.getSession().catch((error: unknown) => error);
    expect(first).toBeInstanceOf(ConnectorForbiddenError);
    expect(first).toMatchObject({ code: 'ERR_CONNECTOR_FORBIDDEN', status: 403, request: 'GET /session', body: {} });
    const cookie = c.sessionId;
    expect(cookie).toMatch(/^[0-9A-F-]{36}$/);
    expect(peer.sessions.has(cookie!)).toBe(true);
    expect(c.softphoneVersion).toBe(TRANSCRIPT_VERSION);

    await c.updateSession(LOGIN_CONFIG);
    await c.register(TRANSCRIPT_BEARER);
    const session = await c.getSession();
    expect(session).toEqual(JSON.parse(REGISTERED_SESSION_TEXT));
    await c.unregister();
    expect(peer.sessions.get(cookie!)).toMatchObject({ configured: true, registered: false, config: LOGIN_CONFIG });
    await c.closeSession();
    expect(c.sessionId).toBeUndefined();
    expect(peer.sessions.size).toBe(0);

    const sent = peer.requests.map((r) => `${r.method} ${r.url}`);
    expect(sent).toEqual([
      'GET /softphone/v2/session',
      'POST /softphone/v2/session',
      'POST /softphone/v2/register',
      'GET /softphone/v2/session',
      'DELETE /softphone/v2/register',
      'DELETE /softphone/v2/session',
    ]);
    for (const request of peer.requests) {
      expect(request.headers.origin).toBe(TRANSCRIPT_ORIGIN);
      expect(request.headers['x-csrf-token']).toBe(TRANSCRIPT_CSRF_TOKEN);
    }
    expect(peer.requests[0]!.headers.cookie).toBeUndefined();
    for (const request of peer.requests.slice(1)) expect(request.headers.cookie).toBe(`SEPSESSIONID=${cookie}`);
    expect(JSON.parse(peer.requests[1]!.body)).toEqual(LOGIN_CONFIG);
    expect(peer.requests[1]!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(peer.requests[2]!.headers.authorization).toBe(`Bearer ${TRANSCRIPT_BEARER}`);
    expect(peer.requests[2]!.headers['content-length']).toBe('0');
    // As in the transcript, the bodiless POST has no Content-Type; Node's fetch sends a bodiless
    // DELETE without Content-Length (the transcript's desktop sent 0).
    expect(peer.requests[2]!.headers['content-type']).toBeUndefined();
    for (const request of peer.requests.slice(4)) {
      expect(request.body).toBe('');
      expect(request.headers['content-type']).toBeUndefined();
    }
  });

  it('openSession() does the login handshake and returns the configured session', async () => {
    const c = client();
    const session = await c.openSession(LOGIN_CONFIG);
    expect(session.status).toBe('INITIALIZED');
    expect(peer.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'GET']);
    await c.setAudio({ microphone: { muted: true } });
    await c.releaseCalls();
    expect(JSON.parse(peer.requests[3]!.body)).toEqual({ microphone: { muted: true } });
    expect(`${peer.requests[4]!.method} ${peer.requests[4]!.url}`).toBe('DELETE /softphone/v2/calls');
  });

  it('register() without a token sends no Authorization header', async () => {
    const c = client();
    await c.openSession(LOGIN_CONFIG);
    await c.register();
    expect(peer.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('keeps the cookie per client: a second desktop gets its own session', async () => {
    const a = client();
    const b = client(port, { origin: 'http://other-desktop:8080' });
    await a.openSession(LOGIN_CONFIG);
    await expect(b.getSession()).rejects.toBeInstanceOf(ConnectorForbiddenError);
    expect(b.sessionId).toBeDefined();
    expect(b.sessionId).not.toBe(a.sessionId);
    await expect(b.register()).rejects.toBeInstanceOf(ConnectorForbiddenError);
    await expect(a.getSession()).resolves.toMatchObject({ status: 'INITIALIZED' });
  });

  it('accepts a session id given in the options, and a baseUrl that already has the /softphone/v2 path', async () => {
    const a = client();
    await a.openSession(LOGIN_CONFIG);
    const b = new ConnectorClient({ baseUrl: `http://127.0.0.1:${port}/softphone/v2/`, sessionId: a.sessionId! });
    expect(b.baseUrl).toBe(`http://127.0.0.1:${port}/softphone/v2`);
    await expect(b.getSession()).resolves.toMatchObject({ status: 'INITIALIZED' });
    expect(peer.requests.at(-1)!.headers.origin).toBeUndefined();
  });

  it('a 400 becomes ConnectorBadRequestError with the server\'s message', async () => {
    const c = client();
    peer.scripted.push({ status: 400, body: JSON.stringify({ statusCode: 400, code: 'FST_ERR_VALIDATION', error: 'Bad Request', message: 'body/connectivities must be object' }) });
    const error = await c.updateSession({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorBadRequestError);
    expect(error).toBeInstanceOf(ConnectorHttpError);
    expect(error).toBeInstanceOf(SipEndpointError);
    expect(error).toMatchObject({ code: 'ERR_CONNECTOR_BAD_REQUEST', status: 400, serverMessage: 'body/connectivities must be object', serverCode: 'FST_ERR_VALIDATION' });
    expect((error as Error).message).toContain('body/connectivities must be object');
  });

  it('404, 5xx and other statuses become their own typed errors, whatever the body', async () => {
    const c = client();
    peer.scripted.push({ status: 404, body: '{}' }, { status: 503, body: '<html>down</html>', headers: { 'Content-Type': 'text/html' } }, { status: 500, body: '{"message":"endpoint crashed"}' }, { status: 418, body: '' });
    await expect(c.releaseCalls()).rejects.toMatchObject({ constructor: ConnectorNotFoundError, code: 'ERR_CONNECTOR_NOT_FOUND', status: 404 });
    await expect(c.getSession()).rejects.toMatchObject({ constructor: ConnectorServerError, code: 'ERR_CONNECTOR_SERVER_ERROR', status: 503, body: undefined });
    await expect(c.getSession()).rejects.toMatchObject({ constructor: ConnectorServerError, status: 500, serverMessage: 'endpoint crashed' });
    await expect(c.unregister()).rejects.toMatchObject({ constructor: ConnectorHttpError, code: 'ERR_CONNECTOR_HTTP_STATUS', status: 418 });
  });

  it('a baseUrl with another path meets the peer\'s 404 as ConnectorNotFoundError', async () => {
    const c = new ConnectorClient({ baseUrl: `http://127.0.0.1:${port}/softphone/v1` });
    expect(c.baseUrl).toBe(`http://127.0.0.1:${port}/softphone/v1/softphone/v2`);
    await expect(c.getSession()).rejects.toBeInstanceOf(ConnectorNotFoundError);
    expect(peer.requests.at(-1)!.url).toBe('/softphone/v1/softphone/v2/session');
  });

  it('survives a Softphone restart between two requests (its pooled keep-alive socket is dead)', async () => {
    const c = client();
    await c.openSession(LOGIN_CONFIG);
    const before = peer.requests.length;
    await peer.close();
    peer = await new TranscriptPeer().listen(port);
    // The restarted Softphone knows no session: the request reached it and got the transcript's 403.
    await expect(c.getSession()).rejects.toBeInstanceOf(ConnectorForbiddenError);
    expect(peer.requests).toHaveLength(1);
    expect(before).toBe(3);
  });

  it('a 200 outside the schema is ConnectorResponseError naming the bad place', async () => {
    const c = client();
    await c.openSession(LOGIN_CONFIG);
    peer.snapshot = { status: 'INITIALIZED', phone: { calls: [{ uuid: 'a', state: 'TALKING' }] } };
    const error = await c.getSession().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorResponseError);
    expect(error).toMatchObject({ code: 'ERR_CONNECTOR_INVALID_RESPONSE', request: 'GET /session' });
    expect((error as ConnectorResponseError).problems[0]).toMatch(/^\/phone\/calls\/0\/state must be one of UNKNOWN, ALETING/);

    peer.scripted.push({ status: 200, body: 'OK' }, { status: 200, body: '' }, { status: 200, body: '{"done":true}' }, { status: 200, body: '[]' });
    await expect(c.getSession()).rejects.toMatchObject({ problems: ['the body is not JSON'], bodyText: 'OK' });
    await expect(c.register()).rejects.toMatchObject({ problems: ['the body is empty, not JSON'] });
    await expect(c.register()).rejects.toBeInstanceOf(ConnectorResponseError);
    await expect(c.getSession()).rejects.toMatchObject({ problems: ['(body) must be object'] });
  });

  it('checks a config or audio request before sending it, naming the bad property', async () => {
    const c = client();
    await expect(c.updateSession({ connectivities: { protocol: 'sctp' as never } })).rejects.toMatchObject({
      constructor: ConnectorArgumentError,
      code: 'ERR_CONNECTOR_INVALID_ARGUMENT',
      argument: 'config.connectivities.protocol',
    });
    await expect(c.updateSession({ options: { softphone: { sessionExpire: 5 } } } as never)).rejects.toMatchObject({ argument: 'config.options.softphone.sessionExpire' });
    await expect(c.updateSession({ options: { sipendpoint: { auto_restart: '1' } } })).rejects.toMatchObject({ argument: 'config.options.sipendpoint.auto_restart' });
    await expect(c.setAudio({ speaker: { volume: 150 } })).rejects.toMatchObject({ argument: 'devices.speaker.volume' });
    await expect(c.register('two words')).rejects.toMatchObject({ argument: 'token' });
    expect(peer.requests).toHaveLength(0);
  });

  it('rejects bad options with ConnectorArgumentError', () => {
    expect(() => new ConnectorClient({ baseUrl: 'not a url' })).toThrow(ConnectorArgumentError);
    expect(() => new ConnectorClient({ baseUrl: 'ftp://127.0.0.1:1' })).toThrow(/baseUrl must be http/);
    expect(() => new ConnectorClient({ baseUrl: 'http://127.0.0.1:1', origin: 'desktop' })).toThrow(/^origin /);
    expect(() => new ConnectorClient({ baseUrl: 'http://127.0.0.1:1', csrfToken: 'a b' })).toThrow(/^csrfToken /);
    expect(() => new ConnectorClient({ baseUrl: 'http://127.0.0.1:1', retry: { retries: -1 } })).toThrow(/^retry.retries /);
    expect(() => new ConnectorClient({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 0 })).toThrow(/^timeoutMs /);
    expect(() => new ConnectorClient({ baseUrl: 'http://127.0.0.1:1', sessionId: 'a;b' })).toThrow(/^sessionId /);
  });

  it.each<[Partial<ConstructorParameters<typeof ConnectorClient>[0]>, string]>([
    [{ timeoutMs: 1.5 }, 'timeoutMs'],
    [{ timeoutMs: 2 ** 31 }, 'timeoutMs'],
    [{ timeoutMs: Number.POSITIVE_INFINITY }, 'timeoutMs'],
    [{ retry: { maxDelayMs: 2 ** 31 } }, 'retry.maxDelayMs'],
    [{ retry: { initialDelayMs: 0.5 } }, 'retry.initialDelayMs'],
  ])('rejects %p with ConnectorArgumentError naming %s (a time no timer holds: a RangeError later, or a timer firing at once)', (options, argument) => {
    const error = (() => {
      try {
        return new ConnectorClient({ baseUrl: 'http://127.0.0.1:1', ...options });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConnectorArgumentError);
    expect(error).toMatchObject({ code: 'ERR_CONNECTOR_INVALID_ARGUMENT', argument });
  });

  it('accepts the longest times a timer holds', () => {
    expect(() => new ConnectorClient({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 2 ** 31 - 1, retry: { maxDelayMs: 2 ** 31 - 1 } })).not.toThrow();
  });

  it('times out with ConnectorTimeoutError when the Softphone does not answer', async () => {
    const c = client(port, { timeoutMs: 300 });
    peer.scripted.push({ status: 200, body: '{}', delayMs: 3000 });
    await expect(c.releaseCalls()).rejects.toMatchObject({ constructor: ConnectorTimeoutError, code: 'ERR_CONNECTOR_TIMEOUT' });
    // It gave up before the answer, not at it (its 300 ms timer fires first however late both
    // fire): the peer has answered nothing yet.
    expect(peer.requests.filter((request) => request.answeredAt !== undefined)).toEqual([]);
  });
});

/** A port of the test's own on which nothing listens (checked by binding it and closing again). */
async function closedPort(): Promise<number> {
  const free = testPorts(1);
  await new Promise<void>((resolve, reject) => {
    const probe = createServer().once('error', reject).listen(free, '127.0.0.1', () => probe.close(() => resolve()));
  });
  return free;
}

describe('ConnectorClient when the Softphone is not listening', () => {
  it('retries a refused connection with backoff until the Softphone starts listening', async () => {
    const late = await closedPort();
    const c = client(late, { retry: { retries: 8, initialDelayMs: 50, maxDelayMs: 400 } });
    const peer = new TranscriptPeer();
    const started = Date.now();
    // The scenario: the Softphone starts listening 700 ms after the first attempt.
    const listening = new Promise<void>((resolve) => setTimeout(() => void peer.listen(late).then(() => resolve()), 700));
    try {
      const error = await c.getSession().catch((e: unknown) => e);
      await listening;
      // The transcript's first answer: 403 with the cookie — the request got through once the peer listened.
      expect(error).toBeInstanceOf(ConnectorForbiddenError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(650);
      expect(peer.requests).toHaveLength(1);
      expect(c.sessionId).toBeDefined();
    } finally {
      await listening;
      await peer.close();
    }
  });

  it('gives up after the bounded retries with ConnectorUnreachableError (ECONNREFUSED)', async () => {
    const c = client(await closedPort(), { retry: { retries: 3, initialDelayMs: 40, maxDelayMs: 100 } });
    const started = Date.now();
    const error = await c.getSession().catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(ConnectorUnreachableError);
    expect(error).toMatchObject({ code: 'ERR_CONNECTOR_UNREACHABLE', attempts: 4, request: 'GET /session' });
    expect((error as Error).message).toContain('ECONNREFUSED');
    // 40 + 80 + 100 ms of backoff, bounded: not immediate, not unbounded.
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(5000);
  });

  it('with retries: 0 fails at the first refusal', async () => {
    const c = client(await closedPort(), { retry: { retries: 0 } });
    await expect(c.unregister()).rejects.toMatchObject({ constructor: ConnectorUnreachableError, attempts: 1 });
  });
});
