// Endpoint media: what a user runs. One stand-alone Endpoint process with its DEFAULT devices (no
// `devices` provider: a silent microphone and a null speaker) auto-answers N concurrent sipp calls
// that play G.711 A-law RTP at it (sipp's g711a.pcap, looped for the whole call), and in the same
// run the same harness against baresip 1.0 (answermode=auto, a silent source, a null speaker).
// Once every call is up (+2 s warm-up), for --seconds: the UA's CPU from /proc/<pid>/stat, and a
// dumpcap capture of lo (snaplen 64, filtered on the UA's RTP port range) from which the RTP the
// UA SENDS is judged per stream: sequence gaps (loss) and the send interval's deviation from
// 20 ms; the RTP it receives from sipp is checked to flow for the whole window. RSS at the end,
// sipp's failed calls. Printed side by side with ratios ours / baresip, then one line of JSON.
// baresip 1.0 holds at most 255 concurrent calls: above that it gets 255 and compares per call.
// Run: npm run bench:media -- --calls 200 --rate 50 --seconds 20   (after npm run build)
//   --only ours|baresip   one UA only
//   --threads N           our Endpoint's mediaThreads: its calls' streams in N worker threads (default 0: main thread)
//   --profile             our endpoint under node --cpu-prof (the profile's path is printed)
//   --keep                keep the temporary directory (captures, sipp's files, configs)
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Endpoint } from '@sip-endpoint/endpoint-core';
import { callScenario, cpuTicks, flag, installed, option, percentile, processMemory, silentWav, sippStats, sleep, standaloneBenchConfig, startBaresip, startProgram, type SippStats } from './support/bench-tools';

const CALLS = Number(option('calls', '200'));
const RATE = Number(option('rate', '50'));
const SECONDS = Number(option('seconds', '20'));
const ONLY = option('only', 'both');
const PROFILE = flag('profile');
const KEEP = flag('keep');
const THREADS = Number(option('threads', '0'));
if (!Number.isInteger(CALLS) || CALLS < 1 || CALLS > 1000) throw new RangeError(`--calls is 1 to 1000, not ${CALLS}`);
if (!(RATE > 0)) throw new RangeError(`--rate must be above 0, not ${RATE}`);
if (!Number.isInteger(THREADS) || THREADS < 0 || THREADS > 64) throw new RangeError(`--threads is 0 to 64, not ${THREADS}`);
if (!(SECONDS >= 1)) throw new RangeError(`--seconds must be at least 1, not ${SECONDS}`);
if (!['both', 'ours', 'baresip'].includes(ONLY)) throw new RangeError(`--only is ours or baresip, not ${ONLY}`);

const PCAP = '/usr/share/sip-tester/g711a.pcap';
const PTIME_MS = 20;
const WARMUP_MS = 2000;
/** Time allowed between the last ACK and its detection (sipp writes its counts once a second). */
const CONNECT_SLACK_MS = 3000;
/** Time the calls stay up after the window's end: capture stop, reading the counters. */
const MARGIN_MS = 3000;
const CLOCK_TICK_MS = 10; // /proc/<pid>/stat counts in 1/100 s

// Ports, 127.0.0.1 only. SIP and sipp's media inside 50000-50099; the UAs' RTP from 50100. The
// two UAs run one after the other, so they share the RTP range. Ours takes an even/odd pair per
// call, handed out round-robin; baresip picks pairs at random (64 tries), so it gets half again as
// many. Ours fits below 50999 up to 430 calls, more need ports above it (printed); baresip (at
// most 255 calls, below) always fits.
const OURS_SIP = 50020; // the line takes the first free port from here to +6
const BARESIP_SIP = 50030;
const SIPP_SIP = 50040;
const SIPP_MEDIA = 50050; // sipp binds 50050-50053 (audio and video RTP/RTCP)
const RTP_MIN = 50100;
/**
 * baresip 1.0 numbers its calls 1..255 (CALL_LINENUM_MAX 256 in src/core.h) and refuses a 256th
 * concurrent call ("call: could not assign linenumber", 500 Call Error). With more --calls it gets
 * 255; the table then compares per call.
 */
const BARESIP_MAX_CALLS = 255;
const BARESIP_CALLS = Math.min(CALLS, BARESIP_MAX_CALLS);
const OURS_RTP: readonly [number, number] = [RTP_MIN, Math.max(50999, RTP_MIN + 2 * CALLS + 39)];
const BARESIP_RTP: readonly [number, number] = [RTP_MIN, Math.max(50999, RTP_MIN + 3 * BARESIP_CALLS + 39)];
const UNUSED_SERVER = '127.0.0.1:50019'; // the stand-alone line's server: never contacted (reg_timeout 0)

type Kind = 'ours' | 'baresip';
const NAMES: Record<Kind, string> = { ours: THREADS > 0 ? `ours (Endpoint, ${THREADS} media thread${THREADS > 1 ? 's' : ''})` : 'ours (Endpoint)', baresip: 'baresip 1.0.0' };

// ---------------------------------------------------------------------------------------------
// The child process: our Endpoint.

interface EndpointReport {
  incoming: number;
  connected: number;
  disconnected: number;
  errors: string[];
  errorCount: number;
}

/** Our Endpoint, stand-alone, auto-answering, default devices, until the parent says stop. */
async function endpointRole(): Promise<void> {
  const config = standaloneBenchConfig({ server: UNUSED_SERVER, sipPort: OURS_SIP, rtp: OURS_RTP });
  const report: EndpointReport = { incoming: 0, connected: 0, disconnected: 0, errors: [], errorCount: 0 };
  const logger = (level: number, message: string): void => {
    if (level > 1) return;
    report.errorCount++;
    if (report.errors.length < 10) report.errors.push(message);
  };
  // No `devices`: the Endpoint's default provider, a silent microphone and a null speaker.
  const endpoint = new Endpoint({ config, logger, mediaThreads: THREADS });
  endpoint.on('incomingCall', () => report.incoming++);
  endpoint.on('callStateChanged', (_call, state) => {
    if (state === 'CONNECTED') report.connected++;
    if (state === 'DISCONNECTED') report.disconnected++;
  });
  await endpoint.start();
  const line = endpoint.lines[0]!;
  if (line.state !== 'STANDALONE') throw new Error(`the line is ${line.state}, not STANDALONE`);
  process.send?.({ ready: true });
  process.on('disconnect', () => process.exit(1)); // the parent is gone
  process.on('message', (message: { stop?: boolean }) => {
    if (!message.stop) return;
    void endpoint.stop().finally(() => {
      process.send?.({ report }, () => process.exit(0));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// pcap files.

/**
 * Calls `onPacket` for every record of a classic pcap file (dumpcap -P), read in chunks: its time
 * in ms after `baseSeconds` (kept small for precision) and the captured bytes. Returns the link
 * type. A record cut short at the end (a capture stopped mid-write) is ignored.
 */
function readPcap(file: string, baseSeconds: number, onPacket: (ms: number, frame: Buffer, linkType: number) => void): number {
  const fd = openSync(file, 'r');
  try {
    const header = Buffer.alloc(24);
    if (readSync(fd, header, 0, 24, 0) < 24) throw new Error(`${file}: too short for a pcap file`);
    const magic = header.readUInt32LE(0);
    const formats: Record<number, [little: boolean, fractionMs: number]> = { 0xa1b2c3d4: [true, 1e-3], 0xa1b23c4d: [true, 1e-6], 0xd4c3b2a1: [false, 1e-3], 0x4d3cb2a1: [false, 1e-6] };
    const format = formats[magic];
    if (!format) throw new Error(`${file}: not a classic pcap file (magic ${magic.toString(16)}${magic === 0x0a0d0d0a ? ': pcapng, capture with dumpcap -P' : ''})`);
    const [little, fractionMs] = format;
    const u32 = (buffer: Buffer, at: number): number => (little ? buffer.readUInt32LE(at) : buffer.readUInt32BE(at));
    const linkType = u32(header, 20) & 0x0fffffff;
    const chunk = Buffer.alloc(1 << 22);
    let pending = Buffer.alloc(0);
    let position = 24;
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, position);
      if (read === 0) break;
      position += read;
      const buffer = pending.length ? Buffer.concat([pending, chunk.subarray(0, read)]) : chunk.subarray(0, read);
      let at = 0;
      while (at + 16 <= buffer.length) {
        const length = u32(buffer, at + 8);
        if (length > 0x40000) throw new Error(`${file}: a record of ${length} bytes at ${position - buffer.length + at}: the file is damaged`);
        if (at + 16 + length > buffer.length) break;
        onPacket((u32(buffer, at) - baseSeconds) * 1000 + u32(buffer, at + 4) * fractionMs, buffer.subarray(at + 16, at + 16 + length), linkType);
        at += 16 + length;
      }
      pending = Buffer.from(buffer.subarray(at)); // a copy: `chunk` is overwritten by the next read
    }
    return linkType;
  } finally {
    closeSync(fd);
  }
}

/** A UDP datagram's ports and payload, or undefined for anything else (IPv4 only: all is 127.0.0.1). */
interface Datagram {
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

/** Where the IP header starts for a link type, or -1 when the frame is not IPv4. */
function ipOffset(linkType: number, frame: Buffer): number {
  switch (linkType) {
    case 1: {
      // Ethernet (what dumpcap writes for lo), with at most one VLAN tag.
      let type = frame.length >= 14 ? frame.readUInt16BE(12) : 0;
      let at = 14;
      if (type === 0x8100 && frame.length >= 18) {
        type = frame.readUInt16BE(16);
        at = 18;
      }
      return type === 0x0800 ? at : -1;
    }
    case 113: // Linux cooked (SLL)
      return frame.length >= 16 && frame.readUInt16BE(14) === 0x0800 ? 16 : -1;
    case 276: // Linux cooked v2 (SLL2)
      return frame.length >= 20 && frame.readUInt16BE(0) === 0x0800 ? 20 : -1;
    case 0: // BSD loopback: the address family in host order
    case 108:
      return 4;
    case 12:
    case 101:
    case 228: // raw IP
      return 0;
    default:
      throw new Error(`pcap link type ${linkType} is not supported`);
  }
}

function udpOf(linkType: number, frame: Buffer): Datagram | undefined {
  const ip = ipOffset(linkType, frame);
  if (ip < 0 || frame.length < ip + 20 || frame[ip]! >> 4 !== 4 || frame[ip + 9] !== 17) return undefined;
  if ((frame.readUInt16BE(ip + 6) & 0x1fff) !== 0) return undefined; // a later fragment
  const udp = ip + (frame[ip]! & 0x0f) * 4;
  if (frame.length < udp + 8) return undefined;
  return { srcPort: frame.readUInt16BE(udp), dstPort: frame.readUInt16BE(udp + 2), payload: frame.subarray(udp + 8) };
}

/** RTP (not RTCP) with at least its fixed header captured. */
function isRtp(payload: Buffer): boolean {
  if (payload.length < 12 || payload[0]! >> 6 !== 2) return false;
  const type = payload[1]!;
  return type < 192 || type > 223; // 192-223: RTCP (RFC 5761)
}

/** The duration of sipp's pcap (first to last packet, plus one packet interval), in ms. */
function pcapDurationMs(file: string): number {
  const times: number[] = [];
  readPcap(file, 0, (ms) => times.push(ms)); // ms since 1970: still to well under a microsecond
  if (times.length < 2) throw new Error(`${file} holds fewer than two packets`);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  return Math.round(times.at(-1)! - times[0]! + percentile(gaps.sort((a, b) => a - b), 0.5));
}

// ---------------------------------------------------------------------------------------------
// The capture's verdict on the RTP of one UA.

interface Stream {
  packets: number;
  firstMs: number;
  lastMs: number;
  /** Highest extended sequence number, and the lowest. */
  maxSeq: number;
  minSeq: number;
  lastSeq: number;
  lastTimestamp: number;
  maxGapMs: number;
  outOfOrder: number;
}

interface RtpVerdict {
  /** UA -> sipp, in the window. */
  sent: {
    streams: number;
    packets: number;
    expected: number;
    lost: number;
    lossPct: number;
    outOfOrder: number;
    /** |interval - 20 ms x sequence step|, ms. */
    deviation: { p50: number; p99: number; p999: number; max: number };
    /** Median RTP timestamp step per packet, in ms of 8 kHz audio (the ptime the UA sends). */
    ptimeMs: number;
    /** Streams with packets from the window's first to its last 100 ms. */
    covering: number;
    maxGapMs: number;
  };
  /** sipp -> UA, in the window: only that it flows (its sequence numbers restart with each loop). */
  received: { streams: number; packets: number; packetsPerSecond: number; covering: number; maxGapMs: number };
}

function newStream(ms: number, seq: number, timestamp: number): Stream {
  return { packets: 1, firstMs: ms, lastMs: ms, maxSeq: seq, minSeq: seq, lastSeq: seq, lastTimestamp: timestamp, maxGapMs: 0, outOfOrder: 0 };
}

/**
 * Reads the capture of one UA's run: the RTP the UA sends (source port in its RTP range, to
 * sipp's media port) per stream (5-tuple and SSRC), and the RTP sipp plays to it, between
 * `fromMs` and `toMs` (ms after `baseSeconds`).
 */
function judgeRtp(pcap: string, range: readonly [number, number], baseSeconds: number, fromMs: number, toMs: number): RtpVerdict {
  const sent = new Map<string, Stream>();
  const received = new Map<string, Stream>();
  const deviations: number[] = [];
  const steps: number[] = [];
  readPcap(pcap, baseSeconds, (ms, frame, linkType) => {
    if (ms < fromMs || ms > toMs) return;
    const datagram = udpOf(linkType, frame);
    if (!datagram || !isRtp(datagram.payload)) return;
    const { srcPort, dstPort, payload } = datagram;
    const mine = srcPort >= range[0] && srcPort <= range[1] && dstPort === SIPP_MEDIA;
    const theirs = srcPort === SIPP_MEDIA && dstPort >= range[0] && dstPort <= range[1];
    if (!mine && !theirs) return;
    const seq = payload.readUInt16BE(2);
    const timestamp = payload.readUInt32BE(4);
    const key = mine ? `${srcPort}>${dstPort}/${payload.readUInt32BE(8).toString(16)}` : `${srcPort}>${dstPort}`;
    const streams = mine ? sent : received;
    const stream = streams.get(key);
    if (!stream) {
      streams.set(key, newStream(ms, seq, timestamp));
      return;
    }
    const gap = ms - stream.lastMs;
    stream.maxGapMs = Math.max(stream.maxGapMs, gap);
    stream.packets++;
    stream.lastMs = ms;
    if (!mine) return;
    // Extended sequence number: the step from the last one, as a signed 16-bit difference.
    const step = ((seq - (stream.lastSeq & 0xffff) + 0x18000) & 0xffff) - 0x8000;
    const extended = stream.lastSeq + step;
    if (step >= 1) {
      deviations.push(Math.abs(gap - PTIME_MS * step));
      const clock = (timestamp - stream.lastTimestamp) >>> 0;
      steps.push(clock / step / 8);
      stream.lastSeq = extended;
      stream.lastTimestamp = timestamp;
    } else stream.outOfOrder++;
    stream.maxSeq = Math.max(stream.maxSeq, extended);
    stream.minSeq = Math.min(stream.minSeq, extended);
  });
  deviations.sort((a, b) => a - b);
  steps.sort((a, b) => a - b);
  const covers = (stream: Stream): boolean => stream.firstMs <= fromMs + 100 && stream.lastMs >= toMs - 100;
  let packets = 0;
  let expected = 0;
  let outOfOrder = 0;
  let sentGap = 0;
  for (const stream of sent.values()) {
    packets += stream.packets;
    expected += stream.maxSeq - stream.minSeq + 1;
    outOfOrder += stream.outOfOrder;
    sentGap = Math.max(sentGap, stream.maxGapMs);
  }
  // Out-of-order packets (late or duplicated; neither happens on lo) count as received.
  const lost = Math.max(0, expected - packets);
  let receivedPackets = 0;
  let receivedGap = 0;
  for (const stream of received.values()) {
    receivedPackets += stream.packets;
    receivedGap = Math.max(receivedGap, stream.maxGapMs);
  }
  const windowS = (toMs - fromMs) / 1000;
  return {
    sent: {
      streams: sent.size,
      packets,
      expected,
      lost,
      lossPct: expected ? (lost / expected) * 100 : NaN,
      outOfOrder,
      deviation: { p50: percentile(deviations, 0.5), p99: percentile(deviations, 0.99), p999: percentile(deviations, 0.999), max: deviations.at(-1) ?? NaN },
      ptimeMs: percentile(steps, 0.5),
      covering: [...sent.values()].filter(covers).length,
      maxGapMs: sentGap,
    },
    received: {
      streams: received.size,
      packets: receivedPackets,
      packetsPerSecond: received.size ? receivedPackets / received.size / windowS : NaN,
      covering: [...received.values()].filter(covers).length,
      maxGapMs: receivedGap,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// sipp, baresip, /proc.

/**
 * The uac scenario: INVITE offering PCMA (8) and telephone-event (101), 1xx optional, 200, ACK,
 * then `loops` times: play sipp's g711a.pcap (a thread of its own sends it) and pause for its
 * length; then BYE. Every call stays up `loops` x the pcap's length from its ACK.
 */
function scenario(loops: number, pcapMs: number): string {
  return callScenario({ name: 'endpoint media', user: '[service]', formats: [{ payloadType: 8, rtpmap: 'PCMA/8000' }], routed: false, provisional: 'true', pcap: PCAP, loop: { times: loops, pcapMs } });
}

/** The latest complete row of sipp's -trace_counts file, by column name; empty before the first. */
function sippCounts(dir: string, pid: number): Map<string, number> {
  const file = readdirSync(dir).find((name) => name.endsWith(`_${pid}_counts.csv`));
  const counts = new Map<string, number>();
  if (!file) return counts;
  const rows = readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean);
  const header = rows[0]?.split(';') ?? [];
  const last = rows
    .slice(1)
    .reverse()
    .map((row) => row.split(';'))
    .find((fields) => fields.length === header.length);
  if (!last) return counts;
  header.forEach((name, i) => name && counts.set(name, Number(last[i])));
  return counts;
}

/** The sum of the counters whose name ends with `suffix` (e.g. `_ACK_Sent`). */
function count(counts: Map<string, number>, suffix: string): number {
  let sum = 0;
  for (const [name, value] of counts) if (name.endsWith(suffix)) sum += value;
  return sum;
}


/** Our Endpoint in a child process (this file with `--role endpoint`); resolves once it is ready. */
async function startOurs(profileDir: string | undefined): Promise<{ child: ChildProcess; stop(): Promise<EndpointReport> }> {
  const child = fork(process.argv[1]!, [...process.argv.slice(2), '--role', 'endpoint'], {
    stdio: 'inherit',
    execArgv: [...process.execArgv, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])],
  });
  let ready = false;
  let report: EndpointReport | undefined;
  child.on('message', (message: { ready?: boolean; report?: EndpointReport }) => {
    if (message.ready) ready = true;
    if (message.report) report = message.report;
  });
  const until = async (what: string, done: () => boolean): Promise<void> => {
    const deadline = Date.now() + 30000;
    while (!done()) {
      if (child.exitCode !== null) throw new Error(`the endpoint process exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`the endpoint process was not ${what} in 30 s`);
      await sleep(20);
    }
  };
  await until('ready', () => ready);
  return {
    child,
    stop: async () => {
      child.send({ stop: true });
      await until('stopped', () => report !== undefined);
      await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
      return report!;
    },
  };
}

/**
 * Raises the open-file limit of this process (the UAs and sipp inherit it) to 65536, or to the
 * hard limit where raising that is not permitted (a container without CAP_SYS_RESOURCE). A UA
 * needs about 2 descriptors per call (RTP and RTCP sockets) and a few dozen more.
 */
function raiseFileLimit(): string {
  const limits = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  const value = (text: string | undefined): number => (text === 'unlimited' ? Infinity : Number(text));
  const [soft, hard] = [value(limits?.[1]), value(limits?.[2])];
  const need = 2 * CALLS + 100;
  const describe = (limit: number): string => `open files ${limit} (about ${need} needed)`;
  if (soft >= 65536) return describe(soft);
  for (const target of [65536, hard]) {
    if (!Number.isFinite(target) || target <= soft) continue;
    if (spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${target}:${Math.max(target, hard)}`]).status === 0) return `${describe(target)}, raised from ${soft} with prlimit`;
  }
  if (soft < need) throw new Error(`the open-file limit is ${soft}, ${CALLS} calls need about ${need}, and prlimit could not raise it`);
  return describe(soft);
}

// ---------------------------------------------------------------------------------------------
// One UA's run.

interface Row {
  kind: Kind;
  name: string;
  /** Calls sipp placed. */
  calls: number;
  sipp: SippStats;
  /** ACKs sent (sipp's counts) when the warm-up began; and how long the ramp took. */
  connected: number;
  rampS: number;
  cpuPct: number;
  peakCores: number;
  sippCpuPct: number;
  rssMb: number;
  hwmMb: number;
  /** RSS before the first call. */
  idleRssMb: number;
  /** What baresip's aufile source loaded for all calls (MB); 0 for ours. */
  sourceMb: number;
  threads: number;
  rtp: RtpVerdict;
  capture: { packets: number; dropped: number; detail: string };
  /** BYEs sipp had sent by the window's end: calls that ended early. */
  byesInWindow: number;
  seconds: number;
  notes: string[];
  endpoint?: EndpointReport;
}

interface Plan {
  dir: string;
  loops: number;
  pcapMs: number;
  holdMs: number;
  profileDir: string | undefined;
}

/** One UA's run; on a failure the programs it started are stopped before the error goes on. */
async function runUa(kind: Kind, plan: Plan): Promise<Row> {
  const stops: (() => Promise<unknown>)[] = [];
  try {
    return await measureUa(kind, plan, stops);
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}

async function measureUa(kind: Kind, plan: Plan, stops: (() => Promise<unknown>)[]): Promise<Row> {
  const started = Date.now();
  const dir = join(plan.dir, kind);
  mkdirSync(dir, { recursive: true });
  const notes: string[] = [];
  const range = kind === 'ours' ? OURS_RTP : BARESIP_RTP;
  const calls = kind === 'ours' ? CALLS : BARESIP_CALLS;
  if (calls < CALLS) notes.push(`${calls} calls, not ${CALLS}: baresip 1.0 holds at most ${BARESIP_MAX_CALLS} (CALL_LINENUM_MAX)`);
  let sourceMb = 0;

  let pid: number;
  let stopUa: () => Promise<EndpointReport | undefined>;
  if (kind === 'baresip') {
    // The file outlasts the longest call: aufile ends the call at its end.
    const wav = join(dir, 'silence.wav');
    const bytes = silentWav(wav, plan.holdMs / 1000 + 10);
    sourceMb = (bytes * calls) / 1048576;
    notes.push(`baresip's source: aufile, a silent 8 kHz mono WAV of ${(bytes / 1048576).toFixed(2)} MB that it loads (and keeps open) per call: ${sourceMb.toFixed(0)} MB for ${calls} calls, freed as it plays but part of its RSS`);
    const baresip = await startBaresip(dir, { sipPort: BARESIP_SIP, rtp: BARESIP_RTP, maxCalls: BARESIP_CALLS + 10, wav, accounts: ['<sip:bench@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMA'] });
    pid = baresip.child.pid!;
    stopUa = async () => {
      await baresip.stop();
      return undefined;
    };
  } else {
    const ours = await startOurs(plan.profileDir);
    pid = ours.child.pid!;
    stopUa = () => ours.stop();
  }
  stops.push(stopUa);

  const idleRssMb = processMemory(pid).rssMb;
  const scenarioFile = join(dir, 'uac.xml');
  writeFileSync(scenarioFile, scenario(plan.loops, plan.pcapMs));
  const target = `127.0.0.1:${kind === 'ours' ? OURS_SIP : BARESIP_SIP}`;
  const rampMs = (calls / RATE) * 1000;
  const sippTimeoutS = Math.ceil((rampMs + plan.holdMs) / 1000 + 60);
  const args = ['-sf', scenarioFile, '-s', 'bench', '-i', '127.0.0.1', '-p', String(SIPP_SIP), '-mi', '127.0.0.1', '-mp', String(SIPP_MEDIA)];
  args.push('-r', String(RATE), '-m', String(calls), '-l', String(calls), '-nostdin', '-trace_counts', '-fd', '1', '-trace_err', '-timeout', `${sippTimeoutS}s`, '-timeout_error', target);
  console.log(`[${kind}] ${kind === 'ours' ? `endpoint pid ${pid}` : `baresip pid ${pid}`}, RTP ports ${range[0]}-${range[1]}; sipp ${args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`);
  const sipp = await startProgram('sipp', args, undefined, 0, dir);
  const sippPid = sipp.child.pid!;
  stops.push(() => sipp.stop());

  // Ramp: until sipp has sent an ACK for every call (or no call has been added for 10 s past the
  // ramp's planned end, or the calls would end before the window does).
  const rampStart = Date.now();
  const latestStart = rampStart + plan.holdMs - (WARMUP_MS + SECONDS * 1000 + MARGIN_MS);
  let connected = 0;
  let lastChange = Date.now();
  while (connected < calls) {
    await sleep(250);
    if (sipp.child.exitCode !== null) throw new Error(`[${kind}] sipp exited with ${sipp.child.exitCode} during the ramp:\n${sipp.output().slice(-3000)}`);
    const now = count(sippCounts(dir, sippPid), '_ACK_Sent');
    if (now !== connected) lastChange = Date.now();
    connected = now;
    if (Date.now() - rampStart > rampMs && Date.now() - lastChange > 10000) break;
    if (Date.now() > latestStart) break;
  }
  const rampS = (Date.now() - rampStart) / 1000;
  if (connected < calls) notes.push(`only ${connected} of ${calls} calls were connected after ${rampS.toFixed(1)} s: measured with those`);
  console.log(`[${kind}] ${connected} calls connected after ${rampS.toFixed(1)} s; warm-up ${WARMUP_MS / 1000} s, then ${SECONDS} s measured`);

  // Warm-up, with the capture starting.
  const warmupEnd = Date.now() + WARMUP_MS;
  const pcap = join(dir, 'rtp.pcap');
  const capture = await startProgram('dumpcap', ['-i', 'lo', '-P', '-s', '64', '-B', '128', '-f', `udp and ((src portrange ${range[0]}-${range[1]} and dst portrange ${SIPP_MEDIA}-${SIPP_MEDIA + 3}) or (src port ${SIPP_MEDIA} and dst portrange ${range[0]}-${range[1]}))`, '-w', pcap], /Capturing on/, 10000);
  stops.push(() => capture.stop('SIGINT'));
  await sleep(Math.max(0, warmupEnd - Date.now()));

  // The window.
  const from = Date.now();
  const ticks0 = cpuTicks(pid);
  const sippTicks0 = cpuTicks(sippPid);
  let peakCores = 0;
  let lastTicks = ticks0;
  let lastAt = from;
  for (let second = 1; second <= SECONDS; second++) {
    await sleep(Math.max(0, from + second * 1000 - Date.now()));
    const ticks = cpuTicks(pid);
    const at = Date.now();
    peakCores = Math.max(peakCores, ((ticks - lastTicks) * CLOCK_TICK_MS) / (at - lastAt));
    lastTicks = ticks;
    lastAt = at;
  }
  const to = Date.now();
  const cpuPct = (((cpuTicks(pid) - ticks0) * CLOCK_TICK_MS) / (to - from)) * 100;
  const sippCpuPct = (((cpuTicks(sippPid) - sippTicks0) * CLOCK_TICK_MS) / (to - from)) * 100;
  const { rssMb, hwmMb, threads } = processMemory(pid);
  const byesInWindow = count(sippCounts(dir, sippPid), '_BYE_Sent');
  if (byesInWindow > 0) notes.push(`${byesInWindow} calls had ended (BYE) before the window's end: make the calls longer`);
  await sleep(300);
  await capture.stop('SIGINT');
  const dumpcapText = capture.output();
  const drops = /received\/dropped on interface '[^']*': (\d+)\/(\d+)\s*(\([^)]*\))?/.exec(dumpcapText);
  const captured = Number(/Packets captured: (\d+)/.exec(dumpcapText)?.[1] ?? NaN);
  const dropped = drops ? Number(drops[2]) : NaN;
  if (dropped > 0) notes.push(`dumpcap dropped ${dropped} packets: loss below counts the capture's loss too`);

  // The calls end by themselves (BYE after the last loop); then the UA stops.
  const waitMs = Math.max(0, rampStart + rampMs + plan.holdMs - Date.now()) + 20000;
  console.log(`[${kind}] window done; waiting up to ${(waitMs / 1000).toFixed(0)} s for sipp's calls to end`);
  const ended = await Promise.race([sipp.exited.then(() => true), sleep(waitMs).then(() => false)]);
  if (!ended) {
    notes.push('sipp had not finished its calls in time: stopped');
    await sipp.stop('SIGUSR1'); // sipp's "quit now" (then SIGTERM, SIGKILL after 5 s)
    await sipp.stop();
  }
  const endpoint = await stopUa();
  const stats = sippStats(sipp.output());
  if (stats.failed > 0) {
    const errors = readdirSync(dir).find((name) => name.endsWith(`_${sippPid}_errors.log`));
    if (errors) notes.push(`sipp's errors (${join(dir, errors)}): ${readFileSync(join(dir, errors), 'utf8').split('\n').filter(Boolean).slice(0, 4).join(' | ')}`);
  }

  const baseSeconds = Math.floor(from / 1000) - 60;
  const fromMs = from - baseSeconds * 1000;
  const rtp = judgeRtp(pcap, range, baseSeconds, fromMs, fromMs + (to - from));
  return {
    kind,
    name: NAMES[kind],
    calls,
    idleRssMb,
    sourceMb,
    sipp: stats,
    connected,
    rampS,
    cpuPct,
    peakCores,
    sippCpuPct,
    rssMb,
    hwmMb,
    threads,
    rtp,
    capture: { packets: captured, dropped, detail: drops?.[3] ?? '' },
    byesInWindow,
    seconds: (Date.now() - started) / 1000,
    notes,
    ...(endpoint ? { endpoint } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// The report.

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const ratio = (a: number | undefined, b: number | undefined, digits = 2): string => (a !== undefined && b !== undefined && Number.isFinite(a / b) ? (a / b).toFixed(digits) : 'n/a');

function report(rows: Row[], command: string, totalS: number, limit: string, plan: Plan): void {
  const ours = rows.find((r) => r.kind === 'ours');
  const peer = rows.find((r) => r.kind === 'baresip');
  const both = [ours, peer].filter((r): r is Row => r !== undefined);
  const lines: string[] = [];
  lines.push(`endpoint media: ${CALLS} concurrent sipp calls (${RATE} calls/s), G.711 A-law from ${PCAP} looped both ways; measured ${SECONDS} s once all were up + ${WARMUP_MS / 1000} s; each call ${(plan.holdMs / 1000).toFixed(1)} s (${plan.loops} x ${plan.pcapMs} ms)`);
  lines.push(`node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${limit}`);
  lines.push(`command: ${command}`);
  lines.push('');
  const header = ['measure', ...both.map((r) => r.name), ...(ours && peer ? ['ours / baresip'] : [])];
  lines.push(`| ${header.join(' | ')} |`);
  lines.push(`| ${header.map(() => '---').join(' | ')} |`);
  // Totals compare only at the same number of calls (baresip holds at most 255).
  const sameCalls = ours !== undefined && peer !== undefined && ours.connected === peer.connected;
  const row = (label: string, value: (r: Row) => string, compare?: (r: Row) => number, total = false): void => {
    const cells = both.map(value);
    if (ours && peer) cells.push(!compare ? '' : total && !sameCalls ? 'n/a (calls differ)' : ratio(compare(ours), compare(peer)));
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  };
  row('calls up (sipp ACKs) / ramp', (r) => `${r.connected} of ${r.calls} in ${r.rampS.toFixed(1)} s`);
  row('failed calls (sipp)', (r) => `${r.sipp.failed} of ${r.sipp.created} (successful ${r.sipp.successful})`);
  row('CPU, % of one core', (r) => `${fixed(r.cpuPct, 1)} %`, (r) => r.cpuPct, true);
  row('CPU per call, % of one core', (r) => `${fixed(r.cpuPct / r.connected, 3)} %`, (r) => r.cpuPct / r.connected);
  row('cores used: mean / busiest second', (r) => `${fixed(r.cpuPct / 100, 2)} / ${fixed(r.peakCores, 2)}`, (r) => r.cpuPct, true);
  row('threads', (r) => String(r.threads));
  row('RSS at the end (peak)', (r) => `${fixed(r.rssMb, 0)} MB (${fixed(r.hwmMb, 0)} MB)`, (r) => r.rssMb, true);
  if (peer) row("RSS less baresip's loaded silence files", (r) => (r.sourceMb ? `${fixed(Math.max(0, r.rssMb - r.sourceMb), 0)} MB (${fixed(r.rssMb, 0)} - ${fixed(r.sourceMb, 0)})` : `${fixed(r.rssMb, 0)} MB`), (r) => Math.max(0, r.rssMb - r.sourceMb), true);
  row('RSS growth per call (from idle, less those files)', (r) => `${fixed((r.rssMb - r.sourceMb - r.idleRssMb) / r.connected, 3)} MB (idle ${fixed(r.idleRssMb, 0)} MB)`, (r) => (r.rssMb - r.sourceMb - r.idleRssMb) / r.connected);
  row('RTP sent: streams covering the window', (r) => `${r.rtp.sent.covering} of ${r.rtp.sent.streams}`);
  row('RTP sent: packets, ptime', (r) => `${r.rtp.sent.packets} (${fixed(r.rtp.sent.packets / r.rtp.sent.streams / SECONDS, 1)}/s per stream), ${fixed(r.rtp.sent.ptimeMs, 1)} ms`);
  row('RTP sent: loss (sequence gaps)', (r) => `${fixed(r.rtp.sent.lossPct, 3)} % (${r.rtp.sent.lost} of ${r.rtp.sent.expected}${r.rtp.sent.outOfOrder ? `, ${r.rtp.sent.outOfOrder} out of order` : ''})`, (r) => r.rtp.sent.lossPct);
  row('send interval vs 20 ms: p50', (r) => `${fixed(r.rtp.sent.deviation.p50, 2)} ms`, (r) => r.rtp.sent.deviation.p50);
  row('send interval vs 20 ms: p99', (r) => `${fixed(r.rtp.sent.deviation.p99, 2)} ms`, (r) => r.rtp.sent.deviation.p99);
  row('send interval vs 20 ms: p99.9 / max', (r) => `${fixed(r.rtp.sent.deviation.p999, 2)} / ${fixed(r.rtp.sent.deviation.max, 1)} ms`, (r) => r.rtp.sent.deviation.max);
  row('RTP from sipp: streams covering the window', (r) => `${r.rtp.received.covering} of ${r.rtp.received.streams} (${fixed(r.rtp.received.packetsPerSecond, 1)} packets/s each, max gap ${fixed(r.rtp.received.maxGapMs, 0)} ms)`);
  row('sipp CPU, % of one core', (r) => `${fixed(r.sippCpuPct, 1)} %`);
  row('capture: packets / dropped', (r) => `${r.capture.packets} / ${r.capture.dropped}`);
  row('run time', (r) => `${r.seconds.toFixed(0)} s`);
  for (const r of both) {
    for (const note of r.notes) lines.push(`${r.name}: ${note}`);
    if (r.endpoint) lines.push(`${r.name}: ${r.endpoint.incoming} incoming, ${r.endpoint.connected} connected, ${r.endpoint.disconnected} ended${r.endpoint.errorCount ? `; ${r.endpoint.errorCount} errors logged, first: ${r.endpoint.errors.join(' | ')}` : ''}`);
    if (r.sipp.failed > 0) lines.push(`${r.name}: sipp messages: ${r.sipp.messages.join('; ')}`);
  }
  lines.push(`total run time ${totalS.toFixed(0)} s`);
  console.log(['', '----- summary -----', ...lines, '-------------------'].join('\n'));

  const summary = (r: Row | undefined): Record<string, unknown> | null =>
    r
      ? {
          calls: r.calls,
          connected: r.connected,
          failed: r.sipp.failed,
          cpuPct: Number(r.cpuPct.toFixed(1)),
          cpuPctPerCall: Number((r.cpuPct / r.connected).toFixed(4)),
          peakCores: Number(r.peakCores.toFixed(2)),
          threads: r.threads,
          rssMb: Math.round(r.rssMb),
          ...(r.sourceMb ? { rssLessSilenceFilesMb: Math.round(Math.max(0, r.rssMb - r.sourceMb)) } : {}),
          sentStreams: r.rtp.sent.streams,
          sentLossPct: Number(r.rtp.sent.lossPct.toFixed(4)),
          sendDeviationMs: { p50: Number(r.rtp.sent.deviation.p50.toFixed(3)), p99: Number(r.rtp.sent.deviation.p99.toFixed(3)), max: Number(r.rtp.sent.deviation.max.toFixed(1)) },
          receivedStreamsCovering: r.rtp.received.covering,
        }
      : null;
  const json = {
    bench: 'endpoint-media',
    calls: CALLS,
    mediaThreads: THREADS,
    rate: RATE,
    seconds: SECONDS,
    node: process.version,
    ours: summary(ours),
    baresip: summary(peer),
    ratios:
      ours && peer
        ? {
            cpuPerCall: Number(ratio(ours.cpuPct / ours.connected, peer.cpuPct / peer.connected)),
            ...(ours.connected === peer.connected ? { cpu: Number(ratio(ours.cpuPct, peer.cpuPct)), rss: Number(ratio(ours.rssMb, peer.rssMb)), rssLessSilenceFiles: Number(ratio(ours.rssMb, Math.max(0, peer.rssMb - peer.sourceMb))) } : {}),
            sendDeviationP50: Number(ratio(ours.rtp.sent.deviation.p50, peer.rtp.sent.deviation.p50)),
            sendDeviationP99: Number(ratio(ours.rtp.sent.deviation.p99, peer.rtp.sent.deviation.p99)),
          }
        : null,
  };
  console.log(JSON.stringify(json));
}

async function main(): Promise<void> {
  if (option('role', '') === 'endpoint') return endpointRole();
  const started = Date.now();
  const command = `npx tsx ${relative(process.cwd(), process.argv[1]!)} ${process.argv.slice(2).join(' ')}`.trim();
  console.log(`command: ${command}`);
  for (const program of ['sipp', 'dumpcap', 'prlimit', ...(ONLY !== 'ours' ? ['baresip'] : [])]) {
    if (!installed(program)) throw new Error(`${program} is not installed (apt-get install sip-tester wireshark-common baresip util-linux)`);
  }
  if (!existsSync(PCAP)) throw new Error(`${PCAP} is missing (apt-get install sip-tester)`);
  const limit = raiseFileLimit();
  const dir = mkdtempSync(join(tmpdir(), 'sep-endpoint-media-'));
  const pcapMs = pcapDurationMs(PCAP);
  // Every call stays up from its ACK past the window's end, however late in the ramp it came.
  const wantedMs = (CALLS / RATE) * 1000 + CONNECT_SLACK_MS + WARMUP_MS + SECONDS * 1000 + MARGIN_MS;
  const loops = Math.ceil(wantedMs / pcapMs);
  const profileDir = PROFILE ? mkdtempSync(join(tmpdir(), 'sep-endpoint-media-profile-')) : undefined;
  const plan: Plan = { dir, loops, pcapMs, holdMs: loops * pcapMs, profileDir };
  if (OURS_RTP[1] > 50999 || (ONLY !== 'ours' && BARESIP_RTP[1] > 50999)) {
    console.log(`note: ${CALLS} calls need RTP ports above 50999: ours ${OURS_RTP.join('-')}, baresip ${BARESIP_RTP.join('-')}`);
  }
  console.log(`${limit}; temporary directory ${dir}; each call ${(plan.holdMs / 1000).toFixed(1)} s (${loops} x ${pcapMs} ms of ${PCAP})`);

  const rows: Row[] = [];
  try {
    if (ONLY !== 'ours') rows.push(await runUa('baresip', plan));
    if (ONLY !== 'baresip') rows.push(await runUa('ours', plan));
    report(rows, command, (Date.now() - started) / 1000, limit, plan);
    if (profileDir) {
      const profiles = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'));
      console.log(`CPU profile of the endpoint (its CPU above includes the profiler): ${profiles.map((name) => join(profileDir, name)).join(', ') || `none written in ${profileDir}`}`);
    }
  } finally {
    if (KEEP) console.log(`kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});
