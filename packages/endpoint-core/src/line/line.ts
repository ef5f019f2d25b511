import { EventEmitter } from 'eventemitter3';
import { Registerer, RegistererState, UserAgent, type LogConnector, type UserAgentOptions } from 'sip.js';
import { resolveServer, SipEndpointError, type AddressResolver, type Connectivity, type EndpointConfig, type ProxyIndex } from '@sip-endpoint/config';
import type { Server } from 'node:net';
import { ConnectionTransport } from '../transport/connection-transport';
import { listenSipTcp, TcpTransport } from '../transport/tcp-transport';
import { listenSipTls, TlsTransport } from '../transport/tls-transport';
import { readTlsSettings } from '../transport/tls-settings';
import { WsTransport } from '../transport/ws-transport';
import { peekSip } from '../transport/sip-peek';
import { bindSipUdp, UdpTransport } from '../transport/udp-transport';
import type { ConnectionState } from './connection-state';
import { installSipExtensions } from '../sip-extensions';

/** Options of {@link Line}. @public */
export interface LineOptions {
  connectivity: Connectivity;
  config: EndpointConfig;
  /** Our address: bound to, and written in Via. */
  localAddress: string;
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
  /** More sip.js options: the session description handler factory, the delegate for INVITEs. */
  userAgentOptions?: Pick<UserAgentOptions, 'sessionDescriptionHandlerFactory' | 'delegate' | 'sipExtensionReplaces' | 'sipExtensionExtraSupported' | 'sendInitialProvisionalResponse'>;
  /** Retry delays, for tests. @defaultValue { firstRetryMs: 500 } */
  timing?: { firstRetryMs?: number };
}

/** Events of a {@link Line}. @public */
export type LineEvents = {
  stateChanged: [ConnectionState, ConnectionState];
};

/** An operation the line's state does not allow. @public */
export class LineStateError extends SipEndpointError {
  constructor(message: string) {
    super('ERR_SIP_INVALID_STATE', message);
  }
}

/**
 * One Connectivity line: a sip.js user agent on its own SIP port, registered with its server per
 * `proxies.proxy<N>` (digest credentials, `reg_timeout` as Expires, refreshed before expiry),
 * retried after a failure (first after half a second, then every `reg_interval`; 0 means no new
 * cycle), or stand-alone when `reg_timeout` is 0.
 *
 * @public
 */
export class Line extends EventEmitter<LineEvents> {
  readonly index: number;
  readonly connectivity: Connectivity;
  #state: ConnectionState = 'NONE';
  #reason: string | undefined;
  #ua: UserAgent | undefined;
  #registerer: Registerer | undefined;
  #transport: UdpTransport | ConnectionTransport | undefined;
  /** Whether the far end reaches us only over our own connection (TLS without a listening port, WS, WSS). */
  #ownConnectionOnly = false;
  #port: number | undefined;
  #retry: NodeJS.Timeout | undefined;
  #failures = 0;
  #stopping = false;
  readonly #options: LineOptions;

  constructor(options: LineOptions) {
    super();
    this.#options = options;
    this.connectivity = options.connectivity;
    this.index = options.connectivity.index;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Why the line is FAILED (the registrar's status line, or the error). */
  get reason(): string | undefined {
    return this.#reason;
  }

  /** The line's sip.js user agent (after `start()`). */
  get userAgent(): UserAgent | undefined {
    return this.#ua;
  }

  /** The local SIP port (after `start()`). */
  get port(): number | undefined {
    return this.#port;
  }

  /** Starts the user agent and registers (or goes stand-alone). */
  async start(): Promise<void> {
    installSipExtensions();
    if (this.#state !== 'NONE') throw new LineStateError(`line ${this.index} has already been started (${this.#state})`);
    const { config, connectivity } = this.#options;
    const protocol = connectivity.protocol;
    if (!['UDP', 'TCP', 'TLS', 'WS', 'WSS'].includes(protocol)) {
      throw new SipEndpointError('ERR_SIP_TRANSPORT_UNSUPPORTED', `line ${this.index}: ${String(protocol)} is not a SIP transport; UDP, TCP, TLS, WS and WSS are`);
    }
    // TLS settings first: a bad certificate setting stops the line before it opens anything.
    const tls = protocol === 'TLS' || protocol === 'WSS' ? readTlsSettings(config) : undefined;
    const connectionOriented = protocol !== 'UDP';
    const proxy = `proxies.proxy${this.index as ProxyIndex}` as const;
    const regTimeout = config.get(`${proxy}.reg_timeout`);
    const bind = config.get('policy.endpoint.sip_port_binding') === 1 ? this.#options.localAddress : this.#options.localAddress.includes(':') ? '::' : '0.0.0.0';
    const firstPort = this.#options.firstPort ?? config.get('policy.endpoint.sip_port_min');
    const lastPort = config.get('policy.endpoint.sip_port_max');
    const targets = await resolveServer(connectivity.server, connectivity.protocol, { resolver: this.#options.resolver, ipVersions: config.get('policy.endpoint.ip_versions') }).catch(() => []);
    const target = targets[0] ?? { address: connectivity.host, port: connectivity.port ?? 5060 };
    const domain = config.get(`${proxy}.domain`) || connectivity.host;
    const displayName = config.get(`${proxy}.display_name`);
    // Via and Contact carry the same host (sip.js checks that responses come back to it).
    const viaHost = this.#options.contactHost ?? this.#options.localAddress;
    const trace = this.#options.trace;
    const matchReceived = config.get(`${proxy}.reg_match_received_rport`);
    const common = {
      viaHost,
      // Stand-alone (reg_timeout 0): no proxy; requests go where their Request-URI says.
      target: regTimeout === 0 && !connectionOriented ? undefined : { address: target.address, port: target.port },
      transactionTimeoutMs: config.get('policy.endpoint.sip_transaction_timeout'),
      trace: (direction: 'out' | 'in', message: string, remote: { address: string; port: number }) => {
        trace?.(direction, message, remote);
        if (direction === 'in' && matchReceived) this.#checkReceived(message);
      },
    };
    const tcpMin = config.get('policy.endpoint.tcp_port_min');
    const tcpMax = config.get('policy.endpoint.tcp_port_max');
    const localPortRange = tcpMin > 0 ? { localPortRange: { min: tcpMin, max: tcpMax } } : {};
    // The far end reaches us over our own connection: reopen it as soon as it drops, and register again.
    const reconnecting = { reconnect: true, onReconnect: () => this.#state === 'READY' && this.#register(true) };
    let port: number | undefined;
    let transport: { constructor: typeof UdpTransport | typeof TcpTransport | typeof WsTransport; options: object };
    if (protocol === 'TCP') {
      const server = await listenSipTcp(bind, firstPort, lastPort);
      port = (server.address() as { port: number }).port;
      transport = { constructor: TcpTransport, options: { ...common, server, ...localPortRange } };
    } else if (protocol === 'TLS') {
      // A listening port only with our own certificate and key.
      const server = tls!.cert && tls!.key ? await listenSipTls(bind, firstPort, lastPort, tls!) : undefined;
      port = server ? (server.address() as { port: number }).port : undefined;
      this.#ownConnectionOnly = server === undefined;
      transport = { constructor: TlsTransport, options: { ...common, tls, serverName: connectivity.host, ...(server ? { server } : reconnecting), ...localPortRange } };
    } else if (protocol === 'WS' || protocol === 'WSS') {
      this.#ownConnectionOnly = true;
      transport = { constructor: WsTransport, options: { ...common, ...(tls ? { tls } : {}), serverName: connectivity.host, ...reconnecting } };
    } else {
      const socket = await bindSipUdp(bind, firstPort, lastPort);
      port = socket.address().port;
      // The TCP side for requests above 1300 bytes (RFC 3261 18.1.1), listening on the same port number when it is free.
      const server: Server | undefined = await listenSipTcp(bind, port, port).catch(() => undefined);
      transport = { constructor: UdpTransport, options: { ...common, socket, tcp: { ...(server ? { server } : {}), ...localPortRange } } };
    }
    const ua = new UserAgent({
      uri: UserAgent.makeURI(`sip:${connectivity.user}@${domain}`),
      transportConstructor: transport.constructor,
      transportOptions: transport.options,
      viaHost,
      forceRport: true,
      contactName: connectivity.user,
      contactParams: { transport: protocol.toLowerCase() },
      authorizationUsername: connectivity.user,
      authorizationPassword: config.get(`${proxy}.password`),
      ...(displayName ? { displayName } : {}),
      ...(this.#options.userAgentString ? { userAgentString: this.#options.userAgentString } : {}),
      logBuiltinEnabled: false,
      ...this.#options.userAgentOptions,
      ...(this.#options.logConnector ? { logConnector: this.#options.logConnector } : {}),
    });
    ua.contact.uri.port = port;
    this.#ua = ua;
    this.#port = port;
    this.#transport = ua.transport as unknown as UdpTransport | ConnectionTransport;
    await ua.start();
    if (regTimeout === 0) {
      this.#transition('STANDALONE');
      return;
    }
    this.#registerer = new Registerer(ua, { expires: regTimeout, ...(this.#options.instanceId ? { instanceId: this.#options.instanceId } : {}) });
    this.#registerer.stateChange.addListener((state) => {
      // A refresh that failed leaves sip.js Unregistered while we think we are READY.
      if (state === RegistererState.Unregistered && this.#state === 'READY' && !this.#stopping) this.#failed('registration refresh failed');
    });
    this.#register();
  }

  /** Unregisters (when registered), stops the user agent and frees the port. Calling it twice is harmless. */
  async stop(): Promise<void> {
    if (this.#stopping || this.#state === 'SHUTDOWN') return;
    this.#stopping = true;
    if (this.#retry) clearTimeout(this.#retry);
    const registerer = this.#registerer;
    if (registerer && registerer.state === RegistererState.Registered) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        registerer
          .unregister({ requestDelegate: { onAccept: () => resolve(), onReject: () => resolve() } })
          .catch(() => resolve())
          .finally(() => clearTimeout(timer));
      });
    }
    await this.#ua?.stop().catch(() => undefined);
    await (this.#transport?.dispose() ?? Promise.resolve());
    this.#transition('SHUTDOWN');
  }

  /**
   * `reg_match_received_rport`: when a REGISTER's 200 shows in `received`/`rport` another address
   * than the one our Contact carries (a NAT, or a wrongly chosen interface), the Contact takes the
   * address the registrar saw and the line registers again.
   */
  #checkReceived(message: string): void {
    const peek = peekSip(message);
    const ua = this.#ua;
    if (!peek || !ua || peek.kind !== 'response' || peek.method !== 'REGISTER' || peek.status !== 200 || !peek.via) return;
    const host = peek.via.received ?? ua.contact.uri.host;
    const port = peek.via.rport ?? ua.contact.uri.port;
    if (host === ua.contact.uri.host && port === ua.contact.uri.port) return;
    ua.contact.uri.host = host;
    if (port !== undefined) ua.contact.uri.port = port;
    // Register again with the corrected Contact, once the current exchange is over; the line
    // stays READY meanwhile.
    setTimeout(() => this.#register(true), 0);
  }

  #register(quiet = false): void {
    const registerer = this.#registerer;
    if (!registerer || this.#stopping) return;
    if (!quiet) this.#transition('TRYING');
    const transport = this.#transport;
    const ua = this.#ua;
    if (transport instanceof ConnectionTransport && protocolNeedsConnection(this.connectivity.protocol) && ua) {
      // Open the connection first: its failure (certificate, refused, no subprotocol) is the reason
      // the line fails, and without a listening port the Contact carries the connection's port.
      transport.openConnection().then(
        ({ localPort }) => {
          if (this.#stopping) return;
          if (this.#ownConnectionOnly && localPort !== undefined) {
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

  #sendRegister(registerer: Registerer): void {
    registerer
      .register({
        requestDelegate: {
          onAccept: () => {
            this.#failures = 0;
            this.#reason = undefined;
            this.#transition('READY');
          },
          onReject: (response) => this.#failed(`${response.message.statusCode ?? 0} ${response.message.reasonPhrase ?? ''}`.trim()),
        },
      })
      .catch((error: Error) => this.#failed(error.message));
  }

  #failed(reason: string): void {
    if (this.#stopping) return;
    this.#reason = reason;
    this.#transition('FAILED');
    const interval = this.#options.config.get(`proxies.proxy${this.index as ProxyIndex}.reg_interval`);
    if (interval === 0) return; // no new registration cycle
    const delay = this.#failures++ === 0 ? (this.#options.timing?.firstRetryMs ?? 500) : interval * 1000;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = setTimeout(() => this.#register(), delay);
  }

  #transition(state: ConnectionState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.emit('stateChanged', state, previous);
  }
}

/** Transports whose connection is opened before a REGISTER (to report its failure as such, and to learn our port). */
function protocolNeedsConnection(protocol: string): boolean {
  return protocol === 'TLS' || protocol === 'WS' || protocol === 'WSS';
}
