import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, parseConfig, resolvePublicAddress, type AddressResolver, type EndpointConfig, type PublicAddressOptions } from '@sip-endpoint/config';
import {
  DefaultPolicy,
  InvalidStateError,
  SafeEmitter,
  StateMachine,
  type AudioDevice,
  type CallSnapshot,
  type CallState,
  type ConnectionState,
  type DeviceSelection,
  type EndpointPolicy,
  type SessionStatus,
} from '@sip-endpoint/policy';
import { dtlsCertificateFromPem, generateDtlsCertificate, MediaWorkerPool, PortAllocator, RtpSocketReserve, VirtualAudioProvider, type AudioDeviceProvider, type DtlsCertificate, type DtmfEvent, type VqReport } from '@sip-endpoint/media';
import type { Call } from './call/call';
import { Conference } from './call/conference';
import { callMediaControl } from './media/call-media';
import { DeviceKeeper, keepOpenOf } from './media/device-keeper';
import { MIN_SESSION_EXPIRES } from './call/session-timer';
import type { EndpointContext } from './endpoint-context';
import { ENDPOINT_TRANSITIONS, type EndpointState } from './endpoint-state';
import { configurationWarnings, type EndpointWarning } from './endpoint-warnings';
import { InvalidArgumentError, LineNotReadyError, NoSuchLineError } from './errors';
import { instanceIdFromMac, userAgentString } from './line/identity';
import { Line, lineControl, type LineMessage, type MakeCallOptions } from './line/line';
import { DiagnosticsLogger } from './logging/diagnostics-logger';
import type { MessageSummary } from './line/message-summary';
import type { MessageDelivery, SendMessageOptions } from './line/messaging';
import type { SessionDevice, SessionModel } from './session-model';

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
   * default; a lower value serves tests and peers configured for short intervals. A value that is
   * not a whole number from 1 to 86400 makes the constructor throw `InvalidArgumentError`.
   * @defaultValue 90
   */
  minSessionExpires?: number;
  /**
   * The Connector API's `enforce_headset_usage`: lines register only once the configured headset
   * is found; until then they are DISABLED and the status is `WAITING_HEADSET`.
   * @defaultValue false
   */
  enforceHeadsetUsage?: boolean;
  /**
   * Seconds between keep-alives that UDP lines send to their registrar or proxy (a double CRLF,
   * RFC 5626's ping): behind a NAT they keep the binding open, so that INVITEs still reach the
   * agent between registrations (home routers forget a UDP binding after 30 s to a few minutes).
   * 0: none. A value that is not a number from 0 to 86400 makes the constructor throw
   * `InvalidArgumentError`.
   * @defaultValue 0
   */
  udpKeepAliveS?: number;
  /**
   * How our secure offers (`use_srtp` enabled or mandatory) carry their keys: `sdes` (`a=crypto`
   * on `RTP/SAVP`, RFC 4568) or `dtls` (DTLS-SRTP on `UDP/TLS/RTP/SAVP` with rtcp-mux, RFC 5763).
   * Offers of either kind are accepted whenever `use_srtp` is not disabled.
   * @defaultValue 'sdes'
   */
  srtpKeying?: 'sdes' | 'dtls';
  /**
   * The DTLS-SRTP certificate and its ECDSA P-256 key, in PEM. Checked when the endpoint starts.
   * @defaultValue a self-signed certificate made once per endpoint, when a call first needs it
   */
  dtlsCertificate?: { certPem: string; keyPem: string };
  /**
   * The OAuth 2.0 access token of WebRTC (`HTTPS`) lines: sent as `Authorization: Bearer` on the
   * WebSocket upgrade to the gateway and with every REGISTER (RFC 8898). Replace it with
   * {@link Endpoint.setAccessToken}. SIP lines do not use it.
   */
  accessToken?: string;
  /**
   * Worker threads (`node:worker_threads`) that carry the calls' audio streams, so that one
   * process uses more than one core: 0 runs every stream on the main thread. With N, the stream
   * of each call that a worker can run goes to the least loaded of N workers: native-engine calls
   * with plain RTP or SDES-SRTP, whose microphone only gives silence and whose speaker discards
   * what it gets (the default devices; an agent simulator's). Calls with ICE, DTLS-SRTP, WebRTC,
   * or devices that carry sound stay on the main thread. SIP and the policy always run there.
   * See docs/performance.md ("All cores") for what it gains.
   * @defaultValue 0
   */
  mediaThreads?: number;
  /**
   * Whether calls run the specification's audio processing on their devices' signal (echo control,
   * noise suppression, AGC both ways, as `echo_control`, `noise_suppression`, `agc_mode` and
   * `rx_agc_mode` say): `auto` does on a sound system's devices and not on virtual ones (files,
   * tones, recorders: the test signals and simulated agents they carry stay as they are); `on`
   * and `off` force it. DTX (`dtx_mode`, `vad_level`) is about bandwidth and follows its settings
   * whatever the devices. @defaultValue 'auto'
   */
  audioProcessing?: 'auto' | 'on' | 'off';
  /**
   * RTP/RTCP socket pairs kept bound ahead of the calls, per media bind address, so that an
   * answer does not wait for two sockets to be bound (`docs/performance.md`, *Answer latency*).
   * None is bound before the first call's media; from then on this many pairs (two descriptors
   * and two ports of `rtp_port_min`..`rtp_port_max` each) stay bound while the endpoint runs.
   * 0 binds every call's sockets when it needs them. Calls whose media runs in `mediaThreads`
   * bind there and do not use it. A value that is not a whole number from 0 to 64 makes the
   * constructor throw `InvalidArgumentError`.
   * @defaultValue 1
   */
  spareRtpPorts?: number;
  /**
   * A `MediaWorkerPool` shared with other Endpoints of the process (many agents in one process):
   * the same as `mediaThreads`, on threads this Endpoint does not own; whoever made the pool
   * closes it once every Endpoint on it has stopped. Not with `mediaThreads`.
   */
  mediaWorkers?: MediaWorkerPool;
}

/** Options of {@link Endpoint.makeCall}. @public */
export interface EndpointCallOptions extends MakeCallOptions {
  /** The line to call from. @defaultValue the first READY or STANDALONE line */
  line?: number;
}

/** Events of an {@link Endpoint}: its own, and those of its lines and calls, with the object they concern. @public */
export type EndpointEvents = {
  /** The endpoint's lifecycle moved (see {@link ENDPOINT_TRANSITIONS}). */
  stateChanged: [EndpointState, EndpointState];
  /** A line moved; `reason` says why it is FAILED. */
  connectionStateChanged: [number, ConnectionState, ConnectionState, string | undefined];
  /** A call came in and the policy lets it ring (or answers it at once). */
  incomingCall: [Call];
  /** The far end of `call` asked us (REFER) to call someone else; `newCall` is that outgoing call. */
  referred: [Call, Call];
  callStateChanged: [Call, CallState, CallState];
  dtmf: [Call, DtmfEvent];
  vqAlarm: [Call, VqReport];
  /** A SIP MESSAGE came to a line. */
  message: [number, LineMessage];
  /** A MESSAGE came in a call's dialog (RFC 3428). */
  callMessage: [Call, LineMessage];
  /** The mailbox of line `index` (`proxies.proxy<N>.mailbox`) sent its message-waiting state (RFC 3842). */
  messageWaiting: [number, MessageSummary];
  devicesChanged: [AudioDevice[]];
  statusChanged: [SessionStatus];
  /**
   * Something the endpoint goes on with but its host should know (a setting replaced by its
   * fallback or unknown, a password without registration, a missing ringtone), given when
   * `start()` runs. With no listener, each becomes a process warning (`process.emitWarning`).
   */
  warning: [EndpointWarning];
};

/** Events of an {@link Endpoint}'s `observer`: the tree growing and closing, for watchers. @public */
export type EndpointObserverEvents = {
  newLine: [Line];
  newCall: [Call];
  close: [];
};

/**
 * The SIP endpoint an agent desktop embeds: the root of the telephony tree
 * `Endpoint -> Line -> Call -> call.media`.
 *
 * @remarks
 * One {@link Line} per Connectivity (registered, or stand-alone), made by {@link Endpoint.start}
 * and closed by {@link Endpoint.stop}; calls belong to their line. The endpoint keeps the
 * lifecycle ({@link ENDPOINT_TRANSITIONS}), the devices the policy chose, the session status and
 * the Connector API's `session()` snapshot, and re-emits its lines' and calls' events with the
 * object they concern. A listener that throws, on the endpoint or any of its lines, calls and
 * media, is reported as the endpoint's `listenerError`.
 *
 * @public
 */
/** An option that must be a whole number from `min` to `max`, when given. */
function wholeOption(name: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, not ${String(value)}`);
}

export class Endpoint extends SafeEmitter<EndpointEvents> {
  readonly config: EndpointConfig;
  readonly policy: EndpointPolicy;
  readonly devices: AudioDeviceProvider;
  /** Told of each line and call made, and of the endpoint's end: for watchers that must not interfere. */
  readonly observer = new SafeEmitter<EndpointObserverEvents>();
  readonly #lines: Line[] = [];
  readonly #options: EndpointOptions;
  readonly #logger: DiagnosticsLogger;
  readonly #machine: StateMachine<EndpointState>;
  #context: EndpointContext | undefined;
  /** The media workers this Endpoint made (`mediaThreads`), closed when it stops. */
  #ownWorkers: MediaWorkerPool | undefined;
  #rtpReserve: RtpSocketReserve | undefined;
  /** Holds the devices of calls and conferences (defer_device_release, webrtc_audio_layer's keep-open modes); made at start. */
  #deviceKeeper: DeviceKeeper | undefined;
  #selection: DeviceSelection | undefined;
  #status: SessionStatus = 'INITIALIZING';
  /** start()'s promise, and the start itself (which stop() waits for without the failure handling). */
  #starting: Promise<void> | undefined;
  #startRun: Promise<void> | undefined;
  /** Warnings found before start() (the config given as a path). */
  readonly #early: EndpointWarning[] = [];
  #accessToken: string | undefined;

  constructor(options: EndpointOptions) {
    super();
    this.#options = options;
    this.config = typeof options.config === 'string' ? this.#configFromText(options.config) : options.config;
    this.#logger = DiagnosticsLogger.fromConfig(this.config, options.logger ? { sink: options.logger } : {});
    this.policy = options.policy ?? new DefaultPolicy();
    this.devices = options.devices ?? new VirtualAudioProvider();
    this.#machine = new StateMachine<EndpointState>('endpoint', 'NEW', ENDPOINT_TRANSITIONS, (next, previous) => {
      this.#log(3, `endpoint ${previous} -> ${next}`);
      this.emit('stateChanged', next, previous);
    });
    if (options.accessToken !== undefined) this.setAccessToken(options.accessToken);
    if (options.audioProcessing !== undefined && !['auto', 'on', 'off'].includes(options.audioProcessing)) throw new InvalidArgumentError(`audioProcessing is 'auto', 'on' or 'off', not ${JSON.stringify(options.audioProcessing)}`);
    const threads = options.mediaThreads;
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 0 && threads <= 256)) throw new InvalidArgumentError(`mediaThreads must be a whole number from 0 to 256, not ${String(threads)}`);
    if (threads && options.mediaWorkers) throw new InvalidArgumentError('give mediaThreads (workers of this Endpoint) or mediaWorkers (a shared pool), not both');
    wholeOption('spareRtpPorts', options.spareRtpPorts, 0, 64);
    wholeOption('minSessionExpires', options.minSessionExpires, 1, 86400);
    const keepAlive = options.udpKeepAliveS;
    if (keepAlive !== undefined && !(Number.isFinite(keepAlive) && keepAlive >= 0 && keepAlive <= 86400)) throw new InvalidArgumentError(`udpKeepAliveS must be a number of seconds from 0 to 86400, not ${String(keepAlive)}`);
    this.devices.on('devicesChanged', this.#onDevicesChanged);
    this.observer.on('listenerError', (error) => this.emit('listenerError', error));
  }

  /**
   * The configuration given as text: XML, as it should be; the path of an existing file is read
   * (with a warning: `loadConfig(path)` is the way); anything else says what is expected.
   */
  #configFromText(text: string): EndpointConfig {
    if (text.trimStart().startsWith('<')) return parseConfig(text);
    if (!text.includes('\n') && existsSync(text)) {
      this.#early.push({ code: 'WARN_CONFIG_PATH', message: `config "${text}" is a file path, not XML text: the file was read; pass loadConfig(path) (or its XML text) instead` });
      try {
        return parseConfig(readFileSync(text, 'utf8'));
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        throw new ConfigError('ERR_CONFIG_READ', `cannot read ${text}: ${(error as Error).message}`, {}, { cause: error });
      }
    }
    throw new ConfigError('ERR_CONFIG_MALFORMED_XML', `config is neither Softphone.config XML text (it does not start with "<") nor an existing file: pass the XML text, an EndpointConfig, or await loadConfig(path)`);
  }

  /** Tells the host of a warning: the `warning` event, or a process warning when nobody listens. */
  #warn(warning: EndpointWarning): void {
    this.#log(2, `${warning.setting ? `${warning.setting}: ` : ''}${warning.message}`);
    if (this.listenerCount('warning') > 0) this.emit('warning', warning);
    else process.emitWarning(warning.message, { type: 'SipEndpointWarning', code: warning.code });
  }

  /**
   * Sets (or, with undefined, removes) the OAuth access token of WebRTC lines: the next REGISTER
   * (a refresh, or the next attempt of a line that failed) and the next WebSocket connection carry
   * it. A line that failed for want of a valid token registers again with it at once.
   *
   * @throws {@link InvalidArgumentError} for a token that is not an RFC 6750 `b64token` (letters,
   * digits, `-._~+/`, then `=` padding): nothing else may go into a header.
   */
  setAccessToken(token: string | undefined): void {
    if (token !== undefined && !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
      throw new InvalidArgumentError('the access token is not an RFC 6750 b64token (letters, digits, "-._~+/" and trailing "="); a token with spaces, quotes or line breaks cannot go into a header');
    }
    const changed = token !== this.#accessToken;
    this.#accessToken = token;
    if (changed) for (const line of this.#lines) lineControl(line).tokenChanged();
  }

  /** The lifecycle state (see {@link ENDPOINT_TRANSITIONS}). */
  get state(): EndpointState {
    return this.#machine.state;
  }

  /** The devices the policy chose for calls and ringing; `undefined` before {@link Endpoint.start}. */
  get selectedDevices(): DeviceSelection | undefined {
    return this.#selection;
  }

  /** The lines, one per Connectivity (after {@link Endpoint.start}). */
  get lines(): readonly Line[] {
    return this.#lines;
  }

  /**
   * RTP/RTCP socket pairs bound ahead of the next calls now (`spareRtpPorts`): each holds two
   * descriptors and two ports of the RTP range. For diagnostics and resource accounting.
   */
  get spareRtpPairs(): number {
    return this.#rtpReserve?.held ?? 0;
  }

  /** The calls of every line that are not over. */
  get calls(): Call[] {
    const calls: Call[] = [];
    for (const line of this.#lines) for (const call of line.callsInProgress()) calls.push(call);
    return calls;
  }

  /** The log per `system.diagnostics` (or the host's `logger`): its file, its segments. */
  get logger(): DiagnosticsLogger {
    return this.#logger;
  }

  /**
   * Resolves the local address, selects devices, makes and starts one line per Connectivity.
   * Resolves once every line has started (a registering line is then `TRYING`; `makeCall` waits
   * for it). A second call while starting or running does nothing more. A start that fails (no
   * free SIP port, unusable TLS settings) closes what it opened, leaves the endpoint `STOPPED` and
   * rejects with the reason.
   *
   * @throws InvalidStateError once the endpoint was stopped (make a new one).
   */
  async start(): Promise<void> {
    if (this.state === 'STOPPING' || this.state === 'STOPPED') throw new InvalidStateError(`the endpoint was stopped (${this.state}); make a new Endpoint`, this.state);
    if (this.#starting) return this.#starting;
    const run = this.#start();
    this.#startRun = run;
    this.#starting = run.catch(async (error: unknown) => {
      // A start that failed (no free port, TLS settings, an unpatched sip.js) closes what it
      // opened: the endpoint is STOPPED, and says why.
      this.#log(1, `start failed: ${error instanceof Error ? error.message : String(error)}`);
      await this.stop();
      throw error;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    this.#machine.to('STARTING');
    const config = this.config;
    const local = await resolvePublicAddress(config, this.#options.publicAddress);
    this.#log(3, `starting on ${local.address} with ${config.connectivities.length} line(s)`);
    const mediaDir = this.#options.mediaDir ?? process.cwd();
    const logProblems = this.#logger.settings.options.problems.map((message): EndpointWarning => ({ code: 'WARN_CONFIG_SETTING', setting: 'system.diagnostics.log_options_provider', message }));
    for (const warning of [...this.#early, ...configurationWarnings(config, mediaDir), ...logProblems]) this.#warn(warning);
    const logger = this.#logger;
    const given = this.#options.dtlsCertificate;
    const configured = given ? dtlsCertificateFromPem(given.certPem, given.keyPem) : undefined;
    let certificate: Promise<DtlsCertificate> | undefined;
    const ports = new PortAllocator(config.get('policy.endpoint.rtp_port_min'), config.get('policy.endpoint.rtp_port_max'));
    this.#deviceKeeper = new DeviceKeeper(this.devices, {
      releaseDelayMs: config.get('policy.endpoint.defer_device_release'),
      keepOpen: keepOpenOf(config.get('policy.endpoint.webrtc_audio_layer')),
      keepOpenRate: 16000,
      log: (level, message) => this.#log(level, message),
    });
    this.#context = {
      config,
      policy: this.policy,
      devices: this.devices,
      deviceKeeper: this.#deviceKeeper,
      processDeviceAudio: this.#options.audioProcessing === 'on' || (this.#options.audioProcessing !== 'off' && this.devices.virtual !== true),
      logger,
      address: local.address,
      ports,
      rtpReserve: (this.#rtpReserve = new RtpSocketReserve(ports, { pairs: this.#options.spareRtpPorts ?? 1 })),
      ...(this.#options.mediaThreads ? { mediaWorkers: (this.#ownWorkers = new MediaWorkerPool({ threads: this.#options.mediaThreads })) } : this.#options.mediaWorkers ? { mediaWorkers: this.#options.mediaWorkers } : {}),
      minSessionExpires: this.#options.minSessionExpires ?? MIN_SESSION_EXPIRES,
      mediaDir,
      srtpKeying: this.#options.srtpKeying ?? 'sdes',
      accessToken: () => this.#accessToken,
      udpKeepAliveS: this.#options.udpKeepAliveS ?? 0,
      dtlsCertificate: () => (certificate ??= configured ? Promise.resolve(configured) : generateDtlsCertificate()),
      selection: () => this.#selection,
      snapshots: () => this.#snapshots(),
      log: (level, component, message) => logger.log(level, component, message),
    };
    await this.#reselect();
    if (this.state !== 'STARTING') return;
    await this.#updateStatus();
    // The Connector API's enforce_headset_usage: lines stay DISABLED until the policy finds the
    // headset (the same rule that gives the WAITING_HEADSET status).
    const waiting = this.#status === 'WAITING_HEADSET';
    if (waiting) this.#log(2, 'waiting for the headset before registering (enforce_headset_usage)');
    const first = config.get('policy.endpoint.sip_port_min');
    const agent = userAgentString(config);
    const instanceId = config.get('policy.endpoint.include_mac_address') ? instanceIdFromMac(local.mac) : undefined;
    if (config.get('policy.endpoint.include_mac_address') && !instanceId) this.#log(2, 'include_mac_address is 1 but the interface of the public address has no MAC address');
    for (const connectivity of config.connectivities) {
      if (this.state !== 'STARTING') return;
      const line = this.#makeLine(
        new Line({
          connectivity,
          context: this.#context,
          contactHost: local.contactHost,
          firstPort: first + connectivity.index,
          userAgentString: agent,
          logConnector: logger.logConnector,
          disabled: waiting,
          ...(logger.logsSipMessages ? { trace: (direction: 'out' | 'in', message: string, remote: { address: string; port: number }) => logger.sipTrace(direction, message, remote) } : {}),
          ...(instanceId ? { instanceId } : {}),
          ...(this.#options.resolver ? { resolver: this.#options.resolver } : {}),
        }),
      );
      await line.start();
    }
    await this.#updateStatus();
    if (this.state === 'STARTING') this.#machine.to('RUNNING');
  }

  /** The endpoint's own wiring of a line it made: its events, re-emitted with the line or call. */
  #makeLine(line: Line): Line {
    this.#lines.push(line);
    line.on('stateChanged', (state, previous, reason) => {
      this.#log(3, `line ${line.index}: ${previous} -> ${state}${reason ? ` (${reason})` : ''}`);
      this.emit('connectionStateChanged', line.index, state, previous, reason);
      void this.#updateStatus();
    });
    line.on('newCall', (call) => {
      call.on('stateChanged', (state, previous) => this.emit('callStateChanged', call, state, previous));
      call.on('dtmf', (event) => this.emit('dtmf', call, event));
      call.on('message', (message) => this.emit('callMessage', call, message));
      call.on('vqAlarm', (report) => this.emit('vqAlarm', call, report));
      call.on('listenerError', (error) => this.emit('listenerError', error));
      this.observer.emit('newCall', call);
    });
    line.on('incomingCall', (call) => this.emit('incomingCall', call));
    line.on('referred', (call, referred) => this.emit('referred', call, referred));
    line.on('message', (message) => this.emit('message', line.index, message));
    line.on('messageWaiting', (summary) => this.emit('messageWaiting', line.index, summary));
    line.on('listenerError', (error) => this.emit('listenerError', error));
    this.observer.emit('newLine', line);
    return line;
  }

  /** Ends every call, unregisters and closes every line, releases the ports. Calling it twice is harmless. */
  async stop(): Promise<void> {
    if (this.state === 'STOPPING' || this.state === 'STOPPED') return;
    this.devices.off('devicesChanged', this.#onDevicesChanged);
    if (this.state === 'NEW') {
      this.#machine.to('STOPPED');
    } else {
      this.#machine.to('STOPPING');
      // A start in progress stops making lines; the ones it made close with the others.
      await this.#startRun?.catch(() => undefined);
      for (const line of this.#lines) await line.close();
      // Our own workers end with us; a shared pool is its owner's to close.
      await this.#ownWorkers?.close();
      this.#rtpReserve?.close();
      this.#deviceKeeper?.close();
      this.#machine.to('STOPPED');
    }
    this.#log(3, 'endpoint stopped');
    this.observer.emit('close');
    this.#logger.close();
  }

  /**
   * A local conference of two calls or more with our microphone: each call hears the microphone
   * and the others, never itself; the speaker plays them all (see {@link Conference}). A call we
   * hold is retrieved first. It uses the devices of the first call given.
   *
   * @throws InvalidArgumentError for fewer than two calls, a call given twice, or a call of another
   * endpoint; InvalidStateError for a call that is not `CONNECTED` or `HELD`, or in another
   * conference; NoMediaError for a call without an audio stream yet, or whose stream runs in a
   * media worker thread (`mediaThreads`).
   */
  async conference(first: Call, second: Call, ...more: Call[]): Promise<Conference> {
    return Conference.create({ devices: this.#deviceKeeper ?? this.devices, owns: (call) => this.calls.includes(call), log: (level, message) => this.#log(level, message) }, [first, second, ...more]);
  }

  /**
   * Calls `target` (a SIP URI, or a DN on the line's server) from a line: `options.line`, or the
   * first READY or STANDALONE one, else the first one still registering, which is waited for
   * (`readyTimeoutMs`, `signal`). See {@link Line.makeCall}.
   *
   * @throws InvalidStateError before {@link Endpoint.start} or after {@link Endpoint.stop};
   * {@link NoSuchLineError} for a line the configuration does not have; {@link LineNotReadyError}
   * when the line is disabled, closed, failed, or not registered in time; `CallRefusedError` when
   * the policy refuses.
   */
  async makeCall(target: string, options: EndpointCallOptions = {}): Promise<Call> {
    const { line: index, ...callOptions } = options;
    const line = await this.#lineFor(index, 'call again');
    return line.makeCall(target, callOptions);
  }

  /**
   * Sends an instant message outside a session (RFC 3428 MESSAGE) from line `line` (by default the
   * line `makeCall` would pick): see `Line.sendMessage`. Throws as `makeCall` does when there is
   * no such line or the endpoint is not running.
   */
  async sendMessage(target: string, body: string, options: SendMessageOptions & { line?: number; readyTimeoutMs?: number } = {}): Promise<MessageDelivery> {
    const { line: index, ...messageOptions } = options;
    const line = await this.#lineFor(index, 'send again');
    return line.sendMessage(target, body, messageOptions);
  }

  /**
   * The line to place a call or send a message from: the one asked for, else the first that can
   * call, else the first still registering (which the caller then waits for).
   */
  async #lineFor(index: number | undefined, again: string): Promise<Line> {
    if (this.state !== 'RUNNING' && this.state !== 'STARTING') throw new InvalidStateError(this.state === 'NEW' ? 'the endpoint is not started: await endpoint.start() first' : `the endpoint is ${this.state}: make a new Endpoint to ${again}`, this.state);
    // A start in progress: its lines exist once it is over.
    if (this.state === 'STARTING') await this.#starting;
    if (index !== undefined) {
      const line = this.#lines[index];
      if (!line) throw new NoSuchLineError(index, this.config.connectivities.length);
      return line;
    }
    const line = this.#lines.find((l) => l.canCall) ?? this.#lines.find((l) => l.state === 'NONE' || l.state === 'TRYING' || l.state === 'FAILED') ?? this.#lines[0];
    if (!line) throw new LineNotReadyError('no line was started: the configuration has no Connectivity', 'NONE');
    return line;
  }

  /**
   * Asks the policy again which devices to use, as a device plugged in or removed does: for a host
   * whose policy reads something that changed (the Connector API's `POST /audio` picking a device
   * by name). Calls in progress move to the devices chosen (see `call.media`'s `devicesMoved`), and
   * calls started afterwards use them.
   */
  async refreshDevices(): Promise<void> {
    if (this.state === 'STOPPING' || this.state === 'STOPPED') return;
    await this.#reselect();
  }

  /** The Connector API's `session` model. */
  session(): SessionModel {
    const calls = this.calls;
    const anyMuted = calls.some((call) => call.muted && (call.state === 'CONNECTED' || call.state === 'HELD'));
    const describe = (device: AudioDevice | null | undefined, callMuted: boolean): SessionDevice | undefined =>
      device ? { name: device.name, volume: this.#safe(() => this.devices.getVolume(device.id), 100), muted: callMuted || this.#safe(() => this.devices.isMuted(device.id), false) } : undefined;
    const qualities = calls.map((call) => call.media.quality()).filter((quality) => quality !== undefined);
    const last = qualities.at(-1);
    return {
      status: this.#status,
      connectivities: {
        protocol: (this.config.connectivities[0]?.protocol ?? 'UDP').toLowerCase(),
        connections: this.#lines.map((line) => ({ server: line.connectivity.server, user: line.connectivity.user, state: line.state, ...(line.state === 'FAILED' && line.reason ? { reason: line.reason } : {}) })),
      },
      devices: { headset_used: this.#selection?.headsetAvailable ?? false, speaker: describe(this.#selection?.output, false), microphone: describe(this.#selection?.input, anyMuted) },
      phone: {
        calls: calls.map((call) => {
          const ice = call.media.ice;
          return { uuid: call.info().uuid, state: call.state, ...(call.kind === 'im' ? { kind: 'im' as const } : {}), security: call.media.security.kind, ...(ice ? { ice: { state: ice.state, ...(ice.local ? { local: ice.local, remote: ice.remote } : {}) } } : {}) };
        }),
        ...(last ? { local_mos: last.mos, local_inter_mos: last.intervalMos } : {}),
        ...(last?.rttMs !== undefined ? { rtt_ms: Math.round(last.rttMs) } : {}),
        vq_alarm_on: qualities.some((quality) => quality.vqAlarm),
      },
    };
  }

  readonly #onDevicesChanged = (list: AudioDevice[]): void => {
    void this.#reselect();
    this.emit('devicesChanged', list);
  };

  #snapshots(): CallSnapshot[] {
    // Taken for every incoming INVITE: plain loops, no intermediate arrays.
    const snapshots: CallSnapshot[] = [];
    for (const line of this.#lines) {
      for (const call of line.callsInProgress()) {
        if (call.state === 'DISCONNECTED') continue;
        const snapshot: CallSnapshot = { id: call.id, line: call.line, state: call.state, direction: call.direction };
        if (call.uuid) snapshot.uuid = call.uuid;
        if (call.kind === 'im') snapshot.kind = 'im';
        snapshots.push(snapshot);
      }
    }
    return snapshots;
  }

  async #reselect(): Promise<void> {
    const selection = await this.policy.selectDevices({ config: this.config, devices: this.devices.list(), calls: this.#snapshots() });
    this.#selection = selection;
    this.#deviceKeeper?.keep({ input: selection.input ?? undefined, output: selection.output ?? undefined });
    // The selection applies to the calls in progress too (the specification's selection runs at
    // every change of the devices present): their audio moves to the devices chosen now.
    for (const call of this.calls) {
      if (call.state !== 'DISCONNECTED') callMediaControl(call.media).moveDevices(selection.input ?? undefined, selection.output ?? undefined);
    }
    if (this.state === 'STARTING' || this.state === 'RUNNING') await this.#updateStatus();
  }

  async #updateStatus(): Promise<void> {
    const status = await this.policy.sessionStatus({ config: this.config, devices: this.devices.list(), calls: this.#snapshots(), connections: this.#lines.map((line) => line.state), enforceHeadsetUsage: this.#options.enforceHeadsetUsage ?? false });
    if (status !== this.#status) {
      this.#status = status;
      this.emit('statusChanged', status);
    }
    // The headset came: the DISABLED lines register now.
    if (status !== 'WAITING_HEADSET') for (const line of this.#lines) line.enable();
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
}

