import { EndpointConfig } from '@sip-endpoint/config';

/**
 * A connector-mode Softphone's configuration for the tests: the connector on `connector`, SIP on
 * 7 ports from `sip`, RTP on 50 from `rtp`, all on 127.0.0.1; Kamailio's password; no ringing file.
 */
export function connectorConfig(ports: { connector: number; sip: number; rtp: number }, settings: Record<string, string> = {}): EndpointConfig {
  return EndpointConfig.defaults().with({
    'policy.connector.port': String(ports.connector),
    'policy.endpoint.public_address': '127.0.0.1',
    'policy.endpoint.sip_port_min': String(ports.sip),
    'policy.endpoint.sip_port_max': String(ports.sip + 6),
    'policy.endpoint.rtp_port_min': String(ports.rtp),
    'policy.endpoint.rtp_port_max': String(ports.rtp + 49),
    'proxies.proxy0.password': 'secret',
    'proxies.proxy0.reg_timeout': '60',
    'system.media.ringing_file': '',
    ...settings,
  });
}
