import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { EndpointConfig } from '@sip-endpoint/config';
import type { StunAddress } from '@sip-endpoint/media';
import { proxySection } from '../line/line-transport';
import { readTlsSettings, tlsClientOptions } from '../transport/tls-settings';

/** A line's TURN server, as the ICE agent takes it. */
export interface TurnServerSettings {
  server: StunAddress;
  /** The server as configured (a name, or an address): what a TLS certificate must name. */
  host: string;
  username: string;
  password: string;
  transport: 'udp' | 'tcp' | 'tls';
  /** Over TLS: the server's certificate checked as SIP over TLS checks its server's. */
  tls?: ConnectionOptions;
}

const RELAY_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;

/** Looks a server up when it is a name; undefined (logged) when it does not resolve. */
async function addressOf(host: string, port: number, what: string, log: (level: number, message: string) => void): Promise<StunAddress | undefined> {
  if (isIP(host) !== 0) return { address: host, port };
  try {
    const { address } = await lookup(host);
    return { address, port };
  } catch (error) {
    log(2, `the ${what} server ${host} does not resolve (${(error as Error).message})`);
    return undefined;
  }
}

/**
 * The TURN server of a line (`nat.turn_server`, `turn_server_port`, `turn_user_name`,
 * `turn_password`, `turn_relay_type` 0 UDP, 1 TCP or 2 TLS), its name looked up; undefined when
 * there is none, it does not resolve, or (TLS) the TLS settings cannot be read (logged: the call
 * then has no relayed candidate). Over TLS the server's certificate is checked against the name
 * configured (`tls-target-name-check`) and the authorities SIP over TLS trusts.
 */
export async function turnServerOf(config: EndpointConfig, line: number, log: (level: number, message: string) => void): Promise<TurnServerSettings | undefined> {
  const section = proxySection(line);
  const host = config.get(`${section}.nat.turn_server`).trim();
  if (host === '') return undefined;
  const server = await addressOf(host, config.get(`${section}.nat.turn_server_port`), 'TURN', log);
  if (!server) return undefined;
  const transport = RELAY_TRANSPORTS[config.get(`${section}.nat.turn_relay_type`)];
  const found = { server, host, username: config.get(`${section}.nat.turn_user_name`), password: config.get(`${section}.nat.turn_password`), transport };
  if (transport !== 'tls') return found;
  try {
    return { ...found, tls: tlsClientOptions(readTlsSettings(config), host) };
  } catch (error) {
    log(2, `no TURN over TLS: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * The STUN server of a line (`nat.stun_server`, `nat.stun_server_port`), its name looked up when
 * it is not an address; undefined when there is none or the name does not resolve (logged: the
 * call then offers its host candidate alone).
 */
export async function stunServerOf(config: EndpointConfig, line: number, log: (level: number, message: string) => void): Promise<StunAddress | undefined> {
  const section = proxySection(line);
  const host = config.get(`${section}.nat.stun_server`).trim();
  if (host === '') return undefined;
  return addressOf(host, config.get(`${section}.nat.stun_server_port`), 'STUN', log);
}

/**
 * The `iceServers` of a WebRTC call's `RTCPeerConnection`, from the same nat settings as the
 * native path: `stun:` from `nat.stun_server`, `turn:` (with `?transport=tcp` for
 * `turn_relay_type` 1; `turns:` and `?transport=tcp` for 2, TLS) from `nat.turn_server` with its
 * user name and password. Names are looked
 * up first; one that does not resolve is left out (logged).
 */
export async function iceServersOf(config: EndpointConfig, line: number, log: (level: number, message: string) => void): Promise<{ urls: string; username?: string; credential?: string }[]> {
  const [stun, turn] = await Promise.all([stunServerOf(config, line, log), turnServerOf(config, line, log)]);
  const hostPort = (server: StunAddress): string => `${server.address.includes(':') ? `[${server.address}]` : server.address}:${server.port}`;
  const servers: { urls: string; username?: string; credential?: string }[] = [];
  if (stun) servers.push({ urls: `stun:${hostPort(stun)}` });
  // turns: names the server as configured, so that libwebrtc checks its certificate by that name.
  const tlsHost = (turn: TurnServerSettings): string => `${turn.host.includes(':') ? `[${turn.host}]` : turn.host}:${turn.server.port}`;
  if (turn) servers.push({ urls: turn.transport === 'tls' ? `turns:${tlsHost(turn)}?transport=tcp` : `turn:${hostPort(turn.server)}${turn.transport === 'tcp' ? '?transport=tcp' : ''}`, username: turn.username, credential: turn.password });
  return servers;
}
