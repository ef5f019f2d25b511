// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { WebRtcAudioStream, type AudioInput, type AudioOutput, type AudioProcessingOptions } from '@sip-endpoint/media';
import type { AudioDevice } from '@sip-endpoint/policy';
import { rms } from '@sip-endpoint/media/testing';
import { waitFor } from '@sip-endpoint/test-support';
import { roomNoise } from '../audio/processing/signals';

// Audio processing on the WebRTC engine (libwebrtc through @roamhq/wrtc): AGC is this package's
// processor on the frames given to libwebrtc's audio source and on what it plays; DTX is
// libwebrtc's own (opus DTX, our VAD making pauses digital silence; CN for G.711). Two
// streams in one process over ICE and DTLS-SRTP on 127.0.0.1; what Bob plays is what Alice sent.

const device = (id: string, kind: 'input' | 'output'): AudioDevice => ({ id, name: id, kind });
const dbfs = (samples: ArrayLike<number>): number => 20 * Math.log10(Math.max(1e-9, rms(Int16Array.from(samples))) / 32768);

/** A microphone playing `fill`, counting the samples it gave. */
function microphone(rate: number, fill: (index: number) => number): AudioInput & { given: () => number } {
  let index = 0;
  return {
    device: device('mic', 'input'),
    sampleRate: rate,
    read: (frame, length) => {
      for (let i = 0; i < length; i++) frame[i] = fill(index++);
    },
    close: () => undefined,
    given: () => index,
  };
}

interface Pair {
  alice: WebRtcAudioStream;
  bob: WebRtcAudioStream;
  /** What Bob played of Alice, with the time each 10 ms frame came and its rate. */
  heard: { at: number; frame: Int16Array; rate: number }[];
  close: () => void;
}

async function pair(alice: { input?: AudioInput; output?: AudioOutput; processing?: AudioProcessingOptions }, bob: { input?: AudioInput; processing?: AudioProcessingOptions }, codecs: string[]): Promise<Pair> {
  const heard: { at: number; frame: Int16Array; rate: number }[] = [];
  const a = await WebRtcAudioStream.create({ ...alice, codecs });
  const b = await WebRtcAudioStream.create({ ...bob, codecs, onPlayout: (frame, length, rate) => heard.push({ at: performance.now(), frame: frame.slice(0, length), rate }) });
  const answer = await b.answer(await a.createOffer());
  await a.acceptAnswer(answer);
  a.start();
  b.start();
  await waitFor(() => a.connectionState === 'connected' && b.connectionState === 'connected', 10_000, 'both connected');
  return {
    alice: a,
    bob: b,
    heard,
    close: () => {
      a.close();
      b.close();
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything Bob played between `from` and `to` ms after `start`. */
function between(heard: Pair['heard'], start: number, from: number, to: number): number[] {
  const out: number[] = [];
  for (const { at, frame } of heard) if (at >= start + from && at < start + to) out.push(...frame);
  return out;
}

describe('audio processing on the WebRTC engine', () => {
  it('AGC: a microphone at -40 dBFS reaches Bob near -18 dBFS (+-3 dB); rxAgc brings what Bob plays there too', async () => {
    const tone = (i: number): number => Math.round(10 ** (-37 / 20) * 32767 * Math.sin((2 * Math.PI * 500 * i) / 48000));
    const call = await pair({ input: microphone(48000, tone), processing: { agc: true } }, {}, ['opus']);
    const quiet = await pair({ input: microphone(48000, tone) }, { processing: { rxAgc: true } }, ['PCMU']);
    try {
      const start = performance.now();
      await sleep(4000);
      const heard = dbfs(between(call.heard, start, 2500, 4000));
      const played = dbfs(between(quiet.heard, start, 2500, 4000));
      console.log(`WebRTC engine AGC: ${heard.toFixed(1)} dBFS at Bob (agc), ${played.toFixed(1)} dBFS played (rxAgc)`);
      expect(Math.abs(heard + 18)).toBeLessThanOrEqual(3);
      expect(Math.abs(played + 18)).toBeLessThanOrEqual(3);
    } finally {
      call.close();
      quiet.close();
    }
  }, 30_000);

  for (const codec of ['opus', 'PCMU']) {
    it(`DTX on ${codec}: a microphone hearing only a quiet room (-60 dBFS) sends >= 80 % fewer packets; Bob plays the pause quietly (CN on PCMU, near silence on opus) without clicks`, async () => {
      const RATE = 48000;
      const noise = roomNoise(RATE * 12, -60);
      const sent: Record<string, number> = {};
      let pause: number[] = [];
      let pauseRate = 0;
      for (const dtx of [false, true]) {
        const call = await pair({ input: microphone(RATE, (i) => noise[i % noise.length]!), processing: { dtx } }, { processing: { dtx } }, [codec]);
        try {
          const start = performance.now();
          await sleep(1500);
          const before = call.alice.stats().sent.packets;
          await sleep(4000);
          sent[String(dtx)] = call.alice.stats().sent.packets - before;
          if (dtx) {
            pause = between(call.heard, start, 2500, 5000);
            pauseRate = call.heard.at(-1)?.rate ?? 0;
          }
        } finally {
          call.close();
        }
      }
      console.log(`WebRTC engine DTX ${codec}: ${sent['false']} packets in 4 s without, ${sent['true']} with`);
      expect(sent['false']).toBeGreaterThan(150);
      // opus: libopus sends a DTX frame every 400 ms; G.711: libwebrtc's CN, a SID every 100 ms,
      // which is 80 % fewer exactly at 20 ms packets: one packet of slack for the window's edges.
      expect(sent['true']!).toBeLessThanOrEqual(0.2 * sent['false']! + 1);
      // Comfort noise, not clicks: quiet, and no step larger than a quiet room's.
      expect(pause.length / pauseRate).toBeGreaterThan(2);
      expect(dbfs(pause)).toBeLessThan(-45);
      let step = 0;
      for (let i = 1; i < pause.length; i++) step = Math.max(step, Math.abs(pause[i]! - pause[i - 1]!));
      expect(step).toBeLessThan(400);
    }, 40_000);
  }
});
