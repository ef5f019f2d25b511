import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerAvailable, testPorts } from '@sip-endpoint/test-support';

/** Whether sipp is installed; a missing one fails the test unless SEP_ALLOW_MISSING_PEERS=1 (see test-support's peerAvailable). */
export function sippAvailable(): boolean {
  return peerAvailable('sipp');
}

/** One sipp run against an endpoint on 127.0.0.1. */
export interface SippOptions {
  /** The scenario, as XML text (written to a temporary directory). */
  scenario: string;
  /** The port the endpoint listens on (sipp's remote host is 127.0.0.1:remotePort). */
  remotePort: number;
  /** sipp's own SIP port (`-p`). */
  localPort: number;
  /**
   * sipp's media port (`-mp`), written as `[media_port]` in the scenario's SDP; sipp binds it and
   * `mediaPort + 2` (video), in any scenario.
   * @defaultValue the first of a block of 4 from `testPorts` (sipp's own default is 6000 and up)
   */
  mediaPort?: number;
  /** sipp's control port (`-cp`). @defaultValue one from `testPorts` (sipp's own default is 8888 and up) */
  controlPort?: number;
  /** Echo RTP received on the media port back to its sender (`-rtp_echo`). */
  rtpEcho?: boolean;
  /** The user part of the Request-URI (`-s`, `[service]`). @defaultValue 'agent' */
  service?: string;
  /** Global timeout in seconds: sipp fails after it (`-timeout` with `-timeout_error`). @defaultValue 15 */
  timeoutS?: number;
  /** How many calls (dialogs) sipp takes before it exits (`-m`): a UAS scenario runs once per new Call-ID. @defaultValue 1 */
  calls?: number;
  /** Values for `[key]` in the scenario (`-key key value`). */
  keys?: Record<string, string>;
}

/** What a sipp run left behind. */
export interface SippResult {
  /** sipp's exit code: 0 when every call succeeded, 1 when one failed, 99 when none ran. */
  code: number | null;
  /** The SIP messages sipp sent and received (`-trace_msg`). */
  messages: string;
  /** Unexpected messages and errors (`-trace_err`). */
  errors: string;
  /** sipp's stdout and stderr. */
  output: string;
}

function readIfThere(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/**
 * Runs sipp once (`-m 1`) with an XML scenario against 127.0.0.1:`remotePort`, everything on
 * 127.0.0.1, and resolves when it exits with its exit code and logs (never rejects on a failed
 * scenario: the test asserts on the code and shows the logs with {@link assertSippPassed}).
 */
export async function runSipp(options: SippOptions): Promise<SippResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sep-sipp-'));
  const scenario = join(dir, 'scenario.xml');
  const messagesFile = join(dir, 'messages.log');
  const errorsFile = join(dir, 'errors.log');
  writeFileSync(scenario, options.scenario);
  const timeout = options.timeoutS ?? 15;
  const args = [
    `127.0.0.1:${options.remotePort}`,
    '-sf', scenario,
    '-m', String(options.calls ?? 1),
    '-i', '127.0.0.1',
    '-p', String(options.localPort),
    '-s', options.service ?? 'agent',
    '-timeout', `${timeout}s`,
    '-timeout_error',
    '-nostdin',
    '-trace_err', '-error_file', errorsFile,
    '-trace_msg', '-message_file', messagesFile,
  ];
  args.push('-mp', String(options.mediaPort ?? testPorts(4)), '-cp', String(options.controlPort ?? testPorts(1)));
  if (options.rtpEcho) args.push('-rtp_echo');
  for (const [key, value] of Object.entries(options.keys ?? {})) args.push('-key', key, value);
  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // A second, harder deadline in case sipp itself hangs.
  const killer = setTimeout(() => child.kill('SIGKILL'), (timeout + 10) * 1000);
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', (error) => {
      output += `\ncannot run sipp: ${error.message}`;
      resolve(null);
    });
    child.once('exit', (exitCode) => resolve(exitCode));
  });
  clearTimeout(killer);
  const result = { code, messages: readIfThere(messagesFile), errors: readIfThere(errorsFile), output: output.slice(-4000) };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

/**
 * Whether UDP 127.0.0.1:`port` is bound on this machine (read from /proc/net/udp): a sipp started
 * as the called party is ready for our INVITE once its port is.
 */
export function udpBound(port: number): boolean {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .some((line) => line.trim().split(/\s+/)[1] === local);
}

/**
 * How many datagrams the kernel dropped for the UDP sockets bound to `port` (any address): the
 * last column of /proc/net/udp and udp6, counted when a socket's receive buffer overflows.
 */
export function udpDrops(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let drops = 0;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(hex)) drops += Number(fields[fields.length - 1]) || 0;
    }
  }
  return drops;
}

/** Throws, with sipp's logs in the message, unless the run exited with 0. */
export function assertSippPassed(result: SippResult): void {
  if (result.code === 0) return;
  throw new Error(`sipp exited with ${String(result.code)}\n--- errors ---\n${result.errors}\n--- messages ---\n${result.messages}\n--- output ---\n${result.output}`);
}

