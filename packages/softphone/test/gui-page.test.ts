import type { EndpointConfig } from '@sip-endpoint/config';
import { VirtualAudioProvider } from '@sip-endpoint/media';
import { dominantFrequency, rms } from '@sip-endpoint/media/testing';
import { Softphone } from '@sip-endpoint/softphone';
import { testPorts } from '@sip-endpoint/test-support';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { chromiumAvailable, launchChromium } from '../../endpoint-core/test/support/browser';
import { Kamailio, kamailioAvailable } from '../../endpoint-core/test/support/kamailio';
import { assertSippPassed, runSipp, sippAvailable } from '../../endpoint-core/test/support/sipp';
import { ACK, INVITE, recv, RESPONSE, scenario, SDP, send as sippSend } from '../../endpoint-core/test/support/sipp-scenario';
import { connectorConfig } from './support/config';
import { desktopHeaders, send, sessionIdOf, until } from './support/http';

// The Softphone's own page (/softphone/gui/) in Debian's chromium, headless: the tabs and phone
// lines the settings ask for, a call placed by sipp (through Kamailio) that rings on a line and is answered, held and
// hung up by clicks (sipp checks each step on the wire; its RTP echo brings our microphone's tone
// back to the speaker), the Devices tab moving the call to another speaker, and the refusals a
// foreign origin and a SIP-unsafe dial string get. Screenshots of each tab go to
// reports/gui/ (and are checked for not being blank).

const describeIf = kamailioAvailable() && chromiumAvailable() && sippAvailable() ? describe : describe.skip;
const KAMAILIO = testPorts(1);
const CONNECTOR = testPorts(1);
const SIP = testPorts(7);
const RTP = testPorts(50);
const SIPP = testPorts(1);
const SIPP_MEDIA = testPorts(4);
const PAGE = `http://127.0.0.1:${CONNECTOR}/softphone/gui/`;
const SHOTS = join(__dirname, '..', '..', '..', 'reports', 'gui');

function config(settings: Record<string, string> = {}): EndpointConfig {
  return connectorConfig({ connector: CONNECTOR, sip: SIP, rtp: RTP }, { 'codecs.enabled.audio': 'pcmu,telephone-event', ...settings });
}

/** The tabs' names as the page shows them, in order. */
const tabNames = (page: Page): Promise<string[]> => page.$$eval('[role="tab"]', (tabs) => tabs.map((tab) => tab.textContent ?? ''));

/** A screenshot of the page as it is, written for the docs, and whether it has more than one colour. */
async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const png = await page.screenshot({ type: 'png', fullPage: true });
  writeFileSync(join(SHOTS, `${name}.png`), png);
  // Not blank: the page's pixels are not all one colour (checked in the browser, on a canvas).
  const colours = await page.evaluate(async (data: string) => {
    const image = new Image();
    image.src = `data:image/png;base64,${data}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d')!;
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, image.width, image.height).data;
    const seen = new Set<number>();
    for (let i = 0; i < pixels.length && seen.size < 50; i += 4 * 7) seen.add((pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!);
    return seen.size;
  }, Buffer.from(png).toString('base64'));
  expect({ name, colours: colours > 3 }).toEqual({ name, colours: true });
}

describeIf('the Softphone page in chromium', () => {
  let browser: Browser;
  let kamailio: Kamailio;
  let softphone: Softphone | undefined;

  beforeAll(async () => {
    kamailio = await Kamailio.start(KAMAILIO);
    browser = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await kamailio?.stop();
  });
  afterEach(async () => {
    await softphone?.stop();
    softphone = undefined;
  });

  async function open(): Promise<Page> {
    const page = await browser.newPage();
    await page.setViewport({ width: 900, height: 700 });
    await page.goto(PAGE);
    await page.waitForSelector('[role="tab"]', { timeout: 5000 });
    return page;
  }

  it.each([
    ['default', {}, ['Status', 'Calls', 'Devices'], 3],
    ['short names, another order, 5 lines', { 'policy.endpoint.gui_tabs': 'dev,call', 'policy.endpoint.gui_call_lines': '5' }, ['Devices', 'Calls'], 5],
    ['an unknown and a repeated name ignored, 7 lines', { 'policy.endpoint.gui_tabs': 'calls,phonebook,call', 'policy.endpoint.gui_call_lines': '7' }, ['Calls'], 7],
    ['no known name: status alone; 9 lines out of range: 3', { 'policy.endpoint.gui_tabs': 'Status,foo', 'policy.endpoint.gui_call_lines': '9' }, ['Status'], 3],
  ] as const)('gui_tabs and gui_call_lines: %s', async (_name, settings, tabs, lines) => {
    softphone = new Softphone({ config: config(settings) });
    await softphone.start();
    expect(softphone.pageUrl).toBe(PAGE);
    const page = await open();
    try {
      expect(await tabNames(page)).toEqual(tabs);
      if (tabs.includes('Calls' as never)) {
        await page.click('#tab-calls');
        expect(await page.$$eval('#panel-calls fieldset.phone-line', (boxes) => boxes.length)).toBe(lines);
        expect(await page.$eval('#line-1 legend', (legend) => legend.textContent)).toBe('Line 1: free');
      }
      // Keyboard: the arrow keys move between tabs (the focus with them).
      const before = await page.$eval('[role="tab"][aria-selected="true"]', (tab) => tab.textContent ?? '');
      await page.focus('[role="tab"][aria-selected="true"]');
      await page.keyboard.press('ArrowRight');
      const selected = await page.$eval('[role="tab"][aria-selected="true"]', (tab) => tab.textContent);
      expect(selected).toBe(tabs[(tabs.indexOf(before as never) + 1) % tabs.length]);
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(selected);
      // A narrow window (a phone's width): one column, nothing wider than the window.
      await page.setViewport({ width: 340, height: 700 });
      for (const tab of tabs) {
        await page.click(`#tab-${tab.toLowerCase()}`);
        expect({ tab, overflow: await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) }).toEqual({ tab, overflow: 0 });
      }
    } finally {
      await page.close();
    }
  }, 30_000);

  it('answers, holds and hangs up by clicks a call sipp places; the Devices tab moves its audio to the headset', async () => {
    const devices = new VirtualAudioProvider({ defaults: false });
    devices.addInput({ name: 'Desk Microphone', id: 'mic', systemDefault: true }, { kind: 'tone', frequencies: [700], levelDbfs: -12 });
    devices.addOutput({ name: 'Desk Speaker', id: 'desk', systemDefault: true }, { record: true });
    devices.addOutput({ name: 'Headset Earphone (Jabra)', id: 'jabra' }, { record: true });
    const log: string[] = [];
    softphone = new Softphone({ config: config({ 'system.diagnostics.log_level': '4' }), devices, logger: (level, text) => log.push(`${level} ${text}`) });
    await softphone.start();
    // The desktop logs in and registers (the transcript's first steps).
    const first = await send(`http://127.0.0.1:${CONNECTOR}/softphone/v2/session`, { headers: desktopHeaders() });
    const id = sessionIdOf(first)!;
    const cookie = desktopHeaders({ Cookie: `SEPSESSIONID=${id}`, 'Content-Type': 'application/json' });
    expect((await send(`http://127.0.0.1:${CONNECTOR}/softphone/v2/session`, { method: 'POST', headers: cookie, body: JSON.stringify({ connectivities: { protocol: 'udp', connections: [{ server: `127.0.0.1:${KAMAILIO}`, user: '5330' }] } }) })).status).toBe(200);
    expect((await send(`http://127.0.0.1:${CONNECTOR}/softphone/v2/register`, { method: 'POST', headers: desktopHeaders({ Cookie: `SEPSESSIONID=${id}`, 'Content-Length': '0' }) })).status).toBe(200);
    const endpoint = softphone.endpoint!;
    await until(async () => endpoint.lines[0]?.state === 'READY', 8000, 'the line registered');

    const page = await open();
    try {
      await page.waitForFunction(() => document.querySelector('#panel-status td .state')?.textContent === 'READY', { timeout: 5000 });
      await screenshot(page, 'status-registered');
      await page.click('#tab-calls');
      // sipp calls the line; it rings on line 1.
      // sipp plays a caller behind the registrar: its INVITE and responses go through Kamailio,
      // as the endpoint's own requests in the dialog do.
      const sipp = runSipp({
        remotePort: KAMAILIO,
        localPort: SIPP,
        mediaPort: SIPP_MEDIA,
        rtpEcho: true,
        service: '5330',
        timeoutS: 40,
        scenario: scenario('a call answered, held and hung up on the Softphone page', [
          sippSend(INVITE('', SDP()), ' retrans="500"'),
          '<recv response="100" optional="true"/>',
          '<recv response="180"/>',
          recv('response="200"', [{ regexp: 'm=audio [0-9]+ RTP/AVP 0' }], ' rrs="true" timeout="20000"', true),
          sippSend(ACK(1)),
          // Hold, clicked: a re-INVITE whose offer is sendonly.
          recv('request="INVITE"', [{ regexp: 'a=sendonly' }], ' timeout="20000"'),
          sippSend(RESPONSE('200 OK', SDP('recvonly'))),
          '<recv request="ACK"/>',
          // Hang up, clicked: BYE.
          recv('request="BYE"', [], ' timeout="20000"'),
          sippSend(RESPONSE('200 OK')),
        ]),
      });
      await page.waitForFunction(() => document.querySelector('#line-1 .state')?.textContent === 'ringing', { timeout: 8000 });
      expect(await page.$eval('#line-1 legend', (legend) => legend.textContent)).toMatch(/^Line 1: from sip:sipserver@127\.0\.0\.1/);
      await screenshot(page, 'calls-ringing');
      await page.click('#line-1 button[data-action="answer"]');
      await page.waitForFunction(() => document.querySelector('#line-1 .state')?.textContent === 'talking', { timeout: 5000 });
      const call = endpoint.calls[0]!;
      expect(call.state).toBe('CONNECTED');
      expect(call.media.devices.output?.id).toBe('desk');
      // sipp echoes what we send: our microphone's 700 Hz comes back to the desk speaker.
      devices.clearRecording('desk');
      await until(async () => devices.recording('desk').samples.length >= 8000, 5000, 'a second played on the desk speaker');
      expect(dominantFrequency(devices.recording('desk').samples.slice(-4000), devices.recording('desk').sampleRate)).toBeCloseTo(700, -1);
      await screenshot(page, 'calls-talking');
      // An action the call's state does not allow (retrieve a call nobody holds): 409, the SDK's words.
      const retrieve = await page.evaluate(async (callId: string) => {
        const response = await fetch(`calls/${callId}/retrieve`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
        return { status: response.status, message: ((await response.json()) as { message: string }).message };
      }, call.id);
      expect(retrieve).toEqual({ status: 409, message: expect.stringMatching(/retrieve/i) });
      // The Status tab draws the call's MOS and jitter, a point a second.
      await page.click('#tab-status');
      await page.waitForFunction(() => document.querySelectorAll('#panel-status svg.chart polyline').length >= 2 && /over the last ([4-9]|\d\d+) seconds/.test(document.querySelector('#panel-status svg.chart')?.getAttribute('aria-label') ?? ''), { timeout: 10_000 });
      expect(await page.$eval('#panel-status svg.chart', (svg) => svg.getAttribute('aria-label'))).toMatch(/^MOS and jitter of call-1 over the last \d+ seconds; now MOS [1-4]\.\d\d, jitter \d+\.\d ms$/);
      await screenshot(page, 'status-call');

      // The Devices tab: the headset's earphone chosen; the call's audio moves to it.
      await page.click('#tab-devices');
      await screenshot(page, 'devices');
      await page.select('#speaker-select', 'Headset Earphone (Jabra)');
      await until(async () => call.media.devices.output?.id === 'jabra', 3000, 'the call on the headset');
      devices.clearRecording('jabra');
      devices.clearRecording('desk');
      await until(async () => devices.recording('jabra').samples.length >= 8000, 5000, 'a second played on the headset');
      expect(rms(devices.recording('jabra').samples.slice(-4000))).toBeGreaterThan(500);
      expect(devices.recording('desk').samples.length).toBe(0);
      await page.waitForFunction(() => (document.querySelector('#speaker-select') as HTMLSelectElement | null)?.value === 'Headset Earphone (Jabra)', { timeout: 3000 });

      // Hold and hang up, by clicks.
      await page.click('#tab-calls');
      await page.click('#line-1 button[data-action="hold"]');
      await page.waitForFunction(() => document.querySelector('#line-1 .state')?.textContent === 'on hold', { timeout: 5000 }).catch(async (error: Error) => {
        throw new Error(`${error.message}: the call ${call.state}, the line shows ${await page.$eval('#line-1', (line) => line.textContent)}, the message ${await page.$eval('#message', (m) => m.textContent)}\n${log.slice(-30).join('\n')}`);
      });
      expect(call.state).toBe('HELD');
      await page.click('#line-1 button[data-action="hangup"]');
      await page.waitForFunction(() => document.querySelector('#line-1 legend')?.textContent === 'Line 1: free', { timeout: 5000 });
      assertSippPassed(await sipp);

      // A click on a line whose call has just ended: the page says so.
      const ended = await page.evaluate(async (callId: string) => {
        const response = await fetch(`calls/${callId}/hangup`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
        return { status: response.status, body: (await response.json()) as { message: string } };
      }, call.id);
      expect(ended).toEqual({ status: 404, body: expect.objectContaining({ message: `the call ${call.id} has ended` }) });

      // A dial string with SIP-unsafe characters: refused, with a message on the page.
      await page.type('#dial-1', 'sip:5331@127.0.0.1>"x');
      await page.click('#line-1 button[type="submit"]');
      await page.waitForFunction(() => !(document.querySelector('#message') as HTMLElement).hidden, { timeout: 3000 });
      expect(await page.$eval('#message', (message) => message.textContent)).toMatch(/cannot be dialled/);
      expect(endpoint.calls.filter((c) => c.state !== 'DISCONNECTED')).toEqual([]);
      await page.click('#tab-status');
      await screenshot(page, 'status');
    } finally {
      await page.close();
    }
  }, 90_000);

  it('refuses its API to a foreign origin, a foreign site and a rebound host name (403)', async () => {
    softphone = new Softphone({ config: config() });
    await softphone.start();
    const foreign = await send(`${PAGE}state`, { headers: { Origin: 'http://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.json()).toMatchObject({ code: 'ERR_GUI_FOREIGN_ORIGIN' });
    const dial = await send(`${PAGE}dial`, { method: 'POST', headers: { Origin: 'http://evil.example', 'Content-Type': 'application/json' }, body: '{"target":"5331"}' });
    expect(dial.status).toBe(403);
    expect((await send(`${PAGE}state`, { headers: { 'Sec-Fetch-Site': 'cross-site' } })).status).toBe(403);
    expect((await send(`${PAGE}state`, { headers: { Host: `rebound.example:${CONNECTOR}` } })).status).toBe(403);
    // Its own origin, and a request with none (not a browser), are served.
    expect((await send(`${PAGE}state`, { headers: { Origin: `http://127.0.0.1:${CONNECTOR}` } })).status).toBe(200);
    const own = await send(PAGE);
    expect(own.status).toBe(200);
    expect(own.headers['content-security-policy']).toMatch(/default-src 'self'/);
    // A foreign page in the browser cannot read the state either.
    const page = await browser.newPage();
    try {
      await page.goto('about:blank');
      const outcome = await page.evaluate(async (url: string) => {
        try {
          const response = await fetch(url);
          return `status ${response.status}`;
        } catch (error) {
          return `refused: ${(error as Error).message}`;
        }
      }, `${PAGE}state`);
      expect(outcome).toMatch(/^refused|status 403/);
    } finally {
      await page.close();
    }
  }, 30_000);

  it('is not served with policy.connector.gui 0', async () => {
    softphone = new Softphone({ config: config({ 'policy.connector.gui': '0' }) });
    await softphone.start();
    expect(softphone.pageUrl).toBeUndefined();
    expect((await send(PAGE)).status).toBe(404);
  }, 15_000);
});
