import { spawn } from 'node:child_process';

/** How a process run by {@link runProcess} ended. */
export interface ProcessRun {
  /** The exit code; null when it was killed (the time limit). */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** How long it ran, in milliseconds. */
  ms: number;
}

/**
 * Runs a command to its end, at most `timeoutMs`: then its whole process group is killed (tsx, for
 * one, runs the script in a child process, which killing tsx alone would leave running). Never
 * rejects: the test asserts on what it returns.
 */
export function runProcess(command: string, args: readonly string[], options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<ProcessRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killGroup = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(killGroup, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}${error.message}`, ms: Math.round(performance.now() - started) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Whatever the script left behind (a grandchild) goes with it.
      killGroup();
      resolve({ code, signal, stdout, stderr, ms: Math.round(performance.now() - started) });
    });
  });
}
