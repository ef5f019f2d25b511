import { isIP } from 'node:net';
import { timerDelay } from '../timer-delay';
import { DIGEST_ALGORITHMS, DigestCredentials } from '../sip/digest-credentials';
import { Inviter, Registerer, RegistererState, SessionState, SIPExtension, UserAgent, type Invitation, type LogConnector, type Message, type Notification, type Referral, type Session, type URI } from 'sip.js';
import { resolveServer, type AddressResolver, type ConfiguredCodec, type Connectivity } from '@sip-endpoint/config';
import { InvalidStateError, SafeEmitter, StateMachine, type CallKind, type ConnectionState } from '@sip-endpoint/policy';
import { codecs as engineCodecs, webRtcCodecNames } from '@sip-endpoint/media';
import { Call, callControl, type CallHost } from '../call/call';
import { callMediaControl, type MediaEngine } from '../media/call-media';
import type { EndpointContext } from '../endpoint-context';
import { CallRefusedError, InvalidArgumentError, LineNotReadyError } from '../errors';
import { assertPatchedSipJs } from '../sip/dialog-extensions';
import { ConnectionTransport } from '../transport/connection-transport';
import { peekSip } from '../transport/sip-peek';
import type { UdpTransport, UdpTransportOptions } from '../transport/udp-transport';
import { headerBag, screenInvite } from './incoming-invite';
import { imOffer } from '../media/im-session-description-handler';
import { LINE_TRANSITIONS } from './line-state';
import { openLineTransport, proxySection } from './line-transport';
import { sendMessage, takeMessage, type MessageDelivery, type SendMessageOptions } from './messaging';
import { isMailboxRequest, mailboxServerAddresses, MailboxSubscription, mailboxSettings } from './mailbox';
import type { MessageSummary } from './message-summary';
import { VQ_REPORT_EVENT, VQ_REPORT_TYPE } from '../call/vq-session-report';

/** Options of a {@link Line}; the endpoint makes them. */
export interface LineOptions {
  connectivity: Connectivity;
  /** What the endpoint shares with its lines (configuration, policy, devices, address, ports, log). */
  context: EndpointContext;
  /** What Contact carries (a host name for an explicit `public_address` name, else the address). */
  contactHost?: string;
  /** The User-Agent header. */
  userAgentString?: string;
  /** RFC 5626 instance id for the REGISTER Contact (`+sip.instance`, with `reg-id`): `include_mac_address`. */
  instanceId?: string;
  /** DNS access for the server (SRV, A). */
  resolver?: AddressResolver;
  /** First port to try; lines of one endpoint take consecutive ports. @defaultValue `sip_port_min` */
  firstPort?: number;
  /** sip.js log messages. */
  logConnector?: LogConnector;
  /** Every SIP message sent and received, for logs and tests. */
  trace?: (direction: 'out' | 'in', message: string, remote: { address: string; port: number }) => void;
  /** Retry delays, for tests. @defaultValue { firstRetryMs: 500 } */
  timing?: { firstRetryMs?: number };
  /** Start DISABLED: registration waits for {@link Line.enable} (enforce_headset_usage). */
  disabled?: boolean;
}

/** A SIP MESSAGE that came to a line (RFC 3428). @public */
export interface LineMessage {
  /** The sender's URI. */
  from: string;
  contentType: string;
  body: string;
}

/** Options of {@link Line.makeCall}. @public */
export interface MakeCallOptions {
  /**
   * How long to wait for a line that is still registering (TRYING) to become READY, in
   * milliseconds; 0 fails at once with {@link LineNotReadyError}.
   * @defaultValue `policy.endpoint.sip_transaction_timeout` (32 s)
   */
  readyTimeoutMs?: number;
  /** Cancels the wait for a registering line (the call is then not made: the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Extra headers of the INVITE (`name: value`). */
  headers?: Record<string, string>;
  /** Send the INVITE without SDP, as 3pcc flows do: the offer then comes in the 200 and our answer in the ACK. */
  delayedOffer?: boolean;
  /**
   * `im` places an instant-messaging session instead of a voice call: the INVITE offers only an
   * IM stream (`m=message`), no audio; messages then go in its dialog (`call.sendMessage()`).
   * @defaultValue 'voice'
   */
  kind?: CallKind;
}

/** Events of a {@link Line}. @public */
export type LineEvents = {
  /** The line moved (see {@link LINE_TRANSITIONS}); `reason` says why it is FAILED. */
  stateChanged: [ConnectionState, ConnectionState, string | undefined];
  /** A call came in and the policy lets it ring (or answers it at once). */
  incomingCall: [Call];
  /** A call of this line started (incoming, outgoing or referred). */
  newCall: [Call];
  /** The far end of `call` asked us (REFER) to call someone else; `newCall` is that outgoing call. */
  referred: [Call, Call];
  /** A SIP MESSAGE came (it was answered 200). */
  message: [LineMessage];
  /** The mailbox (`proxies.proxy<N>.mailbox`) sent its message-waiting state (RFC 3842). */
  messageWaiting: [MessageSummary];
  /** The line is SHUTDOWN and its calls ended; emitted once. */
  closed: [];
};

/** Counters of a {@link Line}. @public */
export interface LineCounters {
  offersRefused: number;
  /** SIP requests dropped unanswered because of their source (`sip_accept_requests_from`). */
  requestsRefused: number;
  /** New SIP requests over a source's `sip_rate_limit`: answered 503 or dropped. */
  requestsLimited: number;
}

/**
 * One Connectivity line of an {@link Endpoint}: a sip.js user agent on its own SIP port,
 * registered with its server per `proxies.proxy<N>` (digest credentials, `reg_timeout` as Expires,
 * refreshed before expiry), retried after a failure (first after half a second, then every
 * `reg_interval`; 0 means no new cycle), or stand-alone when `reg_timeout` is 0.
 *
 * @remarks
 * The line owns its calls: it makes them ({@link Line.makeCall}), takes the requests addressed to
 * it outside a dialog (INVITE, NOTIFY for third-party call control, MESSAGE), and ends them when
 * it closes. Made only by its endpoint; its states follow {@link LINE_TRANSITIONS}.
 *
 * @public
 */
export class Line extends SafeEmitter<LineEvents> {
  readonly index: number;
  /**
   * INVITEs the line refused before any call was made of them: `offersRefused`, an SDP offer it
   * cannot take (488 with a Warning saying why: no common codec, SRTP the `use_srtp` setting
   * refuses, a malformed or unknown `a=crypto`, an SDP without audio). Each is also logged.
   * `requestsRefused`: requests dropped because they came from neither the line's server nor
   * `sip_trusted_addresses` (`sip_accept_requests_from`); the first from each address is logged.
   */
  readonly counters: LineCounters = { offersRefused: 0, requestsRefused: 0, requestsLimited: 0 };
  readonly connectivity: Connectivity;
  readonly #options: LineOptions;
  readonly #context: EndpointContext;
  readonly #machine: StateMachine<ConnectionState>;
  readonly #calls = new Map<string, Call>();
  readonly #bySession = new WeakMap<Session, Call>();
  /** What the line's calls see of it. */
  readonly #host: CallHost;
  #reason: string | undefined;
  #ua: UserAgent | undefined;
  #registerer: Registerer | undefined;
  #transport: UdpTransport | ConnectionTransport | undefined;
  /** Whether the far end reaches us only over our own connection (TLS without a listening port, WS, WSS). */
  #ownConnectionOnly = false;
  #port: number | undefined;
  #retry: NodeJS.Timeout | undefined;
  /**
   * The Contact the line registered before `reg_match_received_rport` corrected it: the next
   * REGISTER removes that binding (`expires=0`), so that the registrar does not keep routing
   * calls to an address the far end cannot reach.
   */
  #staleContact: string | undefined;
  /**
   * The Contact moved to a new connection's port since the calls last sent theirs (a line that the
   * far end reaches only over its own connection, which was lost): once registered again, the
   * calls send it in target refreshes.
   */
  #contactMoved = false;
  /** Voice-quality reports on their way to the collector (close waits for them, 2 s at most). */
  readonly #publishing = new Set<Promise<void>>();
  /** The subscription to the line's mailbox (`proxies.proxy<N>.mailbox.user` set). */
  #mailbox: MailboxSubscription | undefined;
  #failures = 0;
  #closing = false;
  #started = false;

  /** @internal Made by the endpoint. */
  constructor(options: LineOptions) {
    super();
    assertPatchedSipJs();
    this.#options = options;
    this.#context = options.context;
    this.connectivity = options.connectivity;
    this.index = options.connectivity.index;
    controls.set(this, {
      tokenChanged: () => {
        // A line that failed for its token tries again with the new one at once.
        if (this.connectivity.protocol !== 'HTTPS' || this.state !== 'FAILED' || this.#closing) return;
        if (this.#retry) clearTimeout(this.#retry);
        this.#retry = undefined;
        this.#register();
      },
    });
    this.#host = {
      line: this.index,
      context: options.context,
      resolve: (target) => this.#resolve(target),
      referred: (call, referral) => void this.#onRefer(call, referral),
      signallingSecure: ['TLS', 'WSS', 'HTTPS'].includes(options.connectivity.protocol),
      refusal: (response) => this.#refusal(response),
      publishVqReport: (body) => this.#publishVqReport(body),
    };
    this.#machine = new StateMachine<ConnectionState>(`line ${this.index}`, 'NONE', LINE_TRANSITIONS, (next, previous) => {
      this.emit('stateChanged', next, previous, next === 'FAILED' ? this.#reason : undefined);
      if (next === 'SHUTDOWN') this.emit('closed');
    });
  }

  /** The line's state (see {@link LINE_TRANSITIONS}). */
  get state(): ConnectionState {
    return this.#machine.state;
  }

  /** Why the line is FAILED (the registrar's status line, or the error). */
  get reason(): string | undefined {
    return this.#reason;
  }

  /** The line's sip.js user agent (after `start()`). */
  get userAgent(): UserAgent | undefined {
    return this.#ua;
  }

  /** The mailbox's last message-waiting state (`proxies.proxy<N>.mailbox`); undefined before its first NOTIFY, or without a mailbox. */
  get messageWaiting(): MessageSummary | undefined {
    return this.#mailbox?.summary;
  }

  /** The local SIP port (after `start()`). */
  get port(): number | undefined {
    return this.#port;
  }

  /** The calls of this line that are not over. */
  get calls(): Call[] {
    return [...this.#calls.values()];
  }

  /** The calls of this line that are not over, without a copy (for the endpoint's own loops). @internal */
  callsInProgress(): IterableIterator<Call> {
    return this.#calls.values();
  }

  /** Whether the line can place calls now: registered, or stand-alone. */
  get canCall(): boolean {
    return (this.state === 'READY' || this.state === 'STANDALONE') && this.#ua !== undefined;
  }

  /**
   * Opens the transport and starts the user agent, then registers (TRYING), goes stand-alone
   * (`reg_timeout` 0), or waits DISABLED when made with `disabled`.
   */
  async start(): Promise<void> {
    if (this.#started || this.state !== 'NONE') throw new InvalidStateError(`line ${this.index} has already been started (${this.state})`, this.state);
    this.#started = true;
    const context = this.#context;
    const config = context.config;
    const connectivity = this.connectivity;
    const proxy = proxySection(this.index);
    const regTimeout = config.get(`${proxy}.reg_timeout`);
    const address = context.address;
    const bind = config.get('policy.endpoint.sip_port_binding') === 1 ? address : address.includes(':') ? '::' : '0.0.0.0';
    const connectionOriented = connectivity.protocol !== 'UDP';
    const targets = await resolveServer(connectivity.server, connectivity.protocol, { resolver: this.#options.resolver, ipVersions: config.get('policy.endpoint.ip_versions') }).catch(() => []);
    const target = targets[0] ?? { address: connectivity.host, port: connectivity.port ?? 5060 };
    const domain = config.get(`${proxy}.domain`) || connectivity.host;
    const mailbox = mailboxSettings(config, this.index, connectivity.server);
    const mailboxAddresses = mailbox ? await mailboxServerAddresses(mailbox.server, this.#options.resolver) : [];
    const displayName = config.get(`${proxy}.display_name`);
    // Via and Contact carry the same host (sip.js checks that responses come back to it).
    const viaHost = this.#options.contactHost ?? address;
    const trace = this.#options.trace;
    const matchReceived = config.get(`${proxy}.reg_match_received_rport`);
    const plan = await openLineTransport({
      connectivity,
      config,
      bind,
      firstPort: this.#options.firstPort ?? config.get('policy.endpoint.sip_port_min'),
      common: {
        viaHost,
        // Stand-alone (reg_timeout 0): no proxy; requests go where their Request-URI says.
        target: regTimeout === 0 && !connectionOriented ? undefined : { address: target.address, port: target.port },
        transactionTimeoutMs: config.get('policy.endpoint.sip_transaction_timeout'),
        udpKeepAliveS: this.#context.udpKeepAliveS,
        ...this.#requestFilter(regTimeout > 0 ? [...targets.map((t) => t.address), connectivity.host, ...mailboxAddresses] : undefined),
        trace: (direction: 'out' | 'in', message: string, remote: { address: string; port: number }) => {
          trace?.(direction, message, remote);
          if (direction === 'in' && matchReceived) this.#checkReceived(message);
        },
      },
      onReconnect: () => {
        if (this.state === 'READY') this.#register(true);
        // A line that failed with its connection (a WebRTC gateway that went away) registers again as soon as it is back.
        else if (this.state === 'FAILED' && !this.#closing) {
          if (this.#retry) clearTimeout(this.#retry);
          this.#retry = undefined;
          this.#register();
        }
      },
      bearerToken: () => this.#context.accessToken(),
      onDropped: () => this.#gatewayLost(),
    });
    this.#ownConnectionOnly = plan.ownConnectionOnly;
    const ua = new UserAgent({
      uri: UserAgent.makeURI(`sip:${connectivity.user}@${domain}`),
      transportConstructor: plan.constructor,
      transportOptions: plan.options,
      viaHost,
      forceRport: true,
      contactName: connectivity.user,
      // A WebRTC line's SIP runs over secure WebSocket.
      contactParams: { transport: connectivity.protocol === 'HTTPS' ? 'wss' : connectivity.protocol.toLowerCase() },
      authorizationUsername: connectivity.user,
      authorizationPassword: config.get(`${proxy}.password`),
      // Digest with MD5, SHA-256 or SHA-512-256 (RFC 8760), qop auth or auth-int (src/sip/digest-credentials.ts).
      // The mailbox subscription answers its challenges with the mailbox's user and password.
      digestAuthenticationFactory: (request) =>
        mailbox && isMailboxRequest(request)
          ? new DigestCredentials(mailbox.user, mailbox.password, (message) => this.#context.log(2, 'endpoint', `line ${this.index} mailbox: ${message}`))
          : new DigestCredentials(connectivity.user, config.get(`${proxy}.password`), (message) => this.#context.log(2, 'endpoint', `line ${this.index}: ${message}`)),
      digestAlgorithms: [...DIGEST_ALGORITHMS],
      // A WebRTC line answers a Bearer challenge (RFC 8898) of any request with its access token.
      ...(connectivity.protocol === 'HTTPS' ? { authorizationBearerToken: () => this.#context.accessToken() } : {}),
      ...(displayName ? { displayName } : {}),
      ...(this.#options.userAgentString ? { userAgentString: this.#options.userAgentString } : {}),
      logBuiltinEnabled: false,
      ...(this.#options.logConnector ? { logConnector: this.#options.logConnector } : {}),
      // INVITE with Replaces (RFC 3891): attended transfers that end at us.
      sipExtensionReplaces: SIPExtension.Supported,
      // Reliable provisional responses (RFC 3262): our INVITEs say we support them (sip.js sends
      // the PRACKs), and an INVITE that requires them gets a reliable 180.
      sipExtension100rel: SIPExtension.Supported,
      // Session timers (RFC 4028): Session-Expires and Min-SE from SIP Server, refreshed by us when we are the refresher.
      sipExtensionExtraSupported: ['timer'],
      // The line sends 180 itself, once the policy has decided (no 180 before a rejection).
      sendInitialProvisionalResponse: false,
      // Each call's media makes the handler of its own session.
      sessionDescriptionHandlerFactory: (session) => callMediaControl(this.#bySession.get(session)!.media).handler(),
      delegate: {
        onInvite: (invitation) => void this.#onInvite(invitation),
        // Out-of-dialog NOTIFY (third-party call control): acts on this line's call.
        onNotify: (notification) => void this.#onNotify(notification),
        onMessage: (message) => this.#onMessage(message),
      },
    });
    ua.contact.uri.port = plan.port;
    this.#ua = ua;
    this.#port = plan.port;
    this.#transport = ua.transport as unknown as UdpTransport | ConnectionTransport;
    await ua.start();
    if (this.#closing) return;
    if (mailbox) {
      this.#mailbox = new MailboxSubscription(ua, mailbox, (summary) => this.emit('messageWaiting', summary), (level, message) => this.#context.log(level, 'endpoint', `line ${this.index}: ${message}`));
      // A stand-alone line subscribes now; a registering one once it is READY.
      if (regTimeout === 0) this.#mailbox.start();
    }
    if (regTimeout !== 0) {
      this.#registerer = new Registerer(ua, { expires: regTimeout, refreshFrequency: refreshPercent(regTimeout), ...(this.#options.instanceId ? { instanceId: this.#options.instanceId } : {}) });
      const registerer = this.#registerer;
      let refused: string | undefined;
      // sip.js refreshes without a delegate: one that keeps why the registrar refused the refresh
      // (a Bearer token it no longer takes), for the reason the line fails with. Each REGISTER,
      // refreshes included, gets its extra headers anew (sip.js would keep the last ones given):
      // a WebRTC line's current access token (RFC 8898), and the caller's own.
      const register = registerer.register.bind(registerer);
      registerer.register = (options = {}) => {
        const extraHeaders = [...(options.requestOptions?.extraHeaders ?? []), ...this.#bearerHeaders()];
        const requestOptions = { ...options.requestOptions, extraHeaders };
        return register(options.requestDelegate ? { ...options, requestOptions } : { ...options, requestOptions, requestDelegate: { onReject: (response) => void (refused = this.#refusal(response.message)) } });
      };
      registerer.stateChange.addListener((state) => {
        // A refresh that failed leaves sip.js Unregistered while we think we are READY; its
        // rejection (if that is what it was) is told right after this state change.
        if (state !== RegistererState.Unregistered || this.state !== 'READY' || this.#closing) return;
        refused = undefined;
        queueMicrotask(() => {
          if (this.state === 'READY' && !this.#closing) this.#failed(refused ?? 'registration refresh failed');
        });
      });
    }
    if (this.#options.disabled) this.#machine.to('DISABLED');
    else this.#go();
  }

  /**
   * Resolves once the line can place calls (READY or STANDALONE). A line that is registering
   * (NONE or TRYING, or FAILED and retrying) is waited for, at most `timeoutMs`; a DISABLED,
   * SHUTDOWN or failed line that will not retry, or the end of the wait, rejects with
   * {@link LineNotReadyError} saying why; `signal` cancels the wait.
   */
  async whenReady(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.canCall) return;
    const timeoutMs = options.timeoutMs ?? this.#context.config.get('policy.endpoint.sip_transaction_timeout');
    const retries = this.#context.config.get(`${proxySection(this.index)}.reg_interval`) !== 0;
    const hopeless = (state: ConnectionState): boolean => state === 'DISABLED' || state === 'SHUTDOWN' || (state === 'FAILED' && !retries);
    if (hopeless(this.state) || timeoutMs <= 0) throw this.#notReady();
    options.signal?.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const finish = (error?: unknown): void => {
        clearTimeout(timer);
        this.off('stateChanged', onState);
        options.signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onState = (state: ConnectionState): void => {
        if (this.canCall) finish();
        else if (hopeless(state)) finish(this.#notReady());
      };
      const onAbort = (): void => finish(options.signal?.reason);
      const timer = setTimeout(() => finish(this.#notReady(` after waiting ${timeoutMs} ms`)), timeoutMs);
      this.on('stateChanged', onState);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #notReady(suffix = ''): LineNotReadyError {
    const why = this.#reason ? ` (${this.#reason})` : '';
    const advice =
      this.state === 'DISABLED'
        ? 'it waits for the headset (enforce_headset_usage)'
        : this.state === 'SHUTDOWN'
          ? 'it was closed: make a new Endpoint'
          : this.state === 'FAILED'
            ? 'check the registrar, the credentials and proxies.proxyN.reg_interval'
            : 'wait until it is READY (connectionStateChanged)';
    return new LineNotReadyError(`line ${this.index} cannot place calls while it is ${this.state}${why}${suffix}: ${advice}`, this.state, this.#reason);
  }

  /** Lets a DISABLED line register (or go stand-alone); does nothing in another state. */
  enable(): void {
    if (this.state === 'DISABLED') this.#go();
  }

  /** Registers, or goes stand-alone without a registrar (`reg_timeout` 0). */
  #go(): void {
    if (this.#registerer) this.#register();
    else this.#machine.to('STANDALONE');
  }

  /**
   * Calls `target` (a SIP URI, or a DN on the line's server) from this line. The policy's
   * `canMakeCall` decides first; the policy's `codecPriorities` orders the offer.
   *
   * A line still registering is waited for (see {@link Line.whenReady}).
   *
   * @throws {@link CallRefusedError} when the policy refuses; {@link LineNotReadyError} when the
   * line cannot place calls (disabled, closed, failed, or not registered in time);
   * {@link InvalidArgumentError} for a target that is no SIP URI or DN.
   */
  async makeCall(target: string, options: MakeCallOptions = {}): Promise<Call> {
    const context = this.#context;
    if (!this.#resolve(target)) throw new InvalidArgumentError(`"${target}" is not a SIP address or a DN`);
    await this.whenReady({ ...(options.readyTimeoutMs !== undefined ? { timeoutMs: options.readyTimeoutMs } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    const kind = options.kind ?? 'voice';
    if (kind !== 'voice' && kind !== 'im') throw new InvalidArgumentError(`kind is 'voice' or 'im', not ${JSON.stringify(kind)}`);
    if (kind === 'im' && options.delayedOffer) throw new InvalidArgumentError('an IM session is offered in its INVITE: delayedOffer does not apply');
    const permission = await context.policy.canMakeCall({ config: context.config, devices: context.devices.list(), calls: context.snapshots(), destination: target, line: this.index, ...(kind === 'im' ? { kind } : {}) });
    if (!permission.allowed) throw new CallRefusedError(permission.reason);
    const uri = this.#resolve(target);
    if (!uri) throw new InvalidArgumentError(`"${target}" is not a SIP address or a DN`);
    const extraHeaders = Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`);
    const inviter = new Inviter(this.#ua!, uri, { extraHeaders, inviteWithoutSdp: options.delayedOffer ?? false, earlyMedia: earlyMediaRule(context) });
    const call = await this.#adopt(inviter, 'outgoing', kind === 'im' ? { kind, codecs: [] } : {});
    await callControl(call).invite({ earlyMedia: earlyMediaRule(context) });
    return call;
  }

  /** Ends every call, unregisters (when registered), stops the user agent and frees the port. Calling it twice is harmless. */
  async close(): Promise<void> {
    if (this.#closing || this.state === 'SHUTDOWN') return;
    this.#closing = true;
    if (this.#retry) clearTimeout(this.#retry);
    // Each call's BYE or CANCEL goes out and is answered before the transport closes (2 s at most
    // for a far end that does not answer).
    await Promise.all(this.calls.map((call) => Promise.race([call.hangup().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2000).unref())])));
    if (this.#publishing.size > 0) await Promise.race([Promise.all(this.#publishing), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    await this.#mailbox?.stop();
    const registerer = this.#registerer;
    if (registerer && registerer.state === RegistererState.Registered) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        registerer
          .unregister({ requestOptions: { extraHeaders: this.#bearerHeaders() }, requestDelegate: { onAccept: () => resolve(), onReject: () => resolve() } })
          .catch(() => resolve())
          .finally(() => clearTimeout(timer));
      });
    }
    // sip.js's stop waits for a REGISTER still in progress (a registrar that does not answer:
    // up to the transaction timeout); the line does not: the transport closes after 2 s at most.
    const ua = this.#ua;
    const stopped = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 2000);
      void (ua?.stop() ?? Promise.resolve())
        .catch(() => undefined)
        .finally(() => {
          clearTimeout(timer);
          resolve(true);
        });
    });
    // Not stopped in time: end the core's transactions (and their timers) now, which sip.js would
    // do only once the REGISTER's transaction timed out.
    if (!stopped) ua?.userAgentCore.reset();
    await (this.#transport?.dispose() ?? Promise.resolve());
    this.#machine.to('SHUTDOWN');
  }

  /** A call of this line: registered as a child, its media's handler found by its session. */
  async #adopt(session: Session, direction: 'incoming' | 'outgoing', extra: { uuid?: string | undefined; relatedTo?: string | undefined; codecs?: readonly ConfiguredCodec[]; engine?: MediaEngine; kind?: CallKind } = {}): Promise<Call> {
    const context = this.#context;
    // An IM session has no media engine to choose (native stands for none).
    const engine = extra.engine ?? (extra.kind === 'im' ? 'native' : await this.#engineFor(direction, undefined));
    const codecs =
      extra.codecs ??
      (await context.policy.codecPriorities({ config: context.config, devices: context.devices.list(), calls: context.snapshots(), supported: engine === 'webrtc' ? await webRtcCodecNames() : engineCodecs.names() })).offer;
    const call = new Call({ host: this.#host, session, direction, uuid: extra.uuid, relatedTo: extra.relatedTo, codecs, engine, ...(extra.kind ? { kind: extra.kind } : {}) });
    this.#bySession.set(session, call);
    this.#calls.set(call.id, call);
    call.once('closed', () => this.#calls.delete(call.id));
    this.emit('newCall', call);
    return call;
  }

  /**
   * The media engine of a call, as the policy decides (`mediaEngine`; by default every call of a
   * WebRTC line, and a JSEP offer on another line, run on WebRTC).
   */
  async #engineFor(direction: 'incoming' | 'outgoing', offer: string | undefined, calls = this.#context.snapshots()): Promise<MediaEngine> {
    const context = this.#context;
    const choice = await context.policy.mediaEngine({ config: context.config, devices: context.devices.list(), calls, line: this.index, protocol: this.connectivity.protocol, direction, offer });
    return choice === 'webrtc' ? 'webrtc' : 'native';
  }

  /**
   * `sip_accept_requests_from`: the sources a UDP line takes requests from. `servers` (the
   * default): the addresses of the line's server (`servers`; undefined for a stand-alone line)
   * and `sip_trusted_addresses`; a stand-alone line with no trusted address takes them from anyone.
   */
  #requestFilter(servers: readonly string[] | undefined): Pick<UdpTransportOptions, 'acceptRequestFrom' | 'onRequestRefused' | 'rateLimit'> {
    const config = this.#context.config;
    const trusted = config.get('policy.endpoint.sip_trusted_addresses');
    const known = new Set((servers ?? []).filter((address) => isIP(address) !== 0).map(plainAddress));
    const isKnown = (address: string): boolean => {
      const source = plainAddress(address);
      return known.has(source) || trusted.some((cidr) => cidr.contains(source));
    };
    const perSecond = config.get('policy.endpoint.sip_rate_limit');
    const limited = new Set<string>();
    const rateLimit: UdpTransportOptions['rateLimit'] =
      perSecond > 0
        ? {
            perSecond,
            exempt: isKnown,
            onLimited: (address) => {
              this.counters.requestsLimited++;
              if (limited.size < 1000 && !limited.has(address)) {
                limited.add(address);
                this.#context.log(2, 'endpoint', `line ${this.index}: ${address} sends more than ${perSecond} SIP requests a second (sip_rate_limit): the others get 503 or nothing`);
              }
            },
          }
        : undefined;
    const limit = rateLimit ? { rateLimit } : {};
    if (config.get('policy.endpoint.sip_accept_requests_from') === 'any') return limit;
    if (servers === undefined && trusted.length === 0) return limit;
    const logged = new Set<string>();
    return {
      ...limit,
      acceptRequestFrom: isKnown,
      onRequestRefused: (address) => {
        this.counters.requestsRefused++;
        // Once per address: a scanner's flood does not flood the log.
        if (logged.size < 1000 && !logged.has(address)) {
          logged.add(address);
          this.#context.log(2, 'endpoint', `line ${this.index}: SIP requests from ${address} are dropped (not the line's server, nor in sip_trusted_addresses; sip_accept_requests_from any takes them)`);
        }
      },
    };
  }

  /** A SIP URI as given, or a DN on the line's server. */
  #resolve(target: string): URI | undefined {
    // A WebSocket server written as a URL (or with a path) names the gateway, not a SIP domain: its host is.
    const connectivity = this.connectivity;
    const domain = connectivity.server.includes('/') ? (connectivity.host.includes(':') ? `[${connectivity.host}]` : connectivity.host) : connectivity.server;
    return UserAgent.makeURI(/^sips?:/i.test(target) ? target : `sip:${target}@${domain}`);
  }

  async #onInvite(invitation: Invitation): Promise<void> {
    const context = this.#context;
    const uuid = invitation.request.getHeader('X-Genesys-CallUUID') ?? undefined;
    try {
      // The endpoint's calls before this one: what every decision about it sees.
      const others = context.snapshots();
      const offer = /application\/sdp/i.test(invitation.request.getHeader('Content-Type') ?? '') ? invitation.request.body : undefined;
      // An offer of an IM stream alone (SIP Server's chat session) is an IM session: no audio.
      const kind: CallKind = offer !== undefined && imOffer(offer) ? 'im' : 'voice';
      const engine = kind === 'im' ? 'native' : await this.#engineFor('incoming', offer, others);
      const screening = await screenInvite(invitation, context, this.index, others, engine === 'webrtc', kind === 'im');
      if (screening.refuse) {
        if (screening.statusCode === 488) this.counters.offersRefused++;
        if (screening.log) context.log(2, 'endpoint', screening.log);
        await invitation.reject({ statusCode: screening.statusCode, extraHeaders: screening.extraHeaders });
        return;
      }
      const replaced = invitation.replacee ? this.#bySession.get(invitation.replacee) : undefined;
      const decision = replaced ? undefined : await context.policy.shouldAnswer({ config: context.config, devices: context.devices.list(), calls: others, headers: headerBag(invitation), line: this.index, ...(kind === 'im' ? { kind } : {}) });
      if (decision && decision.answer === false) {
        context.log(3, 'endpoint', `call on line ${this.index} rejected with ${decision.sipCode}: ${decision.reason}`);
        await invitation.reject({ statusCode: decision.sipCode });
        return;
      }
      const call = await this.#adopt(invitation, 'incoming', { uuid, relatedTo: replaced?.id, codecs: screening.priorities.offer, engine, kind });
      const control = callControl(call);
      if (screening.answerCodecs) control.setAnswerCodecs(screening.answerCodecs);
      control.sessionTimerFromInvite(invitation.request);
      this.emit('incomingCall', call);
      const answer = (): void => {
        if (call.state !== 'RINGING') return;
        // A call the policy answers and that cannot be answered is refused (500), not left ringing for ever.
        void call.answer().catch(async (error: Error) => {
          context.log(1, 'endpoint', `auto-answer failed: ${error.message}; the call is refused with 500`);
          if (call.state === 'RINGING') await call.reject(500).catch(() => undefined);
        });
      };
      // An attended transfer ends here (RFC 3891): the new call takes the place of one of ours,
      // answered at once; sip.js then ends the replaced one with a BYE. A call the policy answers
      // at once gets its 200 now, without a 180 or ringing.
      if (replaced || (decision?.answer === true && decision.delayMs <= 0)) {
        answer();
        return;
      }
      // A listener of incomingCall may have answered or rejected it already.
      if (invitation.state !== SessionState.Initial) return;
      // A reliable 180 (RFC 3262) when the INVITE requires one: without our answer, which goes
      // in the 200 (no media of ours before the call is answered); sip.js retransmits it until
      // its PRACK comes, and refuses the call with 504 when none comes. Otherwise a plain 180.
      if (requires100rel(invitation.request)) {
        void invitation.progress({ statusCode: 180, rel100: true, withoutAnswer: true }).catch((error: unknown) => context.log(2, 'endpoint', `reliable 180 on line ${this.index}: ${(error as Error).message}`));
      } else {
        await invitation.progress();
      }
      // An IM session alerts without a sound (no ringtone, no call-waiting tone).
      if (kind === 'voice') control.ring(others);
      if (decision?.answer === true) setTimeout(answer, timerDelay(decision.delayMs));
    } catch (error) {
      context.log(1, 'endpoint', `incoming call on line ${this.index} failed: ${(error as Error).message}`);
      await invitation.reject({ statusCode: 500 }).catch(() => undefined);
    }
  }

  /**
   * An out-of-dialog NOTIFY: third-party call control as SIP Server drives an agent (`Event: talk`
   * answers the line's ringing call or retrieves its held one; `Event: hold` holds its connected one).
   */
  async #onNotify(notification: Notification): Promise<void> {
    const event = (notification.request.getHeader('Event') ?? '').split(';')[0]!.trim().toLowerCase();
    if (event === 'message-summary') {
      // Unsolicited message waiting (a server that sends it without a subscription): taken when
      // the line has a mailbox, else it matches no subscription (RFC 6665 4.1.3: 481).
      if (this.#mailbox) this.#mailbox.takeNotify(notification);
      else await notification.reject({ statusCode: 481 }).catch(() => undefined);
      return;
    }
    if (event === 'dtmf') {
      // Third-party DTMF outside the call's dialog: for the line's connected (or held) call.
      const target = this.calls.find((call) => call.state === 'CONNECTED') ?? this.calls.find((call) => call.state === 'HELD');
      if (target) await callControl(target).notify(notification);
      else await notification.reject({ statusCode: 481 }).catch(() => undefined); // no such call
      return;
    }
    if (event !== 'talk' && event !== 'hold') {
      await notification.reject({ statusCode: 489 }).catch(() => undefined); // Bad Event
      return;
    }
    const target = this.calls.find((call) => (event === 'talk' ? call.state === 'RINGING' || call.state === 'HELD' : call.state === 'CONNECTED'));
    if (!target) {
      await notification.reject({ statusCode: 481 }).catch(() => undefined); // no such call
      return;
    }
    await notification.accept().catch(() => undefined);
    await callControl(target).thirdParty(event);
  }

  /** A MESSAGE outside a dialog (RFC 3428): text/plain or text/html up to 16 KiB is taken (200) and emitted; else 415 or 413. */
  #onMessage(message: Message): void {
    const taken = takeMessage(message, (why) => this.#context.log(2, 'endpoint', `line ${this.index}: ${why}`));
    if (taken) this.emit('message', taken);
  }

  /**
   * Sends an instant message outside a session (RFC 3428 MESSAGE) to a SIP address or a DN on the
   * line's server, once the line can place calls. Resolves with the 2xx that delivered it;
   * rejects with `RequestFailedError` (its `statusCode`) when the far end refused it or nothing
   * answered, `InvalidArgumentError` for a bad target, content type, header or a body over 16 KiB.
   */
  async sendMessage(target: string, body: string, options: SendMessageOptions & { readyTimeoutMs?: number } = {}): Promise<MessageDelivery> {
    const uri = this.#resolve(target);
    if (!uri) throw new InvalidArgumentError(`"${target}" is not a SIP address or a DN`);
    await this.whenReady(options.readyTimeoutMs !== undefined ? { timeoutMs: options.readyTimeoutMs } : {});
    return sendMessage(this.#ua!, uri, body, options);
  }

  /**
   * An in-dialog REFER (RFC 3515): the far end of `call` asks us to call the Refer-To target (with
   * its Replaces, for an attended transfer). The policy's `canMakeCall` decides; a refusal is a
   * 603. The new call reports its progress to the far end in NOTIFYs (sip.js sends them).
   */
  async #onRefer(call: Call, referral: Referral): Promise<void> {
    const context = this.#context;
    try {
      const target = referral.referTo.uri.clone();
      target.clearHeaders();
      const permission = await context.policy.canMakeCall({ config: context.config, devices: context.devices.list(), calls: context.snapshots(), destination: target.toString(), line: this.index });
      if (!permission.allowed) {
        context.log(3, 'endpoint', `REFER on ${call.id} refused: ${permission.reason}`);
        await referral.reject({ statusCode: 603 });
        return;
      }
      await referral.accept();
      const referred = await this.#adopt(referral.makeInviter(), 'outgoing', { uuid: call.uuid, relatedTo: call.id });
      this.emit('referred', call, referred);
      await callControl(referred).invite({ earlyMedia: earlyMediaRule(context) });
    } catch (error) {
      context.log(1, 'endpoint', `REFER on ${call.id} failed: ${(error as Error).message}`);
      await referral.reject({ statusCode: 500 }).catch(() => undefined);
    }
  }

  /**
   * `reg_match_received_rport`: when a REGISTER's 200 shows in `received`/`rport` another address
   * than the one our Contact carries (a NAT, or a wrongly chosen interface), the Contact takes the
   * address the registrar saw and the line registers again, removing the binding of the old one.
   */
  #checkReceived(message: string): void {
    const peek = peekSip(message);
    const ua = this.#ua;
    if (!peek || !ua || peek.kind !== 'response' || peek.method !== 'REGISTER' || peek.status !== 200 || !peek.via) return;
    const host = peek.via.received ?? ua.contact.uri.host;
    const port = peek.via.rport ?? ua.contact.uri.port;
    if (host === ua.contact.uri.host && port === ua.contact.uri.port) return;
    this.#staleContact ??= ua.contact.toString({ register: true });
    ua.contact.uri.host = host;
    if (port !== undefined) ua.contact.uri.port = port;
    // Register again with the corrected Contact, once the current exchange is over; the line
    // stays READY meanwhile.
    setTimeout(() => this.#register(true), 0);
  }

  #register(quiet = false): void {
    const registerer = this.#registerer;
    if (!registerer || this.#closing) return;
    if (!quiet) this.#machine.to('TRYING');
    const transport = this.#transport;
    const ua = this.#ua;
    if (transport instanceof ConnectionTransport && protocolNeedsConnection(this.connectivity.protocol) && ua) {
      // Open the connection first: its failure (certificate, refused, no subprotocol) is the reason
      // the line fails, and without a listening port the Contact carries the connection's port.
      transport.openConnection().then(
        ({ localPort }) => {
          if (this.#closing) return;
          if (this.#ownConnectionOnly && localPort !== undefined) {
            if (ua.contact.uri.port !== localPort && this.#calls.size > 0) this.#contactMoved = true;
            ua.contact.uri.port = localPort;
            this.#port = localPort;
          }
          this.#sendRegister(registerer);
        },
        (error: Error) => this.#failed(error.message),
      );
      return;
    }
    this.#sendRegister(registerer);
  }

  /** Why the server refused a request of this line (see {@link rejectionReason}). */
  #refusal(response: Parameters<typeof rejectionReason>[0]): string {
    return rejectionReason(response, this.connectivity.protocol === 'HTTPS', this.#context.accessToken() !== undefined);
  }

  /** A WebRTC line's access token as REGISTER credentials (RFC 8898), when it has one. */
  #bearerHeaders(): string[] {
    const token = this.connectivity.protocol === 'HTTPS' ? this.#context.accessToken() : undefined;
    return token ? [`Authorization: Bearer ${token}`] : [];
  }

  #sendRegister(registerer: Registerer): void {
    const stale = this.#staleContact;
    registerer
      .register({
        // Two Contacts (RFC 3261 10.2.2): the old binding removed, the current one registered.
        ...(stale !== undefined ? { requestOptions: { extraHeaders: [`Contact: ${stale};expires=0`] } } : {}),
        requestDelegate: {
          onAccept: () => {
            if (this.#closing) return;
            if (this.#staleContact === stale) this.#staleContact = undefined;
            this.#failures = 0;
            this.#reason = undefined;
            this.#machine.to('READY');
            if (this.#contactMoved) this.#refreshTargets();
            this.#mailbox?.start();
          },
          onReject: (response) => this.#failed(this.#refusal(response.message)),
        },
      })
      .catch((error: Error) => this.#failed(error.message));
  }

  /**
   * Publishes a call's voice-quality report (RFC 6035: PUBLISH, `Event: vq-rtcpxr`) to
   * `vq_report_collector`, through the line's server like every request of a registered line;
   * the collector's answer (or none) is logged.
   */
  #publishVqReport(body: string): void {
    const ua = this.#ua;
    if (!ua || this.state === 'SHUTDOWN') return;
    const context = this.#context;
    const collector = context.config.get('policy.endpoint.vq_report_collector').trim();
    const uri = collector === '' ? undefined : UserAgent.makeURI(/^sips?:/i.test(collector) ? collector : `sip:${collector}`);
    if (!uri) {
      context.log(2, 'endpoint', `line ${this.index}: vq_report_collector "${collector}" is not a SIP address; no voice-quality report sent`);
      return;
    }
    const core = ua.userAgentCore;
    const message = core.makeOutgoingRequestMessage('PUBLISH', uri, ua.configuration.uri, uri, {}, [`Event: ${VQ_REPORT_EVENT}`], { contentDisposition: 'render', contentType: VQ_REPORT_TYPE, content: body });
    const sent = new Promise<void>((resolve) => {
      core.request(message, {
        onAccept: () => {
          context.log(3, 'endpoint', `line ${this.index}: voice-quality report published to ${uri.toString()}`);
          resolve();
        },
        onReject: (response) => {
          context.log(2, 'endpoint', `line ${this.index}: the collector ${uri.toString()} refused the voice-quality report: ${response.message.statusCode} ${response.message.reasonPhrase}`);
          resolve();
        },
      });
    });
    this.#publishing.add(sent);
    void sent.finally(() => this.#publishing.delete(sent));
  }

  /**
   * The line registered again over a new connection whose port is in its Contact: its calls' far
   * ends still send their requests (a BYE, a re-INVITE) to the old Contact, which the server can
   * no longer reach. Each call sends the new one in a re-INVITE (a target refresh, RFC 3261 12.2;
   * RFC 5626's flow recovery without its Path and flow tokens).
   */
  #refreshTargets(): void {
    this.#contactMoved = false;
    const ua = this.#ua;
    if (!ua) return;
    const contact = ua.contact.toString();
    for (const call of this.#calls.values()) {
      void callControl(call)
        .refreshTarget(contact)
        .then(
          (outcome) => this.#context.log(3, 'endpoint', `line ${this.index}: call ${call.id} given the new Contact ${contact}: ${outcome}`),
          (error: unknown) => this.#context.log(2, 'endpoint', `line ${this.index}: call ${call.id}: target refresh failed: ${error instanceof Error ? error.message : String(error)}`),
        );
    }
  }

  /**
   * The WebSocket of a WebRTC line to its gateway dropped: the gateway, which anchors the calls'
   * signalling, has lost them; they end here too (their BYE goes if the connection comes back at
   * once), and the line registers again once it is back.
   */
  #gatewayLost(): void {
    if (this.#closing || this.state === 'SHUTDOWN') return;
    const reason = 'the WebRTC gateway closed the WebSocket connection';
    const calls = this.calls;
    this.#context.log(1, 'endpoint', `line ${this.index}: ${reason}${calls.length > 0 ? `; ${calls.length} call(s) end` : ''}`);
    for (const call of calls) void callControl(call).lost(reason);
    if (this.state === 'READY' || this.state === 'TRYING') this.#failed(reason);
  }

  #failed(reason: string): void {
    if (this.#closing || this.state === 'SHUTDOWN') return;
    this.#reason = reason;
    this.#machine.to('FAILED');
    const interval = this.#context.config.get(`${proxySection(this.index)}.reg_interval`);
    if (interval === 0) return; // no new registration cycle
    const delay = this.#failures++ === 0 ? (this.#options.timing?.firstRetryMs ?? 500) : interval * 1000;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = setTimeout(() => this.#register(), delay);
  }
}

/**
 * Why a request was refused: its status line, and for a Bearer challenge (RFC 8898) whether the
 * line had a token to give (and the server's `error` and `error_description`, RFC 6750 3).
 */
function rejectionReason(response: { statusCode?: number | undefined; reasonPhrase?: string | undefined; getHeaders(name: string): string[] }, webrtc: boolean, hadToken: boolean): string {
  const status = `${response.statusCode ?? 0} ${response.reasonPhrase ?? ''}`.trim();
  if (response.statusCode !== 401 && response.statusCode !== 407) return status;
  const challenge = response.getHeaders(response.statusCode === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate').find((value) => /^\s*Bearer\b/i.test(value));
  if (!challenge) return status;
  const parameter = (name: string): string | undefined => new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`, 'i').exec(challenge)?.[1];
  const detail = [parameter('error'), parameter('error_description')].filter((part) => part !== undefined).join(': ');
  const why = !webrtc ? 'the server wants an OAuth Bearer token, which only WebRTC (HTTPS) lines send' : hadToken ? 'the server refused the OAuth access token (expired or wrong): give a new one (POST /register, or endpoint.setAccessToken)' : 'the server wants an OAuth access token and the line has none (POST /register with a Bearer token, or endpoint.setAccessToken)';
  return `${status}: ${why}${detail ? ` (${detail})` : ''}`;
}

/** Early media (a 183 with SDP) plays for `ringback_enabled` 1, 3, 4 and 6. */
/**
 * Whether a provisional response's early media plays (`ringback_enabled`): 1 and 3 take it from a
 * reliable provisional response only (RFC 3262: `Require: 100rel` with an RSeq), 4 and 6 from
 * any; 0 and 2 never.
 */
function earlyMediaRule(context: EndpointContext): (response: { getHeader(name: string): string | undefined }) => boolean {
  const mode = context.config.get('policy.session.ringback_enabled');
  return (response) => mode === 4 || mode === 6 || ((mode === 1 || mode === 3) && isReliableProvisional(response));
}

/** A provisional response sent reliably (RFC 3262 4): Require lists 100rel, and it has an RSeq. */
function isReliableProvisional(response: { getHeader(name: string): string | undefined }): boolean {
  return requires100rel(response) && /^\s*\d+\s*$/.test(response.getHeader('RSeq') ?? '');
}

/** A message whose Require lists 100rel: an INVITE that requires reliable provisional responses (RFC 3262 3), or one of them. */
function requires100rel(request: { getHeader(name: string): string | undefined }): boolean {
  return /(^|,)\s*100rel\s*(,|$)/i.test(request.getHeader('Require') ?? '');
}

/** Transports whose connection is opened before a REGISTER (to report its failure as such, and to learn our port). */
function protocolNeedsConnection(protocol: string): boolean {
  return protocol === 'TLS' || protocol === 'WS' || protocol === 'WSS' || protocol === 'HTTPS';
}

/** What the endpoint does with its lines; never reachable from the public API. */
export interface LineControl {
  /** The OAuth access token changed. */
  tokenChanged(): void;
}

const controls = new WeakMap<Line, LineControl>();

/** The control of a line, for its endpoint. */
export function lineControl(line: Line): LineControl {
  return controls.get(line)!;
}

/** An address without the IPv4-mapped prefix a dual-stack socket gives (`::ffff:10.0.0.1`). */
function plainAddress(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * When a registration is refreshed, in percent of its lifetime (sip.js's `refreshFrequency`): with
 * a margin before it expires of half its lifetime up to 32 s, and never less than a tenth of it
 * (3 minutes for 30 minutes). sip.js's own 99 % left a 4 s registration 40 ms to be refreshed,
 * challenge included, before sip.js gave it up as expired: a loaded run failed lines that way.
 */
export function refreshPercent(expiresS: number): number {
  const margin = Math.max(expiresS * 0.1, Math.min(expiresS * 0.5, 32));
  return Math.min(99, Math.max(50, Math.floor(100 * (1 - margin / expiresS))));
}
