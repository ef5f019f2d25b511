// Small helpers shared by the SIP benchmarks (answer-latency.ts, many-agents.ts): external
// programs, their output, percentiles and sipp's final statistics.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

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
