// CPU of each audio processor per stream: ns per 20 ms frame, and that as a share of the frame's
// 20 ms (the share of one core a stream's processor takes). Run: npx tsx bench/audio-processing.ts
import { COMFORT_NOISE_ORDER, ComfortNoiseGenerator, DtxController, EchoCanceller, GainControl, NoiseSuppressor } from '../packages/media/src/index';
import { speechLikeSignal } from '../packages/media/src/testing';

const FRAMES = 2000;

function bench(name: string, rate: number, make: () => (frame: Int16Array, far: Int16Array) => void): void {
  const samples = rate / 50;
  const signal = speechLikeSignal({ sampleRate: rate, seconds: 4, seed: 3 });
  const frame = new Int16Array(samples);
  const far = new Int16Array(samples);
  const run = make();
  const count = Math.floor(signal.length / samples) - 1;
  const pass = (frames: number): void => {
    for (let n = 0; n < frames; n++) {
      const at = (n % count) * samples;
      for (let i = 0; i < samples; i++) {
        frame[i] = signal[at + i]! >> 2;
        far[i] = signal[at + i]!;
      }
      run(frame, far);
    }
  };
  pass(300);
  const start = process.hrtime.bigint();
  pass(FRAMES);
  const ns = Number(process.hrtime.bigint() - start) / FRAMES;
  console.log(`| ${name} | ${rate / 1000} kHz | ${Math.round(ns).toLocaleString('en')} | ${((ns / 20e6) * 100).toFixed(2)} % |`);
}

console.log('| processor | rate | ns per 20 ms frame | share of the frame |');
console.log('| --- | --- | --- | --- |');
for (const rate of [8000, 16000]) {
  bench('echo control (200 ms tail, delay estimator up to 500 ms)', rate, () => {
    const aec = new EchoCanceller({ sampleRate: rate, frameSamples: rate / 50 });
    return (frame, far) => {
      aec.process(frame, frame.length);
      aec.farEnd(far, far.length);
    };
  });
  bench('echo control, delay estimator off (`maxDelayMs: 0`)', rate, () => {
    const aec = new EchoCanceller({ sampleRate: rate, frameSamples: rate / 50, maxDelayMs: 0 });
    return (frame, far) => {
      aec.process(frame, frame.length);
      aec.farEnd(far, far.length);
    };
  });
  bench('noise suppression (RNNoise)', rate, () => {
    const ns = new NoiseSuppressor(rate, rate / 50);
    return (frame) => ns.process(frame, frame.length);
  });
  bench('AGC', rate, () => {
    const agc = new GainControl({ sampleRate: rate });
    return (frame) => agc.process(frame, frame.length);
  });
  bench('VAD + DTX (WebRTC VAD, the CN payload of 10 coefficients at each SID)', rate, () => {
    const dtx = new DtxController({ sampleRate: rate, frameMs: 20, vadLevel: 2 });
    const sid = new Uint8Array(1 + COMFORT_NOISE_ORDER);
    return (frame) => {
      if (dtx.decide(frame, frame.length) === 'sid') dtx.writeSid(sid);
    };
  });
  bench('comfort noise played (a payload of 10 coefficients)', rate, () => {
    const cn = new ComfortNoiseGenerator(rate);
    cn.setPayload(Uint8Array.of(50, 14, 130, 129, 134, 125, 125, 126, 128, 130, 127));
    return (frame) => cn.generate(frame, frame.length);
  });
}
