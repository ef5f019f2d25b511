import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PulseClientTools, type NullSinkSpec } from './pulseaudio';

/** Options of {@link PipeWireServer.start}. */
export interface PipeWireServerOptions {
  /** Null sinks loaded once it answers (each with its `.monitor` source). @defaultValue one, `speaker` ("Test Speaker") */
  sinks?: NullSinkSpec[];
}

/**
 * A private PipeWire (Debian's `pipewire`, `wireplumber`, `pipewire-pulse`) for one test file:
 * what a current Linux desktop runs, its PulseAudio server answering the same `pactl`, `pacat`
 * and `parec` as PulseAudio. Its own runtime, config and state directories and its own session
 * bus (`dbus-daemon`: wireplumber leaves without one); no sound card (null sinks, which run on
 * PipeWire's timers). wireplumber is needed: without a session manager no stream is linked to a
 * sink. Ready when `pactl info` answers and every sink is listed. The four processes are this
 * object's children, stopped by {@link PipeWireServer.stop}.
 */
export class PipeWireServer extends PulseClientTools {
  readonly server: string;
  readonly #dir: string;
  readonly #runtime: string;
  #children: { name: string; child: ChildProcess }[] = [];
  #output = '';

  private constructor(dir: string) {
    super();
    this.#dir = dir;
    this.#runtime = join(dir, 'runtime');
    this.server = `unix:${join(this.#runtime, 'pulse', 'native')}`;
  }

  static async start(options: PipeWireServerOptions = {}): Promise<PipeWireServer> {
    const server = new PipeWireServer(mkdtempSync(join(tmpdir(), 'sep-pipewire-')));
    try {
      await server.#start(options.sinks ?? [{ name: 'speaker', description: 'Test Speaker' }]);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** What its processes printed (the last 20 kB), each line after its program's name. */
  get output(): string {
    return this.#output;
  }

  async #start(sinks: NullSinkSpec[]): Promise<void> {
    mkdirSync(this.#runtime, { recursive: true, mode: 0o700 });
    const bus = join(this.#runtime, 'bus');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: this.#dir,
      XDG_RUNTIME_DIR: this.#runtime,
      XDG_CONFIG_HOME: join(this.#dir, 'config'),
      XDG_STATE_HOME: join(this.#dir, 'state'),
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${bus}`,
      LC_ALL: 'C',
    };
    delete env['PULSE_SERVER'];
    delete env['PIPEWIRE_REMOTE'];
    this.#spawn('dbus-daemon', ['--session', '--nofork', '--nopidfile', `--address=unix:path=${bus}`], env);
    await this.#until(() => existsSync(bus), 'dbus-daemon made its socket');
    this.#spawn('pipewire', [], env);
    await this.#until(() => existsSync(join(this.#runtime, 'pipewire-0')), 'pipewire made its socket');
    this.#spawn('wireplumber', [], env);
    this.#spawn('pipewire-pulse', [], env);
    await this.#until(() => this.pactl('info').then(() => true, () => false), 'pipewire-pulse answered pactl');
    for (const sink of sinks) await this.loadNullSink(sink);
    await this.#until(async () => {
      const listed = await this.pactl('list', 'short', 'sinks');
      return sinks.every((sink) => listed.split('\n').some((line) => line.split('\t')[1] === sink.name));
    }, 'the sinks listed');
  }

  #spawn(command: string, args: string[], env: NodeJS.ProcessEnv): void {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer): void => {
      this.#output = (this.#output + chunk.toString().replace(/^(?=.)/gm, `${command}: `)).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('error', (error) => (this.#output += `${command}: could not start: ${error.message} (install it: see the README's test command)\n`));
    child.once('exit', (code, signal) => (this.#output += `${command}: exited (${signal ?? code})\n`));
    this.#children.push({ name: command, child });
  }

  /** Polls `ready` every 20 ms for up to 10 s; throws with the processes' output when it never holds or one of them exited. */
  async #until(ready: () => boolean | Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (await ready()) return;
      const gone = this.#children.find(({ child }) => child.exitCode !== null || child.signalCode !== null || child.pid === undefined);
      if (gone || Date.now() > deadline) throw new Error(`PipeWire did not start (${gone ? `${gone.name} exited` : `not ${what} within 10 s`}):\n${this.#output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops its processes (the last started first) and removes its directory. */
  async stop(): Promise<void> {
    for (const { child } of this.#children.splice(0).reverse()) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
