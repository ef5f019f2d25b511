import { InvalidDtmfDigitError, normalizeDigits } from '@sip-endpoint/media';
import { InvalidMessageError } from '../errors';

/**
 * The body of a third-party DTMF request: a NOTIFY with `Event: dtmf` from SIP Server (its DN
 * option `sip-cti-control` listing `dtmf`), asking the agent's endpoint to play digits on the call.
 * The body formats are those of DTMF over SIP INFO, which is what SIP endpoints already read:
 * `application/dtmf-relay` (`Signal=` and an optional `Duration=` line) and `application/dtmf` (the
 * digits alone).
 */

/** The content types a DTMF NOTIFY may carry, for the `Accept` of a 415. */
export const DTMF_NOTIFY_TYPES = ['application/dtmf-relay', 'application/dtmf'] as const;

/** What a DTMF NOTIFY asks for. */
export interface DtmfRequest {
  /** The digits, normalised (0-9, *, #, A-D). */
  digits: string;
  /** The tone length asked for (`Duration=`), ms, when given. */
  durationMs: number | undefined;
}

/** Whether a content type (parameters aside) is one a DTMF NOTIFY may carry. */
export function isDtmfNotifyType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return (DTMF_NOTIFY_TYPES as readonly string[]).includes(type);
}

/**
 * Reads the digits of a DTMF NOTIFY body. `application/dtmf-relay`: `Signal=` (one digit, as INFO
 * sends it, or several in order) and optionally `Duration=` (40 to 5000 ms); other lines are
 * ignored. `application/dtmf`: the digits, white space around them allowed.
 *
 * @throws {@link InvalidMessageError} for no digit, a character that is no DTMF digit, more than
 * 64 digits, a `Duration` that is not a whole number of ms from 40 to 5000, or a `Signal` given twice.
 */
export function parseDtmfNotify(contentType: string, body: string): DtmfRequest {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  let raw: string;
  let durationMs: number | undefined;
  if (type === 'application/dtmf') {
    raw = body.trim();
  } else {
    let signal: string | undefined;
    for (const line of body.split(/\r?\n/)) {
      const field = /^\s*([A-Za-z-]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (!field) continue;
      const name = field[1]!.toLowerCase();
      if (name === 'signal') {
        if (signal !== undefined) throw new InvalidMessageError('DTMF NOTIFY: Signal given twice');
        signal = field[2]!;
      } else if (name === 'duration') {
        const value = field[2]!;
        if (!/^\d{1,5}$/.test(value) || Number(value) < 40 || Number(value) > 5000) throw new InvalidMessageError(`DTMF NOTIFY: Duration "${value.slice(0, 20)}" is not a whole number of ms from 40 to 5000`);
        durationMs = Number(value);
      }
    }
    if (signal === undefined) throw new InvalidMessageError('DTMF NOTIFY: no Signal line');
    raw = signal;
  }
  if (raw === '') throw new InvalidMessageError('DTMF NOTIFY: no digit');
  if (raw.length > 64) throw new InvalidMessageError('DTMF NOTIFY: more than 64 digits');
  try {
    const digits = normalizeDigits(raw).join('');
    if (digits === '') throw new InvalidMessageError('DTMF NOTIFY: no digit');
    return { digits, durationMs };
  } catch (error) {
    if (error instanceof InvalidDtmfDigitError) throw new InvalidMessageError(`DTMF NOTIFY: ${error.message}`);
    throw error;
  }
}
