import { ListenerError } from './listener-error';

/**
 * An event map: each event name to the tuple of its listener's arguments, as in
 * `type CallEvents = { stateChanged: [CallState, CallState] }`.
 *
 * @public
 */
export type EventMap = { [event: string]: unknown[] };

/** The event every {@link SafeEmitter} adds to its own map. @public */
export type ListenerErrorEvents = { listenerError: [ListenerError] };

type Listener<A extends unknown[]> = (...args: A) => void;
type AllEvents<E extends EventMap> = E & ListenerErrorEvents;
type AnyListener = (...args: never[]) => void;
interface Entry {
  fn: AnyListener;
  once: boolean;
}

/**
 * The one event emitter of the SDK: a typed emitter whose listeners cannot break it.
 *
 * @remarks
 * Every emitter of every package (Endpoint, Line, Call, AudioStream, the device providers,
 * Softphone, SessionWatcher, ...) derives from this class. A listener that throws does not stop the
 * other listeners and does not reach the code that emitted (a SIP transaction, a media packet): the
 * emitter reports it as its `listenerError` event with a {@link ListenerError}. When nothing
 * listens to `listenerError`, or a `listenerError` listener throws too, the error goes to
 * {@link SafeEmitter.unhandled}, which is `process.emitWarning` unless a host sets another.
 *
 * Why not a library: eventemitter3 and Node's EventEmitter let a throwing listener unwind into the
 * emitter, and neither offers a hook per listener call; this class is the small part of them the
 * SDK uses (on, once, off, emit, listenerCount, listeners, removeAllListeners), with that hook.
 *
 * @public
 */
export class SafeEmitter<E extends EventMap> {
  // Keyed by any event name, not by this emitter's: an emitter of more events (a provider's own
  // events beside the interface's) is then still assignable to one of fewer, from sources too.
  readonly #listeners = new Map<PropertyKey, Entry[]>();

  /** Where listener errors go that no `listenerError` listener took. @defaultValue a process warning */
  static unhandled: (error: ListenerError) => void = (error) => process.emitWarning(error);

  /** The name this emitter gives itself in a {@link ListenerError} (its class name by default). */
  protected get emitterName(): string {
    return this.constructor.name;
  }

  /** Adds a listener. */
  on<K extends keyof AllEvents<E>>(event: K, listener: Listener<AllEvents<E>[K]>): this {
    return this.#add(event, listener as unknown as AnyListener, false);
  }

  /** Same as {@link SafeEmitter.on}. */
  addListener<K extends keyof AllEvents<E>>(event: K, listener: Listener<AllEvents<E>[K]>): this {
    return this.#add(event, listener as unknown as AnyListener, false);
  }

  /** Adds a listener called at most once. */
  once<K extends keyof AllEvents<E>>(event: K, listener: Listener<AllEvents<E>[K]>): this {
    return this.#add(event, listener as unknown as AnyListener, true);
  }

  /** Removes a listener (its most recent registration); without one, nothing happens. */
  off<K extends keyof AllEvents<E>>(event: K, listener: Listener<AllEvents<E>[K]>): this {
    const entries = this.#listeners.get(event);
    if (!entries) return this;
    for (let i = entries.length - 1; i >= 0; i--) {
      if (entries[i]!.fn === (listener as unknown as AnyListener)) {
        // Copy on write: an emit in progress keeps the list it started with.
        const next = [...entries.slice(0, i), ...entries.slice(i + 1)];
        if (next.length === 0) this.#listeners.delete(event);
        else this.#listeners.set(event, next);
        break;
      }
    }
    return this;
  }

  /** Same as {@link SafeEmitter.off}. */
  removeListener<K extends keyof AllEvents<E>>(event: K, listener: Listener<AllEvents<E>[K]>): this {
    return this.off(event, listener);
  }

  /** Removes every listener of `event`, or of every event. */
  removeAllListeners(event?: keyof AllEvents<E>): this {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof AllEvents<E>): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** The listeners of `event`, in the order they were added. */
  listeners<K extends keyof AllEvents<E>>(event: K): Listener<AllEvents<E>[K]>[] {
    return (this.#listeners.get(event) ?? []).map((entry) => entry.fn as unknown as Listener<AllEvents<E>[K]>);
  }

  /**
   * Calls every listener of `event` with `args`, in order; returns whether there was any. A
   * listener that throws is reported as `listenerError` (see the class remarks), never rethrown.
   */
  emit<K extends keyof AllEvents<E>>(event: K, ...args: AllEvents<E>[K]): boolean {
    // No list is ever empty: off() and once-listeners delete the event with its last listener.
    const entries = this.#listeners.get(event);
    if (!entries) return false;
    // Stryker disable next-line ConditionalExpression: without once-listeners the filter keeps them all in a new list; only an allocation tells.
    if (entries.some((entry) => entry.once)) {
      const kept = entries.filter((entry) => !entry.once);
      if (kept.length === 0) this.#listeners.delete(event);
      else this.#listeners.set(event, kept);
    }
    for (const entry of entries) {
      try {
        (entry.fn as (...a: unknown[]) => void)(...args);
      } catch (error) {
        this.#report(event as string, error);
      }
    }
    return true;
  }

  #report(event: string, error: unknown): void {
    const reported = new ListenerError(this.emitterName, event, error);
    if (event === 'listenerError' || this.listenerCount('listenerError') === 0) {
      SafeEmitter.unhandled(reported);
      return;
    }
    (this.emit as (event: string, error: ListenerError) => boolean).call(this, 'listenerError', reported);
  }

  #add(event: keyof AllEvents<E>, listener: AnyListener, once: boolean): this {
    const entries = this.#listeners.get(event);
    this.#listeners.set(event, entries ? [...entries, { fn: listener, once }] : [{ fn: listener, once }]);
    return this;
  }
}
