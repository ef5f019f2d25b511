// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { createSocket, type Socket } from 'node:dgram';
import { AudioStream, PCMU, PortAllocator, RtpSession, writeRtpHeader } from '@sip-endpoint/media';
import { testPorts, waitFor } from '@sip-endpoint/test-support';

/**
 * Sends 100 PCMU packets of 20 ms to `port`; with `lateEvery`, each such packet goes 600 ms after
 * its time, past the jitter buffer's longest delay, so the stream discards it although it arrived.
 */
async function send(socket: Socket, port: number, lateEvery: number | undefined): Promise<void> {
  const payload = Buffer.alloc(12 + 160, 0xff);
  const sends: Promise<void>[] = [];
  for (let i = 0; i < 100; i++) {
    const packet = Buffer.from(payload);
    writeRtpHeader(packet, i === 0, 0, i, i * 160, 0x1234);
    const delay = i * 20 + (lateEvery && i % lateEvery === lateEvery - 1 ? 600 : 0);
    sends.push(new Promise((resolve) => setTimeout(() => socket.send(packet, port, '127.0.0.1', () => resolve()), delay)));
  }
  await Promise.all(sends);
}

async function mosAfter(lateEvery: number | undefined): Promise<{ mos: number; late: number; networkLost: number }> {
  const first = testPorts(4);
  const session = await RtpSession.open({ ports: new PortAllocator(first, first + 3), bindAddress: '127.0.0.1' });
  const sender = createSocket('udp4');
  await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
  const stream = new AudioStream({ session, codec: PCMU, payloadType: 0, remote: { address: '127.0.0.1', rtpPort: sender.address().port }, rtcpIntervalS: 1, detectInbandDtmf: false });
  stream.start();
  try {
    await send(sender, session.localPort, lateEvery);
    // The report after the last packet counts what the stream received and discarded.
    const reports = stream.stats().vq;
    await waitFor(() => stream.stats().vq !== reports && stream.stats().received.packets === 100, 5000, 'a voice-quality report after every packet');
    const stats = stream.stats();
    return { mos: stats.vq.mos, late: stats.jitterBuffer.late, networkLost: stats.received.lost };
  } finally {
    stream.close();
    sender.close();
  }
}

describe('voice quality counts what the listener misses', () => {
  it('frames the jitter buffer discards as too late lower the MOS, although no packet was lost on the way', async () => {
    const clean = await mosAfter(undefined);
    const late = await mosAfter(5);
    expect(clean).toMatchObject({ late: 0, networkLost: 0 });
    expect(clean.mos).toBeGreaterThan(4.2);
    expect(late.networkLost).toBe(0);
    expect(late.late).toBeGreaterThanOrEqual(15);
    // One packet in five discarded: about 20 % loss for the listener, a poor call.
    expect(late.mos).toBeLessThan(clean.mos - 1);
  }, 20000);
});
