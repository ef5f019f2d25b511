/**
 * SIP input handled in slices. A burst of datagrams (hundreds of lines' 401s or 200s at once, a
 * flood) is read by Node in one pass of the event loop; handled there, one after the other, it
 * would hold the loop, and with it every call's media clock, for as long as they all take. Each
 * message is queued instead, and the queue is worked through in slices of at most
 * {@link SLICE_MS}, the loop's timers and sockets running between two slices. Order is kept. An
 * idle endpoint's message waits for nothing but the end of the current pass (`setImmediate`).
 */

/** The longest a slice runs before the loop gets its turn, in ms. */
export const SLICE_MS = 5;

const queue: (() => void)[] = [];
let head = 0;
let scheduled = false;

/** Runs `task` in the next slice, after the tasks queued before it. */
export function handleInSlices(task: () => void): void {
  queue.push(task);
  if (scheduled) return;
  scheduled = true;
  setImmediate(drain);
}

function drain(): void {
  const until = performance.now() + SLICE_MS;
  while (head < queue.length) {
    const task = queue[head]!;
    queue[head++] = noop;
    try {
      task();
    } catch (error) {
      // The handlers catch what they can throw; one that did not must not stop the others.
      report(error);
    }
    if (performance.now() >= until) break;
  }
  if (head < queue.length) {
    setImmediate(drain);
    return;
  }
  queue.length = 0;
  head = 0;
  scheduled = false;
}

function noop(): void {}

function report(error: unknown): void {
  try {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.emitWarning(`a SIP input handler threw: ${error instanceof Error ? error.message : String(error)}`, { type: 'SipInputWarning', detail });
  } catch {
    // Nothing is left to tell.
  }
}
