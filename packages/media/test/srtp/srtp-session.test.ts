import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { buildRtcp, createRtpHeader, parseRtpHeader, RtpSession, SrtpContext, writeRtpHeader, type RtcpReport, type SrtpDropReason } from '@sip-endpoint/media';
import { waitFor } from '@sip-endpoint/test-support';
import { workerPorts } from '../support/ports';

const ports = workerPorts(12);
const material = (suite: 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' = 'AES_CM_128_HMAC_SHA1_80') => ({ suite, masterKey: randomBytes(16), masterSalt: randomBytes(14) });

/** A plain UDP socket between two sessions: it sees the bytes on the wire and passes them on. */
async function wire(): Promise<{ socket: Socket; port: number; seen: Buffer[] }> {
  const socket = createSocket('udp4');
  const seen: Buffer[] = [];
  socket.on('message', (data) => seen.push(Buffer.from(data)));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, seen };
}

describe('RtpSession with SRTP', () => {
  it.each([false, true])('sends RTP and RTCP protected (rtcp-mux %s) and reads them back clear; the caller\'s buffer stays clear', async (mux) => {
    const aliceKey = material();
    const bobKey = material('AES_CM_128_HMAC_SHA1_32');
    const alice = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const bob = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const tap = await wire();
    try {
      alice.setSrtp({ send: new SrtpContext(aliceKey), receive: new SrtpContext(bobKey) });
      bob.setSrtp({ send: new SrtpContext(bobKey), receive: new SrtpContext(aliceKey) });
      alice.setRemote('127.0.0.1', tap.port, tap.port, mux);
      bob.setRemote('127.0.0.1', alice.localPort, alice.localRtcpPort, mux);
      const payloads: string[] = [];
      const reports: RtcpReport[] = [];
      bob.setReceiver((header, data) => payloads.push(Buffer.from(data.subarray(header.payloadOffset, header.payloadOffset + header.payloadLength)).toString('hex')));
      bob.on('rtcp', (report) => reports.push(report));
      const clear = new Uint8Array(12 + 160);
      for (let sequence = 0; sequence < 5; sequence++) {
        writeRtpHeader(clear, false, 0, 65534 + sequence, sequence * 160, 0x1234);
        clear.fill(sequence + 1, 12);
        alice.sendRtp(clear, clear.length);
        expect(clear[12]).toBe(sequence + 1);
      }
      alice.sendRtcp(buildRtcp({ ssrc: 0x1234, cname: 'alice@test', reports: [] }));
      await waitFor(() => tap.seen.length === 6, 2000, 'six datagrams on the wire');
      // On the wire: the header clear, the payload not, a 10-byte tag; SRTCP with E flag and index.
      const header = createRtpHeader();
      for (const [n, datagram] of tap.seen.slice(0, 5).entries()) {
        expect(datagram.length).toBe(12 + 160 + 10);
        expect(parseRtpHeader(datagram, datagram.length - 10, header)).toBe(true);
        expect(header.sequence).toBe((65534 + n) & 0xffff);
        expect(datagram.subarray(12, 172).equals(Buffer.alloc(160, n + 1))).toBe(false);
      }
      const srtcp = tap.seen[5]!;
      expect(srtcp.readUInt32BE(srtcp.length - 14)).toBe(0x80000000);
      for (const datagram of tap.seen) tap.socket.send(datagram, mux ? bob.localPort : datagram === srtcp ? bob.localRtcpPort : bob.localPort, '127.0.0.1');
      await waitFor(() => payloads.length === 5 && reports.length === 1, 2000, 'five packets and a report at bob');
      expect(payloads).toEqual([1, 2, 3, 4, 5].map((n) => Buffer.alloc(160, n).toString('hex')));
      expect(reports[0]).toMatchObject({ ssrc: 0x1234, cname: 'alice@test' });
      expect(bob.srtp?.receive.counters).toMatchObject({ unprotectedRtp: 5, unprotectedRtcp: 1, authenticationFailures: 0 });
    } finally {
      tap.socket.close();
      alice.close();
      bob.close();
    }
  });

  it('drops forged, replayed and clear packets with a counter and an srtpDropped report, and goes on receiving', async () => {
    const key = material();
    const bob = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const sender = new SrtpContext(key);
    const socket = createSocket('udp4');
    try {
      bob.setSrtp({ send: new SrtpContext(material()), receive: new SrtpContext(key) });
      const drops: SrtpDropReason[] = [];
      const received: number[] = [];
      bob.on('srtpDropped', (reason) => drops.push(reason));
      bob.setReceiver((header) => received.push(header.sequence));
      const packet = (sequence: number): Buffer => {
        const bytes = Buffer.alloc(12 + 160 + 10);
        writeRtpHeader(bytes, false, 0, sequence, sequence * 160, 0x99);
        const length = sender.protectRtp(bytes, 172);
        return bytes.subarray(0, length);
      };
      const first = packet(1);
      const forged = Buffer.from(packet(2));
      forged[20]! ^= 0xff;
      const clear = Buffer.alloc(172);
      writeRtpHeader(clear, false, 0, 3, 480, 0x99);
      for (const datagram of [first, first, forged, clear, packet(4)]) socket.send(datagram, bob.localPort, '127.0.0.1');
      await waitFor(() => received.includes(4), 2000, 'the good packet after the bad ones');
      expect(received).toEqual([1, 4]);
      expect(bob.srtp?.receive.counters).toMatchObject({ unprotectedRtp: 2, replayed: 1, authenticationFailures: 2 });
      // One report for the burst: the first drop; the counters tell the rest.
      expect(drops).toEqual(['replayed']);
    } finally {
      socket.close();
      bob.close();
    }
  });

  it('never sends in clear while SRTP is on: an RTCP compound too large to protect is not sent', async () => {
    const alice = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const tap = await wire();
    try {
      alice.setSrtp({ send: new SrtpContext(material()), receive: new SrtpContext(material()) });
      alice.setRemote('127.0.0.1', tap.port, tap.port, true);
      const huge = new Uint8Array(1600);
      huge.set([0x80, 201, 0x01, 0x8f]);
      alice.sendRtcp(huge);
      alice.sendRtcp(buildRtcp({ ssrc: 5, cname: 'x', reports: [] }));
      await waitFor(() => tap.seen.length === 1, 2000, 'the small report');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(tap.seen).toHaveLength(1);
      expect(tap.seen[0]!.readUInt32BE(tap.seen[0]!.length - 14)).toBe(0x80000000);
    } finally {
      tap.socket.close();
      alice.close();
    }
  });

  it('sends in clear again once SRTP is turned off', async () => {
    const alice = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const tap = await wire();
    try {
      alice.setSrtp({ send: new SrtpContext(material()), receive: new SrtpContext(material()) });
      alice.setRemote('127.0.0.1', tap.port);
      const clear = new Uint8Array(12 + 160).fill(7);
      writeRtpHeader(clear, false, 0, 1, 160, 5);
      alice.sendRtp(clear, clear.length);
      alice.setSrtp(undefined);
      alice.sendRtp(clear, clear.length);
      await waitFor(() => tap.seen.length === 2, 2000, 'two datagrams');
      expect(tap.seen.map((d) => d.length)).toEqual([182, 172]);
      expect(tap.seen[1]!.equals(Buffer.from(clear))).toBe(true);
    } finally {
      tap.socket.close();
      alice.close();
    }
  });
});

describe('RtpSession shares its RTP port with STUN and DTLS (RFC 7983)', () => {
  it('hands STUN (first byte 0-3) and DTLS (20-63) datagrams to their handlers with the sender, RTP to the receiver, the rest as malformed; sendDatagram answers from the RTP port', async () => {
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const peer = await wire();
    try {
      const seen: string[] = [];
      session.setReceiver((header) => seen.push(`rtp ${header.sequence}`));
      session.on('malformed', (data) => seen.push(`malformed ${data[0]}`));
      session.setDatagramHandler('stun', (data, from) => {
        seen.push(`stun ${data[0]} from ${from.port === peer.port}`);
        session.sendDatagram(Buffer.from('stun answer'), from);
      });
      session.setDatagramHandler('dtls', (data) => seen.push(`dtls ${data[0]}`));
      const rtp = new Uint8Array(12 + 20);
      writeRtpHeader(rtp, false, 0, 9, 0, 1);
      for (const datagram of [Buffer.from([0x00, 0x01, 0, 0]), Buffer.from([3]), Buffer.from([22, 0xfe, 0xfd]), Buffer.from([20]), Buffer.from([63]), Buffer.from([64]), Buffer.from([19]), rtp, Buffer.alloc(0)]) {
        peer.socket.send(datagram, session.localPort, '127.0.0.1');
      }
      await waitFor(() => seen.length === 9, 2000, 'nine datagrams sorted');
      expect(seen).toEqual(['stun 0 from true', 'stun 3 from true', 'dtls 22', 'dtls 20', 'dtls 63', 'malformed 64', 'malformed 19', 'rtp 9', 'malformed undefined']);
      await waitFor(() => peer.seen.length === 2, 2000, 'the two answers');
      expect(peer.seen.map((data) => data.toString())).toEqual(['stun answer', 'stun answer']);
      // Without a handler, such a datagram is malformed again; a handler that throws is reported and the socket goes on.
      session.setDatagramHandler('dtls', undefined);
      session.setDatagramHandler('stun', () => {
        throw new Error('broken handler');
      });
      const errors: unknown[] = [];
      session.on('listenerError', (error) => errors.push(error));
      peer.socket.send(Buffer.from([22]), session.localPort, '127.0.0.1');
      peer.socket.send(Buffer.from([1]), session.localPort, '127.0.0.1');
      peer.socket.send(rtp, session.localPort, '127.0.0.1');
      await waitFor(() => seen.length === 11, 2000, 'two more');
      expect(seen.slice(9)).toEqual(['malformed 22', 'rtp 9']);
      expect(errors).toMatchObject([{ code: 'ERR_LISTENER_THREW', event: 'stun' }]);
    } finally {
      peer.socket.close();
      session.close();
    }
  });
});

describe('RtpSession waiting for keys (awaitSrtp, as during a DTLS-SRTP handshake)', () => {
  it('sends no RTP or RTCP and takes none in until setSrtp; STUN and DTLS still pass', async () => {
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const peer = await wire();
    try {
      session.setRemote('127.0.0.1', peer.port, peer.port, true);
      const seen: string[] = [];
      session.setReceiver((header) => seen.push(`rtp ${header.sequence}`));
      session.on('rtcp', () => seen.push('rtcp'));
      session.setDatagramHandler('dtls', (data) => seen.push(`dtls ${data[0]}`));
      const rtp = new Uint8Array(12 + 20);
      writeRtpHeader(rtp, false, 0, 9, 0, 1);
      const rtcp = buildRtcp({ ssrc: 1, cname: 'x', reports: [] });
      session.awaitSrtp();
      expect(session.srtpPending).toBe(true);
      session.sendRtp(rtp, rtp.length);
      session.sendRtcp(rtcp);
      session.sendDatagram(Buffer.from([22, 1]));
      for (const datagram of [rtp, rtcp, Buffer.from([22, 2])]) peer.socket.send(datagram, session.localPort, '127.0.0.1');
      await waitFor(() => seen.length === 1 && peer.seen.length === 1, 2000, 'the DTLS datagrams');
      // Time for anything else to have arrived either way.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(seen).toEqual(['dtls 22']);
      expect(peer.seen.map((data) => [...data])).toEqual([[22, 1]]);
      // Keys given: RTP flows (here without SRTP, which setSrtp(undefined) also ends the wait for).
      session.setSrtp(undefined);
      expect(session.srtpPending).toBe(false);
      session.sendRtp(rtp, rtp.length);
      peer.socket.send(rtp, session.localPort, '127.0.0.1');
      await waitFor(() => seen.length === 2 && peer.seen.length === 2, 2000, 'RTP both ways');
      expect(seen[1]).toBe('rtp 9');
      expect(peer.seen[1]!.length).toBe(rtp.length);
    } finally {
      peer.socket.close();
      session.close();
    }
  });
});

describe('RtpSession with RTCP keys of its own (DTLS-SRTP without rtcp-mux)', () => {
  it('protects and checks RTCP with the RTCP contexts, RTP with the others; while they are pending RTCP waits and RTP flows', async () => {
    const media = { alice: material(), bob: material() };
    const control = { alice: material(), bob: material() };
    const alice = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const bob = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    try {
      alice.setRemote('127.0.0.1', bob.localPort, bob.localRtcpPort, false);
      const rtp: number[] = [];
      const reports: RtcpReport[] = [];
      bob.setReceiver((header) => rtp.push(header.sequence));
      bob.on('rtcp', (report) => reports.push(report));
      const packet = new Uint8Array(12 + 160);
      writeRtpHeader(packet, false, 0, 1, 160, 0x1234);
      const report = buildRtcp({ ssrc: 0x1234, cname: 'alice@test', reports: [] });
      // RTCP keys still coming: RTP goes, RTCP does not (and none is taken).
      alice.setSrtp({ send: new SrtpContext(media.alice), receive: new SrtpContext(media.bob), rtcp: 'pending' });
      bob.setSrtp({ send: new SrtpContext(media.bob), receive: new SrtpContext(media.alice), rtcp: 'pending' });
      alice.sendRtp(packet, packet.length);
      alice.sendRtcp(report);
      await waitFor(() => rtp.length === 1, 2000, 'the RTP packet');
      // The RTCP keys come: RTCP is protected with them, and Bob reads it with Alice's.
      alice.setSrtp({ send: alice.srtp!.send, receive: alice.srtp!.receive, rtcp: { send: new SrtpContext(control.alice), receive: new SrtpContext(control.bob) } });
      bob.setSrtp({ send: bob.srtp!.send, receive: bob.srtp!.receive, rtcp: { send: new SrtpContext(control.bob), receive: new SrtpContext(control.alice) } });
      alice.sendRtcp(report);
      await waitFor(() => reports.length === 1, 2000, 'the report');
      expect(reports).toMatchObject([{ cname: 'alice@test' }]);
      const bobKeys = bob.srtp!.rtcp as { receive: SrtpContext };
      expect(bobKeys.receive.counters.unprotectedRtcp).toBe(1);
      expect(bob.srtp!.receive.counters.unprotectedRtcp).toBe(0);
      // RTCP protected with the RTP keys instead is refused.
      bob.setSrtp({ send: bob.srtp!.send, receive: bob.srtp!.receive, rtcp: { send: new SrtpContext(control.bob), receive: new SrtpContext(media.alice) } });
      const dropped: string[] = [];
      bob.on('srtpDropped', (reason) => dropped.push(reason));
      alice.sendRtcp(report);
      await waitFor(() => dropped.length === 1, 2000, 'the drop');
      expect(dropped).toEqual(['authentication']);
    } finally {
      alice.close();
      bob.close();
    }
  });

  it('sorts DTLS on the RTCP port to its handler, and sends from that port', async () => {
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const peer = await wire();
    try {
      const seen: { first: number; port: number }[] = [];
      session.setDatagramHandler('rtcp-dtls', (data, from) => {
        seen.push({ first: data[0]!, port: from.port });
        session.sendRtcpDatagram(Buffer.from([23, 1]), from);
      });
      peer.socket.send(Buffer.from([22, 0xfe, 0xfd]), session.localRtcpPort, '127.0.0.1');
      await waitFor(() => seen.length === 1 && peer.seen.length === 1, 2000, 'the datagram and the answer');
      expect(seen).toEqual([{ first: 22, port: peer.port }]);
      expect([...peer.seen[0]!]).toEqual([23, 1]);
      // Without a handler, it is malformed.
      session.setDatagramHandler('rtcp-dtls', undefined);
      const malformed: Buffer[] = [];
      session.on('malformed', (data) => malformed.push(data));
      peer.socket.send(Buffer.from([22]), session.localRtcpPort, '127.0.0.1');
      await waitFor(() => malformed.length === 1, 2000, 'malformed');
    } finally {
      peer.socket.close();
      session.close();
    }
  });
});
