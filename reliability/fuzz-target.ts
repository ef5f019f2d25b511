/**
 * The endpoint under fuzz, in a process of its own (forked by the fuzz driver, inside the driver's
 * network namespace): a stand-alone `Endpoint` as a user runs it, with four lines (UDP with its TCP
 * side, TCP, TLS with a listening port, WS to the driver's server), answering the driver's real
 * call ("caller") and at most one fuzzed INVITE a second (others get 486), a tone on its
 * microphone. It reports over IPC: ready (its ports), stats on request, and every uncaught
 * exception or unhandled rejection.
 */
import { createWriteStream, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { EndpointConfig } from '@sip-endpoint/config';
import { VirtualAudioProvider } from '@sip-endpoint/media';
import { Endpoint } from '@sip-endpoint/endpoint-core';
import { composePolicy, DefaultPolicy, headerValues } from '@sip-endpoint/policy';

/** What the driver gives the target (JSON in argv[2]). */
export interface TargetSettings {
  sipPort: number;
  rtpBase: number;
  /** Our certificate and key in one PEM file, for the TLS line's listening port. */
  tlsBundle: string;
  /** The driver's WebSocket server (`host:port`) for the WS line. */
  wsServer: string;
  /** Where the endpoint's log goes, at level 4 (checked for secrets afterwards). */
  logFile: string;
  /** The WS line's password (its server challenges the REGISTER). */
  password: string;
}

/** Messages from the target to the driver. */
export type TargetMessage =
  | { type: 'ready'; ports: { udp: number; tcp: number; tls: number } }
  | { type: 'stats'; stats: TargetStats }
  | { type: 'problem'; kind: 'uncaughtException' | 'unhandledRejection'; message: string };

export interface TargetStats {
  fds: number;
  /** RTP socket pairs the endpoint keeps bound for its next calls (two descriptors each; `spareRtpPorts`). */
  spareRtpPairs: number;
  rss: number;
  heapUsed: number;
  calls: number;
  answered: number;
  rejected: number;
  lines: string[];
  /** The real call's stream: packets received and lost. */
  realCall: { state: string; received: number; lost: number } | undefined;
  requestsRefused: number;
  /** Each call: its state, far end and age in seconds. */
  callList: string[];
  /** What each open descriptor is (sockets with their TCP endpoints), when the driver asks for it. */
  fdList?: string[];
  /** The event loop's longest delay since the target started, in ms. */
  loopDelayMaxMs: number;
  /** The longest garbage-collection pauses so far (at most 5): kind, length and when (epoch ms). */
  gcPauses: Array<{ kind: string; ms: number; at: number }>;
  /** The largest backlog of the harness's log stream (bytes written, not yet on disk). */
  logBacklog: number;
}

let logBacklog = 0;

// What holds the event loop: its delay, and the collector's pauses, to tell a slow probe's cause.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const GC_KINDS: Record<number, string> = { 1: 'scavenge', 2: 'minor mark-sweep', 4: 'mark-compact', 8: 'incremental marking', 16: 'weak callbacks' };
const gcPauses: TargetStats['gcPauses'] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries() as Array<PerformanceEntry & { detail?: { kind?: number } }>) {
    if (gcPauses.length === 5 && entry.duration <= gcPauses[4]!.ms) continue;
    gcPauses.push({ kind: GC_KINDS[entry.detail?.kind ?? 0] ?? String(entry.detail?.kind), ms: Math.round(entry.duration), at: Math.round(performance.timeOrigin + entry.startTime) });
    gcPauses.sort((a, b) => b.ms - a.ms);
    gcPauses.length = Math.min(gcPauses.length, 5);
  }
}).observe({ entryTypes: ['gc'] });

const send = (message: TargetMessage): void => {
  process.send?.(message);
};

function problem(kind: 'uncaughtException' | 'unhandledRejection', error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
  send({ type: 'problem', kind, message });
}

process.on('uncaughtException', (error) => {
  problem('uncaughtException', error);
  // An uncaught exception leaves the process in an unknown state: end it as Node would.
  setTimeout(() => process.exit(70), 100);
});
process.on('unhandledRejection', (reason) => problem('unhandledRejection', reason));
// The driver gone (its IPC channel closed): nothing left to do here.
process.on('disconnect', () => process.exit(0));

/** The open descriptors, sockets named by their TCP endpoints (from /proc/net/tcp). */
function describeDescriptors(): string[] {
  const sockets = new Map<string, string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const port = (hex: string): number => parseInt(hex.split(':')[1] ?? '0', 16);
      sockets.set(fields[9]!, `tcp ${port(fields[1]!)} -> ${port(fields[2]!)} state ${fields[3]}`);
    }
  }
  return readdirSync('/proc/self/fd').map((fd) => {
    let link = '';
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return `${fd}: gone`;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    return `${fd}: ${inode ? (sockets.get(inode) ?? link) : link}`;
  });
}

async function main(): Promise<void> {
  const settings = JSON.parse(process.argv[2] ?? '{}') as TargetSettings;
  const config = EndpointConfig.defaults().with({
    'user:0': 'agent',
    'server:0': '127.0.0.1:5060',
    'user:1': 'agent',
    'server:1': '127.0.0.1:5060',
    'protocol:1': 'TCP',
    'user:2': 'agent',
    'server:2': '127.0.0.1:5061',
    'protocol:2': 'TLS',
    'user:3': 'agent',
    'server:3': settings.wsServer,
    'protocol:3': 'WS',
    'proxies.proxy0.reg_timeout': '0',
    'proxies.proxy1.reg_timeout': '0',
    'proxies.proxy2.reg_timeout': '0',
    'proxies.proxy3.reg_timeout': '3600',
    'proxies.proxy3.password': settings.password,
    'system.security.certificate': settings.tlsBundle,
    'policy.endpoint.public_address': '127.0.0.1',
    'policy.endpoint.sip_port_min': String(settings.sipPort),
    'policy.endpoint.sip_port_max': String(settings.sipPort + 20),
    'policy.endpoint.rtp_port_min': String(settings.rtpBase),
    'policy.endpoint.rtp_port_max': String(settings.rtpBase + 399),
    'system.media.ringing_file': '',
    'system.diagnostics.log_level': '4',
    // The fuzz is of what the endpoint does with each message, not of its rate limit.
    'policy.endpoint.sip_rate_limit': '0',
    'system.security.use_srtp': 'optional',
  });
  const devices = new VirtualAudioProvider({ defaults: false });
  devices.addInput({ name: 'Tone', id: 'mic' }, { kind: 'tone', frequencies: [700], levelDbfs: -12 });
  devices.addOutput({ name: 'Null', id: 'speaker' });
  let answered = 0;
  let rejected = 0;
  let lastAnswer = 0;
  const policy = composePolicy(new DefaultPolicy(), {
    shouldAnswer: (ctx) => {
      const from = headerValues(ctx.headers, 'From')[0] ?? '';
      if (/sip:caller@/.test(from)) return { answer: true, delayMs: 0, reason: 'the real call' };
      // A fuzzed INVITE: one a second is answered (the answer path fuzzed too), the rest refused,
      // so that unanswered 200s (no ACK comes) do not pile up RTP ports.
      const now = Date.now();
      if (now - lastAnswer >= 1000) {
        lastAnswer = now;
        answered++;
        return { answer: true, delayMs: 0, reason: 'fuzzed, answered' };
      }
      rejected++;
      return { answer: false, sipCode: 486, reason: 'fuzzed' };
    },
  });
  const log = createWriteStream(settings.logFile);
  // The log stream buffers what the disk has not taken yet: its largest backlog is reported (memory the target holds for the harness, not for the endpoint).
  const endpoint = new Endpoint({
    config,
    devices,
    policy,
    logger: (level, message, component) => {
      log.write(`${level} ${component ?? ''} ${message}\n`);
      logBacklog = Math.max(logBacklog, log.writableLength);
    },
  });
  const created = new WeakMap<object, number>();
  endpoint.on('callStateChanged', (call) => {
    if (!created.has(call)) created.set(call, Date.now());
  });
  await endpoint.start();
  const ports = endpoint.lines.map((line) => line.port ?? 0);
  send({ type: 'ready', ports: { udp: ports[0]!, tcp: ports[1]!, tls: ports[2]! } });

  process.on('message', (message: { type: string; detail?: boolean }) => {
    if (message.type === 'stats') {
      const real = endpoint.calls.find((call) => /caller/.test(call.info().remote ?? ''));
      const stats = real?.media?.stats();
      send({
        type: 'stats',
        stats: {
          fds: readdirSync('/proc/self/fd').length,
          spareRtpPairs: endpoint.spareRtpPairs,
          rss: process.memoryUsage.rss(),
          heapUsed: process.memoryUsage().heapUsed,
          calls: endpoint.calls.length,
          answered,
          rejected,
          lines: endpoint.lines.map((line) => line.state),
          realCall: real ? { state: real.state, received: stats?.received.packets ?? 0, lost: stats?.received.lost ?? 0 } : undefined,
          requestsRefused: endpoint.lines.reduce((sum, line) => sum + line.counters.requestsRefused, 0),
          loopDelayMaxMs: Math.round(loopDelay.max / 1e6),
          gcPauses: [...gcPauses],
          logBacklog,
          ...(message.detail ? { fdList: describeDescriptors() } : {}),
          callList: endpoint.calls.map((call) => {
            const info = call.info();
            return `${info.state} ${info.direction} line ${info.line} ${info.remote} ${Math.round((Date.now() - (created.get(call) ?? Date.now())) / 1000)} s ${call.session.id}`;
          }),
        },
      });
    } else if (message.type === 'stop') {
      void endpoint.stop().finally(() => log.end(() => process.exit(0)));
    }
  });
}

main().catch((error: unknown) => {
  problem('uncaughtException', error);
  process.exit(71);
});
