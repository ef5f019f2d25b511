import { SafeEmitter } from '@sip-endpoint/policy';
import { ConnectorArgumentError, ConnectorError, ConnectorForbiddenError, ConnectorUnreachableError } from './errors';
import { MAX_TIMER_MS } from './timer-limit';
import type { Call, Connection, ConnectionState, ConnectorCallState, Devices, Phone, Session, SessionStatus } from './models';

/**
 * Options of {@link ConnectorClient.watch}.
 *
 * @public
 */
export interface SessionWatcherOptions {
  /**
   * Time between the starts of two `GET /session`, in ms. The spec asks for one every one or two
   * seconds: it is the keep-alive that stops the Softphone ending the session after `session_expire`.
   * At least 10, at most 2^31 - 1.
   * @defaultValue 1000
   */
  intervalMs?: number;
}

/**
 * Events of a {@link SessionWatcher}. The first successful poll is compared with an empty session,
 * so it reports the status, each connection and each call as new.
 *
 * @remarks
 * Like every emitter of the SDK, the watcher also emits `listenerError` with a `ListenerError` of
 * `@sip-endpoint/policy` when one of its listeners throws; the watcher goes on polling.
 *
 * @public
 */
export type SessionWatcherEvents = {
  /** Every successful poll, with the whole snapshot. */
  session: [Session];
  /** `session.status` changed: new, old (undefined before the first poll). */
  statusChanged: [SessionStatus | undefined, SessionStatus | undefined];
  /** A connection appeared in `connectivities.connections`. */
  connectionAdded: [Connection];
  /** A connection's state changed: the connection, its new state, its old state. */
  connectionStateChanged: [Connection, ConnectionState | undefined, ConnectionState | undefined];
  /** A connection left `connectivities.connections`. */
  connectionRemoved: [Connection];
  /** A call appeared (by `uuid`). */
  callAdded: [Call];
  /** A call's state changed: the call, its new state, its old state. */
  callStateChanged: [Call, ConnectorCallState | undefined, ConnectorCallState | undefined];
  /** A call left `phone.calls` (its last known snapshot). */
  callRemoved: [Call];
  /** Something in `devices` changed (headset, a name, a volume, a mute): new, old. */
  devicesChanged: [Devices | undefined, Devices | undefined];
  /** `phone.vq_alarm_on` changed: the new value and the phone snapshot (MOS, RTT). */
  vqAlarmChanged: [boolean, Phone];
  /** A poll failed (unreachable, timeout, bad response, 403, ...); polling goes on. */
  pollFailed: [ConnectorError];
  /** A poll got 403 after an earlier poll had succeeded: the session expired or was closed. */
  sessionLost: [ConnectorForbiddenError];
};

/**
 * Keeps a Softphone session alive by polling `GET /session`, and turns the snapshots into change
 * events. Created (and started) by {@link ConnectorClient.watch}.
 *
 * @remarks
 * A `SafeEmitter` of `@sip-endpoint/policy`: a listener that throws does not stop the other
 * listeners or the polling; it is reported as `listenerError` (a `ListenerError` whose `cause` is
 * what the listener threw).
 *
 * @public
 */
export class SessionWatcher extends SafeEmitter<SessionWatcherEvents> {
  readonly #poll: () => Promise<Session>;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #last: Session | undefined;
  #hadSession = false;
  #inFlight: Promise<void> | undefined;

  /** @internal Use {@link ConnectorClient.watch}. */
  constructor(poll: () => Promise<Session>, options: SessionWatcherOptions = {}) {
    super();
    const intervalMs = options.intervalMs ?? 1000;
    if (typeof intervalMs !== 'number' || !(intervalMs >= 10 && intervalMs <= MAX_TIMER_MS)) {
      throw new ConnectorArgumentError('intervalMs', `must be a number of ms from 10 to ${MAX_TIMER_MS}, not ${String(options.intervalMs)}`);
    }
    this.#poll = poll;
    this.#intervalMs = intervalMs;
  }

  /** The last snapshot, or undefined before the first successful poll. */
  get session(): Session | undefined {
    return this.#last;
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.#running;
  }

  /** @internal Starts polling at once. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /**
   * Stops polling. A poll in flight is not reported. Calling it again does nothing.
   *
   * @returns Resolves once a poll in flight has settled.
   */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const started = Date.now();
      this.#inFlight = this.#once().finally(() => {
        this.#inFlight = undefined;
        if (this.#running) this.#schedule(Math.max(0, this.#intervalMs - (Date.now() - started)));
      });
    }, delayMs);
  }

  async #once(): Promise<void> {
    let session: Session;
    try {
      session = await this.#poll();
    } catch (error) {
      if (!this.#running) return;
      // The client's requests reject with ConnectorErrors only; anything else is wrapped as one.
      const failure = error instanceof ConnectorError ? error : new ConnectorUnreachableError('GET /session', 1, error);
      this.emit('pollFailed', failure);
      if (failure instanceof ConnectorForbiddenError && this.#hadSession) {
        this.#hadSession = false;
        this.emit('sessionLost', failure);
      }
      return;
    }
    if (!this.#running) return;
    this.#hadSession = true;
    const previous = this.#last;
    this.#last = session;
    this.#diff(previous ?? {}, session);
    this.emit('session', session);
  }

  #diff(before: Session, after: Session): void {
    if (before.status !== after.status) this.emit('statusChanged', after.status, before.status);

    const oldConnections = keyed(before.connectivities?.connections ?? [], (c) => `${c.user ?? ''}@${c.server ?? ''}`);
    const newConnections = keyed(after.connectivities?.connections ?? [], (c) => `${c.user ?? ''}@${c.server ?? ''}`);
    for (const [key, connection] of oldConnections) if (!newConnections.has(key)) this.emit('connectionRemoved', connection);
    for (const [key, connection] of newConnections) {
      const old = oldConnections.get(key);
      if (!old) this.emit('connectionAdded', connection);
      if (old?.state !== connection.state) this.emit('connectionStateChanged', connection, connection.state, old?.state);
    }

    const oldCalls = keyed(before.phone?.calls ?? [], (c) => c.uuid ?? '');
    const newCalls = keyed(after.phone?.calls ?? [], (c) => c.uuid ?? '');
    for (const [key, call] of oldCalls) if (!newCalls.has(key)) this.emit('callRemoved', call);
    for (const [key, call] of newCalls) {
      const old = oldCalls.get(key);
      if (!old) this.emit('callAdded', call);
      if (old?.state !== call.state) this.emit('callStateChanged', call, call.state, old?.state);
    }

    if (!sameJson(before.devices, after.devices)) this.emit('devicesChanged', after.devices, before.devices);

    const alarm = after.phone?.vq_alarm_on === true;
    if (alarm !== (before.phone?.vq_alarm_on === true)) this.emit('vqAlarmChanged', alarm, after.phone ?? {});
  }
}

/** Items by key; equal keys get a rank (`key#0`, `key#1`), so a reorder of distinct items is no change. */
function keyed<T>(items: readonly T[], key: (item: T) => string): Map<string, T> {
  const map = new Map<string, T>();
  const seen = new Map<string, number>();
  for (const item of items) {
    const base = key(item);
    const rank = seen.get(base) ?? 0;
    seen.set(base, rank + 1);
    map.set(`${base}#${rank}`, item);
  }
  return map;
}

function sameJson(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function stableJson(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  return `{${Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`)
    .join(',')}}`;
}
