import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { peerAvailable } from '@sip-endpoint/test-support';

/** Whether rtpengine (Debian's `rtpengine-daemon`) is installed; a missing one fails the test unless SEP_ALLOW_MISSING_PEERS=1 (see test-support's peerAvailable). */
export function rtpengineAvailable(): boolean {
  return peerAvailable('rtpengine');
}

/** A value of rtpengine's ng protocol (bencode: byte strings, integers, lists, dictionaries). */
export type Bencoded = string | number | Bencoded[] | { [key: string]: Bencoded };

/** Bencodes `value` (strings as UTF-8 byte strings, dictionary keys sorted). */
export function bencode(value: Bencoded): Buffer {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError(`bencode: ${value} is not an integer`);
    return Buffer.from(`i${value}e`);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value);
    return Buffer.concat([Buffer.from(`${bytes.length}:`), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([Buffer.from('l'), ...value.map(bencode), Buffer.from('e')]);
  const keys = Object.keys(value).sort();
  return Buffer.concat([Buffer.from('d'), ...keys.flatMap((key) => [bencode(key), bencode(value[key]!)]), Buffer.from('e')]);
}

/** Decodes one bencoded value from `data` (byte strings as UTF-8 strings). */
export function bdecode(data: Buffer): Bencoded {
  let at = 0;
  const read = (): Bencoded => {
    const head = String.fromCharCode(data[at]!);
    if (head === 'i') {
      const end = data.indexOf('e', at);
      const value = Number(data.subarray(at + 1, end).toString());
      at = end + 1;
      return value;
    }
    if (head === 'l') {
      at++;
      const list: Bencoded[] = [];
      while (data[at] !== 0x65) list.push(read());
      at++;
      return list;
    }
    if (head === 'd') {
      at++;
      const dict: Record<string, Bencoded> = {};
      while (data[at] !== 0x65) {
        const key = read();
        if (typeof key !== 'string') throw new Error('bdecode: a dictionary key that is not a string');
        dict[key] = read();
      }
      at++;
      return dict;
    }
    const colon = data.indexOf(':', at);
    const length = Number(data.subarray(at, colon).toString());
    if (colon < 0 || !Number.isInteger(length)) throw new Error(`bdecode: unexpected ${JSON.stringify(data.subarray(at, at + 10).toString())}`);
    const value = data.subarray(colon + 1, colon + 1 + length).toString();
    at = colon + 1 + length;
    return value;
  };
  const value = read();
  if (at !== data.length) throw new Error('bdecode: bytes after the value');
  return value;
}

/** Options of {@link Rtpengine.start}. */
export interface RtpengineOptions {
  /** Its ng control port (UDP, on 127.0.0.1). */
  ngPort: number;
  /** The media ports: `portMin` to `portMax` (an even count: rtpengine takes RTP/RTCP pairs). */
  portMin: number;
  portMax: number;
  /**
   * Its logical interfaces, `name` -> address (rtpengine's `--interface=name/address`); a call's
   * side is put on one by the `direction=` flags of its offer, else on the first.
   * @defaultValue { lo: '127.0.0.1' }
   */
  interfaces?: Record<string, string>;
  /** rtpengine's log level (6 info, 7 debug: the SDP of every command). @defaultValue 6 */
  logLevel?: number;
}

/**
 * rtpengine (Sipwise's media proxy, Debian's 10.5 `rtpengine-daemon`) for the tests, in the
 * foreground, in user space (`--table=-1`: no kernel forwarding module, no iptables rule), reading
 * no configuration file (`--config-file=none`: not Debian's /etc/rtpengine/rtpengine.conf), with
 * its ng control protocol on 127.0.0.1 and its media on the given ports. Ready when its ng port
 * answers a `ping` (not after a fixed wait).
 */
export class Rtpengine {
  readonly ngPort: number;
  readonly #child: ChildProcess;
  #output = '';
  #socket: Socket | undefined;
  readonly #pending = new Map<string, (reply: Record<string, Bencoded>) => void>();

  private constructor(child: ChildProcess, ngPort: number) {
    this.#child = child;
    this.ngPort = ngPort;
    child.stdout?.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
  }

  /** What rtpengine logged (on stderr). */
  get output(): string {
    return this.#output;
  }

  /** rtpengine's command line for `options`. */
  static args(options: RtpengineOptions): string[] {
    const interfaces = options.interfaces ?? { lo: '127.0.0.1' };
    return [
      '--config-file=none',
      '--table=-1',
      '--foreground',
      '--log-stderr',
      '--no-log-timestamps',
      `--log-level=${options.logLevel ?? 6}`,
      ...Object.entries(interfaces).map(([name, address]) => `--interface=${name}/${address}`),
      `--listen-ng=127.0.0.1:${options.ngPort}`,
      `--port-min=${options.portMin}`,
      `--port-max=${options.portMax}`,
      // A call is forgotten at once on delete (not 30 s later), and a test's forgotten one after a minute.
      '--delete-delay=0',
      '--timeout=60',
      '--num-threads=2',
      // DTLS server from the start on a WebRTC side. Without it, rtpengine 10.5 completes ICE with a
      // WebRTC offerer as soon as it has the offer (it knows the offerer's credentials), starts DTLS
      // as client at once, and then answers a=setup:passive (the SBC's DTLS=passive): libwebrtc,
      // a client too by that answer, fails "Failed to set SSL role for the transport", and rtpengine
      // logs "DTLS error: 1 (unexpected message)".
      '--dtls-passive',
    ];
  }

  static async start(options: RtpengineOptions): Promise<Rtpengine> {
    const child = spawn('rtpengine', Rtpengine.args(options), { stdio: ['ignore', 'pipe', 'pipe'] });
    const rtpengine = new Rtpengine(child, options.ngPort);
    const exited = new Promise<never>((_resolve, reject) => {
      child.once('error', (error) => reject(new Error(`rtpengine could not start: ${error.message} (the README's test command installs it: apt-get install rtpengine-daemon)`)));
      child.once('exit', (code, signal) => reject(new Error(`rtpengine exited with ${code ?? signal}:\n${rtpengine.output}`)));
    });
    exited.catch(() => undefined);
    try {
      await Promise.race([exited, rtpengine.#untilPong(10000)]);
    } catch (error) {
      await rtpengine.stop();
      throw error;
    }
    return rtpengine;
  }

  /** Sends one ng command (`{ command: 'query', 'call-id': ... }`) and resolves with rtpengine's reply. */
  async command(message: Record<string, Bencoded>, ms = 5000): Promise<Record<string, Bencoded>> {
    const socket = await this.#open();
    const cookie = randomBytes(8).toString('hex');
    const reply = new Promise<Record<string, Bencoded>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(cookie);
        reject(new Error(`rtpengine did not answer "${String(message['command'])}" within ${ms} ms`));
      }, ms);
      this.#pending.set(cookie, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
    });
    socket.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(message)]), this.ngPort, '127.0.0.1');
    return reply;
  }

  /** The call-ids of the calls it has now (`list`). */
  async calls(): Promise<string[]> {
    const reply = await this.command({ command: 'list' });
    return Array.isArray(reply['calls']) ? reply['calls'].map(String) : [];
  }

  /** What it knows of call `callId` (`query`): its tags (one per side), each with its medias' protocol, ports and flags. */
  query(callId: string): Promise<Record<string, Bencoded>> {
    return this.command({ command: 'query', 'call-id': callId });
  }

  /** Stops rtpengine (SIGTERM, then SIGKILL after 2 s). */
  async stop(): Promise<void> {
    this.#socket?.close();
    this.#socket = undefined;
    if (this.#child.exitCode !== null || this.#child.signalCode !== null || this.#child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }

  async #open(): Promise<Socket> {
    if (this.#socket) return this.#socket;
    const socket = createSocket('udp4');
    socket.on('error', () => undefined);
    socket.on('message', (data) => {
      const space = data.indexOf(' ');
      if (space < 0) return;
      const cookie = data.subarray(0, space).toString();
      let reply: Bencoded;
      try {
        reply = bdecode(data.subarray(space + 1));
      } catch {
        return;
      }
      if (typeof reply !== 'object' || Array.isArray(reply)) return;
      this.#pending.get(cookie)?.(reply);
      this.#pending.delete(cookie);
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    this.#socket = socket;
    return socket;
  }

  /** Resolves once a `ping` gets `pong` (asked again every 50 ms, each waiting 200 ms); rejects after `ms`. */
  async #untilPong(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const reply = await this.command({ command: 'ping' }, 200).catch(() => undefined);
      if (reply?.['result'] === 'pong') return;
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) throw new Error(`rtpengine exited:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`rtpengine did not answer a ping on 127.0.0.1:${this.ngPort} within ${ms} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
