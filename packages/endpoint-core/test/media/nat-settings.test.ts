import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EndpointConfig } from '@sip-endpoint/config';
import { makeTestCertificates } from '@sip-endpoint/test-support';
import { iceServersOf, turnServerOf } from '../../src/media/nat-settings';

// The iceServers of a WebRTC call's RTCPeerConnection come from the line's nat settings, as the
// native path's STUN and TURN servers do.

describe('iceServersOf', () => {
  const log: string[] = [];
  const logger = (level: number, message: string): void => void log.push(`${level} ${message}`);
  beforeEach(() => (log.length = 0));

  it('gives none without STUN or TURN settings', async () => {
    expect(await iceServersOf(EndpointConfig.defaults().with({ 'user:0': '1', 'server:0': 'pbx' }), 0, logger)).toEqual([]);
  });

  it('writes stun: and turn: URLs with the TURN user and password, ?transport=tcp for turn_relay_type 1, IPv6 in brackets', async () => {
    const config = EndpointConfig.defaults().with({
      'user:0': '1', 'server:0': 'pbx', 'user:1': '2', 'server:1': 'pbx',
      'proxies.proxy0.nat.stun_server': '192.0.2.1',
      'proxies.proxy0.nat.stun_server_port': '3479',
      'proxies.proxy0.nat.turn_server': '2001:db8::5',
      'proxies.proxy0.nat.turn_server_port': '443',
      'proxies.proxy0.nat.turn_user_name': 'agent7',
      'proxies.proxy0.nat.turn_password': 'turn-secret',
      'proxies.proxy0.nat.turn_relay_type': '1',
      'proxies.proxy1.nat.turn_server': '198.51.100.9',
      'proxies.proxy1.nat.turn_user_name': 'u',
      'proxies.proxy1.nat.turn_password': 'p',
    });
    expect(await iceServersOf(config, 0, logger)).toEqual([
      { urls: 'stun:192.0.2.1:3479' },
      { urls: 'turn:[2001:db8::5]:443?transport=tcp', username: 'agent7', credential: 'turn-secret' },
    ]);
    // Line 1: its own section (UDP relay, the default port), no STUN server.
    expect(await iceServersOf(config, 1, logger)).toEqual([{ urls: `turn:198.51.100.9:${config.get('proxies.proxy1.nat.turn_server_port')}`, username: 'u', credential: 'p' }]);
    expect(log).toEqual([]);
  });

  it('turn_relay_type 2: turns: with ?transport=tcp for WebRTC; for the native agent TLS options that check the configured name against the trusted authorities', async () => {
    const config = EndpointConfig.defaults().with({
      'user:0': '1', 'server:0': 'pbx',
      'proxies.proxy0.nat.turn_server': 'localhost',
      'proxies.proxy0.nat.turn_server_port': '5349',
      'proxies.proxy0.nat.turn_user_name': 'agent7',
      'proxies.proxy0.nat.turn_password': 'turn-secret',
      'proxies.proxy0.nat.turn_relay_type': '2',
      'system.security.tls-target-name-check': 'host',
    });
    // The configured name, not its address: libwebrtc checks the certificate against it.
    expect(await iceServersOf(config, 0, logger)).toEqual([{ urls: 'turns:localhost:5349?transport=tcp', username: 'agent7', credential: 'turn-secret' }]);
    const turn = await turnServerOf(config, 0, logger);
    expect(turn).toMatchObject({ server: { address: expect.stringMatching(/^(127\.0\.0\.1|::1)$/), port: 5349 }, username: 'agent7', password: 'turn-secret', transport: 'tls', tls: { servername: 'localhost', rejectUnauthorized: true } });
    expect(turn!.tls!.ca!.length).toBeGreaterThan(10); // the system's authorities
    // The name check: a certificate for localhost passes, one for another name is refused.
    const peer = (names: string[]) => new X509Certificate(readFileSync(makeTestCertificates(names).serverCertificate)).toLegacyObject();
    expect(turn!.tls!.checkServerIdentity!('127.0.0.1', peer(['localhost']))).toBeUndefined();
    expect(String(turn!.tls!.checkServerIdentity!('127.0.0.1', peer(['other.sep.test'])))).toMatch(/Host: localhost. is not in the cert's altnames: DNS:other\.sep\.test/);
    // Without tls-target-name-check, the chain only (node:tls checks it: rejectUnauthorized).
    const unnamed = await turnServerOf(config.with({ 'system.security.tls-target-name-check': 'no' }), 0, logger);
    expect(unnamed!.tls!.checkServerIdentity!('127.0.0.1', peer(['other.sep.test']))).toBeUndefined();
    // UDP and TCP carry no TLS options.
    expect(await turnServerOf(config.with({ 'proxies.proxy0.nat.turn_relay_type': '1' }), 0, logger)).toEqual({ server: expect.anything(), host: 'localhost', username: 'agent7', password: 'turn-secret', transport: 'tcp' });
    expect(log).toEqual([]);
  });

  it('looks a name up first (localhost: from the hosts file, nothing leaves the machine)', async () => {
    const config = EndpointConfig.defaults().with({ 'user:0': '1', 'server:0': 'pbx', 'proxies.proxy0.nat.stun_server': 'localhost' });
    expect(await iceServersOf(config, 0, logger)).toEqual([{ urls: expect.stringMatching(/^stun:(127\.0\.0\.1|\[::1\]):3478$/) }]);
  });
});
