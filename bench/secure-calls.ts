// Encrypted calls end to end, against baresip in the same run: our Endpoint (its default devices:
// a silent microphone, a null speaker) places N calls to baresip 1.0.0 (answermode=auto, a tone
// from an 8 kHz file, its aubridge player as the null speaker) on 127.0.0.1, PCMU both ways. With
// every call up, the CPU time of our process and of baresip's (from /proc) is measured for S
// seconds. The same three times: plain RTP; SRTP keyed by SDES (AES_CM_128_HMAC_SHA1_80: our
// use_srtp=force against baresip's mediaenc=srtp-mand); SRTP keyed by DTLS (our srtpKeying 'dtls'
// against mediaenc=dtls_srtp). Each side encrypts and decrypts one stream per call.
// Run: npm run bench:secure-calls -- --calls 100 --seconds 20   (after npm run build)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import { standaloneConfig } from '../packages/endpoint-core/test/support/endpoints';
import { cpuTicks, installed, option, sleep, startProgram, type Program } from './support/bench-tools';

const CALLS = Number(option('calls', '100'));
const SECONDS = Number(option('seconds', '20'));
const RATE = Number(option('rate', '20'));
const WARMUP_MS = 3000;
// Ports on 127.0.0.1: ours SIP 51000, RTP from 51100; baresip SIP 55000, RTP from 55100.
const OUR_SIP = 51000;
const OUR_RTP = 51100;
const BARESIP_SIP = 55000;
const BARESIP_RTP = 55100;
if (CALLS < 1 || CALLS > 1000) throw new RangeError(`--calls is 1 to 1000, not ${CALLS}`);

type Mode = 'plain' | 'SRTP (SDES)' | 'DTLS-SRTP';
const MODES: Mode[] = ['plain', 'SRTP (SDES)', 'DTLS-SRTP'];

/** baresip 1.0.0 answering every call at once, with the encryption `mode` asks for. */
async function startBaresip(dir: string, mode: Mode): Promise<Program> {
  const configDir = join(dir, `baresip-${MODES.indexOf(mode)}`);
  spawnSync('mkdir', ['-p', configDir]);
  writeFileSync(
    join(configDir, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${BARESIP_SIP}`,
      'net_interface 127.0.0.1',
      `rtp_ports ${BARESIP_RTP}-${BARESIP_RTP + 4 * CALLS + 20}`,
      `call_max_calls ${CALLS + 10}`,
      // The source at the codec's rate and channels: baresip resamples nothing, as we do not.
      `audio_source aufile,${join(dir, 'tone.wav')}`,
      'ausrc_srate 8000',
      'ausrc_channels 1',
      // aubridge paces itself and costs nothing: a null speaker that still makes baresip decode.
      'audio_player aubridge,speaker',
      'audio_alert aubridge,alert',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aufile.so',
      'module aubridge.so',
      'module srtp.so',
      'module dtls_srtp.so',
      'module_app account.so',
      'statmode_default off',
      'ringback_disabled yes',
      '',
    ].join('\n'),
  );
  const mediaEnc = mode === 'plain' ? '' : mode === 'DTLS-SRTP' ? ';mediaenc=dtls_srtp' : ';mediaenc=srtp-mand';
  writeFileSync(join(configDir, 'accounts'), `<sip:bench@127.0.0.1>;regint=0;answermode=auto;audio_codecs=pcmu${mediaEnc}\n`);
  return startProgram('baresip', ['-4', '-f', configDir], /baresip is ready/);
}

/** Our endpoint: one line, no registrar, default devices; SRTP as `mode` asks. */
function ourEndpoint(mode: Mode): Endpoint {
  const config = standaloneConfig('agent', OUR_SIP, OUR_RTP, {
    'server:0': `127.0.0.1:${BARESIP_SIP}`,
    'policy.endpoint.rtp_port_max': String(OUR_RTP + 4 * CALLS + 20),
    'codecs.enabled.audio': 'pcmu,telephone-event',
    'system.security.use_srtp': mode === 'plain' ? 'disabled' : 'force',
  });
  return new Endpoint({ config, ...(mode === 'DTLS-SRTP' ? { srtpKeying: 'dtls' as const } : {}) });
}

interface Pass {
  mode: Mode;
  connected: number;
  secured: number;
  setupS: number;
  oursCpu: number;
  baresipCpu: number;
}

async function pass(dir: string, mode: Mode): Promise<Pass> {
  const baresip = await startBaresip(dir, mode);
  const endpoint = ourEndpoint(mode);
  await endpoint.start();
  const calls: Call[] = [];
  try {
    const started = performance.now();
    const placed: Promise<void>[] = [];
    for (let i = 0; i < CALLS; i++) {
      placed.push(
        endpoint.makeCall(`sip:bench@127.0.0.1:${BARESIP_SIP}`).then(
          (call) => void calls.push(call),
          (error: unknown) => console.error(`call ${i} failed: ${String(error)}`),
        ),
      );
      await sleep(1000 / RATE);
    }
    await Promise.all(placed);
    const deadline = Date.now() + 60_000;
    while (calls.filter((call) => call.state === 'CONNECTED').length < calls.length && Date.now() < deadline) await sleep(100);
    const setupS = (performance.now() - started) / 1000;
    const connected = calls.filter((call) => call.state === 'CONNECTED').length;
    await sleep(WARMUP_MS);
    const secured = calls.filter((call) => call.state === 'CONNECTED' && call.media.security.kind !== 'none' && (call.media.security.kind !== 'dtls' || call.media.security.state === 'established')).length;
    const ticks = cpuTicks(baresip.child.pid!);
    const cpu = process.cpuUsage();
    const wall = performance.now();
    await sleep(SECONDS * 1000);
    const used = process.cpuUsage(cpu);
    const wallMs = performance.now() - wall;
    const baresipMs = (cpuTicks(baresip.child.pid!) - ticks) * 10;
    return { mode, connected, secured, setupS, oursCpu: ((used.user + used.system) / 1000 / wallMs) * 100, baresipCpu: (baresipMs / wallMs) * 100 };
  } finally {
    await Promise.allSettled(calls.map((call) => call.hangup()));
    await endpoint.stop();
    await baresip.stop();
  }
}

async function main(): Promise<void> {
  for (const program of ['baresip', 'sox']) if (!installed(program)) throw new Error(`${program} is not installed (the README's test command installs it)`);
  const dir = mkdtempSync(join(tmpdir(), 'sep-bench-secure-'));
  try {
    // 30 s of a 440 Hz tone, 8 kHz mono 16-bit (then silence: the same cost in G.711).
    const sox = spawnSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', join(dir, 'tone.wav'), 'synth', '30', 'sine', '440', 'vol', '0.3']);
    if (sox.status !== 0) throw new Error(`sox failed: ${sox.stderr.toString()}`);
    const passes: Pass[] = [];
    for (const mode of MODES) passes.push(await pass(dir, mode));
    const plain = passes[0]!;
    console.log(`encrypted calls: ${CALLS} PCMU calls from our Endpoint to baresip 1.0.0 on 127.0.0.1 (placed at ${RATE}/s), CPU measured for ${SECONDS} s with all calls up`);
    console.log('| pass | calls up | encrypted | set-up time | ours: CPU per call (of one core) | baresip: CPU per call | ours / baresip |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const p of passes) {
      const ours = p.oursCpu / CALLS;
      const theirs = p.baresipCpu / CALLS;
      console.log(`| ${p.mode} | ${p.connected} | ${p.secured} | ${p.setupS.toFixed(1)} s | ${ours.toFixed(3)} % | ${theirs.toFixed(3)} % | ${(ours / theirs).toFixed(2)} |`);
    }
    for (const p of passes.slice(1)) {
      console.log(`${p.mode} / plain: ours ${(p.oursCpu / plain.oursCpu).toFixed(2)} (target: at most 1.3), baresip ${(p.baresipCpu / plain.baresipCpu).toFixed(2)}`);
    }
    console.log(`node ${process.version}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

void main();
