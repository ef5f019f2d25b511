import type { GuiTab } from '@sip-endpoint/config';
import type { Call, Endpoint } from '@sip-endpoint/endpoint-core';
import type { AudioDeviceProvider } from '@sip-endpoint/media';
import type { CallState, ConnectionState } from '@sip-endpoint/policy';

/** A device as the page's Devices tab shows it. @public */
export interface GuiDevice {
  id: string;
  name: string;
  headset: boolean;
  selected: boolean;
  volume: number | undefined;
  muted: boolean | undefined;
}

/** A call as a phone line of the page's Calls tab shows it. @public */
export interface GuiCall {
  id: string;
  /** The phone line (1 to `gui_call_lines`) the call sits on, or undefined when every line is taken. */
  slot: number | undefined;
  line: number;
  direction: 'incoming' | 'outgoing';
  kind: 'voice' | 'im';
  state: CallState;
  remote: string;
  /** When it connected (ms since the epoch, the server's clock), for the duration. */
  connectedAt: number | undefined;
  heldBy: 'local' | 'remote' | 'both' | undefined;
  muted: boolean;
  codec: string | undefined;
  mos: number | undefined;
  jitterMs: number | undefined;
  vqAlarm: boolean;
}

/**
 * Everything the Softphone's page shows, as its `state` event carries it (this SDK's extension of
 * the Connector API; see docs/connector-gui.md).
 *
 * @public
 */
export interface GuiState {
  /** `gui_tabs`, in its order. */
  tabs: GuiTab[];
  /** `gui_call_lines`. */
  callLines: number;
  /** The server's clock when the state was taken (ms since the epoch). */
  now: number;
  /** `standalone` or `connector`; whether a desktop holds the client session. */
  mode: 'standalone' | 'connector';
  inSession: boolean;
  /** The session status of the Connector API (`Unknown` before an endpoint runs). */
  status: string;
  /** One per SIP line. */
  connections: { index: number; user: string; server: string; state: ConnectionState | 'NONE'; reason: string | undefined }[];
  calls: GuiCall[];
  microphones: GuiDevice[];
  speakers: GuiDevice[];
  headsetUsed: boolean;
  /** The call MOS of the session model (the last call's), and whether the VQ alarm is raised. */
  mos: number | undefined;
  vqAlarm: boolean;
}

/**
 * The phone lines of the Calls tab: a call keeps its line from its first appearance to its end;
 * a new call takes the lowest free one. Calls beyond `gui_call_lines` wait without a line.
 */
export class CallSlots {
  readonly #slots = new Map<string, number>();

  assign(calls: readonly Call[], lines: number): Map<string, number> {
    const live = new Set(calls.map((call) => call.id));
    for (const id of [...this.#slots.keys()]) if (!live.has(id)) this.#slots.delete(id);
    const used = new Set(this.#slots.values());
    for (const call of calls) {
      if (this.#slots.has(call.id)) continue;
      for (let slot = 1; slot <= lines; slot++) {
        if (used.has(slot)) continue;
        this.#slots.set(call.id, slot);
        used.add(slot);
        break;
      }
    }
    return this.#slots;
  }
}

function devices(provider: AudioDeviceProvider, kind: 'input' | 'output', selected: string | undefined): GuiDevice[] {
  return provider
    .list()
    .filter((device) => device.kind === kind)
    .map((device) => {
      let volume: number | undefined;
      let muted: boolean | undefined;
      try {
        volume = provider.getVolume(device.id);
        muted = provider.isMuted(device.id);
      } catch {
        // A device that went away between list() and here.
      }
      return { id: device.id, name: device.name, headset: device.headset === true || /headset/i.test(device.name), selected: device.id === selected, volume, muted };
    });
}

/** The page's state from the softphone's endpoint (or its configuration, before one runs). */
export function guiState(input: {
  tabs: GuiTab[];
  callLines: number;
  mode: 'standalone' | 'connector';
  inSession: boolean;
  endpoint: Endpoint | undefined;
  devices: AudioDeviceProvider;
  slots: CallSlots;
  connectedAt: ReadonlyMap<string, number>;
}): GuiState {
  const endpoint = input.endpoint;
  const session = endpoint?.session();
  const calls = (endpoint?.calls ?? []).filter((call) => call.state !== 'DISCONNECTED');
  const slots = input.slots.assign(calls, input.callLines);
  const selection = endpoint?.selectedDevices;
  return {
    tabs: input.tabs,
    callLines: input.callLines,
    now: Date.now(),
    mode: input.mode,
    inSession: input.inSession,
    status: session?.status ?? 'Unknown',
    connections: (session?.connectivities.connections ?? []).map((connection, index) => ({ index, user: connection.user, server: connection.server, state: connection.state, reason: connection.reason })),
    calls: calls.map((call) => {
      const info = call.info();
      return {
        id: info.id,
        slot: slots.get(info.id),
        line: info.line,
        direction: info.direction,
        kind: info.kind,
        state: info.state,
        remote: info.remote,
        connectedAt: input.connectedAt.get(info.id),
        heldBy: info.heldBy,
        muted: info.muted,
        codec: info.codec,
        mos: info.quality?.mos,
        jitterMs: info.quality?.jitterMs,
        vqAlarm: info.quality?.vqAlarm ?? false,
      };
    }),
    microphones: devices(input.devices, 'input', selection?.input?.id),
    speakers: devices(input.devices, 'output', selection?.output?.id),
    headsetUsed: session?.devices.headset_used ?? false,
    mos: session?.phone.local_mos,
    vqAlarm: session?.phone.vq_alarm_on ?? false,
  };
}
