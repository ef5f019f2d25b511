import { isAbsolute, join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { Inviter, SIPExtension, UserAgent, type Invitation, type Notification, type Referral, type URI } from 'sip.js';
import { parseConfig, resolvePublicAddress, SipEndpointError, type AddressResolver, type EndpointConfig, type PublicAddressOptions } from '@sip-endpoint/config';
import { DefaultPolicy, type AudioDevice, type CallSnapshot, type ConnectionStateName, type DeviceSelection, type EndpointPolicy, type HeaderBag, type SessionStatus } from '@sip-endpoint/policy';
import { answerOffer, parseSdp, PortAllocator, readWav, Ringer, SdpOrigin, TonePlayer, VirtualAudioProvider, type AudioDeviceProvider, type DtmfEvent, type VqReport } from '@sip-endpoint/media';
import { Call } from './call/call';
import { MIN_SESSION_EXPIRES, parseSessionExpires } from './call/session-timer';
import type { ConnectionState } from './line/connection-state';
import { instanceIdFromMac, userAgentString } from './line/identity';
import { Line } from './line/line';
import { mediaSessionDescriptionHandlerFactory, type MediaContext } from './media/media-session-description-handler';
import { DiagnosticsLogger } from './logging/diagnostics-logger';

/** Options of {@link Endpoint}. @public */
export interface EndpointOptions {
  /** The configuration, or Softphone.config XML text. */
  config: EndpointConfig | string;
  /** Decisions (answer, devices, codecs); the specification's rules by default. */
  policy?: EndpointPolicy;
  /** Audio devices; a virtual provider with a silent microphone and a null speaker by default. */
  devices?: AudioDeviceProvider;
  /**
   * The host application's logger, level 0 (fatal) to 4 (debug), with the component (`endpoint`,
   * `sip`, `sip.Registerer`, ...). It replaces the `system.diagnostics` log file; records reach it
   * filtered by `log_level` and `log_options_provider`, with secrets removed.
   * @defaultValue the log file `system.diagnostics` describes (none when `enable_logging` is 0)
   */
  logger?: (level: number, message: string, component?: string) => void;
  /** Interfaces and names for `public_address`, for tests. */
  publicAddress?: PublicAddressOptions;
  /** DNS for the servers, for tests. */
  resolver?: AddressResolver;
  /** Where relative ringtone, ringback and call-waiting files are. @defaultValue the working directory */
  mediaDir?: string;
  /**
   * Session timers (RFC 4028): the Min-SE we accept, in seconds. RFC 4028 says at least 90, the
   * default; a lower value serves tests and peers configured for short intervals.
   */
  minSessionExpires?: number;
  /**
   * The Connector API's `enforce_headset_usage`: lines register only once the configured headset
   * is found; until then the status is `WAITING_HEADSET`.
   */
  enforceHeadsetUsage?: boolean;
}

/** The Connector API's `session` model. @public */
export interface SessionModel {
  status: SessionStatus;
  connectivities: { protocol: string; connections: { server: string; user: string; state: ConnectionStateName }[] };
  devices: { headset_used: boolean; speaker: { name: string; volume: number; muted: boolean } | undefined; microphone: { name: string; volume: number; muted: boolean } | undefined };
  phone: { calls: { uuid: string; state: string }[]; local_mos?: number; local_inter_mos?: number; rtt_ms?: number; vq_alarm_on: boolean };
}

/** Events of an {@link Endpoint}. @public */
export type EndpointEvents = {
  connectionStateChanged: [number, ConnectionState, ConnectionState];
  incomingCall: [Call];
  /** The far end of `call` asked us (REFER) to call someone else; `newCall` is that outgoing call. */
  referred: [Call, Call];
  callStateChanged: [Call, string, string];
  dtmf: [Call, DtmfEvent];
  vqAlarm: [Call, VqReport];
  devicesChanged: [AudioDevice[]];
  statusChanged: [SessionStatus];
  /** A listener threw; the endpoint went on. */
  listenerError: [Error];
};

/** The policy refused an outgoing call. @public */
export class CallRefusedError extends SipEndpointError {
  constructor(reason: string) {
    super('ERR_SIP_CALL_REFUSED', `the call is refused: ${reason}`);
  }
}

function headerBag(invitation: Invitation): HeaderBag {
  const bag: Record<string, string[]> = {};
  for (const name of ['Alert-Info', 'Call-Info', 'From', 'X-Genesys-CallUUID']) {
    const values = invitation.request.getHeaders(name);
    if (values.length > 0) bag[name] = values;
  }
  return bag;
}

/**
 * The SIP endpoint an agent desktop embeds: one line per Connectivity (registered, or
 * stand-alone), calls decided by the policy, audio on `@sip-endpoint/media`, and the Connector
 * API's `session()` snapshot.
 *
 * @public
 */
export class Endpoint extends EventEmitter<EndpointEvents> {
  readonly config: EndpointConfig;
  readonly policy: EndpointPolicy;
  readonly devices: AudioDeviceProvider;
  readonly #calls = new Map<string, Call>();
  /** Calls whose ringback is being set up (a second provisional response must not start another). */
  readonly #ringbacks = new Set<string>();
  readonly #lines: Line[] = [];
  readonly #options: EndpointOptions;
  readonly #logger: DiagnosticsLogger;
  #ports: PortAllocator | undefined;
  #address: string | undefined;
  #selection: DeviceSelection | undefined;
  #status: SessionStatus = 'INITIALIZING';
  #started = false;
  #stopped = false;
  #linesStarted = false;
  #local: { address: string; contactHost: string; mac: string | undefined } | undefined;
  readonly #minSe: number;

  constructor(options: EndpointOptions) {
    super();
    this.#options = options;
    this.config = typeof options.config === 'string' ? parseConfig(options.config) : options.config;
    this.#logger = DiagnosticsLogger.fromConfig(this.config, options.logger ? { sink: options.logger } : {});
    this.policy = options.policy ?? new DefaultPolicy();
    this.#minSe = options.minSessionExpires ?? MIN_SESSION_EXPIRES;
    this.devices = options.devices ?? new VirtualAudioProvider();
    this.devices.on('devicesChanged', this.#onDevicesChanged);
  }

  readonly #onDevicesChanged = (list: AudioDevice[]): void => {
    void this.#reselect().then(() => this.#startLinesWhenHeadset());
    this.#safeEmit('devicesChanged', list);
  };

  /** The devices the policy chose for calls and ringing; `undefined` before {@link Endpoint.start}. */
  get selectedDevices(): DeviceSelection | undefined {
    return this.#selection;
  }

  /**
   * Asks the policy again which devices to use, as a device plugged in or removed does: for a host
   * whose policy reads something that changed (the Connector API's `POST /audio` picking a device
   * by name). Calls started afterwards use the new devices; a call in progress keeps its own.
   */
  async refreshDevices(): Promise<void> {
    if (this.#stopped) return;
    await this.#reselect();
    await this.#startLinesWhenHeadset();
  }

  /** With `enforceHeadsetUsage`, the lines start once the policy's status leaves WAITING_HEADSET. */
  async #startLinesWhenHeadset(): Promise<void> {
    if (!this.#started || this.#linesStarted || !this.#local) return;
    await this.#updateStatus();
    if (this.#status !== 'WAITING_HEADSET') await this.#startLines();
  }

  /** The calls in progress. */
  get calls(): Call[] {
    return [...this.#calls.values()];
  }

  /** The lines, one per Connectivity. */
  get lines(): readonly Line[] {
    return this.#lines;
  }

  /** The log per `system.diagnostics` (or the host's `logger`): its file, its segments. */
  get logger(): DiagnosticsLogger {
    return this.#logger;
  }

  /** Resolves the local address, starts every line, selects devices. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const config = this.config;
    const local = await resolvePublicAddress(config, this.#options.publicAddress);
    this.#address = local.address;
    this.#log(3, `starting on ${local.address} with ${config.connectivities.length} line(s)`);
    for (const warning of [...config.warnings, ...this.#logger.settings.options.problems.map((message) => ({ key: 'system.diagnostics.log_options_provider', message }))]) this.#log(2, `${warning.key}: ${warning.message}`);
    this.#ports = new PortAllocator(config.get('policy.endpoint.rtp_port_min'), config.get('policy.endpoint.rtp_port_max'));
    await this.#reselect();
    this.#local = local;
    await this.#updateStatus();
    if (this.#status === 'WAITING_HEADSET') {
      // The Connector API's enforce_headset_usage: no line registers until the policy finds the
      // headset (the same rule that gives the WAITING_HEADSET status).
      this.#log(2, 'waiting for the headset before registering (enforce_headset_usage)');
      return;
    }
    await this.#startLines();
  }

  async #startLines(): Promise<void> {
    const local = this.#local;
    if (!local || this.#linesStarted || this.#stopped) return;
    this.#linesStarted = true;
    const config = this.config;
    const first = config.get('policy.endpoint.sip_port_min');
    const agent = userAgentString(config);
    const instanceId = config.get('policy.endpoint.include_mac_address') ? instanceIdFromMac(local.mac) : undefined;
    if (config.get('policy.endpoint.include_mac_address') && !instanceId) this.#log(2, 'include_mac_address is 1 but the interface of the public address has no MAC address');
    for (const connectivity of config.connectivities) {
      const line = new Line({
        connectivity,
        config,
        localAddress: local.address,
        contactHost: local.contactHost,
        firstPort: first + connectivity.index,
        userAgentString: agent,
        logConnector: this.#logger.logConnector,
        ...(this.#logger.logsSipMessages ? { trace: (direction: 'out' | 'in', message: string, remote: { address: string; port: number }) => this.#logger.sipTrace(direction, message, remote) } : {}),
        ...(instanceId ? { instanceId } : {}),
        ...(this.#options.resolver ? { resolver: this.#options.resolver } : {}),
        userAgentOptions: {
          // INVITE with Replaces (RFC 3891): attended transfers that end at us.
          sipExtensionReplaces: SIPExtension.Supported,
          // Session timers (RFC 4028): Session-Expires and Min-SE from SIP Server, refreshed by us when we are the refresher.
          sipExtensionExtraSupported: ['timer'],
          // The endpoint sends 180 itself, once the policy has decided (no 180 before a rejection).
          sendInitialProvisionalResponse: false,
          sessionDescriptionHandlerFactory: mediaSessionDescriptionHandlerFactory((session) => this.#mediaContext(session)),
          delegate: {
            onInvite: (invitation) => void this.#onInvite(line, invitation),
            // Out-of-dialog NOTIFY (third-party call control): acts on this line's call.
            onNotify: (notification) => void this.#onNotify(line.index, undefined, notification),
          },
        },
      });
      line.on('stateChanged', (state, previous) => {
        this.#log(3, `line ${line.index}: ${previous} -> ${state}${line.reason ? ` (${line.reason})` : ''}`);
        this.#safeEmit('connectionStateChanged', line.index, state, previous);
        void this.#updateStatus();
      });
      this.#lines.push(line);
      await line.start();
    }
    await this.#updateStatus();
  }

  /** Ends every call, unregisters, releases the ports. Calling it twice is harmless. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // The device provider may outlive us (a Softphone starts a new endpoint per session).
    this.devices.off('devicesChanged', this.#onDevicesChanged);
    await Promise.all(this.calls.map((call) => call.hangup().catch(() => undefined)));
    for (const line of this.#lines) await line.stop();
    this.#log(3, 'endpoint stopped');
    this.#logger.close();
  }

  /**
   * Calls `target` (a SIP URI, or a DN on the line's server) from a line (the first READY or
   * stand-alone one by default). `delayedOffer` sends the INVITE without SDP, as 3pcc flows do:
   * the offer then comes in the 200 OK and our answer in the ACK.
   */
  async makeCall(target: string, options: { line?: number; headers?: Record<string, string>; delayedOffer?: boolean } = {}): Promise<Call> {
    const permission = await this.policy.canMakeCall({ config: this.config, devices: this.devices.list(), calls: this.#snapshots(), destination: target, line: options.line ?? 0 });
    if (!permission.allowed) throw new CallRefusedError(permission.reason);
    const line = options.line !== undefined ? this.#lines[options.line] : (this.#lines.find((l) => l.state === 'READY') ?? this.#lines.find((l) => l.state === 'STANDALONE'));
    if (!line?.userAgent) throw new SipEndpointError('ERR_SIP_INVALID_STATE', 'no line can place calls');
    const uri = this.#targetUri(line, target);
    if (!uri) throw new SipEndpointError('ERR_SIP_INVALID_ARGUMENT', `"${target}" is not a SIP address or a DN`);
    const extraHeaders = Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`);
    const ringback = this.config.get('policy.session.ringback_enabled');
    // Early media (a 183 with SDP) plays for ringback_enabled 1, 3, 4 and 6.
    const earlyMedia = ringback === 1 || ringback === 3 || ringback === 4 || ringback === 6;
    const inviter = new Inviter(line.userAgent, uri, { extraHeaders, inviteWithoutSdp: options.delayedOffer ?? false, earlyMedia });
    const call = this.#track(new Call(inviter, line.index, 'outgoing', undefined, this.#callOptions(line)), line);
    await this.#invite(inviter, call);
    return call;
  }

  #callOptions(line: Line): { resolve: (target: string) => URI | undefined; minSessionExpires: number } {
    return { resolve: (target) => this.#targetUri(line, target), minSessionExpires: this.#minSe };
  }

  /** A SIP URI as given, or a DN on the line's server. */
  #targetUri(line: Line, target: string): URI | undefined {
    return UserAgent.makeURI(/^sips?:/i.test(target) ? target : `sip:${target}@${line.connectivity.server}`);
  }

  async #invite(inviter: Inviter, call: Call): Promise<void> {
    await inviter.invite({
      requestDelegate: {
        onProgress: (response) => {
          call.alerting();
          this.#ringback(call, response.message.body.length > 0 && /application\/sdp/i.test(response.message.getHeader('Content-Type') ?? ''));
        },
        onAccept: (response) => call.sessionTimerFromResponse(response.message),
        onReject: (response) => call.refused(response.message.statusCode ?? 0),
      },
    });
  }

  /** The Connector API's `session` model. */
  session(): SessionModel {
    const speaker = this.#selection?.output;
    const microphone = this.#selection?.input;
    const describe = (device: AudioDevice | null | undefined) => (device ? { name: device.name, volume: this.#safe(() => this.devices.getVolume(device.id), 100), muted: this.#safe(() => this.devices.isMuted(device.id), false) } : undefined);
    const connected = this.calls.map((call) => call.info()).filter((info) => info.quality);
    const last = connected.at(-1)?.quality;
    return {
      status: this.#status,
      connectivities: {
        protocol: (this.config.connectivities[0]?.protocol ?? 'UDP').toLowerCase(),
        connections: this.#lines.map((line) => ({ server: line.connectivity.server, user: line.connectivity.user, state: line.state })),
      },
      devices: { headset_used: this.#selection?.headsetAvailable ?? false, speaker: describe(speaker), microphone: describe(microphone) },
      phone: {
        calls: this.calls.map((call) => ({ uuid: call.uuid ?? call.id, state: call.state })),
        ...(last ? { local_mos: last.mos, local_inter_mos: last.intervalMos } : {}),
        ...(last?.rttMs !== undefined ? { rtt_ms: Math.round(last.rttMs) } : {}),
        vq_alarm_on: connected.some((info) => info.quality?.vqAlarm),
      },
    };
  }

  async #onInvite(line: Line, invitation: Invitation): Promise<void> {
    const headers = headerBag(invitation);
    const uuid = invitation.request.getHeader('X-Genesys-CallUUID') ?? undefined;
    try {
      const expires = parseSessionExpires(invitation.request.getHeader('Session-Expires') ?? invitation.request.getHeader('x'));
      if (expires && expires.seconds < this.#minSe) {
        // RFC 4028 8.1: Session Interval Too Small, with the least we take.
        await invitation.reject({ statusCode: 422, extraHeaders: [`Min-SE: ${this.#minSe}`] });
        return;
      }
      const replaced = invitation.replacee ? this.calls.find((c) => c.session === invitation.replacee) : undefined;
      if (replaced) {
        // An attended transfer ends here (RFC 3891): the new call takes the place of one of ours,
        // answered at once; sip.js then ends the replaced one with a BYE.
        const call = this.#track(new Call(invitation, line.index, 'incoming', uuid, this.#callOptions(line)), line);
        call.relatedTo = replaced.id;
        call.sessionTimerFromInvite(invitation.request);
        this.#safeEmit('incomingCall', call);
        await call.answer();
        return;
      }
      const unusable = this.#unusableOffer(invitation);
      if (unusable) {
        this.#log(2, `call on line ${line.index} rejected with 488: ${unusable}`);
        await invitation.reject({ statusCode: 488, extraHeaders: [`Warning: 304 ${this.#address ?? '-'} "${unusable.replace(/"/g, "'")}"`] });
        return;
      }
      const decision = await this.policy.shouldAnswer({ config: this.config, devices: this.devices.list(), calls: this.#snapshots(), headers, line: line.index });
      if (decision.answer === false) {
        this.#log(3, `call on line ${line.index} rejected with ${decision.sipCode}: ${decision.reason}`);
        await invitation.reject({ statusCode: decision.sipCode });
        return;
      }
      const call = this.#track(new Call(invitation, line.index, 'incoming', uuid, this.#callOptions(line)), line);
      call.sessionTimerFromInvite(invitation.request);
      const others = this.#snapshots().filter((snapshot) => snapshot.id !== call.id);
      this.#safeEmit('incomingCall', call);
      const autoAnswer = (): void => {
        if (call.state === 'RINGING') void call.answer().catch((error: Error) => this.#log(1, `auto-answer failed: ${error.message}`));
      };
      if (decision.answer === true && decision.delayMs <= 0) {
        // Answered at once: no 180 and no ringing, the 200 goes out now.
        autoAnswer();
        return;
      }
      await invitation.progress();
      void this.#ring(call, others);
      if (decision.answer === true) setTimeout(autoAnswer, decision.delayMs);
    } catch (error) {
      this.#log(1, `incoming call on line ${line.index} failed: ${(error as Error).message}`);
      await invitation.reject({ statusCode: 500 }).catch(() => undefined);
    }
  }

  /** Why the INVITE's SDP offer cannot be answered (no audio format in common), if so. */
  #unusableOffer(invitation: Invitation): string | undefined {
    const body = invitation.request.body;
    if (!body || !/application\/sdp/i.test(invitation.request.getHeader('Content-Type') ?? '')) return undefined;
    try {
      const trial = answerOffer(parseSdp(body), { origin: new SdpOrigin(), address: this.#address ?? '127.0.0.1', port: 9, codecs: this.config.codecs, answerPriority: this.config.get('policy.session.answer_sdp_priority') });
      return trial.negotiated ? undefined : (trial.reason ?? 'no audio format in common');
    } catch (error) {
      return (error as Error).message;
    }
  }

  /**
   * Third-party call control as SIP Server drives an agent's endpoint: `Event: talk` answers a
   * ringing call or retrieves a held one, `Event: hold` holds a connected one. In a dialog the
   * NOTIFY acts on its call; outside one, on the line's ringing, held or connected call.
   */
  async #onNotify(line: number, call: Call | undefined, notification: Notification): Promise<void> {
    const event = (notification.request.getHeader('Event') ?? '').split(';')[0]!.trim().toLowerCase();
    if (event !== 'talk' && event !== 'hold') {
      await notification.reject({ statusCode: 489 }).catch(() => undefined); // Bad Event
      return;
    }
    const target =
      call ??
      this.calls.find((c) => c.line === line && (event === 'talk' ? c.state === 'RINGING' || c.state === 'HELD' : c.state === 'CONNECTED')) ??
      undefined;
    if (!target) {
      await notification.reject({ statusCode: 481 }).catch(() => undefined); // no such call
      return;
    }
    await notification.accept().catch(() => undefined);
    try {
      if (event === 'talk' && target.state === 'RINGING') await target.answer();
      else if (event === 'talk' && target.state === 'HELD' && target.info().heldBy !== 'remote') await target.retrieve();
      else if (event === 'hold' && target.state === 'CONNECTED') await target.hold();
    } catch (error) {
      this.#log(1, `NOTIFY ${event} on ${target.id} failed: ${(error as Error).message}`);
    }
  }

  /**
   * Ringback while an outgoing call alerts (`ringback_enabled`): the local `ringback_file`, looped
   * on the selected speaker, for 2, and for 3 and 6 when the provisional response brought no early
   * media; it stops when the call is answered or ends.
   */
  #ringback(call: Call, earlyMedia: boolean): void {
    const mode = this.config.get('policy.session.ringback_enabled');
    const file = this.config.get('policy.session.ringback_file');
    const output = this.#selection?.output;
    if (!(mode === 2 || ((mode === 3 || mode === 6) && !earlyMedia)) || !file || !output || this.#ringbacks.has(call.id)) return;
    this.#ringbacks.add(call.id);
    const path = isAbsolute(file) ? file : join(this.#options.mediaDir ?? process.cwd(), file);
    void readWav(path)
      .then((audio) => {
        if (call.state !== 'ALERTING' && call.state !== 'IN_PROGRESS') {
          this.#ringbacks.delete(call.id);
          return;
        }
        const player = new TonePlayer(this.devices.openOutput(output.id, audio.sampleRate), audio, { loop: true });
        const stop = (state: string): void => {
          if (state === 'ALERTING' || state === 'IN_PROGRESS') return;
          player.stop();
          call.off('stateChanged', stop);
          this.#ringbacks.delete(call.id);
        };
        call.on('stateChanged', stop);
      })
      .catch((error: Error) => {
        this.#ringbacks.delete(call.id);
        this.#log(2, `ringback: ${error.message}`);
      });
  }

  /** Rings for an incoming call as the policy's ringing plan says, until it is answered or ends. */
  async #ring(call: Call, others: CallSnapshot[]): Promise<void> {
    if (!this.#selection) return;
    try {
      const plan = await this.policy.ringingPlan({ config: this.config, devices: this.devices.list(), calls: others, selection: this.#selection });
      if (plan.sound === 'none' || call.state !== 'RINGING') return;
      const ringer = await Ringer.start(plan, this.devices, { baseDir: this.#options.mediaDir ?? process.cwd(), onError: (error) => this.#log(2, `ringing: ${error.message}`) });
      if (call.state !== 'RINGING') {
        if (call.state === 'CONNECTED') ringer.answered();
        else ringer.stop();
        return;
      }
      call.on('stateChanged', (state) => {
        if (state === 'CONNECTED') ringer.answered();
        else if (state === 'DISCONNECTED') ringer.stop();
      });
    } catch (error) {
      this.#log(2, `ringing failed: ${(error as Error).message}`);
    }
  }

  #onInfo(call: Call, info: { request: { body: string; getHeader(name: string): string | undefined }; accept(): Promise<void> }): void {
    const type = info.request.getHeader('Content-Type') ?? '';
    const digit = /Signal\s*=\s*([0-9A-D*#])/i.exec(info.request.body)?.[1];
    void info.accept();
    if (/dtmf/i.test(type) && digit) {
      const event: DtmfEvent = { digit: digit.toUpperCase() as DtmfEvent['digit'], source: 'info' };
      call.emit('dtmf', event);
    }
  }

  /**
   * An in-dialog REFER (RFC 3515): the far end asks us to call the Refer-To target (with its
   * Replaces, for an attended transfer). The policy's `canMakeCall` decides; a refusal is a 603.
   * The new call reports its progress to the far end in NOTIFYs (sip.js sends them).
   */
  async #onRefer(call: Call, line: Line, referral: Referral): Promise<void> {
    try {
      const target = referral.referTo.uri.clone();
      target.clearHeaders();
      const permission = await this.policy.canMakeCall({ config: this.config, devices: this.devices.list(), calls: this.#snapshots(), destination: target.toString(), line: line.index });
      if (!permission.allowed) {
        this.#log(3, `REFER on ${call.id} refused: ${permission.reason}`);
        await referral.reject({ statusCode: 603 });
        return;
      }
      await referral.accept();
      const inviter = referral.makeInviter();
      const referred = this.#track(new Call(inviter, line.index, 'outgoing', call.uuid, this.#callOptions(line)), line);
      referred.relatedTo = call.id;
      this.#safeEmit('referred', call, referred);
      await this.#invite(inviter, referred);
    } catch (error) {
      this.#log(1, `REFER on ${call.id} failed: ${(error as Error).message}`);
      await referral.reject({ statusCode: 500 }).catch(() => undefined);
    }
  }

  #track(call: Call, line: Line): Call {
    this.#calls.set(call.id, call);
    call.session.delegate = {
      onInfo: (info) => this.#onInfo(call, info),
      onNotify: (notification) => void this.#onNotify(line.index, call, notification),
      onInvite: (_request, _response, statusCode) => {
        if (statusCode === 200) call.remoteOfferApplied();
      },
      onRefer: (referral) => void this.#onRefer(call, line, referral),
    };
    call.on('stateChanged', (state, previous) => {
      this.#safeEmit('callStateChanged', call, state, previous);
      if (state === 'DISCONNECTED') this.#calls.delete(call.id);
    });
    call.on('dtmf', (event) => this.#safeEmit('dtmf', call, event));
    call.on('vqAlarm', (report) => this.#safeEmit('vqAlarm', call, report));
    return call;
  }

  #mediaContext(session: unknown): MediaContext {
    const config = this.config;
    const selection = this.#selection;
    const input = selection?.input ? this.devices.openInput(selection.input.id, 16000) : undefined;
    const output = selection?.output ? this.devices.openOutput(selection.output.id, 16000) : undefined;
    const call = [...this.#calls.values()].find((c) => c.session === session);
    return {
      address: this.#address ?? '127.0.0.1',
      bindAddress: config.get('policy.endpoint.rtp_port_binding') === 1 ? (this.#address ?? '127.0.0.1') : '0.0.0.0',
      ports: this.#ports!,
      codecs: () => config.codecs,
      answerPriority: config.get('policy.session.answer_sdp_priority'),
      stream: {
        ...(input ? { input } : {}),
        ...(output ? { output } : {}),
        inactivityTimeoutMs: config.get('policy.endpoint.rtp_inactivity_timeout') * 1000,
        vqAlarmThreshold: config.get('policy.endpoint.vq_alarm_threshold'),
        dtmfFeedback: config.get('policy.session.dtmf_feedback'),
      },
      onStream: (stream) => (call ?? [...this.#calls.values()].find((c) => c.session === session))?.attachStream(stream),
    };
  }

  #snapshots(): CallSnapshot[] {
    return this.calls.filter((call) => call.state !== 'DISCONNECTED').map((call) => ({ id: call.id, line: call.line, state: call.state, direction: call.direction, ...(call.uuid ? { uuid: call.uuid } : {}) }));
  }

  async #reselect(): Promise<void> {
    this.#selection = await this.policy.selectDevices({ config: this.config, devices: this.devices.list(), calls: this.#snapshots() });
    if (this.#started) await this.#updateStatus();
  }

  async #updateStatus(): Promise<void> {
    const status = await this.policy.sessionStatus({ config: this.config, devices: this.devices.list(), calls: this.#snapshots(), connections: this.#lines.map((line) => line.state), enforceHeadsetUsage: this.#options.enforceHeadsetUsage ?? false });
    if (status !== this.#status) {
      this.#status = status;
      this.#safeEmit('statusChanged', status);
    }
  }

  #safe<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch {
      return fallback;
    }
  }

  #log(level: number, message: string): void {
    this.#logger.log(level, 'endpoint', message);
  }

  #safeEmit<K extends keyof EndpointEvents>(event: K, ...args: EndpointEvents[K]): void {
    for (const listener of this.listeners(event)) {
      try {
        (listener as (...a: unknown[]) => void)(...args);
      } catch (error) {
        if (event !== 'listenerError') this.emit('listenerError', error as Error);
      }
    }
  }
}

