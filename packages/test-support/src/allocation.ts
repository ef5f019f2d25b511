import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/**
 * V8's `gc()`, exposed at run time (jest gives no way to pass `--expose-gc` to its workers).
 * Throws when it cannot be had: an allocation test must not pass by measuring nothing.
 */
export function fullCollection(): void {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: unknown }).gc;
    if (typeof exposed === 'function') {
      collect = exposed as () => void;
    } else {
      setFlagsFromString('--expose-gc');
      const gc: unknown = runInNewContext('gc');
      if (typeof gc !== 'function') throw new Error('V8 would not expose gc(): the allocation test cannot measure anything');
      collect = gc as () => void;
    }
  }
  collect();
}

/** What `work` allocated on V8's young generation, see {@link allocationsDuring}. */
export interface Allocations {
  /** Young-generation (scavenge) collections that ran while the work ran. */
  youngCollections: number;
  /** Growth of the young generation's used bytes over the work: what it allocated, when no collection ran. */
  youngBytes: number;
}

const youngUsed = (): number => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_used_size ?? Number.NaN;

/**
 * What `work` (synchronous) allocated. The heap is collected in full first, so the young
 * generation starts empty: then the growth of its used bytes is what the work allocated,
 * and a collection during the work means it allocated more than the young generation holds
 * (megabytes). A test asserts both: no collection and a byte budget far below one object per
 * call. (The heap's total size alone cannot tell: a collection in between hides what was allocated.)
 */
export async function allocationsDuring(work: () => void): Promise<Allocations> {
  let young = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) young++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  fullCollection();
  // The observer reports asynchronously: let the full collection's entry (and anything pending) arrive first.
  await new Promise((resolve) => setTimeout(resolve, 10));
  fullCollection();
  const before = young;
  const usedBefore = youngUsed();
  work();
  const youngBytes = youngUsed() - usedBefore;
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  if (Number.isNaN(youngBytes)) throw new Error("V8 reported no 'new_space': the allocation test cannot measure anything");
  return { youngCollections: young - before, youngBytes };
}
