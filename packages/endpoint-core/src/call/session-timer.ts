import { timerDelay } from '../timer-delay';

/** Our Min-SE (RFC 4028): the shortest session interval we accept, in seconds. */
export const MIN_SESSION_EXPIRES = 90;

/** A `Session-Expires` header: the interval and who refreshes. */
export interface SessionExpires {
  seconds: number;
  refresher: 'uac' | 'uas' | undefined;
}

/** Parses `Session-Expires` (or its compact form `x`); undefined when absent or malformed. */
export function parseSessionExpires(value: string | undefined): SessionExpires | undefined {
  if (!value) return undefined;
  const match = /^\s*(\d{1,10})\s*(;.*)?$/.exec(value);
  if (!match) return undefined;
  const seconds = Number(match[1]);
  if (!Number.isSafeInteger(seconds) || seconds <= 0) return undefined;
  const refresher = /;\s*refresher\s*=\s*(uac|uas)\b/i.exec(match[2] ?? '')?.[1]?.toLowerCase() as 'uac' | 'uas' | undefined;
  return { seconds, refresher };
}

/** Parses `Min-SE`; undefined when absent or malformed. */
export function parseMinSe(value: string | undefined): number | undefined {
  const match = value ? /^\s*(\d{1,10})\s*(;.*)?$/.exec(value) : null;
  return match ? Number(match[1]) : undefined;
}

/** Whether a `Supported` or `Require` header value lists the `timer` option tag. */
export function listsTimer(values: readonly string[]): boolean {
  return values.some((value) => value.split(',').some((tag) => tag.trim().toLowerCase() === 'timer'));
}

/**
 * The session timer of one call (RFC 4028). When we refresh, a refresh is due every half
 * interval; when the far end refreshes, the session ends if no refresh came by the interval less
 * a third (at most 32 s), as section 10 says.
 */
export class SessionTimer {
  #seconds = 0;
  #weRefresh = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #refresh: () => Promise<void>;
  readonly #expire: () => void;
  readonly #minSe: number;

  /**
   * @param refresh - Sends a refresh (a re-INVITE carrying {@link SessionTimer.requestHeaders}).
   * @param expire - Ends the session: no refresh came in time.
   */
  constructor(refresh: () => Promise<void>, expire: () => void, minSe = MIN_SESSION_EXPIRES) {
    this.#minSe = minSe;
    this.#refresh = refresh;
    this.#expire = expire;
  }

  /** Whether a session interval is in force. */
  get active(): boolean {
    return this.#seconds > 0;
  }

  /** The interval in force, in seconds (0 when none). */
  get seconds(): number {
    return this.#seconds;
  }

  /** Whether we are the refresher. */
  get weRefresh(): boolean {
    return this.#weRefresh;
  }

  /** A request or response set the interval and refresher: (re)start the clock. */
  set(seconds: number, weRefresh: boolean): void {
    this.#seconds = seconds;
    this.#weRefresh = weRefresh;
    this.#arm();
  }

  /** Headers of a refresh (or any re-INVITE) we send while the timer runs. */
  requestHeaders(): string[] {
    if (!this.active) return [];
    return [`Session-Expires: ${this.#seconds};refresher=${this.#weRefresh ? 'uac' : 'uas'}`, `Min-SE: ${this.#minSe}`];
  }

  /** Stops the clock (the call ended). */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#seconds = 0;
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#seconds <= 0) return;
    if (this.#weRefresh) {
      this.#timer = setTimeout(() => {
        this.#refresh().catch(() => this.#expire());
      }, timerDelay((this.#seconds * 1000) / 2));
    } else {
      const margin = Math.min(32, this.#seconds / 3);
      this.#timer = setTimeout(() => this.#expire(), timerDelay((this.#seconds - margin) * 1000));
    }
    this.#timer.unref?.();
  }
}
