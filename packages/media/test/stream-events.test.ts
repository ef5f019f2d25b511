import { ListenerError } from '@sip-endpoint/policy';
import { waitFor } from '@sip-endpoint/test-support';
import { AudioStream, MediaClock, PCMU, RtpSession, StreamClosedError, type AudioStreamState } from '@sip-endpoint/media';
import { connectPair } from './support/engines';
import { workerPorts } from './support/ports';

const ports = workerPorts(100);

/** A stream on its own, sending to the discard port: enough for its lifecycle and events. */
async function lonelyStream(options: { inactivityTimeoutMs?: number; clock?: MediaClock } = {}): Promise<AudioStream> {
  const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
  return new AudioStream({ session, codec: PCMU, payloadType: 0, remote: { address: '127.0.0.1', rtpPort: 9 }, ...options });
}

describe('AudioStream events and reports', () => {
  it('measures the round-trip time through RTCP both ways', async () => {
    const pair = await connectPair(PCMU, ports, { kind: 'tone', frequencies: [500] }, { kind: 'tone', frequencies: [700] }, { rtcpIntervalS: 0.3 });
    // Each of Alice's reports carries the RTT measured last (from Bob's report on her SR).
    const rtts: number[] = [];
    pair.alice.stream.on('vq', (report) => report.rttMs !== undefined && rtts.push(report.rttMs));
    try {
      await waitFor(() => rtts.length >= 5, 15000, 'five reports with an RTT from RTCP');
    } finally {
      pair.close();
    }
    // On the loopback interface the RTT is a millisecond or so, plus however long the event loop
    // held Bob's report before reading it: on a loaded machine one report may say 100 ms and more.
    // So: each one plausible (not negative, and not the seconds a wrong DLSR or unit would give),
    // and the best of five small.
    for (const rtt of rtts) {
      expect(rtt).toBeGreaterThanOrEqual(0);
      expect(rtt).toBeLessThan(1000);
    }
    expect(Math.min(...rtts)).toBeLessThan(50);
  }, 20000);

  it('raises inactivity when RTP stops arriving, and not while the stream does not expect any', async () => {
    // The timeout is counted on the media clock's ticks: driven here by jest's fake timers (a clock
    // of the test's own), so that the moment it fires is exact, however loaded the machine.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    const stream = await lonelyStream({ inactivityTimeoutMs: 300, clock: new MediaClock() });
    try {
      let fired = 0;
      stream.on('inactivity', () => fired++);
      stream.start();
      await jest.advanceTimersByTimeAsync(290);
      expect(fired).toBe(0);
      await jest.advanceTimersByTimeAsync(30);
      expect(fired).toBe(1);
      stream.setDirection('sendonly');
      // Nothing may happen for longer than the timeout while the stream expects no RTP.
      await jest.advanceTimersByTimeAsync(1000);
      expect(fired).toBe(1);
    } finally {
      stream.close();
      jest.useRealTimers();
    }
  });

  it('raises the VQ alarm when the interval MOS falls under the threshold', async () => {
    const pair = await connectPair(PCMU, ports, { kind: 'silence' }, { kind: 'silence' }, { rtcpIntervalS: 0.4, vqAlarmThreshold: 4.5 });
    const alarms: boolean[] = [];
    pair.bob.stream.on('vqAlarm', (report) => alarms.push(report.alarm));
    try {
      await waitFor(() => alarms.length > 0, 5000, 'a VQ alarm');
    } finally {
      pair.close();
    }
    // With a threshold of 4.5 even a perfect narrowband call (MOS 4.4) is under it.
    expect(alarms[0]).toBe(true);
  });

  it('tells the far end goodbye with RTCP BYE on close', async () => {
    const pair = await connectPair(PCMU, ports, { kind: 'silence' }, { kind: 'silence' });
    let bye = false;
    pair.bob.stream.on('bye', () => (bye = true));
    try {
      await waitFor(() => pair.bob.stream.stats().received.packets > 0, 5000, 'media from Alice');
      pair.alice.stream.close();
      await waitFor(() => bye, 5000, 'the BYE');
    } finally {
      pair.close();
    }
    expect(bye).toBe(true);
  });

  it('refuses to work once closed, and closing twice is harmless', async () => {
    const stream = await lonelyStream();
    stream.close();
    stream.close();
    expect(() => stream.start()).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_STREAM_CLOSED' }));
    expect(() => stream.sendDtmf('1')).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_STREAM_CLOSED' }));
  });
});

describe('AudioStream states', () => {
  it('goes NEW -> RUNNING -> CLOSED, telling each move, and says closed once however often close() is called', async () => {
    const stream = await lonelyStream();
    const moves: string[] = [];
    const closedIn: AudioStreamState[] = [];
    stream.on('stateChanged', (next, previous) => moves.push(`${previous}->${next}`));
    stream.on('closed', () => closedIn.push(stream.state));
    expect(stream.state).toBe<AudioStreamState>('NEW');
    stream.start();
    stream.start();
    expect(stream.state).toBe<AudioStreamState>('RUNNING');
    stream.close();
    stream.close();
    expect(stream.state).toBe<AudioStreamState>('CLOSED');
    expect(moves).toEqual(['NEW->RUNNING', 'RUNNING->CLOSED']);
    expect(closedIn).toEqual(['CLOSED']);
  });

  it('closes from NEW without ever running', async () => {
    const stream = await lonelyStream();
    const moves: string[] = [];
    stream.on('stateChanged', (next, previous) => moves.push(`${previous}->${next}`));
    stream.close();
    expect(moves).toEqual(['NEW->CLOSED']);
    expect(stream.state).toBe<AudioStreamState>('CLOSED');
  });

  it('throws StreamClosedError for start(), setDirection() and sendDtmf() after close, and stays CLOSED', async () => {
    const stream = await lonelyStream();
    stream.start();
    stream.close();
    for (const operation of [() => stream.start(), () => stream.setDirection('sendonly'), () => stream.sendDtmf('5')]) {
      expect(operation).toThrow(StreamClosedError);
      expect(operation).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_STREAM_CLOSED', name: 'StreamClosedError' }));
    }
    expect(stream.state).toBe<AudioStreamState>('CLOSED');
  });
});

describe('AudioStream listener errors', () => {
  it('reports a throwing listener as listenerError on the stream, and the other listeners still run', async () => {
    const stream = await lonelyStream();
    const errors: ListenerError[] = [];
    const seen: string[] = [];
    stream.on('listenerError', (error) => errors.push(error));
    stream.on('stateChanged', () => {
      throw new Error('a broken listener');
    });
    stream.on('stateChanged', (next) => seen.push(next));
    expect(() => stream.start()).not.toThrow();
    expect(stream.state).toBe<AudioStreamState>('RUNNING');
    expect(seen).toEqual(['RUNNING']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ListenerError);
    expect(errors[0]).toMatchObject({ code: 'ERR_LISTENER_THREW', source: 'AudioStream', event: 'stateChanged' });
    expect((errors[0]!.cause as Error).message).toBe('a broken listener');
    stream.close();
    expect(seen).toEqual(['RUNNING', 'CLOSED']);
  });
});
