import { InvalidStateError, SafeEmitter, type AudioDevice } from '@sip-endpoint/policy';
import { ConferenceMixer, type AudioDeviceProvider, type AudioInput, type AudioOutput } from '@sip-endpoint/media';
import { InvalidArgumentError, NoMediaError } from '../errors';
import { callMediaConference } from '../media/call-media';
import type { Call } from './call';

/** Events of a {@link Conference}. @public */
export type ConferenceEvents = {
  /** A call joined: it hears the microphone and the other calls, and they hear it. */
  callAdded: [Call];
  /** A call left (removed, ended, or the conference closed): it is back on its own devices. */
  callRemoved: [Call];
  /** The conference closed (split, or left with one call): every call is back on its own devices. */
  closed: [];
};

/** What a conference needs from its endpoint. */
export interface ConferenceInit {
  /** Where the conference's microphone and speaker are opened (the endpoint's device keeper). */
  devices: Pick<AudioDeviceProvider, 'openInput' | 'openOutput'>;
  /** Whether a call is one of the endpoint's, not over. */
  owns: (call: Call) => boolean;
  log: (level: number, message: string) => void;
}

/** The rate the conference mixes at: wideband, as the native streams' devices open. */
const MIX_RATE = 16000;

/**
 * A local conference (`endpoint.conference(callA, callB, ...)`): the calls and our microphone are
 * mixed, each call hears the microphone and the other calls but not itself, and the speaker plays
 * every call. `split()` puts each call back on its own devices.
 *
 * @remarks
 * Made by its {@link Endpoint}; it closes by itself when fewer than two calls are left (the last
 * one goes on with its own devices), and a call that ends leaves it. The conference uses the
 * microphone and speaker of the first call given (and follows the endpoint's selection when a
 * device is plugged in or removed, as its calls do); each call keeps its own stream, so its
 * `call.media.quality()` (MOS) and statistics go on as before. `call.mute()` inside leaves our
 * microphone out of that call only (it still carries the others); the volume is the speaker's,
 * as for a call.
 *
 * @public
 */
export class Conference extends SafeEmitter<ConferenceEvents> {
  readonly #init: ConferenceInit;
  readonly #mixer: ConferenceMixer;
  #devices: { input: AudioDevice | undefined; output: AudioDevice | undefined };
  /** The calls in, each with what stops watching its end. */
  readonly #members = new Map<Call, () => void>();
  /** Calls being retrieved before they join. */
  readonly #joining = new Set<Call>();
  #closed = false;

  /** @internal Made by the endpoint, on the devices of `first`. */
  constructor(init: ConferenceInit, first: Call) {
    super();
    this.#init = init;
    this.#devices = first.media.devices;
    this.#mixer = new ConferenceMixer({ ...this.#open(this.#devices), sampleRate: MIX_RATE });
  }

  /**
   * A conference of `calls` (at least two, each once): each is checked first, so that a call that
   * cannot join leaves the others as they were; then each joins in turn (see {@link Conference.add}).
   *
   * @internal Made by the endpoint: `endpoint.conference(callA, callB, ...)`.
   */
  static async create(init: ConferenceInit, calls: readonly Call[]): Promise<Conference> {
    if (calls.length < 2) throw new InvalidArgumentError(`a conference needs two calls or more, not ${calls.length}`);
    if (new Set(calls).size !== calls.length) throw new InvalidArgumentError('a call cannot be given twice to a conference');
    const conference = new Conference(init, calls[0]!);
    try {
      for (const call of calls) conference.#check(call);
      for (const call of calls) await conference.add(call);
    } catch (error) {
      conference.close();
      throw error;
    }
    return conference;
  }

  /** The calls in the conference. */
  get calls(): Call[] {
    return [...this.#members.keys()];
  }

  /** The microphone and speaker the conference uses (the first call's). */
  get devices(): { input: AudioDevice | undefined; output: AudioDevice | undefined } {
    return { ...this.#devices };
  }

  /** Whether the conference is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Adds a call: a call we hold is retrieved first (a re-INVITE), a call held by the far end joins
   * as it is. Adding a call already in does nothing.
   *
   * @throws InvalidStateError when the conference is closed, the call is not `CONNECTED` or
   * `HELD`, or it is in another conference; {@link InvalidArgumentError} for a call of another
   * endpoint; {@link NoMediaError} when it has no audio stream yet or its stream runs in a media
   * worker thread (`mediaThreads`); `RequestFailedError` when the retrieve fails.
   */
  async add(call: Call): Promise<void> {
    if (this.#members.has(call)) return;
    this.#check(call);
    const heldBy = call.info().heldBy;
    if (heldBy === 'local' || heldBy === 'both') {
      this.#joining.add(call);
      try {
        await call.retrieve();
      } finally {
        this.#joining.delete(call);
      }
      // The call may have ended, or the conference closed, while the re-INVITE went.
      if (this.#members.has(call)) return;
      this.#check(call);
    }
    const media = call.media;
    callMediaConference(media).join(this.#mixer);
    const ended = (): void => this.remove(call);
    // The endpoint moves every call to the devices it selects now: the conference follows them.
    const moved = (devices: { input: AudioDevice | undefined; output: AudioDevice | undefined }): void => this.#follow(devices);
    media.on('closed', ended);
    media.on('devicesMoved', moved);
    this.#members.set(call, () => {
      media.off('closed', ended);
      media.off('devicesMoved', moved);
    });
    this.#init.log(3, `conference: ${call.id} joined (${this.#members.size} calls)`);
    this.emit('callAdded', call);
  }

  /** Takes a call out: it goes back to its own devices. A conference left with one call closes. */
  remove(call: Call): void {
    const stop = this.#members.get(call);
    if (!stop) return;
    this.#leave(call, stop);
    if (this.#members.size < 2 && this.#joining.size === 0) this.close();
  }

  /** Splits the conference: every call goes back to its own devices, and it closes. */
  split(): void {
    this.close();
  }

  /** Same as {@link Conference.split}. Twice is harmless. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [call, stop] of [...this.#members]) this.#leave(call, stop);
    this.#mixer.close();
    this.#init.log(3, 'conference closed');
    this.emit('closed');
  }

  #leave(call: Call, stop: () => void): void {
    stop();
    this.#members.delete(call);
    callMediaConference(call.media).leave();
    this.#init.log(3, `conference: ${call.id} left`);
    this.emit('callRemoved', call);
  }

  /** Mixes with the devices the endpoint selected now, when they are not the ones in use. */
  #follow(devices: { input: AudioDevice | undefined; output: AudioDevice | undefined }): void {
    if (this.#closed || (devices.input?.id === this.#devices.input?.id && devices.output?.id === this.#devices.output?.id)) return;
    this.#devices = { ...devices };
    const opened = this.#open(devices);
    this.#mixer.setDevices(opened.input, opened.output);
    this.#init.log(3, `conference: moved to the microphone ${devices.input?.name ?? '(none)'} and the speaker ${devices.output?.name ?? '(none)'}`);
  }

  /** Throws when `call` cannot join now (see {@link Conference.add}). */
  #check(call: Call): void {
    if (this.#closed) throw new InvalidStateError('the conference is closed', 'CLOSED');
    const state = call.state;
    if (state !== 'CONNECTED' && state !== 'HELD') throw new InvalidStateError(`a call that is ${state} cannot join a conference`, state);
    if (!this.#init.owns(call)) throw new InvalidArgumentError(`${call.id} is not a call of this endpoint`);
    const side = callMediaConference(call.media);
    if (side.joined() && !this.#members.has(call)) throw new InvalidStateError(`${call.id} is in another conference`, state);
    const unavailable = side.unavailable();
    if (unavailable !== undefined) throw new NoMediaError(`${call.id} cannot join a conference: ${unavailable}`);
  }

  /** The conference's own microphone and speaker, opened at the mix rate; one that cannot be opened is left out, as for a call. */
  #open(devices: { input: AudioDevice | undefined; output: AudioDevice | undefined }): { input?: AudioInput; output?: AudioOutput } {
    const init = this.#init;
    const open = <T>(kind: string, device: AudioDevice | undefined, opener: (id: string) => T): T | undefined => {
      if (!device) return undefined;
      try {
        return opener(device.id);
      } catch (error) {
        init.log(2, `conference: the ${kind} ${device.id} could not be opened (${(error as Error).message}); the conference goes on without it`);
        return undefined;
      }
    };
    const input = open('microphone', devices.input, (id) => init.devices.openInput(id, MIX_RATE));
    const output = open('speaker', devices.output, (id) => init.devices.openOutput(id, MIX_RATE));
    return { ...(input ? { input } : {}), ...(output ? { output } : {}) };
  }
}
