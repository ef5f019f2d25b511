/**
 * Fuzzing of the inputs that are not SIP messages: `Softphone.config` XML, SDP offers and answers,
 * and the Connector API's HTTP requests. Runs inside a network namespace with loopback only (a
 * fuzzed `POST /session` may name any SIP server, and `POST /register` would reach it).
 *
 * The oracles: `parseConfig` throws nothing but `ConfigError`, and what it reads serialises and
 * reads back the same; the SDP functions throw nothing but `SdpError`, and every answer we write
 * parses; the Connector API answers every request with a status under 500 (a 5xx is an error of
 * ours that escaped), keeps answering, and writes no file a request named.
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError, EndpointConfig, parseConfig, serializeConfig, SETTINGS } from '@sip-endpoint/config';
import { answerOffer, answerProblem, applyAnswer, codecs, offerFormats, parseSdp, SdpError, SdpOrigin } from '@sip-endpoint/media';
import { Softphone } from '@sip-endpoint/softphone';
import { mutateText, sdpBody, textMutations } from './mutations';
import { sdpOffer } from './sip-corpus';
import { runAsScript } from './namespace';

export interface InputFuzzOptions {
  seed: number;
  config: number;
  sdp: number;
  connector: number;
  /** The Connector API's port. @defaultValue 25500 */
  port?: number;
}

export interface Finding {
  input: string;
  error: string;
}

export interface InputFuzzReport {
  seed: number;
  config: { inputs: number; parsed: number; refused: number; findings: Finding[] };
  sdp: { inputs: number; parsed: number; answered: number; refused: number; findings: Finding[] };
  connector: { requests: number; byStatus: Record<string, number>; findings: Finding[]; aliveAfter: boolean; filesWritten: string[]; fdsBefore: number; fdsAfter: number };
  durationMs: number;
}

const keep = (findings: Finding[], input: string, error: unknown): void => {
  if (findings.length < 20) findings.push({ input: input.slice(0, 4000), error: error instanceof Error ? `${error.name}: ${error.message}\n${(error.stack ?? '').split('\n').slice(1, 6).join('\n')}` : String(error) });
};

// ---------- Softphone.config ----------

const DEFAULT_XML = serializeConfig(EndpointConfig.defaults());
const settingKeys = SETTINGS.map((setting) => setting.key);
/** Values of every kind a setting may be given. */
const settingValue = fc.oneof(
  fc.constantFrom('', '0', '1', '-1', '65535', '65536', '99999999999999999999', 'yes', 'true', '1e3', ' 5', 'udp', 'TLS', 'pcmu,pcma', 'opus/48000/2', '127.0.0.1', '[::1]:5060', '$net:10.0.0.0/8', '$auto', '/etc/passwd', '../../x', 'C:\\x', '%TEMP%\\x', '*', '.*', '(', '\u0000', '&lt;', 'a'.repeat(5000)),
  fc.string({ unit: 'binary-ascii', maxLength: 30 }),
);

function configCases(seed: number, count: number): string[] {
  const arbitrary = fc.oneof(
    // The defaults' XML with a setting set through the API, then mutated as text.
    fc.tuple(fc.constantFrom(...settingKeys), fc.constantFrom('0', '1', '5', 'pcmu', 'opus'), settingValue, textMutations, fc.boolean()).map(([key, part, value, mutations, mutate]) => {
      const concrete = key.replace('<n>', String(Number(part) % 7 || 0)).replace('<codec>', /\d/.test(part) ? 'pcmu' : part);
      let xml = DEFAULT_XML;
      try {
        xml = serializeConfig(EndpointConfig.defaults().with({ [concrete]: value } as never));
      } catch {
        // A value the API refuses: put it into the XML by hand instead.
        xml = DEFAULT_XML.replace(/(<setting name\s*=\s*"[^"]*"\s+value=")[^"]*(")/, `$1${value.replace(/"/g, '&quot;')}$2`);
      }
      return mutate ? mutateText(xml, mutations) : xml;
    }),
    // A Connectivity line of random attributes.
    fc.tuple(fc.dictionary(fc.constantFrom('user', 'server', 'protocol', 'transport', 'x', ''), settingValue, { maxKeys: 4 }), textMutations, fc.boolean()).map(([attributes, mutations, mutate]) => {
      const line = `<Connectivity ${Object.entries(attributes)
        .map(([name, value]) => `${name}="${value.replace(/[<&"]/g, (c) => ({ '<': '&lt;', '&': '&amp;', '"': '&quot;' })[c]!)}"`)
        .join(' ')}/>`;
      const xml = DEFAULT_XML.replace(/<Container name="Basic">[^]*?<\/Container>|<Container name="Basic"\/>/, `<Container name="Basic">${line}</Container>`);
      return mutate ? mutateText(xml, mutations) : xml;
    }),
    // Any text.
    fc.string({ unit: 'binary', maxLength: 300 }),
  );
  return fc.sample(arbitrary, { seed, numRuns: count });
}

function fuzzConfig(seed: number, count: number): InputFuzzReport['config'] {
  const report = { inputs: 0, parsed: 0, refused: 0, findings: [] as Finding[] };
  for (const xml of configCases(seed, count)) {
    report.inputs++;
    let config: EndpointConfig;
    try {
      config = parseConfig(xml);
    } catch (error) {
      if (error instanceof ConfigError) report.refused++;
      else keep(report.findings, xml, error);
      continue;
    }
    report.parsed++;
    try {
      const again = serializeConfig(config);
      if (serializeConfig(parseConfig(again)) !== again) keep(report.findings, xml, new Error('what parseConfig read does not serialise and read back the same'));
    } catch (error) {
      keep(report.findings, xml, error);
    }
  }
  return report;
}

// ---------- SDP ----------

const WEBRTC_OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=msid-semantic: WMS',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 103 9 0 8 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=ice-options:trickle',
  `a=fingerprint:sha-256 ${Array.from({ length: 32 }, () => '4F').join(':')}`,
  'a=setup:actpass',
  'a=mid:0',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:103 ISAC/16000',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:1001 cname:x',
  '',
].join('\r\n');
const SDES_OFFER = sdpOffer().replace('RTP/AVP', 'RTP/SAVP').replace('a=sendrecv', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4\r\na=sendrecv');

function sdpCases(seed: number, count: number): string[] {
  return fc.sample(
    fc.oneof(
      sdpBody,
      fc.tuple(fc.constantFrom(sdpOffer(), WEBRTC_OFFER, SDES_OFFER), textMutations).map(([offer, mutations]) => mutateText(offer, mutations)),
      fc.tuple(sdpBody, textMutations).map(([offer, mutations]) => mutateText(offer, mutations)),
    ),
    { seed, numRuns: count },
  );
}

const OUR_FORMATS = offerFormats(EndpointConfig.defaults().codecs, codecs, true).formats;
const CODECS = EndpointConfig.defaults().with({ 'policy.codecs.priority': 'opus,g722,pcmu,pcma,telephone-event' } as never).codecs;

function fuzzSdp(seed: number, count: number): InputFuzzReport['sdp'] {
  const report = { inputs: 0, parsed: 0, answered: 0, refused: 0, findings: [] as Finding[] };
  const srtpModes = ['disabled', 'optional', 'elective', 'enabled', 'mandatory'] as const;
  for (const [i, text] of sdpCases(seed, count).entries()) {
    report.inputs++;
    try {
      const offer = parseSdp(text);
      report.parsed++;
      const srtp = EndpointConfig.defaults().with({ 'system.security.use_srtp': srtpModes[i % srtpModes.length]! }).get('system.security.use_srtp');
      const options = { origin: new SdpOrigin('1'), address: '127.0.0.1', port: 40000, codecs: CODECS, srtp, ...(i % 2 === 0 ? { answerPriority: 'remote' as const } : {}) };
      const problem = answerProblem(offer, options);
      const answer = answerOffer(offer, options);
      if ((problem === undefined) !== (answer.negotiated !== undefined)) keep(report.findings, text, new Error(`answerProblem (${problem ?? 'none'}) and answerOffer (${answer.reason ?? 'answered'}) disagree`));
      // Our answer must parse.
      parseSdp(answer.sdp);
      if (answer.negotiated) report.answered++;
      else report.refused++;
      // The fuzzed text read as the answer to an offer of ours.
      try {
        applyAnswer(offer, OUR_FORMATS, { srtp });
      } catch (error) {
        if (!(error instanceof SdpError)) throw error;
      }
    } catch (error) {
      if (error instanceof SdpError) {
        report.refused++;
        continue;
      }
      keep(report.findings, text, error);
    }
  }
  return report;
}

// ---------- the Connector API ----------

interface HttpCase {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
  withCookie: boolean;
}

function connectorCases(seed: number, count: number, port: number, marker: string): HttpCase[] {
  const goodBody = { options: { sipendpoint: { 'policy.connector.auto_restart': '1' }, softphone: { session_expire: 60 } }, connectivities: { protocol: 'udp', connections: [{ server: '127.0.0.1:5999', user: '5320' }] } };
  const jsonValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(`${marker}/log.txt`, `${marker}/x/y.wav`, '../../../etc/x', 'file:///tmp/x', 1e308, -1, '__proto__', { __proto__: { polluted: 1 } }, { constructor: { prototype: { polluted: 1 } } }));
  const body = fc.oneof(
    fc.constant(JSON.stringify(goodBody)),
    // The good body with one value replaced, at any depth.
    fc.tuple(fc.constantFrom('options', 'options.sipendpoint', 'options.softphone', 'connectivities', 'connectivities.connections', 'connectivities.connections.0', ''), fc.oneof(fc.constantFrom(...SETTINGS.map((s) => s.key.replace('<n>', '0').replace('<codec>', 'pcmu')), 'session_expire', 'protocol', 'server', 'user', 'password', '__proto__', 'constructor'), fc.string({ maxLength: 10 })), jsonValue).map(([path, key, value]) => {
      const copy = JSON.parse(JSON.stringify(goodBody)) as Record<string, unknown>;
      let node: Record<string, unknown> = copy;
      for (const part of path.split('.').filter(Boolean)) node = (node[part] ?? {}) as Record<string, unknown>;
      node[key] = value;
      return JSON.stringify(copy);
    }),
    fc.tuple(fc.constant(JSON.stringify(goodBody)), textMutations).map(([text, mutations]) => mutateText(text, mutations)),
    fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.constant(`${'['.repeat(5000)}${']'.repeat(5000)}`),
  );
  const origin = fc.constantFrom('http://bsgwsfanch:8080', 'http://bsgwsfanch:8080', 'http://bsgwsfanch:8080', 'http://127.0.0.1', 'null', 'http://evil.example', '', 'x', 'http://[::1]', `http://localhost:${port}`);
  const host = fc.constantFrom(`127.0.0.1:${port}`, `127.0.0.1:${port}`, `127.0.0.1:${port}`, `localhost:${port}`, 'evil.example', '', '127.0.0.1:1', `[::1]:${port}`);
  const contentType = fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', '', 'application/json; charset=latin1', 'multipart/form-data; boundary=x');
  const path = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('/session', '/session', '/register', '/audio', '/calls') }, fc.constantFrom('/session', '/register', '/audio', '/calls', '/', '/session/', '/SESSION', '/session?x=1', '/session%00', '/../session', '/register/../session'), fc.string({ maxLength: 20 }).map((text) => `/${encodeURIComponent(text)}`));
  return fc.sample(
    fc.record({
      method: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('GET', 'POST', 'POST', 'DELETE') }, fc.constantFrom('PUT', 'PATCH', 'OPTIONS', 'HEAD')),
      path,
      origin,
      host,
      contentType,
      authorization: fc.option(fc.constantFrom('Bearer abc.def.ghi', 'Bearer ', 'Basic eDp5', 'Bearer ' + 'a'.repeat(10000), 'Bearer \u00ff')),
      cookie: fc.oneof({ weight: 4, arbitrary: fc.constant('good') }, fc.constantFrom('SEPSESSIONID=00000000-0000-0000-0000-000000000000', 'SEPSESSIONID=', 'SEPSESSIONID=x; SEPSESSIONID=y', '', '=;=;')),
      csrf: fc.boolean(),
      body: fc.option(body, { freq: 4 }),
    }),
    { seed, numRuns: count },
  ).map((c) => ({
    method: c.method,
    path: `/softphone/v2${c.path}`,
    headers: {
      ...(c.origin ? { Origin: c.origin } : {}),
      Host: c.host,
      ...(c.contentType && c.body !== null ? { 'Content-Type': c.contentType } : {}),
      ...(c.authorization !== null ? { Authorization: c.authorization } : {}),
      ...(c.cookie !== 'good' && c.cookie !== '' ? { Cookie: c.cookie } : {}),
      ...(c.csrf ? { 'X-CSRF-TOKEN': 'd3c1f001-8f8b-4ab7-b016-5312d24b5f79' } : {}),
    },
    body: c.body ?? undefined,
    withCookie: c.cookie === 'good',
  }));
}

function send(port: number, c: { method: string; path: string; headers: Record<string, string>; body: string | undefined }): Promise<{ status: number; cookie: string | undefined }> {
  return new Promise((resolve) => {
    const request = httpRequest({ host: '127.0.0.1', port, method: c.method, path: c.path, headers: { ...c.headers, ...(c.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(c.body)) } : {}) }, agent: false, timeout: 10000 }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, cookie: /SEPSESSIONID=([^;]+)/.exec(String(response.headers['set-cookie'] ?? ''))?.[1] }));
      response.on('error', () => resolve({ status: -1, cookie: undefined }));
    });
    // A request the client library refuses to send (a header it finds invalid) counts as refused.
    request.on('error', (error) => resolve({ status: /ERR_INVALID|Invalid/i.test(String(error)) ? -2 : -1, cookie: undefined }));
    request.on('timeout', () => request.destroy(new Error('timeout')));
    if (c.body !== undefined) request.write(c.body);
    request.end();
  });
}

async function fuzzConnector(seed: number, count: number, port: number): Promise<InputFuzzReport['connector']> {
  const dir = mkdtempSync(join(tmpdir(), 'sep-connector-fuzz-'));
  const marker = join(dir, 'chosen-by-a-request');
  const config = EndpointConfig.defaults().with({
    'policy.connector.port': String(port),
    'policy.endpoint.public_address': '127.0.0.1',
    'policy.endpoint.sip_port_min': String(port + 10),
    'policy.endpoint.sip_port_max': String(port + 16),
    'policy.endpoint.rtp_port_min': String(port + 20),
    'policy.endpoint.rtp_port_max': String(port + 69),
    'system.media.ringing_file': '',
    'system.diagnostics.log_file': join(dir, 'softphone.log'),
  });
  const softphone = new Softphone({ config });
  await softphone.start();
  const fds = (): number => readdirSync('/proc/self/fd').length;
  const report = { requests: 0, byStatus: {} as Record<string, number>, findings: [] as Finding[], aliveAfter: false, filesWritten: [] as string[], fdsBefore: fds(), fdsAfter: 0 };
  const base = { Origin: 'http://bsgwsfanch:8080', Host: `127.0.0.1:${port}` };
  let cookie = (await send(port, { method: 'GET', path: '/softphone/v2/session', headers: base, body: undefined })).cookie;
  for (const c of connectorCases(seed, count, port, marker)) {
    if (c.withCookie && cookie) c.headers['Cookie'] = `SEPSESSIONID=${cookie}`;
    const { status, cookie: fresh } = await send(port, c);
    if (fresh) cookie = fresh;
    report.requests++;
    const key = status === -1 ? 'no answer' : status === -2 ? 'not sent (invalid for the HTTP client)' : String(status);
    report.byStatus[key] = (report.byStatus[key] ?? 0) + 1;
    if (status >= 500 || status === -1) keep(report.findings, `${c.method} ${c.path}\n${JSON.stringify(c.headers)}\n\n${c.body ?? ''}`, new Error(`status ${status}`));
  }
  const alive = await send(port, { method: 'GET', path: '/softphone/v2/session', headers: base, body: undefined });
  report.aliveAfter = alive.status === 200 || alive.status === 403;
  await softphone.stop();
  report.fdsAfter = fds();
  if (existsSync(marker)) report.filesWritten.push(marker);
  return report;
}

/** Runs the three fuzzers; the caller is inside a namespace (see the module's comment). */
export async function runInputFuzz(options: InputFuzzOptions): Promise<InputFuzzReport> {
  const started = Date.now();
  const config = fuzzConfig(options.seed, options.config);
  const sdp = fuzzSdp(options.seed, options.sdp);
  const connector = await fuzzConnector(options.seed, options.connector, options.port ?? 25500);
  return { seed: options.seed, config, sdp, connector, durationMs: Date.now() - started };
}

// Run as a script (inside the namespace): options as JSON in argv[2], the report on the last line.
if (require.main === module) runAsScript<InputFuzzOptions, unknown>(runInputFuzz);

/** For the docs: the fixture the config fuzz starts from is the defaults' own XML. */
export const CONFIG_SEED_DESCRIPTION = `the defaults' XML (${DEFAULT_XML.length} characters), ${settingKeys.length} settings`;

