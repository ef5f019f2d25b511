import type { DeviceSelection } from './audio-device';
import { codecPriorities } from './codec-priorities';
import { mediaEngine } from './media-engine';
import type {
  AnswerContext,
  AnswerDecision,
  CallPermission,
  CodecContext,
  CodecPriorities,
  DeviceSelectionContext,
  EndpointPolicy,
  MediaEngineChoice,
  MediaEngineContext,
  OutgoingCallContext,
  RingingContext,
  RingingPlan,
  SessionStatusContext,
} from './endpoint-policy';
import type { SessionStatus } from './state/states';
import { ringingPlan } from './ringing-plan';
import { selectDevices } from './select-devices';
import { sessionStatus } from './session-status';
import { canMakeCall, shouldAnswer } from './should-answer';

/**
 * Every decision as the specification makes it. Each method is synchronous and pure: the same
 * context gives the same decision, and nothing outside the context is read.
 *
 * @remarks
 * `shouldAnswer` and `canMakeCall` select devices through `this.selectDevices`, so a subclass or a
 * composed policy that overrides device selection changes them too.
 *
 * @public
 */
export class DefaultPolicy implements EndpointPolicy {
  shouldAnswer(ctx: AnswerContext): AnswerDecision | Promise<AnswerDecision> {
    return then(this.selectDevices(ctx), (selection) => shouldAnswer(ctx, selection));
  }

  canMakeCall(ctx: OutgoingCallContext): CallPermission | Promise<CallPermission> {
    return then(this.selectDevices(ctx), (selection) => canMakeCall(ctx, selection));
  }

  selectDevices(ctx: DeviceSelectionContext): DeviceSelection | Promise<DeviceSelection> {
    return selectDevices(ctx);
  }

  sessionStatus(ctx: SessionStatusContext): SessionStatus {
    return sessionStatus(ctx);
  }

  ringingPlan(ctx: RingingContext): RingingPlan {
    return ringingPlan(ctx);
  }

  codecPriorities(ctx: CodecContext): CodecPriorities {
    return codecPriorities(ctx);
  }

  mediaEngine(ctx: MediaEngineContext): MediaEngineChoice {
    return mediaEngine(ctx);
  }
}

/** Applies `next` to a value or to a promise of it, staying synchronous when the value is. */
function then<T, U>(value: T | Promise<T>, next: (value: T) => U): U | Promise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}
