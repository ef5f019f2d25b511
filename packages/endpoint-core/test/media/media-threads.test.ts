import { readFileSync } from 'node:fs';
import { AudioStream, MediaWorkerPool, VirtualAudioProvider, WorkerAudioStream, type DtmfEvent } from '@sip-endpoint/media';
import { Endpoint, InvalidArgumentError, type Call } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { recorded, standaloneConfig, standaloneEndpoint, waitFor } from '../support/endpoints';

// An Endpoint with `mediaThreads`: the calls whose stream a worker can run (default devices, plain
// RTP or SDES) run it in a media worker thread; the call's API is the same: DTMF both ways, hold
// and retrieve, statistics, SRTP. A call whose devices carry sound stays on the main thread.

const threads = (): number => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

/** An auto-answering agent with the default devices (a silent microphone, a speaker that discards). */
function agent(user: string, settings: Record<string, string> = {}, devices?: VirtualAudioProvider): Endpoint {
  return new Endpoint({ config: standaloneConfig(user, testPorts(8), testPorts(50), { 'policy.session.auto_answer': '1', ...settings }), mediaThreads: 2, ...(devices ? { devices } : {}) });
}

async function callConnected(from: Endpoint, to: Endpoint, user: string): Promise<{ call: Call; answered: Call }> {
  const call = await from.makeCall(`sip:${user}@127.0.0.1:${to.lines[0]!.port}`);
  await waitFor(() => call.state === 'CONNECTED' && to.calls.some((c) => c.state === 'CONNECTED' && c.media.stream !== undefined), 5000, 'the call connected');
  return { call, answered: to.calls.find((c) => c.state === 'CONNECTED')! };
}

describe('Endpoint with mediaThreads', () => {
  it('refuses a thread count that is not a whole number from 0 to 256', () => {
    const config = standaloneConfig('7100', testPorts(8), testPorts(50));
    expect(() => new Endpoint({ config, mediaThreads: -1 })).toThrow(InvalidArgumentError);
    expect(() => new Endpoint({ config, mediaThreads: 1.5 })).toThrow(/mediaThreads must be a whole number from 0 to 256, not 1.5/);
  });

  it('shares a pool between Endpoints (mediaWorkers): their calls run on it, and it outlives them', async () => {
    const shared = new MediaWorkerPool({ threads: 1 });
    const config = standaloneConfig('7108', testPorts(8), testPorts(50));
    expect(() => new Endpoint({ config, mediaThreads: 1, mediaWorkers: shared })).toThrow(/not both/);
    const first = new Endpoint({ config: standaloneConfig('7108', testPorts(8), testPorts(50), { 'policy.session.auto_answer': '1' }), mediaWorkers: shared });
    const second = new Endpoint({ config: standaloneConfig('7109', testPorts(8), testPorts(50), { 'policy.session.auto_answer': '1' }), mediaWorkers: shared });
    const caller = standaloneEndpoint('7107', testPorts(8), testPorts(50), 1000);
    await Promise.all([first.start(), second.start(), caller.endpoint.start()]);
    try {
      const one = await callConnected(caller.endpoint, first, '7108');
      const two = await callConnected(caller.endpoint, second, '7109');
      expect(one.answered.media.stream).toBeInstanceOf(WorkerAudioStream);
      expect(two.answered.media.stream).toBeInstanceOf(WorkerAudioStream);
      expect(shared.load).toEqual([2]);
      await first.stop();
      await waitFor(() => shared.load[0] === 1, 5000, "the first endpoint's call gone from the pool");
      // The pool still carries the second endpoint's call.
      const sent = two.answered.media.stats()!.sent.packets;
      await waitFor(() => two.answered.media.stats()!.sent.packets > sent, 5000, 'the second call still sending');
    } finally {
      await caller.endpoint.stop();
      await first.stop();
      await second.stop();
      await shared.close();
    }
  }, 30_000);

  it('runs the stream of a call on default devices in a worker: audio, DTMF both ways, hold and retrieve, statistics; the workers end with the endpoint', async () => {
    const before = threads();
    const worker = agent('7102');
    const caller = standaloneEndpoint('7101', testPorts(8), testPorts(50), 1000);
    await worker.start();
    await caller.endpoint.start();
    try {
      expect(threads()).toBeGreaterThanOrEqual(before + 2);
      const { call, answered } = await callConnected(caller.endpoint, worker, '7102');
      expect(answered.media.stream).toBeInstanceOf(WorkerAudioStream);
      expect(call.media.stream).toBeInstanceOf(AudioStream);
      // The worker's stream sends (silence) and receives the caller's tone.
      await waitFor(() => (answered.media.stats()?.received.packets ?? 0) >= 50 && (call.media.stats()?.received.packets ?? 0) >= 50, 10_000, 'RTP both ways');
      expect(answered.media.quality()?.mos).toBeGreaterThan(4);
      // RFC 4733 both ways through the thread boundary.
      const heardByAgent: DtmfEvent[] = [];
      const heardByCaller: DtmfEvent[] = [];
      answered.on('dtmf', (event) => heardByAgent.push(event));
      call.on('dtmf', (event) => heardByCaller.push(event));
      await call.sendDtmf('58');
      await answered.sendDtmf('*');
      await waitFor(() => heardByAgent.length >= 2 && heardByCaller.length >= 1, 5000, 'digits both ways');
      expect(heardByAgent.map((event) => `${event.digit}:${event.source}`)).toEqual(['5:rfc4733', '8:rfc4733']);
      expect(heardByCaller.map((event) => `${event.digit}:${event.source}`)).toEqual(['*:rfc4733']);
      // Hold from the caller: the agent's stream becomes recvonly in its worker and stops sending.
      await call.hold();
      await waitFor(() => answered.media.stream?.direction === 'recvonly', 5000, 'the agent held');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const held = call.media.stats()!.received.packets;
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(call.media.stats()!.received.packets).toBe(held);
      await call.retrieve();
      await waitFor(() => call.media.stats()!.received.packets > held + 20, 5000, 'RTP again after retrieve');
      await call.hangup();
      await waitFor(() => answered.state === 'DISCONNECTED', 5000, 'the agent saw the BYE');
      expect(answered.media.stream?.state).toBe('CLOSED');
      // The last counters came with the close.
      expect(answered.media.stats()!.sent.packets).toBeGreaterThan(50);
    } finally {
      await caller.endpoint.stop();
      await worker.stop();
    }
    await waitFor(() => threads() <= before + 1, 5000, 'the media workers ended with the endpoint');
  }, 30_000);

  it('SDES-SRTP in a worker: keys from the SDP, the suite in the statistics', async () => {
    const secure = { 'system.security.use_srtp': 'mandatory' };
    const worker = agent('7104', secure);
    const caller = standaloneEndpoint('7103', testPorts(8), testPorts(50), 1000, secure);
    await worker.start();
    await caller.endpoint.start();
    try {
      const { answered } = await callConnected(caller.endpoint, worker, '7104');
      expect(answered.media.stream).toBeInstanceOf(WorkerAudioStream);
      expect(answered.media.security).toMatchObject({ kind: 'sdes' });
      const stream = answered.media.stream as WorkerAudioStream;
      await waitFor(() => stream.stats().received.packets >= 30 && stream.stats().srtp !== undefined, 10_000, 'SRTP received in the worker');
      expect(stream.stats().srtp!.received.authenticationFailures).toBe(0);
      expect(stream.stats().srtp!.suite).toBe(answered.media.security.kind === 'sdes' ? answered.media.security.suite : 'none');
    } finally {
      await caller.endpoint.stop();
      await worker.stop();
    }
  }, 30_000);

  it('dtx_mode 1 in a worker: CN negotiated, the silent microphone sends a packet now and then instead of 50 a second, and the far end plays comfort noise', async () => {
    const dtx = { 'policy.session.dtx_mode': '1' };
    const worker = agent('7111', dtx);
    const caller = standaloneEndpoint('7110', testPorts(8), testPorts(50), 1000, dtx);
    await worker.start();
    await caller.endpoint.start();
    try {
      const { call, answered } = await callConnected(caller.endpoint, worker, '7111');
      expect(answered.media.stream).toBeInstanceOf(WorkerAudioStream);
      // The caller's tone keeps its side talking; the worker's side is silent.
      await waitFor(() => (answered.media.stats()?.received.packets ?? 0) >= 50, 10_000, 'the caller heard in the worker');
      const before = answered.media.stats()!.sent.packets;
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const sent = answered.media.stats()!.sent.packets - before;
      // 3 s at 20 ms: 150 packets without DTX; <= 20 % of that with it.
      expect(sent).toBeLessThanOrEqual(30);
      const stream = call.media.stream as AudioStream;
      expect(stream.comfortNoiseFrames).toBeGreaterThan(50);
    } finally {
      await caller.endpoint.stop();
      await worker.stop();
    }
  }, 30_000);

  it('keeps on the main thread a call whose speaker records (a device that carries sound)', async () => {
    const devices = new VirtualAudioProvider({ defaults: false });
    devices.addInput({ name: 'mic', id: 'mic' }, { kind: 'silence' });
    devices.addOutput({ name: 'speaker', id: 'speaker' }, { record: true });
    const worker = agent('7106', {}, devices);
    const caller = standaloneEndpoint('7105', testPorts(8), testPorts(50), 1000);
    await worker.start();
    await caller.endpoint.start();
    try {
      const { answered } = await callConnected(caller.endpoint, worker, '7106');
      expect(answered.media.stream).toBeInstanceOf(AudioStream);
      await waitFor(() => recorded(devices) >= 0.5, 5000, 'the caller heard on the recording speaker');
    } finally {
      await caller.endpoint.stop();
      await worker.stop();
    }
  }, 30_000);
});
