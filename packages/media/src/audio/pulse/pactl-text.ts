import type { AudioDevice } from '@sip-endpoint/policy';

/**
 * Reading what `pactl list sinks`, `pactl list sources` and `pactl info` print.
 *
 * Why the text form and not `pactl --format=json`: Debian bookworm's pactl 16.1 has the JSON form,
 * but it cannot write a non-ASCII character (it prints "Invalid non-ASCII character" and gives the
 * description as "(null)"), and localized systems name their sound cards with accents
 * ("Audio interne Stéréo analogique"). The text form carries them as they are, and older pactl
 * versions (and PipeWire's own pactl) print it too. The children run with `LC_ALL=C`, so that the
 * headings are the English ones parsed here whatever the desktop's language.
 */

/** One sink or source as pactl describes it. */
export interface PulseDeviceInfo {
  /** The Pulse name (`alsa_output.usb-Jabra...`): the device's id. */
  name: string;
  description: string;
  kind: 'input' | 'output';
  /** A source that only repeats what a sink plays (`*.monitor`): not a microphone. */
  monitor: boolean;
  muted: boolean;
  /** The average of the channels' volumes, in percent (Pulse allows more than 100). */
  volume: number;
  /** `device.form_factor` (headset, handset, headphone, internal, webcam, ...). */
  formFactor: string | undefined;
  activePort: string | undefined;
}

/** The server's default sink and source, from `pactl info`. */
export interface PulseDefaults {
  sink: string | undefined;
  source: string | undefined;
}

/**
 * Parses the sinks (outputs) and sources (inputs) of what `pactl list` prints (or `pactl list sinks`,
 * `pactl list sources`); the other objects it lists (modules, clients, cards, ...) are skipped.
 */
export function parseDeviceList(text: string): PulseDeviceInfo[] {
  const devices: PulseDeviceInfo[] = [];
  let current: { kind: 'input' | 'output'; fields: Map<string, string>; properties: Map<string, string> } | undefined;
  const finish = (): void => {
    if (!current) return;
    const device = toInfo(current.fields, current.properties, current.kind);
    if (device) devices.push(device);
    current = undefined;
  };
  for (const line of text.split('\n')) {
    // A heading at the start of a line (`Sink #3`, `Module #12`) begins the next object.
    if (/^\S/.test(line)) {
      finish();
      const heading = /^(Sink|Source) #\d+\s*$/.exec(line);
      if (heading) current = { kind: heading[1] === 'Sink' ? 'output' : 'input', fields: new Map(), properties: new Map() };
      continue;
    }
    if (!current) continue;
    // A property: two tabs, `key = "value"` (pactl escapes only the double quote).
    const property = /^\t\t([\w.-]+) = "(.*)"\s*$/.exec(line);
    if (property) {
      current.properties.set(property[1]!, property[2]!.replace(/\\"/g, '"'));
      continue;
    }
    // A field of the device: one tab, `Key: value` (the value may be empty, as `Ports:` is).
    const field = /^\t([A-Z][\w ]*):(?: (.*))?$/.exec(line);
    if (field) current.fields.set(field[1]!, field[2] ?? '');
  }
  finish();
  return devices;
}

function toInfo(fields: Map<string, string>, properties: Map<string, string>, kind: 'input' | 'output'): PulseDeviceInfo | undefined {
  const name = fields.get('Name');
  if (!name) return undefined;
  const monitorOf = fields.get('Monitor of Sink');
  return {
    name,
    description: fields.get('Description') || properties.get('device.description') || name,
    kind,
    monitor: kind === 'input' && ((monitorOf !== undefined && monitorOf !== 'n/a') || properties.get('device.class') === 'monitor'),
    muted: fields.get('Mute') === 'yes',
    volume: averagePercent(fields.get('Volume') ?? ''),
    formFactor: properties.get('device.form_factor'),
    activePort: fields.get('Active Port') || undefined,
  };
}

/** `front-left: 65536 / 100% / 0.00 dB,   front-right: 32768 / 50% / -18.06 dB` -> 75. */
function averagePercent(volume: string): number {
  const percents = [...volume.matchAll(/\/\s*(\d+)%/g)].map((match) => Number(match[1]));
  if (percents.length === 0) return 100;
  return Math.round(percents.reduce((sum, value) => sum + value, 0) / percents.length);
}

/** Parses `pactl info` for `Default Sink:` and `Default Source:`. */
export function parseDefaults(text: string): PulseDefaults {
  const value = (heading: string): string | undefined => {
    const match = new RegExp(`^${heading}: (.+)$`, 'm').exec(text);
    const found = match?.[1]?.trim();
    return found && found !== '(null)' && found !== 'n/a' ? found : undefined;
  };
  return { sink: value('Default Sink'), source: value('Default Source') };
}

/**
 * The form factors and ports that make a device a headset for the policy's `headset_name = *`:
 * what the system knows (a USB headset says `device.form_factor = "headset"`, a laptop's combo
 * jack has a `headset` port). Headphones alone have no microphone and are not headsets. When the
 * system does not say, `headset` is left out, and the policy looks for "headset" in the name.
 */
function isHeadset(info: PulseDeviceInfo): boolean | undefined {
  if (info.formFactor === 'headset' || info.formFactor === 'handset') return true;
  if (info.activePort !== undefined && /headset/i.test(info.activePort)) return true;
  return undefined;
}

/**
 * The devices for the policy, in the provider's priority order: the default output and input
 * first, then the others in the server's order. Monitor sources are left out: they are what a
 * speaker plays, not a microphone.
 */
export function toAudioDevices(infos: readonly PulseDeviceInfo[], defaults: PulseDefaults): AudioDevice[] {
  const devices: AudioDevice[] = [];
  const add = (infos: readonly PulseDeviceInfo[], defaultName: string | undefined): void => {
    const present = infos.filter((info) => !info.monitor);
    const ordered = [...present.filter((info) => info.name === defaultName), ...present.filter((info) => info.name !== defaultName)];
    for (const info of ordered) {
      const device: AudioDevice = { id: info.name, name: info.description, kind: info.kind };
      const headset = isHeadset(info);
      if (headset !== undefined) device.headset = headset;
      if (info.name === defaultName) device.systemDefault = true;
      devices.push(device);
    }
  };
  add(infos.filter((info) => info.kind === 'output'), defaults.sink);
  add(infos.filter((info) => info.kind === 'input'), defaults.source);
  return devices;
}

/** One line of `pactl subscribe`: `Event 'new' on sink #4`. */
export interface PulseEvent {
  type: 'new' | 'change' | 'remove';
  facility: string;
  index: number;
}

export function parseEvent(line: string): PulseEvent | undefined {
  const match = /^Event '(new|change|remove)' on ([\w-]+) #(\d+)\s*$/.exec(line);
  if (!match) return undefined;
  return { type: match[1] as PulseEvent['type'], facility: match[2]!, index: Number(match[3]) };
}
