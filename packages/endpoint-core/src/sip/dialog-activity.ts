import { Core } from 'sip.js';
import { UnsupportedSipJsError } from '../errors';

/**
 * The fields of sip.js's SessionDialog that say an INVITE exchange is still open: `ackWait` (our
 * 2xx to the initial INVITE awaits its ACK), `reinviteUserAgentServer` (a re-INVITE of the far end
 * is not complete), `reinviteUserAgentClient` (ours is not). sip.js only assigns them; an accessor
 * on the prototype sees each assignment, so a call can wait for the dialog to settle without
 * polling.
 */
const WATCHED = ['ackWait', 'reinviteUserAgentServer', 'reinviteUserAgentClient'] as const;
type Watched = (typeof WATCHED)[number];

const values = new WeakMap<object, Partial<Record<Watched, unknown>>>();
const waiters = new WeakMap<object, Set<() => void>>();
let installed = false;

/** Installs the accessors once (src/sip/extensions.ts calls it). */
export function installDialogActivity(): void {
  if (installed) return;
  const proto = Core.SessionDialog?.prototype as object | undefined;
  if (!proto) throw new UnsupportedSipJsError('this sip.js has no Core.SessionDialog (sip.js 0.21.2 has)');
  for (const field of WATCHED) {
    if (Object.getOwnPropertyDescriptor(proto, field)) throw new UnsupportedSipJsError(`sip.js's SessionDialog already defines ${field} on its prototype: the dialog-activity extension no longer fits`);
  }
  installed = true;
  for (const field of WATCHED) {
    Object.defineProperty(proto, field, {
      configurable: true,
      get(this: object) {
        return values.get(this)?.[field];
      },
      set(this: object, value: unknown) {
        let own = values.get(this);
        if (!own) values.set(this, (own = {}));
        own[field] = value;
        if (!dialogBusy(this)) wake(this);
      },
    });
  }
}

/** Whether an INVITE exchange of the dialog is still open (see {@link WATCHED}). */
export function dialogBusy(dialog: object): boolean {
  const own = values.get(dialog);
  return own !== undefined && (own.ackWait === true || own.reinviteUserAgentServer !== undefined || own.reinviteUserAgentClient !== undefined);
}

function wake(dialog: object): void {
  const set = waiters.get(dialog);
  if (!set) return;
  waiters.delete(dialog);
  for (const resolve of set) resolve();
}

/**
 * Resolves once no INVITE exchange of the dialog is open, or after `timeoutMs` (Timer H, 32 s:
 * an ACK lost for good).
 */
export function whenDialogIdle(dialog: object, timeoutMs = 32000): Promise<void> {
  if (!dialogBusy(dialog)) return Promise.resolve();
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
