import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '@sip-endpoint/softphone';
import { parseCliArguments } from '../src/cli/cli-args';
import { originAllowed } from '../src/connector/origins';
import { sessionExpireSeconds, wantsPartitioned } from '../src/connector/session-cookie';
import { testPorts } from '@sip-endpoint/test-support';
import { until } from './support/http';

describe('allowed_origin_headers', () => {
  it.each([
    ['http://bsgwsfanch:8080', [], true],
    ['null', [], true],
    ['https://gwa-use1.genesyscloud.com', ['*.genesyscloud.com'], true],
    ['https://a.b.genesyscloud.com', ['*.genesyscloud.com'], true],
    ['https://genesyscloud.com', ['*.genesyscloud.com'], false],
    ['https://evilgenesyscloud.com', ['*.genesyscloud.com'], false],
    ['https://genesyscloud.com.evil.example', ['*.genesyscloud.com'], false],
    ['https://GWA-USE1.GenesysCloud.com', [' gwa-use1.genesyscloud.com '], true],
    ['http://bsgwsfanch:8080', ['gwa-use1.genesyscloud.com', 'bsgwsfanch'], true],
    ['https://wwe.example.com', ['https://wwe.example.com'], true],
    ['http://wwe.example.com', ['https://wwe.example.com'], false],
    ['https://wwe.example.com:8443', ['https://wwe.example.com'], false],
    ['https://wwe.example.com:8443', ['wwe.example.com:8443'], true],
    ['null', ['*.genesyscloud.com'], false],
    ['not a url', ['*'], false],
  ] as const)('%s with %j: %s', (origin, allowed, expected) => {
    expect(originAllowed(origin, allowed)).toBe(expected);
  });
});

describe('cookies and session_expire', () => {
  it('Partitioned from Chrome and Edge 118 with partitioned_cookies 2', () => {
    expect(wantsPartitioned(2, 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.142 Safari/537.36')).toBe(false);
    expect(wantsPartitioned(2, 'Mozilla/5.0 AppleWebKit/537.36 Chrome/118.0.0.0 Safari/537.36')).toBe(true);
    expect(wantsPartitioned(2, 'Mozilla/5.0 Chrome/131.0.0.0 Safari/537.36 Edg/117.0.2045.0')).toBe(false);
    expect(wantsPartitioned(2, undefined)).toBe(false);
    expect(wantsPartitioned(1, undefined)).toBe(true);
    expect(wantsPartitioned(0, 'Chrome/130.0')).toBe(false);
  });

  it('session_expire: 30 by default, 0 to 300 as given, anything else 300', () => {
    expect([undefined, 0, 1, 300, 301, -1, 2.5, 100000].map(sessionExpireSeconds)).toEqual([30, 0, 1, 300, 300, 300, 300, 300]);
  });
});

describe('the softphone command line', () => {
  it('parses its options and refuses what it does not know', () => {
    expect(parseCliArguments(['--config', 'a.config', '--json', '--log-level=3'])).toEqual({ config: 'a.config', json: true, logLevel: 3, help: false, version: false });
    expect(() => parseCliArguments([])).toThrow('--config <Softphone.config> is required');
    expect(() => parseCliArguments(['--config'])).toThrow('--config needs a value');
    expect(() => parseCliArguments(['--config', 'a', '--verbose'])).toThrow('unknown argument "--verbose"');
    expect(() => parseCliArguments(['--config', 'a', '--log-level', '5'])).toThrow('--log-level must be 0 to 4');
  });

  it('on a terminal it shows the live status (status, connections, devices), and SIGTERM ends it with 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sep-softphone-tty-'));
    const file = join(dir, 'Softphone.config');
    // Stand-alone (reg_timeout 0): the server is never contacted; SIP and RTP ports from this jest worker's range.
    const sip = testPorts(10);
    const rtp = testPorts(10);
    writeFileSync(file, `<Softphone>
  <Container name="Basic"><Connectivity user="5340" server="127.0.0.1:5060" protocol="UDP"/></Container>
  <Container name="Genesys">
    <domain name="policy"><section name="endpoint">
      <setting name="public_address" value="127.0.0.1"/>
      <setting name="sip_port_min" value="${sip}"/><setting name="sip_port_max" value="${sip + 9}"/>
      <setting name="rtp_port_min" value="${rtp}"/><setting name="rtp_port_max" value="${rtp + 9}"/>
    </section></domain>
    <domain name="proxies"><section name="proxy0"><setting name="reg_timeout" value="0"/></section></domain>
  </Container>
</Softphone>`);
    let screen = '';
    const signals = new EventEmitter();
    const exit = runCli(['--config', file], {
      stdout: { isTTY: true, write: (text: string) => (screen += text) },
      stderr: { write: (text: string) => (screen += text) },
      signals: signals as unknown as { on(s: 'SIGINT' | 'SIGTERM', l: () => void): unknown; off(s: 'SIGINT' | 'SIGTERM', l: () => void): unknown },
    });
    await until(() => screen.includes('0  5340@127.0.0.1:5060  STANDALONE'), 5000, 'the status frame');
    expect(screen).toMatch(/status: INITIALIZED/);
    expect(screen).toMatch(/devices: microphone "Default Microphone" 100%, speaker "Default Speaker" 100%/);
    expect(screen).toMatch(/calls:\n {2}\(none\)/);
    signals.emit('SIGTERM');
    expect(await exit).toBe(0);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });
});
