import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerAvailable } from '@sip-endpoint/test-support';

/** Whether tshark is installed; a missing one fails the test unless SEP_ALLOW_MISSING_PEERS=1. */
export function tsharkAvailable(): boolean {
  return peerAvailable('tshark');
}

/**
 * A packet capture on the loopback interface with tshark: what went over the wire, decoded by
 * Wireshark's dissectors rather than by our own code. Only packets matching the capture filter
 * (a BPF expression such as `udp port 5060`) are kept.
 */
export class Capture {
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #probe: Socket;
  readonly #probePort: number;
  readonly file: string;
  #stderr = '';
  #exited: Error | undefined;
  #probes = 0;
  /** What the last look for a probe's tshark said when it failed, for the timeout's message. */
  #tsharkError = '';

  private constructor(child: ChildProcess, dir: string, file: string, probe: Socket) {
    this.#child = child;
    this.#dir = dir;
    this.file = file;
    this.#probe = probe;
    this.#probePort = probe.address().port;
    child.once('error', (error) => (this.#exited = new Error(`dumpcap could not start: ${error.message} (tshark's package brings it; the README's test command installs it)`)));
    child.once('exit', (code) => (this.#exited ??= new Error(`dumpcap exited with ${code}:\n${this.#stderr}`)));
    child.stderr?.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
  }

  /**
   * Starts capturing (Wireshark's dumpcap writes each packet to the file as the kernel hands it
   * over); resolves once a probe datagram (to a port the capture filter includes) is in the file:
   * dumpcap says it captures a moment before it sees packets.
   */
  static async start(filter: string): Promise<Capture> {
    const dir = mkdtempSync(join(tmpdir(), 'sep-capture-'));
    const file = join(dir, 'capture.pcapng');
    const probe = createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const probePort = probe.address().port;
    const child = spawn('dumpcap', ['-q', '-i', 'lo', '-f', `(${filter}) or (udp dst port ${probePort} and udp src port ${probePort})`, '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    const capture = new Capture(child, dir, file, probe);
    try {
      await capture.#probeThrough();
    } catch (error) {
      await capture.dispose();
      throw error;
    }
    return capture;
  }

  /** Sends probes until one is in the file: everything sent before it is in the file too. */
  async #probeThrough(): Promise<void> {
    const deadline = Date.now() + 15_000;
    const marker = `capture probe ${++this.#probes}`;
    for (;;) {
      if (this.#exited) throw this.#exited;
      if (Date.now() > deadline) throw new Error(`the capture saw no probe within 15 s:\n${this.#stderr}${this.#tsharkError}`);
      this.#probe.send(marker, this.#probePort, '127.0.0.1');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const hex = Buffer.from(marker).toString('hex');
      if (existsSync(this.file) && (await this.#seen(`udp.dstport == ${this.#probePort} && data.data == ${hex}`))) return;
    }
  }

  /**
   * Whether a packet matching the display filter is in the file. tshark runs as a child the event
   * loop does not wait on: a capture started or stopped during a call (its probes) must not stall
   * the call's media clock for the half second tshark takes (a synchronous run did: three stalls of
   * 460 ms in one call).
   */
  async #seen(displayFilter: string): Promise<boolean> {
    const stdout = await new Promise<string>((resolve) => {
      execFile('tshark', ['-r', this.file, '-Y', displayFilter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }, (error, out, err) => {
        this.#tsharkError = error && out === '' ? `\ntshark: ${error.message}\n${err}` : '';
        resolve(out);
      });
    });
    // A file still being written may end in a partial packet: tshark prints what is whole and exits 2.
    return stdout.trim() !== '';
  }

  /**
   * Stops the capture and waits for dumpcap to exit. A last probe goes through first: the kernel
   * hands packets over in blocks, and a block not yet handed over when dumpcap stops is lost.
   */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    await this.#probeThrough();
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.kill('SIGINT');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /**
   * The captured packets matching the display filter, one row per packet with the given fields
   * (`-T fields -e ...`; a field that occurs several times in a packet is joined by commas).
   * `decodeAs` are tshark `-d` rules, e.g. `tcp.port==5061,tls`.
   */
  fields(displayFilter: string, fields: string[], decodeAs: string[] = []): string[][] {
    const args = ['-r', this.file, ...decodeAs.flatMap((rule) => ['-d', rule]), '-Y', displayFilter, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((field) => ['-e', field])];
    const run = spawnSync('tshark', args, { encoding: 'utf8' });
    // A file still being written may end in a partial packet: tshark reads what is whole and says so (status 2).
    if (run.status !== 0 && run.stdout === '') throw new Error(`tshark ${args.join(' ')} failed: ${run.stderr}`);
    return run.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split('\t'));
  }

  /** Stops dumpcap (without waiting for a probe) and removes the capture file. */
  async dispose(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
      this.#child.kill('SIGKILL');
      await exited;
    }
    this.#probe.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
