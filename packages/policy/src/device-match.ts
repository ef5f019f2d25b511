import type { AudioDevice } from './audio-device';

/**
 * Whether a configured device name matches a device: the proper name (or a part of it, ignoring
 * case), or a regular expression (searched, ignoring case). An empty pattern matches nothing.
 *
 * @remarks
 * Proper names often hold characters that mean something in a regular expression
 * (`Microphone Array (Realtek(R) Audio)`), so the literal comparison comes first.
 *
 * @public
 */
export function deviceNameMatches(pattern: string, name: string): boolean {
  if (pattern === '') return false;
  if (name.toLowerCase().includes(pattern.toLowerCase())) return true;
  try {
    return new RegExp(pattern, 'i').test(name);
  } catch {
    return false; // not a regular expression: the literal comparison was all
  }
}

/** The first device of a kind, in provider order, that a pattern matches. */
export function firstMatching(devices: readonly AudioDevice[], kind: AudioDevice['kind'], pattern: string, excluded?: (device: AudioDevice) => boolean): AudioDevice | undefined {
  return devices.find((device) => device.kind === kind && !(excluded?.(device) ?? false) && deviceNameMatches(pattern, device.name));
}

/** The system default device of a kind: the one flagged so, else the first of its kind. @public */
export function systemDefaultDevice(devices: readonly AudioDevice[], kind: AudioDevice['kind']): AudioDevice | null {
  return devices.find((device) => device.kind === kind && device.systemDefault === true) ?? devices.find((device) => device.kind === kind) ?? null;
}
