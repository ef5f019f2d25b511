import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWav } from '@sip-endpoint/media';
import { peerAvailable, testPorts, waitFor } from '@sip-endpoint/test-support';

/** Whether baresip is installed; a missing one fails the test unless SEP_ALLOW_MISSING_PEERS=1 (see test-support's peerAvailable). */
export function baresipAvailable(): boolean {
  return peerAvailable('baresip');
}

/**
 * An event baresip's `ctrl_tcp` module sends, e.g.
 * `{"event":true,"type":"CALL_DTMF_START","class":"call","accountaor":"sip:bob@127.0.0.1",
 * "direction":"incoming","peeruri":"sip:alice@127.0.0.1","id":"7e721d7cd038ece8","param":"1"}`.
 */
export interface BaresipEvent {
  type: string;
  class: string;
  /** The call's id (baresip's own), for call events. */
  id?: string;
  direction?: 'incoming' | 'outgoing';
  peeruri?: string;
  param?: string;
  [key: string]: unknown;
}

/** A SIP message from baresip's trace (`-s`). */
export interface TracedSipMessage {
  /** Whether baresip sent it (else it received it). */
  sent: boolean;
  /** `INVITE sip:...`, `SIP/2.0 200 OK`, ... */
  startLine: string;
  /** The method the CSeq names (for responses, the request's). */
  method: string;
  /** The whole message. */
  text: string;
  /** The SDP body's `a=sendrecv|sendonly|recvonly|inactive`, if it has one. */
  direction: string | undefined;
  body: string;
}

/** Options of {@link Baresip.start}. */
export interface BaresipOptions {
  /**
   * The first of 20 ports this instance owns on 127.0.0.1: SIP on `port` (UDP and TCP), baresip's
   * TLS listener on `port + 1` (it always opens one), `ctrl_tcp` on `port + 2`, RTP and RTCP on
   * `port + 10` to `port + 19`.
   * @defaultValue a block of 20 from `testPorts`, this jest worker's own range
   */
  port?: number;
  /** The account's user part. @defaultValue 'baresip' */
  user?: string;
  /** The sine tone baresip sends (its `ausine` source), in Hz. @defaultValue 440 */
  frequency?: number;
  /** `answermode` of the account: `auto` answers every call at once. @defaultValue 'manual' */
  answerMode?: 'manual' | 'auto' | 'early';
  /** The audio codecs the account offers and accepts, in order (opus: its `opus` module, 48 kHz stereo on the wire). @defaultValue ['PCMU', 'PCMA'] */
  codecs?: ('PCMU' | 'PCMA' | 'G722' | 'opus')[];
  /**
   * A WAV file (16-bit) that baresip sends instead of the tone (its `aufile` source), from the
   * start of each call; after the file's end it sends silence. The source runs at the file's rate
   * and channels (`sourceRate`, `sourceChannels`): at the codec's own rate, baresip resamples
   * nothing. @defaultValue '' (the tone)
   */
  sourceFile?: string;
  /** The sample rate of `sourceFile`. @defaultValue 48000 */
  sourceRate?: number;
  /** The channels of `sourceFile`. @defaultValue 2 */
  sourceChannels?: 1 | 2;
  /**
   * The account's `mediaenc`: `srtp` offers SRTP as best effort (RTP/AVP with a=crypto) and takes
   * either answer, `srtp-mand` offers and requires RTP/SAVP, `srtp-mandf` RTP/SAVPF, `dtls_srtp`
   * keys SRTP with DTLS. @defaultValue '' (plain RTP)
   */
  mediaEnc?: '' | 'srtp' | 'srtp-mand' | 'srtp-mandf' | 'dtls_srtp';
  /** `rtcp_mux`: offer and accept RTCP on the RTP port (RFC 5761). @defaultValue false */
  rtcpMux?: boolean;
  /**
   * The account's `medianat`: `ice` runs baresip's ICE module, `turn` relays its media through
   * `stunServer` (its SDP then names the relayed address), `stun` writes its server-reflexive
   * address. @defaultValue '' (none)
   */
  mediaNat?: '' | 'ice' | 'turn' | 'stun';
  /**
   * The account's `stunserver` (`turn:host:port` or `stun:host:port`), followed for TURN by
   * `;stunuser=...;stunpass=...` (1.0.0 refuses credentials written in the URI). @defaultValue ''
   */
  stunServer?: string;
  /**
   * Run inside this network namespace (`ip netns exec`), on `address`. Its ctrl_tcp port is then
   * out of the test's reach: no commands, no events; it answers calls by `answerMode` and
   * records them. @defaultValue '' (none, on 127.0.0.1)
   */
  namespace?: string;
  /** Its address (with `namespace`). @defaultValue '127.0.0.1' */
  address?: string;
  /**
   * A URI it dials as soon as it runs (`-e "/dial <uri>"`, the `menu` module's command): how a
   * baresip in a namespace, out of ctrl_tcp's reach, places a call. @defaultValue '' (none)
   */
  dial?: string;
}

/**
 * baresip 1.0.0 as a real SIP peer on 127.0.0.1, driven through its `ctrl_tcp` module.
 *
 * What these settings do in 1.0.0 (checked by running it):
 * - `net_interface 127.0.0.1` and `sip_listen 127.0.0.1:<port>` keep SIP, TLS and RTP on the
 *   loopback address (without them baresip writes its first interface's address in its SDP).
 * - The `ausine` source only runs at 48 kHz stereo (`ausrc_srate 48000`, `ausrc_channels 2`);
 *   baresip resamples it to the codec's 8 kHz mono.
 * - The `sndfile` filter writes what baresip encodes and what it decodes, per call, to
 *   `snd_path/dump-<YYYY-MM-DD-hh-mm-ss>-{enc,dec}.wav` (8 kHz mono 16-bit for G.711).
 * - The decode side only runs when a player pulls audio: the `aubridge` player paces itself and
 *   costs nothing (alsa's `null` device spins a core; no player at all decodes nothing).
 * - 1.0.0 has no `dtmfmode` account parameter: it sends DTMF (`sndcode`) as RFC 4733 events
 *   only, and reports received RFC 4733 events and SIP INFO `application/dtmf-relay` alike as
 *   `CALL_DTMF_START` (param: the digit) and `CALL_DTMF_END` events.
 * - The call commands (`hold`, `resume`, `sndcode`, `transfer`) exist only while a call does.
 * - A REFER it receives is followed by the `menu` module (`call_transfer` is on by default).
 */
export class Baresip {
  readonly port: number;
  readonly user: string;
  readonly frequency: number;
  readonly dir: string;
  /** Its address: 127.0.0.1, or the one it has inside its namespace. */
  readonly address: string;
  readonly #child: ChildProcess;
  readonly #events: BaresipEvent[] = [];
  readonly #pending = new Map<string, (response: { ok: boolean; data: string }) => void>();
  #socket: Socket | undefined;
  #buffer = Buffer.alloc(0);
  #output = '';
  #token = 0;

  private constructor(child: ChildProcess, options: Required<BaresipOptions>, dir: string) {
    this.#child = child;
    this.port = options.port;
    this.user = options.user;
    this.frequency = options.frequency;
    this.address = options.address;
    this.dir = dir;
    child.stdout?.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
  }

  /** Its SIP URI. */
  get uri(): string {
    return `sip:${this.user}@${this.address}:${this.port}`;
  }

  /** Everything it printed (with the SIP trace of `-s`). */
  get output(): string {
    return this.#output;
  }

  /**
   * The SIP messages baresip sent and received so far, oldest first, from its `-s` trace: each is
   * printed as `ESC[36;1m#`, `UDP <source> -> <destination>`, the message, `ESC[;m`. A message
   * byte for byte the same as an earlier one the same way is a retransmission (an INVITE not
   * answered within T1 on a loaded machine, a 2xx waiting for its ACK) and is left out.
   */
  sipTrace(): TracedSipMessage[] {
    const messages: TracedSipMessage[] = [];
    const seen = new Set<string>();
    const escape = String.fromCharCode(27);
    for (const block of this.#output.split(`${escape}[36;1m#\n`).slice(1)) {
      const match = /^(\w+) (\S+) -> (\S+)\n/.exec(block);
      const end = block.indexOf(`${escape}[;m`);
      if (!match || end < 0) continue;
      const source = match[2];
      const text = block.slice(match[0].length, end);
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const key = `${source === `${this.address}:${this.port}`}|${text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      messages.push({
        sent: source === `${this.address}:${this.port}`,
        startLine: head.split('\r\n')[0] ?? '',
        method: /^CSeq:\s*\d+\s+(\w+)/im.exec(head)?.[1] ?? '',
        text,
        direction: /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m.exec(body)?.[1],
        body,
      });
    }
    return messages;
  }

  /** The ctrl_tcp events so far, oldest first. */
  get events(): readonly BaresipEvent[] {
    return this.#events;
  }

  static async start(options: BaresipOptions = {}): Promise<Baresip> {
    const settings: Required<BaresipOptions> = { user: 'baresip', frequency: 440, answerMode: 'manual', codecs: ['PCMU', 'PCMA'], sourceFile: '', sourceRate: 48000, sourceChannels: 2, mediaEnc: '', rtcpMux: false, mediaNat: '', stunServer: '', namespace: '', address: '127.0.0.1', dial: '', ...options, port: options.port ?? testPorts(20) };
    const { port } = settings;
    const dir = mkdtempSync(join(tmpdir(), 'sep-baresip-'));
    mkdirSync(join(dir, 'snd'));
    writeFileSync(
      join(dir, 'config'),
      [
        'poll_method epoll',
        `net_interface ${settings.address}`,
        `sip_listen ${settings.address}:${port}`,
        'call_local_timeout 120',
        'call_max_calls 4',
        'audio_player aubridge,speaker',
        'audio_alert aubridge,alert',
        settings.sourceFile !== '' ? `audio_source aufile,${settings.sourceFile}` : `audio_source ausine,${settings.frequency}`,
        `ausrc_srate ${settings.sourceFile !== '' ? settings.sourceRate : 48000}`,
        `ausrc_channels ${settings.sourceFile !== '' ? settings.sourceChannels : 2}`,
        'audio_buffer 20-160',
        `rtp_ports ${port + 10}-${port + 19}`,
        `rtcp_mux ${settings.rtcpMux ? 'yes' : 'no'}`,
        'jitter_buffer_delay 5-10',
        'module_path /usr/lib/baresip/modules',
        'module g711.so',
        'module g722.so',
        'module opus.so',
        // opus in its audio (CELT) mode at 64 kbit/s keeps the waveform, which the speech tests compare.
        'opus_application audio',
        'opus_bitrate 64000',
        'module ausine.so',
        'module aufile.so',
        'module aubridge.so',
        'module sndfile.so',
        ...(settings.mediaEnc === '' ? [] : ['module srtp.so', 'module dtls_srtp.so']),
        ...(settings.mediaNat === '' ? [] : [`module ${settings.mediaNat}.so`]),
        'module_tmp account.so',
        'module_app menu.so',
        'module_app ctrl_tcp.so',
        `ctrl_tcp_listen 127.0.0.1:${port + 2}`,
        `snd_path ${join(dir, 'snd')}`,
        'statmode_default off',
        'ringback_disabled yes',
        '',
      ].join('\n'),
    );
    const codecs = settings.codecs.map((codec) => codec.toLowerCase()).join(',');
    const mediaEnc = settings.mediaEnc === '' ? '' : `;mediaenc=${settings.mediaEnc}`;
    const mediaNat = (settings.mediaNat === '' ? '' : `;medianat=${settings.mediaNat}`) + (settings.stunServer === '' ? '' : `;stunserver=${settings.stunServer}`);
    writeFileSync(join(dir, 'accounts'), `<sip:${settings.user}@${settings.address}>;regint=0;answermode=${settings.answerMode};audio_codecs=${codecs}${mediaEnc}${mediaNat}\n`);
    const baresipArgs = ['-4', '-s', '-f', dir, ...(settings.dial !== '' ? ['-e', `/dial ${settings.dial}`] : [])];
    const command = settings.namespace !== '' ? ['ip', ['netns', 'exec', settings.namespace, 'baresip', ...baresipArgs]] as const : ['baresip', baresipArgs] as const;
    const child = spawn(command[0], command[1], { stdio: ['ignore', 'pipe', 'pipe'] });
    const baresip = new Baresip(child, settings, dir);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`baresip did not get ready:\n${baresip.output}`)), 15000);
      const check = (): void => {
        if (baresip.output.includes('baresip is ready.')) {
          clearTimeout(timer);
          child.stdout?.off('data', check);
          resolve();
        }
      };
      child.stdout?.on('data', check);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`baresip could not start: ${error.message} (the README's test command installs it)`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`baresip exited with ${code}:\n${baresip.output}`));
      });
    });
    if (settings.namespace === '') await baresip.#connect();
    return baresip;
  }

  /** Runs a ctrl_tcp command (`{"command":..,"params":..,"token":..}` in a netstring) and resolves with its response. */
  async command(command: string, params?: string): Promise<{ ok: boolean; data: string }> {
    const socket = this.#socket;
    if (!socket) throw new Error('baresip is not connected');
    const token = `t${++this.#token}`;
    const json = Buffer.from(JSON.stringify({ command, ...(params !== undefined ? { params } : {}), token }));
    const response = new Promise<{ ok: boolean; data: string }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(token);
        reject(new Error(`baresip did not answer "${command}"`));
      }, 10000);
      this.#pending.set(token, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
    });
    socket.write(Buffer.concat([Buffer.from(`${json.length}:`), json, Buffer.from(',')]));
    return response;
  }

  /** Runs a command that must succeed. */
  async run(command: string, params?: string): Promise<string> {
    const response = await this.command(command, params);
    if (!response.ok) throw new Error(`baresip refused "${command}${params ? ` ${params}` : ''}": ${response.data}`);
    return response.data;
  }

  dial(uri: string): Promise<string> {
    return this.run('dial', uri);
  }

  accept(): Promise<string> {
    return this.run('accept');
  }

  hangup(): Promise<string> {
    return this.run('hangup');
  }

  /** Changes the current account's answer mode (`/answermode`); `auto` answers calls at once. */
  setAnswerMode(mode: 'manual' | 'auto' | 'early'): Promise<string> {
    return this.run('answermode', mode);
  }

  /** Puts its current call on hold: a re-INVITE with `a=sendonly`. */
  hold(): Promise<string> {
    return this.run('hold');
  }

  resume(): Promise<string> {
    return this.run('resume');
  }

  /** Sends digits on its current call (RFC 4733 events; 1.0.0 has no other way). */
  sendDigits(digits: string): Promise<string> {
    return this.run('sndcode', digits);
  }

  /** The first event of `type` (and matching `where`) from index `from` on, waiting up to `ms`. */
  async waitForEvent(type: string, options: { from?: number; where?: (event: BaresipEvent) => boolean; ms?: number } = {}): Promise<BaresipEvent> {
    const { from = 0, where = () => true, ms = 5000 } = options;
    let found: BaresipEvent | undefined;
    await waitFor(() => (found = this.#events.slice(from).find((event) => event.type === type && where(event))) !== undefined, ms, `baresip's ${type} event`).catch(() => {
      throw new Error(`baresip sent no ${type} event; it sent ${this.#events.map((event) => event.type).join(', ')}`);
    });
    return found!;
  }

  /**
   * What baresip heard (decoded), from its `sndfile` dumps, oldest call first, mono (the left
   * channel of a stereo dump). A dump still being written has no sizes in its header yet; they
   * are filled in from the file's length.
   */
  recordings(): { file: string; sampleRate: number; samples: Int16Array }[] {
    const snd = join(this.dir, 'snd');
    return readdirSync(snd)
      .filter((name) => name.endsWith('-dec.wav'))
      .map((name) => join(snd, name))
      .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs || a.localeCompare(b))
      .map((file) => {
        const data = readFileSync(file);
        const dataChunk = data.indexOf('data', 12, 'latin1');
        if (dataChunk < 0) return { file, sampleRate: 8000, samples: new Int16Array(0) };
        data.writeUInt32LE(data.length - 8, 4);
        data.writeUInt32LE(data.length - dataChunk - 8, dataChunk + 4);
        const wav = parseWav(data);
        if (wav.channels === 1) return { file, sampleRate: wav.sampleRate, samples: wav.samples };
        // A stereo dump (opus decodes to two channels): its left channel.
        const left = new Int16Array(Math.floor(wav.samples.length / 2));
        for (let i = 0; i < left.length; i++) left[i] = wav.samples[2 * i]!;
        return { file, sampleRate: wav.sampleRate, samples: left };
      });
  }

  /** Freezes baresip (SIGSTOP): it answers nothing, sends nothing, as a peer whose network died; {@link stop} ends it. */
  freeze(): void {
    this.#child.kill('SIGSTOP');
  }

  /** Stops baresip (SIGTERM, then SIGKILL after 2 s) and removes its directory. */
  async stop(): Promise<void> {
    this.#socket?.destroy();
    this.#socket = undefined;
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGCONT'); // a frozen one takes SIGTERM only once it runs
      const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #connect(): Promise<void> {
    const socket = createConnection({ host: '127.0.0.1', port: this.port + 2 });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    this.#socket = socket;
  }

  /** Splits the stream into netstrings (`<length>:<json>,`) and files each message. */
  #receive(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const colon = this.#buffer.indexOf(':');
      if (colon < 0) return;
      const length = Number(this.#buffer.subarray(0, colon).toString());
      if (!Number.isInteger(length)) throw new Error(`baresip sent a bad netstring: ${this.#buffer.toString()}`);
      if (this.#buffer.length < colon + 1 + length + 1) return;
      const message = JSON.parse(this.#buffer.subarray(colon + 1, colon + 1 + length).toString()) as Record<string, unknown>;
      this.#buffer = this.#buffer.subarray(colon + 1 + length + 1);
      if (message['event'] === true) this.#events.push(message as BaresipEvent);
      else if (message['response'] === true && typeof message['token'] === 'string') {
        this.#pending.get(message['token'])?.({ ok: message['ok'] === true, data: String(message['data'] ?? '') });
        this.#pending.delete(message['token']);
      }
    }
  }
}
