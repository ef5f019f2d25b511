/**
 * Runs a script in a network namespace of its own with loopback only (made and removed here; root
 * and `ip` are needed): whatever the script's peers are told to reach, nothing leaves the machine.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `script` (TypeScript, through tsx) with `argument` (JSON) in a fresh namespace; resolves with its last `REPORT` line's object. */
export async function runInNamespace<T>(tag: string, script: string, argument: unknown, options: { timeoutMs: number; onOutput?: (text: string) => void; nodeArgs?: string[] }): Promise<T> {
  const ns = `sep-rel-${tag}-${process.pid}`;
  const ip = (...args: string[]): void => {
    execFileSync('ip', args, { stdio: 'pipe' });
  };
  try {
    ip('netns', 'del', ns);
  } catch {
    // None left over.
  }
  ip('netns', 'add', ns);
  try {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    return await new Promise<T>((resolve, reject) => {
      // Its temporary files (certificates, logs, scenarios, heap snapshots) in a folder of its own, removed afterwards.
      const scratch = mkdtempSync(join(tmpdir(), `sep-rel-${tag}-`));
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...(options.nodeArgs ?? []), '--import', 'tsx', script, JSON.stringify(argument)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: scratch } });
      child.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
      let out = '';
      let err = '';
      child.stdout.on('data', (data: Buffer) => {
        out += data.toString();
        options.onOutput?.(data.toString());
      });
      child.stderr.on('data', (data: Buffer) => {
        err += data.toString();
        options.onOutput?.(data.toString());
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${script} ran over ${options.timeoutMs} ms (a hang)\n${out.slice(-3000)}\n${err.slice(-3000)}`));
      }, options.timeoutMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        const report = /^REPORT (.*)$/m.exec(out);
        if (report) resolve(JSON.parse(report[1]!) as T);
        else reject(new Error(`${script} exited with ${code} without a report\n${out.slice(-4000)}\n${err.slice(-4000)}`));
      });
    });
  } finally {
    try {
      ip('netns', 'del', ns);
    } catch {
      // Already gone.
    }
  }
}

/**
 * The other end of {@link runInNamespace}: runs `part` on the JSON argument of this process and
 * prints its report on a `REPORT` line (or why it failed on a `FAILED` one), then exits.
 */
export function runAsScript<A, R>(part: (argument: A) => Promise<R>): void {
  part(JSON.parse(process.argv[2] ?? '{}') as A).then(
    (report) => {
      process.stdout.write(`\nREPORT ${JSON.stringify(report)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stdout.write(`\nFAILED ${JSON.stringify(String(error instanceof Error ? (error.stack ?? error.message) : error))}\n`);
      process.exit(1);
    },
  );
}
