import { GainControl } from '@sip-endpoint/media';
import { speechLikeSignal } from '@sip-endpoint/media/testing';
import { allocationsDuring } from '@sip-endpoint/test-support';
import { byFrames, levelDb, mix, roomNoise, speechFrames } from './signals';

/** The active speech level of `out` from `fromS` on: the frames where the prompt speaks. */
function speechLevel(out: Int16Array, prompt: Int16Array, rate: number, fromS: number): number {
  const voiced = speechFrames(prompt, rate / 50);
  return levelDb(out, (i) => i >= fromS * rate && voiced[Math.floor(i / (rate / 50))] === true && prompt[i] !== 0);
}

describe('GainControl', () => {
  for (const [rate, inputDb] of [[8000, -40], [16000, -40], [8000, -6]] as const) {
    it(`brings a prompt at ${inputDb} dBFS to -18 dBFS +-3 dB at ${rate} Hz, peaks under -1 dBFS`, () => {
      const frame = rate / 50;
      const prompt = speechLikeSignal({ sampleRate: rate, seconds: 8, levelDbfs: inputDb, seed: 6 });
      const input = mix(prompt, roomNoise(prompt.length, inputDb - 30));
      const agc = new GainControl({ sampleRate: rate });
      const out = byFrames(input, frame, (view) => agc.process(view, frame));
      const level = speechLevel(out, prompt, rate, 2);
      let peak = 0;
      for (const v of out) peak = Math.max(peak, Math.abs(v));
      console.log(`AGC ${rate} Hz: ${inputDb} dBFS in, ${level.toFixed(1)} dBFS out, gain ${agc.gainDb.toFixed(1)} dB, peak ${(20 * Math.log10(peak / 32767)).toFixed(1)} dBFS`);
      expect(Math.abs(level + 18)).toBeLessThanOrEqual(3);
      expect(peak).toBeLessThanOrEqual(Math.ceil(32767 * 10 ** (-1 / 20)));
    });
  }

  it('does not raise the noise of a pause: gain stays where speech put it', () => {
    const rate = 8000;
    const prompt = speechLikeSignal({ sampleRate: rate, seconds: 3, levelDbfs: -30, seed: 6 });
    const input = mix(prompt, roomNoise(prompt.length, -65));
    const silence = roomNoise(rate * 3, -65, 3);
    const agc = new GainControl({ sampleRate: rate });
    byFrames(input, 160, (view) => agc.process(view, 160));
    const gainAfterSpeech = agc.gainDb;
    byFrames(silence, 160, (view) => agc.process(view, 160));
    expect(Math.abs(agc.gainDb - gainAfterSpeech)).toBeLessThan(0.5);
  });

  it('allocates nothing per frame', async () => {
    const speech = speechLikeSignal({ sampleRate: 8000, seconds: 1, levelDbfs: -40, seed: 4 });
    const frame = new Int16Array(160);
    const agc = new GainControl({ sampleRate: 8000 });
    const run = (frames: number): void => {
      for (let n = 0; n < frames; n++) {
        const at = (n % 49) * 160;
        for (let i = 0; i < 160; i++) frame[i] = speech[at + i]!;
        agc.process(frame, 160);
      }
    };
    run(300);
    const allocations = await allocationsDuring(() => run(200));
    expect(allocations.youngCollections).toBe(0);
    expect(allocations.youngBytes).toBeLessThan(8_000);
  });
});
