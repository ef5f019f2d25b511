import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { testPorts } from '@sip-endpoint/test-support';
import { Baresip, baresipAvailable } from '../../endpoint-core/test/support/baresip';
import { Kamailio, kamailioAvailable } from '../../endpoint-core/test/support/kamailio';
import { desktopHeaders, send, sessionIdOf, until } from './support/http';

// This file's ports, from this jest worker's range, taken when it loads: Kamailio's, the
// connector's, the softphone's SIP (7) and RTP (50) ports; baresip takes its own block of 20.
const describeIf = kamailioAvailable() && baresipAvailable() ? describe : describe.skip;
const KAMAILIO = testPorts(1);
const CONNECTOR = testPorts(1);
const SIP = testPorts(7);
const RTP = testPorts(50);
const root = resolve(__dirname, '../../..');

/** A Softphone.config: one line 5330 on the local Kamailio, auto-answer, and `extra` settings in the connector section. */
function configXml(options: { connector?: string; session?: string } = {}): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Softphone>
  <Container name="Basic">
    <Connectivity user="5330" server="127.0.0.1:${KAMAILIO}" protocol="UDP"/>
  </Container>
  <Container name="Genesys">
    <domain name="policy">
      <section name="endpoint">
        <setting name="public_address" value="127.0.0.1"/>
        <setting name="sip_port_min" value="${SIP}"/>
        <setting name="sip_port_max" value="${SIP + 6}"/>
        <setting name="rtp_port_min" value="${RTP}"/>
        <setting name="rtp_port_max" value="${RTP + 49}"/>
      </section>
      <section name="session">
        <setting name="auto_answer" value="1"/>${options.session ?? ''}
      </section>
      <section name="connector">${options.connector ?? ''}
      </section>
    </domain>
    <domain name="proxies">
      <section name="proxy0">
        <setting name="password" value="secret"/>
        <setting name="reg_timeout" value="60"/>
      </section>
    </domain>
    <domain name="system">
      <section name="media">
        <setting name="ringing_file" value=""/>
      </section>
    </domain>
  </Container>
</Softphone>
`;
}

/** `softphone` from the sources, as a real child process (tsx, the repository's path aliases). */
class SoftphoneProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(join(root, 'node_modules/.bin/tsx'), ['--tsconfig', join(root, 'tsconfig.base.json'), join(root, 'packages/softphone/src/main.ts'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((done) => this.child.once('exit', (code) => done(code)));
  }

  /** The JSON lines printed so far. */
  events(): Record<string, unknown>[] {
    return this.stdout.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  async waitFor(what: string, match: (event: Record<string, unknown>) => boolean, ms = 15000): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await until(() => (found = this.events().find(match)) !== undefined, ms, `${what}; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
    return found!;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

describeIf('softphone --config, a real process against Kamailio and baresip', () => {
  let kamailio: Kamailio;
  let baresip: Baresip | undefined;
  let phone: SoftphoneProcess | undefined;
  let dir: string;

  beforeAll(async () => {
    kamailio = await Kamailio.start(KAMAILIO);
    dir = mkdtempSync(join(tmpdir(), 'sep-softphone-'));
  });
  afterAll(async () => {
    await kamailio.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    phone?.kill();
    phone = undefined;
    await baresip?.stop();
    baresip = undefined;
  });

  function write(name: string, text: string): string {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  }

  it('registers at start, auto-answers baresip\'s call through Kamailio, prints it as JSON lines, and on SIGTERM hangs up, unregisters and exits 0', async () => {
    phone = new SoftphoneProcess(['--config', write('standalone.config', configXml()), '--json']);
    await phone.waitFor('started', (e) => e['event'] === 'started');
    expect(phone.events().find((e) => e['event'] === 'started')).toMatchObject({ mode: 'standalone', lines: 1 });
    await phone.waitFor('READY', (e) => e['event'] === 'connectionStateChanged' && e['state'] === 'READY');

    baresip = await Baresip.start({ user: 'bob', frequency: 440 });
    await baresip.dial(`sip:5330@127.0.0.1:${KAMAILIO}`);
    await baresip.waitForEvent('CALL_ESTABLISHED', { ms: 10000 });
    const incoming = await phone.waitFor('incomingCall', (e) => e['event'] === 'incomingCall');
    expect(incoming).toMatchObject({ line: 0, direction: 'incoming', state: 'RINGING', remote: expect.stringContaining('sip:bob@127.0.0.1') });
    const connected = await phone.waitFor('CONNECTED', (e) => e['event'] === 'callStateChanged' && e['state'] === 'CONNECTED');
    expect(connected).toMatchObject({ call: incoming['call'], previous: 'RINGING', codec: 'PCMU/8000' });

    const from = baresip.events.length;
    phone.child.kill('SIGTERM');
    expect(await phone.exited).toBe(0);
    // The call got a BYE, the line unregistered, and the last lines say so.
    await baresip.waitForEvent('CALL_CLOSED', { from, ms: 5000 }).catch((error: Error) => {
      throw new Error(`${error.message}\n${phone?.stdout}\n${phone?.stderr}\n${baresip?.sipTrace().slice(-4).map((m) => m.text).join('\n')}`);
    });
    const events = phone.events();
    const tail = events.slice(events.findIndex((e) => e['event'] === 'stopping'));
    expect(tail.map((e) => [e['event'], e['state'] ?? e['status']])).toEqual([
      ['stopping', undefined],
      ['callStateChanged', 'DISCONNECTED'],
      ['connectionStateChanged', 'SHUTDOWN'],
      ['statusChanged', 'INITIALIZING'],
      ['stopped', undefined],
    ]);
    // Kamailio forgot us: a new call to 5330 is 404.
    const again = baresip.events.length;
    await baresip.dial(`sip:5330@127.0.0.1:${KAMAILIO}`);
    const closed = await baresip.waitForEvent('CALL_CLOSED', { from: again, ms: 5000 });
    expect(String(closed.param)).toMatch(/404/);
  }, 45000);

  it('a bad configuration: exit 2 with the setting and its line', async () => {
    // protocol https without a port: the connector cannot run.
    const xml = configXml({ connector: '\n        <setting name="protocol" value="https"/>' });
    const line = xml.split('\n').findIndex((text) => text.includes('name="protocol"')) + 1;
    phone = new SoftphoneProcess(['--config', write('bad.config', xml), '--json']);
    expect(await phone.exited).toBe(2);
    expect(phone.stderr).toContain(`bad.config: policy.connector.protocol is https but policy.connector.port is empty (setting policy.connector.port, line ${line})`);
    expect(phone.events()).toEqual([expect.objectContaining({ event: 'error', code: 'ERR_CONFIG_INVALID_SETTING', line })]);

    const malformed = new SoftphoneProcess(['--config', write('malformed.config', '<Softphone>\n  <Container name="Basic">\n</Softphone>\n')]);
    expect(await malformed.exited).toBe(2);
    expect(malformed.stderr).toMatch(/line 3/);

    const missing = new SoftphoneProcess(['--config', join(dir, 'nowhere.config')]);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nowhere\.config/);

    const usage = new SoftphoneProcess(['--log-level', '9']);
    expect(await usage.exited).toBe(2);
    expect(usage.stderr).toMatch(/--log-level must be 0 to 4/);
  }, 30000);

  it('connector mode: waits for the desktop, registers on POST /register, logs to stderr with --log-level, and exits 0 on SIGINT', async () => {
    phone = new SoftphoneProcess(['--config', write('connector.config', configXml({ connector: `\n        <setting name="port" value="${CONNECTOR}"/>` })), '--json', '--log-level', '3']);
    const listening = await phone.waitFor('listening', (e) => e['event'] === 'listening');
    expect(listening['url']).toBe(`http://127.0.0.1:${CONNECTOR}/softphone/v2`);
    const base = String(listening['url']);
    const first = await send(`${base}/session`, { headers: desktopHeaders() });
    expect(first.status).toBe(403);
    const cookie = `SEPSESSIONID=${sessionIdOf(first)!}`;
    // No registration before the desktop asks.
    expect(phone.events().some((e) => e['event'] === 'connectionStateChanged')).toBe(false);
    const configured = await send(`${base}/session`, { method: 'POST', headers: desktopHeaders({ Cookie: cookie, 'Content-Type': 'application/json' }), body: JSON.stringify({ options: { softphone: { session_expire: 60 } }, connectivities: { protocol: 'udp', connections: [{ server: `127.0.0.1:${KAMAILIO}`, user: '5331' }] } }) });
    expect(configured.status).toBe(200);
    expect((await send(`${base}/register`, { method: 'POST', headers: desktopHeaders({ Cookie: cookie }) })).status).toBe(200);
    await phone.waitFor('READY', (e) => e['event'] === 'connectionStateChanged' && e['state'] === 'READY' && e['user'] === '5331');
    const session = (await send(`${base}/session`, { headers: desktopHeaders({ Cookie: cookie }) })).json();
    expect(session).toMatchObject({ status: 'INITIALIZED', connectivities: { connections: [{ user: '5331', state: 'READY' }] } });
    expect(phone.stderr).toMatch(/Info softphone: client session started/);

    phone.child.kill('SIGINT');
    expect(await phone.exited).toBe(0);
    expect(phone.events().map((e) => e['event'])).toEqual(expect.arrayContaining(['sessionEnded', 'stopped']));
    expect(phone.events().find((e) => e['event'] === 'sessionEnded')).toMatchObject({ reason: 'stopped' });
    expect(phone.events().some((e) => e['event'] === 'connectionStateChanged' && e['state'] === 'SHUTDOWN')).toBe(true);
  }, 45000);
});
