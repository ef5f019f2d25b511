// Many agents in one process: N Endpoints (DNs 1000..), each with its own line, register with
// Kamailio over UDP (digest); then sipp places calls through Kamailio to the DNs in turn, each
// call with G.711 A-law RTP from sipp (play_pcap_audio of sipp's g711a.pcap) and our audio back,
// auto-answered and held a few seconds. Measures the time until every line is READY, failed calls
// (sipp's count), registrations lost, peak RSS and the event-loop delay.
// Run: npm run bench:agents -- --agents 1000 --rate 20 --seconds 60 --hold-ms 4000   (after npm run build)
//   --reg-timeout 3600   the lines' registration expiry (s); refreshed at 99 % of it
//   --only ours          our agents only (by default baresip too, after ours: 1000 accounts in one
//                        baresip 1.0 process, registered with the same Kamailio, called by the
//                        same sipp scenario; ratios ours / baresip in the summary)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EndpointConfig } from '@sip-endpoint/config';
import { AudioStream, VirtualAudioProvider } from '@sip-endpoint/media';
import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import { Kamailio } from '../packages/endpoint-core/test/support/kamailio';
import { callScenario, cpuTicks, installed, ms, option, processMemory, silentWav, sippStats, sleep, startBaresip, startProgram, type SippStats } from './support/bench-tools';

const AGENTS = Number(option('agents', '1000'));
const RATE = Number(option('rate', '20'));
const SECONDS = Number(option('seconds', '60'));
const HOLD_MS = Number(option('hold-ms', '4000'));
const REG_TIMEOUT = Number(option('reg-timeout', '3600'));
const ONLY = option('only', 'both');
if (!['both', 'ours'].includes(ONLY)) throw new RangeError(`--only is ours (or left out for both), not ${ONLY}`);
/** baresip's accounts get DNs of their own, so that nothing of ours left in Kamailio's location table reaches them. */
const BARESIP_FIRST_DN = 3000;
const BARESIP_SIP = 50005;
const BARESIP_RTP: readonly [number, number] = [56000, 59999];
const FIRST_DN = 1000;
const PCAP = '/usr/share/sip-tester/g711a.pcap';

// Ports (127.0.0.1 only), inside 50000-59999: Kamailio, sipp, then per agent one SIP port and
// four RTP ports (two calls' RTP + RTCP).
const KAMAILIO_PORT = 50000;
const SIPP_PORT = 50001;
const SIPP_MEDIA_PORT = 50010;
const AGENT_SIP_BASE = 51000;
const AGENT_RTP_BASE = 52000;
const RTP_PER_AGENT = 4;
// The DNs are called in turn: an agent's next call comes AGENTS / RATE seconds after its last one.
if (AGENTS / RATE <= HOLD_MS / 1000 + 1) throw new RangeError(`${AGENTS} agents at ${RATE} calls/s are called again before a ${HOLD_MS} ms call has ended: use more agents`);
if (AGENTS > 1000 || AGENT_RTP_BASE + AGENTS * RTP_PER_AGENT > 60000) throw new RangeError(`at most 1000 agents fit the port range, not ${AGENTS}`);

// Targets.
const READY_TARGET_S = 10;
const RSS_TARGET_MB = 1024;
/** While the lines register, no stall of the event loop longer than this. */
const REGISTRATION_STALL_TARGET_MS = 100;
const LOOP_DELAY_TARGET_MS = 20;

/**
 * INVITE through Kamailio to [field0] with a PCMA offer; 200; ACK; G.711 A-law RTP from a pcap;
 * pause; BYE. The 1xx are optional "global": Kamailio's two UDP workers can pass a 180 on after
 * the 200, which is no failure.
 */
const SCENARIO = callScenario({ name: 'many agents', user: '[field0]', formats: [{ payloadType: 8, rtpmap: 'PCMA/8000' }], routed: true, provisional: 'global', pcap: PCAP });

/** One agent: an Endpoint with one registered line, auto-answer, a tone microphone, a null speaker. */
function agent(index: number, logger: (level: number, message: string) => void): Endpoint {
  const dn = String(FIRST_DN + index);
  const rtp = AGENT_RTP_BASE + index * RTP_PER_AGENT;
  const config = EndpointConfig.defaults().with({
    'user:0': dn,
    'server:0': `127.0.0.1:${KAMAILIO_PORT}`,
    'proxies.proxy0.password': 'secret',
    'proxies.proxy0.reg_timeout': String(REG_TIMEOUT),
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
  return new Endpoint({ config, devices, logger: (level, message) => logger(level, `${dn}: ${message}`) });
}

/** Counts of what the agents saw. */
class Tally {
  incoming = 0;
  connected = 0;
  disconnected = 0;
  /** Calls that ended without a single RTP packet received. */
  silentCalls = 0;
  rtpReceived = 0;
  rtpLost = 0;
  /** Lines that left READY during the calls. */
  registrationsLost = 0;
  errors: string[] = [];
  errorCount = 0;

  log = (level: number, message: string): void => {
    if (level > 1) return;
    this.errorCount++;
    if (this.errors.length < 10) this.errors.push(message);
  };

  follow(endpoint: Endpoint): void {
    const streams = new Map<Call, AudioStream>();
    endpoint.on('incomingCall', () => this.incoming++);
    endpoint.on('callStateChanged', (call, state) => {
      if (state === 'CONNECTED') {
        this.connected++;
        const stream = call.media.stream;
        if (stream instanceof AudioStream) streams.set(call, stream);
      }
      if (state === 'DISCONNECTED') {
        this.disconnected++;
        const stream = streams.get(call);
        streams.delete(call);
        const received = stream?.stats().received;
        if (!received || received.packets === 0) this.silentCalls++;
        else {
          this.rtpReceived += received.packets;
          this.rtpLost += Math.max(0, received.lost);
        }
      }
    });
    endpoint.on('connectionStateChanged', (_line, state, previous) => {
      if (previous === 'READY' && state !== 'READY') this.registrationsLost++;
    });
  }
}

const pass = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

/** sipp calls `RATE` x `SECONDS` DNs from `firstDn` in turn through Kamailio. */
async function placeCalls(dir: string, who: string, firstDn: number): Promise<SippStats> {
  const dnFile = join(dir, `dns-${who}.csv`);
  writeFileSync(dnFile, ['SEQUENTIAL', ...Array.from({ length: AGENTS }, (_, i) => `${firstDn + i};`)].join('\n') + '\n');
  const scenario = join(dir, 'many-agents.xml');
  writeFileSync(scenario, SCENARIO);
  const sipp = await startProgram(
    'sipp',
    ['-sf', scenario, '-inf', dnFile, '-i', '127.0.0.1', '-p', String(SIPP_PORT), '-mi', '127.0.0.1', '-mp', String(SIPP_MEDIA_PORT), '-r', String(RATE), '-m', String(RATE * SECONDS), '-d', String(HOLD_MS), '-nostdin', '-trace_err', '-timeout', `${SECONDS + 60}s`, '-timeout_error', `127.0.0.1:${KAMAILIO_PORT}`],
    undefined,
    0,
    dir,
  );
  await sipp.exited;
  await sleep(500);
  return sippStats(sipp.output());
}

/** The same registration and calls against one baresip process with `AGENTS` accounts. */
async function runBaresip(dir: string): Promise<{ readyS: number; registered: number; stats: SippStats; hwmMb: number; cpuPct: number }> {
  const baresipDir = join(dir, 'baresip');
  const wav = join(dir, 'silence.wav');
  silentWav(wav, HOLD_MS / 1000 + 5);
  const accounts = Array.from({ length: AGENTS }, (_, i) => `<sip:${BARESIP_FIRST_DN + i}@127.0.0.1:${KAMAILIO_PORT}>;auth_pass=secret;regint=${REG_TIMEOUT};answermode=auto;audio_codecs=PCMA`);
  const startedAt = performance.now();
  const baresip = await startBaresip(baresipDir, { sipPort: BARESIP_SIP, rtp: BARESIP_RTP, maxCalls: 250, wav, accounts });
  try {
    const registered = (): number => baresip.output().match(/200 OK[^\n]*binding/g)?.length ?? 0;
    const deadline = performance.now() + 60000;
    while (registered() < AGENTS && performance.now() < deadline) await sleep(20);
    const readyS = registered() >= AGENTS ? (performance.now() - startedAt) / 1000 : NaN;
    const pid = baresip.child.pid!;
    const ticks = cpuTicks(pid);
    const callsStartedAt = performance.now();
    const stats = await placeCalls(dir, 'baresip', BARESIP_FIRST_DN);
    const cpuPct = ((cpuTicks(pid) - ticks) / 100 / ((performance.now() - callsStartedAt) / 1000)) * 100;
    return { readyS, registered: registered(), stats, hwmMb: processMemory(pid).hwmMb, cpuPct };
  } finally {
    await baresip.stop();
  }
}

async function main(): Promise<void> {
  for (const program of ['kamailio', 'sipp', ...(ONLY === 'both' ? ['baresip'] : [])]) if (!installed(program)) throw new Error(`${program} is not installed (apt-get install kamailio sip-tester baresip-core)`);
  const dir = mkdtempSync(join(tmpdir(), 'sep-agents-'));
  const kamailio = await Kamailio.start(KAMAILIO_PORT);
  const tally = new Tally();
  const peakRss = { value: 0 };
  const rssTimer = setInterval(() => (peakRss.value = Math.max(peakRss.value, process.memoryUsage().rss)), 200);

  // Phase 1: registration.
  const registrationLoop = monitorEventLoopDelay({ resolution: 10 });
  registrationLoop.enable();
  const startedAt = performance.now();
  const endpoints = Array.from({ length: AGENTS }, (_, i) => agent(i, tally.log));
  const configuredMs = performance.now() - startedAt;
  for (const endpoint of endpoints) tally.follow(endpoint);
  let ready = 0;
  let firstReadyMs = NaN;
  const history = new Map<Endpoint, string[]>();
  for (const endpoint of endpoints) {
    history.set(endpoint, []);
    endpoint.on('connectionStateChanged', (_line, state, previous) => {
      history.get(endpoint)!.push(`${((performance.now() - startedAt) / 1000).toFixed(2)}s ${state}${state === 'FAILED' ? ` (${endpoint.lines[0]?.reason ?? ''})` : ''}`);
      if (state === 'READY' && previous !== 'READY' && ++ready === 1) firstReadyMs = performance.now() - startedAt;
      if (previous === 'READY' && state !== 'READY') ready--;
    });
  }
  const starts = await Promise.allSettled(endpoints.map((endpoint) => endpoint.start()));
  const startFailures = starts.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason));
  const deadline = performance.now() + 60000;
  while (ready < AGENTS && performance.now() < deadline) await sleep(20);
  const allReadyMs = ready === AGENTS ? performance.now() - startedAt : NaN;
  registrationLoop.disable();
  const readyCount = ready;
  const notReady = endpoints.filter((endpoint) => endpoint.lines[0]?.state !== 'READY');
  const notReadyStates = new Map<string, number>();
  for (const endpoint of notReady) notReadyStates.set(endpoint.lines[0]?.state ?? 'no line', (notReadyStates.get(endpoint.lines[0]?.state ?? 'no line') ?? 0) + 1);
  const rssAfterRegistration = process.memoryUsage().rss / 1048576;

  // Phase 2: calls.
  const calls = RATE * SECONDS;
  const callLoop = monitorEventLoopDelay({ resolution: 10 });
  const cpuBefore = process.cpuUsage();
  const callsStartedAt = performance.now();
  callLoop.enable();
  const stats = await placeCalls(dir, 'ours', FIRST_DN);
  callLoop.disable();
  const callsWallMs = performance.now() - callsStartedAt;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(rssTimer);
  peakRss.value = Math.max(peakRss.value, process.memoryUsage().rss);
  const maxRssMb = Math.max(peakRss.value / 1048576, process.resourceUsage().maxRSS / 1024);

  const registrationsLost = tally.registrationsLost;
  await Promise.all(endpoints.map((endpoint) => endpoint.stop().catch(() => undefined)));
  const peer = ONLY === 'both' ? await runBaresip(dir) : undefined;
  await kamailio.stop();

  const delay = (h: ReturnType<typeof monitorEventLoopDelay>, p: number): number => h.percentile(p) / 1e6 - 10; // minus the 10 ms resolution
  const readyS = allReadyMs / 1000;
  const loopP99 = delay(callLoop, 99);
  const lines = [
    `many agents: ${AGENTS} Endpoints in one process registered with Kamailio (UDP, digest, reg_timeout ${REG_TIMEOUT} s); sipp ${calls} calls at ${RATE}/s through Kamailio, G.711 A-law RTP both ways, ${HOLD_MS} ms each (node ${process.version}, load average ${loadavg()[0]!.toFixed(1)})`,
    `| measure | value | target | result |`,
    `| --- | --- | --- | --- |`,
    `| all lines READY | ${Number.isFinite(readyS) ? `${readyS.toFixed(2)} s` : `${readyCount} of ${AGENTS} after 60 s`} (first ${ms(firstReadyMs)} ms; configs built in ${configuredMs.toFixed(0)} ms) | <= ${READY_TARGET_S} s | ${pass(readyS <= READY_TARGET_S)} |`,
    `| failed calls (sipp) | ${stats.failed} of ${stats.created} (successful ${stats.successful}) | 0 | ${pass(stats.failed === 0 && stats.successful === calls)} |`,
    `| registrations lost during calls | ${registrationsLost} | 0 | ${pass(registrationsLost === 0)} |`,
    `| peak RSS | ${maxRssMb.toFixed(0)} MB (${rssAfterRegistration.toFixed(0)} MB once registered) | < ${RSS_TARGET_MB} MB | ${pass(maxRssMb < RSS_TARGET_MB)} |`,
    `| event-loop delay p99, calls | ${ms(loopP99)} ms (p50 ${ms(delay(callLoop, 50))}, max ${ms(callLoop.max / 1e6 - 10)}) | < ${LOOP_DELAY_TARGET_MS} ms | ${pass(loopP99 < LOOP_DELAY_TARGET_MS)} |`,
    `| longest event-loop stall, registration | ${ms(registrationLoop.max / 1e6 - 10)} ms (p99 ${ms(delay(registrationLoop, 99))}) | < ${REGISTRATION_STALL_TARGET_MS} ms | ${pass(registrationLoop.max / 1e6 - 10 < REGISTRATION_STALL_TARGET_MS)} |`,
    `agents saw ${tally.incoming} incoming, ${tally.connected} connected, ${tally.disconnected} ended; ${tally.silentCalls} without RTP; RTP received ${tally.rtpReceived}, lost ${tally.rtpLost}; CPU ${(((cpu.user + cpu.system) / 1000 / callsWallMs) * 100).toFixed(0)} % of a core during calls`,
  ];
  if (notReady.length) {
    lines.push(`not READY after the registration phase: ${[...notReadyStates].map(([state, n]) => `${n} ${state}`).join(', ')}`);
    for (const endpoint of notReady.slice(0, 3)) lines.push(`  ${endpoint.config.connectivities[0]?.user}: ${history.get(endpoint)!.join(' -> ')}`);
  }
  if (startFailures.length) lines.push(`start() failed for ${startFailures.length}: ${startFailures.slice(0, 3).join(' | ')}`);
  if (tally.errorCount) lines.push(`${tally.errorCount} errors logged, first: ${tally.errors.join(' | ')}`);
  if (peer) {
    const ourCpu = ((cpu.user + cpu.system) / 1000 / callsWallMs) * 100;
    const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : 'n/a');
    lines.push(
      '',
      `the same against baresip 1.0.0 (${AGENTS} accounts in one process, DNs ${BARESIP_FIRST_DN}.., aufile silence as the microphone, a null player; answermode=auto):`,
      '| measure | ours | baresip | ours / baresip |',
      '| --- | --- | --- | --- |',
      `| all registered | ${Number.isFinite(readyS) ? `${readyS.toFixed(2)} s` : 'n/a'} | ${Number.isFinite(peer.readyS) ? `${peer.readyS.toFixed(2)} s` : `${peer.registered} of ${AGENTS} after 60 s`} | ${ratio(readyS, peer.readyS)} |`,
      `| failed calls (sipp) | ${stats.failed} of ${stats.created} | ${peer.stats.failed} of ${peer.stats.created} (successful ${peer.stats.successful}) | |`,
      `| peak RSS | ${maxRssMb.toFixed(0)} MB | ${peer.hwmMb.toFixed(0)} MB | ${ratio(maxRssMb, peer.hwmMb)} |`,
      `| CPU during calls, % of a core | ${ourCpu.toFixed(0)} % | ${peer.cpuPct.toFixed(0)} % | ${ratio(ourCpu, peer.cpuPct)} |`,
    );
    if (peer.stats.failed > 0) lines.push(`baresip's sipp messages: ${peer.stats.messages.slice(0, 5).join('; ')}`);
  }
  console.log(['', '----- summary -----', ...lines, '-------------------'].join('\n'));
  if (stats.failed > 0 || stats.successful !== calls) console.log(`sipp messages:\n  ${stats.messages.join('\n  ')}\nsipp's files: ${dir}`);
  process.exit(0);
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});
