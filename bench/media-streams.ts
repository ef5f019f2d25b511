// N simultaneous bidirectional G.711 streams between two engines (two processes) on 127.0.0.1,
// through jitter buffer and decoder; then the same N streams against sipp's RTP echo, whose CPU is
// measured in the same run for a ratio.
// With --srtp, the two engines run a second time with SRTP (AES_CM_128_HMAC_SHA1_80) on every
// stream, for the CPU of an encrypted stream against a plain one in the same run.
// Run: npm run bench:media -- --streams 200 --seconds 20 [--srtp]   (after npm run build)
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { AudioStream, MediaClock, PCMU, PortAllocator, RtpSession, SrtpContext, VirtualAudioProvider, type SrtpKeyMaterial } from '@sip-endpoint/media';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1]! : fallback;
};
const STREAMS = Number(option('streams', '200'));
const SECONDS = Number(option('seconds', '20'));
const ROLE = option('role', 'a');
const SRTP = args.includes('--srtp');
/** This engine's part encrypts (the child is told by its parent). */
const ENCRYPT = option('encrypt', '0') === '1';

/** The SRTP key of stream `index` sent by engine `from`: both engines derive the same. */
function streamKey(index: number, from: 'a' | 'b'): SrtpKeyMaterial {
  const bytes = createHash('sha256').update(`bench ${from} ${index}`).digest();
  return { suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: bytes.subarray(0, 16), masterSalt: bytes.subarray(16, 30) };
}
const WARMUP_MS = 2000;

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
}

/** Opens N sessions; creates streams once the peer's ports are known; measures after a warm-up. */
async function engine(portBase: number, peerPorts: () => Promise<number[]>, announce: (ports: number[]) => void, encrypt?: { me: 'a' | 'b'; peer: 'a' | 'b' }): Promise<EngineReport> {
  const allocator = new PortAllocator(portBase, portBase + STREAMS * 2 + 10);
  const sessions = await Promise.all(Array.from({ length: STREAMS }, () => RtpSession.open({ ports: allocator, bindAddress: '127.0.0.1' })));
  announce(sessions.map((s) => s.localPort));
  const remote = await peerPorts();
  const provider = new VirtualAudioProvider({ defaults: false });
  const mic = provider.addInput({ name: 'tone' }, { kind: 'tone', frequencies: [440], levelDbfs: -15 });
  const histogram = new IntervalHistogram();
  let measuring = false;
  const streams = sessions.map((session, i) => {
    if (encrypt) session.setSrtp({ send: new SrtpContext(streamKey(i, encrypt.me)), receive: new SrtpContext(streamKey(i, encrypt.peer)) });
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
  return { wakeP99: lateness.percentile(0.99), expected, lost, cpuMs: (used.user + used.system) / 1000, wallMs, rssMb, histogram: Array.from(histogram.buckets), sent };
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks
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
    let resolvePorts: (ports: number[]) => void = () => undefined;
    const peer = new Promise<number[]>((resolve) => (resolvePorts = resolve));
    process.on('message', (message: { ports?: number[] }) => message.ports && resolvePorts(message.ports));
    // The SRTP pass gets ports of its own: the plain pass's sockets may still be closing.
    const report = await engine(ENCRYPT ? 50000 : 46000, () => peer, (ports) => process.send?.({ ports }), ENCRYPT ? { me: 'b', peer: 'a' } : undefined);
    process.send?.({ report });
    return;
  }

  // Part 1: two engines (and, with --srtp, the same again with SRTP on every stream).
  const twoEngines = async (encrypt: boolean): Promise<[EngineReport, EngineReport]> => {
    const child: ChildProcess = fork(process.argv[1]!, ['--role', 'b', '--streams', String(STREAMS), '--seconds', String(SECONDS), '--encrypt', encrypt ? '1' : '0'], { stdio: 'inherit' });
    let childPorts: (ports: number[]) => void = () => undefined;
    const fromChild = new Promise<number[]>((resolve) => (childPorts = resolve));
    const childReport = new Promise<EngineReport>((resolve) => {
      child.on('message', (message: { ports?: number[]; report?: EngineReport }) => {
        if (message.ports) childPorts(message.ports);
        if (message.report) resolve(message.report);
      });
    });
    const reportA = await engine(encrypt ? 48000 : 43000, () => fromChild, (ports) => child.send({ ports }), encrypt ? { me: 'a', peer: 'b' } : undefined);
    return [reportA, await childReport];
  };
  const [reportA, reportB] = await twoEngines(false);
  const a = describe('engine A', reportA);
  const b = describe('engine B', reportB);
  let srtpLines = '';
  let srtpRatio = '';
  if (SRTP) {
    const [secureA, secureB] = await twoEngines(true);
    const sa = describe('engine A, SRTP', secureA);
    const sb = describe('engine B, SRTP', secureB);
    srtpLines = `${sa.line}\n${sb.line}`;
    srtpRatio = `CPU per stream, SRTP / plain: ${((sa.cpuPerStream + sb.cpuPerStream) / (a.cpuPerStream + b.cpuPerStream)).toFixed(2)} (target: at most 1.3)`;
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
    const reportOurs = await engine(44000, async () => Array.from({ length: STREAMS }, () => echoPort), () => undefined);
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
  if (srtpLines) console.log(srtpLines);
  console.log(sippLine);
  if (ratio) console.log(ratio);
  if (srtpRatio) console.log(srtpRatio);
  console.log(`targets: loss < 0.1 %, jitter p99 < 3 ms, CPU per stream <= 0.25 %; node ${process.version}`);
  process.exit(0);
}

void main();
