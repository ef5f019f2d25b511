export type { AudioDevice, DeviceSelection } from './audio-device';
export type { CallKind, CallSnapshot } from './call-snapshot';
export { isActiveCall, isHeldCall } from './call-snapshot';
export type { HeaderBag, AutoAnswerRequest } from './headers';
export { headerValues, headerParameters, autoAnswerRequest } from './headers';
export { deviceNameMatches, systemDefaultDevice } from './device-match';
export type { DeviceContext } from './select-devices';
export { selectDevices, findHeadset } from './select-devices';
export { shouldAnswer, canMakeCall } from './should-answer';
export { ringingPlan } from './ringing-plan';
export { codecPriorities } from './codec-priorities';
export { mediaEngine } from './media-engine';
export { sessionStatus } from './session-status';
export { DefaultPolicy } from './default-policy';
export { composePolicy } from './compose-policy';
export type { PolicyOverrides } from './compose-policy';
export type {
  MaybePromise,
  PolicyContext,
  AnswerContext,
  AnswerDecision,
  OutgoingCallContext,
  CallPermission,
  DeviceSelectionContext,
  SessionStatusContext,
  RingingContext,
  RingingOutput,
  RingingPlan,
  CodecContext,
  CodecPriorities,
  MediaEngineContext,
  MediaEngineChoice,
  EndpointPolicy,
} from './endpoint-policy';
export { CALL_STATES, CONNECTION_STATES, SESSION_STATUSES } from './state/states';
export type { CallState, ConnectionState, SessionStatus } from './state/states';
export { StateMachine } from './state/state-machine';
export type { TransitionTable } from './state/state-machine';
export { InvalidStateError } from './state/invalid-state-error';
export { SafeEmitter } from './events/safe-emitter';
export type { EventMap, ListenerErrorEvents } from './events/safe-emitter';
export { ListenerError } from './events/listener-error';
