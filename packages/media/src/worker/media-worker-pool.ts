import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SafeEmitter, StateMachine } from '@sip-endpoint/policy';
import { AUDIO_STREAM_TRANSITIONS, type AudioStreamState } from '../audio-stream-state';
import { StreamClosedError, type AudioStreamEvents, type AudioStreamOptions, type AudioStreamStats, type DtmfSendMethod, type MediaDirection } from '../audio-stream';
import type { Codec } from '../codecs/codec';
import { DtmfNotSentError, normalizeDigits } from '../dtmf/dtmf-digits';
import { JitterBuffer } from '../jitter/jitter-buffer';
import { VqMonitor } from '../quality/vq-monitor';
import type { PortAllocator } from '../rtp/port-allocator';
import { RtpSocketError, type SrtpDropReason } from '../rtp/rtp-session';
import type { SrtpCounters } from '../srtp/srtp-context';
import { MediaWorkerError } from './media-worker-error';
import type { FromWorker, ToWorker, WorkerSrtp, WorkerStreamSpec } from './media-worker-protocol';

export { MediaWorkerError } from './media-worker-error';
export type { WorkerSrtp, WorkerStreamSpec } from './media-worker-protocol';

/** The script a worker runs: the built one beside this module, or the source through tsx (tests). */
function workerScript(): { path: string; source: boolean } {
  // __dirname in CommonJS (the cjs build, jest); the module's URL in ES modules (the esm build, tsx).
  const dir = typeof __dirname !== 'undefined' ? __dirname : dirname(fileURLToPath(import.meta.url));
  for (const name of ['media-worker.cjs', 'media-worker.js']) {
    const path = join(dir, name);
    if (existsSync(path)) return { path, source: false };
  }
  return { path: join(dir, 'media-worker.ts'), source: true };
}

interface Slot {
  worker: Worker;
  /** Sessions (bound or binding) the worker carries, by id. */
  sessions: Map<number, WorkerRtpSession>;
  binds: Map<number, { resolve: () => void; reject: (error: { code: string | undefined; message: string }) => void }>;
  /** Set once the worker is gone (crashed or terminated). */
  gone: boolean;
}

/** Events of a {@link WorkerRtpSession}. @public */
export type WorkerRtpSessionEvents = {
  /** SRTP dropped a packet in the worker (at most once a second, as `RtpSession`'s). */
  srtpDropped: [SrtpDropReason, SrtpCounters];
};

/**
 * Spreads RTP streams over worker threads (`node:worker_threads`): each session's sockets are
 * bound in one of the workers, and its stream (codec, jitter buffer, RTCP, DTMF, quality) runs
 * there on that worker's media clock, so that the streams of one process use every core.
 *
 * @remarks
 * Nothing crosses between threads per packet: the main thread sends commands (start, direction,
 * mute, DTMF, SDES keys, close) and receives the streams' events, and every stream's counters
 * once a second in one message per worker. A new session goes to the worker carrying the fewest.
 * What a worker cannot do is left to the main thread by its user: ICE and DTLS-SRTP (their
 * handshakes run on the main thread's sockets), and devices that produce or consume audio (a
 * worker stream sends silence and plays to nobody). A worker that dies is replaced when the next
 * session is opened; its streams report a {@link MediaWorkerError} and close.
 *
 * @public
 */
export class MediaWorkerPool {
  readonly threads: number;
  readonly #slots: Slot[] = [];
  #nextId = 1;
  #closed = false;

  /**
   * @param options - `threads`: how many workers (at least 1).
   * @throws {@link MediaWorkerError} for a thread count that is not a whole number from 1.
   */
  constructor(options: { threads: number }) {
    if (!(Number.isInteger(options.threads) && options.threads >= 1)) throw new MediaWorkerError(`media worker threads must be a whole number from 1, not ${options.threads}`);
    this.threads = options.threads;
    for (let i = 0; i < options.threads; i++) this.#slots.push(this.#spawn());
  }

  /** Streams (or sessions) each worker carries now. */
  get load(): number[] {
    return this.#slots.map((slot) => slot.sessions.size);
  }

  /** The workers' thread ids (`threadId`), for tools that look at threads. */
  get threadIds(): number[] {
    return this.#slots.map((slot) => slot.worker.threadId);
  }

  /**
   * Binds an RTP/RTCP port pair from `ports` in the least loaded worker. A pair the system
   * refuses (in use by another program) is skipped, as `RtpSession.open` does.
   *
   * @throws `PortRangeExhaustedError` when no pair is left; {@link RtpSocketError} when binding fails otherwise; {@link MediaWorkerError} once the pool is closed.
   */
  async openSession(options: { ports: PortAllocator; bindAddress: string }): Promise<WorkerRtpSession> {
    const refused = new Set<number>();
    for (;;) {
      if (this.#closed) throw new MediaWorkerError('the media worker pool is closed');
      const slot = this.#leastLoaded();
      const port = options.ports.acquire(refused);
      const id = this.#nextId++;
      const session = new WorkerRtpSession(id, port, options.bindAddress, (message) => this.#post(slot, message), () => options.ports.release(port));
      slot.sessions.set(id, session);
      try {
        await new Promise<void>((resolve, reject) => {
          slot.binds.set(id, { resolve, reject });
          this.#post(slot, { op: 'bind', id, port, bindAddress: options.bindAddress });
        });
        return session;
      } catch (failure) {
        slot.sessions.delete(id);
        options.ports.release(port);
        const { code, message } = failure as { code: string | undefined; message: string };
        if (code === 'EADDRINUSE' || code === 'EACCES') {
          refused.add(port);
          continue;
        }
        if (code === 'ERR_MEDIA_WORKER') throw new MediaWorkerError(message);
        throw new RtpSocketError(`cannot bind RTP on ${options.bindAddress}:${port} in a media worker: ${message}`);
      }
    }
  }

  /** Stops every worker; streams still running report a {@link MediaWorkerError} and close. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
  }

  /** The worker carrying the fewest sessions; a worker that stopped is replaced first. */
  #leastLoaded(): Slot {
    for (let i = 0; i < this.#slots.length; i++) if (this.#slots[i]!.gone) this.#slots[i] = this.#spawn();
    return this.#slots.reduce((best, candidate) => (candidate.sessions.size < best.sessions.size ? candidate : best));
  }

  #post(slot: Slot, message: ToWorker): void {
    if (!slot.gone) slot.worker.postMessage(message);
  }

  #spawn(): Slot {
    const script = workerScript();
    const worker = script.source
      ? // The sources (tests): tsx compiles them in the worker, with the workspace's paths.
        new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(script.path)});`, { eval: true, env: { ...process.env, TSX_TSCONFIG_PATH: process.env.TSX_TSCONFIG_PATH ?? join(script.path, '..', '..', '..', '..', '..', 'tsconfig.base.json') } })
      : new Worker(script.path);
    // Streams keep a process alive through the calls that own them, not through their threads.
    worker.unref();
    const slot: Slot = { worker, sessions: new Map(), binds: new Map(), gone: false };
    worker.on('message', (message: FromWorker) => this.#receive(slot, message));
    let failure: Error | undefined;
    worker.on('error', (error) => {
      failure = error;
    });
    worker.on('exit', (code) => {
      slot.gone = true;
      const reason = this.#closed ? 'the media worker pool closed' : `a media worker stopped (exit code ${code}${failure ? `: ${failure.message}` : ''})`;
      for (const [, pending] of slot.binds) pending.reject({ code: 'ERR_MEDIA_WORKER', message: reason });
      slot.binds.clear();
      for (const session of [...slot.sessions.values()]) session.workerGone(new MediaWorkerError(reason, failure));
      slot.sessions.clear();
      // A crashed worker is replaced when a new session needs it (openSession), not here: a
      // worker that cannot start would otherwise be started again and again.
    });
    return slot;
  }

  #receive(slot: Slot, message: FromWorker): void {
    if (message.op === 'stats') {
      for (let i = 0; i < message.ids.length; i++) slot.sessions.get(message.ids[i]!)?.workerStats(message.stats[i]!);
      return;
    }
    if (message.op === 'bound') {
      const pending = slot.binds.get(message.id);
      slot.binds.delete(message.id);
      if (message.error) pending?.reject(message.error);
      else pending?.resolve();
      return;
    }
    const session = slot.sessions.get(message.id);
    if (!session) return;
    if (message.op === 'closed') {
      slot.sessions.delete(message.id);
      session.workerClosed(message.stats);
      return;
    }
    session.workerMessage(message);
  }
}

/**
 * An RTP session whose sockets are bound in a media worker ({@link MediaWorkerPool.openSession}):
 * its port, its SDES keys, and the stream that will run on it.
 *
 * @public
 */
export class WorkerRtpSession extends SafeEmitter<WorkerRtpSessionEvents> {
  readonly localAddress: string;
  readonly localPort: number;
  readonly #id: number;
  readonly #post: (message: ToWorker) => void;
  readonly #release: () => void;
  #srtp: WorkerSrtp;
  #stream: WorkerAudioStream | undefined;
  #closed = false;
  #released = false;

  /** @internal */
  constructor(id: number, port: number, address: string, post: (message: ToWorker) => void, release: () => void) {
    super();
    this.#id = id;
    this.localPort = port;
    this.localAddress = address;
    this.#post = post;
    this.#release = release;
  }

  /** The local RTCP port (RTP port + 1). */
  get localRtcpPort(): number {
    return this.localPort + 1;
  }

  /** The SDES keys in force, if any. */
  get srtp(): WorkerSrtp {
    return this.#srtp;
  }

  /** The stream made on this session, once made. */
  get stream(): WorkerAudioStream | undefined {
    return this.#stream;
  }

  /** Turns SRTP on with these SDES keys (a key that did not change keeps its state), or off. */
  setSrtp(srtp: WorkerSrtp): void {
    this.#srtp = srtp;
    if (!this.#closed) this.#post({ op: 'srtp', id: this.#id, srtp });
  }

  /** Makes the stream on this session (once): it runs in the session's worker. */
  createStream(spec: Omit<WorkerStreamSpec, 'codec' | 'muted' | 'speakerMuted'>, codec: Codec): WorkerAudioStream {
    if (this.#closed) throw new StreamClosedError();
    if (this.#stream) return this.#stream;
    const stream = new WorkerAudioStream(this, codec, spec, (message) => {
      if (!this.#closed) this.#post(message);
    });
    this.#stream = stream;
    return stream;
  }

  /** Closes the session (and its stream): the worker sends the stream's RTCP BYE and frees the ports. */
  close(): void {
    if (this.#closed) return;
    if (this.#stream && this.#stream.state !== 'CLOSED') {
      this.#stream.close();
      return;
    }
    this.#closed = true;
    this.#post({ op: 'close', id: this.#id });
    this.removeAllListeners();
  }

  /** @internal The id the worker knows this session by. */
  get id(): number {
    return this.#id;
  }

  /** @internal */
  workerMessage(message: FromWorker): void {
    if (message.op === 'event' && message.name === 'srtpDropped') {
      this.emit('srtpDropped', message.args[0], message.args[1]);
      return;
    }
    this.#stream?.workerMessage(message);
  }

  /** @internal */
  workerStats(stats: AudioStreamStats): void {
    this.#stream?.workerStats(stats);
  }

  /** @internal The worker closed the sockets: the ports go back to the allocator. */
  workerClosed(stats: AudioStreamStats | undefined): void {
    if (stats) this.#stream?.workerStats(stats);
    this.#releasePorts();
  }

  /** @internal The worker died: the stream fails, the ports go back. */
  workerGone(error: MediaWorkerError): void {
    this.#stream?.workerGone(error);
    this.#closed = true;
    this.removeAllListeners();
    this.#releasePorts();
  }

  /** @internal The stream closed: the worker closes it and its sockets. */
  streamClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#post({ op: 'close', id: this.#id });
    this.removeAllListeners();
  }

  #releasePorts(): void {
    if (this.#released) return;
    this.#released = true;
    this.#release();
  }
}

/**
 * An audio stream running in a media worker, driven from the main thread with the surface of
 * `AudioStream`: `start()`, directions, mute, remote address, DTMF, `close()`, and the same
 * events. `stats()` gives the counters the worker sent last (refreshed every second, and at the
 * end).
 *
 * @public
 */
export class WorkerAudioStream extends SafeEmitter<AudioStreamEvents> {
  #codec: Codec;
  readonly ptimeMs: number;
  readonly #session: WorkerRtpSession;
  readonly #post: (message: ToWorker) => void;
  readonly #machine: StateMachine<AudioStreamState>;
  #telephoneEvent: boolean;
  #direction: MediaDirection;
  #muted = false;
  #speakerMuted = false;
  #stats: AudioStreamStats | undefined;
  #request = 0;
  readonly #dtmf = new Map<number, { digits: string; resolve: () => void; reject: (error: Error) => void }>();
  #created = false;
  #spec: Omit<WorkerStreamSpec, 'codec' | 'muted' | 'speakerMuted'>;

  /** @internal */
  constructor(session: WorkerRtpSession, codec: Codec, spec: Omit<WorkerStreamSpec, 'codec' | 'muted' | 'speakerMuted'>, post: (message: ToWorker) => void) {
    super();
    this.#session = session;
    this.#codec = codec;
    this.ptimeMs = spec.ptimeMs;
    this.#spec = spec;
    this.#direction = spec.direction;
    this.#telephoneEvent = spec.telephoneEvent !== undefined;
    this.#post = post;
    this.#machine = new StateMachine(`audio stream on port ${session.localPort} (media worker)`, 'NEW', AUDIO_STREAM_TRANSITIONS, (next, previous) => this.emit('stateChanged', next, previous));
  }

  /** The codec the stream sends (see `AudioStream.codec`). */
  get codec(): Codec {
    return this.#codec;
  }

  /** The local RTP port (for SDP). */
  get localPort(): number {
    return this.#session.localPort;
  }

  /** Our SSRC, once the worker has told it (0 before). */
  get localSsrc(): number {
    return this.#stats?.localSsrc ?? 0;
  }

  get direction(): MediaDirection {
    return this.#direction;
  }

  get state(): AudioStreamState {
    return this.#machine.state;
  }

  /** Starts sending and playing in the worker: `NEW` -> `RUNNING`. @throws {@link StreamClosedError} once closed. */
  start(): void {
    if (this.#machine.state === 'CLOSED') throw new StreamClosedError();
    if (this.#machine.state === 'RUNNING') return;
    this.#create();
    this.#post({ op: 'start', id: this.#session.id });
    this.#machine.to('RUNNING');
  }

  /** @throws {@link StreamClosedError} once closed. */
  setDirection(direction: MediaDirection): void {
    if (this.#machine.state === 'CLOSED') throw new StreamClosedError();
    if (direction === this.#direction) return;
    this.#direction = direction;
    if (this.#created) this.#post({ op: 'direction', id: this.#session.id, direction });
  }

  get muted(): boolean {
    return this.#muted;
  }

  setMuted(muted: boolean): void {
    this.#muted = muted;
    if (this.#created) this.#post({ op: 'muted', id: this.#session.id, muted });
  }

  get speakerMuted(): boolean {
    return this.#speakerMuted;
  }

  setSpeakerMuted(muted: boolean): void {
    this.#speakerMuted = muted;
    if (this.#created) this.#post({ op: 'speakerMuted', id: this.#session.id, muted });
  }

  /**
   * Switches the codec in mid-call, in the worker, as `AudioStream.setCodec` does (a codec of the
   * package's registry: the worker makes it by name).
   *
   * @throws {@link StreamClosedError} once closed.
   */
  setCodec(change: Pick<AudioStreamOptions, 'codec' | 'payloadType' | 'telephoneEvent'>): void {
    if (this.#machine.state === 'CLOSED') throw new StreamClosedError();
    this.#codec = change.codec;
    this.#telephoneEvent = change.telephoneEvent !== undefined;
    if (this.#created) {
      this.#post({ op: 'codec', id: this.#session.id, codec: change.codec.name, payloadType: change.payloadType, telephoneEvent: change.telephoneEvent });
      return;
    }
    const { telephoneEvent: _previous, ...spec } = this.#spec;
    this.#spec = { ...spec, payloadType: change.payloadType, ...(change.telephoneEvent ? { telephoneEvent: change.telephoneEvent } : {}) };
  }

  setRemote(address: string, rtpPort: number, rtcpPort: number = rtpPort + 1, rtcpMux = false): void {
    if (this.#created) this.#post({ op: 'remote', id: this.#session.id, address, rtpPort, rtcpPort, rtcpMux });
    else this.#spec.remote = { address, rtpPort, rtcpPort, rtcpMux };
  }

  /**
   * Sends DTMF digits in the worker, as `AudioStream.sendDtmf` does: the promise resolves once they
   * have all gone out, and rejects with {@link DtmfNotSentError} when the stream closes first.
   *
   * @throws `InvalidDtmfDigitError` for a character that is not a digit; {@link StreamClosedError} once closed.
   */
  sendDtmf(digits: string, method?: DtmfSendMethod): Promise<void> {
    if (this.#machine.state === 'CLOSED') throw new StreamClosedError();
    const list = normalizeDigits(digits).join('');
    if (list.length === 0) return Promise.resolve();
    this.#create();
    const request = ++this.#request;
    const sent = new Promise<void>((resolve, reject) => this.#dtmf.set(request, { digits: list, resolve, reject }));
    sent.catch(() => undefined);
    this.#post({ op: 'dtmf', id: this.#session.id, request, digits: list, method: method ?? (this.#telephoneEvent ? 'rfc4733' : 'inband') });
    return sent;
  }

  /** The counters the worker sent last (every second, and at the end). */
  stats(): AudioStreamStats {
    return this.#stats ?? this.#emptyStats();
  }

  /** Stops the stream in the worker (RTCP BYE, sockets closed, ports freed): `CLOSED`, then `closed`. */
  close(): void {
    if (this.#machine.state === 'CLOSED') return;
    this.#session.streamClosed();
    this.#finish(undefined);
  }

  /** @internal */
  workerStats(stats: AudioStreamStats): void {
    this.#stats = stats;
  }

  /** @internal */
  workerMessage(message: FromWorker): void {
    if (message.op === 'dtmfDone') {
      const pending = this.#dtmf.get(message.request);
      this.#dtmf.delete(message.request);
      if (message.unsent === undefined) pending?.resolve();
      else pending?.reject(new DtmfNotSentError(message.unsent));
      return;
    }
    if (message.op !== 'event' || this.#machine.state === 'CLOSED') return;
    switch (message.name) {
      case 'dtmf':
        this.emit('dtmf', message.args[0]);
        return;
      case 'vq':
        this.emit('vq', message.args[0]);
        return;
      case 'vqAlarm':
        this.emit('vqAlarm', message.args[0]);
        return;
      case 'inactivity':
        this.emit('inactivity');
        return;
      case 'bye':
        this.emit('bye');
        return;
      case 'error':
        this.emit('error', new MediaWorkerError(message.args[0]));
        return;
      default:
        return;
    }
  }

  /** @internal */
  workerGone(error: MediaWorkerError): void {
    if (this.#machine.state === 'CLOSED') return;
    this.emit('error', error);
    this.#finish(error);
  }

  /** Sends the stream's making to the worker, once (the first command that needs it). */
  #create(): void {
    if (this.#created) return;
    this.#created = true;
    this.#post({ op: 'stream', id: this.#session.id, spec: { ...this.#spec, codec: this.codec.name, muted: this.#muted, speakerMuted: this.#speakerMuted, direction: this.#direction } });
  }

  #finish(error: MediaWorkerError | undefined): void {
    this.#machine.to('CLOSED');
    // Digits still waiting: the worker names those it did not send before its `closed`; a worker
    // that died sent none of them.
    if (error) {
      for (const pending of this.#dtmf.values()) pending.reject(new DtmfNotSentError(pending.digits));
      this.#dtmf.clear();
    }
    this.emit('closed');
    this.removeAllListeners();
  }

  #emptyStats(): AudioStreamStats {
    const jitter = new JitterBuffer({ clockRate: this.codec.clockRate, frameMs: this.ptimeMs }).stats();
    const vq = new VqMonitor({ impairment: this.codec.impairment, alarmThreshold: 0 }).report;
    return { sent: { packets: 0, octets: 0 }, received: { packets: 0, octets: 0, lost: 0, expected: 0, fractionLost: 0, jitterMs: 0 }, jitterBuffer: jitter, rttMs: undefined, remoteReport: undefined, remoteVoipMetrics: undefined, vq, localSsrc: 0, remoteSsrc: undefined, srtp: undefined };
  }
}
