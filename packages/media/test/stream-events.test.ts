import { AudioStream, PCMU, PortAllocator, RtpSession } from '@sip-endpoint/media';
import { connectPair, sleep } from './support/engines';

const ports = new PortAllocator(41700, 41799);

describe('AudioStream events and reports', () => {
  it('measures the round-trip time through RTCP both ways', async () => {
    const pair = await connectPair(PCMU, ports, { kind: 'tone', frequencies: [500] }, { kind: 'tone', frequencies: [700] }, { rtcpIntervalS: 0.3 });
    await sleep(1500);
    const rtt = pair.alice.stream.stats().rttMs;
    pair.close();
    expect(rtt).toBeDefined();
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(rtt).toBeLessThan(50);
  });

  it('raises inactivity when RTP stops arriving, and not while the stream does not expect any', async () => {
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const stream = new AudioStream({ session, codec: PCMU, payloadType: 0, remote: { address: '127.0.0.1', rtpPort: 9 }, inactivityTimeoutMs: 300 });
    let fired = 0;
    stream.on('inactivity', () => fired++);
    stream.start();
    await sleep(450);
    expect(fired).toBe(1);
    stream.setDirection('sendonly');
    await sleep(450);
    expect(fired).toBe(1);
    stream.close();
  });

  it('raises the VQ alarm when the interval MOS falls under the threshold', async () => {
    const pair = await connectPair(PCMU, ports, { kind: 'silence' }, { kind: 'silence' }, { rtcpIntervalS: 0.4, vqAlarmThreshold: 4.5 });
    const alarms: boolean[] = [];
    pair.bob.stream.on('vqAlarm', (report) => alarms.push(report.alarm));
    await sleep(1200);
    pair.close();
    // With a threshold of 4.5 even a perfect narrowband call (MOS 4.4) is under it.
    expect(alarms[0]).toBe(true);
  });

  it('tells the far end goodbye with RTCP BYE on close', async () => {
    const pair = await connectPair(PCMU, ports, { kind: 'silence' }, { kind: 'silence' });
    let bye = false;
    pair.bob.stream.on('bye', () => (bye = true));
    await sleep(200);
    pair.alice.stream.close();
    await sleep(100);
    pair.close();
    expect(bye).toBe(true);
  });

  it('refuses to work once closed, and closing twice is harmless', async () => {
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const stream = new AudioStream({ session, codec: PCMU, payloadType: 0, remote: { address: '127.0.0.1', rtpPort: 9 } });
    stream.close();
    stream.close();
    expect(() => stream.start()).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_STREAM_CLOSED' }));
    expect(() => stream.sendDtmf('1')).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_STREAM_CLOSED' }));
  });
});
