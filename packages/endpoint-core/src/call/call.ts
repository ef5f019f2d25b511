import { EventEmitter } from 'eventemitter3';
import { Invitation, Inviter, SessionState, type Session } from 'sip.js';
import { SipEndpointError } from '@sip-endpoint/config';
import type { CallStateName } from '@sip-endpoint/policy';
import type { AudioStream, DtmfEvent, VqReport } from '@sip-endpoint/media';
import type { MediaSessionDescriptionHandler } from '../media/media-session-description-handler';

/** An operation the call's state does not allow. @public */
export class InvalidStateError extends SipEndpointError {
  constructor(message: string) {
    super('ERR_SIP_INVALID_STATE', message);
  }
}

/** A plain snapshot of a call. @public */
export interface CallInfo {
  id: string;
  /** `X-Genesys-CallUUID`, when the call has one. */
  uuid: string | undefined;
  /** 0-based Connectivity line. */
  line: number;
  direction: 'incoming' | 'outgoing';
  state: CallStateName;
  /** The far end's URI. */
  remote: string;
  /** The negotiated codec, once connected. */
  codec: string | undefined;
  /** The SIP status that ended an outgoing call that was refused (e.g. 486), when there was one. */
  rejectedWith: number | undefined;
  /** MOS of the call and of the last interval, RTT, loss, once media flows. */
  quality: { mos: number; intervalMos: number; rttMs: number | undefined; packetsLost: number; jitterMs: number; vqAlarm: boolean } | undefined;
}

/** Events of a {@link Call}. @public */
export type CallEvents = {
  stateChanged: [CallStateName, CallStateName];
  dtmf: [DtmfEvent];
  vqAlarm: [VqReport];
};

let counter = 0;

/**
 * One call of the endpoint, incoming or outgoing. Created by the endpoint (`makeCall`, or handed
 * out with `incomingCall`); states are the Connector API's:
 *
 * ```
 * outgoing: IN_PROGRESS ─18x─> ALERTING ─200─> CONNECTED ⇄ HELD ─> DISCONNECTED
 * incoming: RINGING ─answer─> CONNECTED ⇄ HELD ─> DISCONNECTED
 * ```
 *
 * @public
 */
export class Call extends EventEmitter<CallEvents> {
  readonly id = `call-${++counter}`;
  readonly line: number;
  readonly direction: 'incoming' | 'outgoing';
  readonly uuid: string | undefined;
  readonly #session: Session;
  #state: CallStateName;
  #stream: AudioStream | undefined;
  #vq: VqReport | undefined;
  #rejectedWith: number | undefined;

  /** @internal */
  constructor(session: Session, line: number, direction: 'incoming' | 'outgoing', uuid: string | undefined) {
    super();
    this.#session = session;
    this.line = line;
    this.direction = direction;
    this.uuid = uuid;
    this.#state = direction === 'incoming' ? 'RINGING' : 'IN_PROGRESS';
    session.stateChange.addListener((state) => {
      if (state === SessionState.Established && (this.#state === 'RINGING' || this.#state === 'IN_PROGRESS' || this.#state === 'ALERTING')) this.#transition('CONNECTED');
      if (state === SessionState.Terminated) this.#transition('DISCONNECTED');
    });
  }

  get state(): CallStateName {
    return this.#state;
  }

  /** The sip.js session (for what this API does not cover). */
  get session(): Session {
    return this.#session;
  }

  /** A plain snapshot. */
  info(): CallInfo {
    const handler = this.#session.sessionDescriptionHandler as MediaSessionDescriptionHandler | undefined;
    const stats = this.#stream?.stats();
    return {
      id: this.id,
      uuid: this.uuid,
      line: this.line,
      direction: this.direction,
      state: this.#state,
      remote: this.#session.remoteIdentity.uri.toString(),
      codec: handler?.negotiated?.codec.name,
      rejectedWith: this.#rejectedWith,
      quality: stats
        ? { mos: stats.vq.mos, intervalMos: stats.vq.intervalMos, rttMs: stats.rttMs, packetsLost: stats.received.lost, jitterMs: stats.received.jitterMs, vqAlarm: stats.vq.alarm }
        : undefined,
    };
  }

  /** Answers a ringing incoming call. */
  async answer(): Promise<void> {
    if (!(this.#session instanceof Invitation) || this.#state !== 'RINGING') throw new InvalidStateError(`cannot answer a call that is ${this.#state}`);
    await this.#session.accept();
  }

  /** Rejects a ringing incoming call with a SIP status (486 Busy Here by default). */
  async reject(statusCode = 486): Promise<void> {
    if (!(this.#session instanceof Invitation) || this.#state !== 'RINGING') throw new InvalidStateError(`cannot reject a call that is ${this.#state}`);
    if (!Number.isInteger(statusCode) || statusCode < 300 || statusCode > 699) throw new RangeError(`a rejection needs a status from 300 to 699, not ${statusCode}`);
    await this.#session.reject({ statusCode });
  }

  /** Ends the call whatever its state: CANCEL, reject (480) or BYE. Calling it twice is harmless. */
  async hangup(): Promise<void> {
    const session = this.#session;
    if (this.#state === 'DISCONNECTED') return;
    if (session.state === SessionState.Established) await session.bye();
    else if (session instanceof Inviter) await session.cancel();
    else if (session instanceof Invitation) await session.reject({ statusCode: 480 });
  }

  /** Puts the call on hold (re-INVITE with a sendonly offer). */
  async hold(): Promise<void> {
    if (this.#state !== 'CONNECTED') throw new InvalidStateError(`cannot hold a call that is ${this.#state}`);
    await this.#reinvite(true);
    this.#transition('HELD');
  }

  /** Takes the call off hold. */
  async retrieve(): Promise<void> {
    if (this.#state !== 'HELD') throw new InvalidStateError(`cannot retrieve a call that is ${this.#state}`);
    await this.#reinvite(false);
    this.#transition('CONNECTED');
  }

  /** Sends DTMF: RFC 2833/4733 events (default), SIP INFO (application/dtmf-relay), or in-band tones. */
  async sendDtmf(digits: string, options: { method?: 'rfc2833' | 'info' | 'inband' } = {}): Promise<void> {
    if (this.#state !== 'CONNECTED' && this.#state !== 'HELD') throw new InvalidStateError(`cannot send DTMF on a call that is ${this.#state}`);
    const method = options.method ?? 'rfc2833';
    if (method === 'info') {
      for (const digit of digits) {
        await this.#session.info({ requestOptions: { body: { contentDisposition: 'render', contentType: 'application/dtmf-relay', content: `Signal=${digit}\r\nDuration=100` } } });
      }
      return;
    }
    const handler = this.#session.sessionDescriptionHandler as MediaSessionDescriptionHandler | undefined;
    if (!handler?.sendDtmf(digits, { method: method === 'inband' ? 'inband' : 'rfc4733' })) throw new InvalidStateError('the call has no media to send DTMF on');
  }

  /** @internal Called by the media handler factory when the call's stream starts. */
  attachStream(stream: AudioStream): void {
    this.#stream = stream;
    stream.on('dtmf', (event) => this.emit('dtmf', event));
    stream.on('vqAlarm', (report) => {
      this.#vq = report;
      this.emit('vqAlarm', report);
    });
    stream.on('inactivity', () => void this.hangup().catch(() => undefined));
  }

  /** @internal The far end refused the outgoing call with this status. */
  refused(statusCode: number): void {
    this.#rejectedWith = statusCode;
  }

  /** @internal The far end is alerting (a provisional response came). */
  alerting(): void {
    if (this.#state === 'IN_PROGRESS') this.#transition('ALERTING');
  }

  /** The last VQ alarm report, if any. */
  get vq(): VqReport | undefined {
    return this.#vq;
  }

  async #reinvite(hold: boolean): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#session
        .invite({
          sessionDescriptionHandlerOptions: { hold } as object,
          requestDelegate: { onAccept: () => resolve(), onReject: (response) => reject(new SipEndpointError('ERR_SIP_REQUEST_FAILED', `re-INVITE rejected: ${response.message.statusCode ?? 0}`)) },
        })
        .catch(reject);
    });
  }

  #transition(state: CallStateName): void {
    const previous = this.#state;
    if (previous === state || previous === 'DISCONNECTED') return;
    this.#state = state;
    this.emit('stateChanged', state, previous);
  }
}
