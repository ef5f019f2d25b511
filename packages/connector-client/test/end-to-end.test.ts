import { EndpointConfig } from '@sip-endpoint/config';
import { ConnectorBadRequestError, ConnectorClient, ConnectorForbiddenError } from '@sip-endpoint/connector-client';
import type { Config, Session, SessionWatcher, SessionWatcherEvents } from '@sip-endpoint/connector-client';
import { Softphone } from '@sip-endpoint/softphone';
import { testPorts, waitFor } from '@sip-endpoint/test-support';
import { Kamailio, kamailioAvailable } from '../../endpoint-core/test/support/kamailio';
import { TRANSCRIPT_BEARER, TRANSCRIPT_CSRF_TOKEN, TRANSCRIPT_ORIGIN } from './support/transcript';

// Kamailio's port for the file, from testPorts; each softphone has a block of its own.
const KAMAILIO_PORT = testPorts(1);
const SIP_SERVER = `127.0.0.1:${KAMAILIO_PORT}`;

/** A window of time the scenario needs (a late start, a session outliving session_expire), not a wait for a condition. */
const elapse = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A headless softphone in connector mode, SIP password `secret` for Kamailio, on a block of 41
 * ports of its own: its Connector API on `url`'s port, SIP on the next 8, RTP on the 32 after.
 */
function connectorSoftphone(settings: Record<string, string> = {}): { softphone: Softphone; url: string } {
  const first = testPorts(41);
  const config = EndpointConfig.defaults().with({
    'policy.connector.port': String(first),
    'proxies.proxy0.password': 'secret',
    'proxies.proxy0.reg_timeout': '60',
    'policy.endpoint.public_address': '127.0.0.1',
    'policy.endpoint.sip_port_min': String(first + 1),
    'policy.endpoint.sip_port_max': String(first + 8),
    'policy.endpoint.rtp_port_min': String(first + 9),
    'policy.endpoint.rtp_port_max': String(first + 40),
    'system.media.ringing_file': '',
    ...settings,
  });
  return { softphone: new Softphone({ config }), url: `http://127.0.0.1:${first}/softphone/v2` };
}

/** The transcript's POST /session body, with the SIP server replaced by the local Kamailio. */
function loginConfig(user: string, sessionExpire = 60): Config {
  return {
    options: { sipendpoint: { 'policy.connector.auto_restart': '1' }, softphone: { session_expire: sessionExpire } },
    connectivities: { protocol: 'udp', connections: [{ server: SIP_SERVER, user }] },
  };
}

function record(watcher: SessionWatcher): unknown[][] {
  const events: unknown[][] = [];
  const names: (keyof SessionWatcherEvents | 'listenerError')[] = ['statusChanged', 'connectionAdded', 'connectionStateChanged', 'connectionRemoved', 'devicesChanged', 'pollFailed', 'sessionLost', 'listenerError'];
  for (const name of names) watcher.on(name, (...args: unknown[]) => events.push([name, ...args]));
  return events;
}

const describeIfKamailio = kamailioAvailable() ? describe : describe.skip;

describeIfKamailio('ConnectorClient driving a headless Softphone in connector mode (Kamailio registrar)', () => {
  jest.setTimeout(45_000);
  let kamailio: Kamailio;
  let softphone: Softphone | undefined;
  let watcher: SessionWatcher | undefined;

  beforeAll(async () => {
    kamailio = await Kamailio.start(KAMAILIO_PORT);
  });

  afterAll(async () => {
    await kamailio?.stop();
  });

  afterEach(async () => {
    await watcher?.stop();
    watcher = undefined;
    await softphone?.stop();
    softphone = undefined;
  });

  it('plays the transcript: 403 + cookie, POST /session, register, watch sees READY, audio, unregister, close', async () => {
    const made = connectorSoftphone({ 'policy.connector.allowed_origin_headers': 'bsgwsfanch' });
    softphone = made.softphone;
    const ended: string[] = [];
    softphone.on('sessionEnded', (reason) => ended.push(reason));
    await softphone.start();
    expect(softphone.url).toBe(made.url);
    const client = new ConnectorClient({ baseUrl: softphone.url!, origin: TRANSCRIPT_ORIGIN, csrfToken: TRANSCRIPT_CSRF_TOKEN });

    await expect(client.getSession()).rejects.toMatchObject({ constructor: ConnectorForbiddenError, status: 403, body: {} });
    const cookie = client.sessionId;
    expect(cookie).toMatch(/^[0-9A-F-]{36}$/);
    expect(client.softphoneVersion).toMatch(/^\d+\.\d+\.\d+/);

    await client.updateSession(loginConfig('5320'));
    const configured = await client.getSession();
    expect(configured.connectivities).toMatchObject({ protocol: 'udp', connections: [{ server: SIP_SERVER, user: '5320', state: 'NONE' }] });
    expect(configured.status).toBe('INITIALIZING');

    watcher = client.watch({ intervalMs: 250 });
    const events = record(watcher);
    const sessions: Session[] = [];
    watcher.on('session', (s) => sessions.push(s));
    await waitFor(() => sessions.length >= 1, 10_000, 'the first poll');

    await client.register(TRANSCRIPT_BEARER);
    await waitFor(() => events.some(([name, , state]) => name === 'connectionStateChanged' && state === 'READY'), 10_000, 'the line READY');
    await waitFor(() => events.some(([name, status]) => name === 'statusChanged' && status === 'INITIALIZED'), 10_000, 'the status INITIALIZED');
    expect(events.filter(([name]) => name === 'pollFailed')).toEqual([]);
    const registered = await client.getSession();
    expect(registered).toMatchObject({ status: 'INITIALIZED', connectivities: { connections: [{ server: SIP_SERVER, user: '5320', state: 'READY' }] }, phone: { calls: [] } });

    // POST /audio: the watcher reports the microphone muted.
    const microphone = registered.devices?.microphone;
    expect(microphone?.muted).toBe(false);
    events.length = 0;
    await client.setAudio({ microphone: { muted: true } });
    await waitFor(() => events.some(([name]) => name === 'devicesChanged'), 10_000, 'devicesChanged');
    const [, devices, before] = events.find(([name]) => name === 'devicesChanged')!;
    expect(devices).toMatchObject({ microphone: { name: microphone!.name, muted: true } });
    expect(before).toMatchObject({ microphone: { muted: false } });

    // DELETE /calls with no call: accepted, nothing changes.
    await client.releaseCalls();
    await expect(client.getSession()).resolves.toMatchObject({ status: 'INITIALIZED', phone: { calls: [] } });

    // DELETE /register: the line leaves READY.
    events.length = 0;
    await client.unregister();
    await waitFor(() => events.some(([name, , state, old]) => name === 'connectionStateChanged' && state !== 'READY' && old === 'READY'), 10_000, 'the line leaving READY');
    await waitFor(() => watcher!.session?.status === 'INITIALIZING', 10_000, 'the status INITIALIZING');

    await watcher.stop();
    // Every request of the session carried the cookie the first 403 set.
    expect(client.sessionId).toBe(cookie);
    await client.closeSession();
    expect(client.sessionId).toBeUndefined();
    await waitFor(() => ended.length > 0, 10_000, 'sessionEnded');
    expect(ended).toEqual(['closed']);

    // auto_restart = 1: the softphone waits for the next session, which starts with a fresh 403.
    await expect(client.getSession()).rejects.toBeInstanceOf(ConnectorForbiddenError);
    expect(client.sessionId).toBeDefined();
    expect(client.sessionId).not.toBe(cookie);
  });

  it('retries while the softphone is not listening yet, and gets through once it is', async () => {
    const made = connectorSoftphone();
    // Retries for about 15 s: the softphone's start, 800 ms late, may take a while on a loaded machine.
    const client = new ConnectorClient({ baseUrl: made.url, origin: TRANSCRIPT_ORIGIN, retry: { retries: 35, initialDelayMs: 100, maxDelayMs: 500 } });
    const started = Date.now();
    const pending = client.getSession().catch((error: unknown) => error);
    // The scenario: the softphone starts 800 ms after the desktop's first attempt.
    await elapse(800);
    softphone = made.softphone;
    await softphone.start();
    const outcome = await pending;
    expect(outcome).toBeInstanceOf(ConnectorForbiddenError); // the first answer of the transcript: it got through
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    await client.openSession(loginConfig('5321'));
    await expect(client.getSession()).resolves.toMatchObject({ status: 'INITIALIZING' });
  });

  it('the softphone\'s refusals arrive typed: a foreign Origin is 403 with its code, a refused override is 400 with its message', async () => {
    softphone = connectorSoftphone({ 'policy.connector.allowed_origin_headers': 'bsgwsfanch' }).softphone;
    await softphone.start();
    const foreign = new ConnectorClient({ baseUrl: softphone.url!, origin: 'http://intruder.example:8080' });
    const refused = await foreign.getSession().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConnectorForbiddenError);
    expect(refused).toMatchObject({ serverCode: 'ERR_CONNECTOR_FOREIGN_ORIGIN' });
    expect(foreign.sessionId).toBeUndefined();

    const client = new ConnectorClient({ baseUrl: softphone.url!, origin: TRANSCRIPT_ORIGIN });
    await client.getSession().catch(() => undefined);
    // Inside the spec's schema (so the client sends it) but refused by this softphone: a WebRTC gateway that is no URL.
    const bad = await client.updateSession({ connectivities: { protocol: 'https', connections: [{ server: 'sip://gws.example.com', user: 'agent' }] } }).catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(ConnectorBadRequestError);
    expect(bad).toMatchObject({ status: 400, request: 'POST /session' });
    expect((bad as ConnectorBadRequestError).serverMessage).toMatch(/sip:\/\/" is not a WebSocket URL scheme/);
    expect((bad as ConnectorBadRequestError).serverCode).toMatch(/^ERR_/);
  });

  it('watch() is the keep-alive: the session outlives session_expire while polled, and ends once polling stops', async () => {
    softphone = connectorSoftphone().softphone;
    const ended: string[] = [];
    softphone.on('sessionEnded', (reason) => ended.push(reason));
    await softphone.start();
    const client = new ConnectorClient({ baseUrl: softphone.url!, origin: TRANSCRIPT_ORIGIN });
    // session_expire 3 s and a poll every 300 ms: a loaded machine may hold a poll back by seconds
    // and still keep the session (with 1 s, a stall of 0.7 s ended it).
    await client.openSession(loginConfig('5322', 3));
    watcher = client.watch({ intervalMs: 300 });
    const events = record(watcher);
    // 7 s, more than twice session_expire: the polls keep the session.
    await elapse(7000);
    expect(ended).toEqual([]);
    expect(events.filter(([name]) => name === 'pollFailed')).toEqual([]);
    await watcher.stop();
    await waitFor(() => ended.length > 0, 15000, 'sessionEnded (expired)');
    expect(ended).toEqual(['expired']);
    await expect(client.getSession()).rejects.toBeInstanceOf(ConnectorForbiddenError);
  });
});
