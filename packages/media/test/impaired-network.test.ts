// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { AudioStream, PCMU, RtpSession, VirtualAudioProvider, type VqReport } from '@sip-endpoint/media';
import { waitFor } from '@sip-endpoint/test-support';
import { ImpairmentRelay } from './support/impairment-relay';
import { workerPorts } from './support/ports';
import { concat, dominantFrequency, rms } from './support/signal';

const ports = workerPorts(100);

/**
 * Alice sends a tone to Bob through a relay that drops `loss` of the packets and delays them by up
 * to `jitterMs`. `toneAt` is where in what Bob played the tone first came.
 */
async function run(loss: number, jitterMs: number): Promise<{ played: Int16Array; playedAt: number[]; toneAt: number; reports: VqReport[]; stats: ReturnType<AudioStream['stats']>; relay: ImpairmentRelay }> {
  const relay = await ImpairmentRelay.open(loss, jitterMs);
  const aliceSession = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
  const bobSession = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
  relay.forwardTo('127.0.0.1', bobSession.localPort);
  const provider = new VirtualAudioProvider({ defaults: false });
  const mic = provider.addInput({ name: 'tone' }, { kind: 'tone', frequencies: [440], levelDbfs: -10 });
  const alice = new AudioStream({ session: aliceSession, codec: PCMU, payloadType: 0, remote: { address: '127.0.0.1', rtpPort: relay.port, rtcpPort: bobSession.localRtcpPort }, input: provider.openInput(mic.id, 8000), rtcpIntervalS: 1 });
  const played: Int16Array[] = [];
  // When (performance.now()) each 20 ms frame of the output was played.
  const playedAt: number[] = [];
  let playedSamples = 0;
  let toneAt: number | undefined;
  const reports: VqReport[] = [];
  const bob = new AudioStream({
    session: bobSession,
    codec: PCMU,
    payloadType: 0,
    remote: { address: '127.0.0.1', rtpPort: aliceSession.localPort },
    rtcpIntervalS: 1,
    onPlayout: (frame, length) => {
      if (toneAt === undefined && rms(frame.subarray(0, length)) >= 1000) toneAt = playedSamples;
      played.push(frame.slice(0, length));
      for (let i = 0; i < length; i += 160) playedAt.push(performance.now());
      playedSamples += length;
    },
  });
  bob.on('vq', (report) => reports.push(report));
  alice.start();
  bob.start();
  // A call of four seconds of audio through the relay (3.8 s of it after the tone came), then measured.
  await waitFor(() => toneAt !== undefined && playedSamples >= Math.max(8000 * 4, toneAt + 8000 * 3.8), 15000, '4 s of audio played at Bob');
  const stats = bob.stats();
  alice.close();
  bob.close();
  relay.close();
  return { played: concat(played), playedAt, toneAt: toneAt ?? 0, reports, stats, relay };
}

/**
 * Stalls of this process (its event loop held up for more than 60 ms, as a loaded machine does):
 * the media clocks, the relay and the receiver all stop alike, and the buffer may run dry for
 * longer than concealment lasts. Each stall is [start, end] in performance.now() time.
 */
function watchStalls(): { stalls: Array<[number, number]>; stop: () => void } {
  const stalls: Array<[number, number]> = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last > 60) stalls.push([last, now]);
    last = now;
  }, 10);
  return { stalls, stop: () => clearInterval(timer) };
}

describe('an impaired network (5 % random loss, 40 ms of jitter)', () => {
  it('keeps the output continuous through concealment, and the MOS drops below that of a clean network', async () => {
    // Both calls at once: a stall of a loaded machine then delays the packets of both alike, and
    // only the relay's jitter sets the impaired call apart.
    const watch = watchStalls();
    const [clean, impaired] = await Promise.all([run(0, 0), run(0.05, 40)]).finally(watch.stop);

    expect(impaired.relay.dropped).toBeGreaterThan(5);
    expect(impaired.stats.jitterBuffer.lost).toBeGreaterThan(0);
    expect(impaired.stats.jitterBuffer.concealed).toBeGreaterThanOrEqual(impaired.stats.jitterBuffer.lost);
    // The buffer grew to absorb the jitter.
    expect(impaired.stats.jitterBuffer.targetDelayMs).toBeGreaterThan(clean.stats.jitterBuffer.targetDelayMs);

    // Continuous: after start-up (the first packets, then the buffer adapting to the jitter), every
    // 20 ms of 3.2 s of output carries the tone (no silent frame). Start-up is counted from the
    // tone's arrival, which a loaded machine delays. A quiet frame played within 400 ms after a
    // stall of this process is the machine's doing, not the network's, and is excused; the
    // stalls are few, so most of the output is still checked.
    const start = impaired.toneAt + 8000 * 0.55;
    const output = impaired.played.subarray(start, impaired.toneAt + 8000 * 3.75);
    expect(output.length).toBe(8000 * 3.2);
    const quiet: number[] = [];
    let excused = 0;
    for (let i = 0; i + 160 <= output.length; i += 160) {
      if (rms(output.subarray(i, i + 160)) >= 1000) continue;
      const at = impaired.playedAt[Math.floor((start + i) / 160)] ?? 0;
      if (watch.stalls.some(([from, to]) => at >= from && at <= to + 400)) excused++;
      else quiet.push(i / 8);
    }
    expect(quiet).toEqual([]);
    expect(excused).toBeLessThanOrEqual(40);
    expect(Math.abs(dominantFrequency(output, 8000) - 440)).toBeLessThanOrEqual(10);

    const cleanMos = clean.reports.at(-1)?.mos ?? 0;
    const impairedMos = impaired.reports.at(-1)?.mos ?? 5;
    expect(clean.reports.length).toBeGreaterThan(0);
    expect(impaired.reports.length).toBeGreaterThan(0);
    // 5 % random loss costs G.711 with concealment (Bpl 25.1) about 16 points of R: a MOS near
    // 3.8 (3.7 to 4.0 measured), well under the 4.4 of a clean call.
    expect(impairedMos).toBeLessThan(4.2);
    // The clean call's MOS counts what its jitter buffer threw away too (late or surplus frames).
    // A loaded machine's stalls make such frames; only a clean call they spared must score > 4.
    const cleanBuffer = clean.stats.jitterBuffer;
    if (cleanBuffer.late + cleanBuffer.dropped === 0) {
      expect(cleanMos).toBeGreaterThan(4.0);
      expect(impairedMos).toBeLessThan(cleanMos);
    } else {
      expect(watch.stalls.length).toBeGreaterThan(0);
    }
  }, 20000);
});
