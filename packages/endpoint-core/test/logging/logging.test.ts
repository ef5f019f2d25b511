import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { transformFileSync } from '@swc/core';
import { EndpointConfig } from '@sip-endpoint/config';
import { VirtualAudioProvider } from '@sip-endpoint/media';
import { Endpoint, type LogFileError } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { DiagnosticsLogger } from '../../src/logging/diagnostics-logger';
import { LogFile } from '../../src/logging/log-file';
import { Redactor } from '../../src/logging/redactor';
import { formatLogTime } from '../../src/logging/log-time';
import { parseLogOptionsProvider } from '../../src/logging/log-options';
import { standaloneConfig, standaloneEndpoint, waitFor } from '../support/endpoints';
import { Kamailio, kamailioAvailable } from '../support/kamailio';

const LINE = /^(\S+) (Fatal|Error|Warning|Info|Debug) (\S+): (.*)$/;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sep-logging-'));
}

/** A logger per `system.diagnostics` settings written as in Softphone.config, its log in `dir`. */
function loggerFor(dir: string, settings: Record<string, string>, options: ConstructorParameters<typeof DiagnosticsLogger>[1] = {}): DiagnosticsLogger {
  const config = EndpointConfig.defaults().with({
    'system.diagnostics.enable_logging': '1',
    'system.diagnostics.logger_type': 'file',
    'system.diagnostics.log_file': join(dir, 'SipEndpoint.log'),
    ...settings,
  });
  return DiagnosticsLogger.fromConfig(config, options);
}

/**
 * An endpoint's configuration on 127.0.0.1 (stand-alone unless `settings` say otherwise, SIP and
 * RTP ports from this jest worker's range) logging to `dir`.
 */
function endpointConfig(user: string, dir: string, settings: Record<string, string> = {}): EndpointConfig {
  return standaloneConfig(user, testPorts(7), testPorts(50), {
    'system.diagnostics.enable_logging': '1',
    'system.diagnostics.logger_type': 'file',
    'system.diagnostics.log_file': join(dir, 'SipEndpoint.log'),
    ...settings,
  });
}

/** Every line of every segment, oldest segment first. */
function logText(logger: DiagnosticsLogger): string {
  return logger.segments().map((file) => readFileSync(file, 'utf8')).join('');
}

function records(text: string): { time: string; level: string; component: string; message: string }[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0 && !line.startsWith('\t'))
    .map((line) => {
      const match = LINE.exec(line);
      if (!match) throw new Error(`not a log line: ${line}`);
      return { time: match[1]!, level: match[2]!, component: match[3]!, message: match[4]! };
    });
}

describe('levels and components', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('log_level 2 writes Fatal, Error and Warning records as `<time> <level> <component>: message` and drops Info and Debug', () => {
    const logger = loggerFor(dir, { 'system.diagnostics.log_level': '2' });
    for (let level = 0; level <= 4; level++) logger.log(level, 'endpoint', `record at ${level}`);
    logger.close();
    const written = records(logText(logger));
    expect(written.map((r) => `${r.level} ${r.component}: ${r.message}`)).toEqual(['Fatal endpoint: record at 0', 'Error endpoint: record at 1', 'Warning endpoint: record at 2']);
    expect(written[0]!.time).toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/);
  });

  it('log_level 4 writes all five levels; records after close() are dropped', () => {
    const logger = loggerFor(dir, { 'system.diagnostics.log_level': '4' });
    for (let level = 0; level <= 4; level++) logger.log(level, 'endpoint', `record at ${level}`);
    logger.close();
    logger.log(0, 'endpoint', 'too late');
    expect(records(logText(logger)).map((r) => r.level)).toEqual(['Fatal', 'Error', 'Warning', 'Info', 'Debug']);
  });

  it('log_options_provider: gsip=2 caps sip and sip.* at Warning, webrtc=(error,critical) lets exactly those through, others follow log_level', () => {
    const logger = loggerFor(dir, { 'system.diagnostics.log_level': '3', 'system.diagnostics.log_options_provider': 'gsip=2, webrtc=(error,critical)' });
    for (const component of ['sip', 'sip.Registerer', 'media', 'endpoint']) for (let level = 0; level <= 4; level++) logger.log(level, component, `${component} ${level}`);
    logger.close();
    expect(records(logText(logger)).map((r) => r.message)).toEqual([
      'sip 0', 'sip 1', 'sip 2',
      'sip.Registerer 0', 'sip.Registerer 1', 'sip.Registerer 2',
      'media 0', 'media 1',
      'endpoint 0', 'endpoint 1', 'endpoint 2', 'endpoint 3',
    ]);
    expect(logger.logsSipMessages).toBe(false);
  });

  it('SIP messages are logged (Debug, component sip) only when log_options_provider asks for gsip debug', () => {
    const register = 'REGISTER sip:127.0.0.1 SIP/2.0\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n';
    const quiet = loggerFor(dir, { 'system.diagnostics.log_level': '4', 'system.diagnostics.log_file': join(dir, 'quiet.log') });
    quiet.sipTrace('out', register, { address: '127.0.0.1', port: 5060 });
    quiet.close();
    expect(quiet.logsSipMessages).toBe(false);
    expect(logText(quiet)).toBe('');
    const loud = loggerFor(dir, { 'system.diagnostics.log_level': '4', 'system.diagnostics.log_options_provider': 'gsip=4', 'system.diagnostics.log_file': join(dir, 'loud.log') });
    expect(loud.logsSipMessages).toBe(true);
    loud.sipTrace('out', register, { address: '127.0.0.1', port: 5060 });
    loud.close();
    const text = logText(loud);
    expect(records(text)).toEqual([expect.objectContaining({ level: 'Debug', component: 'sip', message: 'sent to 127.0.0.1:5060' })]);
    // The message follows on tab-indented lines.
    expect(text.split('\n').slice(1, 4)).toEqual(['\tREGISTER sip:127.0.0.1 SIP/2.0', '\tCSeq: 1 REGISTER', '\tContent-Length: 0']);
  });

  it('sip.js log messages become records of sip.<category> at the mapped levels', () => {
    const logger = loggerFor(dir, { 'system.diagnostics.log_level': '3' });
    logger.logConnector('error', 'sip.Registerer', undefined, 'failed');
    logger.logConnector('warn', 'sipjs.digestauthentication', undefined, 'odd challenge');
    logger.logConnector('log', 'sip.UserAgent', 'ua1', 'started');
    logger.logConnector('debug', 'sip.transaction.nict', undefined, 'Timer F');
    logger.close();
    expect(records(logText(logger)).map((r) => `${r.level} ${r.component}: ${r.message}`)).toEqual([
      'Error sip.Registerer: failed',
      'Warning sip.digestauthentication: odd challenge',
      'Info sip.UserAgent: ua1 | started',
    ]);
  });

  it('parseLogOptionsProvider reports malformed entries and clamps levels instead of throwing', () => {
    const parsed = parseLogOptionsProvider('gsip=9, webrtc=(error,loud), nonsense, media=info');
    expect(parsed.components.get('sip')).toEqual({ kind: 'level', level: 4 });
    expect(parsed.components.get('media')).toEqual({ kind: 'level', level: 3 });
    expect(parsed.problems).toHaveLength(3);
  });
});

describe('segments and expiry', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('log_segment 1 (KB): a new segment begins before one would pass 1024 bytes; nothing is lost, order is kept', () => {
    const logger = loggerFor(dir, { 'system.diagnostics.log_segment': '1', 'system.diagnostics.log_expire': 'false' });
    const messages = Array.from({ length: 60 }, (_, i) => `record ${String(i).padStart(3, '0')} ${'x'.repeat(60)}`);
    for (const message of messages) logger.log(3, 'endpoint', message);
    logger.close();
    const files = logger.segments();
    // ~5.4 KB of records: at least 5 segments, each full up to at most 1024 bytes.
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const file of files) {
      expect(basename(file)).toMatch(/^SipEndpoint\.\d{8}_\d{6}_\d{3}(_\d+)?\.log$/);
      const size = statSync(file).size;
      expect(size).toBeGreaterThan(0);
      expect(size).toBeLessThanOrEqual(1024);
    }
    for (const file of files.slice(0, -1)) expect(statSync(file).size).toBeGreaterThan(1024 - 100);
    expect(records(logText(logger)).map((r) => r.message)).toEqual(messages);
  });

  it('log_segment false keeps one file whatever its size', () => {
    const logger = loggerFor(dir, { 'system.diagnostics.log_segment': 'false' });
    for (let i = 0; i < 200; i++) logger.log(3, 'endpoint', 'y'.repeat(100));
    logger.close();
    expect(logger.segments()).toHaveLength(1);
    expect(statSync(logger.segments()[0]!).size).toBeGreaterThan(20_000);
  });

  it('log_segment 1 hr: a new segment once the current one has been open an hour', () => {
    let now = Date.UTC(2024, 0, 31, 10, 0, 0, 0);
    const logger = loggerFor(dir, { 'system.diagnostics.log_segment': '1 hr', 'system.diagnostics.log_time_convert': 'utc' }, { now: () => now });
    logger.log(3, 'endpoint', 'first');
    now += 59 * 60_000;
    logger.log(3, 'endpoint', 'same hour');
    now += 60_000;
    logger.log(3, 'endpoint', 'next hour');
    logger.close();
    expect(logger.segments().map((file) => basename(file))).toEqual(['SipEndpoint.20240131_100000_000.log', 'SipEndpoint.20240131_110000_000.log']);
    expect(records(readFileSync(logger.segments()[0]!, 'utf8')).map((r) => r.message)).toEqual(['first', 'same hour']);
  });

  it('log_expire 3: the newest 3 segments stay (the current one among them); other files are never touched', () => {
    writeFileSync(join(dir, 'SipEndpoint.log'), 'not a segment\n');
    writeFileSync(join(dir, 'Other.20200101_000000_000.log'), 'another log\n');
    const logger = loggerFor(dir, { 'system.diagnostics.log_segment': '1', 'system.diagnostics.log_expire': '3' });
    const messages = Array.from({ length: 80 }, (_, i) => `record ${String(i).padStart(3, '0')} ${'z'.repeat(60)}`);
    for (const message of messages) logger.log(3, 'endpoint', message);
    const kept = logger.segments();
    expect(kept).toHaveLength(3);
    expect(kept.at(-1)).toBe(logger.file);
    logger.close();
    // The newest records survive, up to the last one.
    const survived = records(logText(logger)).map((r) => r.message);
    expect(survived.at(-1)).toBe(messages.at(-1));
    expect(messages.slice(-survived.length)).toEqual(survived);
    expect(survived.length).toBeLessThan(messages.length);
    expect(readdirSync(dir).sort()).toEqual(['Other.20200101_000000_000.log', 'SipEndpoint.log', ...kept.map((file) => basename(file))].sort());
  });

  it('log_expire 2 day: segments last written more than 2 days ago are deleted when logging starts', () => {
    const day = 24 * 3600;
    const old = join(dir, 'SipEndpoint.20240101_000000_000.log');
    const recent = join(dir, 'SipEndpoint.20240102_000000_000.log');
    writeFileSync(old, 'old\n');
    writeFileSync(recent, 'recent\n');
    const seconds = Date.now() / 1000;
    utimesSync(old, seconds - 3 * day, seconds - 3 * day);
    utimesSync(recent, seconds - 1 * day, seconds - 1 * day);
    const logger = loggerFor(dir, { 'system.diagnostics.log_expire': '2 day' });
    logger.log(3, 'endpoint', 'started');
    logger.close();
    expect(existsSync(old)).toBe(false);
    expect(existsSync(recent)).toBe(true);
    expect(logger.segments()).toEqual([recent, logger.file]);
  });
});

describe('time format', () => {
  const at = Date.UTC(2024, 0, 31, 10, 15, 0, 123);

  it('time, ISO8601 and locale in UTC', () => {
    expect(formatLogTime(at, 'time', 'utc')).toBe('10:15:00.123');
    expect(formatLogTime(at, 'ISO8601', 'utc')).toBe('2024-01-31T10:15:00.123Z');
    expect(formatLogTime(at, 'locale', 'utc', 'en-US')).toMatch(/^1\/31\/2024, 10:15:00\sAM$/u);
    expect(formatLogTime(at, 'locale', 'utc', 'de-DE')).toBe('31.1.2024, 10:15:00');
  });

  it('local time follows the host time zone (TZ=Asia/Kolkata, UTC+05:30)', () => {
    // Jest gives tests a copy of process.env, so the time zone is set for a child Node process,
    // which runs log-time.ts compiled by swc.
    const source = transformFileSync(join(__dirname, '../../src/logging/log-time.ts'), { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }).code;
    const script = `const m = { exports: {} }; new Function('module', 'exports', ${JSON.stringify(source)})(m, m.exports);
      const at = ${at};
      process.stdout.write(JSON.stringify([m.exports.formatLogTime(at, 'time', 'local'), m.exports.formatLogTime(at, 'ISO8601', 'local'), m.exports.formatLogTime(at, 'time', 'utc'), m.exports.segmentStamp(at, 'local')]));`;
    const child = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, TZ: 'Asia/Kolkata' }, encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual(['15:45:00.123', '2024-01-31T15:45:00.123', '10:15:00.123', '20240131_154500_123']);
  });

  it('log_time_format ISO8601 with log_time_convert utc stamps the lines and names the segment', () => {
    const dir = tempDir();
    try {
      const logger = loggerFor(dir, { 'system.diagnostics.log_time_format': 'ISO8601', 'system.diagnostics.log_time_convert': 'utc' }, { now: () => at });
      logger.log(2, 'endpoint', 'stamped');
      logger.close();
      expect(readFileSync(logger.file!, 'utf8')).toBe('2024-01-31T10:15:00.123Z Warning endpoint: stamped\n');
      expect(basename(logger.file!)).toBe('SipEndpoint.20240131_101500_123.log');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('redaction', () => {
  it('removes Authorization and Proxy-Authorization values, digest responses, tokens, passwords and SRTP keys, and keeps the rest', () => {
    const message = [
      'REGISTER sip:example.com SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc',
      'Authorization: Digest username="5320", realm="example.com", nonce="abc", uri="sip:example.com",',
      '  response="0123456789abcdef0123456789abcdef", algorithm=MD5',
      'Proxy-Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig',
      'X-Token: tok-42-secretish',
      'Contact: <sip:5320:hunter2@127.0.0.1:5060>',
      '',
      'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4',
    ].join('\r\n');
    const redacted = new Redactor(['Pa$$w0rd!']).redact(message);
    for (const secret of ['0123456789abcdef0123456789abcdef', 'eyJhbGciOiJIUzI1NiJ9', 'tok-42-secretish', 'hunter2', 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz', 'nonce="abc"']) {
      expect(redacted).not.toContain(secret);
    }
    expect(redacted).toContain('Authorization: <redacted>\r\nProxy-Authorization: <redacted>\r\n');
    expect(redacted).toContain('Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc');
    expect(redacted).toContain('Contact: <sip:5320:<redacted>@127.0.0.1:5060>');
    expect(redacted).toContain('inline:<redacted>|2^20|1:4');

    const other = new Redactor(['Pa$$w0rd!']).redact('login with password=abc123&user=x, token: t0k3n, {"password":"p1","access_token":"a2"}, Bearer b3, response=r4; then Pa$$w0rd! again');
    for (const secret of ['abc123', 't0k3n', '"p1"', '"a2"', 'b3', 'r4', 'Pa$$w0rd!']) expect(other).not.toContain(secret);
    expect(other).toContain('user=x');
  });

  it('a configured password never reaches the host logger, whatever the message', () => {
    const seen: string[] = [];
    const config = EndpointConfig.defaults().with({ 'proxies.proxy0.password': 'correct horse', 'system.diagnostics.log_level': '4' });
    const logger = DiagnosticsLogger.fromConfig(config, { sink: (_level, message) => seen.push(message) });
    logger.log(3, 'endpoint', 'the password is correct horse');
    expect(seen).toEqual(['the password is <redacted>']);
  });
});

/** A transparent UDP relay that keeps a copy of every datagram: what really went over the wire. */
class TapRelay {
  readonly socket: Socket;
  readonly seen: string[] = [];
  #a: { address: string; port: number } | undefined;

  private constructor(socket: Socket, b: { address: string; port: number }) {
    this.socket = socket;
    socket.on('message', (data, remote) => {
      this.seen.push(data.toString());
      const fromB = remote.address === b.address && remote.port === b.port;
      if (!fromB) this.#a = { address: remote.address, port: remote.port };
      const to = fromB ? this.#a : b;
      if (to) socket.send(data, to.port, to.address);
    });
  }

  /** Opens a relay to `b` on 127.0.0.1:`port`. */
  static async open(port: number, b: { address: string; port: number }): Promise<TapRelay> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
    return new TapRelay(socket, b);
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): void {
    this.socket.close();
  }
}

const describeKamailio = kamailioAvailable() ? describe : describe.skip;

describeKamailio('the Endpoint registering with Kamailio logs the digest exchange without its secrets', () => {
  let kamailio: Kamailio;
  let relay: TapRelay;
  let dir: string;
  beforeAll(async () => {
    kamailio = await Kamailio.start(testPorts(1));
    relay = await TapRelay.open(testPorts(1), { address: '127.0.0.1', port: kamailio.port });
    dir = tempDir();
  });
  afterAll(async () => {
    relay.close();
    await kamailio.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the log holds the REGISTER, the 401 and the 200, never the password nor the digest response', async () => {
    const config = endpointConfig('5340', dir, {
      'server:0': `127.0.0.1:${relay.port}`,
      'proxies.proxy0.reg_timeout': '60',
      'proxies.proxy0.password': 'secret',
      'system.diagnostics.log_level': '4',
      'system.diagnostics.log_options_provider': 'gsip=4',
    });
    const endpoint = new Endpoint({ config, devices: new VirtualAudioProvider() });
    await endpoint.start();
    try {
      await waitFor(() => endpoint.lines[0]?.state === 'READY', 8000);
    } finally {
      await endpoint.stop();
    }
    // What went over the wire: a challenged REGISTER, then one with the digest response.
    const authorized = relay.seen.find((text) => text.startsWith('REGISTER ') && /^Authorization:/m.test(text));
    const digest = /response="?([0-9a-f]+)"?/i.exec(authorized ?? '')?.[1];
    expect(digest).toMatch(/^[0-9a-f]{32}$/);

    const text = readFileSync(endpoint.logger.segments().at(-1)!, 'utf8');
    expect(endpoint.logger.segments()).toHaveLength(1);
    expect(text).toMatch(/^\tREGISTER sip:127\.0\.0\.1 SIP\/2\.0$/m);
    expect(text).toMatch(/^\tSIP\/2\.0 401 /m);
    expect(text).toMatch(/^\tSIP\/2\.0 200 /m);
    expect(text).toMatch(/^\tAuthorization: <redacted>$/m);
    expect(text).toMatch(/Info endpoint: line 0: TRYING -> READY/);
    expect(text).not.toContain('secret');
    expect(text).not.toContain(digest!);
    // The file holds nothing but records and their continuation lines.
    expect(records(text).length).toBeGreaterThan(4);
  });
});

describe('the Endpoint and its log', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('enable_logging 0 writes nothing, even with logger_type file', async () => {
    const { endpoint } = standaloneEndpoint('5350', testPorts(7), testPorts(50), 0, {
      'system.diagnostics.enable_logging': '0',
      'system.diagnostics.logger_type': 'file',
      'system.diagnostics.log_file': join(dir, 'SipEndpoint.log'),
    });
    await endpoint.start();
    await endpoint.stop();
    expect(endpoint.logger.active).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('enable_logging 1: start and stop are logged to the file, which stop() closes', async () => {
    const { endpoint } = standaloneEndpoint('5351', testPorts(7), testPorts(50), 0, {
      'system.diagnostics.enable_logging': '1',
      'system.diagnostics.logger_type': 'file',
      'system.diagnostics.log_file': join(dir, 'SipEndpoint.log'),
      'system.diagnostics.log_level': '3',
    });
    await endpoint.start();
    await endpoint.stop();
    await endpoint.stop();
    const file = endpoint.logger.file!;
    const messages = records(readFileSync(file, 'utf8')).map((r) => `${r.level} ${r.component}: ${r.message}`);
    expect(messages).toEqual(expect.arrayContaining(['Info endpoint: starting on 127.0.0.1 with 1 line(s)', 'Info endpoint: line 0: NONE -> STANDALONE', 'Info endpoint: endpoint stopped']));
    expect(messages.at(-1)).toBe('Info endpoint: endpoint stopped');
    expect(endpoint.logger.active).toBe(false);
  });

  it('EndpointOptions.logger overrides the file: it gets the records with their component, and no file is written', async () => {
    const seen: { level: number; message: string; component: string | undefined }[] = [];
    const config = endpointConfig('5352', dir);
    const endpoint = new Endpoint({ config, devices: new VirtualAudioProvider(), logger: (level, message, component) => seen.push({ level, message, component }) });
    await endpoint.start();
    await endpoint.stop();
    expect(seen).toEqual(expect.arrayContaining([{ level: 3, message: 'line 0: NONE -> STANDALONE', component: 'endpoint' }]));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an unwritable log_file does not stop the endpoint: a warning, then the log goes on in the temporary directory', async () => {
    const blocker = join(dir, 'not-a-directory');
    writeFileSync(blocker, '');
    const name = `sep-logging-fallback-${process.pid}.log`;
    // Jest's sandbox does not see the process's 'warning' events: watch the call instead.
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { endpoint } = standaloneEndpoint('5353', testPorts(7), testPorts(50), 0, {
      'system.diagnostics.enable_logging': '1',
      'system.diagnostics.logger_type': 'file',
      'system.diagnostics.log_file': join(blocker, name),
    });
    try {
      await endpoint.start();
      expect(endpoint.lines[0]!.state).toBe('STANDALONE');
      await endpoint.stop();
      expect(emitWarning).toHaveBeenCalledTimes(1);
      expect(emitWarning).toHaveBeenCalledWith(expect.stringContaining('not-a-directory'), { type: 'LogFileError', code: 'ERR_SIP_LOG_FILE' });
      const fallback = endpoint.logger.file!;
      expect(fallback.startsWith(tmpdir())).toBe(true);
      const messages = records(readFileSync(fallback, 'utf8')).map((r) => `${r.level} ${r.component}: ${r.message}`);
      expect(messages[0]).toMatch(/^Warning logging: log file .*not-a-directory.* could not be created: .*(ENOTDIR|EEXIST).*; the log goes on here$/);
      expect(messages).toContain('Info endpoint: endpoint stopped');
    } finally {
      emitWarning.mockRestore();
      for (const file of readdirSync(tmpdir()).filter((f) => f.startsWith(name.replace(/\.log$/, '.')))) rmSync(join(tmpdir(), file), { force: true });
    }
  });

  it('when neither the log file nor the fallback can be written, logging stops with two warnings and nothing throws', () => {
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, '');
    const warnings: LogFileError[] = [];
    const logger = loggerFor(dir, { 'system.diagnostics.log_file': join(blocker, 'a.log') }, { fallbackDir: join(blocker, 'b'), onWarning: (w) => warnings.push(w) });
    expect(() => logger.log(1, 'endpoint', 'nowhere to go')).not.toThrow();
    expect(() => logger.log(1, 'endpoint', 'still nowhere')).not.toThrow();
    expect(warnings.map((w) => w.code)).toEqual(['ERR_SIP_LOG_FILE', 'ERR_SIP_LOG_FILE']);
    expect(logger.file).toBeUndefined();
    logger.close();
  });

  it('LogFile creates missing directories for a relative log_file under baseDir', () => {
    const file = new LogFile({ file: 'logs/deep/App.log', baseDir: dir });
    file.write(3, 'endpoint', 'hello');
    file.close();
    expect(file.path!.startsWith(join(dir, 'logs', 'deep', 'App.'))).toBe(true);
    expect(readFileSync(file.path!, 'utf8')).toMatch(/ Info endpoint: hello\n$/);
  });
});
