import type { CallSnapshot, CallState } from '@sip-endpoint/policy';
import { readWav, resolveMediaFile, Ringer, TonePlayer } from '@sip-endpoint/media';
import type { EndpointContext } from '../endpoint-context';

/** What the tones follow: a call's state and its changes. */
interface TonedCall {
  readonly state: CallState;
  on(event: 'stateChanged', listener: (state: CallState, previous: CallState) => void): unknown;
  off(event: 'stateChanged', listener: (state: CallState, previous: CallState) => void): unknown;
}

/**
 * Rings for an incoming call as the policy's ringing plan says (ringtone, call-waiting tone, on
 * which devices), until the call is answered or ends.
 */
export async function ringForIncoming(call: TonedCall, others: CallSnapshot[], context: EndpointContext): Promise<void> {
  const selection = context.selection();
  if (!selection) return;
  try {
    const plan = await context.policy.ringingPlan({ config: context.config, devices: context.devices.list(), calls: others, selection });
    if (plan.sound === 'none' || call.state !== 'RINGING') return;
    const ringer = await Ringer.start(plan, context.devices, { baseDir: context.mediaDir, onError: (error) => context.log(2, 'endpoint', `ringing: ${error.message}`) });
    if (call.state !== 'RINGING') {
      if (call.state === 'CONNECTED') ringer.answered();
      else ringer.stop();
      return;
    }
    const follow = (state: CallState): void => {
      if (state === 'RINGING') return;
      if (state === 'CONNECTED') ringer.answered();
      else ringer.stop();
      call.off('stateChanged', follow);
    };
    call.on('stateChanged', follow);
  } catch (error) {
    context.log(2, 'endpoint', `ringing failed: ${(error as Error).message}`);
  }
}

/**
 * Local ringback while an outgoing call alerts (`ringback_enabled`): the `ringback_file`, looped
 * on the selected speaker, for mode 2, and for 3 and 6 when the provisional response brought no
 * early media; it stops when the call is answered or ends. Returns whether it started one.
 */
export function startRingback(call: TonedCall, earlyMedia: boolean, context: EndpointContext): boolean {
  const mode = context.config.get('policy.session.ringback_enabled');
  const file = context.config.get('policy.session.ringback_file');
  const output = context.selection()?.output;
  if (!(mode === 2 || ((mode === 3 || mode === 6) && !earlyMedia)) || !file || !output) return false;
  const path = resolveMediaFile(file, context.mediaDir);
  const alerting = (state: CallState): boolean => state === 'ALERTING' || state === 'IN_PROGRESS';
  void readWav(path)
    .then((audio) => {
      if (!alerting(call.state)) return;
      const player = new TonePlayer(context.devices.openOutput(output.id, audio.sampleRate), audio, { loop: true });
      const follow = (state: CallState): void => {
        if (alerting(state)) return;
        player.stop();
        call.off('stateChanged', follow);
      };
      call.on('stateChanged', follow);
    })
    .catch((error: Error) => context.log(2, 'endpoint', `ringback: ${error.message}`));
  return true;
}
