import { ConferenceMixer, StreamClosedError, ToneGenerator, type AudioInput, type AudioOutput, type MediaClock } from '@sip-endpoint/media';
import { allocationsDuring } from '@sip-endpoint/test-support';
import { concatSamples, powerAt } from '../../src/audio/signal-analysis';

/** A clock the test ticks by hand: every subscriber once per `tick()`. */
function manualClock(): { clock: Pick<MediaClock, 'add'>; tick: (count?: number) => void; size: () => number } {
  // An array walked by index: the allocation test counts what a tick allocates, not an iterator's.
  let ticks: (() => void)[] = [];
  return {
    clock: {
      add: (_periodMs: number, tick: (now: number) => void) => {
        const run = (): void => tick(0);
        ticks = [...ticks, run];
        return () => {
          ticks = ticks.filter((other) => other !== run);
        };
      },
    },
    tick: (count = 1) => {
      for (let i = 0; i < count; i++) for (let t = 0; t < ticks.length; t++) ticks[t]!();
    },
    size: () => ticks.length,
  };
}

const device = (kind: 'input' | 'output') => ({ id: `test-${kind}`, name: `Test ${kind}`, kind });

function toneInput(frequency: number, sampleRate: number, levelDbfs = -10): AudioInput {
  const generator = new ToneGenerator(sampleRate, [frequency], levelDbfs);
  return { device: device('input'), sampleRate, read: (frame, length) => generator.fill(frame, length), close: () => undefined };
}

function recorder(sampleRate: number): AudioOutput & { samples: () => Int16Array; clear: () => void } {
  let chunks: Int16Array[] = [];
  return {
    device: device('output'),
    sampleRate,
    write: (frame, length) => chunks.push(frame.slice(0, length)),
    close: () => undefined,
    samples: () => concatSamples(chunks),
    clear: () => {
      chunks = [];
    },
  };
}

/** A stream's side of a leg for the test: writes a tone as what it "received", records what it "sends". */
function fakeStream(rate: number, frequency: number | undefined) {
  const generator = frequency === undefined ? undefined : new ToneGenerator(rate, [frequency], -10);
  const length = (rate * 20) / 1000;
  const received = new Int16Array(length);
  const sent: Int16Array[] = [];
  return {
    length,
    received,
    /** One stream tick: read what to send, write what came. */
    step(leg: { read(frame: Int16Array, length: number): void; write(frame: Int16Array, length: number): void }) {
      const frame = new Int16Array(length);
      leg.read(frame, length);
      sent.push(frame);
      if (generator) generator.fill(received, length);
      else received.fill(0);
      leg.write(received, length);
    },
    sent: () => concatSamples(sent),
    clear: () => {
      sent.length = 0;
    },
  };
}

/** Power at `f` in dB relative to a full-scale sine's (about -13 dB for a tone at -10 dBFS). */
const levelDb = (samples: Int16Array, rate: number, f: number): number => 10 * Math.log10(powerAt(samples, rate, f) / ((32767 * 32767 * samples.length) / 4) + 1e-12);

describe('ConferenceMixer', () => {
  it('gives every leg the microphone and the other legs, never itself; the speaker plays the legs', () => {
    const manual = manualClock();
    const speaker = recorder(16000);
    const mixer = new ConferenceMixer({ input: toneInput(700, 16000), output: speaker, clock: manual.clock });
    // Leg a at 8 kHz (G.711), leg b at 16 kHz: the mixer resamples a both ways.
    const a = fakeStream(8000, 400);
    const b = fakeStream(16000, 1100);
    const legA = mixer.join(8000);
    const legB = mixer.join(16000);
    for (let i = 0; i < 50; i++) {
      manual.tick();
      a.step(legA);
      b.step(legB);
    }
    const sentA = a.sent().subarray(800);
    const sentB = b.sent().subarray(1600);
    const played = speaker.samples().subarray(1600);
    // a sends our microphone and b, not itself.
    expect(levelDb(sentA, 8000, 700)).toBeGreaterThan(-20);
    expect(levelDb(sentA, 8000, 1100)).toBeGreaterThan(-20);
    expect(levelDb(sentA, 8000, 400)).toBeLessThan(-60);
    expect(levelDb(sentB, 16000, 700)).toBeGreaterThan(-20);
    expect(levelDb(sentB, 16000, 400)).toBeGreaterThan(-20);
    expect(levelDb(sentB, 16000, 1100)).toBeLessThan(-60);
    // The speaker: both legs, not our own microphone.
    expect(levelDb(played, 16000, 400)).toBeGreaterThan(-20);
    expect(levelDb(played, 16000, 1100)).toBeGreaterThan(-20);
    expect(levelDb(played, 16000, 700)).toBeLessThan(-60);
    mixer.close();
    expect(manual.size()).toBe(0);
  });

  it('saturates sums instead of wrapping them', () => {
    const manual = manualClock();
    const full: AudioInput = { device: device('input'), sampleRate: 16000, read: (frame, length) => frame.fill(30000, 0, length), close: () => undefined };
    const mixer = new ConferenceMixer({ input: full, clock: manual.clock });
    const leg = mixer.join(16000);
    const other = mixer.join(16000);
    const loud = new Int16Array(320).fill(30000);
    const sent = new Int16Array(320);
    for (let i = 0; i < 3; i++) {
      other.write(loud, 320);
      manual.tick();
      leg.read(sent, 320);
    }
    expect(Math.min(...sent)).toBe(32767);
    mixer.close();
  });

  it('lets legs join and leave while it mixes; a muted leg does not send the microphone but still the others', () => {
    const manual = manualClock();
    const mixer = new ConferenceMixer({ input: toneInput(700, 16000), clock: manual.clock });
    const a = fakeStream(16000, 400);
    const b = fakeStream(16000, 1100);
    const legA = mixer.join(16000);
    for (let i = 0; i < 20; i++) {
      manual.tick();
      a.step(legA);
    }
    expect(levelDb(a.sent().subarray(320), 16000, 1100)).toBeLessThan(-60);
    const legB = mixer.join(16000);
    expect(mixer.legs).toBe(2);
    a.clear();
    /** 20 ticks: the mixer, then each leg's stream taking its frame. */
    const mix = (): void => {
      for (let i = 0; i < 20; i++) {
        manual.tick();
        a.step(legA);
        b.step(legB);
      }
    };
    mix();
    expect(levelDb(a.sent().subarray(960), 16000, 1100)).toBeGreaterThan(-20);
    legA.muted = true;
    a.clear();
    b.clear();
    mix();
    expect(levelDb(a.sent().subarray(960), 16000, 700)).toBeLessThan(-60);
    expect(levelDb(a.sent().subarray(960), 16000, 1100)).toBeGreaterThan(-20);
    expect(levelDb(b.sent().subarray(960), 16000, 700)).toBeGreaterThan(-20);
    legB.leave();
    legB.leave();
    expect(legB.left).toBe(true);
    a.clear();
    b.clear();
    mix();
    // b is gone: a hears nothing of it, and b reads silence.
    expect(levelDb(a.sent().subarray(960), 16000, 1100)).toBeLessThan(-60);
    expect(b.sent().every((sample) => sample === 0)).toBe(true);
    mixer.close();
    expect(legA.left).toBe(true);
    expect(() => mixer.join(16000)).toThrow(StreamClosedError);
  });

  it('allocates nothing per frame once the legs joined (48 kHz and 8 kHz legs: both resampled)', async () => {
    const manual = manualClock();
    const speaker: AudioOutput = { device: device('output'), sampleRate: 16000, write: () => undefined, close: () => undefined };
    const mixer = new ConferenceMixer({ input: toneInput(700, 16000), output: speaker, clock: manual.clock });
    const legs = [mixer.join(48000), mixer.join(8000)];
    const frames = legs.map((leg) => ({ leg, frame: new Int16Array((leg.inputRate * 20) / 1000), tone: new ToneGenerator(leg.outputRate, [500], -10) }));
    const run = (count: number): void => {
      for (let n = 0; n < count; n++) {
        manual.tick();
        for (let f = 0; f < frames.length; f++) {
          const { leg, frame, tone } = frames[f]!;
          leg.read(frame, frame.length);
          tone.fill(frame, frame.length);
          leg.write(frame, frame.length);
        }
      }
    };
    run(1500); // until V8 has optimized it
    const allocations = await allocationsDuring(() => run(1000));
    expect(allocations.youngCollections).toBe(0);
    // One 16-byte object per frame would be 16 kB; the test's own loop allocates a few iterators.
    expect(allocations.youngBytes).toBeLessThan(8_000);
    mixer.close();
  }, 30_000);
});
