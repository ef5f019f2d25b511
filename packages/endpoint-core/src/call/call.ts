import { EventEmitter } from 'eventemitter3';
import { Invitation, Inviter, SessionState, type Notification, type Session, type URI } from 'sip.js';
import { SipEndpointError } from '@sip-endpoint/config';
import type { CallStateName } from '@sip-endpoint/policy';
import type { AudioStream, DtmfEvent, VqReport } from '@sip-endpoint/media';
import type { MediaSessionDescriptionHandler } from '../media/media-session-description-handler';
import { installSipExtensions, setDialogHooks } from '../sip-extensions';
import { listsTimer, MIN_SESSION_EXPIRES, parseMinSe, parseSessionExpires, SessionTimer } from './session-timer';

/** The headers of a SIP message a call reads. */
interface HeaderSource {
  getHeader(name: string): string | undefined;
  getHeaders(name: string): string[];
}

/** An operation the call's state does not allow. @public */
export class InvalidStateError extends SipEndpointError {
  constructor(message: string) {
    super('ERR_SIP_INVALID_STATE', message);
  }
}

/** A transfer the far end or the transfer target refused, or that did not complete in time. @public */
export class TransferFailedError extends SipEndpointError {
  /** The SIP status of the REFER's rejection or of the NOTIFY's sipfrag, when there was one. */
  readonly statusCode: number | undefined;

  constructor(message: string, statusCode?: number) {
    super('ERR_SIP_TRANSFER_FAILED', message);
    this.statusCode = statusCode;
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
  /** Who holds the call: we (`local`), the far end (`remote`, by a sendonly/inactive or `c=0.0.0.0` re-INVITE), or both. */
  heldBy: 'local' | 'remote' | 'both' | undefined;
  /** Whether our microphone is muted on this call. */
  muted: boolean;
  /** The call this one replaced (an INVITE with Replaces), or the call whose REFER made it. */
  relatedTo: string | undefined;
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
  #localHold = false;
  #remoteHold = false;
  #muted = false;
  #answerHeaders: string[] = [];
  #pendingTimer: { seconds: number; weRefresh: boolean } | undefined;
  readonly #timer: SessionTimer;
  readonly #resolve: ((target: string) => URI | undefined) | undefined;
  /** @internal */
  relatedTo: string | undefined;

  readonly #minSe: number;

  /**
   * @internal
   * @param options.resolve - Turns a transfer target (a SIP URI or a DN) into a URI on the call's line.
   * @param options.minSessionExpires - Our Min-SE (RFC 4028), 90 s by default.
   */
  constructor(session: Session, line: number, direction: 'incoming' | 'outgoing', uuid: string | undefined, options: { resolve?: (target: string) => URI | undefined; minSessionExpires?: number } = {}) {
    super();
    installSipExtensions();
    this.#resolve = options.resolve;
    this.#minSe = options.minSessionExpires ?? MIN_SESSION_EXPIRES;
    this.#timer = new SessionTimer(
      () => this.#reinvite(this.#localHold),
      () => void this.hangup().catch(() => undefined),
      this.#minSe,
    );
    this.#session = session;
    this.line = line;
    this.direction = direction;
    this.uuid = uuid;
    this.#state = direction === 'incoming' ? 'RINGING' : 'IN_PROGRESS';
    session.stateChange.addListener((state) => {
      if (state === SessionState.Established && (this.#state === 'RINGING' || this.#state === 'IN_PROGRESS' || this.#state === 'ALERTING')) {
        this.#hookDialog();
        if (this.#pendingTimer) this.#timer.set(this.#pendingTimer.seconds, this.#pendingTimer.weRefresh);
        this.#pendingTimer = undefined;
        this.#transition('CONNECTED');
      }
      if (state === SessionState.Terminated) {
        this.#timer.stop();
        this.#transition('DISCONNECTED');
      }
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
      heldBy: this.#localHold ? (this.#remoteHold ? 'both' : 'local') : this.#remoteHold ? 'remote' : undefined,
      muted: this.#muted,
      relatedTo: this.relatedTo,
      quality: stats
        ? { mos: stats.vq.mos, intervalMos: stats.vq.intervalMos, rttMs: stats.rttMs, packetsLost: stats.received.lost, jitterMs: stats.received.jitterMs, vqAlarm: stats.vq.alarm }
        : undefined,
    };
  }

  /** Answers a ringing incoming call. */
  async answer(): Promise<void> {
    if (!(this.#session instanceof Invitation) || this.#state !== 'RINGING') throw new InvalidStateError(`cannot answer a call that is ${this.#state}`);
    await this.#session.accept({ extraHeaders: this.#answerHeaders });
  }

  /** The session interval in force (RFC 4028), in seconds, and whether we refresh it; undefined without one. */
  get sessionTimer(): { seconds: number; weRefresh: boolean } | undefined {
    return this.#timer.active ? { seconds: this.#timer.seconds, weRefresh: this.#timer.weRefresh } : undefined;
  }

  /**
   * @internal Reads the session timer of the INVITE we received (RFC 4028; the endpoint has
   * already answered an interval below our Min-SE with 422): the interval and refresher go into
   * our 2xx, and the timer starts when the call does.
   */
  sessionTimerFromInvite(request: HeaderSource): void {
    const expires = parseSessionExpires(request.getHeader('Session-Expires') ?? request.getHeader('x'));
    if (expires) this.#answerHeaders = this.#takeInterval(request, expires.seconds, expires.refresher, false);
  }

  /** @internal The 2xx of our INVITE or re-INVITE: the interval and refresher it settled. */
  sessionTimerFromResponse(response: HeaderSource): void {
    const expires = parseSessionExpires(response.getHeader('Session-Expires') ?? response.getHeader('x'));
    if (!expires) {
      // RFC 4028 7.2: a 2xx without Session-Expires means no session expiration.
      this.#timer.stop();
      return;
    }
    this.#timer.set(expires.seconds, expires.refresher !== 'uas');
  }

  /** The interval a request of the far end asks for, with the refresher; our 2xx headers. */
  #takeInterval(request: HeaderSource, requested: number, refresher: 'uac' | 'uas' | undefined, established = true): string[] {
    const supportsTimer = listsTimer(request.getHeaders('Supported')) || listsTimer(request.getHeaders('k'));
    const minSe = parseMinSe(request.getHeader('Min-SE'));
    const seconds = Math.max(requested, minSe ?? 0, this.#minSe);
    // Without a refresher, we let the far end refresh when it can (it supports timers), else we do.
    const chosen = refresher ?? (supportsTimer ? 'uac' : 'uas');
    if (established) this.#timer.set(seconds, chosen === 'uas');
    else this.#pendingTimer = { seconds, weRefresh: chosen === 'uas' };
    return [`Session-Expires: ${seconds};refresher=${chosen}`, ...(supportsTimer ? ['Require: timer'] : [])];
  }

  /** Session timers and UPDATE, once the dialog exists. */
  #hookDialog(): void {
    const dialog = this.#session.dialog;
    if (!dialog) return;
    setDialogHooks(dialog, {
      reinviteResponseHeaders: (request) => this.#refreshedBy(request),
      onUpdate: async (request) => {
        const headers = this.#refreshedBy(request);
        const handler = this.#session.sessionDescriptionHandler as MediaSessionDescriptionHandler | undefined;
        if (request.body && handler && /application\/sdp/i.test(request.getHeader('Content-Type') ?? '')) {
          try {
            await handler.setDescription(request.body);
            const answer = await handler.getDescription();
            this.remoteOfferApplied();
            return { statusCode: 200, extraHeaders: headers, body: { contentDisposition: 'session', contentType: answer.contentType, content: answer.body } };
          } catch {
            return { statusCode: 488, extraHeaders: headers };
          }
        }
        return { statusCode: 200, extraHeaders: headers };
      },
    });
  }

  /** A re-INVITE or UPDATE of the far end: it refreshes the session (RFC 4028 9). */
  #refreshedBy(request: HeaderSource): string[] {
    const expires = parseSessionExpires(request.getHeader('Session-Expires') ?? request.getHeader('x'));
    if (expires) return this.#takeInterval(request, expires.seconds, expires.refresher);
    if (!this.#timer.active) return [];
    // No Session-Expires: the interval stays, restarted; our 2xx still says it.
    this.#timer.set(this.#timer.seconds, this.#timer.weRefresh);
    return [`Session-Expires: ${this.#timer.seconds};refresher=${this.#timer.weRefresh ? 'uas' : 'uac'}`];
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

  /** Puts the call on hold (re-INVITE with a sendonly offer). A call the far end holds can be held too. */
  async hold(): Promise<void> {
    if (this.#state !== 'CONNECTED' && !(this.#state === 'HELD' && !this.#localHold)) throw new InvalidStateError(`cannot hold a call that is ${this.#state}`);
    await this.#reinvite(true);
    this.#localHold = true;
    this.#followHold();
  }

  /** Takes the call off hold; it stays HELD while the far end holds it. */
  async retrieve(): Promise<void> {
    if (this.#state !== 'HELD' || !this.#localHold) throw new InvalidStateError(`cannot retrieve a call that is ${this.#state}${this.#state === 'HELD' ? ' by the far end' : ''}`);
    await this.#reinvite(false);
    this.#localHold = false;
    this.#followHold();
  }

  /** Whether our microphone is muted on this call. */
  get muted(): boolean {
    return this.#muted;
  }

  /**
   * Mutes or unmutes our microphone on this call: silence is sent in its place, so RTP keeps
   * flowing (the far end sees no inactivity) and DTMF still goes. Kept across hold and retrieve.
   */
  mute(muted = true): void {
    if (this.#state === 'DISCONNECTED') throw new InvalidStateError('cannot mute a call that is DISCONNECTED');
    this.#muted = muted;
    this.#stream?.setMuted(muted);
  }

  /**
   * Transfers the call. With a target (a SIP URI or a DN on the call's line), a blind transfer: a
   * REFER to the far end, which calls the target. With another established call, an attended
   * transfer: a REFER whose Refer-To carries `Replaces`, so that the far end of this call takes the
   * place of ours in the other call. Resolves once the far end reports (NOTIFY with a sipfrag) that
   * the new call is answered, and then ends this call (RFC 5589); rejects with
   * {@link TransferFailedError} when the REFER is refused, the new call fails, or nothing final is
   * reported within `timeoutMs`.
   */
  async transfer(target: string | Call, options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#state !== 'CONNECTED' && this.#state !== 'HELD') throw new InvalidStateError(`cannot transfer a call that is ${this.#state}`);
    let referTo: URI | Session;
    if (typeof target === 'string') {
      const uri = this.#resolve?.(target);
      if (!uri) throw new SipEndpointError('ERR_SIP_INVALID_ARGUMENT', `"${target}" is not a SIP address or a DN`);
      referTo = uri;
    } else {
      if (target === this) throw new SipEndpointError('ERR_SIP_INVALID_ARGUMENT', 'a call cannot be transferred to itself');
      if (target.session.state !== SessionState.Established) throw new InvalidStateError(`cannot transfer to a call that is ${target.state}`);
      referTo = target.session;
    }
    const session = this.#session;
    await this.#dialogSettled();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TransferFailedError('the transfer did not complete in time')), options.timeoutMs ?? 32000);
      const settle = (error?: TransferFailedError): void => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const onNotify = (notification: Notification): void => {
        const event = (notification.request.getHeader('Event') ?? '').split(';')[0]!.trim().toLowerCase();
        if (event !== 'refer') {
          // Not about the transfer (e.g. third-party call control): the call's own handler takes it.
          session.delegate?.onNotify?.(notification);
          return;
        }
        void notification.accept().catch(() => undefined);
        const status = Number(/^SIP\/2\.0\s+(\d{3})/m.exec(notification.request.body)?.[1] ?? 0);
        if (status >= 200 && status < 300) settle();
        else if (status >= 300) settle(new TransferFailedError(`the transfer target answered ${status}`, status));
        // A provisional sipfrag: wait for the final one (some user agents, sip.js among them, mark
        // every NOTIFY `terminated`, so that state alone does not end the wait).
      };
      session
        .refer(referTo, {
          onNotify,
          requestDelegate: { onReject: (response) => settle(new TransferFailedError(`the REFER was refused: ${response.message.statusCode ?? 0}`, response.message.statusCode)) },
        })
        .catch((error: Error) => settle(new TransferFailedError(`the REFER could not be sent: ${error.message}`)));
    });
    await this.hangup().catch(() => undefined);
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
    if (this.#muted) stream.setMuted(true);
    stream.on('dtmf', (event) => this.emit('dtmf', event));
    stream.on('vqAlarm', (report) => {
      this.#vq = report;
      this.emit('vqAlarm', report);
    });
    stream.on('inactivity', () => void this.hangup().catch(() => undefined));
  }

  /**
   * @internal The far end's re-INVITE (or UPDATE) was answered: a sendonly, inactive or
   * `c=0.0.0.0` offer means the far end holds the call (our side then receives only, or nothing).
   */
  remoteOfferApplied(): void {
    const handler = this.#session.sessionDescriptionHandler as MediaSessionDescriptionHandler | undefined;
    const direction = handler?.negotiated?.direction;
    if (!direction) return;
    this.#remoteHold = direction === 'recvonly' || direction === 'inactive';
    this.#followHold();
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

  /**
   * Sends a re-INVITE (hold or retrieve). One the far end is still completing (its ACK not yet
   * here) is waited for; a 491 Request Pending (glare) is retried after a random 0 to 2 s
   * (RFC 3261 14.1), twice at most.
   */
  async #reinvite(hold: boolean): Promise<void> {
    await this.#dialogSettled();
    for (let attempt = 0; ; attempt++) {
      const outcome = await new Promise<'done' | 'busy' | 'glare'>((resolve, reject) => {
        try {
          this.#session
            .invite({
              sessionDescriptionHandlerOptions: { hold } as object,
              requestOptions: { extraHeaders: this.#timer.requestHeaders() },
              requestDelegate: {
                onAccept: (response) => {
                  if (this.#timer.active) this.sessionTimerFromResponse(response.message);
                  resolve('done');
                },
                onReject: (response) => {
                  if (response.message.statusCode === 491) resolve('glare');
                  else reject(new SipEndpointError('ERR_SIP_REQUEST_FAILED', `re-INVITE rejected: ${response.message.statusCode ?? 0}`));
                },
              },
            })
            .catch((error: Error) => (/ongoing re-INVITE|pending/i.test(error.message) ? resolve('busy') : reject(error)));
        } catch (error) {
          if (/ongoing re-INVITE|pending/i.test((error as Error).message)) resolve('busy');
          else reject(error as Error);
        }
      });
      if (outcome === 'done') return;
      if (this.#state === 'DISCONNECTED') throw new InvalidStateError('the call ended');
      if (outcome === 'glare' && attempt >= 2) throw new SipEndpointError('ERR_SIP_REQUEST_FAILED', 're-INVITE refused with 491 Request Pending three times');
      if (outcome === 'busy' && attempt >= 100) throw new SipEndpointError('ERR_SIP_REQUEST_FAILED', 'a re-INVITE of the far end did not complete');
      await new Promise((resolve) => setTimeout(resolve, outcome === 'glare' ? Math.random() * 2000 : 50));
    }
  }

  /**
   * Waits until no INVITE exchange of the dialog is still open: the ACK of the INVITE we answered
   * (sip.js would take it for the answer to our re-INVITE and end the call), or a re-INVITE of the
   * far end. Gives up after 32 s (Timer H), when the ACK is lost for good.
   */
  async #dialogSettled(): Promise<void> {
    const dialog = this.#session.dialog as unknown as { ackWait?: boolean; reinviteUserAgentServer?: unknown } | undefined;
    for (let waited = 0; dialog && (dialog.ackWait === true || dialog.reinviteUserAgentServer !== undefined) && waited < 32000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  #followHold(): void {
    if (this.#state !== 'CONNECTED' && this.#state !== 'HELD') return;
    this.#transition(this.#localHold || this.#remoteHold ? 'HELD' : 'CONNECTED');
  }

  #transition(state: CallStateName): void {
    const previous = this.#state;
    if (previous === state || previous === 'DISCONNECTED') return;
    this.#state = state;
    this.emit('stateChanged', state, previous);
  }
}
