// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { AudioStream, G722, OPUS, PCMA, PCMU, RtpSession, VirtualAudioProvider, type Codec, type VirtualSource } from '@sip-endpoint/media';
import { compareSpeech, segmentalSnrOutsideDefects, speechLikeSignal, type SpeechComparison } from '@sip-endpoint/media/testing';
import { waitFor } from '@sip-endpoint/test-support';
import { connectPair, type Side } from './support/engines';
import { ImpairmentRelay } from './support/impairment-relay';
import { workerPorts } from './support/ports';
import { concat } from './support/signal';
import { watchStalls } from './support/stalls';

// Audio judged as a listener would: a speech-like signal (no two frames alike) goes in, what comes
// out is aligned to it sample by sample and compared frame by frame. A frame dropped, concealed,
// repeated or mangled fails its frame; the tests allow a few defects, plus one for each stall of a
// loaded machine that the receiving jitter buffer reports (it ran dry, or threw away a late or
// surplus frame), and no more. A frame lost on the way or mangled is never excused.

const ports = workerPorts(200);
const SECONDS = 4;

/**
 * A microphone that plays the speech-like signal from its start, and what it has sent so far. The
 * signal is made before the call starts (making it takes a while: the media clock must not stall).
 */
function speaker(seed: number, sampleRate: number): { source: VirtualSource; sent: () => { samples: Int16Array; sampleRate: number } } {
  const signal = speechLikeSignal({ sampleRate, seconds: SECONDS + 4, seed });
  let cursor = 0;
  const source: VirtualSource = {
    kind: 'function',
    fill: (frame, length, rate) => {
      if (rate !== sampleRate) throw new Error(`the microphone was opened at ${rate} Hz, not ${sampleRate} Hz`);
      for (let i = 0; i < length; i++) frame[i] = cursor < signal.length ? signal[cursor++]! : 0;
    },
  };
  return { source, sent: () => ({ samples: signal.subarray(0, cursor), sampleRate }) };
}

const playedSeconds = (side: Side): number => side.played.reduce((n, frame) => n + frame.length, 0) / side.playedRate;

function heard(side: Side, by: ReturnType<typeof speaker>, minFrameSnrDb: number): SpeechComparison {
  const sent = by.sent();
  return compareSpeech(sent.samples, sent.sampleRate, concat(side.played), side.playedRate, { minFrameSnrDb });
}

/**
 * The defects a loaded machine's stalls account for, as the receiver's jitter buffer counted
 * them: each time it ran dry, and each late or surplus frame it threw away. A packet that never
 * came (the buffer's `lost`) is not one of them.
 */
function stallDefects(receiver: AudioStream): number {
  const buffer = receiver.stats().jitterBuffer;
  return buffer.underruns + buffer.late + buffer.dropped;
}

/**
 * What a listener accepts over four seconds: speech all the way, at most four glitches (and one
 * per stall the receiver reported, however long), no noise in the pauses, no clicks to speak of.
 */
function expectClean(result: SpeechComparison, minSegmentalSnrDb: number, stalls = 0): void {
  expect(result.frames).toBeGreaterThan(100);
  expect(result.defects).toBeLessThanOrEqual(4 + stalls);
  // A stall's defect is as long as the stall (the buffer refills after it): the longest `stalls`
  // defects' frames are excused, the rest must stay under one frame in seven.
  const excused = [...result.defectLengths].sort((a, b) => b - a).slice(0, stalls).reduce((sum, length) => sum + length, 0);
  expect(result.badFrames - excused).toBeLessThanOrEqual(result.frames * 0.15);
  expect(result.noisyFrames).toBeLessThanOrEqual(3);
  expect(result.clicks).toBeLessThanOrEqual(4);
  // The mean SNR of what was heard outside those excused defects (all of it when nothing stalled).
  expect(segmentalSnrOutsideDefects(result, stalls)).toBeGreaterThan(minSegmentalSnrDb);
}

describe.each([
  // [codec, a frame's SNR below which it is bad, the least mean SNR]: G.711 and G.722 keep the
  // waveform (35 to 37 dB measured when nothing stalls); opus is perceptual and keeps less of it
  // (8 to 10 dB). The mean is a floor well under those: a few bad frames (at most four defects
  // pass) pull it down by several dB; the defects catch lost frames. A stall's defects are left
  // out of the mean, as they are of the count.
  [PCMU.name, PCMU, 20, 20],
  [PCMA.name, PCMA, 20, 20],
  [G722.name, G722, 12, 15],
  [OPUS.name, OPUS, 3, 4],
] as const)('speech between two engines on 127.0.0.1 with %s', (_name: string, codec: Codec, minFrameSnrDb: number, minSegmentalSnrDb: number) => {
  it(`arrives sample for sample both ways: at most 4 glitches in ${SECONDS} s, no noise in the pauses`, async () => {
    const alice = speaker(1, codec.sampleRate);
    const bob = speaker(2, codec.sampleRate);
    const pair = await connectPair(codec, ports, alice.source, bob.source);
    let stalls = { atBob: 0, atAlice: 0 };
    try {
      await waitFor(() => playedSeconds(pair.alice) >= SECONDS + 0.5 && playedSeconds(pair.bob) >= SECONDS + 0.5, 30_000, `${SECONDS + 0.5} s of audio played at both ends`);
      stalls = { atBob: stallDefects(pair.bob.stream), atAlice: stallDefects(pair.alice.stream) };
    } finally {
      pair.close();
    }
    const atBob = heard(pair.bob, alice, minFrameSnrDb);
    const atAlice = heard(pair.alice, bob, minFrameSnrDb);
    expectClean(atBob, minSegmentalSnrDb, stalls.atBob);
    expectClean(atAlice, minSegmentalSnrDb, stalls.atAlice);
    // The path's delay: the jitter buffer's and the codec's, not seconds.
    expect(atBob.delayMs).toBeLessThan(500);
  }, 40_000);
});

/**
 * Alice's 8 kHz speech one way to Bob for 4.5 s of Bob's playout: `via` (a relay) may stand
 * between them, and `senderPtimeMs` sets Alice's packet length (Bob's clock stays at 20 ms).
 */
async function oneWay(codec: Codec, payloadType: number, seed: number, options: { via?: ImpairmentRelay; senderPtimeMs?: number } = {}): Promise<{ sent: Int16Array; played: Int16Array[]; receiver: AudioStream; stalls: { count: number; unexcusedUnderruns: number } }> {
  const aliceSession = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
  const bobSession = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
  options.via?.forwardTo('127.0.0.1', bobSession.localPort);
  const alice = speaker(seed, 8000);
  const provider = new VirtualAudioProvider({ defaults: false });
  const mic = provider.addInput({ name: 'mic' }, alice.source);
  const played: Int16Array[] = [];
  const sender = new AudioStream({ session: aliceSession, codec, payloadType, ptimeMs: options.senderPtimeMs ?? 20, remote: { address: '127.0.0.1', rtpPort: options.via?.port ?? bobSession.localPort }, input: provider.openInput(mic.id, 8000) });
  const receiver = new AudioStream({ session: bobSession, codec, payloadType, remote: { address: '127.0.0.1', rtpPort: aliceSession.localPort }, onPlayout: (frame, length) => played.push(frame.slice(0, length)) });
  // Each underrun the receiver reports, and whether the event loop stalled (over 15 ms) within
  // the 100 ms before it saw it: a stall stops both ends' clocks, and whichever runs first after
  // it decides whether the buffer ran dry (a loaded machine's doing). An underrun with no stall
  // near it is the stream's own.
  let underruns = 0;
  let unexcused = 0;
  const watch = watchStalls(15, (self) => {
    const now = receiver.stats().jitterBuffer.underruns;
    if (now > underruns && !self.recent(100)) unexcused += now - underruns;
    underruns = now;
  });
  sender.start();
  receiver.start();
  try {
    await waitFor(() => played.length * 160 >= 8000 * (SECONDS + 0.5), 30_000, 'the receiver played 4.5 s');
  } finally {
    watch.stop();
    sender.close();
    receiver.close();
  }
  const stalls = { count: watch.stalls.length, unexcusedUnderruns: unexcused };
  return { sent: alice.sent().samples, played, receiver, stalls };
}

describe('speech from a peer whose packets are longer than our frames', () => {
  it('30 ms packets to a 20 ms stream (an SDP without ptime): played whole, no underrun but what a stall of the event loop caused', async () => {
    const { sent, played, receiver, stalls } = await oneWay(PCMA, 8, 4, { senderPtimeMs: 30 });
    // Every tick plays one 20 ms frame, whatever the packets carry.
    expect(played.every((frame) => frame.length === 160)).toBe(true);
    // The defects excused: one per stall the jitter buffer counted or the event loop had (a loaded
    // CI run: 10 defects beside 2 of the buffer's), whichever is more.
    expectClean(compareSpeech(sent, 8000, concat(played), 8000, { minFrameSnrDb: 20 }), 20, Math.max(stallDefects(receiver), stalls.count));
    // At most one that no stall of the event loop explains. (A loaded CI run saw 12 underruns
    // beside 3 stalls of over 40 ms; shorter stalls were not counted then.)
    const measured = { underruns: receiver.stats().jitterBuffer.underruns, ...stalls };
    expect({ ...measured, atMostOne: measured.unexcusedUnderruns <= 1 }).toMatchObject({ atMostOne: true });
  }, 40_000);
});

describe('the speech comparison itself', () => {
  it('fails a call that loses one packet in ten (the same check, a relay dropping every tenth packet)', async () => {
    const relay = await ImpairmentRelay.open(0, 0);
    relay.dropEvery(10);
    const { sent, played } = await oneWay(PCMU, 0, 3, { via: relay }).finally(() => relay.close());
    const result = compareSpeech(sent, 8000, concat(played), 8000, { minFrameSnrDb: 20 });
    expect(relay.dropped).toBeGreaterThan(15);
    // About one speech frame in ten is concealed: each is a defect of its own.
    expect(result.defects).toBeGreaterThanOrEqual(8);
    // Short ones: the concealed frame and the one after it, not a stall.
    expect(result.defectLengths.filter((length) => length <= 3).length).toBeGreaterThanOrEqual(8);
    expect(() => expectClean(result, 30)).toThrow();
  }, 40_000);

  it('finds the delay, and follows a stall: 200 ms of silence inserted is one defect, not the rest of the call', () => {
    const reference = speechLikeSignal({ sampleRate: 16000, seconds: 4, seed: 7 });
    const received = new Int16Array(reference.length + 800 + 3200);
    received.set(reference.subarray(0, 32000), 800);
    received.set(reference.subarray(32000), 800 + 32000 + 3200);
    const result = compareSpeech(reference, 16000, received, 16000);
    expect(result.delayMs).toBeCloseTo(50, 0);
    expect(result.shifts).toBe(1);
    expect(result.defects).toBeLessThanOrEqual(3);
    expect(result.badFrames).toBeLessThanOrEqual(14);
    // Each defect's length, in order: they add up to the bad frames, the stall's is the longest.
    expect(result.defectLengths).toHaveLength(result.defects);
    expect(result.defectLengths.reduce((sum, length) => sum + length, 0)).toBe(result.badFrames);
    expect(Math.max(...result.defectLengths)).toBeGreaterThanOrEqual(2);
  });

  it('follows audio dropped or a gap inserted anywhere in the call, the received audio ahead of the reference included: one glitch, the rest clean', () => {
    // What a stall of the event loop does to a call heard 20 ms late: the player skips the frames
    // it missed (the audio then runs ahead of what was sent) or plays silence first. Early (inside
    // the window the delay is found on) or late, each is one glitch; the rest of the call aligns.
    const reference = speechLikeSignal({ sampleRate: 16000, seconds: 4, seed: 7 });
    const delay = 320;
    const edit = (atSeconds: number, ms: number): Int16Array => {
      const at = atSeconds * 16000;
      const length = (ms * 16000) / 1000;
      const delayed = new Int16Array(reference.length + delay);
      delayed.set(reference, delay);
      if (length > 0) return Int16Array.from([...delayed.subarray(0, at), ...delayed.subarray(at + length)]);
      return Int16Array.from([...delayed.subarray(0, at), ...new Int16Array(-length), ...delayed.subarray(at)]);
    };
    const results = [
      [0.5, 100],
      [1.2, 160],
      [2.6, 60],
      [3.1, -200],
    ].map(([at, ms]) => ({ at, ms, ...compareSpeech(reference, 16000, edit(at!, ms!), 16000) }));
    for (const result of results) {
      const context = `${result.ms} ms ${result.ms! > 0 ? 'dropped' : 'of silence'} at ${result.at} s: ${JSON.stringify({ ...result, frameSnrDb: undefined })}`;
      const judged = { delay: Math.abs(result.delayMs - 20) < 0.1, shifted: result.shifts >= 1, defects: result.defects <= 1, badFrames: result.badFrames <= (result.ms! > 0 ? 2 : 11), snr: segmentalSnrOutsideDefects(result, 1) > 40 };
      expect({ context, ...judged }).toEqual({ context, delay: true, shifted: true, defects: true, badFrames: true, snr: true });
    }
  });

  it('judges with temporal masking: codec noise in the frame where a syllable ends is not a defect, a frame lost inside a syllable is', () => {
    const reference = speechLikeSignal({ sampleRate: 8000, seconds: 6, seed: 5 });
    const energy = (samples: Int16Array, frame: number): number => samples.subarray(frame * 160, frame * 160 + 160).reduce((sum, v) => sum + v * v, 0) / 160;
    const frames = Math.floor(reference.length / 160);
    // After each loud frame (-30 dBFS and over) followed by one 13 dB quieter (where a syllable
    // ends): noise 22 dB under the loud frame over the quiet one, as a transform codec spreads a
    // frame's noise. Against the quiet frame's own speech that is an SNR of 9 dB or less.
    const tails = reference.slice();
    let seed = 3;
    let noisy = 0;
    for (let n = 1; n < frames; n++) {
      const before = energy(reference, n - 1);
      if (before < 32767 * 32767 * 1e-3 || energy(reference, n) > before / 20) continue;
      const rms = Math.sqrt(before / 10 ** 2.2);
      for (let i = n * 160; i < n * 160 + 160; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        tails[i] = Math.max(-32768, Math.min(32767, Math.round(tails[i]! + ((seed / 2 ** 32) * 2 - 1) * Math.sqrt(3) * rms)));
      }
      noisy++;
    }
    expect(noisy).toBeGreaterThan(5);
    expect(compareSpeech(reference, 8000, tails, 8000, { minFrameSnrDb: 10 }).defects).toBe(0);
    // A frame inside a syllable (as loud as the one before it) zeroed: still a defect each.
    const lost = reference.slice();
    let zeroed = 0;
    for (let n = 1; n < frames && zeroed < 4; n++) {
      if (energy(reference, n) < 32767 * 32767 * 1e-3 || energy(reference, n - 1) < energy(reference, n) / 2 || energy(reference, n + 1) < energy(reference, n) / 2) continue;
      lost.fill(0, n * 160, n * 160 + 160);
      zeroed++;
      n += 20;
    }
    expect(compareSpeech(reference, 8000, lost, 8000, { minFrameSnrDb: 10 }).defects).toBe(zeroed);
  });

  it('fails noise, and a tone, however loud', () => {
    const reference = speechLikeSignal({ sampleRate: 8000, seconds: 3 });
    let seed = 1;
    const noise = Int16Array.from({ length: reference.length }, () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 8000) - 4000);
    const tone = Int16Array.from({ length: reference.length }, (_, n) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * n) / 8000)));
    for (const received of [noise, tone]) {
      // The mean SNR says it (the default threshold follows the call's own median, which garbage drags down).
      expect(compareSpeech(reference, 8000, received, 8000).segmentalSnrDb).toBeLessThan(3);
      const result = compareSpeech(reference, 8000, received, 8000, { minFrameSnrDb: 10 });
      expect(result.badFrames).toBeGreaterThan(result.frames * 0.9);
    }
  });

  it('is different every frame: the signal has pauses, and no frame of speech repeats the one before', () => {
    const signal = speechLikeSignal({ sampleRate: 8000, seconds: 3 });
    const result = compareSpeech(signal, 8000, signal, 8000);
    expect(result).toMatchObject({ badFrames: 0, defects: 0, noisyFrames: 0, clicks: 0, shifts: 0, delayMs: 0 });
    // Pauses: a fifth of the frames or more are silent.
    expect(result.frames).toBeLessThan(150 * 0.8);
    // A frame played twice (the previous one repeated in place of the next) is bad.
    const repeated = signal.slice();
    for (let frame = 20; frame < 140; frame += 15) repeated.copyWithin(frame * 160, (frame - 1) * 160, frame * 160);
    expect(compareSpeech(signal, 8000, repeated, 8000).badFrames).toBeGreaterThanOrEqual(5);
  });
});
