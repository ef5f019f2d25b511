import { CALL_STATES, isActiveCall, isHeldCall, type CallState } from '@sip-endpoint/policy';
import { call } from './support/context';

describe('isActiveCall and isHeldCall', () => {
  // Active: established and not held. An outgoing call being set up (IN_PROGRESS, ALERTING) is not
  // established yet, nor is an incoming one still ringing.
  const expected: Record<CallState, { active: boolean; held: boolean }> = {
    IN_PROGRESS: { active: false, held: false },
    ALERTING: { active: false, held: false },
    RINGING: { active: false, held: false },
    CONNECTED: { active: true, held: false },
    HELD: { active: false, held: true },
    DISCONNECTED: { active: false, held: false },
  };

  it.each(CALL_STATES.map((state) => [state, expected[state]] as const))('a call %s is %j', (state, { active, held }) => {
    expect({ active: isActiveCall(call(state)), held: isHeldCall(call(state)) }).toEqual({ active, held });
  });
});
