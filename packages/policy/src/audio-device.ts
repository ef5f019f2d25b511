/**
 * An audio device as a device provider lists it. Providers list devices in their own priority
 * order (the first input and the first output are the system's defaults); the policy keeps that order.
 *
 * @public
 */
export interface AudioDevice {
  /** Stable identifier within the provider. */
  id: string;
  /** The name shown to people, matched by `headset_name`, `audio_in_device`, ... */
  name: string;
  /** `input` (microphone) or `output` (speaker). */
  kind: 'input' | 'output';
  /**
   * The provider knows this device is a headset (a form factor it reads from the system).
   * Without it, a device whose name says "headset" counts as one for `headset_name = *`.
   */
  headset?: boolean;
  /** The system's default device of its kind; without any, the first of its kind in list order is. */
  systemDefault?: boolean;
}

/**
 * The devices chosen for calls and ringing, and whether a headset is available.
 *
 * @public
 */
export interface DeviceSelection {
  /** Microphone for calls; `null` when no input device is present. */
  input: AudioDevice | null;
  /** Speaker for calls (the "communication device"); `null` when no output device is present. */
  output: AudioDevice | null;
  /** Separate ringer (`ringer_device`), when configured and present. */
  ringer: AudioDevice | null;
  /** True when `use_headset` = 1 and a headset named by `headset_name` or `include_headset` is present. */
  headsetAvailable: boolean;
  /** Why these devices were chosen, in a sentence. */
  reason: string;
}
