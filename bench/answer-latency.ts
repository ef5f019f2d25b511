// Answer latency: sipp places calls (SDP INVITE, 100/180 optional, 200, ACK, pause, BYE) at a
// steady rate against our Endpoint (a stand-alone line with auto-answer) and, in the same run,
// against baresip with answermode=auto. dumpcap captures the loopback traffic of both; the
// INVITE -> 200 OK latency of each call (matched by Call-ID) is read from the capture.
// Run: npm run bench:answer -- --calls 1000 --rate 20   (after npm run build)
//   --pause-ms 1000   how long each call stays up after the ACK
//   --profile         run our endpoint under node --cpu-prof (the profile's path is printed)
//   --profile-interval-us N   the profiler's sampling interval (default 1000; 25 resolves one INVITE's steps)
//   --only ours|baresip
//   --warmup N        also report each UA without its first N calls (default 30): our first calls
//                     run code V8 has not compiled or optimised yet (the first one about 40 ms)
//   --threads N       our Endpoint with mediaThreads N and its default devices (a silent
//                     microphone, a discarding speaker), so that its calls' media runs in N
//                     worker threads; without it, the main thread and a tone microphone
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualAudioProvider } from '@sip-endpoint/media';
import { Endpoint } from '@sip-endpoint/endpoint-core';
import { callScenario, flag, installed, ms, option, percentile, sippStats, sleep, standaloneBenchConfig, startProgram, type Program, type SippStats } from './support/bench-tools';

const CALLS = Number(option('calls', '1000'));
const RATE = Number(option('rate', '20'));
const PAUSE_MS = Number(option('pause-ms', '1000'));
const ONLY = option('only', 'both');
const PROFILE = flag('profile');
const PROFILE_INTERVAL_US = Number(option('profile-interval-us', '1000'));
const THREADS = Number(option('threads', '0'));
const WARMUP = Number(option('warmup', '30'));
if (!Number.isInteger(THREADS) || THREADS < 0 || THREADS > 64) throw new RangeError(`--threads is 0 to 64, not ${THREADS}`);

// Ports (127.0.0.1 only), all inside 50000-50999.
const OURS_SIP = 50060; // the line takes the first free port from here to +6
const OURS_RTP = [50100, 50499] as const; // 200 calls up at once: 100 calls/s with a 1 s pause, and the time to answer
const BARESIP_SIP = 50070;
const BARESIP_RTP = [50500, 50899] as const;
const SIPP_SIP = { ours: 50080, baresip: 50082 };
const SIPP_MEDIA = { ours: 50090, baresip: 50094 };
const UNUSED_SERVER = '127.0.0.1:50069'; // the stand-alone line's server: never contacted (reg_timeout 0)

/** INVITE with an SDP offer (PCMU, PCMA, telephone-event), 100/180/183 optional, 200, ACK, pause, BYE. */
const SCENARIO = callScenario({
  name: 'answer latency',
  user: '[service]',
  formats: [
    { payloadType: 0, rtpmap: 'PCMU/8000' },
    { payloadType: 8, rtpmap: 'PCMA/8000' },
  ],
  routed: false,
  provisional: 'true',
});

interface EndpointReport {
  incoming: number;
  connected: number;
  errors: string[];
  rssMb: number;
}

/** The child process: our Endpoint, stand-alone, auto-answering, until the parent says stop. */
async function endpointRole(): Promise<void> {
  const config = standaloneBenchConfig({ server: UNUSED_SERVER, sipPort: OURS_SIP, rtp: OURS_RTP });
  const devices = new VirtualAudioProvider({ defaults: false });
  devices.addInput({ name: 'Headset Microphone', id: 'mic' }, { kind: 'tone', frequencies: [440], levelDbfs: -12 });
  devices.addOutput({ name: 'Headset Earphone', id: 'speaker' });
  const report: EndpointReport = { incoming: 0, connected: 0, errors: [], rssMb: 0 };
  const endpoint = new Endpoint({ config, ...(THREADS > 0 ? { mediaThreads: THREADS } : { devices }), logger: (level, message) => level <= 1 && report.errors.length < 20 && report.errors.push(message) });
  endpoint.on('incomingCall', () => report.incoming++);
  endpoint.on('callStateChanged', (_call, state) => state === 'CONNECTED' && report.connected++);
  await endpoint.start();
  const line = endpoint.lines[0]!;
  if (line.state !== 'STANDALONE') throw new Error(`the line is ${line.state}, not STANDALONE`);
  process.send?.({ ready: true });
  process.on('message', (message: { stop?: boolean }) => {
    if (!message.stop) return;
    report.rssMb = process.memoryUsage().rss / 1048576;
    void endpoint.stop().finally(() => {
      process.send?.({ report }, () => process.exit(0));
    });
  });
}

/** baresip 1.0.0 with answermode=auto, a sine source (ausine) and a bridge as the (null) speaker. */
async function startBaresip(dir: string): Promise<Program> {
  const configDir = join(dir, 'baresip');
  spawnSync('mkdir', ['-p', configDir]);
  writeFileSync(
    join(configDir, 'config'),
    [
      `sip_listen 127.0.0.1:${BARESIP_SIP}`,
      'net_interface 127.0.0.1', // SDP and RTP on loopback, not on the machine's first interface
      `rtp_ports ${BARESIP_RTP[0]}-${BARESIP_RTP[1]}`,
      'call_max_calls 1000',
      // ausine makes 48 kHz stereo only; baresip resamples to 8 kHz mono for PCMU.
      'audio_source ausine,440',
      'ausrc_srate 48000',
      'ausrc_channels 2',
      // No sound card: aubridge is a player that nobody reads, i.e. a null speaker.
      'audio_player aubridge,null',
      'audio_alert aubridge,null',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module ausine.so',
      'module aubridge.so',
      'module_app account.so',
      '',
    ].join('\n'),
  );
  writeFileSync(join(configDir, 'accounts'), '<sip:bench@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA\n');
  return startProgram('baresip', ['-4', '-f', configDir], /baresip is ready/);
}

/** Runs sipp's scenario to completion against `target`; returns its statistics. */
async function runSipp(dir: string, who: 'ours' | 'baresip', target: string): Promise<SippStats> {
  const scenario = join(dir, 'uac.xml');
  writeFileSync(scenario, SCENARIO);
  const args = ['-sf', scenario, '-s', 'bench', '-i', '127.0.0.1', '-p', String(SIPP_SIP[who]), '-mi', '127.0.0.1', '-mp', String(SIPP_MEDIA[who])];
  args.push('-r', String(RATE), '-m', String(CALLS), '-d', String(PAUSE_MS), '-nostdin', '-timeout', `${Math.ceil(CALLS / RATE + 60)}s`, '-timeout_error', target);
  const sipp = await startProgram('sipp', args, undefined, 0, dir);
  await sipp.exited;
  return sippStats(sipp.output());
}

/** INVITE -> first 200 OK (to the INVITE) per Call-ID, in ms, for INVITEs sent to `port`. */
function latencies(pcap: string, port: number): { values: number[]; inOrder: number[]; invites: number } {
  const result = spawnSync('tshark', ['-r', pcap, '-d', `udp.port==${port},sip`, '-Y', `sip.CSeq.method == "INVITE" && udp.port == ${port}`, '-T', 'fields', '-E', 'separator=\t', '-e', 'frame.time_epoch', '-e', 'sip.Call-ID', '-e', 'sip.Method', '-e', 'sip.Status-Code', '-e', 'udp.dstport'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`tshark failed: ${result.stderr.toString()}`);
  const invites = new Map<string, number>();
  const answers = new Map<string, number>();
  for (const line of result.stdout.toString().split('\n')) {
    const [time, callId, method, status, dstport] = line.split('\t');
    if (!time || !callId) continue;
    const t = Number(time) * 1000;
    if (method === 'INVITE' && Number(dstport) === port && !invites.has(callId)) invites.set(callId, t);
    if (status === '200' && !answers.has(callId)) answers.set(callId, t);
  }
  const values: number[] = [];
  for (const [callId, sent] of invites) {
    const answered = answers.get(callId);
    if (answered !== undefined) values.push(answered - sent);
  }
  return { values: [...values].sort((a, b) => a - b), inOrder: values, invites: invites.size };
}

interface Row {
  name: string;
  sipp: SippStats;
  /** Latencies, smallest first. */
  values: number[];
  /** Latencies in the order of the calls. */
  inOrder: number[];
  invites: number;
}

function describe(row: Row): string {
  const v = row.values;
  return `| ${row.name} | ${row.invites} | ${v.length} | ${row.sipp.failed} | ${ms(percentile(v, 0.5))} ms | ${ms(percentile(v, 0.9))} ms | ${ms(percentile(v, 0.99))} ms | ${ms(v.at(-1) ?? NaN)} ms |`;
}

async function main(): Promise<void> {
  if (option('role', '') === 'endpoint') return endpointRole();
  for (const program of ['sipp', 'dumpcap', 'tshark', ...(ONLY !== 'ours' ? ['baresip'] : [])]) {
    if (!installed(program)) throw new Error(`${program} is not installed (apt-get install sip-tester tshark baresip)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sep-answer-'));
  const pcap = join(dir, 'answer.pcap');
  const ports = [OURS_SIP, BARESIP_SIP, SIPP_SIP.ours, SIPP_SIP.baresip].map((p) => `udp port ${p}`).join(' or ');
  const capture = await startProgram('dumpcap', ['-i', 'lo', '-f', ports, '-B', '64', '-w', pcap], /Capturing on/, 10000);
  await sleep(300);

  const rows: Row[] = [];
  let ours: EndpointReport | undefined;
  let profileDir: string | undefined;
  if (ONLY !== 'ours') {
    const baresip = await startBaresip(dir);
    const stats = await runSipp(dir, 'baresip', `127.0.0.1:${BARESIP_SIP}`);
    await baresip.stop();
    rows.push({ name: 'baresip 1.0.0', sipp: stats, values: [], inOrder: [], invites: 0 });
  }
  if (ONLY !== 'baresip') {
    profileDir = PROFILE ? join(dir, 'profile') : undefined;
    const child: ChildProcess = fork(process.argv[1]!, ['--role', 'endpoint'], { stdio: 'inherit', execArgv: [...process.execArgv, ...(profileDir ? ['--cpu-prof', '--cpu-prof-interval', String(PROFILE_INTERVAL_US), '--cpu-prof-dir', profileDir] : [])] });
    const messages: { ready?: boolean; report?: EndpointReport }[] = [];
    const next = (key: 'ready' | 'report'): Promise<void> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (messages.some((m) => m[key] !== undefined)) resolve();
          else if (child.exitCode !== null) reject(new Error(`the endpoint process exited with ${child.exitCode}`));
          else setTimeout(check, 20);
        };
        check();
      });
    child.on('message', (message: { ready?: boolean; report?: EndpointReport }) => messages.push(message));
    await next('ready');
    const stats = await runSipp(dir, 'ours', `127.0.0.1:${OURS_SIP}`);
    child.send({ stop: true });
    await next('report');
    ours = messages.find((m) => m.report)!.report;
    rows.push({ name: THREADS > 0 ? `ours (Endpoint, ${THREADS} media threads)` : 'ours (Endpoint)', sipp: stats, values: [], inOrder: [], invites: 0 });
  }
  await sleep(500);
  await capture.stop('SIGINT');

  for (const row of rows) {
    const port = row.name.startsWith('baresip') ? BARESIP_SIP : OURS_SIP;
    Object.assign(row, latencies(pcap, port));
  }
  const mine = rows.find((r) => r.name.startsWith('ours'));
  const peer = rows.find((r) => r.name.startsWith('baresip'));

  const lines: string[] = [];
  lines.push(`answer latency: sipp uac, ${CALLS} calls at ${RATE} calls/s, ${PAUSE_MS} ms per call, INVITE -> 200 OK from a dumpcap capture of lo (node ${process.version}, load average ${loadavg()[0]!.toFixed(1)})`);
  lines.push('| UA | INVITEs | answered | failed (sipp) | p50 | p90 | p99 | max |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) lines.push(describe(row));
  if (mine && peer) {
    const ratio = (p: number): string => (percentile(mine.values, p) / percentile(peer.values, p)).toFixed(2);
    lines.push(`ours / baresip: p50 ${ratio(0.5)}, p90 ${ratio(0.9)}, p99 ${ratio(0.99)}, max ${((mine.values.at(-1) ?? NaN) / (peer.values.at(-1) ?? NaN)).toFixed(2)}`);
    const p50 = percentile(mine.values, 0.5) <= percentile(peer.values, 0.5);
    const p99 = percentile(mine.values, 0.99) <= percentile(peer.values, 0.99);
    lines.push(`target ours <= baresip: p50 ${p50 ? 'PASS' : 'FAIL'}, p99 ${p99 ? 'PASS' : 'FAIL'}`);
  }
  if (WARMUP > 0 && rows.every((row) => row.inOrder.length > WARMUP)) {
    const steady = rows.map((row) => ({ name: row.name, values: row.inOrder.slice(WARMUP).sort((x, y) => x - y), first: row.inOrder.slice(0, WARMUP) }));
    lines.push(`without each UA's first ${WARMUP} calls (for ours, V8 compiling and optimising the code of its first calls):`);
    lines.push('| UA | calls | p50 | p90 | p99 | max | its first calls: median, max |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- |');
    for (const row of steady) lines.push(`| ${row.name} | ${row.values.length} | ${ms(percentile(row.values, 0.5))} ms | ${ms(percentile(row.values, 0.9))} ms | ${ms(percentile(row.values, 0.99))} ms | ${ms(row.values.at(-1) ?? NaN)} ms | ${ms(percentile([...row.first].sort((x, y) => x - y), 0.5))} ms, ${ms(Math.max(...row.first))} ms |`);
    const a = steady.find((row) => row.name.startsWith('ours'));
    const b = steady.find((row) => row.name.startsWith('baresip'));
    if (a && b) lines.push(`ours / baresip without the first ${WARMUP}: p50 ${(percentile(a.values, 0.5) / percentile(b.values, 0.5)).toFixed(2)}, p99 ${(percentile(a.values, 0.99) / percentile(b.values, 0.99)).toFixed(2)}`);
  }
  if (ours) lines.push(`endpoint: ${ours.incoming} incoming, ${ours.connected} connected, RSS ${ours.rssMb.toFixed(0)} MB${ours.errors.length ? `, errors: ${ours.errors.join(' | ')}` : ''}`);
  console.log(['', '----- summary -----', ...lines, '-------------------'].join('\n'));
  for (const row of rows) if (row.sipp.failed > 0) console.log(`${row.name}: sipp messages:\n  ${row.sipp.messages.join('\n  ')}`);
  console.log(`capture: ${pcap}${profileDir ? `\nCPU profile of the endpoint: ${profileDir}` : ''}`);
  process.exit(0);
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});
