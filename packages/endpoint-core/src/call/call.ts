import { Invitation, Inviter, RequestPendingError, SessionState, type Core, type Info, type Notification, type Referral, type Session, type URI } from 'sip.js';
import type { ConfiguredCodec } from '@sip-endpoint/config';
import { InvalidStateError, SafeEmitter, StateMachine, type CallKind, type CallSnapshot, type CallState } from '@sip-endpoint/policy';
import { DtmfNotSentError as MediaDtmfNotSentError, normalizeDigits, type AudioStreamStats, type DtmfEvent, type VqReport } from '@sip-endpoint/media';
import type { EndpointContext } from '../endpoint-context';
import { DtmfNotSentError, InvalidArgumentError, NoMediaError, RequestFailedError, TransferFailedError } from '../errors';
import { CallMedia, callMediaControl, type MediaEngine } from '../media/call-media';
import { sameCodecName } from '../media/media-session-description-handler';
import { iceServersOf, stunServerOf, turnServerOf } from '../media/nat-settings';
import { proxySection } from '../line/line-transport';
import { earlyDialogOf, extendDialog, offerState, whenDialogIdle, type DialogHooks } from '../sip/dialog-extensions';
import { sessionContact, setSessionContact } from '../sip/session-contact';
import { sendUpdate } from '../sip/dialog-update';
import { vqSessionReport } from './vq-session-report';
import { checkMessage, delivered, takeMessage, type MessageDelivery, type SendMessageOptions } from '../line/messaging';
import type { LineMessage } from '../line/line';
import { DTMF_NOTIFY_TYPES, isDtmfNotifyType, parseDtmfNotify } from './dtmf-notify';
import type { CallInfo } from './call-info';
import { CALL_TRANSITIONS } from './call-state';
import { ringForIncoming, startRingback } from './call-tones';
import { listsTimer, parseMinSe, parseSessionExpires, SessionTimer } from './session-timer';

/** The headers of a SIP message a call reads. */
interface HeaderSource {
  getHeader(name: string): string | undefined;
  getHeaders(name: string): string[];
}

/** Events of a {@link Call}. @public */
export type CallEvents = {
  /** The call moved (see {@link CALL_TRANSITIONS}). */
  stateChanged: [CallState, CallState];
  /** A digit came: SIP INFO, an RFC 2833/4733 event or an in-band tone. */
  dtmf: [DtmfEvent];
  /** The VQ alarm was raised or cleared. */
  vqAlarm: [VqReport];
  /** A MESSAGE came in the call's dialog (RFC 3428; answered 200). */
  message: [LineMessage];
  /** The call ended (DISCONNECTED) and its media closed; emitted once. */
  closed: [];
};

/** How a DTMF digit is sent; `policy.session.dtmf_method` names them `Rfc2833`, `Info`, `InbandRtp`. @public */
export type DtmfMethod = 'rfc2833' | 'info' | 'inband';

/** What a call needs from the line that made it. */
export interface CallHost {
  /** 0-based index of the line. */
  readonly line: number;
  readonly context: EndpointContext;
  /** A SIP URI as given, or a DN on the line's server. */
  resolve(target: string): URI | undefined;
  /** The far end asked us (in-dialog REFER) to call someone: the line decides and places that call. */
  referred(call: Call, referral: Referral): void;
  /** The line's signalling is encrypted (TLS or WSS): SDES keys in its SDP are not in clear. */
  readonly signallingSecure: boolean;
  /** Why the server refused a request of the call: its status line, and what to do for a Bearer challenge (RFC 8898). */
  refusal(response: { statusCode?: number | undefined; reasonPhrase?: string | undefined; getHeaders(name: string): string[] }): string;
  /** Sends the call's voice-quality report to `vq_report_collector` (RFC 6035 PUBLISH). */
  publishVqReport(body: string): void;
}

/** How the line makes a call: the parts of its constructor's work an integrator never sees. */
export interface CallInit {
  host: CallHost;
  session: Session;
  direction: 'incoming' | 'outgoing';
  /** `X-Genesys-CallUUID`, when the call has one. */
  uuid?: string | undefined;
  /** The call this one replaces, or whose REFER made it. */
  relatedTo?: string | undefined;
  /** The codecs to offer, preferred first (the policy's `codecPriorities().offer`). */
  codecs: readonly ConfiguredCodec[];
  /** The media engine. @defaultValue 'native' */
  engine?: MediaEngine;
  /** What the call carries. @defaultValue 'voice' */
  kind?: CallKind;
}

/** What the line does with a call it made; never reachable from the public API. */
export interface CallControl {
  /** Sends the INVITE of an outgoing call (after the line registered the call). */
  invite(options: { earlyMedia: (response: HeaderSource) => boolean }): Promise<void>;
  /** Session timer of the INVITE we received: its interval goes into our 2xx. */
  sessionTimerFromInvite(request: HeaderSource): void;
  /** Answer with these codecs, the chosen one first (the policy's `codecPriorities().answer`). */
  setAnswerCodecs(codecs: readonly ConfiguredCodec[]): void;
  /** Rings as the policy's plan says (others: the endpoint's other calls). */
  ring(others: CallSnapshot[]): void;
  /** Third-party call control (NOTIFY Event: talk or hold), from the line or the call's dialog. */
  thirdParty(event: 'talk' | 'hold'): Promise<void>;
  /** A NOTIFY outside a dialog that the line gave this call (`Event: dtmf`): answered and acted on as one in its dialog. */
  notify(notification: Notification): Promise<void>;
  /** The line lost what carries the call's signalling (a WebRTC gateway's WebSocket): ends it, with the reason. */
  lost(reason: string): Promise<void>;
  /**
   * The line's Contact moved (its connection was lost and a new one has another port): the call
   * sends it in a re-INVITE (a target refresh, RFC 3261 12.2), so that the far end's requests
   * reach it again. A 408 or 481 to it ends the call (RFC 3261 12.2.1.2); the outcome, for the log.
   */
  refreshTarget(contact: string): Promise<string>;
}

const controls = new WeakMap<Call, CallControl>();

/** The control of a call, for the line that made it. */
export function callControl(call: Call): CallControl {
  return controls.get(call)!;
}

let counter = 0;

/**
 * One call of a {@link Line}, incoming or outgoing, with its media (`call.media`).
 *
 * @remarks
 * Made only by its line: `endpoint.makeCall()` / `line.makeCall()`, or handed out with the
 * endpoint's and the line's `incomingCall` event. The call handles its own dialog: the far end's
 * re-INVITE and UPDATE (hold, session refresh), INFO (DTMF), NOTIFY (third-party call control,
 * transfer progress) and REFER (asked to the line, which places the new call). Its states follow
 * {@link CALL_TRANSITIONS}; `closed` comes once, when it is DISCONNECTED and its media is closed.
 *
 * @public
 */
export class Call extends SafeEmitter<CallEvents> {
  readonly id = `call-${++counter}`;
  /** 0-based Connectivity line. */
  readonly line: number;
  readonly direction: 'incoming' | 'outgoing';
  /**
   * What the call carries: `voice`, or `im`, an instant-messaging session (an INVITE whose SDP
   * offers only `m=message`, as SIP Server makes one for a chat): no audio, no devices; its
   * messages go in its dialog (`sendMessage()`, the `message` event). Hold, mute and DTMF throw
   * {@link NoMediaError} on it.
   */
  readonly kind: CallKind;
  /** `X-Genesys-CallUUID`, when the call has one. */
  readonly uuid: string | undefined;
  /** The call this one replaced (INVITE with Replaces), or whose REFER made it. */
  readonly relatedTo: string | undefined;
  /** The call's media: stream, statistics, MOS, mute, volume, devices. */
  readonly media: CallMedia;
  readonly #host: CallHost;
  readonly #session: Session;
  readonly #machine: StateMachine<CallState>;
  readonly #timer: SessionTimer;
  #vq: VqReport | undefined;
  #rejectedWith: number | undefined;
  #localHold = false;
  #remoteHold = false;
  #answerHeaders: string[] = [];
  #pendingTimer: { seconds: number; weRefresh: boolean } | undefined;
  #ringback = false;
  #endReason: string | undefined;
  /** The methods the far end's INVITE or 2xx listed in Allow (RFC 3261 20.5); undefined when it gave none. */
  #peerAllows: ReadonlySet<string> | undefined;
  /** The far end refused an UPDATE refresh (405, 501): refreshes go by re-INVITE from then on. */
  #updateRefused = false;
  /** When the call first connected (the start of its voice-quality report). */
  #connectedAt: Date | undefined;
  /** The dialog's tags, kept from when it was confirmed (sip.js drops the dialog when it ends). */
  #tags: { local: string; remote: string } | undefined;
  /** The DTMF sends in progress, one after the other. */
  #dtmfQueue: Promise<void> = Promise.resolve();

  /** @internal Made by its line. */
  constructor(init: CallInit) {
    super();
    const context = init.host.context;
    const config = context.config;
    const selection = context.selection();
    this.#host = init.host;
    this.#session = init.session;
    this.line = init.host.line;
    this.direction = init.direction;
    this.kind = init.kind ?? 'voice';
    this.uuid = init.uuid;
    this.relatedTo = init.relatedTo;
    this.#machine = new StateMachine<CallState>(this.id, init.direction === 'incoming' ? 'RINGING' : 'IN_PROGRESS', CALL_TRANSITIONS, (next, previous) => this.#changed(next, previous));
    this.#timer = new SessionTimer(
      () => this.#refreshSession(),
      () => void this.hangup().catch(() => undefined),
      context.minSessionExpires,
    );
    this.media = new CallMedia({
      address: context.address,
      bindAddress: config.get('policy.endpoint.rtp_port_binding') === 1 ? context.address : '0.0.0.0',
      ports: context.ports,
      ...(context.rtpReserve ? { reserve: context.rtpReserve } : {}),
      ...(context.mediaWorkers ? { workers: context.mediaWorkers } : {}),
      devices: context.devices,
      opener: context.deviceKeeper,
      // An IM session opens no device.
      input: this.kind === 'im' ? undefined : (selection?.input ?? undefined),
      output: this.kind === 'im' ? undefined : (selection?.output ?? undefined),
      codecs: init.codecs,
      answerPriority: config.get('policy.session.answer_sdp_priority'),
      inactivityTimeoutMs: config.get('policy.endpoint.rtp_inactivity_timeout') * 1000,
      vqAlarmThreshold: config.get('policy.endpoint.vq_alarm_threshold'),
      // RTCP XR (RFC 3611) goes with the voice-quality reports.
      rtcpXr: config.get('policy.endpoint.vq_report_publish'),
      dtmfFeedback: config.get('policy.session.dtmf_feedback'),
      processing: {
        // The devices' signal, as the settings say, when the endpoint processes it (see audioProcessing).
        ...(context.processDeviceAudio
          ? { echoControl: config.get('policy.session.echo_control'), noiseSuppression: config.get('policy.session.noise_suppression'), agc: config.get('policy.session.agc_mode') === 1, rxAgc: config.get('policy.session.rx_agc_mode') === 1 }
          : {}),
        // DTX saves bandwidth whatever the devices carry.
        dtx: config.get('policy.session.dtx_mode'),
        vadLevel: config.get('policy.session.vad_level'),
      },
      srtp: config.get('system.security.use_srtp'),
      signallingSecure: init.host.signallingSecure,
      dtls: { certificate: () => context.dtlsCertificate(), offer: context.srtpKeying === 'dtls' },
      ...(config.get(`${proxySection(init.host.line)}.nat.ice_enabled`)
        ? {
            ice: {
              stunServer: () => stunServerOf(config, init.host.line, (level, message) => context.log(level, 'media', message)),
              turnServer: () => turnServerOf(config, init.host.line, (level, message) => context.log(level, 'media', message)),
            },
          }
        : {}),
      log: (level, message) => context.log(level, 'media', `${this.id}: ${message}`),
      engine: init.engine ?? 'native',
      iceServers: () => iceServersOf(config, init.host.line, (level, message) => context.log(level, 'media', message)),
      ...(this.kind === 'im' ? { im: { address: context.address, port: init.session.userAgent.contact.uri.port ?? 5060, remoteUri: init.session.remoteIdentity.uri.toString() } } : {}),
    });
    this.media.on('dtmf', (event) => this.emit('dtmf', event));
    this.media.on('vqAlarm', (report) => {
      this.#vq = report;
      this.emit('vqAlarm', report);
    });
    const endFor = (reason: string): void => {
      this.#endReason ??= reason;
      void this.hangup().catch(() => undefined);
    };
    this.media.on('inactivity', () => endFor(`no RTP for ${config.get('policy.endpoint.rtp_inactivity_timeout')} s (rtp_inactivity_timeout)`));
    this.media.on('securityFailed', (error) => endFor(`the DTLS-SRTP handshake failed: ${error.message}`));
    this.media.on('connectivityLost', (reason) => endFor(reason));
    // Before the call is up, an answer or offer that cannot be taken ends it (sip.js sends the BYE or 488).
    this.media.on('negotiationFailed', (reason) => {
      if (this.state !== 'CONNECTED' && this.state !== 'HELD') this.#endReason ??= `the far end's SDP was refused: ${reason}`;
    });
    this.media.on('listenerError', (error) => this.emit('listenerError', error));
    this.#session.delegate = {
      onInfo: (info) => this.#onInfo(info),
      onNotify: (notification) => void this.#onNotify(notification),
      onInvite: (_request, _response, statusCode) => {
        if (statusCode === 200) this.#remoteOfferApplied();
      },
      onRefer: (referral) => this.#host.referred(this, referral),
      onMessage: (message) => {
        const taken = takeMessage(message, (why) => this.#host.context.log(2, 'endpoint', `${this.id}: ${why}`));
        if (taken) this.emit('message', taken);
      },
    };
    this.#session.stateChange.addListener((state) => {
      // An answer's stream, made once our 200 has gone: the call is CONNECTED with it.
      if (state === SessionState.Established) callMediaControl(this.media).sessionEstablished();
      if (state === SessionState.Established && (this.state === 'RINGING' || this.state === 'IN_PROGRESS' || this.state === 'ALERTING')) {
        this.#hookDialog();
        if (this.#pendingTimer) this.#timer.set(this.#pendingTimer.seconds, this.#pendingTimer.weRefresh);
        this.#pendingTimer = undefined;
        this.#machine.to('CONNECTED');
      }
      if (state === SessionState.Terminated) this.#end();
    });
    controls.set(this, {
      invite: (options) => this.#invite(options.earlyMedia),
      sessionTimerFromInvite: (request) => {
        this.#peerAllows = allowedMethods(request);
        const expires = parseSessionExpires(request.getHeader('Session-Expires') ?? request.getHeader('x'));
        if (expires) this.#answerHeaders = this.#takeInterval(request, expires.seconds, expires.refresher, false);
      },
      setAnswerCodecs: (codecs) => callMediaControl(this.media).setAnswerCodecs(codecs),
      ring: (others) => void ringForIncoming(this, others, context),
      thirdParty: (event) => this.#thirdParty(event),
      notify: (notification) => this.#onNotify(notification),
      refreshTarget: (contact) => this.#refreshTarget(contact),
      lost: async (reason) => {
        this.#endReason ??= reason;
        // The BYE goes if the connection comes back at once; the call ends here either way.
        await Promise.race([this.hangup().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
        if (this.state !== 'DISCONNECTED') {
          this.#end();
          void this.#session.dispose().catch(() => undefined);
        }
      },
    });
  }

  /** The call's state (see {@link CALL_TRANSITIONS}). */
  get state(): CallState {
    return this.#machine.state;
  }

  /**
   * Why the call ended, when it was not a hang-up: the far end refused our INVITE (its status and
   * reason, with its Warning text), its media failed (a DTLS handshake, ICE, a WebRTC connection),
   * no RTP came for `rtp_inactivity_timeout`, the WebRTC gateway's WebSocket closed, or the line's
   * connection was lost and the far end refused (408, 481) or never answered the re-INVITE with
   * the new connection's Contact. Undefined
   * while the call goes on, and for a call hung up by either side.
   */
  get endReason(): string | undefined {
    return this.#endReason;
  }

  /** The sip.js session (for what this API does not cover). */
  get session(): Session {
    return this.#session;
  }

  /** Whether our microphone is muted on this call. */
  get muted(): boolean {
    return this.media.muted;
  }

  /** The last VQ alarm report, if any. */
  get vq(): VqReport | undefined {
    return this.#vq;
  }

  /** The session interval in force (RFC 4028), in seconds, and whether we refresh it; undefined without one. */
  get sessionTimer(): { seconds: number; weRefresh: boolean } | undefined {
    return this.#timer.active ? { seconds: this.#timer.seconds, weRefresh: this.#timer.weRefresh } : undefined;
  }

  /** A plain snapshot. */
  info(): CallInfo {
    return {
      id: this.id,
      uuid: this.uuid ?? this.id,
      line: this.line,
      direction: this.direction,
      kind: this.kind,
      state: this.state,
      remote: this.#session.remoteIdentity.uri.toString(),
      codec: this.media.codec,
      rejectedWith: this.#rejectedWith,
      heldBy: this.#localHold ? (this.#remoteHold ? 'both' : 'local') : this.#remoteHold ? 'remote' : undefined,
      muted: this.media.muted,
      relatedTo: this.relatedTo,
      quality: this.media.quality(),
    };
  }

  /** Answers a ringing incoming call. */
  async answer(): Promise<void> {
    if (!(this.#session instanceof Invitation) || this.state !== 'RINGING') throw new InvalidStateError(`cannot answer a call that is ${this.state}`, this.state);
    await this.#session.accept({ extraHeaders: this.#answerHeaders });
  }

  /** Rejects a ringing incoming call with a SIP status (486 Busy Here by default). */
  async reject(statusCode = 486): Promise<void> {
    if (!(this.#session instanceof Invitation) || this.state !== 'RINGING') throw new InvalidStateError(`cannot reject a call that is ${this.state}`, this.state);
    if (!Number.isInteger(statusCode) || statusCode < 300 || statusCode > 699) throw new InvalidArgumentError(`a rejection needs a status from 300 to 699, not ${statusCode}`);
    await this.#session.reject({ statusCode });
  }

  /**
   * Ends the call whatever its state: CANCEL, reject (480) or BYE. Resolves once the call is
   * DISCONNECTED (the BYE or CANCEL answered, or its transaction timed out, at most
   * `sip_transaction_timeout`). Calling it twice is harmless.
   */
  async hangup(): Promise<void> {
    const session = this.#session;
    if (this.state === 'DISCONNECTED') return;
    const ended = this.#whenDisconnected(this.#host.context.config.get('policy.endpoint.sip_transaction_timeout'));
    if (session.state === SessionState.Established) await session.bye();
    else if (session instanceof Inviter) await session.cancel();
    else if (session instanceof Invitation) await session.reject({ statusCode: 480 });
    await ended;
  }

  /** Resolves when the call is DISCONNECTED, or after `timeoutMs`. */
  #whenDisconnected(timeoutMs: number): Promise<void> {
    if (this.#ended()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.off('closed', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.on('closed', done);
    });
  }

  /** Puts the call on hold (re-INVITE with a sendonly offer). A call the far end holds can be held too. */
  async hold(): Promise<void> {
    this.#needsAudio('hold');
    if (this.state !== 'CONNECTED' && !(this.state === 'HELD' && !this.#localHold)) throw new InvalidStateError(`cannot hold a call that is ${this.state}`, this.state);
    await this.#reinvite(true);
    this.#localHold = true;
    this.#followHold();
  }

  /**
   * Changes the codec in mid-call: a re-INVITE offering `name` (a codec configured for the call,
   * `opus` or `G722/16000`) first and the others after. Resolves once the answer is applied and
   * names it: the stream has switched (`call.media.codec`), without a gap. Rejects with
   * {@link InvalidArgumentError} for a codec not configured, and {@link RequestFailedError} when
   * the far end refuses the re-INVITE or answers with another codec (the call goes on with that one).
   *
   * @throws InvalidStateError unless the call is CONNECTED or HELD.
   */
  async changeCodec(name: string): Promise<void> {
    if (this.state !== 'CONNECTED' && this.state !== 'HELD') throw new InvalidStateError(`cannot change the codec of a call that is ${this.state}`, this.state);
    const codec = this.media.codecs.find((configured) => configured.codec?.kind !== 'dtmf' && sameCodecName(configured.name, name));
    if (!codec) throw new InvalidArgumentError(`${name} is not a codec configured for this call`);
    await this.#reinvite(this.#localHold, codec.name);
    const now = this.media.codec;
    if (now === undefined || !sameCodecName(now, codec.name)) throw new RequestFailedError(`the far end answered the codec change with ${now ?? 'no codec'}, not ${codec.name}`);
  }

  /** Takes the call off hold; it stays HELD while the far end holds it. */
  async retrieve(): Promise<void> {
    this.#needsAudio('retrieve');
    if (this.state !== 'HELD' || !this.#localHold) throw new InvalidStateError(`cannot retrieve a call that is ${this.state}${this.state === 'HELD' ? ' by the far end' : ''}`, this.state);
    await this.#reinvite(false);
    this.#localHold = false;
    this.#followHold();
  }

  /**
   * Mutes or unmutes our microphone on this call (same as `call.media.mute()`): silence is sent in
   * its place, so RTP keeps flowing and DTMF still goes. Kept across hold and retrieve.
   */
  mute(muted = true): void {
    this.#needsAudio('mute');
    if (this.state === 'DISCONNECTED') throw new InvalidStateError('cannot mute a call that is DISCONNECTED', this.state);
    this.media.mute(muted);
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
    if (this.state !== 'CONNECTED' && this.state !== 'HELD') throw new InvalidStateError(`cannot transfer a call that is ${this.state}`, this.state);
    let referTo: URI | Session;
    if (typeof target === 'string') {
      const uri = this.#host.resolve(target);
      if (!uri) throw new InvalidArgumentError(`"${target}" is not a SIP address or a DN`);
      referTo = uri;
    } else {
      if (target === this) throw new InvalidArgumentError('a call cannot be transferred to itself');
      if (target.session.state !== SessionState.Established) throw new InvalidStateError(`cannot transfer to a call that is ${target.state}`, target.state);
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
          void this.#onNotify(notification);
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

  /**
   * Sends DTMF digits (0-9, *, #, A-D): RFC 2833/4733 events, SIP INFO (application/dtmf-relay),
   * or in-band tones; by default the method `policy.session.dtmf_method` names.
   *
   * @remarks
   * Resolves once the digits have gone out: the last RFC 4733 end packet or in-band tone sent, or
   * the last INFO answered. Digits keep their order across calls and methods (an INFO digit waits
   * for the RFC 2833 digits asked for before it). When the call ends first, rejects with
   * {@link DtmfNotSentError} naming the digits that were not sent.
   *
   * @throws InvalidStateError unless the call is CONNECTED or HELD; `InvalidDtmfDigitError` (media)
   * for a character that is not a digit, before anything is sent; {@link NoMediaError} for RFC 2833
   * or in-band before the call has a stream.
   */
  async sendDtmf(digits: string, options: { method?: DtmfMethod } = {}): Promise<void> {
    this.#needsAudio('send DTMF on');
    if (this.state !== 'CONNECTED' && this.state !== 'HELD') throw new InvalidStateError(`cannot send DTMF on a call that is ${this.state}`, this.state);
    const method = options.method ?? configuredDtmfMethod(this.#host.context.config.get('policy.session.dtmf_method'));
    const list = normalizeDigits(digits).join('');
    if (method !== 'info' && !this.media.stream) throw new NoMediaError('the call has no media to send DTMF on');
    const run = this.#dtmfQueue.then(() => this.#sendDtmfNow(list, method));
    this.#dtmfQueue = run.catch(() => undefined);
    return run;
  }

  /** What needs audio is refused on an IM session. */
  #needsAudio(what: string): void {
    if (this.kind === 'im') throw new NoMediaError(`cannot ${what} an IM session: it has no audio`);
  }

  /** Sends digits once those asked for before have gone. */
  async #sendDtmfNow(digits: string, method: DtmfMethod): Promise<void> {
    if (this.#ended()) throw new DtmfNotSentError(digits);
    if (method === 'info') {
      for (let i = 0; i < digits.length; i++) {
        if (this.#ended()) throw new DtmfNotSentError(digits.slice(i));
        try {
          await this.#session.info({ requestOptions: { body: { contentDisposition: 'render', contentType: 'application/dtmf-relay', content: `Signal=${digits[i]}\r\nDuration=100` } } });
        } catch (error) {
          throw new DtmfNotSentError(digits.slice(i), `the INFO failed: ${(error as Error).message}`);
        }
      }
      return;
    }
    const stream = this.media.stream;
    if (!stream) throw new DtmfNotSentError(digits, 'the call has no media stream');
    try {
      await stream.sendDtmf(digits, method === 'inband' ? 'inband' : 'rfc4733');
    } catch (error) {
      if (error instanceof MediaDtmfNotSentError) throw new DtmfNotSentError(error.unsent);
      throw error;
    }
  }

  #changed(next: CallState, previous: CallState): void {
    this.emit('stateChanged', next, previous);
    if (next === 'CONNECTED' && this.#connectedAt === undefined) {
      this.#connectedAt = new Date();
      this.#tags = { local: this.#session.dialog?.localTag ?? '', remote: this.#session.dialog?.remoteTag ?? '' };
    }
    if (next === 'DISCONNECTED') {
      // The report is made of the stream's last counters: before the media closes. Whatever goes
      // wrong with it is logged; the call ends all the same.
      try {
        this.#publishVqReport();
      } catch (error) {
        this.#host.context.log(1, 'endpoint', `voice-quality report of ${this.id} not sent: ${(error as Error).message}`);
      }
      callMediaControl(this.media).close();
      this.emit('closed');
    }
  }

  /**
   * At the end of a call that carried media, its voice-quality report (RFC 6035) goes to the
   * collector when `vq_report_publish` is 1 and `vq_report_collector` is set. Native streams
   * only (libwebrtc's do not give what the report is made of).
   */
  #publishVqReport(): void {
    const context = this.#host.context;
    const config = context.config;
    if (!config.get('policy.endpoint.vq_report_publish') || config.get('policy.endpoint.vq_report_collector').trim() === '') return;
    const stream = this.media.stream;
    const negotiated = this.media.negotiated;
    const started = this.#connectedAt;
    if (!stream || !negotiated || !started || !('remoteReport' in stream.stats())) return;
    const stats = stream.stats() as AudioStreamStats;
    const session = this.#session;
    const request = session instanceof Invitation ? session.request : (session as Inviter).request;
    const local = session.localIdentity.uri.toString();
    const remote = session.remoteIdentity.uri.toString();
    const localTag = this.#tags?.local ?? '';
    const remoteTag = this.#tags?.remote ?? '';
    const expected = Math.max(1, stats.received.expected);
    const framesPerPacket = 1;
    const body = vqSessionReport({
      callId: request.callId,
      localId: local,
      remoteId: remote,
      origId: this.direction === 'outgoing' ? local : remote,
      fromTag: this.direction === 'outgoing' ? localTag : remoteTag,
      toTag: this.direction === 'outgoing' ? remoteTag : localTag,
      local: { address: context.address, port: (stream as { localPort?: number }).localPort ?? 0, ssrc: stats.localSsrc },
      remote: { address: negotiated.remote.address, port: negotiated.remote.rtpPort, ssrc: stats.remoteSsrc },
      start: started,
      stop: new Date(),
      codec: { payloadType: negotiated.payloadType, encoding: negotiated.codec.encoding, clockRate: negotiated.codec.clockRate, frameMs: negotiated.ptimeMs, framesPerPacket },
      rttMs: stats.rttMs,
      oneWayDelayMs: stats.vq.oneWayDelayMs,
      localMetrics: {
        lossPercent: (100 * stats.received.lost) / expected,
        discardPercent: (100 * stats.jitterBuffer.late) / expected,
        jitterMs: stats.received.jitterMs,
        jitterBuffer: { nominalMs: stats.jitterBuffer.targetDelayMs, currentMs: stats.jitterBuffer.currentDelayMs },
        quality: { listeningMos: stats.vq.listeningMos, conversationalMos: stats.vq.mos, rFactor: stats.vq.rFactor },
      },
      // The far end's view of our stream: its XR VoIP Metrics when it sends them (RFC 3611), else its RTCP receiver reports.
      remoteMetrics: stats.remoteVoipMetrics
        ? {
            lossPercent: 100 * stats.remoteVoipMetrics.lossRate,
            discardPercent: 100 * stats.remoteVoipMetrics.discardRate,
            jitterMs: stats.remoteReport?.jitterMs ?? 0,
            jitterBuffer: { nominalMs: stats.remoteVoipMetrics.jitterBufferNominalMs, currentMs: stats.remoteVoipMetrics.jitterBufferMaxMs },
            quality:
              stats.remoteVoipMetrics.mosLq !== undefined && stats.remoteVoipMetrics.mosCq !== undefined && stats.remoteVoipMetrics.rFactor !== undefined
                ? { listeningMos: stats.remoteVoipMetrics.mosLq, conversationalMos: stats.remoteVoipMetrics.mosCq, rFactor: stats.remoteVoipMetrics.rFactor }
                : undefined,
          }
        : stats.remoteReport
          ? { lossPercent: (100 * stats.remoteReport.cumulativeLost) / Math.max(1, stats.sent.packets), discardPercent: 0, jitterMs: stats.remoteReport.jitterMs, jitterBuffer: undefined, quality: undefined }
          : undefined,
    });
    this.#host.publishVqReport(body);
  }

  #end(): void {
    this.#timer.stop();
    if (this.state !== 'DISCONNECTED') this.#machine.to('DISCONNECTED');
  }

  /** Sends the INVITE of an outgoing call; provisional responses alert, a refusal is kept. */
  async #invite(earlyMedia: (response: HeaderSource) => boolean): Promise<void> {
    const inviter = this.#session as Inviter;
    await inviter.invite({
      requestDelegate: {
        onProgress: (response) => {
          // The early dialog this response made takes the far end's UPDATEs (RFC 3311 5.1: an
          // early media server moving its stream, a session interval) before the call is answered.
          const early = earlyDialogOf(response);
          if (early && !early.extensions) extendDialog(early, this.#dialogHooks(early));
          if (this.state === 'IN_PROGRESS') this.#machine.to('ALERTING');
          if (!this.#ringback) {
            const withSdp = response.message.body.length > 0 && /application\/sdp/i.test(response.message.getHeader('Content-Type') ?? '');
            this.#ringback = startRingback(this, earlyMedia(response.message) && withSdp, this.#host.context);
          }
        },
        onAccept: (response) => {
          this.#peerAllows = allowedMethods(response.message);
          this.#sessionTimerFromResponse(response.message);
        },
        onReject: (response) => {
          const message = response.message;
          this.#rejectedWith = message.statusCode ?? 0;
          // The Warning's text (RFC 3261 20.43) says why, when the far end gave one.
          const warning = /^\s*\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/.exec(message.getHeader('Warning') ?? '')?.[1];
          this.#endReason ??= this.#host.refusal(message) + (warning ? `: ${warning}` : '');
        },
      },
    });
  }

  #onInfo(info: Info): void {
    const type = info.request.getHeader('Content-Type') ?? '';
    const digit = /Signal\s*=\s*([0-9A-D*#])/i.exec(info.request.body)?.[1];
    void info.accept().catch(() => undefined);
    if (/dtmf/i.test(type) && digit) this.emit('dtmf', { digit: digit.toUpperCase() as DtmfEvent['digit'], source: 'info' });
  }

  /**
   * A NOTIFY for this call, in its dialog or (from the line) outside one: third-party call control
   * (`Event: talk` / `hold`), DTMF to play (`Event: dtmf`), else 489.
   */
  async #onNotify(notification: Notification): Promise<void> {
    const event = (notification.request.getHeader('Event') ?? '').split(';')[0]!.trim().toLowerCase();
    if (event === 'dtmf') {
      await this.#dtmfNotify(notification);
      return;
    }
    if (event !== 'talk' && event !== 'hold') {
      await notification.reject({ statusCode: 489 }).catch(() => undefined); // Bad Event
      return;
    }
    await notification.accept().catch(() => undefined);
    await this.#thirdParty(event);
  }

  /**
   * Third-party DTMF (`Event: dtmf`): the digits of the body are played on the call with the
   * configured `dtmf_method`, once the NOTIFY is answered 200. Another body type gets 415 (with
   * Accept), a body without valid digits 400, a call that is not connected or held 403; nothing
   * is played then.
   */
  async #dtmfNotify(notification: Notification): Promise<void> {
    const request = notification.request;
    const type = request.getHeader('Content-Type');
    const log = (level: number, message: string): void => this.#host.context.log(level, 'endpoint', `NOTIFY dtmf on ${this.id}: ${message}`);
    if (!isDtmfNotifyType(type)) {
      log(2, `refused (415): a body of ${type ?? 'no type'}`);
      await notification.reject({ statusCode: 415, extraHeaders: [`Accept: ${DTMF_NOTIFY_TYPES.join(', ')}`] }).catch(() => undefined);
      return;
    }
    let digits: string;
    try {
      digits = parseDtmfNotify(type!, request.body ?? '').digits;
    } catch (error) {
      log(2, `refused (400): ${(error as Error).message}`);
      await notification.reject({ statusCode: 400, reasonPhrase: 'Bad DTMF Request' }).catch(() => undefined);
      return;
    }
    if (this.state !== 'CONNECTED' && this.state !== 'HELD') {
      log(2, `refused (403): the call is ${this.state}`);
      await notification.reject({ statusCode: 403, reasonPhrase: 'Call Not Connected' }).catch(() => undefined);
      return;
    }
    await notification.accept().catch(() => undefined);
    log(3, `playing ${digits}`);
    await this.sendDtmf(digits).catch((error: unknown) => log(1, `the digits were not played: ${(error as Error).message}`));
  }

  /**
   * Third-party call control as SIP Server drives an agent's endpoint: `talk` answers a ringing
   * call or retrieves one we hold, `hold` holds a connected one.
   */
  async #thirdParty(event: 'talk' | 'hold'): Promise<void> {
    try {
      if (event === 'talk' && this.state === 'RINGING') await this.answer();
      else if (event === 'talk' && this.state === 'HELD' && this.#localHold) await this.retrieve();
      else if (event === 'hold' && this.state === 'CONNECTED') await this.hold();
    } catch (error) {
      this.#host.context.log(1, 'endpoint', `NOTIFY ${event} on ${this.id} failed: ${(error as Error).message}`);
    }
  }

  /** The 2xx of our INVITE or re-INVITE: the interval and refresher it settled. */
  #sessionTimerFromResponse(response: HeaderSource): void {
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
    const seconds = Math.max(requested, minSe ?? 0, this.#host.context.minSessionExpires);
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
    extendDialog(dialog as Core.SessionDialog, this.#dialogHooks(dialog as Core.SessionDialog));
  }

  /**
   * What the call's dialog does with the far end's re-INVITE and UPDATE, early or confirmed: a
   * session interval taken, an offer answered. In an early dialog (RFC 3311 5.2) an offer is taken
   * once the INVITE's offer/answer is done and its answer plays (early media): while our offer
   * waits for its answer, 491; an answer that does not play yet, 500 with Retry-After.
   */
  #dialogHooks(dialog: Core.SessionDialog): DialogHooks {
    return {
      reinviteResponseHeaders: (request) => this.#refreshedBy(request),
      onUpdate: async (request) => {
        const headers = this.#refreshedBy(request);
        const handler = callMediaControl(this.media).handler();
        if (request.body && /application\/sdp/i.test(request.getHeader('Content-Type') ?? '')) {
          if (dialog.early && offerState(dialog) === 'local-offer') return { statusCode: 491, extraHeaders: headers };
          // The early answer is applied only when early media plays (ringback_enabled): until the
          // 2xx applies it, the media has nothing to change; the far end may try again later.
          if (dialog.early && (offerState(dialog) !== 'stable' || this.media.direction === undefined)) {
            return { statusCode: 500, extraHeaders: [...headers, `Retry-After: ${1 + Math.floor(Math.random() * 9)}`] };
          }
          try {
            await handler.setDescription(request.body);
            const answer = await handler.getDescription();
            this.#remoteOfferApplied();
            return { statusCode: 200, extraHeaders: headers, body: { contentDisposition: 'session', contentType: answer.contentType, content: answer.body } };
          } catch {
            return { statusCode: 488, extraHeaders: headers };
          }
        }
        return { statusCode: 200, extraHeaders: headers };
      },
    };
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

  /**
   * The far end's re-INVITE (or UPDATE) was answered: a sendonly, inactive or `c=0.0.0.0` offer
   * means the far end holds the call (our side then receives only, or nothing).
   */
  #remoteOfferApplied(): void {
    const direction = this.media.direction;
    if (!direction) return;
    this.#remoteHold = direction === 'recvonly' || direction === 'inactive';
    this.#followHold();
  }

  async #refreshTarget(contact: string): Promise<string> {
    if (sessionContact(this.#session) === contact) return 'its Contact is the line\'s already';
    setSessionContact(this.#session, contact);
    if (this.state !== 'CONNECTED' && this.state !== 'HELD') return `not refreshed (${this.state}): its next requests carry the new Contact`;
    try {
      await this.#reinvite(this.#localHold);
      return 'the far end took the new Contact (re-INVITE answered 2xx)';
    } catch (error) {
      const status = error instanceof RequestFailedError ? error.statusCode : undefined;
      if (this.#ended()) return 'ended meanwhile';
      if (status === 408 || status === 481 || status === undefined) {
        // The far end no longer knows the dialog, or cannot be reached: RFC 3261 12.2.1.2 ends it.
        await callControl(this).lost(`the call's signalling was lost with the line's connection: target refresh ${status === undefined ? 'failed' : `answered ${status}`}`);
        return `ended: the target refresh got ${status ?? 'no answer'}`;
      }
      return `the far end refused the target refresh (${status}); the call goes on`;
    }
  }

  /**
   * Sends a MESSAGE in the call's dialog (RFC 3428), once the call is connected (or held).
   * Resolves with the 2xx; rejects with `RequestFailedError` (its `statusCode`) for a refusal or
   * no answer, `InvalidStateError` before the call is connected or after it ended,
   * `InvalidArgumentError` for a content type that is not `type/subtype` or a body over 16 KiB.
   */
  async sendMessage(body: string, options: SendMessageOptions = {}): Promise<MessageDelivery> {
    if (this.state !== 'CONNECTED' && this.state !== 'HELD') throw new InvalidStateError(`cannot send a MESSAGE on a call that is ${this.state}`, this.state);
    const { contentType, extraHeaders } = checkMessage(body, options);
    return delivered((requestDelegate) => this.#session.message({ requestOptions: { body: { contentDisposition: 'render', contentType, content: body }, extraHeaders }, requestDelegate }));
  }

  /**
   * Refreshes the session (RFC 4028 7.4, 9) when we are the refresher: by UPDATE without a body
   * when the far end's Allow lists UPDATE (the RFC's preference: nothing of the media changes),
   * else by a re-INVITE with our current offer. An UPDATE refused with 405 or 501 is followed by
   * a re-INVITE, and the call uses re-INVITEs from then on; 481 or 408 ends the call (RFC 3261
   * 12.2.1.2), as the timer's expiry would.
   */
  async #refreshSession(): Promise<void> {
    const dialog = this.#session.dialog as Core.SessionDialog | undefined;
    if (!dialog || this.#updateRefused || !this.#peerAllows?.has('UPDATE')) {
      await this.#reinvite(this.#localHold);
      return;
    }
    await this.#dialogSettled();
    if (this.#ended()) return;
    const status = await new Promise<number>((resolve) => {
      sendUpdate(
        dialog,
        {
          onAccept: (response) => {
            this.#sessionTimerFromResponse(response.message);
            resolve(200);
          },
          onReject: (response) => resolve(response.message.statusCode ?? 0),
        },
        [`Contact: ${sessionContact(this.#session) ?? ''}`, 'Supported: timer', ...this.#timer.requestHeaders()],
      );
    });
    if (status === 200) return;
    if (status === 405 || status === 501) {
      this.#updateRefused = true;
      await this.#reinvite(this.#localHold);
      return;
    }
    if (status === 408 || status === 481) {
      this.#endReason ??= `the session refresh (UPDATE) got ${status}`;
      await this.hangup().catch(() => undefined);
      return;
    }
    throw new RequestFailedError(`session refresh (UPDATE) refused: ${status}`, status);
  }

  /**
   * Sends a re-INVITE (hold or retrieve). One the far end is still completing (its ACK not yet
   * here) is waited for; a 491 Request Pending (glare) is retried after a random 0 to 2 s
   * (RFC 3261 14.1), twice at most.
   */
  async #reinvite(hold: boolean, codec?: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await this.#dialogSettled();
      if (this.#ended()) throw new InvalidStateError('the call ended', 'DISCONNECTED');
      const outcome = await new Promise<'done' | 'busy' | 'glare'>((resolve, reject) => {
        this.#session
          .invite({
            sessionDescriptionHandlerOptions: { hold, ...(codec ? { codec } : {}) } as object,
            requestOptions: { extraHeaders: this.#timer.requestHeaders() },
            requestDelegate: {
              onAccept: (response) => {
                if (this.#timer.active) this.#sessionTimerFromResponse(response.message);
                resolve('done');
              },
              onReject: (response) => {
                if (response.message.statusCode === 491) resolve('glare');
                else reject(new RequestFailedError(`re-INVITE rejected: ${response.message.statusCode ?? 0}`, response.message.statusCode));
              },
            },
          })
          .catch((error: unknown) => (error instanceof RequestPendingError ? resolve('busy') : reject(new RequestFailedError(`re-INVITE failed: ${(error as Error).message}`, undefined, { cause: error }))));
      });
      if (outcome === 'done') return;
      if (this.#ended()) throw new InvalidStateError('the call ended', 'DISCONNECTED');
      if (outcome === 'glare' && attempt >= 2) throw new RequestFailedError('re-INVITE refused with 491 Request Pending three times', 491);
      if (outcome === 'busy' && attempt >= 100) throw new RequestFailedError('a re-INVITE of ours did not complete');
      if (outcome === 'glare') await new Promise((resolve) => setTimeout(resolve, Math.random() * 2000));
    }
  }

  /**
   * Waits until no INVITE exchange of the dialog is still open: the ACK of the INVITE we answered
   * (sip.js would take it for the answer to our re-INVITE and end the call), or a re-INVITE of
   * either side. Gives up after 32 s (Timer H), when the ACK is lost for good.
   */
  async #dialogSettled(): Promise<void> {
    const dialog = this.#session.dialog;
    if (dialog) await whenDialogIdle(dialog as Core.SessionDialog);
  }

  /** Whether the call is over (a getter read after an await, which narrowing would not see change). */
  #ended(): boolean {
    return this.#machine.state === 'DISCONNECTED';
  }

  #followHold(): void {
    if (this.state !== 'CONNECTED' && this.state !== 'HELD') return;
    this.#machine.to(this.#localHold || this.#remoteHold ? 'HELD' : 'CONNECTED');
  }
}

/** `policy.session.dtmf_method` as a {@link DtmfMethod}. */
function configuredDtmfMethod(setting: 'Rfc2833' | 'Info' | 'InbandRtp'): DtmfMethod {
  return setting === 'Info' ? 'info' : setting === 'InbandRtp' ? 'inband' : 'rfc2833';
}

/** The methods of a message's Allow headers, upper case; undefined when it has none. */
function allowedMethods(message: { getHeaders(name: string): string[] }): ReadonlySet<string> | undefined {
  const headers = message.getHeaders('Allow');
  if (headers.length === 0) return undefined;
  return new Set(headers.flatMap((value) => value.split(',')).map((method) => method.trim().toUpperCase()).filter((method) => method !== ''));
}
