import { spawn, type ChildProcess } from 'node:child_process';
import type { AudioDevice } from '@sip-endpoint/policy';
import type { AudioInput, AudioOutput } from '../audio-device-provider';
import { SoundServerError } from './sound-server-error';

/** What a stream needs from its provider. */
export interface StreamContext {
  /** The environment of the children (`PULSE_SERVER`, `LC_ALL=C`). */
  env: NodeJS.ProcessEnv;
  pacat: string;
  parec: string;
  clientName: string;
  /** The `--latency-msec` of playback and of recording children. */
  outputLatencyMs: number;
  inputLatencyMs: number;
  /** How much recorded audio waits for `read()` at most, in milliseconds (older audio is dropped). */
  inputBufferMs: number;
  /** How much played audio may wait ahead of what the device played, in milliseconds (newer frames are dropped). */
  outputQueueMs: number;
  /** Backoff of the restarts of a child that stopped: first delay, then doubled up to the last. */
  retryMs: readonly [number, number];
  report(error: SoundServerError): void;
  log(level: 'warn' | 'info' | 'debug', message: string): void;
  closed(stream: ChildStream): void;
}

/** Counters of an open PulseAudio input. @public */
export interface PulseAudioInputStats {
  /** Whether its `parec` child is running now. */
  running: boolean;
  /** Reads that found less than a frame and gave silence (the child late, stopped, or restarting). */
  underruns: number;
  /** Samples dropped, oldest first: more waited than a frame and a margin (at the first read, or always over half a second of reads), or the buffer was full. */
  overflowSamples: number;
  /** Children started after the first (the server or the device went away and came back). */
  restarts: number;
  /** Recorded samples waiting for `read()` now. */
  buffered: number;
}

/** Counters of an open PulseAudio output. @public */
export interface PulseAudioOutputStats {
  running: boolean;
  /** Samples handed to the `pacat` child. */
  writtenSamples: number;
  /** Samples dropped: the child was not running, had not taken the frames queued before, or was `outputQueueMs` ahead of the device. */
  droppedSamples: number;
  restarts: number;
  /**
   * Samples written and not yet played, wherever they wait (the pipe, `pacat`, the server, the
   * device), as of the last write: written less what pacat's clock says the device has played.
   */
  queued: number;
  /** Times pacat said its stream ran dry ("Stream underrun"): the writer came late, or the queue is too short for its lateness. */
  underruns: number;
}

/** A microphone of the sound server, recorded by a `parec` child. @public */
export interface PulseAudioInput extends AudioInput {
  stats(): PulseAudioInputStats;
}

/** A speaker of the sound server, played by a `pacat` child. @public */
export interface PulseAudioOutput extends AudioOutput {
  stats(): PulseAudioOutputStats;
}

/**
 * A stream's child process, started again with backoff when it stops (the server died, the
 * device went away) until the stream is closed. The media clock never waits on it: `read()` and
 * `write()` only touch buffers in this process.
 */
export abstract class ChildStream {
  readonly device: AudioDevice;
  readonly sampleRate: number;
  protected readonly context: StreamContext;
  #child: ChildProcess | undefined;
  #timer: NodeJS.Timeout | undefined;
  #delay: number;
  #failures = 0;
  #started = 0;
  #spawned = 0;
  #closed = false;
  #streaming = false;
  #stderr = '';

  constructor(device: AudioDevice, sampleRate: number, context: StreamContext) {
    this.device = device;
    this.sampleRate = sampleRate;
    this.context = context;
    this.#delay = context.retryMs[0];
  }

  protected abstract get what(): string;
  protected abstract command(): [string, string[]];
  /** A new child runs: take its pipes. */
  protected abstract attach(child: ChildProcess): void;
  /** The child stopped: let go of its pipes and of what was queued for it. */
  protected abstract detach(): void;
  /** The child's stream runs on the server. */
  protected ready(): void {}
  /** pacat's stream began to play, or ran out of samples. */
  protected playback(_event: 'started' | 'underrun'): void {}
  /** The child's clock line: the stream's time, in seconds (for playback, what the device has played). */
  protected clock(_seconds: number): void {}

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Whether a child runs and its stream on the server does. */
  get running(): boolean {
    return this.#streaming;
  }

  get restarts(): number {
    return Math.max(0, this.#spawned - 1);
  }

  start(): void {
    if (this.#closed || this.#child) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const [command, args] = this.command();
    this.#stderr = '';
    this.#streaming = false;
    this.#started = Date.now();
    this.#spawned++;
    let child: ChildProcess;
    try {
      // An argument array, never a shell: a device name with spaces, quotes or `$(...)` reaches
      // pacat as one argument, as it is.
      child = spawn(command, args, { env: this.context.env, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      this.#stopped(`cannot start ${command}: ${(error as Error).message}`);
      return;
    }
    this.#child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      // `-v` makes it say when its stream runs ("Stream successfully created.") and print its
      // clock every 50 ms; the reason it stops ("Stream error: No such entity") is in its last
      // lines. The clock lines are read from the bytes (20 a second: no string made for them),
      // and only a chunk with something else in it is made text.
      const seconds = scanClock(chunk);
      if (this.#child === child && seconds >= 0) this.clock(seconds);
      if (!clockOther) return;
      const text = chunk.toString().replace(CLOCK_LINES, '');
      if (text === '') return;
      // pacat says when the device begins to play its stream, and when it ran dry.
      if (this.#child === child && /Stream (started|underrun)\./.test(text)) this.playback(text.includes('underrun') ? 'underrun' : 'started');
      if (this.#child === child && !this.#streaming && text.includes('Stream successfully created')) {
        this.#streaming = true;
        this.ready();
      }
      this.#stderr = (this.#stderr + text).slice(-400);
    });
    child.on('error', (error) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      this.#streaming = false;
      this.detach();
      this.#stopped(`cannot start ${command}: ${error.message}`);
    });
    child.on('exit', (code, signal) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      this.#streaming = false;
      this.detach();
      const said = this.#stderr.trim().split('\n').filter(Boolean).pop();
      this.#stopped(`${command} exited (${signal ?? `code ${code}`})${said ? `: ${said}` : ''}`);
    });
    this.attach(child);
  }

  /** Starts a stopped child now instead of at the end of its backoff (the server is back). */
  retryNow(): void {
    if (this.#closed || this.#child) return;
    this.#delay = this.context.retryMs[0];
    this.start();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const child = this.#child;
    this.#child = undefined;
    this.#streaming = false;
    this.detach();
    if (child) {
      child.stdin?.destroy();
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.kill('SIGKILL');
    }
    this.context.closed(this);
  }

  #stopped(reason: string): void {
    if (this.#closed) return;
    // A child that ran a while was fine: this is a new failure, retried from the first delay.
    if (Date.now() - this.#started > 2000) {
      this.#delay = this.context.retryMs[0];
      this.#failures = 0;
    }
    this.#failures++;
    const message = `the ${this.what} of ${this.device.name} (${this.device.id}) stopped: ${reason}; started again in ${this.#delay} ms`;
    // Said once per run of failures: a device that stays away must not fill the log.
    if (this.#failures === 1) this.context.report(new SoundServerError(message, this.device.id));
    else this.context.log('debug', message);
    this.#timer = setTimeout(() => this.start(), this.#delay);
    this.#timer.unref();
    this.#delay = Math.min(this.#delay * 2, this.context.retryMs[1]);
  }
}

/** What `-v` prints besides its messages: its clock, carriage returns and the terminal's clear-line code. */
// eslint-disable-next-line no-control-regex -- the escape character is what is removed
const CLOCK_LINES = /\r|\x1b\[K|Time: [\d.]+ sec; Latency: -?\d+ usec\.\s*/g;

/** Whether the last chunk given to {@link scanClock} held more than clock lines. */
let clockOther = false;
const TIME = [0x54, 0x69, 0x6d, 0x65, 0x3a, 0x20]; // "Time: "
const SEC = [0x20, 0x73, 0x65, 0x63]; // " sec"

/**
 * The last time of the clock lines of a chunk of `-v` output ("Time: 12.345 sec; Latency: 30000
 * usec." between carriage returns), in seconds, or -1 when there is none; sets `clockOther` when
 * the chunk holds anything else. Reads the bytes: no string, no match object. A line cut by the end
 * of the chunk (no " sec" after the number) is not taken: "Time: 1" of "Time: 1.999" would be a
 * second wrong.
 */
function scanClock(chunk: Buffer): number {
  let seconds = -1;
  let other = false;
  let i = 0;
  const end = chunk.length;
  while (i < end) {
    const byte = chunk[i]!;
    if (byte === 0x54 && matches(chunk, i, TIME)) {
      let j = i + TIME.length;
      let value = 0;
      let scale = 0;
      let digits = 0;
      for (; j < end; j++) {
        const c = chunk[j]!;
        if (c >= 0x30 && c <= 0x39) {
          value = value * 10 + (c - 0x30);
          if (scale > 0) scale *= 10;
          digits++;
        } else if (c === 0x2e && scale === 0) scale = 1;
        else break;
      }
      if (digits > 0 && matches(chunk, j, SEC)) seconds = scale > 0 ? value / scale : value;
      else other = true;
      // The rest of the line ("; Latency: ... usec." and its padding) up to the next line.
      while (j < end && chunk[j] !== 0x0d && chunk[j] !== 0x0a) j++;
      i = j;
      continue;
    }
    // Carriage returns, newlines, spaces and the clear-line code around the clock lines.
    if (byte !== 0x0d && byte !== 0x0a && byte !== 0x20) {
      if (byte === 0x1b && chunk[i + 1] === 0x5b && chunk[i + 2] === 0x4b) {
        i += 3;
        continue;
      }
      other = true;
    }
    i++;
  }
  clockOther = other;
  return seconds;
}

function matches(chunk: Buffer, at: number, bytes: readonly number[]): boolean {
  if (at + bytes.length > chunk.length) return false;
  for (let k = 0; k < bytes.length; k++) if (chunk[at + k] !== bytes[k]) return false;
  return true;
}

/** Arguments both children take. */
function commonArgs(context: StreamContext, device: AudioDevice, rate: number, latencyMs: number, role: string): string[] {
  return [
    '--verbose',
    '--raw',
    '--format=s16le',
    '--channels=1',
    `--rate=${rate}`,
    `--device=${device.id}`,
    `--latency-msec=${latencyMs}`,
    `--client-name=${context.clientName}`,
    `--stream-name=${context.clientName} ${role}`,
    // The server may treat a phone call as one (ducking music, a phone profile on Bluetooth).
    '--property=media.role=phone',
  ];
}

/**
 * A microphone: `parec` writes the device's samples to its stdout; they wait in a ring buffer for
 * the media clock's `read()`. Bounded: when the reader falls behind, the oldest samples go, so
 * the delay never grows past `inputBufferMs`.
 */
export class PulseInput extends ChildStream implements PulseAudioInput {
  readonly #ring: Int16Array;
  /** Absolute sample counts: written by the child, read by the clock. */
  #writeAt = 0;
  #readAt = 0;
  /** A lone low byte when a chunk ended inside a sample. */
  #carry = -1;
  /** False at the start and after an underrun: wait for a frame and a margin before reading again. */
  #primed = false;
  #underruns = 0;
  #overflow = 0;
  readonly #margin: number;
  /** The least waiting before a read in this window of reads, and how many reads it has had. */
  #least = Number.POSITIVE_INFINITY;
  #reads = 0;

  constructor(device: AudioDevice, sampleRate: number, context: StreamContext) {
    super(device, sampleRate, context);
    this.#ring = new Int16Array(Math.max(1, Math.ceil((sampleRate * context.inputBufferMs) / 1000)));
    // parec's `--latency-msec` of margin (it sends it in halves, 10 ms at 20): its chunks and the
    // clock's ticks come at independent moments, and a tick that comes just before a chunk, or
    // with a chunk late, must still find a frame.
    this.#margin = Math.ceil((sampleRate * context.inputLatencyMs) / 1000);
  }

  protected get what(): string {
    return 'recording';
  }

  protected command(): [string, string[]] {
    return [this.context.parec, commonArgs(this.context, this.device, this.sampleRate, this.context.inputLatencyMs, 'microphone')];
  }

  protected attach(child: ChildProcess): void {
    child.stdin?.destroy();
    child.stdout?.on('data', (chunk: Buffer) => this.#push(chunk));
  }

  protected detach(): void {
    this.#readAt = this.#writeAt;
    this.#carry = -1;
    this.#primed = false;
  }

  read(frame: Int16Array, length: number): void {
    const available = this.#writeAt - this.#readAt;
    if (available < length || (!this.#primed && available < length + this.#margin)) {
      if (this.#primed || !this.running) this.#underruns++;
      this.#primed = false;
      this.#least = Number.POSITIVE_INFINITY;
      this.#reads = 0;
      frame.fill(0, 0, length);
      return;
    }
    if (!this.#primed) {
      // The first read after a start or an underrun: from the newest frame and its margin, not
      // from whatever waited (parec's first burst, what came while the reader was away).
      this.#skip(available - length - this.#margin);
      this.#primed = true;
    } else {
      // What always waits beyond a frame and its margin is delay and nothing else: over a window
      // of reads (half a second), the least that waited before a read shows it, and it goes.
      // The least, not the last: a read that comes late finds more, and the catch-up read right
      // after it less, and neither is a standing excess. Keeps it at a frame and a margin
      // whatever the start was, and bounds the drift of a device faster than the clock.
      if (available < this.#least) this.#least = available;
      if (++this.#reads >= READ_WINDOW) {
        const excess = this.#least - length - this.#margin;
        this.#least = Number.POSITIVE_INFINITY;
        this.#reads = 0;
        if (excess > 0) this.#skip(excess);
      }
    }
    const ring = this.#ring;
    const size = ring.length;
    let at = this.#readAt % size;
    for (let i = 0; i < length; i++) {
      frame[i] = ring[at]!;
      if (++at === size) at = 0;
    }
    this.#readAt += length;
  }

  #skip(samples: number): void {
    if (samples <= 0) return;
    this.#readAt += samples;
    this.#overflow += samples;
  }

  stats(): PulseAudioInputStats {
    return { running: this.running, underruns: this.#underruns, overflowSamples: this.#overflow, restarts: this.restarts, buffered: this.#writeAt - this.#readAt };
  }

  #push(chunk: Buffer): void {
    const ring = this.#ring;
    const size = ring.length;
    let byte = 0;
    let at = this.#writeAt % size;
    let written = 0;
    if (this.#carry >= 0 && chunk.length > 0) {
      ring[at] = ((chunk[0]! << 8) | this.#carry) << 16 >> 16;
      if (++at === size) at = 0;
      written++;
      byte = 1;
      this.#carry = -1;
    }
    // Little-endian pairs, read byte by byte: right on any host, and no view allocated per chunk.
    for (; byte + 1 < chunk.length; byte += 2) {
      ring[at] = ((chunk[byte + 1]! << 8) | chunk[byte]!) << 16 >> 16;
      if (++at === size) at = 0;
      written++;
    }
    if (byte < chunk.length) this.#carry = chunk[byte]!;
    this.#writeAt += written;
    const excess = this.#writeAt - this.#readAt - size;
    if (excess > 0) {
      this.#readAt += excess;
      this.#overflow += excess;
    }
  }
}

/** Reads over which the least waiting is taken (25 frames of 20 ms: half a second). */
const READ_WINDOW = 25;

/** One buffer handed to the child's stdin, free again when the pipe has taken it. */
interface Slot {
  bytes: Buffer;
  busy: boolean;
  done: () => void;
}

/**
 * A speaker: `write()` copies the frame into one of a few buffers made once and hands it to
 * `pacat`'s stdin. When every buffer still waits for the pipe (the child stalled), the frame is
 * dropped and counted: the media clock never waits and the queue never grows.
 */
export class PulseOutput extends ChildStream implements PulseAudioOutput {
  readonly discards = false;
  #stdin: NodeJS.WritableStream | undefined;
  /** The pipe of a child whose stream does not run yet. */
  #pending: NodeJS.WritableStream | undefined;
  #slots: Slot[] = [];
  #slotLength = 0;
  #next = 0;
  #written = 0;
  #dropped = 0;
  #behind = false;
  /** Samples written to the child since its stream was created. */
  #sent = 0;
  /** Samples the device has played, as pacat's clock last said, and when it said it. */
  #played = 0;
  #clockAt = 0;
  /** Whether the device played between the last two clock lines. */
  #moving = false;
  #queued = 0;
  #underruns = 0;
  #dropping = false;
  /** The least that should wait ahead of the device, in samples: raised by each underrun. */
  #floor = 0;
  /** A frame of silence, written before a frame when too little waits. Never changed, so written again and again. */
  #silence = Buffer.alloc(0);

  protected get what(): string {
    return 'playback';
  }

  protected command(): [string, string[]] {
    return [this.context.pacat, ['--playback', ...commonArgs(this.context, this.device, this.sampleRate, this.context.outputLatencyMs, 'speaker')]];
  }

  protected attach(child: ChildProcess): void {
    child.stdout?.destroy();
    const stdin = child.stdin!;
    // A child that died leaves a broken pipe: its exit, not this error, says what happened.
    stdin.on('error', () => {});
    this.#pending = stdin;
    // Fresh buffers: writes queued on the old pipe may still hold the old ones.
    this.#slots = [];
    this.#slotLength = 0;
  }

  /**
   * Frames are written from the moment the stream runs, not from the child's start: what was
   * written while it connected (100 ms and more) would wait in the pipe and delay everything
   * after it by as much, for the whole call.
   */
  protected override ready(): void {
    this.#stdin = this.#pending;
    // Half of pacat's latency to start with: the server's own buffer holds the rest.
    this.#floor = Math.round((this.sampleRate * this.context.outputLatencyMs) / 2000);
    this.#sent = 0;
    this.#played = 0;
    this.#moving = false;
    this.#queued = 0;
    this.#clockAt = performance.now();
  }

  protected detach(): void {
    this.#stdin = undefined;
    this.#pending = undefined;
  }

  write(frame: Int16Array, length: number): void {
    const stdin = this.#stdin;
    if (!stdin || this.isClosed) {
      this.#dropped += length;
      return;
    }
    if (length !== this.#slotLength) this.#makeSlots(length);
    const slot = this.#slots[this.#next]!;
    if (slot.busy) {
      this.#dropped += length;
      if (!this.#behind) {
        this.#behind = true;
        this.context.log('warn', `playback to ${this.device.name} is behind (pacat takes no more): frames are dropped until it catches up`);
      }
      return;
    }
    this.#behind = false;
    if (this.#ahead(length)) {
      this.#dropped += length;
      return;
    }
    // Too little waits (the stream started with a frame, or ran dry): a frame of silence first,
    // so that a clock that comes late does not make it run dry again. Its gap is the one the
    // device would have played anyway; the floor is kept below the cap by two frames.
    const rate = this.sampleRate;
    if (this.#queued < Math.min(this.#floor, (rate * this.context.outputQueueMs) / 1000 - 2 * length)) {
      stdin.write(this.#silence);
      this.#sent += length;
      this.#queued += length;
    }
    const bytes = slot.bytes;
    for (let i = 0, b = 0; i < length; i++, b += 2) {
      const sample = frame[i]!;
      bytes[b] = sample & 0xff;
      bytes[b + 1] = (sample >> 8) & 0xff;
    }
    slot.busy = true;
    this.#next = (this.#next + 1) % this.#slots.length;
    this.#written += length;
    this.#sent += length;
    stdin.write(bytes, slot.done);
  }

  stats(): PulseAudioOutputStats {
    return { running: this.running, writtenSamples: this.#written, droppedSamples: this.#dropped, restarts: this.restarts, queued: Math.round(this.#queued), underruns: this.#underruns };
  }

  protected override playback(event: 'started' | 'underrun'): void {
    if (event !== 'underrun') return;
    this.#underruns++;
    // The clock came later than what waited: keep 10 ms more from now on (up to the cap).
    this.#floor += Math.round(this.sampleRate / 100);
  }

  protected override clock(seconds: number): void {
    const played = seconds * this.sampleRate;
    this.#moving = played > this.#played;
    this.#played = played;
    this.#clockAt = performance.now();
  }

  /**
   * Whether `length` more samples would put more than `outputQueueMs` between this write and the
   * device. What waits is measured, not guessed from the wall clock: what was written less what
   * pacat's clock (its `-v` "Time:" line, the stream's played position, every 50 ms) says the
   * device has played. A stream is created long before its device plays it (a null sink idle in
   * 2 s blocks starts a new stream up to 2 s later; a card may resume from suspend), and pacat
   * keeps reading only what its stream takes: whatever the media clock writes meanwhile waits in
   * the socket pair of pacat's stdin, which holds 200 KiB (6 s at 16 kHz), and stays there as
   * delay for the whole call, since the clock and the device go at the same pace from then on.
   * Measured with the earlier guess (played = time since the stream was created): 1.3-1.7 s of
   * round trip, nearly all of it in that socket. Here the newest frame is dropped instead, so the
   * delay never exceeds `outputQueueMs`, after the start as after a stall or a device slower
   * than the clock. Between clock lines the device is taken to go on playing if it played at the
   * last one (at most 100 ms of it); with no clock line for 250 ms (a pacat that prints none) it
   * is taken to play all along, as before.
   */
  #ahead(length: number): boolean {
    const rate = this.sampleRate;
    const since = performance.now() - this.#clockAt;
    let played = this.#played;
    if (since > 250) played += (since * rate) / 1000;
    else if (this.#moving) played += (Math.min(since, 100) * rate) / 1000;
    // Never below nothing: the guess between clock lines runs on past a stream that ran dry and stopped.
    this.#queued = Math.max(0, this.#sent - played);
    const ahead = this.#queued + length > (rate * this.context.outputQueueMs) / 1000;
    if (ahead && !this.#dropping) this.context.log('debug', `playback to ${this.device.name} is ${Math.round((this.#queued * 1000) / rate)} ms ahead of the device: frames dropped`);
    this.#dropping = ahead;
    return ahead;
  }

  /** As many buffers as `outputQueueMs` holds of frames of this length (made again only when the length changes). */
  #makeSlots(length: number): void {
    const count = Math.max(2, Math.ceil((this.sampleRate * this.context.outputQueueMs) / 1000 / length));
    this.#slots = Array.from({ length: count }, () => {
      const slot: Slot = { bytes: Buffer.alloc(length * 2), busy: false, done: () => (slot.busy = false) };
      return slot;
    });
    this.#slotLength = length;
    this.#silence = Buffer.alloc(length * 2);
    this.#next = 0;
  }
}
