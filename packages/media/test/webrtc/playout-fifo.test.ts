import { allocationsDuring } from '@sip-endpoint/test-support';
import { PlayoutFifo } from '../../src/webrtc/playout-fifo';

// The queue between libwebrtc's bursts and the media clock's ticks (echo control on the WebRTC
// engine): every sample out in the order it came, silence only while it fills, a bounded delay.

/** Frames of 4 samples numbered on from `from` (1, 2, 3, ...: never 0, which is silence here). */
function numbered(from: number, count: number): Int16Array {
  return Int16Array.from({ length: count }, (_, i) => from + i);
}

describe('PlayoutFifo', () => {
  it('plays once two frames are held, then every sample in order; bursts and gaps even out', () => {
    const fifo = new PlayoutFifo({ frameSamples: 4 });
    const out = new Int16Array(4);
    const played: number[] = [];
    const tick = (): void => {
      fifo.pull(out);
      played.push(...out);
    };
    fifo.push(numbered(1, 4), 4);
    tick(); // one frame held: it waits for the second
    expect(played).toEqual([0, 0, 0, 0]);
    // A burst of three frames, then ticks with nothing new: it plays them one a tick.
    fifo.push(numbered(5, 12), 12);
    tick();
    tick();
    tick();
    tick();
    expect(played.slice(4)).toEqual([...numbered(1, 16)]);
    expect(fifo.underruns).toBe(0);
    expect(fifo.level).toBe(0);
  });

  it('runs dry as silence (an underrun), then waits for two frames again; what came late is not lost', () => {
    const fifo = new PlayoutFifo({ frameSamples: 4 });
    const out = new Int16Array(4);
    fifo.push(numbered(1, 10), 10);
    fifo.pull(out);
    fifo.pull(out);
    expect([...out]).toEqual([5, 6, 7, 8]);
    fifo.pull(out); // two samples left: they play, then silence
    expect([...out]).toEqual([9, 10, 0, 0]);
    expect(fifo.underruns).toBe(1);
    fifo.push(numbered(11, 4), 4);
    fifo.pull(out); // one frame held after running dry: it waits
    expect([...out]).toEqual([0, 0, 0, 0]);
    fifo.push(numbered(15, 4), 4);
    fifo.pull(out);
    expect([...out]).toEqual([11, 12, 13, 14]);
  });

  it('past ten frames held, the oldest go down to four: the delay stays bounded, the newest are kept', () => {
    const fifo = new PlayoutFifo({ frameSamples: 4 });
    const out = new Int16Array(4);
    fifo.push(numbered(1, 40), 40);
    expect(fifo.level).toBe(40); // ten frames: not past the mark
    fifo.push(numbered(41, 4), 4);
    expect(fifo.level).toBe(16);
    expect(fifo.trimmed).toBe(28);
    fifo.pull(out);
    expect([...out]).toEqual([29, 30, 31, 32]);
    // More than it can hold at once still ends with the newest.
    fifo.push(numbered(1000, 400), 400);
    expect(fifo.level).toBe(16);
    for (let i = 0; i < 4; i++) fifo.pull(out);
    expect([...out]).toEqual([1396, 1397, 1398, 1399]);
    fifo.clear();
    expect(fifo.level).toBe(0);
  });

  it('allocates nothing per frame', async () => {
    const fifo = new PlayoutFifo({ frameSamples: 160 });
    const frame = numbered(1, 160);
    const out = new Int16Array(160);
    const run = (frames: number): void => {
      for (let n = 0; n < frames; n++) {
        fifo.push(frame, 160);
        if (n % 3 !== 0) fifo.pull(out);
      }
    };
    run(500);
    const allocations = await allocationsDuring(() => run(2000));
    expect(allocations.youngCollections).toBe(0);
    expect(allocations.youngBytes).toBeLessThan(8_000);
  });
});
