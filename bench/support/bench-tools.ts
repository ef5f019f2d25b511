// Small helpers shared by the benchmarks: external programs, their output and CPU time,
// percentiles, sipp's scenario and final statistics, a stand-alone line's config.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EndpointConfig } from '@sip-endpoint/config';

/** Whether a program is on the PATH. */
export function installed(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

/** Reads `--name value` from the command line. */
export function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1]! : fallback;
}

/** Whether `--name` is on the command line. */
export function flag(name: string): boolean {
  return process.argv.slice(2).includes(`--${name}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A started program, its collected output, and a way to end it. */
export interface Program {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code once the program has exited by itself. */
  exited: Promise<number | null>;
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts a program and, when `ready` is given, resolves once its output matches it (rejects if
 * it exits first or `timeoutMs` passes).
 */
export async function startProgram(command: string, args: string[], ready?: RegExp, timeoutMs = 10000, cwd?: string): Promise<Program> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  let text = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const program: Program = {
    child,
    output: () => text,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => (ready ? reject(new Error(`${command} did not become ready in ${timeoutMs} ms:\n${text}`)) : resolve()), ready ? timeoutMs : 300);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      if (ready?.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not start: ${error.message}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it was ready:\n${text}`));
    });
  });
  return program;
}

/** The p-quantile (0..1) of sorted values, nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** The cumulative counters of sipp's final statistics screen. */
export interface SippStats {
  created: number;
  successful: number;
  failed: number;
  /** Lines of sipp's message table (e.g. `INVITE ----> 1000 0 0`), for the report. */
  messages: string[];
}

/** Parses the final statistics screen sipp prints on exit. */
export function sippStats(output: string): SippStats {
  const cumulative = (name: string): number => {
    const matches = [...output.matchAll(new RegExp(`${name}\\s*\\|\\s*(\\d*)\\s*\\|\\s*(\\d+)`, 'g'))];
    const last = matches.at(-1);
    return last ? Number(last[2]) : NaN;
  };
  const screens = output.split('Test Terminated');
  const table = screens.length > 1 ? screens.at(-3) ?? screens[0]! : output;
  const messages = table
    .split('\n')
    .filter((line) => /(-{3,}>|<-{3,}|Pause \[)/.test(line))
    .map((line) => line.trim().replace(/\s+/g, ' '));
  return { created: cumulative('Total Calls created'), successful: cumulative('Successful call'), failed: cumulative('Failed call'), messages };
}

/** `ms` with two decimals. */
export const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');

/** What differs between the benchmarks' sipp call scenarios. */
export interface CallScenarioOptions {
  name: string;
  /** The called user: `[service]` (sipp's `-s`) or `[field0]` (from an `-inf` file). */
  user: string;
  /** The offer's payload types, each with its rtpmap line (telephone-event 101 is added). */
  formats: { payloadType: number; rtpmap: string }[];
  /** Requests after the INVITE follow the Record-Route set (`rrs`), as through a proxy. */
  routed: boolean;
  /** `optional` of the 1xx: `true`, or `global` when a proxy may pass one on after the 200. */
  provisional: 'true' | 'global';
  /** Played while the call is up (sipp's `play_pcap_audio`), if anything. */
  pcap?: string;
  /**
   * Plays `pcap` this many times back to back, each play waited for `pcapMs` (the file's length),
   * then hangs up (instead of the `-d` pause): the call carries audio until it ends.
   */
  loop?: { times: number; pcapMs: number };
}

/**
 * A sipp uac scenario: INVITE with an SDP offer, 100/180/183 optional, 200 (its round trip
 * measured with `rtd`), ACK, an optional pcap, pause, BYE, 200.
 */
export function callScenario(options: CallScenarioOptions): string {
  const { user } = options;
  const target = options.routed ? '[next_url]' : `sip:${user}@[remote_ip]:[remote_port]`;
  const headers = (method: string, cseq: number, toTag: boolean) => `      ${method} ${method === 'INVITE' ? `sip:${user}@[remote_ip]:[remote_port]` : target} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:${user}@[remote_ip]:[remote_port]>${toTag ? '[peer_tag_param]' : ''}
      Call-ID: [call_id]
      CSeq: ${cseq} ${method}
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70`;
  const formats = options.formats.map((format) => format.payloadType).join(' ');
  const rtpmaps = options.formats.map((format) => `      a=rtpmap:${format.payloadType} ${format.rtpmap}`).join('\n');
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="${options.name}">
  <send retrans="500">
    <![CDATA[
${headers('INVITE', 1, false)}
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP ${formats} 101
${rtpmaps}
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=ptime:20
    ]]>
  </send>
  <recv response="100" optional="${options.provisional}"/>
  <recv response="180" optional="${options.provisional}"/>
  <recv response="183" optional="${options.provisional}"/>
  <recv response="200" rtd="true"${options.routed ? ' rrs="true"' : ''}/>
  <send>
    <![CDATA[
${headers('ACK', 1, true)}
      Content-Length: 0
    ]]>
  </send>
${middle(options)}
  <send retrans="500">
    <![CDATA[
${headers('BYE', 2, true)}
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
`;
}

/** What the call does once up: play the pcap once and pause for `-d`, or loop it for the whole call. */
function middle(options: CallScenarioOptions): string {
  if (options.pcap && options.loop) {
    return `  <label id="1"/>
  <nop>
    <action>
      <exec play_pcap_audio="${options.pcap}"/>
      <add assign_to="played" value="1"/>
      <test assign_to="again" variable="played" compare="less_than" value="${options.loop.times}"/>
    </action>
  </nop>
  <pause milliseconds="${options.loop.pcapMs}" next="1" test="again"/>`;
  }
  return `${options.pcap ? `  <nop><action><exec play_pcap_audio="${options.pcap}"/></action></nop>\n` : ''}  <pause/>`;
}

/**
 * The config of a bench's stand-alone line: auto-answer, no registration (its server is never
 * contacted), no ringing file, SIP and RTP on 127.0.0.1 in the ports given.
 */
export function standaloneBenchConfig(options: { server: string; sipPort: number; rtp: readonly [number, number] }): EndpointConfig {
  return EndpointConfig.defaults().with({
    'user:0': 'bench',
    'server:0': options.server,
    'proxies.proxy0.reg_timeout': '0',
    'policy.endpoint.public_address': '127.0.0.1',
    'policy.endpoint.sip_port_min': String(options.sipPort),
    'policy.endpoint.sip_port_max': String(options.sipPort + 6),
    'policy.endpoint.rtp_port_min': String(options.rtp[0]),
    'policy.endpoint.rtp_port_max': String(options.rtp[1]),
    'policy.session.auto_answer': '1',
    'system.media.ringing_file': '',
  });
}

/** CPU time of process `pid` so far (user + system, all its threads), in clock ticks: 100 a second. */
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** VmRSS, VmHWM (MB) and the thread count of a process. */
export function processMemory(pid: number): { rssMb: number; hwmMb: number; threads: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: field('VmRSS') / 1024, hwmMb: field('VmHWM') / 1024, threads: field('Threads') };
}

/** Writes a silent WAV file, 8 kHz mono 16-bit, of `seconds`; returns its sample bytes. */
export function silentWav(file: string, seconds: number): number {
  const bytes = Math.ceil(seconds * 8000) * 2;
  const wav = Buffer.alloc(44 + bytes);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + bytes, 4);
  wav.write('WAVEfmt ', 8, 'ascii');
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(8000, 24);
  wav.writeUInt32LE(16000, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(bytes, 40);
  writeFileSync(file, wav);
  return bytes;
}

/**
 * baresip 1.0.0 answering with its accounts (`answermode=auto` in each). The closest to our
 * default devices that baresip 1.0 has:
 * - microphone: aufile playing a silent 8 kHz mono WAV. Without any audio source baresip does not
 *   answer ("start_source failed: No such device", no 200); aubridge as a source produces only
 *   when a player of the same name is attached (it would echo what it receives); ausine makes a
 *   48 kHz stereo sine only, which baresip would resample for every call. aufile at the codec's
 *   rate costs a paced thread per call and no resampling, as silence does; but it loads the whole
 *   file into memory per call and ends the call when the file ends, so the file must outlast the
 *   calls.
 * - speaker: aubridge with no source attached, a player nobody reads (baresip still decodes).
 * Its config goes in `dir/config`; it is ready once it says so (registrations go on after that).
 */
export function startBaresip(dir: string, setup: { sipPort: number; rtp: readonly [number, number]; maxCalls: number; wav: string; accounts: readonly string[] }): Promise<Program> {
  const configDir = join(dir, 'config');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(
    join(configDir, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${setup.sipPort}`,
      'net_interface 127.0.0.1', // SDP and RTP on loopback, not on the machine's first interface
      `rtp_ports ${setup.rtp[0]}-${setup.rtp[1]}`,
      `call_max_calls ${setup.maxCalls}`,
      `audio_source aufile,${setup.wav}`,
      'ausrc_srate 8000',
      'ausrc_channels 1',
      'audio_player aubridge,null',
      'audio_alert aubridge,null',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aufile.so',
      'module aubridge.so',
      'module_app account.so',
      'statmode_default off',
      'ringback_disabled yes',
      '',
    ].join('\n'),
  );
  writeFileSync(join(configDir, 'accounts'), `${setup.accounts.join('\n')}\n`);
  return startProgram('baresip', ['-4', '-f', configDir], /baresip is ready/, 30000);
}
