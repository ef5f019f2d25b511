import { parentPort } from 'node:worker_threads';
import { AudioStream, type AudioStreamStats } from '../audio-stream';
import { codecs } from '../codecs/codec-registry';
import { DtmfNotSentError } from '../dtmf/dtmf-digits';
import { PortAllocator, PortRangeExhaustedError } from '../rtp/port-allocator';
import { RtpSession } from '../rtp/rtp-session';
import { SrtpContext, type SrtpKeyMaterial } from '../srtp/srtp-context';
import { MediaWorkerError } from './media-worker-error';
import type { FromWorker, ToWorker, WorkerSrtp, WorkerStreamSpec } from './media-worker-protocol';

// A media worker (see MediaWorkerPool): it binds the RTP sockets the main thread asks for and runs
// the streams on them on its own media clock. Every command names a session by the id the main
// thread gave it; a command for a session that is gone (closed, or its bind failed) is ignored.

interface Entry {
  session: RtpSession | undefined;
  stream: AudioStream | undefined;
  /** Closed by the main thread (possibly before its bind finished). */
  closed: boolean;
}

const channel = parentPort;
if (!channel) throw new MediaWorkerError('the media worker script runs in a worker thread (MediaWorkerPool starts it)');
const entries = new Map<number, Entry>();
const post = (message: FromWorker): void => channel.postMessage(message);

channel.on('message', (message: ToWorker) => {
  try {
    handle(message);
  } catch (error) {
    post({ op: 'event', id: message.id, name: 'error', args: [error instanceof Error ? error.message : String(error)] });
  }
});

// Every stream's counters, once a second, in one message.
setInterval(() => {
  const ids: number[] = [];
  const stats: AudioStreamStats[] = [];
  for (const [id, entry] of entries) {
    if (!entry.stream) continue;
    ids.push(id);
    stats.push(entry.stream.stats());
  }
  if (ids.length > 0) post({ op: 'stats', ids, stats });
}, 1000).unref();

function handle(message: ToWorker): void {
  if (message.op === 'bind') {
    void bind(message.id, message.port, message.bindAddress);
    return;
  }
  const entry = entries.get(message.id);
  if (!entry || entry.closed) return;
  const stream = entry.stream;
  switch (message.op) {
    case 'srtp':
      if (entry.session) setSrtp(entry.session, message.srtp);
      return;
    case 'stream':
      if (entry.session && !stream) createStream(message.id, entry, entry.session, message.spec);
      return;
    case 'start':
      stream?.start();
      return;
    case 'direction':
      stream?.setDirection(message.direction);
      return;
    case 'muted':
      stream?.setMuted(message.muted);
      return;
    case 'speakerMuted':
      stream?.setSpeakerMuted(message.muted);
      return;
    case 'remote':
      stream?.setRemote(message.address, message.rtpPort, message.rtcpPort, message.rtcpMux);
      return;
    case 'codec':
      setCodec(stream, message.codec, message.payloadType, message.telephoneEvent);
      return;
    case 'dtmf':
      sendDtmf(message.id, stream, message.request, message.digits, message.method);
      return;
    case 'close':
      close(message.id, entry);
      return;
  }
}

async function bind(id: number, port: number, bindAddress: string): Promise<void> {
  const entry: Entry = { session: undefined, stream: undefined, closed: false };
  entries.set(id, entry);
  try {
    // Exactly the pair the main thread's allocator chose: a pair the system refuses is its to skip.
    const session = await RtpSession.open({ ports: new PortAllocator(port, port + 1), bindAddress });
    if (entry.closed) {
      session.close();
      entries.delete(id);
      post({ op: 'closed', id, stats: undefined });
      return;
    }
    entry.session = session;
    session.on('srtpDropped', (reason, counters) => post({ op: 'event', id, name: 'srtpDropped', args: [reason, { ...counters }] }));
    post({ op: 'bound', id });
  } catch (error) {
    entries.delete(id);
    // The range of one pair is exhausted when the system refused it (EADDRINUSE, EACCES).
    const code = error instanceof PortRangeExhaustedError ? 'EADDRINUSE' : (error as NodeJS.ErrnoException).code;
    post({ op: 'bound', id, error: { code, message: error instanceof Error ? error.message : String(error) } });
  }
}

/** Keys the session; a key that did not change keeps its context (rollover counter, replay window). */
function setSrtp(session: RtpSession, srtp: WorkerSrtp): void {
  if (!srtp) {
    session.setSrtp(undefined);
    return;
  }
  const current = session.srtp;
  const keep = (context: SrtpContext | undefined, key: SrtpKeyMaterial): SrtpContext => (context && context.suite === key.suite && context.unencryptedSrtcp === (key.unencryptedSrtcp === true) && context.keyEquals(key) ? context : new SrtpContext(key));
  session.setSrtp({ send: keep(current?.send, srtp.send), receive: keep(current?.receive, srtp.receive) });
}

/** A mid-call codec switch (the main thread named a codec of the registry, as when the stream was made). */
function setCodec(stream: AudioStream | undefined, name: string, payloadType: number, telephoneEvent: { payloadType: number; clockRate: number } | undefined): void {
  const codec = codecs.get(name);
  if (!codec) throw new MediaWorkerError(`the media worker has no codec ${name}`);
  stream?.setCodec({ codec, payloadType, ...(telephoneEvent ? { telephoneEvent } : {}) });
}

function createStream(id: number, entry: Entry, session: RtpSession, spec: WorkerStreamSpec): void {
  const codec = codecs.get(spec.codec);
  if (!codec) throw new MediaWorkerError(`the media worker has no codec ${spec.codec}`);
  const stream = new AudioStream({
    session,
    codec,
    payloadType: spec.payloadType,
    ...(spec.telephoneEvent ? { telephoneEvent: spec.telephoneEvent } : {}),
    remote: spec.remote,
    direction: spec.direction,
    ptimeMs: spec.ptimeMs,
    ...(spec.inactivityTimeoutMs !== undefined ? { inactivityTimeoutMs: spec.inactivityTimeoutMs } : {}),
    ...(spec.vqAlarmThreshold !== undefined ? { vqAlarmThreshold: spec.vqAlarmThreshold } : {}),
    ...(spec.rtcpIntervalS !== undefined ? { rtcpIntervalS: spec.rtcpIntervalS } : {}),
    ...(spec.rtcpXr !== undefined ? { rtcpXr: spec.rtcpXr } : {}),
    ...(spec.cname !== undefined ? { cname: spec.cname } : {}),
    ...(spec.detectInbandDtmf !== undefined ? { detectInbandDtmf: spec.detectInbandDtmf } : {}),
    ...(spec.dtmfFeedback !== undefined ? { dtmfFeedback: spec.dtmfFeedback } : {}),
    ...(spec.jitterBuffer ? { jitterBuffer: spec.jitterBuffer } : {}),
    ...(spec.processing ? { processing: spec.processing } : {}),
  });
  entry.stream = stream;
  stream.setMuted(spec.muted);
  stream.setSpeakerMuted(spec.speakerMuted);
  stream.on('dtmf', (event) => post({ op: 'event', id, name: 'dtmf', args: [event] }));
  stream.on('vq', (report) => post({ op: 'event', id, name: 'vq', args: [report] }));
  stream.on('vqAlarm', (report) => post({ op: 'event', id, name: 'vqAlarm', args: [report] }));
  stream.on('inactivity', () => post({ op: 'event', id, name: 'inactivity', args: [] }));
  stream.on('bye', () => post({ op: 'event', id, name: 'bye', args: [] }));
  stream.on('error', (error) => post({ op: 'event', id, name: 'error', args: [error.message] }));
  // The counters from the start: the main thread's copy has the SSRC at once.
  post({ op: 'stats', ids: [id], stats: [stream.stats()] });
}

function sendDtmf(id: number, stream: AudioStream | undefined, request: number, digits: string, method: 'rfc4733' | 'inband' | undefined): void {
  if (!stream) {
    post({ op: 'dtmfDone', id, request, unsent: digits });
    return;
  }
  const sent = method ? stream.sendDtmf(digits, method) : stream.sendDtmf(digits);
  sent.then(
    () => post({ op: 'dtmfDone', id, request }),
    (error: unknown) => post({ op: 'dtmfDone', id, request, unsent: error instanceof DtmfNotSentError ? error.unsent : digits }),
  );
}

function close(id: number, entry: Entry): void {
  entry.closed = true;
  // Still binding: the bind closes what it opened when it finishes.
  if (!entry.session) return;
  const stats = entry.stream?.stats();
  if (entry.stream) entry.stream.close();
  else entry.session.close();
  entries.delete(id);
  // After the answers of the digits the close left unsent (their promises settle first).
  void Promise.resolve().then(() => post({ op: 'closed', id, stats }));
}
