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

/**
 * The most messages that wait. A flood beyond what the endpoint can handle is dropped here, as the
 * kernel dropped it when each datagram was handled as it was read: queued without a bound, every
 * message would wait longer and longer, until all of them came after their transactions' timers.
 */
export const MAX_WAITING = 2000;

const queue: (() => void)[] = [];
let head = 0;
let scheduled = false;
let dropped = 0;
let lastDropWarning = -Infinity;
let lastErrorWarning = -Infinity;

/** Messages dropped because {@link MAX_WAITING} were waiting, since the process started. */
export function droppedInput(): number {
  return dropped;
}

/**
 * Runs `task` in a turn of the event loop of its own, after the tasks queued before it; drops it
 * (and says so, at most once a second) when {@link MAX_WAITING} are waiting.
 */
export function handleInTurn(task: () => void): void {
  if (queue.length - head >= MAX_WAITING) {
    dropped++;
    const now = performance.now();
    if (now - lastDropWarning >= 1000) {
      lastDropWarning = now;
      warn(`SIP input: ${MAX_WAITING} messages wait to be handled; ${dropped} dropped so far (more arrive than the endpoint can handle)`, 'SipInputWarning');
    }
    return;
  }
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
    // Give back the slots of handled messages now and then, not only once the queue is empty.
    if (head >= 1024) {
      queue.splice(0, head);
      head = 0;
    }
    setImmediate(runNext);
    return;
  }
  queue.length = 0;
  head = 0;
  scheduled = false;
}

function noop(): void {}

/** A handler that threw: a warning with its stack, at most once a second. */
function report(error: unknown): void {
  const now = performance.now();
  if (now - lastErrorWarning < 1000) return;
  lastErrorWarning = now;
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  warn(`a SIP input handler threw: ${error instanceof Error ? error.message : String(error)}`, 'SipInputWarning', detail);
}

function warn(message: string, type: string, detail?: string): void {
  try {
    process.emitWarning(message, { type, ...(detail !== undefined ? { detail } : {}) });
  } catch {
    // Nothing is left to tell.
  }
}
