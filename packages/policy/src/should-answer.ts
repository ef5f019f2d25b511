import type { DeviceSelection } from './audio-device';
import type { AnswerContext, AnswerDecision, CallPermission, OutgoingCallContext, PolicyContext } from './endpoint-policy';
import { autoAnswerRequest } from './headers';
import { selectDevices } from './select-devices';

/**
 * True when the specification rejects calls for want of a headset: `use_headset` = 1,
 * `reject_session_when_headset_na` = 1 and no headset present. A fallback device does not help.
 */
function headsetRejection(ctx: PolicyContext, selection: DeviceSelection): boolean {
  return ctx.config.get('policy.device.use_headset') && ctx.config.get('policy.session.reject_session_when_headset_na') && !selection.headsetAvailable;
}

/** Why auto-answer is blocked, or `undefined` when it is not. */
function autoAnswerBlock(ctx: PolicyContext, selection: DeviceSelection): string | undefined {
  if (ctx.config.get('policy.device.use_headset')) {
    return selection.headsetAvailable ? undefined : 'use_headset is 1 and no headset is present';
  }
  if (!selection.input || !selection.output) return `no usable ${selection.input ? 'speaker' : 'microphone'} is present`;
  return undefined;
}

/**
 * The specification's `should_answer`, in this order:
 * 1. reject with `sip_code_when_headset_na` when `use_headset` = 1, `reject_session_when_headset_na` = 1
 *    and no headset is present;
 * 2. reject with `sip_code_when_busy` when `reject_session_when_busy` = 1 and at least
 *    `number_sessions_for_busy` calls are active or held;
 * 3. answer automatically when `auto_answer` = 1 or the INVITE asks for it (`Alert-Info` with
 *    `info=alert-autoanswer` / `info=auto-answer`, or `answer-after=N` on `Alert-Info` or `Call-Info`),
 *    after `answer-after` seconds or else `auto_answer_delay`, unless auto-answer is blocked
 *    (headset required and absent, or no usable microphone or speaker): then it rings;
 * 4. otherwise it rings (a manual answer is possible).
 *
 * An instant-messaging session (`ctx.kind` `im`) carries no audio: the headset and device rules
 * (1, and what blocks auto-answer in 3) do not apply to it, and the busy rule (2) counts the
 * other IM sessions only, as voice calls count voice calls only.
 *
 * @public
 */
export function shouldAnswer(ctx: AnswerContext, selection: DeviceSelection = selectDevices(ctx)): AnswerDecision {
  const { config } = ctx;
  const im = ctx.kind === 'im';
  if (!im && headsetRejection(ctx, selection)) {
    return { answer: false, sipCode: config.get('policy.session.sip_code_when_headset_na'), reason: 'use_headset and reject_session_when_headset_na are 1 and no headset is present' };
  }
  if (config.get('policy.session.reject_session_when_busy')) {
    const limit = config.get('policy.session.number_sessions_for_busy');
    const busy = ctx.calls.filter((call) => (call.kind === 'im') === im).length;
    if (busy >= limit) {
      return { answer: false, sipCode: config.get('policy.session.sip_code_when_busy'), reason: `${busy} ${im ? 'IM session' : 'call'}(s) in progress; busy from ${limit}` };
    }
  }
  const request = autoAnswerRequest(ctx.headers);
  const configured = config.get('policy.session.auto_answer');
  if (!configured && !request.requested) return { answer: 'unknown', reason: 'auto_answer is 0 and the request does not ask for an automatic answer' };
  const blocked = im ? undefined : autoAnswerBlock(ctx, selection);
  if (blocked !== undefined) return { answer: 'unknown', reason: `auto-answer is blocked: ${blocked}` };
  const seconds = request.answerAfterSeconds ?? config.get('policy.session.auto_answer_delay');
  // A request that asks names the header that did (its source).
  const why = request.source === undefined ? 'auto_answer is 1' : `the request asks for it (${request.source})`;
  return { answer: true, delayMs: Math.round(seconds * 1000), reason: why };
}

/**
 * Outgoing calls are refused when the specification rejects incoming ones for want of a headset
 * (`use_headset` = 1, `reject_session_when_headset_na` = 1, no headset present); an
 * instant-messaging session (`ctx.kind` `im`, no audio) is not.
 *
 * @public
 */
export function canMakeCall(ctx: OutgoingCallContext, selection: DeviceSelection = selectDevices(ctx)): CallPermission {
  return ctx.kind !== 'im' && headsetRejection(ctx, selection)
    ? { allowed: false, reason: 'use_headset and reject_session_when_headset_na are 1 and no headset is present' }
    : { allowed: true };
}
