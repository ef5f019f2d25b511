import type { EndpointConfig } from '@sip-endpoint/config';
import type { AudioDevice, DeviceSelection } from './audio-device';
import { deviceNameMatches, firstMatching, systemDefaultDevice } from './device-match';

/** What {@link selectDevices} decides from. @public */
export interface DeviceContext {
  config: EndpointConfig;
  /** Present devices, in the provider's order. */
  devices: readonly AudioDevice[];
}

const HEADSET_WORD = /headset/i;

/**
 * Chooses the microphone, speaker and ringer, and says whether a headset is available, by the
 * specification's device selection rules.
 *
 * @remarks
 * With `use_headset` = 1, each `headset_name` in file order (a name or regular expression; `*` is
 * any headset the provider flags, or whose name says "headset"; empty matches nothing) is looked for
 * among inputs and outputs; a headset is available when one pattern matches both an input and an
 * output. Then the `include_headset` pairs are tried. A device matching `exclude_headset` never
 * counts as a headset part, but stays selectable as a fallback. With `use_headset` = 0 the first
 * present `audio_in_device` and `audio_out_device` are taken, in file order. Whatever is not found
 * falls back to the first device of its kind in provider order.
 *
 * @public
 */
export function selectDevices(ctx: DeviceContext): DeviceSelection {
  const { config, devices } = ctx;
  const ringer = firstOf(devices, 'output', config.get('policy.device.ringer_device'));
  const fallbackInput = systemDefaultDevice(devices, 'input');
  const fallbackOutput = systemDefaultDevice(devices, 'output');

  if (config.get('policy.device.use_headset')) {
    const headset = findHeadset(ctx);
    if (headset) return { ...headset, ringer, headsetAvailable: true };
    return {
      input: fallbackInput,
      output: fallbackOutput,
      ringer,
      headsetAvailable: false,
      reason: 'no headset named by headset_name or include_headset is present; the first devices in provider order are used',
    };
  }

  const input = firstOf(devices, 'input', config.get('policy.device.audio_in_device'));
  const output = firstOf(devices, 'output', config.get('policy.device.audio_out_device'));
  return {
    input: input ?? fallbackInput,
    output: output ?? fallbackOutput,
    ringer,
    headsetAvailable: false,
    reason: `${input ? `audio_in_device matches ${input.name}` : 'no configured microphone is present, the first is used'}; ${output ? `audio_out_device matches ${output.name}` : 'no configured speaker is present, the first is used'}`,
  };
}

/**
 * The headset `headset_name` and `include_headset` name, if one is present: the first pattern (in
 * file order) that matches both an input and an output, then the first `include_headset` pair;
 * devices matching `exclude_headset` are never headset parts. Looks whatever `use_headset` says.
 *
 * @public
 */
export function findHeadset(ctx: DeviceContext): { input: AudioDevice; output: AudioDevice; reason: string } | undefined {
  const { config, devices } = ctx;
  const exclude = config.get('policy.device.exclude_headset');
  // An empty exclude_headset matches nothing, as every empty pattern.
  const excluded = (device: AudioDevice): boolean => deviceNameMatches(exclude, device.name);
  for (const pattern of config.get('policy.device.headset_name')) {
    const matches = (kind: AudioDevice['kind']): AudioDevice | undefined =>
      pattern === '*'
        ? devices.find((device) => device.kind === kind && !excluded(device) && (device.headset ?? HEADSET_WORD.test(device.name)))
        : firstMatching(devices, kind, pattern, excluded);
    const input = matches('input');
    const output = matches('output');
    if (input && output) return { input, output, reason: `headset_name "${pattern}" matches ${input.name} and ${output.name}` };
  }
  for (const pair of config.get('policy.device.include_headset')) {
    const input = firstMatching(devices, 'input', pair.input, excluded);
    const output = firstMatching(devices, 'output', pair.output, excluded);
    if (input && output) return { input, output, reason: `include_headset "${pair.input}:${pair.output}" matches ${input.name} and ${output.name}` };
  }
  return undefined;
}

/** The first present device of a kind matched by the first pattern (in priority order) that matches any. */
function firstOf(devices: readonly AudioDevice[], kind: AudioDevice['kind'], patterns: readonly string[]): AudioDevice | null {
  for (const pattern of patterns) {
    const found = firstMatching(devices, kind, pattern);
    if (found) return found;
  }
  return null;
}
