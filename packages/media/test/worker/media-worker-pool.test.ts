import { createSocket, type Socket } from 'node:dgram';
import { AudioStream, DtmfNotSentError, MediaWorkerError, MediaWorkerPool, PCMA, PortAllocator, RtpSession, StreamClosedError, VirtualAudioProvider, generateSrtpKey, type DtmfEvent, type WorkerAudioStream } from '@sip-endpoint/media';
import { testPorts, waitFor } from '@sip-endpoint/test-support';

// Streams in media worker threads, against a stream on the main thread and against each other:
// what crosses the thread boundary (commands, events, counters) and what must not depend on the
// main thread (the worker's media clock keeps its pace while the main thread is blocked).

const pools: MediaWorkerPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

function pool(threads: number): MediaWorkerPool {
  const created = new MediaWorkerPool({ threads });
  pools.push(created);
  return created;
}

/** `count` ports from this jest worker's range, the first one even (RTP pairs start on an even port). */
function evenPorts(count: number): number {
  const base = testPorts(count + 1);
  return base + (base % 2);
}

function bindUdp(port: number): Promise<Socket> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

/** A main-thread stream playing a tone, with a recording speaker, facing `remotePort`. */
async function mainStream(ports: PortAllocator, remotePort: number): Promise<{ stream: AudioStream; digits: DtmfEvent[] }> {
  const devices = new VirtualAudioProvider({ defaults: false });
  const mic = devices.addInput({ name: 'tone' }, { kind: 'tone', frequencies: [440], levelDbfs: -12 });
  const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
  const stream = new AudioStream({ session, codec: PCMA, payloadType: 8, telephoneEvent: { payloadType: 101, clockRate: 8000 }, remote: { address: '127.0.0.1', rtpPort: remotePort }, input: devices.openInput(mic.id, 8000) });
  const digits: DtmfEvent[] = [];
  stream.on('dtmf', (event) => digits.push(event));
  return { stream, digits };
}

describe('MediaWorkerPool', () => {
  it('refuses a thread count that is not a whole number from 1', () => {
    expect(() => new MediaWorkerPool({ threads: 0 })).toThrow(MediaWorkerError);
    expect(() => new MediaWorkerPool({ threads: 1.5 })).toThrow(/whole number from 1, not 1.5/);
  });

  it('spreads sessions over its workers; a worker stream exchanges audio, RFC 4733 and in-band DTMF, and counters with a main-thread stream', async () => {
    const workers = pool(2);
    const base = evenPorts(12);
    const ports = new PortAllocator(base, base + 11);
    const first = await workers.openSession({ ports, bindAddress: '127.0.0.1' });
    const second = await workers.openSession({ ports, bindAddress: '127.0.0.1' });
    expect(workers.load).toEqual([1, 1]);
    expect(new Set([first.localPort, second.localPort]).size).toBe(2);
    second.close();
    await waitFor(() => ports.used === 1, 5000, 'the closed session gave its ports back');

    const local = await mainStream(ports, first.localPort);
    const remote = first.createStream({ payloadType: 8, telephoneEvent: { payloadType: 101, clockRate: 8000 }, remote: { address: '127.0.0.1', rtpPort: local.stream.localPort }, direction: 'sendrecv', ptimeMs: 20 }, PCMA);
    const heard: DtmfEvent[] = [];
    remote.on('dtmf', (event) => heard.push(event));
    const states: string[] = [];
    remote.on('stateChanged', (next) => states.push(next));
    try {
      local.stream.start();
      remote.start();
      expect(remote.state).toBe('RUNNING');
      await waitFor(() => remote.stats().received.packets >= 40 && local.stream.stats().received.packets >= 40, 10_000, 'RTP both ways');
      expect(remote.localSsrc).not.toBe(0);
      expect(local.stream.stats().remoteSsrc).toBe(remote.localSsrc);
      expect(remote.stats().remoteSsrc).toBe(local.stream.localSsrc);
      // The worker's digits, as telephone-events, reach the main thread's stream; its promise resolves once they went.
      await remote.sendDtmf('4#');
      await waitFor(() => local.digits.length >= 2, 5000, 'digits from the worker');
      expect(local.digits.map((event) => `${event.digit}:${event.source}`)).toEqual(['4:rfc4733', '#:rfc4733']);
      // In-band tones from the main thread are detected in the worker and told across.
      await local.stream.sendDtmf('7', 'inband');
      await waitFor(() => heard.length >= 1, 5000, 'an in-band digit detected in the worker');
      expect(heard[0]).toEqual({ digit: '7', source: 'inband' });
      expect(() => remote.sendDtmf('x')).toThrow(/digit/);
      // Digits left unsent by a close are named by the worker.
      const pending = remote.sendDtmf('123456789');
      remote.close();
      await expect(pending).rejects.toBeInstanceOf(DtmfNotSentError);
      await expect(pending).rejects.toMatchObject({ unsent: expect.stringMatching(/^[1-9]*9$/) });
      expect(states).toEqual(['RUNNING', 'CLOSED']);
      expect(() => remote.start()).toThrow(StreamClosedError);
      await waitFor(() => ports.used === 1, 5000, 'the worker closed its sockets and the ports went back');
      // The last counters came with the close.
      expect(remote.stats().sent.packets).toBeGreaterThanOrEqual(40);
    } finally {
      local.stream.close();
      remote.close();
    }
  }, 30_000);

  it('keeps sending every 20 ms while the main thread is blocked', async () => {
    const workers = pool(1);
    const base = evenPorts(4);
    const ports = new PortAllocator(base, base + 3);
    const session = await workers.openSession({ ports, bindAddress: '127.0.0.1' });
    const sink = await bindUdp(base + 2);
    const stream = session.createStream({ payloadType: 8, remote: { address: '127.0.0.1', rtpPort: base + 2 }, direction: 'sendrecv', ptimeMs: 20 }, PCMA);
    try {
      stream.start();
      const started = performance.now();
      // A second of the main thread's event loop held: a stream of the main thread's clock would
      // send nothing in it, and at most five late packets after it.
      while (performance.now() - started < 1000) {
        // busy
      }
      await new Promise((resolve) => setTimeout(resolve, 1300));
      const elapsed = performance.now() - started;
      const sent = stream.stats().sent.packets;
      // The counters are at most a second old: at least (elapsed - 1 s) / 20 ms packets, with 20 % slack for a loaded machine.
      expect(sent).toBeGreaterThanOrEqual(Math.floor(((elapsed - 1000) / 20) * 0.8));
      expect(sent).toBeGreaterThanOrEqual(60);
    } finally {
      stream.close();
      sink.close();
    }
  }, 30_000);

  it('keys its sessions with SDES: SRTP both ways between two workers, the counters in the stats', async () => {
    const workers = pool(2);
    const base = evenPorts(4);
    const ports = new PortAllocator(base, base + 3);
    const a = await workers.openSession({ ports, bindAddress: '127.0.0.1' });
    const b = await workers.openSession({ ports, bindAddress: '127.0.0.1' });
    const ab = generateSrtpKey('AES_CM_128_HMAC_SHA1_80');
    const ba = generateSrtpKey('AES_CM_128_HMAC_SHA1_80');
    a.setSrtp({ send: ab, receive: ba });
    b.setSrtp({ send: ba, receive: ab });
    expect(a.srtp?.send).toBe(ab);
    const left = a.createStream({ payloadType: 8, remote: { address: '127.0.0.1', rtpPort: b.localPort }, direction: 'sendrecv', ptimeMs: 20 }, PCMA);
    const right = b.createStream({ payloadType: 8, remote: { address: '127.0.0.1', rtpPort: a.localPort }, direction: 'sendrecv', ptimeMs: 20 }, PCMA);
    try {
      left.start();
      right.start();
      await waitFor(() => left.stats().received.packets >= 30 && right.stats().received.packets >= 30, 10_000, 'SRTP both ways');
      expect(left.stats().srtp?.suite).toBe('AES_CM_128_HMAC_SHA1_80');
      expect(right.stats().srtp?.received.authenticationFailures).toBe(0);
      // A wrong key on one side: its packets fail authentication there, and the session says so.
      const dropped: string[] = [];
      b.on('srtpDropped', (reason) => dropped.push(reason));
      b.setSrtp({ send: ba, receive: generateSrtpKey('AES_CM_128_HMAC_SHA1_80') });
      await waitFor(() => dropped.length > 0, 5000, 'an SRTP drop told by the worker');
      expect(dropped[0]).toBe('authentication');
    } finally {
      left.close();
      right.close();
    }
  }, 30_000);

  it('skips a port pair the system refuses', async () => {
    const workers = pool(1);
    const base = evenPorts(6);
    const blocker = await bindUdp(base);
    try {
      const ports = new PortAllocator(base, base + 5);
      const session = await workers.openSession({ ports, bindAddress: '127.0.0.1' });
      expect(session.localPort).toBe(base + 2);
      expect(ports.used).toBe(1);
      session.close();
      await waitFor(() => ports.used === 0, 5000, 'ports back');
    } finally {
      blocker.close();
    }
  }, 30_000);

  it('when it closes, running streams report a MediaWorkerError and close; digits waiting are not sent; no new session is opened', async () => {
    const workers = new MediaWorkerPool({ threads: 1 });
    const base = evenPorts(4);
    const ports = new PortAllocator(base, base + 3);
    const session = await workers.openSession({ ports, bindAddress: '127.0.0.1' });
    const stream: WorkerAudioStream = session.createStream({ payloadType: 8, remote: { address: '127.0.0.1', rtpPort: base + 2 }, direction: 'sendrecv', ptimeMs: 20 }, PCMA);
    stream.start();
    const errors: Error[] = [];
    stream.on('error', (error) => errors.push(error));
    let closed = false;
    stream.on('closed', () => {
      closed = true;
    });
    const digits = stream.sendDtmf('123456789');
    await workers.close();
    await waitFor(() => closed, 5000, 'the stream closed');
    expect(errors[0]).toBeInstanceOf(MediaWorkerError);
    expect(stream.state).toBe('CLOSED');
    await expect(digits).rejects.toMatchObject({ unsent: '123456789' });
    expect(ports.used).toBe(0);
    await expect(workers.openSession({ ports, bindAddress: '127.0.0.1' })).rejects.toBeInstanceOf(MediaWorkerError);
  }, 30_000);
});
