import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { aLawDecode, AudioStream, Concealer, createRtpHeader, JitterBuffer, parseRtpHeader, PCMA, PCMU, readWav, RtpSession, VirtualAudioProvider, writeWav } from '@sip-endpoint/media';
import { testPorts, waitFor } from '@sip-endpoint/test-support';
import { peerAvailable, startPeer } from './support/peers';
import { readPcapUdp } from './support/pcap';
import { workerPorts } from './support/ports';
import { concat, dominantFrequency, fractionAbove, windowSnrsDb } from './support/signal';
import { sleep } from './support/engines';

const ports = workerPorts(100);
/** sipp's own ports: SIP, and RTP echo (audio and the ports above it that sipp also opens). */
const sippPorts = testPorts(10);
const PCAP = '/usr/share/sip-tester/g711a.pcap';

const describeIf = (available: boolean) => (available ? describe : describe.skip);

describeIf(peerAvailable('sipp'))('against sipp', () => {
  it('sipp -rtp_echo returns our PCMU stream and we decode it', async () => {
    const sipPort = sippPorts;
    const echoPort = sippPorts + 2 + (sippPorts % 2);
    const sipp = await startPeer('sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', String(sipPort), '-mp', String(echoPort), '-rtp_echo', '-nostdin', '-timeout', '30s']);
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const provider = new VirtualAudioProvider({ defaults: false });
    const mic = provider.addInput({ name: 'tone' }, { kind: 'tone', frequencies: [1200], levelDbfs: -12 });
    const played: Int16Array[] = [];
    const stream = new AudioStream({
      session,
      codec: PCMU,
      payloadType: 0,
      remote: { address: '127.0.0.1', rtpPort: echoPort },
      input: provider.openInput(mic.id, 8000),
      onPlayout: (frame, length) => played.push(frame.slice(0, length)),
    });
    try {
      stream.start();
      await waitFor(() => stream.stats().received.packets > 50 && played.reduce((n, frame) => n + frame.length, 0) >= 10000, 5000, 'the echo of 10000 samples');
      const stats = stream.stats();
      expect(stats.received.packets).toBeGreaterThan(50);
      const audio = concat(played).subarray(4000, 10000);
      expect(Math.abs(dominantFrequency(audio, 8000) - 1200)).toBeLessThanOrEqual(10);
      // Most 100 ms windows clean: one stall of a loaded machine may spoil a window, a defect all.
      expect(fractionAbove(windowSnrsDb(audio, 8000, 1200), 30)).toBeGreaterThanOrEqual(0.66);
    } finally {
      stream.close();
      await sipp.stop();
    }
  });
});

describeIf(peerAvailable('sipp') && (existsSync(PCAP) || process.env['SEP_ALLOW_MISSING_PEERS'] !== '1'))('the A-law stream of sipp\'s g711a.pcap', () => {
  const datagrams = (): ReturnType<typeof readPcapUdp> => readPcapUdp(PCAP).filter((d) => d.payload.length > 12);
  const decodeDirect = (list: ReturnType<typeof readPcapUdp>): Int16Array =>
    concat(
      list.map((d) => {
        const out = new Int16Array(d.payload.length - 12);
        aLawDecode(d.payload.subarray(12), out);
        return out;
      }),
    );

  it('plays through the jitter buffer into a WAV without gaps (at the timing of the capture)', async () => {
    const list = datagrams();
    expect(list.length).toBeGreaterThan(200);
    // The capture's arrival times drive the buffer and a 30 ms playout clock, as on a quiet machine.
    const buffer = new JitterBuffer({ clockRate: 8000, frameMs: 30 });
    const concealer = new Concealer(8000);
    const header = createRtpHeader();
    const frame = new Int16Array(240);
    const played: Int16Array[] = [];
    let next = 0;
    const end = list.at(-1)!.timeMs + 500;
    for (let now = 0; now <= end; now += 30) {
      while (next < list.length && list[next]!.timeMs <= now) {
        const payload = list[next++]!.payload;
        expect(parseRtpHeader(payload, payload.length, header)).toBe(true);
        buffer.push(header.ssrc, header.sequence, header.timestamp, header.payloadType, header.marker, payload, header.payloadOffset, header.payloadLength, now);
      }
      const result = buffer.pop();
      if (result.kind === 'frame') {
        aLawDecode(result.payload, frame);
        concealer.good(frame);
        played.push(frame.slice());
      } else if (result.kind === 'lost') {
        concealer.conceal(frame);
        played.push(frame.slice());
      }
    }
    const stats = buffer.stats();
    expect(stats).toMatchObject({ received: list.length, lost: 0, late: 0, dropped: 0, duplicates: 0 });
    // Every payload appears once, in order, with nothing between: the played audio starts with
    // the whole capture, decoded.
    const direct = decodeDirect(list);
    const output = concat(played);
    expect(Array.from(output.subarray(0, direct.length))).toEqual(Array.from(direct));

    const dir = mkdtempSync(join(tmpdir(), 'sep-media-'));
    await writeWav(join(dir, 'g711a.wav'), { sampleRate: 8000, channels: 1, samples: output.subarray(0, direct.length) });
    expect((await readWav(join(dir, 'g711a.wav'))).samples.length).toBe(direct.length);
  });

  it('arrives whole over UDP, replayed in real time to an AudioStream', async () => {
    const list = datagrams();
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const stream = new AudioStream({ session, codec: PCMA, payloadType: 8, ptimeMs: 30, direction: 'recvonly', remote: { address: '127.0.0.1', rtpPort: 9 }, jitterBuffer: { minDelayMs: 120 } });
    const sender = createSocket('udp4');
    stream.start();
    const start = performance.now();
    for (const datagram of list) {
      const wait = datagram.timeMs - (performance.now() - start);
      // Pacing at the capture's timing: the wait is the replay under test.
      if (wait > 1) await sleep(wait);
      sender.send(datagram.payload, stream.localPort, '127.0.0.1');
    }
    await waitFor(() => stream.stats().received.packets >= list.length, 2000, 'every datagram of the capture');
    const stats = stream.stats();
    stream.close();
    sender.close();
    expect(stats.received.packets).toBe(list.length);
    expect(stats.received.lost).toBe(0);
    expect(stats.jitterBuffer.late).toBe(0);
  }, 20000);
});
