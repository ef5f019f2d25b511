/**
 * The soak: `agents` registered lines (one `Endpoint` each, auto-answer, a tone on the microphone)
 * answer `calls` sipp calls through Kamailio, each call G.711 A-law both ways for `holdMs`. Runs
 * inside a network namespace of its own (Kamailio, sipp and the agents on its loopback).
 *
 * Checked: no call failed (sipp's count and the agents'), every call carried audio, the process's
 * RSS after a full collection within 5 % between the `checkpoint`th call and the last (with the
 * heap snapshots' difference by constructor to back it), and descriptors, timers and UDP ports
 * back to the baseline taken once the lines were registered.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { EndpointConfig } from '@sip-endpoint/config';
import { AudioStream, VirtualAudioProvider } from '@sip-endpoint/media';
import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import { Kamailio } from '../packages/endpoint-core/test/support/kamailio';
import { callScenario, sippStats, startProgram } from '../bench/support/bench-tools';
import { runAsScript } from './namespace';

export interface SoakOptions {
  calls: number;
  agents: number;
  /** sipp's calls per second. @defaultValue 25 */
  rate?: number;
  /** How long each call stays up, with media both ways. @defaultValue 1000 */
  holdMs?: number;
  /** The call at which the first memory reading is taken. @defaultValue a fifth of `calls` */
  checkpoint?: number;
}

/** What the process holds: descriptors, timers, UDP sockets, memory. */
export interface Holdings {
  fds: number;
  timers: number;
  udpSockets: number;
  /** RTP socket pairs the agents keep bound for their next calls (`spareRtpPorts`; two descriptors and two UDP sockets each). */
  spareRtpPairs: number;
  rssMb: number;
  heapMb: number;
  /** Memory outside the JS heap that V8 knows of (ArrayBuffers' backing stores among it). */
  externalMb: number;
  /** What V8 has reserved for its heap (used or not). */
  heapTotalMb: number;
}

export interface SoakReport {
  calls: number;
  agents: number;
  rate: number;
  holdMs: number;
  sipp: { created: number; successful: number; failed: number };
  agentsSaw: { incoming: number; connected: number; disconnected: number; silentCalls: number; rtpReceived: number; rtpLost: number; registrationsLost: number; errors: string[] };
  baseline: Holdings;
  atCheckpoint: Holdings & { call: number };
  atEnd: Holdings;
  rssGrowthPct: number;
  /** The constructors whose retained self size grew most between the two snapshots. */
  heapGrowth: Array<{ name: string; count: number; bytes: number }>;
  durationS: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const PCAP = '/usr/share/sip-tester/g711a.pcap';
const KAMAILIO_PORT = 27000;
const SIPP_PORT = 27001;
const SIPP_MEDIA_PORT = 27010;
const AGENT_SIP_BASE = 27100;
const AGENT_RTP_BASE = 28000;
const RTP_PER_AGENT = 4;
const FIRST_DN = 4000;

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the soak needs --expose-gc');
  gc();
  gc();
}

/** UDP sockets open in this network namespace (the soak's own namespace: ours, Kamailio's, sipp's). */
function udpSockets(): number {
  const count = (file: string): number => {
    try {
      return readFileSync(file, 'latin1').trim().split('\n').length - 1;
    } catch {
      return 0;
    }
  };
  return count('/proc/net/udp') + count('/proc/net/udp6');
}

function holdings(agents: readonly Endpoint[]): Holdings {
  collect();
  const memory = process.memoryUsage();
  return {
    fds: readdirSync('/proc/self/fd').length,
    timers: process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length,
    udpSockets: udpSockets(),
    spareRtpPairs: agents.reduce((sum, endpoint) => sum + endpoint.spareRtpPairs, 0),
    rssMb: Math.round((memory.rss / 1048576) * 10) / 10,
    heapMb: Math.round((memory.heapUsed / 1048576) * 10) / 10,
    externalMb: Math.round((memory.external / 1048576) * 10) / 10,
    heapTotalMb: Math.round((memory.heapTotal / 1048576) * 10) / 10,
  };
}

/** Self size and count of a heap snapshot's objects by constructor name. */
function heapByConstructor(file: string): Map<string, { count: number; bytes: number }> {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const fields = snapshot.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = snapshot.snapshot.meta.node_types[0];
  const result = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt]!]!;
    const name = type === 'object' || type === 'closure' ? snapshot.strings[snapshot.nodes[i + nameAt]!]! : `(${type})`;
    const entry = result.get(name) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snapshot.nodes[i + sizeAt]!;
    result.set(name, entry);
  }
  return result;
}

function agent(index: number, log: (message: string) => void): Endpoint {
  const dn = String(FIRST_DN + index);
  const rtp = AGENT_RTP_BASE + index * RTP_PER_AGENT;
  const config = EndpointConfig.defaults().with({
    'user:0': dn,
    'server:0': `127.0.0.1:${KAMAILIO_PORT}`,
    'proxies.proxy0.password': 'secret',
    'proxies.proxy0.reg_timeout': '3600',
    'policy.endpoint.public_address': '127.0.0.1',
    'policy.endpoint.sip_port_min': String(AGENT_SIP_BASE + index),
    'policy.endpoint.sip_port_max': String(AGENT_SIP_BASE + index),
    'policy.endpoint.rtp_port_min': String(rtp),
    'policy.endpoint.rtp_port_max': String(rtp + RTP_PER_AGENT - 1),
    'policy.session.auto_answer': '1',
    'system.media.ringing_file': '',
  });
  const devices = new VirtualAudioProvider({ defaults: false });
  devices.addInput({ name: 'Headset Microphone', id: 'mic' }, { kind: 'tone', frequencies: [400 + (index % 10) * 50], levelDbfs: -15 });
  devices.addOutput({ name: 'Headset Earphone', id: 'speaker' });
  return new Endpoint({ config, devices, logger: (level, message) => level <= 1 && log(`${dn}: ${message}`) });
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const rate = options.rate ?? 25;
  const holdMs = options.holdMs ?? 1000;
  const checkpoint = options.checkpoint ?? Math.floor(options.calls / 5);
  if (options.agents / rate <= holdMs / 1000 + 1) throw new RangeError(`${options.agents} agents at ${rate} calls/s are called again before a ${holdMs} ms call has ended`);
  const dir = mkdtempSync(join(tmpdir(), 'sep-soak-'));
  const kamailio = await Kamailio.start(KAMAILIO_PORT, 'secret');
  const errors: string[] = [];
  const saw = { incoming: 0, connected: 0, disconnected: 0, silentCalls: 0, rtpReceived: 0, rtpLost: 0, registrationsLost: 0, errors };
  const agents = Array.from({ length: options.agents }, (_, i) => agent(i, (message) => errors.length < 10 && errors.push(message)));
  let checkpointReached: (() => void) | undefined;
  const atCheckpoint = new Promise<void>((resolve) => (checkpointReached = resolve));
  for (const endpoint of agents) {
    const streams = new Map<Call, AudioStream>();
    endpoint.on('incomingCall', () => saw.incoming++);
    endpoint.on('callStateChanged', (call, state) => {
      if (state === 'CONNECTED') {
        saw.connected++;
        if (call.media.stream instanceof AudioStream) streams.set(call, call.media.stream);
      } else if (state === 'DISCONNECTED') {
        saw.disconnected++;
        const received = streams.get(call)?.stats().received;
        streams.delete(call);
        if (!received || received.packets === 0) saw.silentCalls++;
        else {
          saw.rtpReceived += received.packets;
          saw.rtpLost += Math.max(0, received.lost);
        }
        if (saw.disconnected === checkpoint) checkpointReached?.();
      }
    });
    endpoint.on('connectionStateChanged', (_line, state, previous) => {
      if (previous === 'READY' && state !== 'READY') saw.registrationsLost++;
    });
  }
  try {
    await Promise.all(agents.map((endpoint) => endpoint.start()));
    const readyBy = Date.now() + 30000;
    while (!agents.every((endpoint) => endpoint.lines[0]?.state === 'READY')) {
      if (Date.now() > readyBy) throw new Error(`not every agent registered: ${agents.filter((endpoint) => endpoint.lines[0]?.state !== 'READY').length} are not READY`);
      await sleep(100);
    }
    await sleep(500);
    const baseline = holdings(agents);

    const dnFile = join(dir, 'dns.csv');
    writeFileSync(dnFile, ['SEQUENTIAL', ...Array.from({ length: options.agents }, (_, i) => `${FIRST_DN + i};`)].join('\n') + '\n');
    const scenario = join(dir, 'soak.xml');
    writeFileSync(scenario, callScenario({ name: 'soak', user: '[field0]', formats: [{ payloadType: 8, rtpmap: 'PCMA/8000' }], routed: true, provisional: 'global', pcap: PCAP }));
    const seconds = options.calls / rate;
    const sipp = await startProgram(
      'sipp',
      ['-sf', scenario, '-inf', dnFile, '-i', '127.0.0.1', '-p', String(SIPP_PORT), '-mi', '127.0.0.1', '-mp', String(SIPP_MEDIA_PORT), '-r', String(rate), '-m', String(options.calls), '-d', String(holdMs), '-nostdin', '-trace_err', '-timeout', `${Math.ceil(seconds + 120)}s`, '-timeout_error', `127.0.0.1:${KAMAILIO_PORT}`],
      undefined,
      0,
      dir,
    );
    // The first memory reading once `checkpoint` calls have ended (sipp goes on meanwhile).
    await Promise.race([atCheckpoint, sipp.exited]);
    const checkpointCall = saw.disconnected;
    // The snapshot first, then the reading: writing a snapshot takes native memory the allocator
    // keeps, and the end's reading (before its own snapshot) must not count it as growth.
    collect();
    const firstSnapshot = writeHeapSnapshot(join(dir, 'checkpoint.heapsnapshot'));
    const first = holdings(agents);
    await sipp.exited;
    const settledBy = Date.now() + 20000;
    while (agents.some((endpoint) => endpoint.calls.length > 0) && Date.now() < settledBy) await sleep(200);
    // The transactions of the last calls keep their timers for up to 32 s after the calls end
    // (RFC 3261 Timers H, J and K; RFC 6026 Timer L): the reading waits for them, up to 40 s.
    let atEnd = holdings(agents);
    for (const until = Date.now() + 40000; atEnd.timers > baseline.timers && Date.now() < until; atEnd = holdings(agents)) await sleep(1000);
    const lastSnapshot = writeHeapSnapshot(join(dir, 'end.heapsnapshot'));
    const before = heapByConstructor(firstSnapshot);
    const after = heapByConstructor(lastSnapshot);
    const heapGrowth = [...after.entries()]
      .map(([name, entry]) => ({ name, count: entry.count - (before.get(name)?.count ?? 0), bytes: entry.bytes - (before.get(name)?.bytes ?? 0) }))
      .filter((entry) => entry.bytes !== 0 || entry.count !== 0)
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 8);
    const stats = sippStats(sipp.output());
    return {
      calls: options.calls,
      agents: options.agents,
      rate,
      holdMs,
      sipp: { created: stats.created, successful: stats.successful, failed: stats.failed },
      agentsSaw: { ...saw, errors: [...errors] },
      baseline,
      atCheckpoint: { ...first, call: checkpointCall },
      atEnd,
      rssGrowthPct: Math.round(((atEnd.rssMb - first.rssMb) / first.rssMb) * 1000) / 10,
      heapGrowth,
      durationS: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    await Promise.all(agents.map((endpoint) => endpoint.stop().catch(() => undefined)));
    await kamailio.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Run as a script (inside the namespace): options as JSON in argv[2], the report on the last line.
if (require.main === module) runAsScript<SoakOptions, unknown>(runSoak);
