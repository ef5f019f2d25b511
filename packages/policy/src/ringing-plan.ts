import { isActiveCall, isHeldCall } from './call-snapshot';
import { systemDefaultDevice } from './device-match';
import type { RingingContext, RingingOutput, RingingPlan } from './endpoint-policy';

/** Nothing plays. */
function none(reason: string): RingingPlan {
  return { sound: 'none', outputs: [], loop: false, timeoutMs: null, stopOnAnswer: true, reason };
}

/** Keeps the first output per device and drops those without a file. */
function distinct(outputs: RingingOutput[]): RingingOutput[] {
  const seen = new Set<string>();
  return outputs.filter((output) => {
    if (output.file === '') return false;
    const id = output.device?.id ?? `none:${output.target}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * How a new incoming call announces itself, by `ringing_enabled`, `ringing_timeout`,
 * `ringing_while_call_held` and `callwait_tone_enabled`.
 *
 * @remarks
 * - Another call active: the call-waiting tone (`callwait_tone_file`) on the communication device
 *   when `callwait_tone_enabled` = 1, else nothing.
 * - Only held calls: the ringtone when `ringing_while_call_held` = 1 (held calls are not active),
 *   else the call-waiting tone as above.
 * - Otherwise `ringing_enabled`: 0 nothing; 1 the system default device with `system.media.ringing_file`;
 *   2 the communication device with `policy.session.ringing_file`; 3 both; 4 the `ringer_device`
 *   (with `system.media.ringing_file`); 5 system default and ringer; 6 the communication device once
 *   through; 7 system default and communication device once through. 1 to 5 loop for
 *   `ringing_timeout` seconds (0: until answered) and stop on answer; 6 and 7 ignore the timeout and
 *   do not stop on answer. A device met twice plays once; an empty file plays nothing there.
 *
 * @public
 */
export function ringingPlan(ctx: RingingContext): RingingPlan {
  const { config, selection, devices } = ctx;
  const communication: RingingOutput = { target: 'communication', device: selection.output, file: config.get('policy.session.ringing_file') };
  const systemDefault: RingingOutput = { target: 'system-default', device: systemDefaultDevice(devices, 'output'), file: config.get('system.media.ringing_file') };
  const ringer: RingingOutput = { target: 'ringer', device: selection.ringer, file: config.get('system.media.ringing_file') };

  const callWaiting = (why: string): RingingPlan => {
    if (!config.get('policy.session.callwait_tone_enabled')) return none(`${why}; callwait_tone_enabled is 0`);
    const outputs = distinct([{ target: 'communication', device: selection.output, file: config.get('policy.session.callwait_tone_file') }]);
    return { sound: outputs.length > 0 ? 'callwait' : 'none', outputs, loop: true, timeoutMs: null, stopOnAnswer: true, reason: `${why}: call-waiting tone` };
  };

  if (ctx.calls.some(isActiveCall)) return callWaiting('another call is active');
  if (ctx.calls.some(isHeldCall) && !config.get('policy.session.ringing_while_call_held')) return callWaiting('a call is held and ringing_while_call_held is 0');

  const mode = config.get('policy.session.ringing_enabled');
  const timeoutSeconds = config.get('policy.session.ringing_timeout');
  const timed = (outputs: RingingOutput[]): RingingPlan => ({
    sound: 'ringtone',
    outputs: distinct(outputs),
    loop: true,
    timeoutMs: timeoutSeconds > 0 ? timeoutSeconds * 1000 : null,
    stopOnAnswer: true,
    reason: `ringing_enabled ${mode}`,
  });
  const once = (outputs: RingingOutput[]): RingingPlan => ({
    sound: 'ringtone',
    outputs: distinct(outputs),
    loop: false,
    timeoutMs: null,
    stopOnAnswer: false,
    reason: `ringing_enabled ${mode}: once through, ringing_timeout ignored`,
  });
  switch (mode) {
    case 0:
      return none('ringing_enabled is 0');
    case 1:
      return timed([systemDefault]);
    case 2:
      return timed([communication]);
    case 3:
      return timed([systemDefault, communication]);
    case 4:
      return timed([ringer]);
    case 5:
      return timed([systemDefault, ringer]);
    case 6:
      return once([communication]);
    case 7:
      return once([systemDefault, communication]);
  }
}

