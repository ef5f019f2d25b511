import type { SessionStatusContext } from './endpoint-policy';
import type { SessionStatus } from './state/states';
import { findHeadset } from './select-devices';

/**
 * The Connector API's session status: `WAITING_HEADSET` while `enforce_headset_usage` is on and no
 * headset of `headset_name` / `include_headset` is present (the agent stays logged out);
 * `INITIALIZED` once a line is `READY` (or `STANDALONE`); `INITIALIZING` before.
 *
 * @public
 */
export function sessionStatus(ctx: SessionStatusContext): SessionStatus {
  // enforce_headset_usage waits for the headset of headset_name, whatever use_headset says.
  if (ctx.enforceHeadsetUsage && findHeadset(ctx) === undefined) return 'WAITING_HEADSET';
  return ctx.connections.some((state) => state === 'READY' || state === 'STANDALONE') ? 'INITIALIZED' : 'INITIALIZING';
}
