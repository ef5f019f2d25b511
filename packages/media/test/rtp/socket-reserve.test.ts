import { createSocket, type Socket } from 'node:dgram';
import { readdirSync } from 'node:fs';
import { PortAllocator, PortRangeExhaustedError, RtpSession, RtpSocketError, RtpSocketReserve } from '@sip-endpoint/media';
import { testPorts, waitFor } from '@sip-endpoint/test-support';

// Socket pairs bound ahead of the calls: an answer takes a bound pair instead of binding two
// sockets while the 200 waits. What must hold: nothing bound before the first take, the pairs
// are real bound sockets from the allocator's range, they are replaced after a take, and close()
// gives every descriptor and port back.

const descriptors = (): number => readdirSync('/proc/self/fd').length;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The first even port of a block of `pairs` pairs reserved for this file. */
function evenBlock(pairs: number): number {
  const first = testPorts(pairs * 2 + 2);
  return first % 2 === 0 ? first : first + 1;
}

describe('RtpSocketReserve', () => {
  it('binds nothing before the first take, then keeps one pair bound, replaced after each take; the pair carries RTP', async () => {
    const base = evenBlock(4);
    const ports = new PortAllocator(base, base + 7);
    const before = descriptors();
    const reserve = new RtpSocketReserve(ports, { refillDelayMs: 1 });
    try {
      expect(reserve.held).toBe(0);
      expect(ports.used).toBe(0);
      // The first take finds nothing and arms the reserve.
      expect(reserve.take('127.0.0.1')).toBeUndefined();
      await waitFor(() => reserve.held === 1, 2000, 'one pair bound');
      expect(ports.used).toBe(1);
      expect(descriptors()).toBe(before + 2);

      const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1', reserve });
      expect(session.localPort).toBe(base);
      expect(reserve.held).toBe(0);
      await waitFor(() => reserve.held === 1, 2000, 'the pair replaced');
      expect(ports.used).toBe(2);

      // The taken sockets are the session's: RTP sent to its port arrives.
      const got: number[] = [];
      session.setReceiver((header) => got.push(header.sequence));
      const peer: Socket = createSocket('udp4');
      const packet = Buffer.from([0x80, 0x00, 0x00, 0x07, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff]);
      peer.send(packet, session.localPort, '127.0.0.1');
      await waitFor(() => got.length === 1, 2000, 'an RTP packet on the taken pair');
      expect(got).toEqual([7]);
      peer.close();
      session.close();
      expect(ports.used).toBe(1);
    } finally {
      reserve.close();
    }
    expect(reserve.held).toBe(0);
    expect(ports.used).toBe(0);
    await waitFor(() => descriptors() === before, 2000, `descriptors ${descriptors()} back to ${before}`);
    // Closed: nothing is taken or bound again.
    expect(reserve.take('127.0.0.1')).toBeUndefined();
    await sleep(20);
    expect(reserve.held).toBe(0);
  });

  it('keeps pairs per bind address, binds none with pairs 0, and is ignored by a session of another allocator', async () => {
    const base = evenBlock(4);
    const ports = new PortAllocator(base, base + 7);
    const none = new RtpSocketReserve(ports, { pairs: 0, refillDelayMs: 1 });
    expect(none.take('127.0.0.1')).toBeUndefined();
    await sleep(20);
    expect(none.held).toBe(0);
    expect(ports.used).toBe(0);
    expect(() => new RtpSocketReserve(ports, { pairs: -1 })).toThrow(RtpSocketError);
    expect(() => new RtpSocketReserve(ports, { pairs: 1.5 })).toThrow(/whole number from 0, not 1.5/);

    const reserve = new RtpSocketReserve(ports, { pairs: 2, refillDelayMs: 1 });
    try {
      reserve.take('127.0.0.1');
      await waitFor(() => reserve.held === 2, 2000, 'two pairs for 127.0.0.1');
      reserve.take('0.0.0.0');
      await waitFor(() => reserve.held === 4, 2000, 'two pairs for 0.0.0.0 too');
      expect(ports.used).toBe(4);
      // Another allocator's session binds its own sockets.
      const otherBase = evenBlock(1);
      const other = new PortAllocator(otherBase, otherBase + 1);
      const session = await RtpSession.open({ ports: other, bindAddress: '127.0.0.1', reserve });
      expect(session.localPort).toBe(otherBase);
      expect(reserve.held).toBe(4);
      session.close();
    } finally {
      reserve.close();
    }
    expect(ports.used).toBe(0);
  });

  it('with a range of one pair: the reserve holds it, a session takes it, the next session gets the range\'s error, and the refill gives up quietly', async () => {
    const base = evenBlock(1);
    const ports = new PortAllocator(base, base + 1);
    const reserve = new RtpSocketReserve(ports, { refillDelayMs: 1 });
    try {
      reserve.take('127.0.0.1');
      await waitFor(() => reserve.held === 1, 2000, 'the only pair bound');
      const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1', reserve });
      expect(session.localPort).toBe(base);
      await expect(RtpSession.open({ ports, bindAddress: '127.0.0.1', reserve })).rejects.toThrow(PortRangeExhaustedError);
      await sleep(20);
      expect(reserve.held).toBe(0);
      session.close();
      // The port is back: the next take finds nothing waiting, the refill binds it again.
      expect(reserve.take('127.0.0.1')).toBeUndefined();
      await waitFor(() => reserve.held === 1, 2000, 'the pair bound again');
    } finally {
      reserve.close();
    }
    expect(ports.used).toBe(0);
  });

  it('a port another program holds is skipped by the refill', async () => {
    const base = evenBlock(2);
    const blocker = createSocket('udp4');
    await new Promise<void>((resolve) => blocker.bind(base, '127.0.0.1', resolve));
    const ports = new PortAllocator(base, base + 3);
    const reserve = new RtpSocketReserve(ports, { refillDelayMs: 1 });
    try {
      reserve.take('127.0.0.1');
      await waitFor(() => reserve.held === 1, 2000, 'a pair bound past the blocked port');
      const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1', reserve });
      expect(session.localPort).toBe(base + 2);
      session.close();
    } finally {
      reserve.close();
      blocker.close();
    }
  });
});
