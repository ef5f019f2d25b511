import { Ajv } from 'ajv';
import { EndpointConfig, type AddressResolver } from '@sip-endpoint/config';
import { sessionSchema } from '@sip-endpoint/connector-client';
import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import { VirtualAudioProvider } from '@sip-endpoint/media';
import { dominantFrequency } from '@sip-endpoint/media/testing';
import { Softphone } from '@sip-endpoint/softphone';
import { testPorts } from '@sip-endpoint/test-support';
import { Kamailio, kamailioAvailable } from '../../endpoint-core/test/support/kamailio';
import { makeTestCertificates, type TestCertificates } from '../../endpoint-core/test/support/tls-certificates';
import { desktopHeaders, send, sessionIdOf, until } from './support/http';

// The transcript's WebRTC variant: the desktop configures a WebRTC (https) connectivity, gives
// the OAuth token in POST /register, a WebRTC caller reaches the agent through the gateway
// (Kamailio over WSS checking the token), the call is answered, and GET /session shows it.

const describeIf = kamailioAvailable() ? describe : describe.skip;
const SIP = testPorts(3);
const WSS = SIP + 2;
const CONNECTOR = testPorts(1);
const SIP_PORTS = testPorts(14);
const RTP = testPorts(100);
const BASE = `http://127.0.0.1:${CONNECTOR}/softphone/v2`;
const TOKEN = 'agent-token.c2lnbmVk';
/** The token a later POST /register brings (the desktop refreshed it). */
const REFRESHED = 'agent-token.cmVmcmVzaGVk';
const validSession = new Ajv({ strict: false }).compile(sessionSchema);

const resolver: AddressResolver = {
  lookup: async (host, family) => (host === 'gateway.example.test' && family === 4 ? ['127.0.0.1'] : []),
  resolveSrv: async () => [],
};

describeIf('the Connector API v2 with a WebRTC (https) connectivity and an OAuth token', () => {
  let kamailio: Kamailio;
  let certificates: TestCertificates;
  let softphone: Softphone | undefined;
  let caller: Endpoint | undefined;

  beforeAll(async () => {
    certificates = makeTestCertificates(['gateway.example.test']);
    kamailio = await Kamailio.start(SIP, 'secret', { tls: { port: SIP + 1, certificate: certificates.serverCertificate, key: certificates.serverKey }, wss: { port: WSS }, bearer: { token: TOKEN, upgrade: true, also: [REFRESHED], logRegisters: true } });
  }, 20000);
  afterAll(async () => {
    await kamailio?.stop();
  });
  afterEach(async () => {
    await Promise.all([softphone?.stop(), caller?.stop()]);
    softphone = undefined;
    caller = undefined;
  });

  const settings = (sipPort: number, rtpPort: number): Record<string, string> => ({
    'policy.endpoint.public_address': '127.0.0.1',
    'policy.endpoint.sip_port_min': String(sipPort),
    'policy.endpoint.sip_port_max': String(sipPort + 6),
    'policy.endpoint.rtp_port_min': String(rtpPort),
    'policy.endpoint.rtp_port_max': String(rtpPort + 49),
    'proxies.proxy0.reg_timeout': '60',
    'system.security.certificate': certificates.caCertificate,
    'system.media.ringing_file': '',
  });

  it('POST /session with protocol https, POST /register with the Bearer token, a WebRTC call answered, GET /session showing it; DELETE /register unregisters; a new POST /register brings a refreshed token', async () => {
    const devices = new VirtualAudioProvider({ defaults: false });
    devices.addInput({ name: 'Headset Microphone', id: 'mic' }, { kind: 'tone', frequencies: [700], levelDbfs: -12 });
    devices.addOutput({ name: 'Headset Earphone', id: 'speaker' }, { record: true });
    softphone = new Softphone({
      config: EndpointConfig.defaults().with({ ...settings(SIP_PORTS, RTP), 'policy.connector.port': String(CONNECTOR), 'policy.session.auto_answer': '1' }),
      devices,
      endpoint: { resolver },
    });
    await softphone.start();

    const first = await send(`${BASE}/session`, { headers: desktopHeaders() });
    expect(first.status).toBe(403);
    const id = sessionIdOf(first)!;
    const headers = (extra: Record<string, string> = {}): Record<string, string> => desktopHeaders({ Cookie: `SEPSESSIONID=${id}`, ...extra });
    const configured = await send(`${BASE}/session`, {
      method: 'POST',
      headers: headers({ 'Content-Type': 'application/json; charset=utf-8' }),
      body: JSON.stringify({ options: { softphone: { session_expire: 60, username: 'agent.smith' } }, connectivities: { protocol: 'https', connections: [{ server: `https://gateway.example.test:${WSS}/`, user: '6001' }] } }),
    });
    expect(configured.status).toBe(200);
    expect(softphone.config.connectivities.map((c) => [c.protocol, c.host, c.port, c.path])).toEqual([['HTTPS', 'gateway.example.test', WSS, '/']]);

    // Without the token the gateway refuses the WebSocket itself: FAILED, with the reason.
    const withoutToken = await send(`${BASE}/register`, { method: 'POST', headers: headers({ 'Content-Length': '0' }) });
    expect(withoutToken.status).toBe(200);
    let session: Record<string, unknown> = {};
    const poll = async (): Promise<Record<string, unknown>> => {
      const polled = await send(`${BASE}/session`, { headers: headers() });
      session = polled.json() as Record<string, unknown>;
      return session;
    };
    await until(async () => JSON.stringify((await poll())['connectivities']).includes('FAILED'), 8000, 'FAILED without a token');
    expect(session['connectivities']).toMatchObject({ protocol: 'https', connections: [{ user: '6001', state: 'FAILED', reason: expect.stringMatching(/the server refused the WebSocket upgrade with 401 Unauthorized: it wants an OAuth access token and the line has none \(POST \/register with a Bearer token, or endpoint\.setAccessToken\)$/) }] });

    // With it: READY over WSS, the agent's username as the display name.
    const registered = await send(`${BASE}/register`, { method: 'POST', headers: headers({ Authorization: `Bearer ${TOKEN}`, 'Content-Length': '0' }) });
    expect(registered.status).toBe(200);
    await until(async () => (await poll())['status'] === 'INITIALIZED', 8000, 'INITIALIZED');
    expect(validSession(session)).toBe(true);
    expect(session).toMatchObject({ connectivities: { protocol: 'https', connections: [{ server: `https://gateway.example.test:${WSS}/`, user: '6001', state: 'READY' }] } });
    expect(softphone.config.get('proxies.proxy0.display_name')).toBe('agent.smith');
    // ... which names the agent on the wire: the REGISTER's From.
    expect(kamailio.output).toMatch(/REGISTER 6001 From: "agent\.smith" <sip:6001@/);

    // A WebRTC caller through the gateway; the agent auto-answers.
    const callerDevices = new VirtualAudioProvider({ defaults: false });
    callerDevices.addInput({ name: 'Mic', id: 'mic' }, { kind: 'tone', frequencies: [1100], levelDbfs: -12 });
    callerDevices.addOutput({ name: 'Speaker', id: 'speaker' }, { record: true });
    caller = new Endpoint({
      config: EndpointConfig.defaults().with({ ...settings(SIP_PORTS + 7, RTP + 50), 'user:0': '6002', 'server:0': `https://gateway.example.test:${WSS}/`, 'protocol:0': 'HTTPS' }),
      devices: callerDevices,
      resolver,
      accessToken: TOKEN,
    });
    await caller.start();
    await until(() => caller!.lines[0]!.state === 'READY', 8000, 'the caller READY');
    const call: Call = await caller.makeCall('6001');
    await until(() => call.state === 'CONNECTED', 10000, 'answered');
    await until(async () => {
      const calls = ((await poll())['phone'] as { calls: { state: string }[] }).calls;
      return calls.length === 1 && calls[0]!.state === 'CONNECTED';
    }, 8000, 'the call in GET /session');
    expect(validSession(session)).toBe(true);
    expect((session['phone'] as { calls: unknown[] }).calls).toEqual([expect.objectContaining({ state: 'CONNECTED', security: 'webrtc' })]);
    // Audio both ways through libwebrtc.
    await until(() => devices.recording('speaker').samples.length > 48000 && callerDevices.recording('speaker').samples.length > 48000, 10000, 'a second of audio each way');
    const heard = (provider: VirtualAudioProvider): number => {
      const { samples, sampleRate } = provider.recording('speaker');
      return dominantFrequency(samples.subarray(samples.length - sampleRate / 2), sampleRate);
    };
    expect(heard(devices)).toBeCloseTo(1100, -1);
    expect(heard(callerDevices)).toBeCloseTo(700, -1);

    // DELETE /register ends the call and the connection: the line unregisters (its binding
    // removed at the registrar) and GET /session shows it so.
    const registers = (): string[] => [...kamailio.output.matchAll(/REGISTER 6001 (Authorization|Contact): ([^\r\n]*)/g)].map((match) => `${match[1]} ${match[2]}`);
    const beforeDelete = registers().length;
    const unregistered = await send(`${BASE}/register`, { method: 'DELETE', headers: headers({ 'Content-Length': '0' }) });
    expect(unregistered.status).toBe(200);
    await until(() => call.state === 'DISCONNECTED', 8000, 'the call ended by DELETE /register');
    expect(registers().slice(beforeDelete)).toEqual([`Authorization Bearer ${TOKEN}`, expect.stringMatching(/^Contact .*;expires=0$/)]);
    await poll();
    expect(session).toMatchObject({ connectivities: { protocol: 'https', connections: [{ user: '6001', state: 'SHUTDOWN' }] } });

    // A new POST /register with a refreshed token: the connection starts again, and its REGISTER
    // carries the new token.
    const beforeRefresh = registers().length;
    const refreshed = await send(`${BASE}/register`, { method: 'POST', headers: headers({ Authorization: `Bearer ${REFRESHED}`, 'Content-Length': '0' }) });
    expect(refreshed.status).toBe(200);
    await until(async () => ((await poll())['connectivities'] as { connections: { state: string }[] }).connections[0]?.state === 'READY', 8000, 'READY again');
    expect(registers().slice(beforeRefresh)).toEqual([`Authorization Bearer ${REFRESHED}`, expect.stringMatching(/^Contact .*;expires=60$/)]);
  }, 60000);
});
