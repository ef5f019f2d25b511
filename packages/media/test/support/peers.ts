import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { waitFor } from '@sip-endpoint/test-support';

export { peerAvailable } from '@sip-endpoint/test-support';

/** How {@link startPeer} knows the program is ready. */
export interface PeerReadiness {
  /**
   * The UDP ports it is ready once it has bound (on any local address).
   * @defaultValue the ports after `-p` and `-mp` in its arguments (sipp's SIP and media ports)
   */
  udpPorts?: number[];
  /** How long it may take. @defaultValue 15000 */
  timeoutMs?: number;
}

/** Whether UDP `port` is bound on this machine, on any address (from /proc/net/udp and udp6). */
export function udpPortBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return ['/proc/net/udp', '/proc/net/udp6'].some((table) => {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      return false;
    }
    return text.split('\n').some((line) => line.trim().split(/\s+/)[1]?.endsWith(hex) ?? false);
  });
}

/** The ports named by `-p` and `-mp` in `args`. */
function namedPorts(args: readonly string[]): number[] {
  const ports: number[] = [];
  args.forEach((arg, i) => {
    if ((arg === '-p' || arg === '-mp') && /^\d+$/.test(args[i + 1] ?? '')) ports.push(Number(args[i + 1]));
  });
  return ports;
}

/**
 * Starts a program and resolves once it is ready: it has bound its UDP ports (see
 * {@link PeerReadiness}), a probe that holds however loaded the machine, never a fixed delay.
 * Rejects when it cannot start, exits first, or is not ready in time. Kill it with `stop`.
 */
export async function startPeer(command: string, args: string[], readiness: PeerReadiness = {}): Promise<{ child: ChildProcess; output: () => string; stop: () => Promise<void> }> {
  const ports = readiness.udpPorts ?? namedPorts(args);
  if (ports.length === 0) throw new Error(`startPeer: no UDP port to wait for before ${command} is ready`);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  let failed: Error | undefined;
  child.once('error', (error) => (failed ??= new Error(`${command} could not start: ${error.message} (install it: see the README's test command)`)));
  child.once('exit', (code) => (failed ??= new Error(`${command} exited with ${code} at start:\n${output}`)));
  try {
    await waitFor(() => failed !== undefined || ports.every(udpPortBound), readiness.timeoutMs ?? 15000, `${command} to bind UDP ${ports.join(', ')}`);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}:\n${output}`);
  }
  if (failed) {
    await stop();
    throw failed;
  }
  return { child, output: () => output, stop };
}
