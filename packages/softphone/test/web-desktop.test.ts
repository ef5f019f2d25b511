import { Softphone } from '@sip-endpoint/softphone';
import { testPorts } from '@sip-endpoint/test-support';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { chromiumAvailable, launchChromium } from '../../endpoint-core/test/support/browser';
import { Kamailio, kamailioAvailable } from '../../endpoint-core/test/support/kamailio';
import { assertSippPassed, runSipp, sippAvailable } from '../../endpoint-core/test/support/sipp';
import { ACK, INVITE, recv, RESPONSE, scenario, SDP, send as sippSend } from '../../endpoint-core/test/support/sipp-scenario';
import { connectorConfig } from './support/config';

// examples/web-desktop in Debian's chromium: the sample agent desktop, bundled with the
// connector client, logs in to a Softphone in connector mode (another origin: CORS and the
// HttpOnly session cookie kept by the browser), registers to Kamailio, sees a call sipp places
// answered by the policy it asked for, hangs it up (sipp checks the BYE), and sees the session
// expire once it stops its keep-alive.

const describeIf = kamailioAvailable() && chromiumAvailable() && sippAvailable() ? describe : describe.skip;
const KAMAILIO = testPorts(1);
const CONNECTOR = testPorts(1);
const SIP = testPorts(7);
const RTP = testPorts(50);
const SIPP = testPorts(1);
const SIPP_MEDIA = testPorts(4);
const PAGE = testPorts(1);
const ROOT = join(__dirname, '..', '..', '..');

/** `npx tsx examples/web-desktop/serve.ts --port PAGE`, as a user runs it (it bundles the page first); resolves with its URL. */
function serveExample(): Promise<{ child: ChildProcess; url: string }> {
  // Its own process group: npx runs tsx, which runs node; the group ends them all.
  const child = spawn('npx', ['tsx', join('examples', 'web-desktop', 'serve.ts'), '--port', String(PAGE)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the example did not start within 60 s:\n${output}`)), 60_000);
    const read = (chunk: Buffer): void => {
      output += chunk.toString();
      const url = /sample agent desktop at (http:\/\/\S+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url });
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the example exited (${code}):\n${output}`));
    });
  });
}

describeIf('examples/web-desktop in chromium', () => {
  let kamailio: Kamailio;
  let browser: Browser;
  let page: Page;
  let site: { child: ChildProcess; url: string };
  let softphone: Softphone;

  beforeAll(async () => {
    kamailio = await Kamailio.start(KAMAILIO);
    site = await serveExample();
    // The desktop's page is served from another origin (its own port): allowed by host.
    softphone = new Softphone({ config: connectorConfig({ connector: CONNECTOR, sip: SIP, rtp: RTP }, { 'policy.connector.allowed_origin_headers': '127.0.0.1', 'codecs.enabled.audio': 'pcmu,telephone-event' }) });
    await softphone.start();
    browser = await launchChromium();
    page = await browser.newPage();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await softphone?.stop();
    if (site?.child.pid !== undefined) {
      try {
        process.kill(-site.child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await kamailio?.stop();
  });

  const text = (selector: string): Promise<string> => page.$eval(selector, (element) => element.textContent ?? '');
  const logged = (pattern: RegExp, timeout = 8000): Promise<unknown> =>
    page.waitForFunction((source: string) => [...document.querySelectorAll('#log li')].some((item) => new RegExp(source).test(item.textContent ?? '')), { timeout }, pattern.source).catch(async (error: Error) => {
      throw new Error(`${error.message}: no event matches ${pattern}; the events:\n${await text('#log')}`);
    });

  it('logs in, registers, sees a call answered, hangs it up, and sees the session expire', async () => {
    await page.goto(site.url);
    await page.$eval('#softphone', (input, value) => ((input as HTMLInputElement).value = value), `http://127.0.0.1:${CONNECTOR}`);
    await page.type('#server', `127.0.0.1:${KAMAILIO}`);
    await page.type('#user', '5340');
    await page.$eval('#expire', (input) => ((input as HTMLInputElement).value = '3'));
    await page.click('#open');
    await logged(/session opened \(Softphone \d+\.\d+\.\d+/);
    expect(softphone.inSession).toBe(true);
    expect(softphone.sessionExpire).toBe(3);

    await page.click('#register');
    await logged(/line 5340: (NONE|TRYING) -> READY/);
    await page.waitForFunction(() => document.querySelector('#lines td:nth-child(2)')?.textContent === 'READY', { timeout: 5000 });

    // sipp calls the agent through Kamailio; the desktop asked for auto-answer.
    const sipp = runSipp({
      remotePort: KAMAILIO,
      localPort: SIPP,
      mediaPort: SIPP_MEDIA,
      service: '5340',
      timeoutS: 30,
      scenario: scenario('a call the desktop sees answered and hangs up', [
        sippSend(INVITE('', SDP()), ' retrans="500"'),
        '<recv response="100" optional="true"/>',
        '<recv response="180" optional="true"/>',
        recv('response="200"', [{ regexp: 'm=audio [0-9]+ RTP/AVP 0' }], ' rrs="true" timeout="10000"', true),
        sippSend(ACK(1)),
        // "Hang up every call" (DELETE /calls): BYE.
        recv('request="BYE"', [], ' timeout="20000"'),
        sippSend(RESPONSE('200 OK')),
      ]),
    });
    await logged(/call \S+: .* -> CONNECTED|call \S+ added \(CONNECTED\)/, 10_000);
    // The desktop with its call, for the docs (reports/web-desktop/; docs/images has a copy).
    mkdirSync(join(ROOT, 'reports', 'web-desktop'), { recursive: true });
    writeFileSync(join(ROOT, 'reports', 'web-desktop', 'call.png'), await page.screenshot({ type: 'png', fullPage: true }));
    await page.click('#release');
    assertSippPassed(await sipp);
    await logged(/call \S+ removed/);

    // The keep-alive stops: after session_expire (3 s) the Softphone ends the session.
    await page.click('#pause');
    const by = Date.now() + 8000;
    while (softphone.inSession && Date.now() < by) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(softphone.inSession).toBe(false);
    await page.click('#pause');
    await logged(/the session expired or was closed by the Softphone/);
    expect(await text('#status')).toBe('Session expired: log in again.');
    expect(await page.$eval('#open', (button) => (button as HTMLButtonElement).disabled)).toBe(false);
  }, 60_000);
});
