import { ComfortNoiseGenerator, comfortNoiseLevel, comfortNoiseRms, DtxController, VoiceActivityDetector } from '@sip-endpoint/media';
import { speechLikeSignal } from '@sip-endpoint/media/testing';
import { allocationsDuring } from '@sip-endpoint/test-support';
import { mix, roomNoise, speechFrames } from './signals';

describe('VoiceActivityDetector (WebRTC VAD)', () => {
  it('hears the prompt and not the room, at every vad_level', () => {
    const rate = 8000;
    const speech = speechLikeSignal({ sampleRate: rate, seconds: 6, levelDbfs: -20, seed: 2 });
    const input = mix(speech, roomNoise(speech.length, -55));
    const voiced = speechFrames(speech, 160);
    for (let mode = 0; mode <= 3; mode++) {
      const vad = new VoiceActivityDetector(rate, mode);
      let hit = 0;
      let speechCount = 0;
      let falseAlarm = 0;
      let noiseCount = 0;
      for (let n = 0; n < voiced.length; n++) {
        const result = vad.isSpeech(input.subarray(n * 160, (n + 1) * 160), 160);
        if (voiced[n]) {
          speechCount++;
          if (result) hit++;
        } else {
          noiseCount++;
          if (result) falseAlarm++;
        }
      }
      vad.close();
      console.log(`VAD mode ${mode}: ${((100 * hit) / speechCount).toFixed(0)} % of speech frames, ${((100 * falseAlarm) / noiseCount).toFixed(0)} % of noise frames`);
      expect(hit / speechCount).toBeGreaterThan(0.8);
    }
  });

  it('refuses a rate it does not run at', () => {
    expect(() => new VoiceActivityDetector(22050, 0)).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_AUDIO_PROCESSING' }));
  });
});

describe('comfort noise levels (RFC 3389 3.1)', () => {
  it('is -dBov of a full-scale square wave, 0 to 127', () => {
    expect(comfortNoiseLevel(32767)).toBe(0);
    expect(comfortNoiseLevel(32767 / 10)).toBe(20);
    expect(comfortNoiseLevel(0)).toBe(127);
    expect(comfortNoiseRms(40)).toBeCloseTo(327.67, 1);
  });

  it('plays white noise at the level asked, without a step at its start', () => {
    const cn = new ComfortNoiseGenerator(8000);
    cn.setLevel(50);
    const frame = new Int16Array(160);
    cn.generate(frame, 160, 3000);
    expect(Math.abs(frame[0]! - 3000)).toBeLessThan(1000);
    let sum = 0;
    for (let n = 0; n < 100; n++) {
      cn.generate(frame, 160);
      if (n >= 10) for (const v of frame) sum += v * v;
    }
    const db = 20 * Math.log10(Math.sqrt(sum / (90 * 160)) / 32767);
    expect(Math.abs(db + 50)).toBeLessThan(1);
  });
});

describe('DtxController', () => {
  for (const vadLevel of [0, 3]) it(`vad_level ${vadLevel}: sends >= 80 % fewer packets in the pauses, keeps the words whole, and tells the background level`, () => {
    const rate = 8000;
    // Speech, 3 s of background alone, speech again.
    const a = speechLikeSignal({ sampleRate: rate, seconds: 2, levelDbfs: -20, seed: 2 });
    const b = speechLikeSignal({ sampleRate: rate, seconds: 2, levelDbfs: -20, seed: 8 });
    const speech = new Int16Array(rate * 7);
    speech.set(a, 0);
    speech.set(b, rate * 5);
    const input = mix(speech, roomNoise(speech.length, -50));
    const voiced = speechFrames(speech, 160);
    const dtx = new DtxController({ sampleRate: rate, frameMs: 20, vadLevel });
    let pauseLevel = 0;
    const decisions = voiced.map((_, n) => {
      const decision = dtx.decide(input.subarray(n * 160, (n + 1) * 160), 160);
      if (n === 240) pauseLevel = dtx.level;
      return decision;
    });
    // The pause (2.3..4.9 s): packets sent against one per frame.
    const pause = decisions.slice(115, 245);
    const sent = pause.filter((d) => d !== 'silent').length;
    expect(sent / pause.length).toBeLessThanOrEqual(0.2);
    // No frame of speech 6 dB over the background is left out (quieter ones are lost in it anyway).
    const audible = speechFrames(speech, 160, -44);
    const clipped = audible.flatMap((v, n) => (v && decisions[n] !== 'speech' ? [n] : []));
    expect(clipped).toEqual([]);
    // The CN level in the pause is the background's (-50 dBFS) within 2 dB.
    expect(Math.abs(pauseLevel - 50)).toBeLessThanOrEqual(2);
    dtx.close();
  });

  it('allocates nothing per frame', async () => {
    const input = mix(speechLikeSignal({ sampleRate: 8000, seconds: 1, seed: 2 }), roomNoise(8000, -50));
    const frame = new Int16Array(160);
    const dtx = new DtxController({ sampleRate: 8000, frameMs: 20 });
    const cn = new ComfortNoiseGenerator(8000);
    const run = (frames: number): void => {
      for (let n = 0; n < frames; n++) {
        const at = (n % 49) * 160;
        for (let i = 0; i < 160; i++) frame[i] = input[at + i]!;
        if (dtx.decide(frame, 160) !== 'speech') cn.setLevel(dtx.level);
        cn.generate(frame, 160);
      }
    };
    run(300);
    const allocations = await allocationsDuring(() => run(200));
    expect(allocations.youngCollections).toBe(0);
    expect(allocations.youngBytes).toBeLessThan(8_000);
    dtx.close();
  });
});
