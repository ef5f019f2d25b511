import { EndpointConfig, type ConfigOverrides } from '@sip-endpoint/config';
import type { AnswerContext, AudioDevice, CallSnapshot } from '@sip-endpoint/policy';

/** A configuration: the defaults with these settings (short keys are `section.setting` of policy). */
export function config(settings: Record<string, string | string[]> = {}): EndpointConfig {
  const overrides: ConfigOverrides = {};
  for (const [key, value] of Object.entries(settings)) overrides[key.split('.').length === 2 ? `policy.${key}` : key] = value;
  return EndpointConfig.defaults().with(overrides);
}

let next = 0;
export function mic(name: string, extra: Partial<AudioDevice> = {}): AudioDevice {
  return { id: `in-${++next}`, name, kind: 'input', ...extra };
}
export function speaker(name: string, extra: Partial<AudioDevice> = {}): AudioDevice {
  return { id: `out-${++next}`, name, kind: 'output', ...extra };
}

/** A laptop with built-in devices (listed first, as providers do) and a Jabra headset. */
export const builtIn = [mic('Microphone Array (Realtek(R) Audio)'), speaker('Speakers (Realtek(R) Audio)')];
export const jabra = [mic('Headset Microphone (Jabra EVOLVE 20 MS)'), speaker('Headset Earphone (Jabra EVOLVE 20 MS)')];

export function answerContext(overrides: Partial<AnswerContext> & { config: EndpointConfig }): AnswerContext {
  return { devices: [], calls: [], headers: {}, line: 0, ...overrides };
}

export function call(state: CallSnapshot['state'], id = `call-${++next}`): CallSnapshot {
  return { id, line: 0, state, direction: 'incoming' };
}
