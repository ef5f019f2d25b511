import { createSocket, Socket, type RemoteInfo } from 'node:dgram';
import { SafeEmitter } from '@sip-endpoint/policy';
import { testPorts, waitFor } from '@sip-endpoint/test-support';
import { buildRtcp, InvalidPortRangeError, parseRtcp, PortAllocator, PortRangeExhaustedError, RtpSession, RtpSocketError, writeRtpHeader, type RtcpReport } from '@sip-endpoint/media';
import { workerPorts } from '../support/ports';

/** An even port at the start of a block of this worker's own (`count` ports after it are ours too). */
function evenBlock(count: number): number {
  const first = testPorts(count + 1);
  return first % 2 === 0 ? first : first + 1;
}

/** What the thrown value of `run` is (fails the test when nothing is thrown). */
function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('nothing was thrown');
}

describe('PortAllocator', () => {
  it('hands out the even ports of the range round-robin, the highest pair whose RTCP port still fits included, then wraps', () => {
    const ports = new PortAllocator(1000, 1005);
    expect([ports.capacity, ports.acquire(), ports.acquire(), ports.acquire(), ports.used]).toEqual([3, 1000, 1002, 1004, 3]);
    ports.release(1002);
    expect(ports.acquire()).toBe(1002);
  });

  it('does not hand a released port out again while other pairs are free', () => {
    const ports = new PortAllocator(2000, 2007);
    expect(ports.acquire()).toBe(2000);
    ports.release(2000);
    expect([ports.acquire(), ports.acquire(), ports.acquire(), ports.acquire()]).toEqual([2002, 2004, 2006, 2000]);
  });

  it('starts an odd lower bound at the next even port, and leaves out an even upper bound whose RTCP port would be past the range', () => {
    const ports = new PortAllocator(3001, 3006);
    expect([ports.min, ports.max, ports.capacity]).toEqual([3002, 3006, 2]);
    expect([ports.acquire(), ports.acquire()]).toEqual([3002, 3004]);
    const error = thrown(() => ports.acquire());
    expect(error).toBeInstanceOf(PortRangeExhaustedError);
    expect(error).toMatchObject({ code: 'ERR_MEDIA_PORTS_EXHAUSTED', message: 'no free RTP port pair between 3002 and 3006' });
  });

  it.each([
    ['one port', 4000, 4000],
    ['an odd port and the even one after it', 4001, 4002],
  ])('holds no pair in a range of %s, and says so', (_name, min, max) => {
    const ports = new PortAllocator(min, max);
    expect(ports.capacity).toBe(0);
    expect(() => ports.acquire()).toThrow(PortRangeExhaustedError);
  });

  it('counts the pairs of the range', () => {
    expect(new PortAllocator(5000, 5009).capacity).toBe(5);
    expect(new PortAllocator(5000, 5010).capacity).toBe(5);
    expect(new PortAllocator(5001, 5010).capacity).toBe(4);
  });

  it('skips the ports it is told to, and refuses when those are all that is left', () => {
    const ports = new PortAllocator(6000, 6005);
    expect(ports.acquire(new Set([6000, 6002]))).toBe(6004);
    expect(() => ports.acquire(new Set([6000, 6002]))).toThrow(PortRangeExhaustedError);
    expect(ports.used).toBe(1);
  });

  it('takes a pair back, and releasing it twice (or one never handed out) is harmless', () => {
    const ports = new PortAllocator(7000, 7003);
    expect([ports.acquire(), ports.acquire()]).toEqual([7000, 7002]);
    ports.release(7000);
    ports.release(7000);
    ports.release(9999);
    expect(ports.used).toBe(1);
    expect(ports.acquire()).toBe(7000);
    expect(() => ports.acquire()).toThrow(PortRangeExhaustedError);
  });

  it.each([
    ['the widest range', 1, 65535, 2],
    ['a range at the top', 65534, 65535, 65534],
    ['a range of one port', 8000, 8000, undefined],
  ])('accepts %s', (_name, min, max, first) => {
    const ports = new PortAllocator(min, max);
    expect(ports.max).toBe(max);
    if (first === undefined) expect(ports.capacity).toBe(0);
    else expect(ports.acquire()).toBe(first);
  });

  it.each([
    ['a lower bound of 0', 0, 100],
    ['a negative lower bound', -2, 100],
    ['an upper bound past 65535', 60000, 65536],
    ['a lower bound above the upper', 9002, 9000],
    ['a fractional lower bound', 1000.5, 2000],
    ['a fractional upper bound', 1000, 2000.5],
    ['NaN', Number.NaN, 2000],
    ['an infinite upper bound', 1000, Number.POSITIVE_INFINITY],
  ])('refuses %s with InvalidPortRangeError', (_name, min, max) => {
    const error = thrown(() => new PortAllocator(min, max));
    expect(error).toBeInstanceOf(InvalidPortRangeError);
    expect(error).toMatchObject({ code: 'ERR_MEDIA_PORT_RANGE_INVALID', message: `RTP port range ${min}..${max} is not valid`, min, max });
  });
});

/** A datagram a plain socket received, with where it came from. */
interface Received {
  data: Buffer;
  from: RemoteInfo;
}

/** A plain RTP/RTCP peer on 127.0.0.1: an even port and the next, recording what arrives. */
interface Peer {
  rtpPort: number;
  rtcpPort: number;
  rtp: Received[];
  rtcp: Received[];
  /** Sends from the peer's RTP port (one socket, so datagrams arrive in the order sent). */
  send(data: Uint8Array, port: number): void;
}

function bound(socket: Socket, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/** Whether a fresh socket (no address reuse) can bind `port` on 127.0.0.1 now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** Waits until both ports of a pair can be bound again (their sockets are closed). */
async function pairFreed(port: number): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!((await bindable(port)) && (await bindable(port + 1)))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ports ${port} and ${port + 1} to be free`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** An RTP packet of `length` bytes with this sequence number (a buffer of its own). */
function rtpPacket(sequence: number, length = 12 + 20): Uint8Array {
  const packet = new Uint8Array(length);
  writeRtpHeader(packet, false, 0, sequence, sequence * 160, 0x5150);
  for (let i = 12; i < length; i++) packet[i] = i;
  return packet;
}

/** A receiver report with SDES, as a peer sends it. */
const report = buildRtcp({ ssrc: 0xabcd, reports: [], cname: 'peer@127.0.0.1' });
const expectedReport = parseRtcp(report)!;
/** A datagram that says it is RTCP (type 201) but whose length runs past its end. */
const brokenRtcp = Uint8Array.from([0x80, 201, 0, 9, 0, 0, 0, 0]);
/** A name the resolver refuses at once, without asking a server: longer than a host name may be. */
const unresolvable = 'a'.repeat(300);

describe('RtpSession', () => {
  const ports = workerPorts(24);
  const sockets: Socket[] = [];
  const sessions: RtpSession[] = [];

  afterEach(() => {
    for (const session of sessions.splice(0)) session.close();
    for (const socket of sockets.splice(0)) socket.close();
  });

  async function open(rtcpMux?: boolean): Promise<RtpSession> {
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1', ...(rtcpMux === undefined ? {} : { rtcpMux }) });
    sessions.push(session);
    return session;
  }

  function socket(reuseAddr = false): Socket {
    const created = createSocket({ type: 'udp4', reuseAddr });
    sockets.push(created);
    return created;
  }

  async function openPeer(): Promise<Peer> {
    const rtpPort = evenBlock(2);
    const rtpSocket = socket();
    const rtcpSocket = socket();
    await bound(rtpSocket, rtpPort);
    await bound(rtcpSocket, rtpPort + 1);
    const peer: Peer = {
      rtpPort,
      rtcpPort: rtpPort + 1,
      rtp: [],
      rtcp: [],
      send: (data, port) => rtpSocket.send(Buffer.from(data), port, '127.0.0.1'),
    };
    rtpSocket.on('message', (data, from) => peer.rtp.push({ data, from }));
    rtcpSocket.on('message', (data, from) => peer.rtcp.push({ data, from }));
    return peer;
  }

  /** What a session hands out: RTP sequence numbers to the receiver, RTCP reports, malformed datagrams, errors. */
  function observe(session: RtpSession): { sequences: number[]; reports: RtcpReport[]; malformed: Buffer[]; errors: Error[] } {
    const seen = { sequences: [] as number[], reports: [] as RtcpReport[], malformed: [] as Buffer[], errors: [] as Error[] };
    session.setReceiver((header) => seen.sequences.push(header.sequence));
    session.on('rtcp', (received) => seen.reports.push(received));
    session.on('malformed', (data) => seen.malformed.push(Buffer.from(data)));
    session.on('error', (error) => seen.errors.push(error));
    return seen;
  }

  describe('opening', () => {
    it('binds an even RTP port of the range and RTCP on the next, on the address given', async () => {
      const session = await open();
      expect(session.localPort % 2).toBe(0);
      expect(session.localPort).toBeGreaterThanOrEqual(ports.min);
      expect(session.localPort + 1).toBeLessThanOrEqual(ports.max);
      expect([session.localRtcpPort, session.localAddress, session.family, session.remote]).toEqual([session.localPort + 1, '127.0.0.1', 'IPv4', undefined]);
      expect([await bindable(session.localPort), await bindable(session.localRtcpPort)]).toEqual([false, false]);
    });

    it('opens IPv6 sockets on an IPv6 address, and carries packets over them', async () => {
      const session = await RtpSession.open({ ports, bindAddress: '::1' });
      sessions.push(session);
      expect([session.localAddress, session.family]).toEqual(['::1', 'IPv6']);
      const received: number[] = [];
      session.setReceiver((header) => received.push(header.sequence));
      const peer = createSocket('udp6');
      sockets.push(peer);
      const packet = new Uint8Array(12 + 160);
      writeRtpHeader(packet, false, 0, 42, 0, 7);
      peer.send(packet, session.localPort, '::1');
      await waitFor(() => received.length === 1, 2000, 'a packet over IPv6');
      expect(received).toEqual([42]);
    });

    it('skips a pair whose RTP or RTCP port another program holds, even one that allows address reuse', async () => {
      const base = evenBlock(8);
      const range = new PortAllocator(base, base + 7);
      await bound(socket(true), base);
      await bound(socket(true), base + 3);
      const session = await RtpSession.open({ ports: range, bindAddress: '127.0.0.1' });
      sessions.push(session);
      expect(session.localPort).toBe(base + 4);
      expect(range.used).toBe(1);
    });

    it('skips a pair the system refuses to bind (EACCES, a privileged port), as it skips one in use', async () => {
      const base = evenBlock(4);
      const range = new PortAllocator(base, base + 3);
      const realBind = Socket.prototype.bind;
      const attempts: number[] = [];
      // The tests run as root, whom no port is refused: the kernel's answer to anyone else is made here.
      const refuse = jest.spyOn(Socket.prototype, 'bind').mockImplementation(function (this: Socket, ...args: unknown[]) {
        attempts.push(args[0] as number);
        if (args[0] !== base) return realBind.apply(this, args as Parameters<Socket['bind']>);
        const error = Object.assign(new Error(`bind EACCES 127.0.0.1:${base}`), { code: 'EACCES', errno: -13, syscall: 'bind' });
        process.nextTick(() => this.emit('error', error));
        return this;
      });
      try {
        const session = await RtpSession.open({ ports: range, bindAddress: '127.0.0.1' });
        sessions.push(session);
        expect([session.localPort, session.localRtcpPort]).toEqual([base + 2, base + 3]);
      } finally {
        refuse.mockRestore();
      }
      expect(attempts).toEqual([base, base + 2, base + 3]);
      expect(range.used).toBe(1);
    });

    it('throws RtpSocketError with the cause for a bind address that cannot be used, and gives the port back', async () => {
      const used = ports.used;
      let error: unknown;
      try {
        sessions.push(await RtpSession.open({ ports, bindAddress: unresolvable }));
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(RtpSocketError);
      const cause = (error as RtpSocketError).cause as NodeJS.ErrnoException;
      // Node's own error (of another realm than the test's Error): the lookup refused the name.
      expect(cause).toMatchObject({ syscall: 'getaddrinfo', hostname: unresolvable });
      expect(error).toMatchObject({ code: 'ERR_MEDIA_SOCKET', message: expect.stringMatching(new RegExp(`^cannot bind RTP on ${unresolvable}:\\d+: `)) as unknown });
      expect((error as Error).message.endsWith(`: ${cause.message}`)).toBe(true);
      expect(ports.used).toBe(used);
    });
  });

  describe('sending', () => {
    it('sends length bytes of the buffer from its RTP port to the remote RTP port', async () => {
      const [session, peer] = [await open(), await openPeer()];
      session.setRemote('127.0.0.1', peer.rtpPort);
      expect(session.remote).toEqual({ address: '127.0.0.1', rtpPort: peer.rtpPort, rtcpPort: peer.rtcpPort });
      const packet = rtpPacket(7, 40);
      session.sendRtp(packet, 30);
      await waitFor(() => peer.rtp.length === 1, 2000, 'the RTP packet');
      expect(peer.rtp[0]!.data).toEqual(Buffer.from(packet.subarray(0, 30)));
      expect(peer.rtp[0]!.from).toMatchObject({ address: '127.0.0.1', port: session.localPort });
    });

    it('sends RTCP from its RTCP port to the remote RTCP port (the RTP port + 1 unless given), and with rtcp-mux from RTP port to RTP port', async () => {
      const [session, peer] = [await open(), await openPeer()];
      session.setRemote('127.0.0.1', peer.rtpPort);
      session.sendRtcp(report);
      await waitFor(() => peer.rtcp.length === 1, 2000, 'RTCP on the RTCP port');
      expect(peer.rtcp[0]!.data).toEqual(Buffer.from(report));
      expect(peer.rtcp[0]!.from.port).toBe(session.localRtcpPort);

      session.setRemote('127.0.0.1', peer.rtpPort, peer.rtcpPort, true);
      session.sendRtcp(report);
      await waitFor(() => peer.rtp.length === 1, 2000, 'RTCP on the RTP port');
      expect(peer.rtp[0]!.data).toEqual(Buffer.from(report));
      expect(peer.rtp[0]!.from.port).toBe(session.localPort);
      expect(peer.rtcp).toHaveLength(1);
    });

    it('resolves a remote given by host name', async () => {
      const [session, peer] = [await open(), await openPeer()];
      session.setRemote('localhost', peer.rtpPort);
      session.sendRtp(rtpPacket(9), 32);
      session.sendRtcp(report);
      await waitFor(() => peer.rtp.length === 1 && peer.rtcp.length === 1, 2000, 'RTP and RTCP sent to localhost');
      expect(peer.rtp[0]!.data).toEqual(Buffer.from(rtpPacket(9)));
    });

    it('sends nothing, and throws nothing, without a remote, to a remote port 0 (a stream turned off) or after close', async () => {
      const [session, peer] = [await open(), await openPeer()];
      const packet = rtpPacket(1);
      expect(() => session.sendRtp(packet, packet.length)).not.toThrow();
      expect(() => session.sendRtcp(report)).not.toThrow();
      session.setRemote('127.0.0.1', 0);
      expect(() => session.sendRtp(packet, packet.length)).not.toThrow();
      expect(() => session.sendRtcp(report)).not.toThrow();
      session.setRemote('127.0.0.1', peer.rtpPort);
      session.close();
      expect(() => session.sendRtp(packet, packet.length)).not.toThrow();
      expect(() => session.sendRtcp(report)).not.toThrow();
    });

    it('sends no RTCP to a remote whose RTP port is 0, even with an RTCP port given', async () => {
      const [session, peer] = [await open(), await openPeer()];
      session.setRemote('127.0.0.1', 0, peer.rtcpPort);
      session.sendRtcp(report);
      // Then one that goes out, on the same path: the first to arrive must be this one.
      const next = buildRtcp({ ssrc: 0x5150, reports: [], cname: 'next' });
      session.setRemote('127.0.0.1', peer.rtpPort, peer.rtcpPort);
      session.sendRtcp(next);
      await waitFor(() => peer.rtcp.length >= 1, 2000, 'the RTCP packet sent to a real port');
      expect(peer.rtcp.map((received) => received.data)).toEqual([Buffer.from(next)]);
    });

    it('reports a remote that cannot be resolved as an error event, for RTP and for RTCP', async () => {
      const session = await open();
      const seen = observe(session);
      session.setRemote(unresolvable, 5004);
      session.sendRtp(rtpPacket(1), 32);
      await waitFor(() => seen.errors.length === 1, 2000, 'the error of the RTP socket');
      session.sendRtcp(report);
      await waitFor(() => seen.errors.length === 2, 2000, 'the error of the RTCP socket');
      expect(seen.errors).toEqual([expect.objectContaining({ syscall: 'getaddrinfo', hostname: unresolvable }), expect.objectContaining({ syscall: 'getaddrinfo', hostname: unresolvable })]);
    });
  });

  describe('receiving', () => {
    it('takes RTCP on its RTCP port, and on its RTP port too (rtcp-mux) by default, without handing it to the receiver', async () => {
      const [session, peer] = [await open(), await openPeer()];
      const seen = observe(session);
      peer.send(report, session.localRtcpPort);
      await waitFor(() => seen.reports.length === 1, 2000, 'RTCP on the RTCP port');
      peer.send(report, session.localPort);
      peer.send(rtpPacket(5), session.localPort);
      await waitFor(() => seen.reports.length === 2 && seen.sequences.length === 1, 2000, 'RTCP and RTP on the RTP port');
      expect(seen.reports).toEqual([expectedReport, expectedReport]);
      expect(seen.sequences).toEqual([5]);
      expect(seen.malformed).toEqual([]);
    });

    it('without a receiver, hands RTP packets to rtp listeners only, and reports nothing', async () => {
      const [session, peer] = [await open(), await openPeer()];
      const original = SafeEmitter.unhandled;
      const unhandled: unknown[] = [];
      const listenerErrors: unknown[] = [];
      SafeEmitter.unhandled = (error) => unhandled.push(error);
      try {
        const observed: number[] = [];
        session.on('rtp', (header) => observed.push(header.sequence));
        session.on('listenerError', (error) => listenerErrors.push(error));
        peer.send(rtpPacket(4), session.localPort);
        await waitFor(() => observed.length === 1, 2000, 'the RTP packet');
        expect([observed, unhandled, listenerErrors]).toEqual([[4], [], []]);
      } finally {
        SafeEmitter.unhandled = original;
      }
    });

    it('drops RTCP on its RTP port when opened with rtcpMux false, and still takes it on its RTCP port', async () => {
      const [session, peer] = [await open(false), await openPeer()];
      const seen = observe(session);
      peer.send(report, session.localPort);
      peer.send(rtpPacket(6), session.localPort);
      await waitFor(() => seen.sequences.length === 1, 2000, 'the RTP packet sent after the RTCP one');
      expect([seen.reports, seen.malformed, seen.sequences]).toEqual([[], [], [6]]);
      peer.send(report, session.localRtcpPort);
      await waitFor(() => seen.reports.length === 1, 2000, 'RTCP on the RTCP port');
      expect(seen.reports).toEqual([expectedReport]);
    });

    it('reports datagrams that are neither RTP nor RTCP as malformed, on either port, and goes on receiving', async () => {
      const [session, peer] = [await open(), await openPeer()];
      const seen = observe(session);
      const short = Uint8Array.from([0x80, 0, 0, 1]);
      peer.send(short, session.localPort);
      peer.send(brokenRtcp, session.localPort);
      peer.send(rtpPacket(8), session.localPort);
      await waitFor(() => seen.sequences.length === 1, 2000, 'the RTP packet after the malformed ones');
      expect(seen.malformed).toEqual([Buffer.from(short), Buffer.from(brokenRtcp)]);
      peer.send(brokenRtcp, session.localRtcpPort);
      peer.send(report, session.localRtcpPort);
      await waitFor(() => seen.reports.length === 1, 2000, 'the RTCP packet after the malformed one');
      expect(seen.malformed).toEqual([Buffer.from(short), Buffer.from(brokenRtcp), Buffer.from(brokenRtcp)]);
      expect(seen.sequences).toEqual([8]);
    });
  });

  describe('closing', () => {
    it('frees both ports at once, and gives the pair back to the range', async () => {
      const session = await open();
      const used = ports.used;
      session.close();
      expect(ports.used).toBe(used - 1);
      await pairFreed(session.localPort);
    });

    it('frees both ports when a last RTCP packet has nowhere to go', async () => {
      const session = await open();
      session.close(report);
      await pairFreed(session.localPort);
    });

    it('sends the last RTCP packet (the BYE) before closing, even to a remote that needs a lookup, and a second close sends nothing', async () => {
      const [session, peer] = [await open(), await openPeer()];
      const bye = buildRtcp({ ssrc: 1, reports: [], cname: 'me', bye: 'done' });
      session.setRemote('localhost', peer.rtpPort);
      session.close(bye);
      expect(() => session.close(bye)).not.toThrow();
      await waitFor(() => peer.rtcp.length === 1, 2000, 'the BYE');
      expect(peer.rtcp[0]!.data).toEqual(Buffer.from(bye));
      expect(peer.rtcp[0]!.from.port).toBe(session.localRtcpPort);
      await pairFreed(session.localPort);
    });

    it('sends the BYE over rtcp-mux to the RTP port, then frees the ports', async () => {
      const [session, peer] = [await open(), await openPeer()];
      const bye = buildRtcp({ ssrc: 2, reports: [], cname: 'me', bye: 'done' });
      session.setRemote('127.0.0.1', peer.rtpPort, peer.rtcpPort, true);
      session.close(bye);
      await waitFor(() => peer.rtp.length === 1, 2000, 'the BYE');
      expect(peer.rtp[0]!.data).toEqual(Buffer.from(bye));
      await pairFreed(session.localPort);
    });

    it('fires no event and calls no receiver after close', async () => {
      const [session, peer] = [await open(), await openPeer()];
      const seen = observe(session);
      session.close();
      await pairFreed(session.localPort);
      // The ports are free again: a socket of the test takes the RTP port and shows what still arrives.
      const probe = socket();
      const arrived: Buffer[] = [];
      probe.on('message', (data) => arrived.push(data));
      await bound(probe, session.localPort);
      peer.send(rtpPacket(3), session.localPort);
      await waitFor(() => arrived.length === 1, 2000, 'the packet at the probe');
      expect(seen).toEqual({ sequences: [], reports: [], malformed: [], errors: [] });
    });
  });
});
