import { NoiseSuppressor } from '@sip-endpoint/media';
import { speechLikeSignal } from '@sip-endpoint/media/testing';
import { allocationsDuring } from '@sip-endpoint/test-support';
import { byFrames, levelDb, mix, roomNoise, speechFrames } from './signals';

describe('NoiseSuppressor (RNNoise)', () => {
  for (const rate of [8000, 16000]) {
    it(`takes >= 10 dB of noise out of the pauses and keeps the speech level within 1 dB at ${rate} Hz`, () => {
      const frame = rate / 50;
      const speech = speechLikeSignal({ sampleRate: rate, seconds: 8, levelDbfs: -20, seed: 4 });
      const noise = roomNoise(speech.length, -45);
      const noisy = mix(speech, noise);
      const ns = new NoiseSuppressor(rate, frame);
      const out = byFrames(noisy, frame, (view) => ns.process(view, frame));
      ns.close();
      const voiced = speechFrames(speech, frame);
      // From 1 s on (RNNoise learns the noise), away from speech by a frame either side.
      const pause = (i: number): boolean => {
        const n = Math.floor(i / frame);
        return i > rate && !voiced[n] && !voiced[n - 1] && !voiced[n + 1];
      };
      const loud = (i: number): boolean => i > rate && voiced[Math.floor(i / frame)] === true && Math.abs(speech[i]!) > 0;
      const noiseBefore = levelDb(noisy, pause);
      const noiseAfter = levelDb(out, pause);
      const speechBefore = levelDb(noisy, loud);
      const speechAfter = levelDb(out, loud);
      console.log(`NS ${rate} Hz: pauses ${noiseBefore.toFixed(1)} -> ${noiseAfter.toFixed(1)} dBFS, speech ${speechBefore.toFixed(2)} -> ${speechAfter.toFixed(2)} dBFS`);
      expect(noiseBefore - noiseAfter).toBeGreaterThanOrEqual(10);
      expect(Math.abs(speechAfter - speechBefore)).toBeLessThanOrEqual(1);
    });
  }

  it('keeps a 30 ms frame in step (one RNNoise frame of delay) at 16 kHz', () => {
    const speech = speechLikeSignal({ sampleRate: 16000, seconds: 2, levelDbfs: -20, seed: 4 });
    const ns = new NoiseSuppressor(16000, 480);
    const out = byFrames(speech, 480, (view) => ns.process(view, 480));
    expect(levelDb(out, (i) => i > 8000)).toBeGreaterThan(-27);
  });

  it('refuses a rate that does not divide 48 kHz', () => {
    expect(() => new NoiseSuppressor(44100, 882)).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_AUDIO_PROCESSING' }));
  });

  it('allocates nothing per frame', async () => {
    const speech = speechLikeSignal({ sampleRate: 8000, seconds: 1, seed: 4 });
    const frame = new Int16Array(160);
    const ns = new NoiseSuppressor(8000, 160);
    const run = (frames: number): void => {
      for (let n = 0; n < frames; n++) {
        const at = (n % 49) * 160;
        for (let i = 0; i < 160; i++) frame[i] = speech[at + i]!;
        ns.process(frame, 160);
      }
    };
    run(300);
    const allocations = await allocationsDuring(() => run(200));
    expect(allocations.youngCollections).toBe(0);
    expect(allocations.youngBytes).toBeLessThan(8_000);
    ns.close();
  });
});
