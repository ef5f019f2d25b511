import { MediaClock } from '@sip-endpoint/media';
import { waitFor } from '@sip-endpoint/test-support';

describe('MediaClock', () => {
  it('spreads its subscribers over the period and keeps each one on its phase through a long stall', async () => {
    const clock = new MediaClock();
    const ticks: number[][] = Array.from({ length: 20 }, () => []);
    const stops = ticks.map((list) => clock.add(20, (due) => list.push(due)));
    try {
      await waitFor(() => ticks.every((list) => list.length >= 3), 5000, 'three ticks each');
      // A stall of 150 ms: more than the five overdue ticks the clock makes up at once.
      const until = performance.now() + 150;
      while (performance.now() < until);
      const atStall = ticks.map((list) => list.length);
      await waitFor(() => ticks.every((list, i) => list.length >= atStall[i]! + 3), 5000, 'three ticks each after the stall');
    } finally {
      for (const stop of stops) stop();
    }
    expect(clock.size).toBe(0);
    for (const list of ticks) {
      // Every tick of a subscriber, before and after the stall, is on its own phase: a whole
      // number of periods after its first.
      for (const due of list) {
        const periods = (due - list[0]!) / 20;
        expect(Math.abs(periods - Math.round(periods))).toBeLessThan(1e-6);
      }
      // The stall cost ticks (some periods were skipped), never a repeated or a backward one.
      for (let k = 1; k < list.length; k++) expect(list[k]! - list[k - 1]!).toBeGreaterThanOrEqual(20 - 1e-6);
    }
    // And the phases stay spread over the period (the n-th subscriber about n ms after the first),
    // not gathered on the millisecond the stall ended.
    const last = ticks.map((list) => list.at(-1)!);
    const phases = last.map((due) => Math.round((((due - last[0]!) % 20) + 20) % 20));
    expect(new Set(phases).size).toBeGreaterThanOrEqual(15);
    expect(ticks.some((list) => list.some((due, k) => k > 0 && due - list[k - 1]! > 20 + 1e-6))).toBe(true);
  });
});
