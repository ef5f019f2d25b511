import { createSocket } from 'node:dgram';
import { ListenerError, SafeEmitter } from '@sip-endpoint/policy';
import { testPorts, waitFor } from '@sip-endpoint/test-support';
import { buildRtcp, createRtpHeader, isRtcp, ntpMiddle, ntpNow, parseRtcp, parseRtpHeader, PortAllocator, PortRangeExhaustedError, ReceptionStats, roundTripMs, RtpSession, writeRtpHeader } from '@sip-endpoint/media';
import { workerPorts } from '../support/ports';

/** An even port at the start of a block of this worker's own (`count` ports after it are ours too). */
function evenBlock(count: number): number {
  const first = testPorts(count + 1);
  return first % 2 === 0 ? first : first + 1;
}

// This file's ports, taken when it loads: two blocks whose exact numbers the allocator tests
// predict, and ranges for the sessions of the sending and receiving tests.
const exhaustBase = evenBlock(6);
const neighbourBase = evenBlock(10);
const sendingPorts = workerPorts(10);
const receivingPorts = workerPorts(10);

describe('RTP header', () => {
  it('writes and reads the fixed header', () => {
    const packet = new Uint8Array(12 + 160);
    writeRtpHeader(packet, true, 8, 0xfffe, 0xdeadbeef, 0x12345678);
    const header = createRtpHeader();
    expect(parseRtpHeader(packet, packet.length, header)).toBe(true);
    expect(header).toEqual({ marker: true, payloadType: 8, sequence: 0xfffe, timestamp: 0xdeadbeef, ssrc: 0x12345678, payloadOffset: 12, payloadLength: 160 });
  });

  it('skips CSRCs and a header extension, and removes padding', () => {
    const packet = new Uint8Array(12 + 8 + 8 + 20 + 4);
    writeRtpHeader(packet, false, 0, 1, 2, 3);
    packet[0] = 0x80 | 0x20 | 0x10 | 2; // padding, extension, two CSRCs
    packet[20 + 2] = 0;
    packet[20 + 3] = 1; // extension of one word
    packet[packet.length - 1] = 4; // four bytes of padding
    const header = createRtpHeader();
    expect(parseRtpHeader(packet, packet.length, header)).toBe(true);
    expect([header.payloadOffset, header.payloadLength]).toEqual([28, 20]);
  });

  it.each([
    ['too short', new Uint8Array(8)],
    ['version 1', Uint8Array.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['padding longer than the packet', Uint8Array.from([0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 99])],
    ['CSRCs past the end', Uint8Array.from([0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
  ])('refuses a datagram that is %s', (_name, data) => {
    expect(parseRtpHeader(data, data.length, createRtpHeader())).toBe(false);
  });

  it('tells RTCP from RTP on a multiplexed port', () => {
    expect(isRtcp(Uint8Array.from([0x80, 200]), 2)).toBe(true);
    expect(isRtcp(Uint8Array.from([0x80, 0x80 | 8]), 2)).toBe(false);
  });
});

describe('RTCP', () => {
  it('builds and reads an SR with a report block, SDES CNAME and BYE', () => {
    const packet = buildRtcp({
      ssrc: 0x11111111,
      sender: { ntpSeconds: 3900000000, ntpFraction: 0x80000000, rtpTimestamp: 1234, packetCount: 50, octetCount: 8000 },
      reports: [{ ssrc: 0x22222222, fractionLost: 25, cumulativeLost: -3, highestSequence: 70000, jitter: 37, lastSr: 0xabcd1234, delaySinceLastSr: 65536 }],
      cname: 'alice@example.com',
      bye: 'hang up',
    });
    expect(packet.length % 4).toBe(0);
    expect(parseRtcp(packet)).toEqual({
      ssrc: 0x11111111,
      sender: { ntpSeconds: 3900000000, ntpFraction: 0x80000000, rtpTimestamp: 1234, packetCount: 50, octetCount: 8000 },
      reports: [{ ssrc: 0x22222222, fractionLost: 25, cumulativeLost: -3, highestSequence: 70000, jitter: 37, lastSr: 0xabcd1234, delaySinceLastSr: 65536 }],
      cname: 'alice@example.com',
      bye: true,
      voipMetrics: [],
    });
  });

  it('builds a receiver report when nothing was sent', () => {
    const report = parseRtcp(buildRtcp({ ssrc: 5, reports: [], cname: 'x' }));
    expect(report).toMatchObject({ ssrc: 5, sender: undefined, reports: [], bye: false });
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['not version 2', Uint8Array.from([0x40, 200, 0, 1, 0, 0, 0, 0])],
    ['a length past the end', Uint8Array.from([0x80, 201, 0, 9, 0, 0, 0, 0])],
    ['SDES first', Uint8Array.from([0x81, 202, 0, 1, 0, 0, 0, 0])],
    // A sender report announcing one report block (52 bytes) in a datagram of 32: its block would be read past the end.
    ['a report block past the end', Uint8Array.from([0x81, 200, 0, 12, ...new Array<number>(28).fill(1)])],
  ])('refuses %s without throwing', (_name, data) => {
    expect(parseRtcp(data)).toBeUndefined();
  });

  it('computes the round trip from LSR and DLSR', () => {
    const sentAt = Date.now() - 150;
    const ntp = ntpNow(sentAt);
    const rtt = roundTripMs({ ssrc: 1, fractionLost: 0, cumulativeLost: 0, highestSequence: 0, jitter: 0, lastSr: ntpMiddle(ntp.seconds, ntp.fraction), delaySinceLastSr: Math.round(0.1 * 65536) });
    expect(rtt).toBeGreaterThan(40);
    expect(rtt).toBeLessThan(70);
  });
});

describe('ReceptionStats', () => {
  it('counts loss and the interval fraction lost', () => {
    const stats = new ReceptionStats();
    for (const seq of [1, 2, 3, 5, 6, 8, 9, 10]) stats.update(seq, seq * 160, seq * 160, 160);
    expect([stats.expected, stats.lost]).toEqual([10, 2]);
    expect(stats.interval()).toEqual({ fractionLost: 51, expected: 10, lost: 2 });
  });

  it('extends sequence numbers across the wrap', () => {
    const stats = new ReceptionStats();
    for (const seq of [65534, 65535, 0, 1]) stats.update(seq, 0, 0, 1);
    expect(stats.extendedMax).toBe(0x10001);
    expect(stats.lost).toBe(0);
  });

  it('estimates interarrival jitter as RFC 3550 A.8 does', () => {
    const stats = new ReceptionStats();
    // Transit alternating by 80 ticks (10 ms at 8 kHz): J converges to 80.
    for (let i = 0; i < 400; i++) stats.update(i, i * 160, i * 160 + (i % 2) * 80, 160);
    expect(stats.jitter).toBeGreaterThan(75);
    expect(stats.jitter).toBeLessThan(81);
  });
});

describe('ports', () => {
  it('hands out even ports round-robin and refuses when the range is used up', () => {
    const base = exhaustBase;
    const ports = new PortAllocator(base + 1, base + 6);
    expect([ports.acquire(), ports.acquire()]).toEqual([base + 2, base + 4]);
    expect(() => ports.acquire()).toThrow(PortRangeExhaustedError);
    ports.release(base + 2);
    expect(ports.acquire()).toBe(base + 2);
  });

  it('binds the next pair when one is taken by another program, and releases ports on close', async () => {
    const base = neighbourBase;
    const ports = new PortAllocator(base, base + 9);
    const other = await RtpSession.open({ ports: new PortAllocator(base, base + 1), bindAddress: '127.0.0.1' });
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    expect(session.localPort).toBe(base + 2);
    expect(ports.used).toBe(1);
    session.close();
    session.close();
    expect(ports.used).toBe(0);
    other.close();
  });
});

describe('sending', () => {
  it('sends each packet as it was when sendRtp was called, even when one buffer carries several packets in one tick', async () => {
    const ports = sendingPorts;
    const sender = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const receiver = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const sequences: number[] = [];
    receiver.on('rtp', (header) => sequences.push(header.sequence));
    sender.setRemote('127.0.0.1', receiver.localPort);
    // What a stream does when its clock catches up after a stall: five packets from one buffer.
    const packet = new Uint8Array(12 + 160);
    for (let sequence = 100; sequence < 105; sequence++) {
      writeRtpHeader(packet, false, 0, sequence, sequence * 160, 0x1234);
      sender.sendRtp(packet, packet.length);
    }
    await waitFor(() => sequences.length >= 5, 2000, 'five packets');
    sender.close();
    receiver.close();
    expect(sequences).toEqual([100, 101, 102, 103, 104]);
  });
});

describe('receiving', () => {
  const ports = receivingPorts;
  const original = SafeEmitter.unhandled;
  afterEach(() => {
    SafeEmitter.unhandled = original;
  });

  /** A session and a plain socket sending RTP packets to it. */
  async function withSender(run: (session: RtpSession, send: (sequence: number) => void) => Promise<void>): Promise<void> {
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const socket = createSocket('udp4');
    try {
      await run(session, (sequence) => {
        // A buffer per packet: a plain socket sends after a lookup, on a later tick.
        const packet = new Uint8Array(12 + 160);
        writeRtpHeader(packet, false, 0, sequence, sequence * 160, 0x4321);
        socket.send(packet, session.localPort, '127.0.0.1');
      });
    } finally {
      socket.close();
      session.close();
    }
  }

  it('hands packets to the receiver, and to rtp listeners too when there are some', async () => {
    await withSender(async (session, send) => {
      const received: number[] = [];
      const observed: number[] = [];
      session.setReceiver((header) => received.push(header.sequence));
      send(1);
      await waitFor(() => received.length === 1, 2000, 'the first packet');
      session.on('rtp', (header) => observed.push(header.sequence));
      send(2);
      await waitFor(() => received.length === 2 && observed.length === 1, 2000, 'the second packet');
      expect(received).toEqual([1, 2]);
      expect(observed).toEqual([2]);
    });
  });

  it('reports a throwing rtp listener as listenerError on the session, and the other listeners still run', async () => {
    await withSender(async (session, send) => {
      const errors: ListenerError[] = [];
      const seen: number[] = [];
      session.on('listenerError', (error) => errors.push(error));
      session.on('rtp', () => {
        throw new Error('a broken listener');
      });
      session.on('rtp', (header) => seen.push(header.sequence));
      send(7);
      send(8);
      await waitFor(() => seen.length === 2, 2000, 'two packets');
      expect(seen).toEqual([7, 8]);
      expect(errors).toHaveLength(2);
      expect(errors[0]).toBeInstanceOf(ListenerError);
      expect(errors[0]).toMatchObject({ code: 'ERR_LISTENER_THREW', source: 'RtpSession', event: 'rtp' });
    });
  });

  it('reports a throwing receiver the same way (or to SafeEmitter.unhandled while nobody listens), and goes on receiving', async () => {
    await withSender(async (session, send) => {
      const unhandled: ListenerError[] = [];
      SafeEmitter.unhandled = (error) => unhandled.push(error);
      const errors: ListenerError[] = [];
      const seen: number[] = [];
      session.setReceiver((header) => {
        seen.push(header.sequence);
        if (header.sequence === 1 || header.sequence === 2) throw new Error(`packet ${header.sequence} broke it`);
      });
      send(1);
      await waitFor(() => unhandled.length === 1, 2000, 'the unhandled error');
      session.on('listenerError', (error) => errors.push(error));
      send(2);
      send(3);
      await waitFor(() => seen.length === 3, 2000, 'three packets');
      expect(seen).toEqual([1, 2, 3]);
      expect(unhandled).toHaveLength(1);
      expect(unhandled[0]).toMatchObject({ code: 'ERR_LISTENER_THREW', source: 'RtpSession', event: 'rtp' });
      expect(errors).toHaveLength(1);
      expect((errors[0]!.cause as Error).message).toBe('packet 2 broke it');
    });
  });
});
