import { Core } from 'sip.js';
import { UnsupportedSipJsError } from '../errors';

/** What a call adds to its sip.js session dialog (see src/sip/README.md). */
export interface DialogHooks {
  /** Extra headers of our 2xx to a re-INVITE of the far end (Session-Expires). */
  reinviteResponseHeaders?(request: Core.IncomingRequestMessage): string[];
  /** Answers an in-dialog UPDATE (RFC 3311); without it, UPDATE gets 501. */
  onUpdate?(request: Core.IncomingRequestMessage): Promise<Core.ResponseOptions>;
}

const waiters = new WeakMap<Core.SessionDialog, Set<() => void>>();

/**
 * Fails at once, with the reason, when the installed sip.js lacks the hooks our patch
 * (patches/sip.js+0.21.2.patch) adds: another version, or an install that skipped patch-package.
 * The published package bundles the patched sip.js, so its users always have them.
 */
export function assertPatchedSipJs(): void {
  const proto = Core.SessionDialog?.prototype as object | undefined;
  if (!proto || !('inviteExchangeOpen' in proto)) {
    throw new UnsupportedSipJsError('sip.js is not the patched 0.21.2 (patches/sip.js+0.21.2.patch): run npm ci, which applies the patch');
  }
}

/** Gives a session dialog the call's hooks, and lets {@link whenDialogIdle} hear of its INVITE exchanges. */
export function extendDialog(dialog: Core.SessionDialog, hooks: DialogHooks): void {
  dialog.extensions = { ...hooks, onActivity: () => wake(dialog) };
}

function wake(dialog: Core.SessionDialog): void {
  if (dialog.inviteExchangeOpen) return;
  const set = waiters.get(dialog);
  if (!set) return;
  waiters.delete(dialog);
  for (const resolve of set) resolve();
}

/**
 * Resolves once no INVITE exchange of the dialog is open (the ACK of the INVITE we answered, a
 * re-INVITE of either side), or after `timeoutMs` (Timer H, 32 s: an ACK lost for good). The
 * dialog tells us of each change (the patch's `onActivity`): nothing polls.
 */
export function whenDialogIdle(dialog: Core.SessionDialog, timeoutMs = 32000): Promise<void> {
  if (!dialog.inviteExchangeOpen) return Promise.resolve();
  if (!dialog.extensions?.onActivity) dialog.extensions = { ...dialog.extensions, onActivity: () => wake(dialog) };
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function done(): void {
      clearTimeout(timer);
      waiters.get(dialog)?.delete(done);
      resolve();
    }
    let set = waiters.get(dialog);
    if (!set) waiters.set(dialog, (set = new Set()));
    set.add(done);
  });
}

/**
 * The early dialog a provisional response to our INVITE made: sip.js hands it to the Inviter's
 * request delegate with the response (its core's `session`), though its public type does not say so.
 */
export function earlyDialogOf(response: object): Core.SessionDialog | undefined {
  const session = (response as { session?: unknown }).session;
  return session instanceof Core.SessionDialog && session.early ? session : undefined;
}

/**
 * Where a dialog's offer/answer stands (RFC 3264 as sip.js's core follows it): `stable` (none
 * pending), `local-offer` (ours waits for its answer), or `other` (an offer of the far end not yet
 * answered, or the dialog closed).
 */
export function offerState(dialog: Core.SessionDialog): 'stable' | 'local-offer' | 'other' {
  const state = dialog.signalingState;
  return state === Core.SignalingState.Stable ? 'stable' : state === Core.SignalingState.HaveLocalOffer ? 'local-offer' : 'other';
}
