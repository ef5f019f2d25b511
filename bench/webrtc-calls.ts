// The per-call cost of the two media engines, side by side in one run: two Endpoints in this
// process (their default devices: a silent microphone, a null speaker) register with Kamailio on
// 127.0.0.1, and one places N calls to the other, auto-answered. Once every call is up, this
// process's CPU time, resident memory and thread count are measured for S seconds. Twice: native
// (UDP lines, RTP/AVP, PCMU) and WebRTC (HTTPS lines over WSS, libwebrtc through @roamhq/wrtc:
// ICE, DTLS-SRTP, PCMU). Both ends of every call are ours: the figures are per call with its two
// ends, and per call end.
// Run: npm run bench:webrtc -- --calls 20 --seconds 20   (after npm run build)
import { readFileSync } from 'node:fs';
import { EndpointConfig, type AddressResolver } from '@sip-endpoint/config';
import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import { Kamailio } from '../packages/endpoint-core/test/support/kamailio';
import { makeTestCertificates } from '../packages/endpoint-core/test/support/tls-certificates';
import { cpuTicks, installed, option, sleep } from './support/bench-tools';

const CALLS = Number(option('calls', '20'));
const SECONDS = Number(option('seconds', '20'));
const WARMUP_MS = 3000;
// Ports on 127.0.0.1: Kamailio 50000 (UDP/TCP), 50001 (TLS), 50002 (WSS); the endpoints' SIP from
// 50010 and RTP from 50100 (caller) and 51100 (callee).
const KAMAILIO = 50000;
const WSS = 50002;
if (CALLS < 1 || CALLS > 200) throw new RangeError(`--calls is 1 to 200, not ${CALLS}`);

type Engine = 'native' | 'webrtc';

const resolver: AddressResolver = {
  lookup: async (host, family) => (host === 'gateway.bench.test' && family === 4 ? ['127.0.0.1'] : []),
  resolveSrv: async () => [],
};

function threads(): number {
  return Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
}

function endpoint(engine: Engine, user: string, index: number, ca: string): Endpoint {
  const config = EndpointConfig.defaults().with({
    'user:0': user,
    'server:0': engine === 'webrtc' ? `https://gateway.bench.test:${WSS}/` : `127.0.0.1:${KAMAILIO}`,
    'protocol:0': engine === 'webrtc' ? 'HTTPS' : 'UDP',
    'proxies.proxy0.password': 'secret',
    'proxies.proxy0.reg_timeout': '3600',
    'policy.endpoint.public_address': '127.0.0.1',
    'policy.endpoint.sip_port_min': String(50010 + index * 7),
    'policy.endpoint.sip_port_max': String(50010 + index * 7 + 6),
    'policy.endpoint.rtp_port_min': String(50100 + index * 1000),
    'policy.endpoint.rtp_port_max': String(50100 + index * 1000 + 4 * CALLS + 40),
    'policy.session.auto_answer': index === 1 ? '1' : '0',
    'codecs.enabled.audio': 'pcmu',
    'system.security.certificate': ca,
    'system.media.ringing_file': '',
    'system.diagnostics.enable_logging': '0',
  });
  return new Endpoint({ config, resolver, logger: () => undefined });
}

interface Result {
  engine: Engine;
  cpuPercent: number;
  rssMb: number;
  threads: number;
  setupMs: number;
}

async function run(engine: Engine, ca: string): Promise<Result> {
  const caller = endpoint(engine, '8001', 0, ca);
  const callee = endpoint(engine, '8002', 1, ca);
  await Promise.all([caller.start(), callee.start()]);
  for (const side of [caller, callee]) await side.lines[0]!.whenReady({ timeoutMs: 10000 });
  // One call first: libwebrtc is loaded and its thread pools started before the baseline.
  const first = await caller.makeCall('8002');
  await waitConnected([first], engine);
  await first.hangup();
  await sleep(1000);
  const base = { rss: process.memoryUsage().rss, threads: threads() };
  const started = performance.now();
  const calls: Call[] = [];
  for (let i = 0; i < CALLS; i++) calls.push(await caller.makeCall('8002'));
  await waitConnected(calls, engine);
  const setupMs = (performance.now() - started) / CALLS;
  await sleep(WARMUP_MS);
  const ticks = cpuTicks(process.pid);
  const from = performance.now();
  await sleep(SECONDS * 1000);
  const cpuSeconds = (cpuTicks(process.pid) - ticks) / 100;
  const wall = (performance.now() - from) / 1000;
  const result: Result = {
    engine,
    cpuPercent: (100 * cpuSeconds) / wall,
    rssMb: (process.memoryUsage().rss - base.rss) / 1048576,
    threads: threads() - base.threads,
    setupMs,
  };
  await Promise.all(calls.map((call) => call.hangup().catch(() => undefined)));
  await Promise.all([caller.stop(), callee.stop()]);
  return result;
}

async function waitConnected(calls: readonly Call[], engine: Engine): Promise<void> {
  const deadline = Date.now() + 30000;
  const up = (call: Call): boolean => call.state === 'CONNECTED' && (engine === 'native' || (call.media.security.kind === 'webrtc' && call.media.security.state === 'connected'));
  while (!calls.every(up)) {
    if (Date.now() > deadline) throw new Error(`${calls.filter((call) => !up(call)).length} of ${calls.length} ${engine} calls not up after 30 s`);
    await sleep(50);
  }
}

async function main(): Promise<void> {
  if (!installed('kamailio')) throw new Error('kamailio is not installed (the README\'s test command installs it)');
  const certificates = makeTestCertificates(['gateway.bench.test']);
  const kamailio = await Kamailio.start(KAMAILIO, 'secret', { tls: { port: KAMAILIO + 1, certificate: certificates.serverCertificate, key: certificates.serverKey }, wss: { port: WSS } });
  try {
    const results: Result[] = [];
    for (const engine of ['native', 'webrtc'] as const) results.push(await run(engine, certificates.caCertificate));
    console.log(`${CALLS} calls (both ends in this process), PCMU, measured for ${SECONDS} s with every call up`);
    console.log('engine | CPU % of one core | per call | per call end | RSS MB per call | threads per call | setup ms per call');
    for (const r of results) {
      console.log(`${r.engine} | ${r.cpuPercent.toFixed(1)} | ${(r.cpuPercent / CALLS).toFixed(2)} | ${(r.cpuPercent / CALLS / 2).toFixed(2)} | ${(r.rssMb / CALLS).toFixed(2)} | ${(r.threads / CALLS).toFixed(2)} | ${r.setupMs.toFixed(0)}`);
    }
    const [native, webrtc] = results as [Result, Result];
    console.log(`webrtc / native CPU per call: ${(webrtc.cpuPercent / native.cpuPercent).toFixed(2)}x`);
    console.log(`call ends per core at this cost: native ${Math.floor(100 / (native.cpuPercent / CALLS / 2))}, webrtc ${Math.floor(100 / (webrtc.cpuPercent / CALLS / 2))}`);
  } finally {
    await kamailio.stop();
  }
  // libwebrtc's binding crashes in Node's teardown (node-webrtc #636): leave at once.
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
