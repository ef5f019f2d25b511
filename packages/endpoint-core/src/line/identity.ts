import { release, type as osType } from 'node:os';
import type { EndpointConfig } from '@sip-endpoint/config';

/** This SDK's version, as the User-Agent header names it. @public */
export const SDK_VERSION = '0.1.0';

/**
 * The User-Agent header value: the product, with the SDK version when
 * `include_sdk_version_in_user_agent_header` is 1 and the operating system when
 * `include_os_version_in_user_agent_header` is 1 (e.g. `SipEndpointSDK-Node/0.1.0 (Linux 6.1.0; Node 20.20.2)`).
 *
 * @public
 */
export function userAgentString(config: EndpointConfig, os: { type: string; release: string } = { type: osType(), release: release() }): string {
  let value = 'SipEndpointSDK-Node';
  if (config.get('policy.endpoint.include_sdk_version_in_user_agent_header')) value += `/${SDK_VERSION}`;
  if (config.get('policy.endpoint.include_os_version_in_user_agent_header')) value += ` (${os.type} ${os.release}; Node ${process.versions.node})`;
  return value;
}

/**
 * An RFC 5626 instance id (a UUID) carrying a MAC address in its node field, for
 * `include_mac_address`: `00000000-0000-1000-8000-<mac>`. Returns `undefined` for a missing or
 * malformed MAC.
 *
 * @public
 */
export function instanceIdFromMac(mac: string | undefined): string | undefined {
  const hex = mac?.toLowerCase().replace(/[:-]/g, '');
  if (!hex || !/^[0-9a-f]{12}$/.test(hex) || /^0+$/.test(hex)) return undefined;
  return `00000000-0000-1000-8000-${hex}`;
}
