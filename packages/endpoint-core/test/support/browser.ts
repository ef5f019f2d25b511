import { spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { peerAvailable } from '@sip-endpoint/test-support';

/** Whether Debian's chromium is installed; a missing one fails the test unless SEP_ALLOW_MISSING_PEERS=1 (see test-support's peerAvailable). */
export function chromiumAvailable(): boolean {
  return peerAvailable('chromium');
}

/** The chromium on the PATH (Debian's `/usr/bin/chromium`, a launcher script): never a downloaded one. */
function chromiumPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v chromium']).stdout?.toString().trim();
  return found || '/usr/bin/chromium';
}

/** sip.js's ES modules (`lib/`, with relative `.js` imports): what the page imports as `/sip.js/...`. */
const SIP_JS = dirname(require.resolve('sip.js'));
const PAGE = join(__dirname, '..', 'fixtures', 'browser-phone.html');

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.map': 'application/json', '.html': 'text/html; charset=utf-8' };

/**
 * chromium's flags: as root it runs without its sandbox; media plays without a user's gesture and
 * without asking; and its host candidates carry the interface's address, not an mDNS name (a
 * `.local` name libwebrtc in Node cannot resolve). Both ends then meet on the machine's interface
 * address (libwebrtc leaves out loopback), so no traffic leaves the machine.
 */
const FLAGS = ['--no-sandbox', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required', '--disable-features=WebRtcHideLocalIpsWithMdns'];

/** Debian's chromium, headless, driven over a pipe (no download, no DevTools port). */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  try {
    return await puppeteer.launch({ executablePath: chromiumPath(), headless: true, pipe: true, args: [...FLAGS, ...extraArgs] });
  } catch (error) {
    throw new Error(`chromium could not start (the README's test command installs Debian's chromium): ${(error as Error).message}`);
  }
}

/** The base64 SHA-256 of a certificate's public key (SubjectPublicKeyInfo), as chromium pins one. */
function spkiHash(certificateFile: string): string {
  const key = new X509Certificate(readFileSync(certificateFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(key).digest('base64');
}

/** What the page's phone reports (`phone.snapshot()` in test/fixtures/browser-phone.html). */
export interface PhoneSnapshot {
  /** sip.js's RegistererState (`Registered`, ...), or `none` before `register`. */
  registration: string;
  /** sip.js's SessionState of the last call (`Establishing`, `Established`, `Terminated`), or `none`. */
  session: string;
  /** INVITEs received so far. */
  incoming: number;
  /** Whether the page holds the call (its last re-INVITE, accepted, said so). */
  held: boolean;
  /** DTMF digits found in the received audio, in order. */
  digits: string;
  errors: string[];
  /** Mean power of the last 170 ms received, in dBFS (-200: nothing). */
  levelDb: number;
  /** The loudest FFT bin of the last 170 ms received, from 100 Hz to 4 kHz. */
  frequency: number;
}

/** Options of {@link BrowserPhone.register}. */
export interface RegisterOptions {
  /** The registrar's WebSocket URL (`ws://127.0.0.1:port`). */
  server: string;
  user: string;
  /** The digest password (sip.js answers the 401 with user and password). */
  password: string;
  /** The domain of the address of record. */
  domain: string;
  /** The tone the page's microphone (an OscillatorNode, -12 dBFS) plays, in Hz. */
  frequency: number;
}

/** One tab of {@link Chromium}: the sip.js phone of test/fixtures/browser-phone.html. */
export class BrowserPhone {
  readonly page: Page;
  /** The page's console and errors, for the message of a failed wait. */
  readonly console: string[] = [];

  constructor(page: Page) {
    this.page = page;
    page.on('console', (message) => this.console.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => this.console.push(`pageerror: ${(error as Error).message}`));
  }

  /** Runs `phone.<method>(...args)` in the page, awaiting its promise. */
  async #run<T>(method: string, ...args: unknown[]): Promise<T> {
    // An expression, not a function: nothing of this file's compiled (or instrumented) code goes to the page.
    return (await this.page.evaluate(`window.phone.${method}(${args.map((arg) => JSON.stringify(arg)).join(', ')})`)) as T;
  }

  /** Starts sip.js's UserAgent and registers (resolves when the REGISTER is sent; wait for `registration`). */
  register(options: RegisterOptions): Promise<void> {
    return this.#run('register', options);
  }

  /** Calls `target` (a SIP URI): resolves once the INVITE is sent. */
  call(target: string): Promise<void> {
    return this.#run('call', target);
  }

  /** Answers the last incoming call. */
  answer(): Promise<void> {
    return this.#run('answer');
  }

  /** Holds (sendonly offer) or retrieves the call: resolves once the far end accepted the re-INVITE. */
  hold(hold: boolean): Promise<void> {
    return this.#run('hold', hold);
  }

  /** Sends `digits` as SIP INFO (application/dtmf-relay), one request per digit: resolves once each was answered. */
  dtmfInfo(digits: string): Promise<void> {
    return this.#run('dtmfInfo', digits);
  }

  /** Plays `digits` as DTMF tones in the page's microphone (120 ms each, 120 ms apart): resolves when the last ended. */
  dtmfTones(digits: string): Promise<void> {
    return this.#run('dtmfTones', digits);
  }

  /** Ends the call (BYE, CANCEL or a rejection). */
  hangup(): Promise<void> {
    return this.#run('hangup');
  }

  snapshot(): Promise<PhoneSnapshot> {
    return this.#run('snapshot');
  }

  /**
   * Asks the page every 50 ms until `check` holds for its snapshot, and gives that snapshot; rejects
   * after `ms` with `what`, the last snapshot and the page's console.
   */
  async until(check: (snapshot: PhoneSnapshot) => boolean, ms: number, what: string): Promise<PhoneSnapshot> {
    const deadline = Date.now() + ms;
    for (;;) {
      const snapshot = await this.snapshot();
      if (check(snapshot)) return snapshot;
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${ms} ms waiting for the browser: ${what}\nlast: ${JSON.stringify(snapshot)}\nconsole:\n${this.console.slice(-20).join('\n')}`);
      }
      await new Promise((done) => setTimeout(done, 50));
    }
  }

  /** Hangs up, unregisters and closes the tab. */
  async close(): Promise<void> {
    if (this.page.isClosed()) return;
    await this.#run('stop').catch(() => undefined);
    await this.page.close().catch(() => undefined);
  }
}

/**
 * Debian's chromium, headless, driven by puppeteer-core over a pipe (no debugging port), with a
 * static HTTP server on 127.0.0.1:`port` for the test page (`/`) and sip.js (`/sip.js/...`).
 */
export class Chromium {
  readonly #server: Server;
  readonly #browser: Browser;
  readonly #url: string;

  private constructor(server: Server, browser: Browser, url: string) {
    this.#server = server;
    this.#browser = browser;
    this.#url = url;
  }

  /**
   * `trust`: a server for pages to reach over TLS (WSS): `host` resolves to 127.0.0.1 in the
   * browser, and the certificate (PEM file) is trusted by its public key, that one alone.
   */
  static async start(port: number, trust?: { host: string; certificate: string }): Promise<Chromium> {
    const server = createServer((request, response) => {
      void serve(request.url ?? '/').then(({ status, type, body }) => {
        response.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
        response.end(body);
      });
    });
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(port, '127.0.0.1', done);
    });
    try {
      const browser = await launchChromium(trust ? [`--host-resolver-rules=MAP ${trust.host} 127.0.0.1`, `--ignore-certificate-errors-spki-list=${spkiHash(trust.certificate)}`] : []);
      return new Chromium(server, browser, `http://127.0.0.1:${port}/`);
    } catch (error) {
      server.close();
      throw error;
    }
  }

  /** A new tab with the phone page, once its module has run. */
  async newPhone(): Promise<BrowserPhone> {
    const page = await this.#browser.newPage();
    const phone = new BrowserPhone(page);
    await page.goto(this.#url);
    await page.waitForFunction('window.phone && window.phone.ready === true', { timeout: 10000 }).catch((error: Error) => {
      throw new Error(`the phone page did not load: ${error.message}\n${phone.console.join('\n')}`);
    });
    return phone;
  }

  /** Closes chromium (every tab) and the HTTP server. */
  async stop(): Promise<void> {
    await this.#browser.close().catch(() => this.#browser.process()?.kill('SIGKILL'));
    this.#server.closeAllConnections();
    await new Promise((done) => this.#server.close(done));
  }
}

/** The page, or a file of sip.js's `lib/` (never a path out of it); else 404. */
async function serve(url: string): Promise<{ status: number; type: string; body: string | Buffer }> {
  const notFound = { status: 404, type: 'text/plain', body: 'not found' };
  try {
    const path = decodeURIComponent(new URL(url, 'http://127.0.0.1').pathname);
    let file: string;
    if (path === '/' || path === '/index.html') file = PAGE;
    else if (path.startsWith('/sip.js/')) {
      file = resolve(SIP_JS, `.${path.slice('/sip.js'.length)}`);
      if (!file.startsWith(SIP_JS + sep)) return notFound;
    } else return notFound;
    return { status: 200, type: TYPES[extname(file)] ?? 'application/octet-stream', body: await readFile(file) };
  } catch {
    // A malformed path, or no such file.
    return notFound;
  }
}
