import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testPorts } from './ports';

/** Options of {@link Coturn.start}. */
export interface CoturnOptions {
  /** The address it listens and relays on. @defaultValue '127.0.0.1' */
  address?: string;
  /** Long-term credentials it accepts (TURN). @defaultValue { alice: 'secret' } */
  users?: Record<string, string>;
  realm?: string;
  /** Listen on TCP too (TURN over TCP). @defaultValue true */
  tcp?: boolean;
  /** Run inside this network namespace (`ip netns exec`). */
  namespace?: string;
  /** TURN over TLS too, on a port of its own ({@link Coturn.tlsPort}), with this certificate and key (PEM files). */
  tls?: { certificate: string; key: string };
}

/**
 * coturn (Debian's `coturn`, `turnserver`) as a STUN and TURN server for the tests, on a port of
 * the worker's range, with long-term credentials, relaying on the same address. Ready when it
 * answers a STUN Binding request (the probe), not after a fixed wait.
 */
export class Coturn {
  readonly address: string;
  readonly port: number;
  /** The TLS listening port, when started with `tls`. */
  readonly tlsPort: number | undefined;
  readonly realm: string;
  readonly users: Record<string, string>;
  readonly #child: ChildProcess;
  readonly #dir: string;
  #output = '';

  private constructor(child: ChildProcess, dir: string, address: string, port: number, tlsPort: number | undefined, realm: string, users: Record<string, string>) {
    this.#child = child;
    this.#dir = dir;
    this.address = address;
    this.port = port;
    this.tlsPort = tlsPort;
    this.realm = realm;
    this.users = users;
    child.stdout?.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
  }

  /** What coturn printed. */
  get output(): string {
    return this.#output;
  }

  static async start(options: CoturnOptions = {}): Promise<Coturn> {
    const address = options.address ?? '127.0.0.1';
    const users = options.users ?? { alice: 'secret' };
    const realm = options.realm ?? 'sep.test';
    const port = testPorts(1);
    const tlsPort = options.tls ? testPorts(1) : undefined;
    const relayPorts = testPorts(40);
    const dir = mkdtempSync(join(tmpdir(), 'sep-coturn-'));
    const args = [
      '-n',
      `--listening-ip=${address}`,
      `--listening-port=${port}`,
      `--relay-ip=${address}`,
      `--min-port=${relayPorts}`,
      `--max-port=${relayPorts + 39}`,
      '--lt-cred-mech',
      `--realm=${realm}`,
      ...Object.entries(users).map(([user, password]) => `--user=${user}:${password}`),
      ...(options.tls ? [`--tls-listening-port=${tlsPort}`, `--cert=${options.tls.certificate}`, `--pkey=${options.tls.key}`] : ['--no-tls']),
      '--no-dtls',
      '--no-cli',
      '--allow-loopback-peers',
      '--fingerprint',
      '--log-file=stdout',
      '--simple-log',
      // Each session's requests in the log (a test reads what a client did there).
      '--verbose',
      `--pidfile=${join(dir, 'turnserver.pid')}`,
      ...(options.tcp === false ? ['--no-tcp'] : []),
    ];
    // stdbuf (coreutils) makes its log line-buffered: what it did is in `output` as it happens.
    const command = options.namespace ? ['ip', ['netns', 'exec', options.namespace, 'stdbuf', '-oL', 'turnserver', ...args]] as const : ['stdbuf', ['-oL', 'turnserver', ...args]] as const;
    const child = spawn(command[0], command[1], { stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new Coturn(child, dir, address, port, tlsPort, realm, users);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`turnserver exited (${child.exitCode}):\n${server.output}`);
      if (await answersBinding(address, port, options.namespace)) return server;
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`turnserver did not answer a STUN Binding request on ${address}:${port} within 10 s:\n${server.output}`);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** The probe, as a script for `node -e` inside a namespace: exit code 0 when answered. */
const PROBE_SCRIPT = `
const s = require('dgram').createSocket(process.argv[1].includes(':') ? 'udp6' : 'udp4');
const id = require('crypto').randomBytes(12);
s.on('message', (d) => { if (d.length >= 20 && d.subarray(8, 20).equals(id)) process.exit(0); });
s.send(Buffer.concat([Buffer.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]), id]), Number(process.argv[2]), process.argv[1]);
setTimeout(() => process.exit(1), 300);
`;

/** Sends one STUN Binding request and waits 300 ms for an answer with its transaction id (from inside `namespace` when given). */
async function answersBinding(address: string, port: number, namespace: string | undefined): Promise<boolean> {
  if (namespace !== undefined) {
    const probe = spawn('ip', ['netns', 'exec', namespace, process.execPath, '-e', PROBE_SCRIPT, address, String(port)], { stdio: 'ignore' });
    return new Promise<boolean>((resolve) => probe.once('exit', (code) => resolve(code === 0)));
  }
  const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  const id = randomBytes(12);
  const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), id]);
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.on('message', (data) => {
        if (data.length >= 20 && data.subarray(8, 20).equals(id)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      socket.on('error', () => resolve(false));
      socket.send(request, port, address);
    });
  } finally {
    socket.close();
  }
}
