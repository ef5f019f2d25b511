import type { EndpointConfig } from '@sip-endpoint/config';
import type { ConnectionState, Line } from '@sip-endpoint/endpoint-core';
import { DefaultPolicy } from '@sip-endpoint/policy';
import { PortAllocator, VirtualAudioProvider } from '@sip-endpoint/media';
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
  return {
    config,
    policy: new DefaultPolicy(),
    devices: new VirtualAudioProvider(),
    logger,
    address,
    ports: new PortAllocator(config.get('policy.endpoint.rtp_port_min'), config.get('policy.endpoint.rtp_port_max')),
    minSessionExpires: 90,
    mediaDir: process.cwd(),
    selection: () => undefined,
    snapshots: () => [],
    log: () => undefined,
  };
}
