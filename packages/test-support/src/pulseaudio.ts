import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A null sink the server starts with. */
export interface NullSinkSpec {
  /** The Pulse name (letters, digits, `_`, `-`, `.`: the server replaces others). */
  name: string;
  /** What `device.description` says. @defaultValue the name */
  description?: string;
}

/** Options of {@link PulseAudioServer.start}. */
export interface PulseAudioServerOptions {
  /** Its null sinks (each with its `.monitor` source). @defaultValue one, `speaker` ("Test Speaker") */
  sinks?: NullSinkSpec[];
}

/**
 * What the Pulse client tools (`pactl`, `pacat`, `parec` of pulseaudio-utils) do against one
 * server, named by `PULSE_SERVER`: shared by {@link PulseAudioServer} and `PipeWireServer` (whose
 * pipewire-pulse speaks the same protocol).
 */
export abstract class PulseClientTools {
  /** `unix:<socket>`, for `PULSE_SERVER`. */
  abstract readonly server: string;

  /** The environment of a client of this server only. */
  get env(): NodeJS.ProcessEnv {
    return { ...process.env, PULSE_SERVER: this.server, LC_ALL: 'C' };
  }

  /** Runs pactl against this server; rejects with its stderr when it fails. */
  pactl(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('pactl', args, { env: this.env, encoding: 'utf8', timeout: 5000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`pactl ${args.join(' ')}: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      });
    });
  }

  /** Adds a null sink (a hot-plugged speaker, its monitor a source); resolves with the module's index for {@link PulseClientTools.unload}. */
  async loadNullSink(sink: NullSinkSpec): Promise<number> {
    return Number((await this.pactl('load-module', 'module-null-sink', ...nullSinkArguments(sink))).trim());
  }

  async unload(module: number): Promise<void> {
    await this.pactl('unload-module', String(module));
  }

  /**
   * Records `ms` of `source` (a sink's `<name>.monitor`) with parec, mono s16le at `rate`.
   * Resolves with the samples once `ms` have been recorded.
   */
  record(source: string, rate: number, ms: number): Promise<Int16Array> {
    return new Promise((resolve, reject) => {
      const child = spawn('parec', ['--raw', '--format=s16le', '--channels=1', `--rate=${rate}`, `--device=${source}`, '--latency-msec=10'], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
      const wanted = Math.round((rate * ms) / 1000) * 2;
      const chunks: Buffer[] = [];
      let got = 0;
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        got += chunk.length;
        if (got >= wanted) child.kill('SIGKILL');
      });
      child.once('error', reject);
      child.once('close', () => {
        const bytes = Buffer.concat(chunks);
        if (bytes.length < wanted) {
          reject(new Error(`parec of ${source} gave ${bytes.length} of ${wanted} bytes: ${stderr}`));
          return;
        }
        const samples = new Int16Array(wanted / 2);
        for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
        resolve(samples);
      });
    });
  }

  /** Plays mono samples at `rate` into `sink` with pacat; resolves when pacat has played them. */
  play(sink: string, samples: Int16Array, rate: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('pacat', ['--playback', '--raw', '--format=s16le', '--channels=1', `--rate=${rate}`, `--device=${sink}`], { env: this.env, stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`pacat into ${sink} exited ${code}: ${stderr}`))));
      const bytes = Buffer.alloc(samples.length * 2);
      samples.forEach((sample, i) => bytes.writeInt16LE(sample, i * 2));
      child.stdin.end(bytes);
    });
  }
}

/**
 * A private PulseAudio server (Debian's `pulseaudio`) for one test file: its own runtime, state
 * and home directory, its own socket, no hardware (`-n`: no default modules; null sinks only), no
 * idle exit. Tests point their clients at {@link PulseAudioServer.server} (`PULSE_SERVER`), so
 * that they never touch the desktop's server, nor another test's. Runs as root too (it warns).
 * Ready when `pactl info` answers, not after a fixed wait.
 */
export class PulseAudioServer extends PulseClientTools {
  /** `unix:<socket>`, for `PULSE_SERVER`. */
  readonly server: string;
  readonly #dir: string;
  readonly #socket: string;
  readonly #sinks: NullSinkSpec[];
  #child: ChildProcess | undefined;
  /** The `parec` of each sink's monitor that keeps the sink from idling in 2 s blocks (see {@link PulseAudioServer.restart}). */
  #awake: ChildProcess[] = [];
  #output = '';

  private constructor(dir: string, sinks: NullSinkSpec[]) {
    super();
    this.#dir = dir;
    this.#socket = join(dir, 'native');
    this.server = `unix:${this.#socket}`;
    this.#sinks = sinks;
  }

  static async start(options: PulseAudioServerOptions = {}): Promise<PulseAudioServer> {
    const dir = mkdtempSync(join(tmpdir(), 'sep-pulse-'));
    const server = new PulseAudioServer(dir, options.sinks ?? [{ name: 'speaker', description: 'Test Speaker' }]);
    await server.restart();
    return server;
  }

  /** What the server printed (its log goes to stderr). */
  get output(): string {
    return this.#output;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Starts it (again, after {@link PulseAudioServer.kill}), on the same socket, with the sinks it started with. */
  async restart(): Promise<void> {
    if (this.running) return;
    const runtime = join(this.#dir, 'runtime');
    mkdirSync(runtime, { recursive: true, mode: 0o700 });
    const args = [
      '--daemonize=no',
      '--system=false',
      '--exit-idle-time=-1',
      '--disallow-exit',
      '--use-pid-file=no',
      '--log-target=stderr',
      '-n',
      `--load=module-native-protocol-unix socket=${this.#socket} auth-anonymous=1`,
      ...this.#sinks.map((sink) => `--load=module-null-sink ${nullSinkArguments(sink).join(' ')}`),
    ];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: this.#dir,
      XDG_RUNTIME_DIR: runtime,
      XDG_CONFIG_HOME: join(this.#dir, 'config'),
      PULSE_RUNTIME_PATH: runtime,
      PULSE_STATE_PATH: join(this.#dir, 'state'),
      // No session bus here: without this it asks to autolaunch one.
      DBUS_SESSION_BUS_ADDRESS: 'disabled:',
      LC_ALL: 'C',
    };
    delete env['PULSE_SERVER'];
    const child = spawn('pulseaudio', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    child.stderr?.on('data', (chunk: Buffer) => (this.#output = (this.#output + chunk.toString()).slice(-20_000)));
    const failed = new Promise<Error>((resolve) => {
      child.once('error', (error) => resolve(error));
      child.once('exit', (code, signal) => resolve(new Error(`pulseaudio exited (${signal ?? code}):\n${this.#output}`)));
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const outcome = await Promise.race([this.pactl('info').then(() => 'ready' as const, () => 'not yet' as const), failed]);
      if (outcome === 'ready') {
        await this.#keepAwake();
        return;
      }
      if (outcome instanceof Error) throw outcome;
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`pulseaudio did not answer pactl within 10 s:\n${this.#output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * A null sink with no client that asks for a low latency renders its silence 2 s at a time
   * (PulseAudio 16's module-null-sink has no latency argument), and a stream that comes then waits
   * for the next block: a new playback stream plays up to 2 s late, and a new recording of its
   * monitor (or of a remap source on it) gets nothing for as long. Measured: a parec on a remap
   * of an idle sink's monitor had its first samples 1.1-1.7 s after its stream was created; a pacat
   * started to play 0.4-2 s after. It made the round trip measure seconds, and the microphone
   * restarted with the server hear nothing for its first second. A card plays a new stream at
   * once; so that these sinks do too, each plays a stream of zeros (`/dev/zero`, taken at the
   * pace of the sink) asking for 10 ms for as long as the server runs: a client "sep-test
   * keep-awake" in `pactl list clients`, silent in the mix. A playback stream, not a reader of the
   * monitor: a stream made on the default source follows the default when a test changes it
   * (`set-default-source`), and a reader of `speaker.monitor` went to the new default. The sink
   * takes the 10 ms from its next block on, up to 2 s after the server started: the server is
   * ready when every stream has started to play (given up after 5 s, as a slow but working server).
   */
  async #keepAwake(): Promise<void> {
    const awake = this.#sinks.map((sink) => {
      const zeros = openSync('/dev/zero', 'r');
      let child: ChildProcess;
      try {
        child = spawn('pacat', ['--playback', '--verbose', '--raw', '--format=s16le', '--channels=1', '--rate=8000', '--latency-msec=10', `--device=${sink.name}`, '--client-name=sep-test keep-awake'], { env: this.env, stdio: [zeros, 'ignore', 'pipe'] });
      } finally {
        closeSync(zeros);
      }
      this.#awake.push(child);
      return new Promise<void>((resolve) => {
        child.once('error', () => resolve());
        child.once('exit', () => resolve());
        // `--verbose` says when the sink first took samples from it ("Stream started."); its clock
        // lines after that are read and thrown away: a full pipe would stop it.
        child.stderr?.on('data', (chunk: Buffer) => {
          if (chunk.includes('Stream started')) resolve();
        });
      });
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(awake), new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)))]);
    clearTimeout(timer);
  }

  /** Kills the server at once (SIGKILL), as a crash does: its clients lose their connection. */
  async kill(): Promise<void> {
    for (const child of this.#awake.splice(0)) child.kill('SIGKILL');
    const child = this.#child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** `sink_name=... sink_properties=device.description="..."`, quoted as the server's module arguments want (the whole value in single quotes). */
function nullSinkArguments(sink: NullSinkSpec): string[] {
  const description = (sink.description ?? sink.name).replace(/["'\\]/g, '');
  return [`sink_name=${sink.name}`, `sink_properties='device.description="${description}"'`];
}
