import type { Server } from 'node:net';
import type { Connectivity, EndpointConfig, ProxyIndex } from '@sip-endpoint/config';
import { TransportUnsupportedError } from '../errors';
import { listenSipTcp, TcpTransport } from '../transport/tcp-transport';
import { listenSipTls, TlsTransport } from '../transport/tls-transport';
import { readTlsSettings } from '../transport/tls-settings';
import { bindSipUdp, UdpTransport } from '../transport/udp-transport';
import { WsTransport } from '../transport/ws-transport';

/** What the line's sip.js user agent is given for its transport, and what the line learns of it. */
export interface LineTransportPlan {
  constructor: typeof UdpTransport | typeof TcpTransport | typeof WsTransport;
  options: object;
  /** Our listening SIP port, when there is one. */
  port: number | undefined;
  /** Whether the far end reaches us only over our own connection (TLS without a listening port, WS, WSS). */
  ownConnectionOnly: boolean;
}

/** What opening a line's transport needs. */
export interface LineTransportRequest {
  connectivity: Connectivity;
  config: EndpointConfig;
  /** Where the line binds. */
  bind: string;
  firstPort: number;
  /** Options every transport takes (Via host, target, transaction timeout, trace). */
  common: object;
  /** Called when a connection of ours (TLS without a port, WS, WSS) was reopened. */
  onReconnect: () => void;
  /** The OAuth access token of a WebRTC (`HTTPS`) line, asked for at each use. */
  bearerToken?: () => string | undefined;
  /** Called when the connection of a WebRTC (`HTTPS`) line to its gateway drops. */
  onDropped?: () => void;
}

/**
 * Opens the sockets of a line's transport as its Connectivity's protocol says: a UDP socket with a
 * TCP listener on the same port number (for requests over 1300 bytes), a TCP listener, a TLS
 * listener when the configuration has our certificate and key (else our own connection only), or a
 * WebSocket connection (`HTTPS`, WebRTC: secure WebSocket to the gateway, with the Bearer token).
 */
export async function openLineTransport(request: LineTransportRequest): Promise<LineTransportPlan> {
  const { connectivity, config, bind, firstPort, common } = request;
  const protocol = connectivity.protocol;
  if (!['UDP', 'TCP', 'TLS', 'WS', 'WSS', 'HTTPS'].includes(protocol)) {
    throw new TransportUnsupportedError(`line ${connectivity.index}: ${String(protocol)} is not a SIP transport; UDP, TCP, TLS, WS, WSS and HTTPS (WebRTC) are`);
  }
  // TLS settings first: a bad certificate setting stops the line before it opens anything.
  const tls = protocol === 'TLS' || protocol === 'WSS' || protocol === 'HTTPS' ? readTlsSettings(config) : undefined;
  const lastPort = config.get('policy.endpoint.sip_port_max');
  const tcpMin = config.get('policy.endpoint.tcp_port_min');
  const tcpMax = config.get('policy.endpoint.tcp_port_max');
  const localPortRange = tcpMin > 0 ? { localPortRange: { min: tcpMin, max: tcpMax } } : {};
  // The far end reaches us over our own connection: reopen it as soon as it drops, and register again.
  const reconnecting = { reconnect: true, onReconnect: request.onReconnect };
  if (protocol === 'TCP') {
    const server = await listenSipTcp(bind, firstPort, lastPort);
    return { constructor: TcpTransport, options: { ...common, server, ...localPortRange }, port: (server.address() as { port: number }).port, ownConnectionOnly: false };
  }
  if (protocol === 'TLS') {
    // A listening port only with our own certificate and key.
    const server = tls!.cert && tls!.key ? await listenSipTls(bind, firstPort, lastPort, tls!) : undefined;
    return {
      constructor: TlsTransport,
      options: { ...common, tls, serverName: connectivity.host, ...(server ? { server } : reconnecting), ...localPortRange },
      port: server ? (server.address() as { port: number }).port : undefined,
      ownConnectionOnly: server === undefined,
    };
  }
  if (protocol === 'WS' || protocol === 'WSS' || protocol === 'HTTPS') {
    const bearer = protocol === 'HTTPS' ? { ...(request.bearerToken ? { bearerToken: request.bearerToken } : {}), ...(request.onDropped ? { onDropped: request.onDropped } : {}) } : {};
    const path = connectivity.path !== undefined ? { path: connectivity.path } : {};
    return { constructor: WsTransport, options: { ...common, ...(tls ? { tls } : {}), serverName: connectivity.host, ...path, ...bearer, ...reconnecting }, port: undefined, ownConnectionOnly: true };
  }
  const socket = await bindSipUdp(bind, firstPort, lastPort);
  const port = socket.address().port;
  // The TCP side for requests above 1300 bytes (RFC 3261 18.1.1), listening on the same port number when it is free.
  const server: Server | undefined = await listenSipTcp(bind, port, port).catch(() => undefined);
  return { constructor: UdpTransport, options: { ...common, socket, tcp: { ...(server ? { server } : {}), ...localPortRange } }, port, ownConnectionOnly: false };
}

/** The `proxies.proxy<N>` section of a line. */
export function proxySection(index: number): `proxies.proxy${ProxyIndex}` {
  return `proxies.proxy${index as ProxyIndex}`;
}
