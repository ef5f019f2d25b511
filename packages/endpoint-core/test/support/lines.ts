import { EndpointConfig } from '@sip-endpoint/config';
import { testPorts } from '@sip-endpoint/test-support';
import type { ConnectionState, Line } from '@sip-endpoint/endpoint-core';
import { DefaultPolicy } from '@sip-endpoint/policy';
import { generateDtlsCertificate, PortAllocator, VirtualAudioProvider } from '@sip-endpoint/media';
import { DeviceKeeper } from '../../src/media/device-keeper';
import type { EndpointContext } from '../../src/endpoint-context';
import { DiagnosticsLogger } from '../../src/logging/diagnostics-logger';

/** The states a line goes through from now on. */
export function states(line: Line): ConnectionState[] {
  const seen: ConnectionState[] = [];
  line.on('stateChanged', (state) => seen.push(state));
  return seen;
}

/** Waits until the line is in `state`; fails with the state it stayed in, and why. */
export async function until(line: Line, state: ConnectionState, ms = 5000): Promise<void> {
  if (line.state === state) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`line stayed ${line.state} (${line.reason ?? ''}), never ${state}`)), ms);
    line.on('stateChanged', (now) => {
      if (now === state) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/**
 * What an endpoint gives its lines, for tests that make a Line alone (registration, transports):
 * the specification's policy, virtual devices, a silent log, 127.0.0.1 and RTP ports from the
 * configuration.
 */
export function lineContext(config: EndpointConfig, address = '127.0.0.1'): EndpointContext {
  const logger = DiagnosticsLogger.fromConfig(config, { sink: () => undefined });
  const devices = new VirtualAudioProvider();
  return {
    config,
    policy: new DefaultPolicy(),
    devices,
    processDeviceAudio: false,
    deviceKeeper: new DeviceKeeper(devices, { releaseDelayMs: 0, keepOpen: { input: false, output: false }, keepOpenRate: 16000, log: () => undefined }),
    logger,
    address,
    ports: new PortAllocator(config.get('policy.endpoint.rtp_port_min'), config.get('policy.endpoint.rtp_port_max')),
    minSessionExpires: 90,
    mediaDir: process.cwd(),
    srtpKeying: 'sdes',
    udpKeepAliveS: 0,
    accessToken: () => undefined,
    dtlsCertificate: () => generateDtlsCertificate(),
    selection: () => undefined,
    snapshots: () => [],
    log: () => undefined,
  };
}

/**
 * The configuration of one registering line for tests against a registrar: `user` with password
 * `secret`, reg_timeout 60, no retry timer, SIP listening ports (7) and TCP client ports (10) from
 * this jest worker's range, with `settings` on top.
 */
export function registeringLineConfig(user: string, protocol: string, server: string, settings: Record<string, string> = {}): { config: EndpointConfig; sipPorts: { min: number; max: number }; tcpPorts: { min: number; max: number } } {
  const sip = testPorts(7);
  const tcp = testPorts(10);
  const sipPorts = { min: sip, max: sip + 6 };
  const tcpPorts = { min: tcp, max: tcp + 9 };
  const config = EndpointConfig.defaults().with({
    'user:0': user,
    'server:0': server,
    'protocol:0': protocol,
    'proxies.proxy0.reg_timeout': '60',
    'proxies.proxy0.password': 'secret',
    'proxies.proxy0.reg_interval': '0',
    'policy.endpoint.sip_port_min': String(sipPorts.min),
    'policy.endpoint.sip_port_max': String(sipPorts.max),
    'policy.endpoint.tcp_port_min': String(tcpPorts.min),
    'policy.endpoint.tcp_port_max': String(tcpPorts.max),
    ...settings,
  });
  return { config, sipPorts, tcpPorts };
}
