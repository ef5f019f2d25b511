/**
 * SIP input handled one message per turn of the event loop. A burst of datagrams (hundreds of
 * lines' 401s or 200s at once, a flood) is read by Node in one pass of the loop; handled there,
 * one after the other, it would hold the loop, and with it every call's media clock, for as long
 * as they all take (0.8 s for 1000 lines registering at once). Each message is queued instead and
 * handled in a `setImmediate` of its own: the loop's timers and sockets run between two messages,
 * and the promises a message's handling starts settle before the next message is handled (as
 * between two datagram callbacks: sip.js relies on it, e.g. an ACK's handling completes before
 * the re-INVITE that follows it). Order is kept. An idle endpoint's message waits for nothing but
 * the end of the current pass.
 */

const queue: (() => void)[] = [];
let head = 0;
let scheduled = false;

/** Runs `task` in a turn of the event loop of its own, after the tasks queued before it. */
export function handleInSlices(task: () => void): void {
  queue.push(task);
  if (scheduled) return;
  scheduled = true;
  setImmediate(runNext);
}

function runNext(): void {
  const task = queue[head]!;
  queue[head++] = noop;
  try {
    task();
  } catch (error) {
    // The handlers catch what they can throw; one that did not must not stop the others.
    report(error);
  }
  if (head < queue.length) {
    setImmediate(runNext);
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
