import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { EndpointConfig } from '@sip-endpoint/config';
import type { StunAddress } from '@sip-endpoint/media';
import { proxySection } from '../line/line-transport';

/**
 * The STUN server of a line (`nat.stun_server`, `nat.stun_server_port`), its name looked up when
 * it is not an address; undefined when there is none or the name does not resolve (logged: the
 * call then offers its host candidate alone).
 */
export async function stunServerOf(config: EndpointConfig, line: number, log: (level: number, message: string) => void): Promise<StunAddress | undefined> {
  const section = proxySection(line);
  const host = config.get(`${section}.nat.stun_server`).trim();
  if (host === '') return undefined;
  const port = config.get(`${section}.nat.stun_server_port`);
  if (isIP(host) !== 0) return { address: host, port };
  try {
    const { address } = await lookup(host);
    return { address, port };
  } catch (error) {
    log(2, `the STUN server ${host} does not resolve (${(error as Error).message}): no server-reflexive candidate`);
    return undefined;
  }
}
