import { join } from 'node:path';
import { Coturn, makeTestCertificates, NatTopology, peerAvailable, runProcess, testPorts, type TestCertificates } from '@sip-endpoint/test-support';
import { Baresip, baresipAvailable } from '../support/baresip';
import { heardByBaresip, untilBaresipRecorded } from '../support/baresip-calls';

// An agent behind a real NAT: three network namespaces (agent, masquerading router, outside),
// made and removed here. Our endpoint runs in the agent's namespace (a child process), baresip
// and coturn outside. The agent's own address cannot be reached from outside, as at home behind
// a router: without ICE and STUN the agent hears nothing; with them, its server-reflexive
// address (the router's, learned from coturn) carries the audio both ways.
const describeIf = baresipAvailable() && peerAvailable('turnserver') && peerAvailable('nft') ? describe : describe.skip;

const root = join(__dirname, '..', '..', '..', '..');

interface AgentReport {
  passwordLogged: boolean;
  lines: number;
  connected: boolean;
  state: string;
  ice: { state: string; local?: string; remote?: string; localAddress?: string; remoteAddress?: string } | undefined;
  heard: number;
  peak: number;
  stats: { received: { packets: number }; sent: { packets: number } } | undefined;
  session: { ice?: { state: string; local?: string } }[];
  log: string[];
}

describeIf('an agent behind a NAT (ip netns + nftables masquerade)', () => {
  let nat: NatTopology;
  let coturn: Coturn | undefined;
  let baresip: Baresip | undefined;
  let certificates: TestCertificates;

  beforeAll(async () => {
    // One topology per jest worker (and another for a second run on other ports).
    nat = NatTopology.create(String(Number(process.env['JEST_WORKER_ID'] ?? '1') + (Number(process.env['SEP_TEST_PORT_BASE'] ?? '0') > 20000 ? 10 : 0)));
    certificates = makeTestCertificates([nat.pubAddress]);
    coturn = await Coturn.start({ namespace: nat.pub, address: nat.pubAddress, tls: { certificate: certificates.serverCertificate, key: certificates.serverKey } });
  }, 30_000);

  afterAll(async () => {
    await coturn?.stop();
    nat?.remove();
  });

  afterEach(async () => {
    await baresip?.stop();
    baresip = undefined;
    nat.openOutbound();
  });

  /** Runs our endpoint in the agent's namespace: it calls baresip and reports. */
  async function agentCalls(target: Baresip, settings: Record<string, string>): Promise<AgentReport> {
    const options = { address: nat.agentAddress, sipPort: testPorts(6), rtpBase: testPorts(20), target: target.uri, frequency: 1000, seconds: 3, settings };
    const [command, args] = nat.exec(nat.agent, join(root, 'node_modules', '.bin', 'tsx'), ['--tsconfig', join(root, 'tsconfig.base.json'), join(__dirname, '..', 'fixtures', 'nat-agent.mts'), JSON.stringify(options)]);
    const result = await runProcess(command, args, { cwd: root, timeoutMs: 40_000 });
    const line = result.stdout.trim().split('\n').at(-1) ?? '';
    if (result.code !== 0 || !line.startsWith('{')) throw new Error(`the agent's process ended with ${result.code}:\n${result.stdout}\n${result.stderr}`);
    return JSON.parse(line) as AgentReport;
  }

  it('without ICE: the call connects, but the agent\'s private address in its SDP is unreachable: it hears nothing', async () => {
    baresip = await Baresip.start({ user: 'bob', frequency: 440, answerMode: 'auto', namespace: nat.pub, address: nat.pubAddress });
    const report = await agentCalls(baresip, { 'proxies.proxy0.nat.ice_enabled': '0' });
    expect(report.connected).toBe(true);
    expect(report.ice).toBeUndefined();
    expect(report.stats?.sent.packets).toBeGreaterThan(50);
    // baresip sends to 10.x.1.2, which the outside cannot route to: nothing comes back.
    expect(report.stats?.received.packets).toBe(0);
    expect(report.peak).toBeLessThan(100);
  }, 60_000);

  it('ICE with STUN, against a peer without ICE: the server-reflexive address is the SDP\'s, and audio flows both ways', async () => {
    baresip = await Baresip.start({ user: 'bob', frequency: 440, answerMode: 'auto', namespace: nat.pub, address: nat.pubAddress });
    const report = await agentCalls(baresip, { 'proxies.proxy0.nat.ice_enabled': '1', 'proxies.proxy0.nat.stun_server': nat.pubAddress, 'proxies.proxy0.nat.stun_server_port': String(coturn!.port) });
    expect(report.connected).toBe(true);
    expect(report.heard).toBeCloseTo(440, -1);
    await untilBaresipRecorded(baresip, 1.5);
    expect(heardByBaresip(baresip)).toBeCloseTo(1000, -1);
    // Our offer: the router's address in c= and m=, and both candidates.
    const offer = baresip.sipTrace().find((m) => !m.sent && m.method === 'INVITE' && m.body.includes('m=audio'))!.body;
    expect(offer).toContain(`c=IN IP4 ${nat.publicAddress}`);
    expect(offer).toMatch(new RegExp(`a=candidate:\\S+ 1 UDP \\d+ ${nat.agentAddress.replace(/\./g, '\\.')} \\d+ typ host`));
    expect(offer).toMatch(new RegExp(`a=candidate:\\S+ 1 UDP \\d+ ${nat.publicAddress.replace(/\./g, '\\.')} \\d+ typ srflx raddr ${nat.agentAddress.replace(/\./g, '\\.')}`));
  }, 60_000);

  it('ICE with STUN, against baresip\'s ICE: the checks find the way through the NAT, a pair is selected, audio flows both ways', async () => {
    baresip = await Baresip.start({ user: 'bob', frequency: 440, answerMode: 'auto', namespace: nat.pub, address: nat.pubAddress, mediaNat: 'ice', rtcpMux: true });
    const report = await agentCalls(baresip, { 'proxies.proxy0.nat.ice_enabled': '1', 'proxies.proxy0.nat.stun_server': nat.pubAddress, 'proxies.proxy0.nat.stun_server_port': String(coturn!.port) });
    expect(report.connected).toBe(true);
    expect(report.ice).toMatchObject({ state: 'connected', local: 'srflx', localAddress: expect.stringMatching(new RegExp(`^${nat.publicAddress.replace(/\./g, '\\.')}:`)), remoteAddress: expect.stringMatching(new RegExp(`^${nat.pubAddress.replace(/\./g, '\\.')}:`)) });
    expect(report.session[0]?.ice).toMatchObject({ state: 'connected', local: 'srflx' });
    expect(report.heard).toBeCloseTo(440, -1);
    await untilBaresipRecorded(baresip, 1.5);
    expect(heardByBaresip(baresip)).toBeCloseTo(1000, -1);
  }, 60_000);

  it('only TCP to the TURN server gets out: ICE finds no UDP path, the relay over TCP (turn_relay_type 1) carries the audio both ways', async () => {
    baresip = await Baresip.start({ user: 'bob', frequency: 440, answerMode: 'auto', namespace: nat.pub, address: nat.pubAddress, mediaNat: 'ice', rtcpMux: true });
    // SIP to baresip, and TCP to coturn: nothing else leaves the agent's network.
    nat.restrictOutbound([`udp dport ${baresip.port}`, `tcp dport ${coturn!.port}`]);
    const report = await agentCalls(baresip, {
      'proxies.proxy0.nat.ice_enabled': '1',
      'proxies.proxy0.nat.stun_server': nat.pubAddress,
      'proxies.proxy0.nat.stun_server_port': String(coturn!.port),
      'proxies.proxy0.nat.turn_server': nat.pubAddress,
      'proxies.proxy0.nat.turn_server_port': String(coturn!.port),
      'proxies.proxy0.nat.turn_user_name': 'alice',
      'proxies.proxy0.nat.turn_password': 'secret',
      'proxies.proxy0.nat.turn_relay_type': '1',
    });
    expect(report.connected).toBe(true);
    expect(report.ice).toMatchObject({ state: 'connected', local: 'relay', localAddress: expect.stringMatching(new RegExp(`^${nat.pubAddress.replace(/\./g, '\\.')}:`)) });
    // STUN over UDP could not get out: logged, and no server-reflexive candidate.
    expect(report.log.some((line) => line.includes('no server-reflexive candidate'))).toBe(true);
    expect(report.heard).toBeCloseTo(440, -1);
    await untilBaresipRecorded(baresip, 1.5);
    expect(heardByBaresip(baresip)).toBeCloseTo(1000, -1);
    const offer = baresip.sipTrace().find((m) => !m.sent && m.method === 'INVITE' && m.body.includes('m=audio'))!.body;
    expect(offer).toMatch(/a=candidate:\S+ 1 UDP \d+ \S+ \d+ typ relay raddr/);
    // Its debug log (SIP messages included) never holds the TURN password.
    expect(report.lines).toBeGreaterThan(20);
    expect(report.passwordLogged).toBe(false);
  }, 60_000);

  it('only TLS to the TURN server gets out: the relay over TLS (turn_relay_type 2, its certificate checked by name against system.security.certificate) carries the audio both ways', async () => {
    baresip = await Baresip.start({ user: 'bob', frequency: 440, answerMode: 'auto', namespace: nat.pub, address: nat.pubAddress, mediaNat: 'ice', rtcpMux: true });
    nat.restrictOutbound([`udp dport ${baresip.port}`, `tcp dport ${coturn!.tlsPort!}`]);
    const report = await agentCalls(baresip, {
      'proxies.proxy0.nat.ice_enabled': '1',
      'proxies.proxy0.nat.turn_server': nat.pubAddress,
      'proxies.proxy0.nat.turn_server_port': String(coturn!.tlsPort!),
      'proxies.proxy0.nat.turn_user_name': 'alice',
      'proxies.proxy0.nat.turn_password': 'secret',
      'proxies.proxy0.nat.turn_relay_type': '2',
      'system.security.certificate': certificates.caCertificate,
      'system.security.tls-target-name-check': 'host',
    });
    expect(report.connected).toBe(true);
    expect(report.ice).toMatchObject({ state: 'connected', local: 'relay', localAddress: expect.stringMatching(new RegExp(`^${nat.pubAddress.replace(/\./g, '\\.')}:`)) });
    expect(report.heard).toBeCloseTo(440, -1);
    await untilBaresipRecorded(baresip, 1.5);
    expect(heardByBaresip(baresip)).toBeCloseTo(1000, -1);
    expect(report.passwordLogged).toBe(false);
  }, 60_000);

  it('over TLS, a TURN server whose certificate the agent does not trust gives no relay: logged, and the call has no path out', async () => {
    baresip = await Baresip.start({ user: 'bob', frequency: 440, answerMode: 'auto', namespace: nat.pub, address: nat.pubAddress, mediaNat: 'ice', rtcpMux: true });
    nat.restrictOutbound([`udp dport ${baresip.port}`, `tcp dport ${coturn!.tlsPort!}`]);
    const report = await agentCalls(baresip, {
      'proxies.proxy0.nat.ice_enabled': '1',
      'proxies.proxy0.nat.turn_server': nat.pubAddress,
      'proxies.proxy0.nat.turn_server_port': String(coturn!.tlsPort!),
      'proxies.proxy0.nat.turn_user_name': 'alice',
      'proxies.proxy0.nat.turn_password': 'secret',
      'proxies.proxy0.nat.turn_relay_type': '2',
    });
    expect(report.log.some((line) => /no relayed candidate: cannot connect to the TURN server .* \(tls\): unable to verify the first certificate/.test(line))).toBe(true);
    expect(report.ice?.local).not.toBe('relay');
    // Only SIP and TLS to coturn get out: baresip's audio has no way in.
    expect(report.stats?.received.packets).toBe(0);
    expect(report.peak).toBeLessThan(100);
  }, 60_000);
});
