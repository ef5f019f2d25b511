import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import type { ConnectionState } from '@sip-endpoint/policy';
import { testPorts } from '@sip-endpoint/test-support';
import { waitFor } from '../support/endpoints';
import { Kamailio, kamailioAvailable } from '../support/kamailio';
import { makeTestCertificates } from '../support/tls-certificates';
import { resolverFor, toneDevices, webRtcLineConfig } from '../support/webrtc-agents';

// A refreshed OAuth token on a READY WebRTC line: the gateway (Kamailio checking the Bearer
// header, accepting the first token and its refresh) sees the next REGISTER carry the new token,
// and the line never leaves READY; a token it refuses, given the same way, fails the line at the
// next REGISTER with the reason, and a good one brings it back. A gateway that challenges calls
// for the token (407 with a Bearer challenge, RFC 8898) gets the INVITE again with it.

const describeIf = kamailioAvailable() ? describe : describe.skip;

const SIP = testPorts(3);
const TLS = SIP + 1;
const WSS = SIP + 2;
const SIP_PORTS = testPorts(7);
const RTP = testPorts(20);
const TOKEN = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZ2VudCIsIm4iOjF9.Zmlyc3Q';
const REFRESHED = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZ2VudCIsIm4iOjJ9.c2Vjb25k';
const CHALLENGING = testPorts(3);
const CHALLENGING_SIP_PORTS = testPorts(14);
const CHALLENGING_RTP = testPorts(40);

describeIf('a refreshed access token on a READY WebRTC line', () => {
  let kamailio: Kamailio;
  let endpoint: Endpoint;

  afterAll(async () => {
    await endpoint?.stop();
    await kamailio?.stop();
  });

  it('setAccessToken: the next REGISTER carries the new token and the line stays READY; a refused one fails it at the next REGISTER with the reason; a good one brings it back', async () => {
    const certificates = makeTestCertificates(['gateway.example.test']);
    kamailio = await Kamailio.start(SIP, 'secret', { tls: { port: TLS, certificate: certificates.serverCertificate, key: certificates.serverKey }, wss: { port: WSS }, bearer: { token: TOKEN, also: [REFRESHED], logRegisters: true } });
    const log: string[] = [];
    // Registrations of 10 s: sip.js refreshes at 99 % of them, the next REGISTER within 10 s.
    endpoint = new Endpoint({
      config: webRtcLineConfig('7301', `https://gateway.example.test:${WSS}/`, certificates.caCertificate, SIP_PORTS, RTP, { 'proxies.proxy0.reg_timeout': '10' }),
      devices: toneDevices(600),
      resolver: resolverFor('gateway.example.test'),
      accessToken: TOKEN,
      logger: (level, message) => log.push(`${level} ${message}`),
    });
    const states: ConnectionState[] = [];
    endpoint.on('connectionStateChanged', (_line, state) => states.push(state));
    await endpoint.start();
    await waitFor(() => endpoint.lines[0]!.state === 'READY', 10000, 'the line READY');
    /** The Authorization of each REGISTER Kamailio got from 7301, from `offset` of its output on. */
    const registers = (offset = 0): string[] => [...kamailio.output.slice(offset).matchAll(/REGISTER 7301 Authorization: ([^\r\n]*)/g)].map((match) => match[1]!);
    expect(registers()).toEqual([`Bearer ${TOKEN}`]);

    const refreshedAt = kamailio.output.length;
    endpoint.setAccessToken(REFRESHED);
    await waitFor(() => registers(refreshedAt).length >= 1, 20000, 'a REGISTER after the refresh');
    expect(registers(refreshedAt).every((authorization) => authorization === `Bearer ${REFRESHED}`)).toBe(true);
    expect(registers(refreshedAt)[0]).toBe(`Bearer ${REFRESHED}`);
    expect(states.filter((state) => state !== 'READY' && state !== 'TRYING')).toEqual([]);
    expect(endpoint.lines[0]!.state).toBe('READY');

    // A token the gateway refuses, given to a READY line: the next refresh fails it, with why.
    const revokedAt = kamailio.output.length;
    endpoint.setAccessToken('revoked-token');
    await waitFor(() => endpoint.lines[0]!.state === 'FAILED', 20000, 'the line FAILED at its next REGISTER');
    expect(registers(revokedAt)).toEqual(['Bearer revoked-token']);
    const reason = '401 Unauthorized: the server refused the OAuth access token (expired or wrong): give a new one (POST /register, or endpoint.setAccessToken) (invalid_token: the token is not valid)';
    expect(endpoint.lines[0]!.reason).toBe(reason);
    expect(endpoint.session().connectivities.connections).toEqual([{ server: `https://gateway.example.test:${WSS}/`, user: '7301', state: 'FAILED', reason }]);
    // (The log's redaction takes "invalid_token: the" for a secret: only the part before is compared.)
    expect(log.filter((line) => line.startsWith('3 line 0: READY -> FAILED'))).toEqual([expect.stringMatching(/^3 line 0: READY -> FAILED \(401 Unauthorized: the server refused the OAuth access token \(expired or wrong\): give a new one /)]);
    for (const token of [TOKEN, REFRESHED, 'revoked-token']) expect(log.join('\n')).not.toContain(token);

    endpoint.setAccessToken(TOKEN);
    await waitFor(() => endpoint.lines[0]!.state === 'READY', 10000, 'READY again with a good token');
  }, 60000);
});

describeIf('a gateway that challenges calls for the access token (RFC 8898)', () => {
  let kamailio: Kamailio;
  const endpoints: Endpoint[] = [];

  afterAll(async () => {
    await Promise.all(endpoints.map((endpoint) => endpoint.stop()));
    await kamailio?.stop();
  });

  it('answers a 407 Bearer challenge of its INVITE with the token (Proxy-Authorization); a refreshed token from then on; a refused one ends the call with the reason', async () => {
    const certificates = makeTestCertificates(['gateway.example.test']);
    kamailio = await Kamailio.start(CHALLENGING, 'secret', { tls: { port: CHALLENGING + 1, certificate: certificates.serverCertificate, key: certificates.serverKey }, wss: { port: CHALLENGING + 2 }, bearer: { token: TOKEN, also: [REFRESHED], calls: true } });
    const agent = (user: string, index: number): Endpoint => {
      const endpoint = new Endpoint({
        config: webRtcLineConfig(user, `https://gateway.example.test:${CHALLENGING + 2}/`, certificates.caCertificate, CHALLENGING_SIP_PORTS + index * 7, CHALLENGING_RTP + index * 20),
        devices: toneDevices(600 + index * 400),
        resolver: resolverFor('gateway.example.test'),
        accessToken: TOKEN,
      });
      endpoints.push(endpoint);
      return endpoint;
    };
    const alice = agent('7311', 0);
    const bob = agent('7312', 1);
    await Promise.all([alice.start(), bob.start()]);
    await waitFor(() => alice.lines[0]!.state === 'READY' && bob.lines[0]!.state === 'READY', 10000, 'both lines READY');
    const incoming: Call[] = [];
    bob.on('incomingCall', (call) => void call.answer().catch(() => undefined));
    bob.on('incomingCall', (call) => incoming.push(call));
    /** The Proxy-Authorization of each INVITE Kamailio got from 7311, from `offset` of its output on. */
    const invites = (offset = 0): string[] => [...kamailio.output.slice(offset).matchAll(/INVITE 7311 Proxy-Authorization: ([^\r\n]*)/g)].map((match) => match[1]!);

    // The first INVITE goes without the token, is challenged, and goes again with it.
    const call = await alice.makeCall('7312');
    await waitFor(() => call.state === 'CONNECTED', 10000, 'the challenged call connected');
    expect(invites()).toEqual(['<null>', `Bearer ${TOKEN}`]);
    await call.hangup();
    await waitFor(() => incoming[0]?.state === 'DISCONNECTED', 5000, 'the call ended at Bob');

    // A refreshed token: the next challenge is answered with it.
    alice.setAccessToken(REFRESHED);
    const refreshedAt = kamailio.output.length;
    const second = await alice.makeCall('7312');
    await waitFor(() => second.state === 'CONNECTED', 10000, 'the second call connected');
    expect(invites(refreshedAt)).toEqual(['<null>', `Bearer ${REFRESHED}`]);
    await second.hangup();

    // A token the gateway refuses: challenged again once it is given, the call ends with why
    // (no loop: one INVITE without, one with).
    alice.setAccessToken('revoked-token');
    const revokedAt = kamailio.output.length;
    const refused = await alice.makeCall('7312');
    await waitFor(() => refused.state === 'DISCONNECTED', 10000, 'the refused call ended');
    expect(invites(revokedAt)).toEqual(['<null>', 'Bearer revoked-token']);
    expect(refused.endReason).toBe('407 Proxy Authentication Required: the server refused the OAuth access token (expired or wrong): give a new one (POST /register, or endpoint.setAccessToken) (invalid_token: the token is not valid)');
    expect(incoming).toHaveLength(2);
  }, 60000);
});
