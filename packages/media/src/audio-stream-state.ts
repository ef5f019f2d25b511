import type { TransitionTable } from '@sip-endpoint/policy';

/**
 * The states of an {@link AudioStream}, in the order it goes through them.
 *
 * @public
 */
export const AUDIO_STREAM_STATES = ['NEW', 'RUNNING', 'CLOSED'] as const;

/**
 * The lifecycle of an {@link AudioStream}:
 *
 * ```text
 *   NEW ──start()──▶ RUNNING
 *    │                  │
 *    │ close()          │ close()
 *    ▼                  │
 *  CLOSED ◀─────────────┘
 * ```
 *
 * `NEW`: the sockets are open and packets that arrive are already counted and buffered, nothing
 * is sent or played. `RUNNING`: the media clock sends and plays every ptime (whatever the
 * direction: hold is a direction, not a state). `CLOSED`: BYE sent, ports, codec and devices
 * released; terminal, and every operation but the getters, `stats()`, the mute setters and
 * `close()` throws `StreamClosedError`.
 *
 * @public
 */
export type AudioStreamState = (typeof AUDIO_STREAM_STATES)[number];

/** The allowed moves of an {@link AudioStreamState}. */
export const AUDIO_STREAM_TRANSITIONS: TransitionTable<AudioStreamState> = {
  NEW: ['RUNNING', 'CLOSED'],
  RUNNING: ['CLOSED'],
  CLOSED: [],
};
