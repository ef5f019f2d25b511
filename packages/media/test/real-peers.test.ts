import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { aLawDecode, AudioStream, PCMA, PCMU, PortAllocator, readWav, RtpSession, VirtualAudioProvider, writeWav } from '@sip-endpoint/media';
import { peerAvailable, startPeer } from './support/peers';
import { readPcapUdp } from './support/pcap';
import { concat, dominantFrequency, sineSnrDb } from './support/signal';
import { sleep } from './support/engines';

const ports = new PortAllocator(41400, 41499);
const PCAP = '/usr/share/sip-tester/g711a.pcap';

const describeIf = (available: boolean) => (available ? describe : describe.skip);

describeIf(peerAvailable('sipp'))('against sipp', () => {
  it('sipp -rtp_echo returns our PCMU stream and we decode it', async () => {
    const echoPort = 41490;
    const sipp = await startPeer('sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', '41488', '-mp', String(echoPort), '-rtp_echo', '-nostdin', '-timeout', '30s']);
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
      await sleep(1500);
      const stats = stream.stats();
      expect(stats.received.packets).toBeGreaterThan(50);
      const audio = concat(played).subarray(4000, 10000);
      expect(Math.abs(dominantFrequency(audio, 8000) - 1200)).toBeLessThanOrEqual(10);
      expect(sineSnrDb(audio, 8000, 1200)).toBeGreaterThan(30);
    } finally {
      stream.close();
      await sipp.stop();
    }
  });
});

describeIf(peerAvailable('sipp') && (process.env['CI'] === 'true' || existsSync(PCAP)))('the A-law stream of sipp\'s g711a.pcap', () => {
  it('plays through the jitter buffer into a WAV without gaps', async () => {
    const datagrams = readPcapUdp(PCAP).filter((d) => d.payload.length > 12);
    expect(datagrams.length).toBeGreaterThan(200);
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const played: Int16Array[] = [];
    const stream = new AudioStream({
      session,
      codec: PCMA,
      payloadType: 8,
      ptimeMs: 30,
      direction: 'recvonly',
      remote: { address: '127.0.0.1', rtpPort: 9 },
      onPlayout: (frame, length) => played.push(frame.slice(0, length)),
    });
    const sender = createSocket('udp4');
    stream.start();
    // Replay the captured RTP with its original timing.
    const start = performance.now();
    for (const datagram of datagrams) {
      const wait = datagram.timeMs - (performance.now() - start);
      if (wait > 1) await sleep(wait);
      sender.send(datagram.payload, stream.localPort, '127.0.0.1');
    }
    await sleep(400);
    const stats = stream.stats();
    stream.close();
    sender.close();

    expect(stats.received.packets).toBe(datagrams.length);
    expect(stats.jitterBuffer).toMatchObject({ lost: 0, late: 0, underruns: expect.any(Number) });
    // Every payload, decoded directly, appears once and in order in what was played: no gap.
    const direct = concat(
      datagrams.map((d) => {
        const out = new Int16Array(d.payload.length - 12);
        aLawDecode(d.payload.subarray(12), out);
        return out;
      }),
    );
    const output = concat(played);
    const first = direct.findIndex((s) => s !== direct[0]);
    let at = -1;
    for (let i = 0; i + direct.length <= output.length && at < 0; i++) {
      let ok = true;
      for (let k = first; k < first + 64 && ok; k++) ok = output[i + k] === direct[k];
      if (ok) at = i;
    }
    expect(at).toBeGreaterThanOrEqual(0);
    const segment = output.subarray(at, at + direct.length);
    let mismatches = 0;
    for (let i = 0; i < direct.length; i++) if (segment[i] !== direct[i]) mismatches++;
    expect(mismatches).toBe(0);

    const dir = mkdtempSync(join(tmpdir(), 'sep-media-'));
    await writeWav(join(dir, 'g711a.wav'), { sampleRate: 8000, channels: 1, samples: segment });
    const wav = await readWav(join(dir, 'g711a.wav'));
    expect(wav.samples.length).toBe(direct.length);
  }, 20000);
});
