/**
 * The SIP fuzz: the driver half. Runs inside a network namespace of its own that has only
 * loopback (see `namespace.ts`), so that nothing a mutated message names (a Via host, a Contact,
 * a Route) can make the endpoint send anything off the machine. Forks the endpoint under test
 * (`fuzz-target.ts`), places a real call to it from an `Endpoint` of its own, and sends mutated
 * corpus messages over UDP, TCP, TLS and WS in batches, each batch followed by an OPTIONS probe
 * that must be answered. At the end: the real call's audio checked, the target's descriptors and
 * memory compared with the baseline once the fuzzed calls are over.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { makeTestCertificates } from '@sip-endpoint/test-support';
import { SIP_CORPUS, type CorpusTarget } from './sip-corpus';
import { fuzzCases, render } from './mutations';
import type { TargetMessage, TargetSettings, TargetStats } from './fuzz-target';
import type { CallerMessage, CallerSettings } from './fuzz-caller';
import { runAsScript } from './namespace';

export type Transport = 'UDP' | 'TCP' | 'TLS' | 'WS';
/** A probe answered later than this after its batch marks the batch as slow. */
export const SLOW_PROBE_MS = 250;
const TRANSPORTS: readonly Transport[] = ['UDP', 'TCP', 'UDP', 'TLS', 'UDP', 'WS'];

export interface SipFuzzOptions {
  seed: number;
  /** Mutated inputs to send (the unmutated corpus is sent once per transport on top). */
  inputs: number;
  /** Inputs per batch (one OPTIONS probe after each). @defaultValue 100 */
  batch?: number;
  /** First SIP port of the target (the driver's own ports follow). @defaultValue 25000 */
  sipPort?: number;
  /** How long a probe may go unanswered before the target counts as hung. @defaultValue 10000 */
  probeTimeoutMs?: number;
}

export interface SipFuzzReport {
  seed: number;
  inputs: Record<Transport, number>;
  bytes: number;
  durationMs: number;
  /** Responses the fuzzed inputs got, by class (one per input at most). */
  responses: Record<string, number>;
  /** Inputs no receiver may accept that got a 2xx (at most 20 kept). */
  acceptedInvalid: Array<{ transport: Transport; status: number; text: string }>;
  /** The unmutated corpus, per entry: the status it got over each transport (0: none). */
  corpus: Array<{ name: string; kind: string; rfc4475: string | undefined; status: Record<Transport, number>; udp: string }>;
  probes: { sent: number; answered: number; slowestMs: number };
  /** The batches (by index: `fuzzCases(seed, batch, 100)` makes them again) after which the probe took over {@link SLOW_PROBE_MS}. */
  slowBatches: Array<{ batch: number; transport: Transport; probeMs: number; at: number }>;
  /** Uncaught exceptions and unhandled rejections of the target, and its exit if it died. */
  problems: string[];
  realCall: { stayedConnected: boolean; seconds: number; audioSeconds: number; silentWindows: number; longestSilence: number; longestSilenceAt: number | undefined; windows: number; received: number; lost: number };
  fuzzedCalls: { answered: number; rejected: number };
  before: TargetStats;
  after: TargetStats;
  /** TCP and TLS connections the fuzz opened, and how many of them the target closed (on a framing error). */
  streams: { connections: number; closedByTarget: number };
  /** Connections the target's WS line made to the driver's server (1 if none dropped), and how the dropped ones closed. */
  ws: { connections: number; closes: string[] };
  /** Lines of the target's log (level 4: every SIP message) that hold a secret: an SDES key or the line's password. */
  secretsInLog: number;
  logLines: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The SIP status line and the fuzz index (`fz<N>`, `cp<N>`) in its Call-ID, from a response's text. */
function responseOf(text: string): { status: number; line: string; id: string | undefined } | undefined {
  const status = /^SIP\/2\.0 (\d{3})[^\r\n]*/.exec(text);
  if (!status) return undefined;
  const callId = /^(?:call-id|i)\s*:\s*(\S*)/im.exec(text)?.[1] ?? '';
  return { status: Number(status[1]), line: status[0].slice(8, 90), id: /(fz\d+|cp\d+x\w+)/.exec(callId)?.[1] };
}

/** Splits a stream's text into messages at each status line (good enough to count responses). */
function responsesIn(text: string): string[] {
  return text.split(/(?=SIP\/2\.0 \d{3} )/).filter((part) => part.startsWith('SIP/2.0 '));
}

class Target {
  readonly child: ChildProcess;
  readonly problems: string[] = [];
  #waiters: Array<(message: TargetMessage) => void> = [];
  exitCode: number | null | undefined;

  constructor(settings: TargetSettings) {
    this.child = fork(join(__dirname, 'fuzz-target.ts'), [JSON.stringify(settings)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: TargetMessage) => {
      if (message.type === 'problem') this.problems.push(`${message.kind}: ${message.message}`);
      for (const waiter of this.#waiters.splice(0)) waiter(message);
    });
    this.child.on('exit', (code, signal) => {
      this.exitCode = code;
      this.problems.push(`the target exited (code ${code}, signal ${signal})`);
      for (const waiter of this.#waiters.splice(0)) waiter({ type: 'problem', kind: 'uncaughtException', message: 'exited' });
    });
  }

  next<T extends TargetMessage['type']>(type: T, timeoutMs = 20000): Promise<Extract<TargetMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the target sent no ${type} in ${timeoutMs} ms`)), timeoutMs);
      const wait = (message: TargetMessage): void => {
        if (message.type === type) {
          clearTimeout(timer);
          resolve(message as Extract<TargetMessage, { type: T }>);
        } else if (this.exitCode !== undefined) {
          clearTimeout(timer);
          reject(new Error(`the target exited before its ${type}: ${this.problems.join('; ')}`));
        } else this.#waiters.push(wait);
      };
      this.#waiters.push(wait);
    });
  }

  async stats(detail = false): Promise<TargetStats> {
    const reply = this.next('stats');
    this.child.send({ type: 'stats', detail });
    return (await reply).stats;
  }
}

/** A 200 OK to a REGISTER the target's WS line sends to our server. */
function registerOk(request: string): string {
  const lines = request.split('\r\n');
  const pick = (name: RegExp): string[] => lines.filter((line) => name.test(line));
  const to = pick(/^(to|t)\s*:/i)[0] ?? '';
  const contact = (pick(/^(contact|m)\s*:/i)[0] ?? '').replace(/^(contact|m)\s*:\s*/i, '');
  return ['SIP/2.0 200 OK', ...pick(/^(via|v)\s*:/i), ...pick(/^(from|f)\s*:/i), /;\s*tag=/i.test(to) ? to : `${to};tag=reg`, ...pick(/^(call-id|i)\s*:/i), ...pick(/^cseq\s*:/i), `Contact: ${contact};expires=3600`, 'Content-Length: 0', '', ''].join('\r\n');
}

/** A 401 with a digest challenge (qop auth) to a REGISTER. */
function registerChallenge(request: string, nonce: number): string {
  return registerOk(request)
    .replace('SIP/2.0 200 OK', 'SIP/2.0 401 Unauthorized')
    .replace(/^Contact: .*\r\n/m, `WWW-Authenticate: Digest realm="fuzz.invalid", nonce="n${nonce}x${Date.now().toString(16)}", qop="auth", algorithm=MD5\r\n`);
}

/** The WS line's password: it must never reach the target's log. */
export const FUZZ_PASSWORD = 'Fuzz-Pa55word-Never-Logged';

/** Runs the SIP fuzz (inside a namespace with loopback only: see the module's comment). */
export async function runSipFuzz(options: SipFuzzOptions): Promise<SipFuzzReport> {
  const started = Date.now();
  const batchSize = options.batch ?? 100;
  const sipPort = options.sipPort ?? 25000;
  const probeTimeoutMs = options.probeTimeoutMs ?? 10000;
  const dir = mkdtempSync(join(tmpdir(), 'sep-fuzz-'));
  const certificates = makeTestCertificates(['127.0.0.1']);

  // The WS line's server: answers its REGISTERs and is the channel the WS inputs go down.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: sipPort + 40, handleProtocols: () => 'sip' });
  let wsSocket: WebSocket | undefined;
  const wsText: string[] = [];
  let nonces = 0;
  let wsConnections = 0;
  const wsCloses: string[] = [];
  wss.on('connection', (socket) => {
    wsSocket = socket;
    wsConnections++;
    socket.on('close', (code, reason) => wsCloses.push(`${code} ${reason.toString()}`));
    socket.on('message', (data) => {
      const text = data.toString();
      // The first REGISTER of each registration is challenged, so that the line's password is used (and must not reach the log).
      if (/^REGISTER /.test(text)) socket.send(/^(authorization)\s*:/im.test(text) ? registerOk(text) : registerChallenge(text, ++nonces));
      else wsText.push(text);
    });
  });

  const logFile = join(dir, 'target.log');
  const target = new Target({ sipPort, rtpBase: sipPort + 1000, tlsBundle: certificates.serverBundle, wsServer: `127.0.0.1:${sipPort + 40}`, logFile, password: FUZZ_PASSWORD });
  const { ports } = await target.next('ready', 60000);
  const deadline = Date.now() + 15000;
  while (!(await target.stats()).lines.every((state) => state === 'READY' || state === 'STANDALONE')) {
    if (Date.now() > deadline) throw new Error(`the target's lines are not READY: ${(await target.stats()).lines.join(', ')}`);
    await sleep(200);
  }
  const before = await target.stats();

  // The real call, from a process of its own: an Endpoint calls the target's UDP line, a tone each way.
  const caller = fork(join(__dirname, 'fuzz-caller.ts'), [JSON.stringify({ target: `127.0.0.1:${ports.udp}`, sipPort: sipPort + 50, rtpBase: sipPort + 60 } satisfies CallerSettings)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const callerSays = <T extends CallerMessage['type']>(type: T, timeoutMs: number): Promise<Extract<CallerMessage, { type: T }>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the real call's process sent no ${type} in ${timeoutMs} ms`)), timeoutMs);
      const on = (message: CallerMessage): void => {
        if (message.type === 'failed') {
          clearTimeout(timer);
          reject(new Error(`the real call failed: ${message.message}`));
        } else if (message.type === type) {
          clearTimeout(timer);
          caller.off('message', on);
          resolve(message as Extract<CallerMessage, { type: T }>);
        }
      };
      caller.on('message', on);
    });
  await callerSays('connected', 30000);

  // The fuzz's sockets: UDP inputs and the probe.
  const udp = await bindUdp(sipPort + 30);
  const probe = await bindUdp(sipPort + 31);
  const responded = new Map<string, number>();
  const statusLines = new Map<string, string>();
  const responses: Record<string, number> = {};
  const acceptedInvalid: SipFuzzReport['acceptedInvalid'] = [];
  const invalidById = new Map<string, { transport: Transport; text: string }>();
  const countResponse = (text: string, transport: Transport): void => {
    const response = responseOf(text);
    if (!response?.id || responded.has(response.id)) return;
    // The first final response counts (a 100 Trying or 180 before it is skipped).
    if (response.status < 200) return;
    responded.set(response.id, response.status);
    if (response.id.startsWith('cp')) statusLines.set(response.id, response.line);
    const klass = `${Math.floor(response.status / 100)}xx`;
    responses[klass] = (responses[klass] ?? 0) + 1;
    const invalid = invalidById.get(response.id);
    if (invalid && response.status < 300 && acceptedInvalid.length < 20) acceptedInvalid.push({ transport, status: response.status, text: invalid.text });
  };
  udp.on('message', (data) => countResponse(data.toString('latin1'), 'UDP'));

  let probes = 0;
  let answeredProbes = 0;
  let slowestMs = 0;
  let lastProbeMs = 0;
  // Batches after which the probe waited long: the inputs that held the endpoint up are among them (seed and batch repeat them).
  const slowBatches: SipFuzzReport['slowBatches'] = [];
  const sendProbe = async (): Promise<void> => {
    const id = `probe${probes++}`;
    const text = [`OPTIONS sip:agent@127.0.0.1:${ports.udp} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${sipPort + 31};branch=z9hG4bK-${id};rport`, 'Max-Forwards: 70', `From: <sip:probe@127.0.0.1:${sipPort + 31}>;tag=${id}`, `To: <sip:agent@127.0.0.1:${ports.udp}>`, `Call-ID: ${id}@probe`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
    const sent = Date.now();
    const answered = new Promise<boolean>((resolve) => {
      const onMessage = (data: Buffer): void => {
        if (data.toString('latin1').includes(`Call-ID: ${id}@probe`) && /^SIP\/2\.0 200/.test(data.toString('latin1'))) {
          probe.off('message', onMessage);
          resolve(true);
        }
      };
      probe.on('message', onMessage);
      setTimeout(() => {
        probe.off('message', onMessage);
        resolve(false);
      }, probeTimeoutMs);
    });
    let done = false;
    void answered.then(() => (done = true));
    while (!done) {
      probe.send(text, ports.udp, '127.0.0.1');
      await Promise.race([answered, sleep(500)]);
    }
    if (!(await answered)) throw new Error(`the target did not answer an OPTIONS probe within ${probeTimeoutMs} ms (after ${probes} probes): ${target.problems.join('; ')}`);
    answeredProbes++;
    slowestMs = Math.max(slowestMs, Date.now() - sent);
    lastProbeMs = Date.now() - sent;
  };

  const inputs: Record<Transport, number> = { UDP: 0, TCP: 0, TLS: 0, WS: 0 };
  let bytes = 0;
  let connections = 0;
  let closedByTarget = 0;

  /** Sends `texts` (keyed by id) over `transport`; resolves after the probe that follows. */
  const sendBatch = async (transport: Transport, batch: Array<{ id: string; text: (at: CorpusTarget) => string }>): Promise<void> => {
    if (transport === 'UDP') {
      const at = { target: `127.0.0.1:${ports.udp}`, source: `127.0.0.1:${sipPort + 30}`, transport: 'UDP' };
      for (const item of batch) {
        const data = Buffer.from(item.text({ ...at, unique: item.id }), 'latin1');
        bytes += data.length;
        // A datagram over 65507 bytes cannot be sent: it is cut, as a network would not carry it whole either.
        udp.send(data.subarray(0, 65000), ports.udp, '127.0.0.1');
      }
    } else if (transport === 'TCP' || transport === 'TLS') {
      // A connection for each 25 inputs: a framing error closes a connection (RFC 3261 18.3), and
      // what was sent after it on that connection would never be read.
      for (let group = 0; group < batch.length; group += 25) {
        const port = transport === 'TLS' ? ports.tls : (group / 25) % 2 === 0 ? ports.tcp : ports.udp;
        const socket: Socket = await new Promise((resolve, reject) => {
          const s = transport === 'TLS' ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(s)) : netConnect({ host: '127.0.0.1', port }, () => resolve(s));
          s.once('error', reject);
        });
        let received = '';
        socket.on('data', (data: Buffer) => (received += data.toString('latin1')));
        socket.on('error', () => undefined);
        const at = { target: `127.0.0.1:${port}`, source: `127.0.0.1:${socket.localPort ?? 0}`, transport };
        for (const item of batch.slice(group, group + 25)) {
          const data = Buffer.from(item.text({ ...at, unique: item.id }), 'latin1');
          bytes += data.length;
          socket.write(data);
        }
        connections++;
        // Until the target closes it or goes quiet for 30 ms.
        await new Promise<void>((resolve) => {
          let finished = false;
          let quiet = setTimeout(done, 30);
          function done(): void {
            finished = true;
            socket.off('data', more);
            resolve();
          }
          function more(): void {
            clearTimeout(quiet);
            quiet = setTimeout(done, 30);
          }
          socket.on('data', more);
          socket.once('close', () => {
            if (finished) return;
            closedByTarget++;
            clearTimeout(quiet);
            done();
          });
        });
        for (const text of responsesIn(received)) countResponse(text, transport);
        socket.destroy();
      }
      inputs[transport] += batch.length;
      await sendProbe();
      return;
    } else {
      // The target reconnects when its connection drops (counted: a drop caused by an input is a finding).
      const openBy = Date.now() + 20000;
      while (!wsSocket || wsSocket.readyState !== wsSocket.OPEN) {
        if (Date.now() > openBy) throw new Error(`the target's WS line did not connect again to the driver's server within 20 s (connections: ${wsConnections}, closes: ${wsCloses.join(', ')}; log: ${readFileSync(logFile, 'latin1').split('\n').filter((l) => /ws|websocket|line 3/i.test(l)).slice(-8).join(' | ')})`);
        await sleep(50);
      }
      const socket = wsSocket;
      const at = { target: 'agent.invalid', source: `127.0.0.1:${sipPort + 40}`, transport: 'WS' };
      for (const item of batch) {
        const text = item.text({ ...at, unique: item.id });
        bytes += Buffer.byteLength(text, 'latin1');
        // RFC 7118: text frames (which must be UTF-8, else the WebSocket layer closes with 1007)
        // and binary frames, in turn.
        if (inputs.WS % 2 === 0) socket.send(Buffer.from(text, 'utf8'), { binary: false });
        else socket.send(Buffer.from(text, 'latin1'), { binary: true });
        inputs.WS++;
      }
    }
    if (transport !== 'WS') inputs[transport] += batch.length;
    await sendProbe();
    if (transport === 'WS') for (const text of wsText.splice(0)) countResponse(text, 'WS');
  };

  // The unmutated corpus, once over each transport.
  const corpusIds = SIP_CORPUS.map((_, i) => i);
  for (const transport of ['UDP', 'TCP', 'TLS', 'WS'] as const) {
    await sendBatch(
      transport,
      corpusIds.map((i) => ({ id: `cp${i}x${transport}`, text: (at) => SIP_CORPUS[i]!.text(at) })),
    );
    await sleep(100);
    if (transport === 'WS') for (const text of wsText.splice(0)) countResponse(text, 'WS');
  }
  const corpus = SIP_CORPUS.map((entry, i) => ({
    name: entry.name,
    kind: entry.kind,
    rfc4475: entry.rfc4475,
    status: Object.fromEntries((['UDP', 'TCP', 'TLS', 'WS'] as const).map((transport) => [transport, responded.get(`cp${i}x${transport}`) ?? 0])) as Record<Transport, number>,
    udp: statusLines.get(`cp${i}xUDP`) ?? '',
  }));
  for (const [i, entry] of SIP_CORPUS.entries()) {
    if (entry.kind !== 'invalid') continue;
    for (const transport of ['UDP', 'TCP', 'TLS', 'WS'] as const) {
      const status = responded.get(`cp${i}x${transport}`) ?? 0;
      if (status >= 200 && status < 300) acceptedInvalid.push({ transport, status, text: entry.text({ target: 'agent', source: 'fuzz', transport, unique: 'x' }) });
    }
  }
  for (const klass of Object.keys(responses)) delete responses[klass];

  // The mutated inputs.
  let sent = 0;
  for (let batch = 0; sent < options.inputs; batch++) {
    const count = Math.min(batchSize, options.inputs - sent);
    const transport = TRANSPORTS[batch % TRANSPORTS.length]!;
    const cases = fuzzCases(options.seed, batch, count);
    const items = cases.map((fuzz, i) => {
      const id = `fz${sent + i}`;
      return {
        id,
        text: (at: CorpusTarget): string => {
          const rendered = render(fuzz, at);
          if (rendered.invalid) invalidById.set(id, { transport, text: rendered.text });
          return rendered.text;
        },
      };
    });
    await sendBatch(transport, items);
    if (lastProbeMs > SLOW_PROBE_MS && slowBatches.length < 20) slowBatches.push({ batch, transport, probeMs: lastProbeMs, at: Date.now() });
    sent += count;
    if (target.exitCode !== undefined) break;
  }
  await sleep(500);
  const unanswered = sent - [...responded.keys()].filter((id) => id.startsWith('fz')).length;
  responses['none'] = unanswered;

  // The real call: still up, and its audio arrived all along.
  const realStats = (await target.stats()).realCall;
  const finished = callerSays('result', 30000);
  caller.send({ type: 'finish' });
  const realCall = { ...(await finished).result, received: realStats?.received ?? 0, lost: realStats?.lost ?? 0 };

  // Every fuzzed call over (an answered one ends when its 200 goes unacknowledged: 32 s), then the baseline.
  const settledBy = Date.now() + 90000;
  let after = await target.stats();
  // The endpoint keeps an RTP socket pair bound for its next call once it has had one (two
  // descriptors, `spareRtpPorts`): not a leak, so not counted.
  const held = (stats: TargetStats): number => stats.fds - 2 * stats.spareRtpPairs;
  while ((after.calls > 0 || held(after) > held(before)) && Date.now() < settledBy) {
    await sleep(1000);
    after = await target.stats();
  }
  // Descriptors not given back: say what they are.
  if (held(after) > held(before)) after = await target.stats(true);
  const fuzzedCalls = { answered: after.answered, rejected: after.rejected };
  target.child.send({ type: 'stop' });
  await new Promise((resolve) => (target.exitCode !== undefined ? resolve(undefined) : target.child.once('exit', resolve)));
  udp.close();
  probe.close();
  wss.close();
  // The real call was SRTP with SDES: its keys must not be in the log.
  const log = readFileSync(logFile, 'latin1');
  // Logged at level 4 (every SIP message): an SDES key (a crypto line as the redaction rule reads
  // one, its key not redacted) or the password must not be there.
  const secretsInLog = log.split('\n').filter((line) => /a=crypto:[ \t]*\d+[ \t]+\S+[ \t]+inline:(?!<redacted>)[^\s|]/i.test(line) || line.includes(FUZZ_PASSWORD)).length;
  const logLines = log.split('\n').length;
  return {
    seed: options.seed,
    inputs,
    bytes,
    durationMs: Date.now() - started,
    responses,
    acceptedInvalid,
    corpus,
    probes: { sent: probes, answered: answeredProbes, slowestMs },
    slowBatches,
    problems: target.problems.filter((problem) => !/^the target exited \(code 0,/.test(problem)),
    realCall,
    fuzzedCalls,
    before,
    after,
    secretsInLog,
    logLines,
    streams: { connections, closedByTarget },
    ws: { connections: wsConnections, closes: wsCloses.slice(0, 20) },
  };
}

function bindUdp(port: number): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => {
      socket.setRecvBufferSize(4 * 1024 * 1024);
      resolve(socket);
    });
  });
}

// Run as a script (inside the namespace): options as JSON in argv[2], the report on the last line.
if (require.main === module) runAsScript<SipFuzzOptions, unknown>(runSipFuzz);
