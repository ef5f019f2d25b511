import { ConfigError, settingNamesFile, type ConfigOverrides, type EndpointConfig } from '@sip-endpoint/config';
import type { Config as ConnectorConfig, AudioRequest, Device } from '@sip-endpoint/connector-client';
import { Endpoint, type EndpointOptions, type SessionModel } from '@sip-endpoint/endpoint-core';
import { VirtualAudioProvider, type AudioDeviceProvider } from '@sip-endpoint/media';
import { composePolicy, DefaultPolicy, SafeEmitter, type AudioDevice, type DeviceSelection, type EndpointPolicy } from '@sip-endpoint/policy';
import { ConnectorServer } from './connector/connector-server';
import { sessionExpireSeconds } from './connector/session-cookie';
import { SoftphoneError } from './errors';

/** Options of {@link Softphone}. @public */
export interface SoftphoneOptions {
  /** The configuration (Softphone.config as read by `loadConfig`). */
  config: EndpointConfig;
  /**
   * Reads the configuration again, for the restart `auto_restart` = 1 asks for at the end of each
   * client session (the CLI re-reads its file). @defaultValue the same `config` again
   */
  reloadConfig?: () => Promise<EndpointConfig>;
  /** Audio devices. @defaultValue a {@link VirtualAudioProvider} with its default microphone and speaker */
  devices?: AudioDeviceProvider;
  /** The endpoint's policy, before the devices picked by `POST /audio` are applied. @defaultValue `new DefaultPolicy()` */
  policy?: EndpointPolicy;
  /** Where endpoint and connector records go (level 0 to 4), as {@link EndpointOptions.logger}. */
  logger?: (level: number, message: string, component?: string) => void;
  /** Extra options for each {@link Endpoint} (`publicAddress`, `resolver`, `mediaDir`, `minSessionExpires`). */
  endpoint?: Pick<EndpointOptions, 'publicAddress' | 'resolver' | 'mediaDir' | 'minSessionExpires'>;
  /** Directory a relative `policy.connector.certificate` is read from. @defaultValue the working directory */
  baseDir?: string;
}

/** Why a client session ended. @public */
export type SessionEndReason = 'closed' | 'expired' | 'stopped';

/**
 * Events of a {@link Softphone}.
 *
 * @remarks
 * Like every emitter of the SDK, a Softphone also emits `listenerError` (a `ListenerError` of
 * `@sip-endpoint/policy`) when one of its own listeners throws; the softphone goes on.
 *
 * @public
 */
export type SoftphoneEvents = {
  /** A new endpoint exists (at start in stand-alone mode, on each `POST /register` in connector mode). */
  endpoint: [Endpoint];
  /** The Connector API server listens at this URL (`http://127.0.0.1:8654/softphone/v2`). */
  listening: [string];
  /** A client session began (a desktop's first accepted request). */
  sessionStarted: [];
  /** The client session ended: `DELETE /session`, no `GET /session` within `session_expire`, or the softphone stopping. */
  sessionEnded: [SessionEndReason];
  /**
   * Something went wrong that the softphone survived: a listener of its endpoint threw (the
   * endpoint's `listenerError`), or the configuration could not be read again at a restart.
   */
  error: [Error];
  /** The softphone stopped (a signal, or the end of a client session with `auto_restart` = 0). */
  stopped: [];
};

/** What the desktop set with `POST /session`. */
interface ClientSession {
  config: EndpointConfig;
  sessionExpire: number;
  enforceHeadsetUsage: boolean;
  username: string | undefined;
  token: string | undefined;
}

/**
 * The headless Softphone: an {@link Endpoint} on the default policy and the given (or virtual)
 * devices, run stand-alone (registered at {@link Softphone.start}) or, when
 * `policy.connector.port` is set, driven by an agent desktop through the Connector API v2 on
 * 127.0.0.1 (see {@link ConnectorServer}).
 *
 * @remarks
 * In connector mode each `POST /register` starts a new endpoint on the session's configuration
 * (the file with `options.sipendpoint` and `connectivities` applied) and `DELETE /register` stops
 * it. When the client session ends, the endpoint is stopped (calls released, lines unregistered);
 * then with `auto_restart` = 1 the softphone restarts (configuration read again, ready for the
 * next session), with 0 it stops.
 *
 * A `SafeEmitter` of `@sip-endpoint/policy`: a listener of the softphone that throws does not stop
 * the other listeners nor the request or stop that emitted; it is reported as `listenerError`.
 *
 * @public
 */
export class Softphone extends SafeEmitter<SoftphoneEvents> {
  readonly devices: AudioDeviceProvider;
  readonly #options: SoftphoneOptions;
  readonly #policy: EndpointPolicy;
  /** Devices picked by name through `POST /audio`, by kind; they win over the policy's while present. */
  readonly #chosen: { input?: string; output?: string } = {};
  #config: EndpointConfig;
  #endpoint: Endpoint | undefined;
  #server: ConnectorServer | undefined;
  #client: ClientSession | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #started = false;
  #stopped = false;
  #stopping: Promise<void> | undefined;

  constructor(options: SoftphoneOptions) {
    super();
    this.#options = options;
    this.#config = options.config;
    this.devices = options.devices ?? new VirtualAudioProvider();
    const chosen = this.#chosen;
    this.#policy = composePolicy(options.policy ?? new DefaultPolicy(), {
      selectDevices: async (ctx, base) => {
        const selection = await base.selectDevices(ctx);
        const pick = (id: string | undefined): AudioDevice | undefined => (id === undefined ? undefined : ctx.devices.find((device) => device.id === id));
        const input = pick(chosen.input);
        const output = pick(chosen.output);
        if (!input && !output) return selection;
        return { ...selection, ...(input ? { input } : {}), ...(output ? { output } : {}), reason: `${selection.reason}; chosen through the Connector API: ${[input?.name, output?.name].filter(Boolean).join(', ')}` };
      },
    });
  }

  /** `connector` when `policy.connector.port` is set, else `standalone`. */
  get mode(): 'standalone' | 'connector' {
    return this.#config.get('policy.connector.port') === null ? 'standalone' : 'connector';
  }

  /** The configuration in use: the file's, with the client session's overrides when there is one. */
  get config(): EndpointConfig {
    return this.#client?.config ?? this.#config;
  }

  /** The current endpoint, if one was started (stopped ones stay until the next starts, for their last state). */
  get endpoint(): Endpoint | undefined {
    return this.#endpoint;
  }

  /** The Connector API's base URL, once listening. */
  get url(): string | undefined {
    return this.#server?.url;
  }

  /** The Softphone page's URL (`http://127.0.0.1:8654/softphone/gui/`), once listening, when `policy.connector.gui` serves it. */
  get pageUrl(): string | undefined {
    return this.#server?.guiUrl;
  }

  /** Whether a client session is open. */
  get inSession(): boolean {
    return this.#client !== undefined;
  }

  /** `session_expire` of the open client session, in seconds (0: never). */
  get sessionExpire(): number {
    return this.#client?.sessionExpire ?? sessionExpireSeconds(undefined);
  }

  /**
   * Stand-alone: starts the endpoint (it registers). Connector mode: opens the Connector API and
   * waits for a desktop.
   *
   * @throws {@link SoftphoneError} `ERR_SOFTPHONE_CONNECTOR_SETTINGS` or `ERR_SOFTPHONE_CONNECTOR_LISTEN`.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (this.mode === 'standalone') {
      await this.#startEndpoint(this.#config, false);
      return;
    }
    this.#server = new ConnectorServer({ softphone: this, config: this.#config, ...(this.#options.baseDir ? { baseDir: this.#options.baseDir } : {}), log: (level, message) => this.#log(level, message) });
    await this.#server.listen();
    this.#log(3, `Connector API listening at ${this.#server.url}${this.#server.guiUrl ? `; the Softphone page at ${this.#server.guiUrl}` : ''}`);
    this.emit('listening', this.#server.url!);
  }

  /** Ends the client session, stops the endpoint (BYE, unregister) and closes the Connector API. Calling it twice is harmless. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopped = true;
      await this.#server?.close().catch((error: Error) => this.#log(1, `closing the connector: ${error.message}`));
      await this.#serial(async () => {
        if (this.#client) {
          this.#client = undefined;
          this.emit('sessionEnded', 'stopped');
        }
        await this.#stopEndpoint();
      });
      this.emit('stopped');
    })();
    return this.#stopping;
  }

  /** The Connector API's `session` model: the endpoint's, or, before `POST /register`, the configuration's. */
  async session(): Promise<SessionModel> {
    const endpoint = this.#endpoint;
    if (endpoint) return endpoint.session();
    const config = this.config;
    const devices = this.devices.list();
    const selection = await this.#policy.selectDevices({ config, devices, calls: [] });
    const connections = config.connectivities.map((c) => ({ server: c.server, user: c.user, state: 'NONE' as const }));
    const status = await this.#policy.sessionStatus({ config, devices, calls: [], connections: connections.map((c) => c.state), enforceHeadsetUsage: this.#client?.enforceHeadsetUsage ?? false });
    return {
      status,
      connectivities: { protocol: (config.connectivities[0]?.protocol ?? 'UDP').toLowerCase(), connections },
      devices: { headset_used: selection.headsetAvailable, speaker: this.#describe(selection.output), microphone: this.#describe(selection.input) },
      phone: { calls: [], vq_alarm_on: false },
    };
  }

  // ------------------------------------------------------------------ Connector API actions

  /** A desktop's first accepted request opened a client session (on the file's configuration). */
  beginSession(): void {
    if (this.#client || this.#stopped) return;
    this.#client = { config: this.#config, sessionExpire: sessionExpireSeconds(undefined), enforceHeadsetUsage: false, username: undefined, token: undefined };
    this.#log(3, 'client session started');
    this.emit('sessionStarted');
  }

  /**
   * `POST /session`: applies `options.sipendpoint` (`domain.section.setting` overrides),
   * `options.softphone` and `connectivities` to the file's configuration. They take effect at the
   * next `POST /register`.
   *
   * `connectivities.protocol` `https` makes the lines WebRTC lines (SIP over secure WebSocket to
   * the gateway, media on libwebrtc); `options.softphone.username` then names the agent's session
   * to the gateway as the lines' display name (unless `display_name` is configured).
   *
   * @throws a `ConfigError` for overrides the configuration refuses (a server that is no URL or
   * host:port, an unknown protocol); {@link SoftphoneError} `ERR_CONNECTOR_SETTING_FORBIDDEN`
   * (403) for an override of a setting that names a file (`namesFile` in the settings table).
   */
  configureSession(body: ConnectorConfig): Promise<void> {
    return this.#serial(async () => {
      this.beginSession();
      const client = this.#client;
      if (!client) throw new SoftphoneError('ERR_SOFTPHONE_STOPPED', 'the softphone is stopping');
      // A desktop page chooses no paths on the agent's disk: settings that name files (the log,
      // ringtones, certificates) come from the Softphone.config file only.
      const forbidden = Object.keys(body.options?.sipendpoint ?? {}).filter((key) => settingNamesFile(key));
      if (forbidden.length > 0) throw new SoftphoneError('ERR_CONNECTOR_SETTING_FORBIDDEN', `options.sipendpoint cannot set ${forbidden.join(', ')}: settings that name files on this computer come from the Softphone.config file only`, { statusCode: 403 });
      const overrides: ConfigOverrides = { ...(body.options?.sipendpoint ?? {}) };
      const connectivities = body.connectivities;
      if (connectivities?.connections) {
        const connections = connectivities.connections;
        const existing = Math.max(0, ...this.#config.connectivities.map((c) => c.index + 1));
        for (let index = 0; index < Math.max(existing, connections.length); index++) {
          const connection = connections[index];
          if (connection) {
            overrides[`user:${index}`] = connection.user ?? null;
            overrides[`server:${index}`] = connection.server ?? null;
            if (connectivities.protocol) overrides[`protocol:${index}`] = connectivities.protocol.toUpperCase();
          } else {
            // A line of the file the desktop did not send: emptied, so ignored.
            overrides[`user:${index}`] = null;
            overrides[`server:${index}`] = null;
          }
        }
      } else if (connectivities?.protocol) {
        for (const connectivity of this.#config.connectivities) overrides[`protocol:${connectivity.index}`] = connectivities.protocol.toUpperCase();
      }
      const softphone = body.options?.softphone ?? {};
      const username = softphone.username ?? client.username;
      const lines = this.#config.with(overrides);
      if (username !== undefined && username !== '') {
        for (const connectivity of lines.connectivities) {
          const key = `proxies.proxy${connectivity.index}.display_name` as const;
          if (connectivity.protocol === 'HTTPS' && lines.get(key as 'proxies.proxy0.display_name') === '' && overrides[key] === undefined) overrides[key] = username;
        }
      }
      const config = this.#config.with(overrides);
      this.#client = {
        ...client,
        config,
        sessionExpire: softphone.session_expire !== undefined ? sessionExpireSeconds(softphone.session_expire) : client.sessionExpire,
        enforceHeadsetUsage: softphone.enforce_headset_usage ?? client.enforceHeadsetUsage,
        username,
      };
      this.#server?.sessionExpireChanged();
      this.#log(3, `session configured: ${config.connectivities.length} line(s), session_expire ${this.#client.sessionExpire} s${this.#client.enforceHeadsetUsage ? ', enforce_headset_usage' : ''}`);
    });
  }

  /**
   * `POST /register`: stops the endpoint if one runs (its calls are dropped) and starts a new one
   * on the session's configuration; the lines then register. `token` is the WebRTC OAuth token
   * (`Authorization: Bearer`), kept for the session: WebRTC (`https`) lines send it on the
   * WebSocket upgrade and with every REGISTER; SIP lines do not use it. A new `POST /register`
   * with a refreshed token restarts the lines with it.
   *
   * @throws {@link SoftphoneError} `ERR_CONNECTOR_REGISTER_FAILED` when the endpoint cannot start.
   */
  register(token: string | undefined): Promise<void> {
    return this.#serial(async () => {
      this.beginSession();
      const client = this.#client;
      if (!client) throw new SoftphoneError('ERR_SOFTPHONE_STOPPED', 'the softphone is stopping');
      if (token !== undefined) client.token = token;
      await this.#stopEndpoint();
      try {
        await this.#startEndpoint(client.config, client.enforceHeadsetUsage);
      } catch (error) {
        await this.#stopEndpoint();
        const code = (error as { code?: unknown }).code;
        throw new SoftphoneError('ERR_CONNECTOR_REGISTER_FAILED', `the endpoint could not start: ${typeof code === 'string' ? `${code}: ` : ''}${(error as Error).message}`, { cause: error });
      }
    });
  }

  /** `DELETE /register`: stops the endpoint: calls dropped, lines unregistered (`SHUTDOWN`). */
  unregister(): Promise<void> {
    return this.#serial(async () => {
      this.beginSession();
      await this.#endpoint?.stop();
    });
  }

  /**
   * Ends the client session (`DELETE /session`, or `session_expire` without a `GET /session`):
   * the endpoint stops, then the softphone restarts (`auto_restart` = 1) or stops (0).
   */
  endSession(reason: Exclude<SessionEndReason, 'stopped'>): Promise<void> {
    return this.#serial(async () => {
      const client = this.#client;
      if (!client) return;
      this.#client = undefined;
      this.#log(3, `client session ended (${reason})`);
      await this.#stopEndpoint();
      this.#endpoint = undefined;
      this.emit('sessionEnded', reason);
      if (client.config.get('policy.connector.auto_restart')) {
        await this.#restart();
      } else {
        this.#log(3, 'auto_restart is 0: the softphone stops after the client session');
        void this.stop();
      }
    });
  }

  /**
   * `POST /audio`: picks the speaker or microphone by `name` (a present device of that kind), then
   * sets its `volume` (0 to 100) and `muted`. A property left out is unchanged; `headset_used` is
   * reported, not set, and is ignored.
   *
   * @throws {@link SoftphoneError} `ERR_CONNECTOR_UNKNOWN_DEVICE` for a name no present device has,
   * or a volume or mute for a kind of device that is absent.
   */
  setAudio(body: AudioRequest): Promise<void> {
    return this.#serial(async () => {
      this.beginSession();
      await this.#applyAudio(body);
    });
  }

  /**
   * The Softphone page's device choice (Devices tab): what `POST /audio` does, without opening a
   * client session (the page is the agent's window beside the desktop, not a desktop).
   *
   * @throws {@link SoftphoneError} as {@link Softphone.setAudio}.
   */
  selectAudio(body: AudioRequest): Promise<void> {
    return this.#serial(() => this.#applyAudio(body));
  }

  async #applyAudio(body: AudioRequest): Promise<void> {
    const present = this.devices.list();
    const find = (kind: AudioDevice['kind'], name: string): AudioDevice => {
      const device = present.find((d) => d.kind === kind && d.name === name) ?? present.find((d) => d.kind === kind && d.name.toLowerCase() === name.toLowerCase());
      if (!device) {
        const names = present.filter((d) => d.kind === kind).map((d) => `"${d.name}"`);
        throw new SoftphoneError('ERR_CONNECTOR_UNKNOWN_DEVICE', `no ${kind === 'input' ? 'microphone' : 'speaker'} named "${name}" is present (present: ${names.join(', ') || 'none'})`);
      }
      return device;
    };
    // Check every name before changing anything.
    const speaker = body.speaker?.name !== undefined ? find('output', body.speaker.name) : undefined;
    const microphone = body.microphone?.name !== undefined ? find('input', body.microphone.name) : undefined;
    if (speaker) this.#chosen.output = speaker.id;
    if (microphone) this.#chosen.input = microphone.id;
    if (speaker || microphone) await this.#endpoint?.refreshDevices();
    const selection = await this.#selection();
    const apply = (request: Device | undefined, device: AudioDevice | null, what: string): void => {
      if (!request || (request.volume === undefined && request.muted === undefined)) return;
      if (!device) throw new SoftphoneError('ERR_CONNECTOR_UNKNOWN_DEVICE', `no ${what} is present`);
      if (request.volume !== undefined) this.devices.setVolume(device.id, request.volume);
      if (request.muted !== undefined) this.devices.setMuted(device.id, request.muted);
    };
    apply(body.speaker, selection.output, 'speaker');
    apply(body.microphone, selection.input, 'microphone');
  }

  /** `DELETE /calls`: hangs up every call (the spec: to clear false calls after a disaster). */
  releaseCalls(): Promise<void> {
    return this.#serial(async () => {
      this.beginSession();
      const calls = this.#endpoint?.calls ?? [];
      await Promise.all(calls.map((call) => call.hangup().catch((error: Error) => this.#log(2, `releasing call ${call.id}: ${error.message}`))));
    });
  }

  // ------------------------------------------------------------------ internals

  async #selection(): Promise<DeviceSelection> {
    return this.#endpoint?.selectedDevices ?? (await this.#policy.selectDevices({ config: this.config, devices: this.devices.list(), calls: [] }));
  }

  #describe(device: AudioDevice | null): { name: string; volume: number; muted: boolean } | undefined {
    if (!device) return undefined;
    try {
      return { name: device.name, volume: this.devices.getVolume(device.id), muted: this.devices.isMuted(device.id) };
    } catch {
      return { name: device.name, volume: 100, muted: false };
    }
  }

  async #startEndpoint(config: EndpointConfig, enforceHeadsetUsage: boolean): Promise<void> {
    if (this.#stopped) throw new SoftphoneError('ERR_SOFTPHONE_STOPPED', 'the softphone is stopping');
    const endpoint = new Endpoint({
      config,
      policy: this.#policy,
      devices: this.devices,
      enforceHeadsetUsage,
      ...(this.#client?.token !== undefined ? { accessToken: this.#client.token } : {}),
      ...(this.#options.logger ? { logger: this.#options.logger } : {}),
      ...this.#options.endpoint,
    });
    endpoint.on('listenerError', (error) => this.emit('error', error));
    this.#endpoint = endpoint;
    this.emit('endpoint', endpoint);
    await endpoint.start();
  }

  async #stopEndpoint(): Promise<void> {
    await this.#endpoint?.stop().catch((error: Error) => this.#log(1, `stopping the endpoint: ${error.message}`));
  }

  /** `auto_restart`: a fresh start for the next session: configuration read again, devices picked by the last session forgotten. */
  async #restart(): Promise<void> {
    try {
      this.#config = this.#options.reloadConfig ? await this.#options.reloadConfig() : this.#config;
    } catch (error) {
      this.#log(1, `auto_restart: the configuration cannot be read again, the previous one is kept: ${(error as Error).message}`);
      if (!(error instanceof ConfigError)) this.emit('error', error as Error);
    }
    delete this.#chosen.input;
    delete this.#chosen.output;
    this.#log(3, 'restarted (auto_restart): waiting for a client session');
  }

  /** Runs actions one at a time, in order, so that overlapping requests cannot interleave endpoint starts and stops. */
  #serial<T>(action: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(action, action);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #log(level: number, message: string): void {
    try {
      this.#options.logger?.(level, message, 'softphone');
    } catch {
      // a host logger that throws must not break the softphone
    }
  }
}
