import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Coturn, makeTestCertificates, NatTopology, peerAvailable, runProcess, testPorts, type TestCertificates } from '@sip-endpoint/test-support';
import { Baresip, baresipAvailable } from '../support/baresip';
import { heardByBaresip, untilBaresipRecorded } from '../support/baresip-calls';
import { KamailioProcess, kamailioAvailable } from '../support/kamailio';

// An agent behind a real NAT: three network namespaces (agent, masquerading router, outside),
// made and removed here. Our endpoint runs in the agent's namespace (a child process), baresip
// and coturn outside. The agent's own address cannot be reached from outside, as at home behind
// a router: without ICE and STUN the agent hears nothing; with them, its server-reflexive
// address (the router's, learned from coturn) carries the audio both ways.
const describeIf = baresipAvailable() && peerAvailable('turnserver') && peerAvailable('nft') && kamailioAvailable() ? describe : describe.skip;

const root = join(__dirname, '..', '..', '..', '..');

/** What nat-callee.mts reports once its call is over (or none came). */
interface CalleeReport {
  called: boolean;
  connected: boolean;
  state?: string;
  heard: number;
  stats: { received: { packets: number }; sent: { packets: number } } | undefined;
  log: string[];
}

/**
 * A registrar and proxy outside (no authentication: the NAT is the subject): it logs each
 * REGISTER's Contact with the address it came from, and each INVITE's target; it stays on the
 * path of the calls it routes (Record-Route), so an ACK or BYE reaches the agent the way the NAT
 * lets in.
 */
function registrarConfig(address: string, port: number): string {
  return `#!KAMAILIO
debug=1
log_stderror=yes
children=2
auto_aliases=no
listen=udp:${address}:${port}
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "rr.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "xlog.so"
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 2)

request_route {
  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
  force_rport();
  if (has_totag()) {
    loose_route();
    t_relay();
    exit;
  }
  if (is_method("REGISTER")) {
    xlog("L_NOTICE", "REGISTER $fU from $si:$sp Contact $(hdr(Contact)[*])\n");
    if (!save("location")) sl_reply_error();
    exit;
  }
  if (is_method("OPTIONS") && $rU == $null) {
    sl_send_reply("200", "OK");
    exit;
  }
  if (is_method("INVITE")) record_route();
  if (!lookup("location")) {
    sl_send_reply("404", "Not Found");
    exit;
  }
  xlog("L_NOTICE", "INVITE for $rU to $ru\n");
  t_relay();
}
`;
}

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

  /**
   * Runs our endpoint in namespace `ns` on `address`, waiting for a call (nat-callee.mts):
   * `ready` resolves once it can be called (registered, when it has a `server`), `report` with its
   * report. It listens for SIP on `sipPort` (without a registrar, the port to call).
   */
  function callee(ns: string, address: string, options: { server?: string; udpKeepAliveS?: number; waitMs: number; settings: Record<string, string> }): { sipPort: number; ready: Promise<void>; report: Promise<CalleeReport> } {
    const sipPort = testPorts(6);
    const json = JSON.stringify({ address, sipPort, rtpBase: testPorts(20), frequency: 1000, seconds: 3, udpKeepAliveS: 0, ...options });
    const [command, args] = nat.exec(ns, join(root, 'node_modules', '.bin', 'tsx'), ['--tsconfig', join(root, 'tsconfig.base.json'), join(__dirname, '..', 'fixtures', 'nat-callee.mts'), json]);
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines: string[] = [];
    let onLine: () => void = () => undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const complete = stdout.split('\n');
      stdout = complete.pop()!;
      lines.push(...complete.filter((line) => line.startsWith('{')));
      onLine();
    });
    const ended = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const line = (index: number): Promise<string> =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`the callee printed ${lines.length} lines:\n${lines.join('\n')}\n${stderr}`));
        }, options.waitMs + 30_000);
        const check = (): void => {
          if (lines.length > index) {
            clearTimeout(timer);
            resolve(lines[index]!);
          }
        };
        onLine = check;
        check();
        void ended.then((code) => {
          if (lines.length <= index) {
            clearTimeout(timer);
            reject(new Error(`the callee's process ended with ${code} after ${lines.length} lines:\n${lines.join('\n')}\n${stderr}`));
          }
        });
      });
    const ready = line(0).then(() => undefined);
    // Its report printed, the callee hangs up and stops; a BYE the NAT drops is not waited for.
    const report = ready.then(() => line(1)).then((text) => {
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      return JSON.parse(text) as CalleeReport;
    });
    return { sipPort, ready, report };
  }

  /** The router forgets an idle UDP binding after `seconds` (a home router's is 30 s to a few minutes). */
  function udpBindingTimeout(seconds: number): void {
    execFileSync('ip', ['netns', 'exec', nat.router, 'sysctl', '-qw', `net.netfilter.nf_conntrack_udp_timeout=${seconds}`, `net.netfilter.nf_conntrack_udp_timeout_stream=${seconds}`], { stdio: 'pipe' });
  }

  describe('an inbound call, through a registrar outside', () => {
    let kamailio: KamailioProcess | undefined;
    const kamailioPort = testPorts(40);
    const ice = (): Record<string, string> => ({ 'proxies.proxy0.nat.ice_enabled': '1', 'proxies.proxy0.nat.stun_server': nat.pubAddress, 'proxies.proxy0.nat.stun_server_port': String(coturn!.port) });

    beforeEach(async () => {
      kamailio = await KamailioProcess.start(registrarConfig(nat.pubAddress, kamailioPort), kamailioPort, 'sep-kamailio-nat-', { namespace: nat.pub, address: nat.pubAddress });
      udpBindingTimeout(3);
    }, 30_000);

    afterEach(async () => {
      udpBindingTimeout(30);
      await kamailio?.stop();
      kamailio = undefined;
    });

    it('reaches the agent: it registered the address the registrar saw (reg_match_received_rport), its keep-alives held the binding past the router\'s 3 s, and the audio flows both ways', async () => {
      const agent = callee(nat.agent, nat.agentAddress, { server: `${nat.pubAddress}:${kamailioPort}`, udpKeepAliveS: 1, waitMs: 20_000, settings: { 'proxies.proxy0.reg_match_received_rport': '1', ...ice() } });
      await agent.ready;
      // The registrar stored the router's address and port, not the agent's own.
      // With that second REGISTER the binding of the agent's own address went (expires=0): the
      // call is routed to the router's address only.
      const escape = (address: string): string => address.replace(/\./g, '\\.');
      expect(kamailio!.output).toMatch(new RegExp(`REGISTER agent from ${escape(nat.publicAddress)}:\\d+ Contact .*<sip:agent@${escape(nat.publicAddress)}:\\d+[^>]*>;expires=60`));
      expect(kamailio!.output).toMatch(new RegExp(`REGISTER agent from ${escape(nat.publicAddress)}:\\d+ Contact .*<sip:agent@${escape(nat.agentAddress)}:\\d+[^>]*>;expires=0`));
      // Idle for twice the router's timeout: only the keep-alives hold the binding.
      await new Promise((resolve) => setTimeout(resolve, 6000));
      baresip = await Baresip.start({ user: 'bob', frequency: 440, answerMode: 'auto', namespace: nat.pub, address: nat.pubAddress, dial: `sip:agent@${nat.pubAddress}:${kamailioPort}` });
      const report = await agent.report;
      expect(report).toMatchObject({ called: true, connected: true });
      expect(kamailio!.output).toMatch(new RegExp(`INVITE for agent to sip:agent@${nat.publicAddress.replace(/\./g, '\\.')}:\\d+`));
      expect(kamailio!.output).not.toContain(`to sip:agent@${nat.agentAddress}`);
      expect(report.heard).toBeCloseTo(440, -1);
      await untilBaresipRecorded(baresip, 1.5);
      expect(heardByBaresip(baresip)).toBeCloseTo(1000, -1);
      // Our answer names the router's address (the server-reflexive candidate) for the audio.
      const answer = baresip.sipTrace().find((m) => !m.sent && m.startLine.startsWith('SIP/2.0 200') && m.body.includes('m=audio'))!.body;
      expect(answer).toContain(`c=IN IP4 ${nat.publicAddress}`);
    }, 90_000);

    it('without keep-alives the router forgets the binding within its 3 s: the registrar\'s INVITE is dropped at the router and the agent never rings', async () => {
      const agent = callee(nat.agent, nat.agentAddress, { server: `${nat.pubAddress}:${kamailioPort}`, udpKeepAliveS: 0, waitMs: 10_000, settings: { 'proxies.proxy0.reg_match_received_rport': '1', ...ice() } });
      await agent.ready;
      await new Promise((resolve) => setTimeout(resolve, 6000));
      baresip = await Baresip.start({ user: 'bob', frequency: 440, answerMode: 'auto', namespace: nat.pub, address: nat.pubAddress, dial: `sip:agent@${nat.pubAddress}:${kamailioPort}` });
      const report = await agent.report;
      // The registrar did route the call to the agent's registered (router's) address.
      expect(kamailio!.output).toMatch(new RegExp(`INVITE for agent to sip:agent@${nat.publicAddress.replace(/\./g, '\\.')}:\\d+`));
      expect(report.called).toBe(false);
    }, 90_000);
  });

  it('a peer behind the NAT with its own STUN (baresip medianat=stun) calls our agent outside: its offer names the router\'s address, and the audio flows both ways without ICE', async () => {
    const agent = callee(nat.pub, nat.pubAddress, { waitMs: 20_000, settings: { 'proxies.proxy0.nat.ice_enabled': '0' } });
    await agent.ready;
    baresip = await Baresip.start({ user: 'bob', frequency: 440, answerMode: 'auto', namespace: nat.agent, address: nat.agentAddress, mediaNat: 'stun', stunServer: `stun:${nat.pubAddress}:${coturn!.port}`, dial: `sip:agent@${nat.pubAddress}:${agent.sipPort}` });
    const report = await agent.report;
    expect(report).toMatchObject({ called: true, connected: true });
    // The audio's address (the media section's c=, over the session's) is the router's.
    const offer = baresip.sipTrace().find((m) => m.sent && m.method === 'INVITE' && m.body.includes('m=audio'))!.body;
    const media = offer.slice(offer.indexOf('m=audio'));
    expect(media).toMatch(new RegExp(`^c=IN IP4 ${nat.publicAddress.replace(/\./g, '\\.')}\r?$`, 'm'));
    expect(media).not.toContain(`IN IP4 ${nat.agentAddress}`);
    expect(report.heard).toBeCloseTo(440, -1);
    await untilBaresipRecorded(baresip, 1.5);
    expect(heardByBaresip(baresip)).toBeCloseTo(1000, -1);
  }, 90_000);

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
