import { Ajv } from 'ajv';
import type { EndpointConfig } from '@sip-endpoint/config';
import { sessionSchema } from '@sip-endpoint/connector-client';
import { SDK_VERSION } from '@sip-endpoint/endpoint-core';
import { VirtualAudioProvider } from '@sip-endpoint/media';
import { Softphone, SoftphoneError } from '@sip-endpoint/softphone';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testPorts } from '@sip-endpoint/test-support';
import { Kamailio, kamailioAvailable } from '../../endpoint-core/test/support/kamailio';
import { assertSippPassed, runSipp, sippAvailable } from '../../endpoint-core/test/support/sipp';
import { ACK, AUTO_ANSWER, HANG_UP, INVITE, recv, REFUSED, scenario, SDP, send as sippSend } from '../../endpoint-core/test/support/sipp-scenario';
import { makeTestCertificates } from '../../endpoint-core/test/support/tls-certificates';
import { connectorConfig } from './support/config';
import { desktopHeaders, send, sessionIdOf, sleep, until, type RawResponse } from './support/http';

// This file's ports, from this jest worker's range, taken when it loads: Kamailio's, the
// connector's, the endpoint's SIP (7) and RTP (50) ports.
const describeIf = kamailioAvailable() ? describe : describe.skip;
const KAMAILIO = testPorts(1);
const CONNECTOR = testPorts(1);
const SIP = testPorts(7);
const RTP = testPorts(50);
const SIPP = testPorts(1);
const SIPP_MEDIA = testPorts(2);
const BASE = `http://127.0.0.1:${CONNECTOR}/softphone/v2`;
const ORIGIN = 'http://bsgwsfanch:8080';
const validSession = new Ajv({ strict: false }).compile(sessionSchema);

function baseConfig(settings: Record<string, string> = {}): EndpointConfig {
  return connectorConfig({ connector: CONNECTOR, sip: SIP, rtp: RTP }, settings);
}

/** The transcript's common response headers, checked on every response. */
function expectTranscriptHeaders(response: RawResponse): void {
  expect(response.headers['access-control-allow-origin']).toBe(ORIGIN);
  expect(response.headers['access-control-allow-credentials']).toBe('true');
  expect(response.headers['x-content-type-options']).toBe('nosniff');
  expect(response.headers['access-control-expose-headers']).toBe('X-Genesys-Softphone-Version');
  expect(response.headers['x-genesys-softphone-version']).toMatch(new RegExp(`^${SDK_VERSION.replace(/\./g, '\\.')} {2}\\(\\S+ \\S+\\)$`));
  expect(response.headers['content-type']).toBe('application/json; charset=UTF-8');
}

describeIf('the Connector API v2, replaying the spec transcript against a real registrar', () => {
  let kamailio: Kamailio;
  let softphone: Softphone | undefined;

  beforeAll(async () => {
    kamailio = await Kamailio.start(KAMAILIO);
  }, 20000); // Kamailio.start waits up to 10 s for its OPTIONS answer
  afterAll(async () => {
    await kamailio.stop();
  });
  afterEach(async () => {
    await softphone?.stop();
    softphone = undefined;
  });

  async function start(settings: Record<string, string> = {}, devices?: VirtualAudioProvider): Promise<Softphone> {
    softphone = new Softphone({ config: baseConfig(settings), ...(devices ? { devices } : {}) });
    await softphone.start();
    return softphone;
  }

  /** The first two steps of the transcript: GET /session (403 and a cookie), then POST /session. */
  async function login(body: object = transcriptBody()): Promise<string> {
    const first = await send(`${BASE}/session`, { headers: desktopHeaders() });
    expect(first.status).toBe(403);
    const id = sessionIdOf(first)!;
    const configured = await send(`${BASE}/session`, { method: 'POST', headers: desktopHeaders({ Cookie: `SEPSESSIONID=${id}`, 'Content-Type': 'application/json; charset=utf-8' }), body: JSON.stringify(body) });
    expect(configured.status).toBe(200);
    return id;
  }

  function transcriptBody(sessionExpire = 60, user = '5320'): object {
    // The transcript's body, with the SIP Server replaced by the local Kamailio.
    return { options: { sipendpoint: { 'policy.connector.auto_restart': '1' }, softphone: { session_expire: sessionExpire } }, connectivities: { protocol: 'udp', connections: [{ server: `127.0.0.1:${KAMAILIO}`, user }] } };
  }

  const withCookie = (id: string, extra: Record<string, string> = {}): Record<string, string> => desktopHeaders({ Cookie: `SEPSESSIONID=${id}`, ...extra });

  it('agent login, registration, keep-alive, logout: each request and response as in the transcript', async () => {
    const phone = await start();
    const states: string[] = [];
    phone.on('endpoint', (endpoint) => endpoint.on('connectionStateChanged', (_line, state) => states.push(state)));

    // GET /session without a session: 403, a fresh SEPSESSIONID, {}.
    const first = await send(`${BASE}/session`, { headers: desktopHeaders() });
    expect(first.status).toBe(403);
    expectTranscriptHeaders(first);
    expect(first.headers['cache-control']).toBe('no-store');
    expect(first.cookies).toHaveLength(1);
    expect(first.cookies[0]).toMatch(/^SEPSESSIONID=[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}; HttpOnly; SameSite=None; Secure; Path=\/softphone\/v2\/$/);
    expect(first.body).toBe('{}');
    const id = sessionIdOf(first)!;

    // POST /session with the cookie and the transcript's body (Expect: 100-continue as the desktop sends it).
    const configured = await send(`${BASE}/session`, {
      method: 'POST',
      headers: withCookie(id, { 'Content-Type': 'application/json; charset=utf-8', Expect: '100-continue' }),
      body: JSON.stringify(transcriptBody()),
    });
    expect(configured.status).toBe(200);
    expectTranscriptHeaders(configured);
    expect(configured.cookies).toEqual([]);
    expect(configured.body).toBe('{}');
    expect(phone.sessionExpire).toBe(60);
    expect(phone.config.connectivities.map((c) => `${c.user}@${c.server}/${c.protocol}`)).toEqual([`5320@127.0.0.1:${KAMAILIO}/UDP`]);

    // Before POST /register nothing registers: the line is configured, NONE.
    const before = await send(`${BASE}/session`, { headers: withCookie(id) });
    expect(before.status).toBe(200);
    expect(before.json()).toMatchObject({ status: 'INITIALIZING', connectivities: { protocol: 'udp', connections: [{ server: `127.0.0.1:${KAMAILIO}`, user: '5320', state: 'NONE' }] } });

    // POST /register, no body, the WebRTC bearer token in Authorization.
    const registered = await send(`${BASE}/register`, { method: 'POST', headers: withCookie(id, { Authorization: 'Bearer TestJwtTokenInAuthorization_Bearer', 'Content-Length': '0' }) });
    expect(registered.status).toBe(200);
    expectTranscriptHeaders(registered);
    expect(registered.body).toBe('{}');

    // GET /session as a keep-alive until the connection is READY.
    let session: Record<string, unknown> = {};
    await until(async () => {
      const polled = await send(`${BASE}/session`, { headers: withCookie(id) });
      expect(polled.status).toBe(200);
      expectTranscriptHeaders(polled);
      expect(polled.headers['cache-control']).toBe('no-store');
      session = polled.json() as Record<string, unknown>;
      return session['status'] === 'INITIALIZED';
    }, 8000, 'INITIALIZED');
    expect(validSession(session)).toBe(true);
    expect(session).toMatchObject({
      status: 'INITIALIZED',
      connectivities: { protocol: 'udp', connections: [{ server: `127.0.0.1:${KAMAILIO}`, user: '5320', state: 'READY' }] },
      devices: { headset_used: false, speaker: { name: 'Default Speaker', volume: 100, muted: false }, microphone: { name: 'Default Microphone', volume: 100, muted: false } },
      phone: { calls: [] },
    });

    // Agent logout: DELETE /register, then DELETE /session clears the cookie.
    const unregistered = await send(`${BASE}/register`, { method: 'DELETE', headers: withCookie(id, { 'Content-Length': '0' }) });
    expect(unregistered.status).toBe(200);
    expectTranscriptHeaders(unregistered);
    expect(unregistered.body).toBe('{}');
    expect(states).toEqual(['TRYING', 'READY', 'SHUTDOWN']);

    const closed = await send(`${BASE}/session`, { method: 'DELETE', headers: withCookie(id, { 'Content-Length': '0' }) });
    expect(closed.status).toBe(200);
    expectTranscriptHeaders(closed);
    expect(closed.cookies).toEqual(['SEPSESSIONID=; HttpOnly; SameSite=None; Secure; Path=/softphone/v2/']);
    expect(closed.body).toBe('{}');
    expect(phone.inSession).toBe(false);

    // The old id is no session any more: 403 and a new one.
    const after = await send(`${BASE}/session`, { headers: withCookie(id) });
    expect(after.status).toBe(403);
    expect(sessionIdOf(after)).toMatch(/^[0-9A-F-]{36}$/);
    expect(sessionIdOf(after)).not.toBe(id);
  }, 30000);

  it('POST /session sets use_srtp for the calls to come; a value it cannot read falls back to the default with a warning', async () => {
    const phone = await start();
    const id = await login({ ...transcriptBody(), options: { sipendpoint: { 'system.security.use_srtp': 'force,UEC' } } });
    expect(phone.config.get('system.security.use_srtp')).toEqual({ mode: 'mandatory', unencryptedSrtcp: true });
    // A value it cannot read takes the specification's fallback (the default, with a warning), as in the file.
    const fallback = await send(`${BASE}/session`, {
      method: 'POST',
      headers: withCookie(id, { 'Content-Type': 'application/json; charset=utf-8' }),
      body: JSON.stringify({ options: { sipendpoint: { 'system.security.use_srtp': 'sometimes' } } }),
    });
    expect(fallback.status).toBe(200);
    expect(phone.config.get('system.security.use_srtp')).toEqual({ mode: 'disabled', unencryptedSrtcp: false });
    expect(phone.config.warnings).toContainEqual(expect.objectContaining({ kind: 'fallback', key: 'system.security.use_srtp', given: 'sometimes', used: 'disabled' }));
  });

  it('POST /session sets the nat settings of a line (ICE, STUN, TURN) for the calls to come', async () => {
    const phone = await start();
    await login({
      ...transcriptBody(),
      options: {
        sipendpoint: {
          'proxies.proxy0.nat.ice_enabled': '1',
          'proxies.proxy0.nat.stun_server': 'stun.example.com',
          'proxies.proxy0.nat.stun_server_port': '3479',
          'proxies.proxy0.nat.turn_server': '192.0.2.10',
          'proxies.proxy0.nat.turn_server_port': '443',
          'proxies.proxy0.nat.turn_user_name': 'agent7',
          'proxies.proxy0.nat.turn_password': 'turn-secret',
          'proxies.proxy0.nat.turn_relay_type': '1',
        },
      },
    });
    expect([
      phone.config.get('proxies.proxy0.nat.ice_enabled'),
      phone.config.get('proxies.proxy0.nat.stun_server'),
      phone.config.get('proxies.proxy0.nat.stun_server_port'),
      phone.config.get('proxies.proxy0.nat.turn_server'),
      phone.config.get('proxies.proxy0.nat.turn_server_port'),
      phone.config.get('proxies.proxy0.nat.turn_user_name'),
      phone.config.get('proxies.proxy0.nat.turn_password'),
      phone.config.get('proxies.proxy0.nat.turn_relay_type'),
    ]).toEqual([true, 'stun.example.com', 3479, '192.0.2.10', 443, 'agent7', 'turn-secret', 1]);
  });

  const itSipp = sippAvailable() ? it : it.skip;
  itSipp('the use_srtp and nat overrides of POST /session are what the next call runs: a plain offer refused 488, a secure one answered with a=crypto and ICE candidates, SDES in force', async () => {
    const phone = await start();
    const id = await login({ ...transcriptBody(), options: { sipendpoint: { 'system.security.use_srtp': 'force', 'proxies.proxy0.nat.ice_enabled': '1' } } });
    expect((await send(`${BASE}/register`, { method: 'POST', headers: withCookie(id, { 'Content-Length': '0' }) })).status).toBe(200);
    const endpoint = phone.endpoint!;
    await until(async () => endpoint.lines[0]?.state === 'READY', 8000, 'the line registered');
    const line = endpoint.lines[0]!;
    const securities: string[] = [];
    endpoint.on('incomingCall', (call) => call.on('stateChanged', (state) => {
      if (state === 'CONNECTED') securities.push(call.media.security.kind);
    }));
    const plain = SDP();
    assertSippPassed(await runSipp({ remotePort: line.port!, localPort: SIPP, service: '5320', scenario: scenario('plain offer, use_srtp force', REFUSED(488, AUTO_ANSWER, plain, [{ header: 'Warning:', regexp: 'use_srtp is mandatory and the offer is plain RTP' }])) }));
    const key = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';
    // With ICE of its own (we answer ICE only to an offer that has it, its m= address among its
    // candidates): sipp does not answer our checks; the call is short.
    const ice = `a=ice-ufrag:sipp\na=ice-pwd:sipp-ice-password-0123456\na=candidate:1 1 udp 2130706431 127.0.0.1 ${SIPP_MEDIA} typ host`;
    const secure = SDP().replace('RTP/AVP', 'RTP/SAVP').replace('a=sendrecv', `a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:${key}\n${ice}\na=sendrecv`);
    assertSippPassed(
      await runSipp({
        remotePort: line.port!,
        localPort: SIPP,
        mediaPort: SIPP_MEDIA,
        service: '5320',
        scenario: scenario('secure offer, use_srtp force, ICE on', [
          sippSend(INVITE(AUTO_ANSWER, secure), ' retrans="500"'),
          '<recv response="100" optional="true"/>',
          '<recv response="180" optional="true"/>',
          recv('response="200"', [{ regexp: 'm=audio [0-9]+ RTP/SAVP 0' }, { regexp: 'a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}' }, { regexp: 'a=ice-ufrag:' }, { regexp: 'a=candidate:[^ ]+ 1 UDP [0-9]+ 127\\.0\\.0\\.1 [0-9]+ typ host' }], ' rrs="true"', true),
          sippSend(ACK(1)),
          '<pause milliseconds="300"/>',
          ...HANG_UP(2),
        ]),
      }),
    );
    await until(async () => securities.length === 1, 5000, 'the call connected');
    expect(securities).toEqual(['sdes']);
    expect(line.counters.offersRefused).toBe(1);
  }, 30000);

  itSipp('an IM session (SIP Server\'s chat: an INVITE offering m=message) is a call of the session model with kind im, no security, no MOS', async () => {
    const phone = await start({ 'policy.session.auto_answer': '1' });
    const id = await login();
    expect((await send(`${BASE}/register`, { method: 'POST', headers: withCookie(id, { 'Content-Length': '0' }) })).status).toBe(200);
    const endpoint = phone.endpoint!;
    await until(async () => endpoint.lines[0]?.state === 'READY', 8000, 'the line registered');
    const im = 'v=0\no=- 1 1 IN IP4 [local_ip]\ns=session\nc=IN IP4 [local_ip]\nt=0 0\nm=message [local_port] sip sip:[service]@[remote_ip]\na=accept-types:text/plain\n';
    const sipp = runSipp({
      remotePort: endpoint.lines[0]!.port!,
      localPort: SIPP,
      service: '5320',
      scenario: scenario('a chat session', [
        sippSend(INVITE('', im), ' retrans="500"'),
        '<recv response="100" optional="true"/>',
        '<recv response="180" optional="true"/>',
        recv('response="200"', [{ regexp: 'm=message [0-9]+ sip ' }], ' rrs="true"', true),
        sippSend(ACK(1)),
        '<pause milliseconds="1500"/>',
        ...HANG_UP(2),
      ]),
    });
    let model: Record<string, unknown> = {};
    await until(async () => {
      const response = await send(`${BASE}/session`, { headers: withCookie(id) });
      model = JSON.parse(response.body) as Record<string, unknown>;
      return (model['phone'] as { calls: unknown[] }).calls.length === 1;
    }, 8000, 'the session in the model');
    expect(validSession(model)).toBe(true);
    const call = endpoint.calls[0]!;
    expect(model['phone']).toEqual({ calls: [{ uuid: call.id, state: 'CONNECTED', kind: 'im', security: 'none' }], vq_alarm_on: false });
    assertSippPassed(await sipp);
  }, 30000);

  it('CORS: a preflight from the desktop is answered, one from a foreign origin is refused', async () => {
    await start({ 'policy.connector.allowed_origin_headers': '*.genesyscloud.com, bsgwsfanch' });
    const preflight = await send(`${BASE}/session`, { method: 'OPTIONS', headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-csrf-token' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(preflight.headers['access-control-allow-credentials']).toBe('true');
    expect(preflight.headers['access-control-allow-methods']).toBe('GET, POST, DELETE');
    expect(preflight.headers['access-control-allow-headers']).toBe('content-type,x-csrf-token');

    const star = await send(`${BASE}/session`, { method: 'OPTIONS', headers: { Origin: 'https://gwa-use1.genesyscloud.com', 'Access-Control-Request-Method': 'GET' } });
    expect(star.status).toBe(204);
    expect(star.headers['access-control-allow-origin']).toBe('https://gwa-use1.genesyscloud.com');

    for (const origin of ['https://evil.example.com', 'https://genesyscloud.com.evil.example', 'https://evilgenesyscloud.com', 'null']) {
      const foreign = await send(`${BASE}/session`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' } });
      expect([origin, foreign.status]).toEqual([origin, 403]);
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
      const get = await send(`${BASE}/session`, { headers: { Origin: origin } });
      expect(get.status).toBe(403);
      expect(get.headers['access-control-allow-origin']).toBeUndefined();
      expect(get.cookies).toEqual([]); // no session id for a foreign origin
      expect(get.json()).toMatchObject({ code: 'ERR_CONNECTOR_FOREIGN_ORIGIN' });
    }
  }, 20000);

  it('security: no session, a stale or another client\'s cookie get 403; bad JSON and bodies outside the schema get 400; unknown routes 404', async () => {
    const phone = await start();
    // Every route without a session: 403 {} and a cookie.
    for (const [method, path] of [['GET', '/session'], ['POST', '/session'], ['DELETE', '/session'], ['POST', '/register'], ['DELETE', '/register'], ['POST', '/audio'], ['DELETE', '/calls']] as const) {
      const refused = await send(`${BASE}${path}`, { method, headers: desktopHeaders({ 'Content-Type': 'application/json' }), body: '{not json' });
      expect([method, path, refused.status, refused.body]).toEqual([method, path, 403, '{}']);
      expect(sessionIdOf(refused)).toBeDefined();
    }
    expect(phone.inSession).toBe(false);
    const stale = await send(`${BASE}/session`, { headers: withCookie('8A13B0F6-9152-42A7-B10A-9F4DE731E1D3') });
    expect(stale.status).toBe(403);

    const id = await login();
    // Another client while the session is open: 403, and no cookie to take it over.
    const other = await send(`${BASE}/session`, { headers: desktopHeaders() });
    expect(other.status).toBe(403);
    expect(other.cookies).toEqual([]);

    const post = (path: string, body: string): Promise<RawResponse> => send(`${BASE}${path}`, { method: 'POST', headers: withCookie(id, { 'Content-Type': 'application/json' }), body });
    const badJson = await post('/session', '{"options":');
    expect(badJson.status).toBe(400);
    expectTranscriptHeaders(badJson);
    expect(badJson.json()).toMatchObject({ statusCode: 400, code: 'ERR_CONNECTOR_BAD_REQUEST', message: expect.stringMatching(/^the body is not valid JSON/) });
    for (const [path, body, message] of [
      ['/session', '{"options":{"softphone":{"session_expire":"60"}}}', /session_expire must be integer/],
      ['/session', '{"connectivities":{"protocol":"carrier-pigeon"}}', /protocol must be equal to one of the allowed values/],
      ['/session', '{"option":{}}', /must NOT have additional properties/],
      ['/session', '{"options":{"sipendpoint":{"no-dots":"1"}}}', /property name must be valid|must match pattern/],
      ['/session', '[]', /body must be object/],
      ['/audio', '{"speaker":{"volume":101}}', /volume must be <= 100/],
      ['/audio', '{"microphone":{"muted":"yes"}}', /muted must be boolean/],
      ['/register', '{"token":"x"}', /takes no body/],
    ] as const) {
      const refused = await post(path, body);
      expect([path, body, refused.status]).toEqual([path, body, 400]);
      expect((refused.json() as { message: string }).message).toMatch(message);
    }
    // A setting the configuration refuses: 400 with the configuration's reason.
    const badSetting = await post('/session', JSON.stringify({ options: { sipendpoint: { 'policy.endpoint.rtp_port_min': String(RTP + 49), 'policy.endpoint.rtp_port_max': String(RTP) } } }));
    expect(badSetting.status).toBe(400);
    expect(badSetting.json()).toMatchObject({ code: 'ERR_CONFIG_INVALID_RANGE' });
    // Settings that name files on the agent's disk: 403 naming them, whatever the spelling, and
    // nothing of the request applied (no directory made, the log stays where the file says).
    const target = join(tmpdir(), `sep-forbidden-${process.pid}`);
    for (const sipendpoint of [
      { 'system.diagnostics.logger_type': 'file', 'system.diagnostics.log_file': join(target, 'agent.log') },
      { 'system:diagnostics:log_file': join(target, 'agent.log') },
      { 'policy.session.ringing_file': '/etc/passwd' },
      { 'system.security.certificate': join(target, 'ca.pem'), 'system.media.ringing_file': join(target, 'ring.wav') },
    ]) {
      const forbidden = await post('/session', JSON.stringify({ options: { sipendpoint } }));
      expect([sipendpoint, forbidden.status]).toEqual([sipendpoint, 403]);
      const names = Object.keys(sipendpoint).filter((key) => !key.endsWith('logger_type'));
      expect(forbidden.json()).toMatchObject({ statusCode: 403, code: 'ERR_CONNECTOR_SETTING_FORBIDDEN', message: expect.stringContaining(`cannot set ${names.join(', ')}:`) });
    }
    expect(existsSync(target)).toBe(false);
    // A WebRTC gateway given as a URL of another scheme: the configuration's reason.
    const webrtc = await post('/session', JSON.stringify({ connectivities: { protocol: 'https', connections: [{ server: 'sip://gw.example.com', user: 'agent' }] } }));
    expect(webrtc.status).toBe(400);
    expect(webrtc.json()).toMatchObject({ code: 'ERR_CONFIG_INVALID_CONNECTIVITY', message: expect.stringContaining('"sip://" is not a WebSocket URL scheme') });
    // Only `Bearer <b64token>` (RFC 6750 2.1): the token goes into SIP and WebSocket headers as it is.
    for (const authorization of ['Basic dXNlcjpwdw==', 'Bearer two words', 'Bearer "quoted"', 'Bearer a\tb']) {
      const badToken = await send(`${BASE}/register`, { method: 'POST', headers: withCookie(id, { Authorization: authorization }) });
      expect([authorization, badToken.status]).toEqual([authorization, 400]);
      expect((badToken.json() as { message: string }).message).toContain('headers/authorization must match pattern');
    }
    const textBody = await send(`${BASE}/session`, { method: 'POST', headers: withCookie(id, { 'Content-Type': 'text/plain' }), body: 'hello' });
    expect(textBody.status).toBe(400);

    for (const [method, path] of [['GET', '/softphone/v2/nothing'], ['PUT', '/softphone/v2/session'], ['GET', '/softphone/v1/session'], ['GET', '/']] as const) {
      const missing = await send(`http://127.0.0.1:${CONNECTOR}${path}`, { method, headers: withCookie(id) });
      expect([method, path, missing.status]).toEqual([method, path, 404]);
      expect(missing.json()).toMatchObject({ code: 'ERR_CONNECTOR_NOT_FOUND' });
    }
    // After all that the session and the softphone are fine.
    const alive = await send(`${BASE}/session`, { headers: withCookie(id) });
    expect(alive.status).toBe(200);
    expect(phone.inSession).toBe(true);
  }, 20000);

  it('session_expire: without GET /session the session ends, its line unregisters, and its cookie is refused', async () => {
    const phone = await start();
    const ended: string[] = [];
    phone.on('sessionEnded', (reason) => ended.push(reason));
    const states: string[] = [];
    phone.on('endpoint', (endpoint) => endpoint.on('connectionStateChanged', (_line, state) => states.push(state)));
    // session_expire 3 s against a keep-alive every second: a keep-alive a loaded machine holds
    // back by up to 2 s still keeps the session (with 2 s, by 1 s).
    const id = await login(transcriptBody(3, '5321'));
    expect((await send(`${BASE}/register`, { method: 'POST', headers: withCookie(id) })).status).toBe(200);
    await until(() => phone.endpoint?.lines[0]?.state === 'READY', 10000, 'READY');
    // Keep-alives every second hold the session past its 3 s (pacing the desktop: the scenario).
    for (let i = 0; i < 5; i++) {
      await sleep(1000);
      expect((await send(`${BASE}/session`, { headers: withCookie(id) })).status).toBe(200);
    }
    expect(ended).toEqual([]);
    // Then silence: it ends about 3 s later.
    await until(() => ended.length > 0, 15000, 'the session to expire');
    expect(ended).toEqual(['expired']);
    expect(states).toEqual(['TRYING', 'READY', 'SHUTDOWN']);
    const refused = await send(`${BASE}/session`, { headers: withCookie(id) });
    expect(refused.status).toBe(403);
    expect(sessionIdOf(refused)).not.toBe(id);
  }, 40000);

  it('session_expire out of range is 300; 0 never expires; the default is 30', async () => {
    const phone = await start();
    const id = await login({ options: { softphone: { session_expire: 301 } } });
    expect(phone.sessionExpire).toBe(300);
    const post = (body: object): Promise<RawResponse> => send(`${BASE}/session`, { method: 'POST', headers: withCookie(id, { 'Content-Type': 'application/json' }), body: JSON.stringify(body) });
    expect((await post({ options: { softphone: { session_expire: -1 } } })).status).toBe(200);
    expect(phone.sessionExpire).toBe(300);
    expect((await post({ options: { softphone: { session_expire: 0 } } })).status).toBe(200);
    expect(phone.sessionExpire).toBe(0);
    // No keep-alive for 1.2 s: the session must not end, a quiet period that is the behaviour under test.
    await sleep(1200);
    expect(phone.inSession).toBe(true);
    await send(`${BASE}/session`, { method: 'DELETE', headers: withCookie(id) });
    await login({});
    expect(phone.sessionExpire).toBe(30);
  }, 20000);

  it('partitioned_cookies: Partitioned for Chrome and Edge 118+ with 2, always with 1, never with 0', async () => {
    const chrome = (version: number): string => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${version}.0.0.0 Safari/537.36`;
    const cookieFor = async (agent: string): Promise<string> => (await send(`${BASE}/session`, { headers: desktopHeaders({ 'User-Agent': agent }) })).cookies[0] ?? '';
    await start();
    expect(await cookieFor(chrome(118))).toMatch(/; Path=\/softphone\/v2\/; Partitioned$/);
    expect(await cookieFor(`${chrome(120)} Edg/120.0.0.0`)).toMatch(/; Partitioned$/);
    expect(await cookieFor(chrome(117))).not.toMatch(/Partitioned/);
    expect(await cookieFor('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).not.toMatch(/Partitioned/);
    await softphone!.stop();
    await start({ 'policy.connector.partitioned_cookies': '1' });
    expect(await cookieFor('Mozilla/5.0 Firefox/128.0')).toMatch(/; Partitioned$/);
    await softphone!.stop();
    await start({ 'policy.connector.partitioned_cookies': '0' });
    expect(await cookieFor(chrome(130))).not.toMatch(/Partitioned/);
  }, 20000);

  it('enable_sessionid 0: no cookie, every request from an allowed origin is the session', async () => {
    const phone = await start({ 'policy.connector.enable_sessionid': '0' });
    const got = await send(`${BASE}/session`, { headers: desktopHeaders() });
    expect(got.status).toBe(200);
    expect(got.cookies).toEqual([]);
    expect(phone.inSession).toBe(true);
    const closed = await send(`${BASE}/session`, { method: 'DELETE', headers: desktopHeaders() });
    expect(closed.status).toBe(200);
    expect(closed.cookies).toEqual([]);
  }, 20000);

  it('POST /audio mutes, sets volumes and picks devices by name; GET /session shows it; unknown names are 400', async () => {
    const devices = new VirtualAudioProvider();
    devices.addInput({ name: 'Microphone Array (Realtek(R) Audio)', id: 'array' });
    devices.addOutput({ name: 'VK248 (Intel(R) Display Audio)', id: 'vk248' });
    const phone = await start({}, devices);
    const id = await login();
    const audio = (body: object): Promise<RawResponse> => send(`${BASE}/audio`, { method: 'POST', headers: withCookie(id, { 'Content-Type': 'application/json' }), body: JSON.stringify(body) });
    const session = async (): Promise<{ devices: Record<string, unknown> }> => (await send(`${BASE}/session`, { headers: withCookie(id) })).json() as { devices: Record<string, unknown> };

    expect((await audio({ microphone: { muted: true, volume: 77 } })).status).toBe(200);
    expect(devices.isMuted('default-microphone')).toBe(true);
    expect((await session()).devices).toMatchObject({ microphone: { name: 'Default Microphone', volume: 77, muted: true } });

    expect((await audio({ speaker: { name: 'VK248 (Intel(R) Display Audio)', volume: 100 }, microphone: { name: 'Microphone Array (Realtek(R) Audio)', volume: 60 } })).status).toBe(200);
    expect((await session()).devices).toMatchObject({ speaker: { name: 'VK248 (Intel(R) Display Audio)', volume: 100, muted: false }, microphone: { name: 'Microphone Array (Realtek(R) Audio)', volume: 60, muted: false } });

    // The choice holds for the endpoint POST /register starts.
    expect((await send(`${BASE}/register`, { method: 'POST', headers: withCookie(id) })).status).toBe(200);
    expect(phone.endpoint?.selectedDevices?.output?.id).toBe('vk248');
    expect((await audio({ speaker: { muted: true } })).status).toBe(200);
    expect(devices.isMuted('vk248')).toBe(true);

    const unknown = await audio({ speaker: { name: 'Jabra Evolve 65' } });
    expect(unknown.status).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'ERR_CONNECTOR_UNKNOWN_DEVICE', message: expect.stringContaining('VK248') });
    expect(phone.endpoint?.selectedDevices?.output?.id).toBe('vk248');
  }, 30000);

  it('enforce_headset_usage: WAITING_HEADSET and no REGISTER until the headset is plugged in, then READY', async () => {
    const devices = new VirtualAudioProvider();
    const phone = await start({ 'policy.device.use_headset': '1', 'policy.device.headset_name': 'Jabra' }, devices);
    const id = await login({ ...transcriptBody(60, '5322'), options: { softphone: { enforce_headset_usage: true } } });
    const status = async (): Promise<Record<string, unknown>> => (await send(`${BASE}/session`, { headers: withCookie(id) })).json() as Record<string, unknown>;
    expect(await status()).toMatchObject({ status: 'WAITING_HEADSET' });
    expect((await send(`${BASE}/register`, { method: 'POST', headers: withCookie(id) })).status).toBe(200);
    // No REGISTER for 0.7 s without the headset: a quiet period that is the behaviour under test.
    await sleep(700);
    // The line exists but may not register: DISABLED, as the Connector API names it.
    expect(await status()).toMatchObject({ status: 'WAITING_HEADSET', connectivities: { connections: [{ user: '5322', state: 'DISABLED' }] } });
    expect(phone.endpoint?.lines.map((line) => line.state)).toEqual(['DISABLED']);
    devices.addInput({ name: 'Jabra Evolve 65 Microphone', id: 'jabra-in' });
    devices.addOutput({ name: 'Jabra Evolve 65 Earphone', id: 'jabra-out' });
    await until(async () => (await status())['status'] === 'INITIALIZED', 10000, 'INITIALIZED');
    expect(await status()).toMatchObject({ devices: { headset_used: true, microphone: { name: 'Jabra Evolve 65 Microphone' } }, connectivities: { connections: [{ user: '5322', state: 'READY' }] } });
  }, 30000);

  it('auto_restart: 1 reads the configuration again and waits for the next session; 0 stops the softphone', async () => {
    let reads = 0;
    softphone = new Softphone({ config: baseConfig(), reloadConfig: async () => { reads++; return baseConfig(); } });
    await softphone.start();
    const phone = softphone;
    let id = await login();
    expect((await send(`${BASE}/session`, { method: 'DELETE', headers: withCookie(id) })).status).toBe(200);
    expect(reads).toBe(1);
    expect(phone.inSession).toBe(false);
    // Ready for the next session; this one asks for no restart.
    id = await login({ options: { sipendpoint: { 'policy.connector.auto_restart': '0' } } });
    const stopped = new Promise<void>((resolve) => phone.once('stopped', () => resolve()));
    expect((await send(`${BASE}/session`, { method: 'DELETE', headers: withCookie(id) })).status).toBe(200);
    await stopped;
    expect(reads).toBe(1);
    await expect(send(`${BASE}/session`, { headers: desktopHeaders() })).rejects.toThrow(/ECONNREFUSED/);
  }, 20000);

  it('DELETE /calls and a listener that throws do not break the session', async () => {
    const phone = await start();
    phone.on('endpoint', (endpoint) => endpoint.on('connectionStateChanged', () => {
      throw new Error('a broken listener');
    }));
    const errors: Error[] = [];
    phone.on('error', (error) => errors.push(error));
    const id = await login(transcriptBody(60, '5323'));
    expect((await send(`${BASE}/register`, { method: 'POST', headers: withCookie(id) })).status).toBe(200);
    await until(() => phone.endpoint?.lines[0]?.state === 'READY', 10000, 'READY');
    // The endpoint reports it as a ListenerError whose cause is what the listener threw.
    expect(errors.map((error) => (error.cause as Error | undefined)?.message)).toContain('a broken listener');
    const released = await send(`${BASE}/calls`, { method: 'DELETE', headers: withCookie(id) });
    expect(released.status).toBe(200);
    expect(released.body).toBe('{}');
    // POST /register again restarts the connection: unregister, then register.
    expect((await send(`${BASE}/register`, { method: 'POST', headers: withCookie(id) })).status).toBe(200);
    await until(() => phone.endpoint?.lines[0]?.state === 'READY', 10000, 'READY again');
  }, 30000);

  it('HTTPS: protocol https serves the API with the PEM certificate and key of policy.connector.certificate; without one it refuses to start', async () => {
    const certificates = makeTestCertificates(['localhost']);
    await start({ 'policy.connector.protocol': 'https', 'policy.connector.certificate': certificates.serverBundle });
    expect(softphone!.url).toBe(`https://127.0.0.1:${CONNECTOR}/softphone/v2`);
    const ca = readFileSync(certificates.caCertificate, 'latin1');
    const first = await send(`https://127.0.0.1:${CONNECTOR}/softphone/v2/session`, { headers: desktopHeaders(), ca, servername: 'localhost' });
    expect(first.status).toBe(403);
    expectTranscriptHeaders(first);
    const id = sessionIdOf(first)!;
    const got = await send(`https://127.0.0.1:${CONNECTOR}/softphone/v2/session`, { headers: withCookie(id), ca, servername: 'localhost' });
    expect(got.status).toBe(200);
    expect(got.json()).toMatchObject({ status: 'INITIALIZING' });
    // A client that does not trust the authority does not get in.
    await expect(send(`https://127.0.0.1:${CONNECTOR}/softphone/v2/session`, { headers: desktopHeaders(), servername: 'localhost' })).rejects.toThrow(/self-signed|unable to verify|certificate/);
    await softphone!.stop();

    for (const [settings, message] of [
      [{ 'policy.connector.protocol': 'https' }, /set policy\.connector\.certificate to a PEM file/],
      [{ 'policy.connector.protocol': 'https', 'policy.connector.certificate_search_value': 'A1B2C3' }, /certificate store entry \(A1B2C3\), which Node cannot open/],
      [{ 'policy.connector.protocol': 'https', 'policy.connector.certificate': certificates.serverCertificate }, /holds no private key/],
    ] as const) {
      const refused = new Softphone({ config: baseConfig(settings) });
      await expect(refused.start()).rejects.toThrow(message);
      await expect(new Softphone({ config: baseConfig(settings) }).start()).rejects.toBeInstanceOf(SoftphoneError);
    }
  }, 20000);
});
