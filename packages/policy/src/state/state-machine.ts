import { InvalidStateError } from './invalid-state-error';

/**
 * The allowed moves of a state machine: each state to the states it may go to. A state that maps
 * to an empty list is terminal.
 *
 * @public
 */
export type TransitionTable<S extends string> = { readonly [From in S]: readonly S[] };

/**
 * One state machine of the SDK (Endpoint, Line, Call, AudioStream): the current state and the one
 * place that changes it, checked against a {@link TransitionTable}.
 *
 * @remarks
 * `to()` with the current state does nothing and returns `false`; a move the table does not have
 * throws {@link InvalidStateError} (a defect of the SDK, which the tests look for); a legal move
 * calls `onChange(next, previous)` and returns `true`.
 *
 * @public
 */
export class StateMachine<S extends string> {
  readonly #name: string;
  readonly #table: TransitionTable<S>;
  readonly #onChange: (next: S, previous: S) => void;
  #state: S;

  /**
   * @param name - What the machine belongs to, for error messages (`call-3`, `line 0`).
   * @param initial - The first state.
   * @param table - The allowed moves.
   * @param onChange - Told of each move, after the state changed.
   */
  constructor(name: string, initial: S, table: TransitionTable<S>, onChange: (next: S, previous: S) => void) {
    this.#name = name;
    this.#state = initial;
    this.#table = table;
    this.#onChange = onChange;
  }

  /** The current state. */
  get state(): S {
    return this.#state;
  }

  /** Whether the current state allows a move to `next` (or is `next`). */
  can(next: S): boolean {
    return next === this.#state || this.#table[this.#state].includes(next);
  }

  /** Whether the current state is terminal (no move out of it). */
  get terminal(): boolean {
    return this.#table[this.#state].length === 0;
  }

  /** Moves to `next`; see the class remarks. */
  to(next: S): boolean {
    const previous = this.#state;
    if (next === previous) return false;
    if (!this.#table[previous].includes(next)) throw new InvalidStateError(`${this.#name}: no transition from ${previous} to ${next}`, previous);
    this.#state = next;
    this.#onChange(next, previous);
    return true;
  }
}
