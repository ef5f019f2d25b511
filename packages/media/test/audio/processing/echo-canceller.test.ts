import { EchoCanceller } from '@sip-endpoint/media';
import { speechLikeSignal } from '@sip-endpoint/media/testing';
import { allocationsDuring } from '@sip-endpoint/test-support';
import { byFrames, echoOf, energy, mix, whiteNoise } from './signals';

/** ERLE in dB over `from`..`to` seconds: the echo's energy over what is left of it. */
function erle(echo: ArrayLike<number>, out: ArrayLike<number>, rate: number, from: number, to: number): number {
  return 10 * Math.log10(energy(echo, from * rate, to * rate) / energy(out, from * rate, to * rate));
}

describe('EchoCanceller', () => {
  for (const [rate, delayMs] of [[8000, 40], [8000, 120], [16000, 80]] as const) {
    it(`removes an echo ${delayMs} ms late, 10 dB down, at ${rate} Hz: the filter alone >= 20 dB from 2 s on, the residual suppressor 10 dB more`, () => {
      const frame = rate / 50;
      const far = speechLikeSignal({ sampleRate: rate, seconds: 8, levelDbfs: -18, seed: 3 });
      const echo = echoOf(far, rate, delayMs, 0.3);
      const mic = mix(echo, whiteNoise(far.length, -70));
      const run = (residualSuppression: boolean): Int16Array => {
        const aec = new EchoCanceller({ sampleRate: rate, frameSamples: frame, residualSuppression });
        // As the stream does: the microphone frame is processed, then the far end's frame is played.
        return byFrames(mic, frame, (view, n) => {
          aec.process(view, frame);
          aec.farEnd(far.subarray(n * frame, (n + 1) * frame), frame);
        });
      };
      const linear = run(false);
      const out = run(true);
      const early = erle(mic, linear, rate, 0.5, 1);
      const settled = erle(mic, linear, rate, 2, 8);
      const suppressed = erle(mic, out, rate, 2, 8);
      console.log(`AEC ${rate} Hz ${delayMs} ms: the filter's ERLE ${early.toFixed(1)} dB at 0.5-1 s, ${settled.toFixed(1)} dB from 2 s; with residual suppression ${suppressed.toFixed(1)} dB from 2 s`);
      expect(settled).toBeGreaterThanOrEqual(20);
      // Each second after the second on.
      for (let s = 2; s < 8; s++) expect(erle(mic, linear, rate, s, s + 1)).toBeGreaterThanOrEqual(17);
      expect(suppressed).toBeGreaterThanOrEqual(settled + 10);
      for (let s = 2; s < 8; s++) expect(erle(mic, out, rate, s, s + 1)).toBeGreaterThanOrEqual(27);
    });
  }

  it.each([8000, 16000])('follows an echo 350 ms late, beyond the 200 ms filter, at %d Hz: the delay estimator finds it within 2 s, the filter alone then learns it as a new filter would (>= 20 dB over 6-8 s); with the estimator off, the filter cannot', (rate) => {
    const frame = rate / 50;
    const far = speechLikeSignal({ sampleRate: rate, seconds: 8, levelDbfs: -18, seed: 3 });
    const echo = echoOf(far, rate, 350, 0.3);
    const mic = mix(echo, whiteNoise(far.length, -70));
    const run = (maxDelayMs: number): { out: Int16Array; aec: EchoCanceller; movedAtS: number | undefined } => {
      const aec = new EchoCanceller({ sampleRate: rate, frameSamples: frame, residualSuppression: false, maxDelayMs });
      let movedAtS: number | undefined;
      const out = byFrames(mic, frame, (view, n) => {
        aec.process(view, frame);
        aec.farEnd(far.subarray(n * frame, (n + 1) * frame), frame);
        if (movedAtS === undefined && aec.delayMs > 0) movedAtS = ((n + 1) * frame) / rate;
      });
      return { out, aec, movedAtS };
    };
    const on = run(500);
    const off = run(0);
    const perSecond = [1, 2, 3, 4, 5, 6, 7].map((s) => erle(mic, on.out, rate, s, s + 1).toFixed(1)).join(', ');
    console.log(`AEC ${rate} Hz 350 ms: echo found at ${on.aec.echoDelayMs} ms (after the frame's 20), bulk delay ${on.aec.delayMs} ms from ${on.movedAtS} s; ERLE each second from 1 s: ${perSecond}; ${erle(mic, off.out, rate, 3, 8).toFixed(1)} dB from 3 s with the estimator off`);
    // The echo, 350 ms after the far end's frame was played, reaches the filter one frame (20 ms) after it was queued.
    expect(Math.abs(on.aec.echoDelayMs! - 330)).toBeLessThanOrEqual(8);
    expect(on.movedAtS).toBeLessThan(2);
    // From the move on the filter learns again, as fast as a new one given the reference already
    // delayed by as much from that moment: within 1.5 dB of it from a second after the move.
    const moved = Math.round((on.movedAtS! * rate) / frame);
    const shift = (on.aec.delayMs * rate) / 1000;
    const aligned = new EchoCanceller({ sampleRate: rate, frameSamples: frame, residualSuppression: false, maxDelayMs: 0 });
    const alignedOut = byFrames(mic, frame, (view, n) => {
      if (n < moved) return;
      aligned.process(view, frame);
      aligned.farEnd(far.subarray(n * frame - shift, (n + 1) * frame - shift), frame);
    });
    const from = Math.ceil(on.movedAtS! + 1);
    const ours = erle(mic, on.out, rate, from, 8);
    const fresh = erle(mic, alignedOut, rate, from, 8);
    console.log(`AEC ${rate} Hz 350 ms: ERLE from ${from} s ${ours.toFixed(1)} dB, a filter started at the move with the reference delayed ${fresh.toFixed(1)} dB; over 6-8 s ${erle(mic, on.out, rate, 6, 8).toFixed(1)} dB`);
    expect(ours).toBeGreaterThanOrEqual(fresh - 1.5);
    expect(erle(mic, on.out, rate, 6, 8)).toBeGreaterThanOrEqual(20);
    expect(erle(mic, off.out, rate, 3, 8)).toBeLessThan(6);
  });

  it('keeps its delay at 0 for an echo the filter reaches (40 to 120 ms), and moves it for none when only the near end talks', () => {
    const rate = 8000;
    const far = speechLikeSignal({ sampleRate: rate, seconds: 6, levelDbfs: -18, seed: 3 });
    for (const delayMs of [40, 120]) {
      const mic = mix(echoOf(far, rate, delayMs, 0.3), whiteNoise(far.length, -70));
      const aec = new EchoCanceller({ sampleRate: rate, frameSamples: 160 });
      byFrames(mic, 160, (view, n) => {
        aec.process(view, 160);
        aec.farEnd(far.subarray(n * 160, (n + 1) * 160), 160);
      });
      expect({ delayMs, found: Math.abs(aec.echoDelayMs! - (delayMs - 20)) <= 8, bulk: aec.delayMs }).toEqual({ delayMs, found: true, bulk: 0 });
    }
    const near = speechLikeSignal({ sampleRate: rate, seconds: 6, levelDbfs: -20, seed: 5 });
    const other = speechLikeSignal({ sampleRate: rate, seconds: 6, levelDbfs: -18, seed: 8 });
    const aec = new EchoCanceller({ sampleRate: rate, frameSamples: 160 });
    byFrames(near, 160, (view, n) => {
      aec.process(view, 160);
      aec.farEnd(other.subarray(n * 160, (n + 1) * 160), 160);
    });
    expect({ found: aec.echoDelayMs, bulk: aec.delayMs }).toEqual({ found: undefined, bulk: 0 });
  });

  it('leaves the near end alone when there is no far end', () => {
    const rate = 8000;
    const near = speechLikeSignal({ sampleRate: rate, seconds: 2, levelDbfs: -20, seed: 5 });
    const aec = new EchoCanceller({ sampleRate: rate, frameSamples: 160 });
    const out = byFrames(near, 160, (view) => aec.process(view, 160));
    expect(Math.abs(10 * Math.log10(energy(out) / energy(near)))).toBeLessThan(0.1);
  });

  it.each([false, true])('keeps the near end through double talk after converging (residual suppression %s): its level within 1.5 dB', (residualSuppression) => {
    const rate = 8000;
    const far = speechLikeSignal({ sampleRate: rate, seconds: 6, levelDbfs: -18, seed: 3 });
    const near = speechLikeSignal({ sampleRate: rate, seconds: 6, levelDbfs: -18, seed: 9 });
    near.fill(0, 0, rate * 3);
    const echo = echoOf(far, rate, 60, 0.3);
    const mic = mix(echo, near);
    const aec = new EchoCanceller({ sampleRate: rate, frameSamples: 160, residualSuppression });
    const out = byFrames(mic, 160, (view, n) => {
      aec.process(view, 160);
      aec.farEnd(far.subarray(n * 160, (n + 1) * 160), 160);
    });
    // What is left of the near end over 3..6 s: the output less the echo left, against the near end.
    const residual = new Float64Array(rate * 3);
    for (let i = 0; i < residual.length; i++) residual[i] = out[rate * 3 + i]! - near[rate * 3 + i]!;
    const nearToResidual = 10 * Math.log10(energy(near, rate * 3, rate * 6) / energy(residual));
    // The near end's level over the frames where it talks (the echo beside it is 20 dB and more down).
    let nearEnergy = 0;
    let outEnergy = 0;
    for (let f = (rate * 3) / 160; f < (rate * 6) / 160; f++) {
      const e = energy(near, f * 160, (f + 1) * 160);
      if (e / 160 < 1000 ** 2) continue;
      nearEnergy += e;
      outEnergy += energy(out, f * 160, (f + 1) * 160);
    }
    const levelDb = 10 * Math.log10(outEnergy / nearEnergy);
    console.log(`AEC double talk (residual suppression ${String(residualSuppression)}): near end ${nearToResidual.toFixed(1)} dB over what differs, its level ${levelDb.toFixed(2)} dB`);
    expect(nearToResidual).toBeGreaterThan(10);
    expect(Math.abs(levelDb)).toBeLessThan(1.5);
  });

  it('allocates nothing per frame', async () => {
    const rate = 16000;
    const far = speechLikeSignal({ sampleRate: rate, seconds: 1, seed: 3 });
    const mic = new Int16Array(320);
    const played = new Int16Array(320);
    const aec = new EchoCanceller({ sampleRate: rate, frameSamples: 320 });
    const run = (frames: number): void => {
      for (let n = 0; n < frames; n++) {
        const at = (n % 49) * 320;
        for (let i = 0; i < 320; i++) {
          mic[i] = far[at + i]! >> 2;
          played[i] = far[at + i]!;
        }
        aec.process(mic, 320);
        aec.farEnd(played, 320);
      }
    };
    run(300);
    const allocations = await allocationsDuring(() => run(200));
    expect(allocations.youngCollections).toBe(0);
    expect(allocations.youngBytes).toBeLessThan(8_000);
  });
});
