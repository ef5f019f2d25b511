// N simultaneous bidirectional G.711 streams between two engines (two processes) on 127.0.0.1,
// through jitter buffer and decoder; then the same N streams against sipp's RTP echo, whose CPU is
// measured in the same run for a ratio.
// With --srtp, the two engines run a second time with SRTP (AES_CM_128_HMAC_SHA1_80) on every
// stream, for the CPU of an encrypted stream against a plain one in the same run; with --dtls, a
// third time with the keys of every stream from a DTLS-SRTP handshake (DtlsSrtpHandshake, one
// certificate per engine, the peer's fingerprint checked), timed.
// Run: npm run bench:media-engine -- --streams 200 --seconds 20 [--srtp] [--dtls]   (after npm run build)
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpuTicks } from './support/bench-tools';
import { AudioStream, DtlsSrtpHandshake, generateDtlsCertificate, MediaClock, PCMU, PortAllocator, RtpSession, SrtpContext, VirtualAudioProvider, type DtlsCertificate, type SrtpKeyMaterial } from '@sip-endpoint/media';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1]! : fallback;
};
const STREAMS = Number(option('streams', '200'));
const SECONDS = Number(option('seconds', '20'));
const ROLE = option('role', 'a');
const SRTP = args.includes('--srtp');
const DTLS = args.includes('--dtls');
/** How this engine's part keys SRTP, if at all (the child is told by its parent): 0 plain, 1 SDES-like keys, 2 DTLS-SRTP. */
const ENCRYPT = Number(option('encrypt', '0')) as Keying;
type Keying = 0 | 1 | 2;

/** The SRTP key of stream `index` sent by engine `from`: both engines derive the same. */
function streamKey(index: number, from: 'a' | 'b'): SrtpKeyMaterial {
  const bytes = createHash('sha256').update(`bench ${from} ${index}`).digest();
  return { suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: bytes.subarray(0, 16), masterSalt: bytes.subarray(16, 30) };
}
const WARMUP_MS = 2000;
/** The ports of each pass's engines (A, B): a pass's sockets may still be closing when the next one starts (the second plain pass comes after two others). Sipp's echo pass uses 44000 and 48000. */
const PASS_PORTS: Record<Keying, { a: number; b: number }> = { 0: { a: 43000, b: 46000 }, 1: { a: 50000, b: 52000 }, 2: { a: 54000, b: 56000 } };

/** Histogram of send-interval deviation from the ptime, in 0.05 ms buckets up to 100 ms. */
class IntervalHistogram {
  readonly buckets = new Float64Array(2001);
  count = 0;
  add(deviationMs: number): void {
    this.buckets[Math.min(2000, Math.round(Math.abs(deviationMs) * 20))]!++;
    this.count++;
  }
  merge(other: Float64Array): void {
    for (let i = 0; i < other.length; i++) this.buckets[i]! += other[i]!;
    for (const v of other) this.count += v;
  }
  percentile(p: number): number {
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      if (seen >= this.count * p) return i / 20;
    }
    return 100;
  }
}

interface EngineReport {
  /** How late the media clock woke up, p99, in ms. */
  wakeP99: number;
  expected: number;
  lost: number;
  cpuMs: number;
  wallMs: number;
  rssMb: number;
  histogram: number[];
  sent: number;
  /** With DTLS-SRTP: how long all the handshakes took, in ms. */
  handshakesMs?: number;
}

/** What an engine tells the other: its ports, and with DTLS-SRTP its certificate's fingerprint. */
interface Announcement {
  ports: number[];
  fingerprint?: DtlsCertificate['fingerprint'];
}

/** Opens N sessions; creates streams once the peer's ports are known; measures after a warm-up. */
async function engine(portBase: number, peer: () => Promise<Announcement>, announce: (announcement: Announcement) => void, encrypt?: { me: 'a' | 'b'; peer: 'a' | 'b'; keying: Keying }): Promise<EngineReport> {
  const allocator = new PortAllocator(portBase, portBase + STREAMS * 2 + 10);
  const sessions = await Promise.all(Array.from({ length: STREAMS }, () => RtpSession.open({ ports: allocator, bindAddress: '127.0.0.1' })));
  const dtls = encrypt?.keying === 2;
  const certificate = dtls ? await generateDtlsCertificate() : undefined;
  announce({ ports: sessions.map((s) => s.localPort), ...(certificate ? { fingerprint: certificate.fingerprint } : {}) });
  const { ports: remote, fingerprint: remoteFingerprint } = await peer();
  const provider = new VirtualAudioProvider({ defaults: false });
  const mic = provider.addInput({ name: 'tone' }, { kind: 'tone', frequencies: [440], levelDbfs: -15 });
  const histogram = new IntervalHistogram();
  let measuring = false;
  const streams = sessions.map((session, i) => {
    if (encrypt?.keying === 1) session.setSrtp({ send: new SrtpContext(streamKey(i, encrypt.me)), receive: new SrtpContext(streamKey(i, encrypt.peer)) });
    // Nothing leaves before the handshake's keys (as in a call).
    if (dtls) session.awaitSrtp();
    let last = 0;
    const send = session.sendRtp.bind(session);
    session.sendRtp = (data, length) => {
      const now = performance.now();
      if (measuring && last > 0) histogram.add(now - last - 20);
      last = now;
      send(data, length);
    };
    return new AudioStream({ session, codec: PCMU, payloadType: 0, remote: { address: '127.0.0.1', rtpPort: remote[i]! }, input: provider.openInput(mic.id, 8000), detectInbandDtmf: false, rtcpIntervalS: 5 });
  });
  let handshakesMs: number | undefined;
  if (dtls) {
    // Engine A is the DTLS client of every stream (a=setup:active), B the server. At most 20
    // handshakes at once, as calls that come at a rate would have them: 200 at once keep the
    // event loop busy long enough for werift-dtls's server to give up its retransmissions
    // ("over retransmitCount").
    const started = performance.now();
    for (let from = 0; from < sessions.length; from += 20) {
      await Promise.all(sessions.slice(from, from + 20).map((session) => DtlsSrtpHandshake.run(session, { role: encrypt.me === 'a' ? 'client' : 'server', certificate: certificate!, remoteFingerprint: remoteFingerprint!, timeoutMs: 60_000 })));
    }
    handshakesMs = performance.now() - started;
  }
  for (const stream of streams) stream.start();
  // A probe on the media clock: how late each of its wake-ups is.
  const lateness = new IntervalHistogram();
  const stopProbe = MediaClock.shared.add(1, (due) => measuring && lateness.add(performance.now() - due));
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  const before = streams.map((s) => s.stats().received);
  const cpu = process.cpuUsage();
  const start = performance.now();
  measuring = true;
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  measuring = false;
  stopProbe();
  const used = process.cpuUsage(cpu);
  const wallMs = performance.now() - start;
  const after = streams.map((s) => s.stats());
  let expected = 0;
  let lost = 0;
  let sent = 0;
  after.forEach((stats, i) => {
    expected += stats.received.expected - before[i]!.expected;
    lost += Math.max(0, stats.received.lost - before[i]!.lost);
    sent += stats.sent.packets;
  });
  const rssMb = process.memoryUsage().rss / 1048576;
  for (const stream of streams) stream.close();
  return { wakeP99: lateness.percentile(0.99), expected, lost, cpuMs: (used.user + used.system) / 1000, wallMs, rssMb, histogram: Array.from(histogram.buckets), sent, ...(handshakesMs === undefined ? {} : { handshakesMs }) };
}

function describe(name: string, report: EngineReport): { line: string; cpuPerStream: number } {
  const histogram = new IntervalHistogram();
  histogram.merge(Float64Array.from(report.histogram));
  const cpuPerStream = (report.cpuMs / report.wallMs / STREAMS) * 100;
  const loss = report.expected > 0 ? (100 * report.lost) / report.expected : 0;
  return {
    cpuPerStream,
    line: `| ${name} | ${STREAMS} | ${loss.toFixed(3)} % | ${histogram.percentile(0.5).toFixed(2)} ms | ${histogram.percentile(0.99).toFixed(2)} ms | ${report.wakeP99.toFixed(2)} ms | ${cpuPerStream.toFixed(3)} % | ${report.rssMb.toFixed(0)} MB |`,
  };
}

async function main(): Promise<void> {
  if (ROLE === 'b') {
    let resolvePeer: (announcement: Announcement) => void = () => undefined;
    const peer = new Promise<Announcement>((resolve) => (resolvePeer = resolve));
    process.on('message', (message: { announcement?: Announcement }) => message.announcement && resolvePeer(message.announcement));
    // Each pass gets ports of its own: the last pass's sockets may still be closing.
    const report = await engine(PASS_PORTS[ENCRYPT].b, () => peer, (announcement) => process.send?.({ announcement }), ENCRYPT ? { me: 'b', peer: 'a', keying: ENCRYPT } : undefined);
    process.send?.({ report });
    return;
  }

  // Part 1: two engines (and, with --srtp or --dtls, the same again with SRTP on every stream).
  const twoEngines = async (keying: Keying): Promise<[EngineReport, EngineReport]> => {
    const child: ChildProcess = fork(process.argv[1]!, ['--role', 'b', '--streams', String(STREAMS), '--seconds', String(SECONDS), '--encrypt', String(keying)], { stdio: 'inherit' });
    let fromChild: (announcement: Announcement) => void = () => undefined;
    const childAnnouncement = new Promise<Announcement>((resolve) => (fromChild = resolve));
    const childReport = new Promise<EngineReport>((resolve) => {
      child.on('message', (message: { announcement?: Announcement; report?: EngineReport }) => {
        if (message.announcement) fromChild(message.announcement);
        if (message.report) resolve(message.report);
      });
    });
    const reportA = await engine(PASS_PORTS[keying].a, () => childAnnouncement, (announcement) => child.send({ announcement }), keying ? { me: 'a', peer: 'b', keying } : undefined);
    return [reportA, await childReport];
  };
  const [reportA, reportB] = await twoEngines(0);
  const a = describe('engine A', reportA);
  const b = describe('engine B', reportB);
  const secure: { name: string; a: EngineReport; b: EngineReport }[] = [];
  for (const [keying, name] of [...(SRTP ? [[1, 'SRTP'] as const] : []), ...(DTLS ? [[2, 'DTLS-SRTP'] as const] : [])]) {
    const [secureA, secureB] = await twoEngines(keying);
    secure.push({ name, a: secureA, b: secureB });
  }
  // With encrypted passes, a second plain pass after them: the ratios are against the mean of the
  // two plain passes, so a machine (or an engine A) that grows faster or slower over the run does
  // not tilt them.
  let plainCpu = a.cpuPerStream + b.cpuPerStream;
  const secureLines: string[] = [];
  const secureRatios: string[] = [];
  if (secure.length > 0) {
    const [againA, againB] = await twoEngines(0);
    const a2 = describe('engine A, plain again', againA);
    const b2 = describe('engine B, plain again', againB);
    secureLines.push(a2.line, b2.line);
    plainCpu = (plainCpu + a2.cpuPerStream + b2.cpuPerStream) / 2;
  }
  for (const pass of secure) {
    const sa = describe(`engine A, ${pass.name}`, pass.a);
    const sb = describe(`engine B, ${pass.name}`, pass.b);
    secureLines.push(sa.line, sb.line);
    const handshakes = pass.a.handshakesMs === undefined ? '' : `; ${STREAMS} handshakes in ${(pass.a.handshakesMs / 1000).toFixed(1)} s`;
    secureRatios.push(`CPU per stream, ${pass.name} / plain (mean of the two plain passes): ${((sa.cpuPerStream + sb.cpuPerStream) / plainCpu).toFixed(2)} (target: at most 1.3)${handshakes}`);
  }

  // Part 2: the same streams against sipp's RTP echo, whose CPU is read from /proc.
  let sippLine = '| sipp -rtp_echo | not installed | | | | | | |';
  let ratio = '';
  if (spawnSync('sh', ['-c', 'command -v sipp']).status === 0) {
    const echoPort = 48000;
    const sipp = spawn('sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', '48010', '-mp', String(echoPort), '-rtp_echo', '-nostdin'], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const startTicks = cpuTicks(sipp.pid!);
    const sippStart = performance.now();
    const reportOurs = await engine(44000, async () => ({ ports: Array.from({ length: STREAMS }, () => echoPort) }), () => undefined);
    const sippWall = performance.now() - sippStart;
    const ticks = cpuTicks(sipp.pid!) - startTicks;
    sipp.kill('SIGKILL');
    const sippCpuPerStream = ((ticks * 10) / sippWall / STREAMS) * 100; // 100 ticks per second
    const ours = describe('ours, against sipp', reportOurs);
    sippLine = `${ours.line}\n| sipp -rtp_echo (reflects packets, no codec) | ${STREAMS} | | | | | ${sippCpuPerStream.toFixed(3)} % | |`;
    ratio = `CPU per stream, ours / sipp echo: ${(ours.cpuPerStream / Math.max(1e-9, sippCpuPerStream)).toFixed(1)}`;
  }

  console.log(`media streams: ${STREAMS} bidirectional PCMU streams, 20 ms, measured for ${SECONDS} s after a ${WARMUP_MS / 1000} s warm-up`);
  console.log('| engine | streams | loss | send-interval jitter p50 | p99 | clock wake-up lateness p99 | CPU per stream (of one core) | RSS |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  console.log(a.line);
  console.log(b.line);
  for (const line of secureLines) console.log(line);
  console.log(sippLine);
  if (ratio) console.log(ratio);
  for (const line of secureRatios) console.log(line);
  console.log(`targets: loss < 0.1 %, jitter p99 < 3 ms, CPU per stream <= 0.25 %; node ${process.version}`);
  process.exit(0);
}

void main();
