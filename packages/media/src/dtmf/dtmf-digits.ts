import { SipEndpointError } from '@sip-endpoint/config';

/** A DTMF digit: 0-9, *, #, A-D. @public */
export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

/** Digits in RFC 4733 event order (event 0 is '0', 10 '*', 11 '#', 12 to 15 'A' to 'D'). */
export const DTMF_EVENTS: readonly DtmfDigit[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D'];

/**
 * A character that is not a DTMF digit (0-9, *, #, A-D; letters in either case) was given as one.
 * Code `ERR_MEDIA_DTMF_DIGIT_INVALID`.
 *
 * @public
 */
export class InvalidDtmfDigitError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_DTMF_DIGIT_INVALID';
  /** The character (or string) that was refused. */
  readonly value: string;

  /** @param value - The character that is not a digit. */
  constructor(value: string) {
    super('ERR_MEDIA_DTMF_DIGIT_INVALID', `"${value}" is not a DTMF digit (0-9, *, #, A-D)`);
    this.value = value;
  }
}

/**
 * Digits given to `AudioStream.sendDtmf()` that were not sent: the stream closed first (the call
 * ended). `unsent` lists them, in order.
 *
 * @public
 */
export class DtmfNotSentError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_DTMF_NOT_SENT';
  /** The digits that did not go out. */
  readonly unsent: string;

  /** @param unsent - The digits that did not go out. */
  constructor(unsent: string) {
    super('ERR_MEDIA_DTMF_NOT_SENT', `the stream closed before DTMF ${unsent} was sent`);
    this.unsent = unsent;
  }
}

const ROWS = [697, 770, 852, 941] as const;
const COLUMNS = [1209, 1336, 1477, 1633] as const;
const KEYPAD: readonly (readonly DtmfDigit[])[] = [
  ['1', '2', '3', 'A'],
  ['4', '5', '6', 'B'],
  ['7', '8', '9', 'C'],
  ['*', '0', '#', 'D'],
];

/**
 * The row and column frequencies of a digit (ITU-T Q.23).
 *
 * @throws {@link InvalidDtmfDigitError} for anything but a digit.
 * @public
 */
export function dtmfFrequencies(digit: DtmfDigit): [number, number] {
  for (let row = 0; row < 4; row++) {
    const column = KEYPAD[row]!.indexOf(digit);
    if (column >= 0) return [ROWS[row]!, COLUMNS[column]!];
  }
  throw new InvalidDtmfDigitError(digit);
}

/** The digit of a row and column index. */
export function digitAt(row: number, column: number): DtmfDigit {
  return KEYPAD[row]![column]!;
}

export const DTMF_ROWS: readonly number[] = ROWS;
export const DTMF_COLUMNS: readonly number[] = COLUMNS;

/** True for a valid digit (case-insensitive letters are accepted by {@link normalizeDigits}). @public */
export function isDtmfDigit(value: string): value is DtmfDigit {
  return (DTMF_EVENTS as readonly string[]).includes(value);
}

/**
 * Validates and normalises a digit string (`a`-`d` become upper case; `,` and spaces are ignored).
 *
 * @throws {@link InvalidDtmfDigitError} naming the first character that is not a digit.
 * @public
 */
export function normalizeDigits(digits: string): DtmfDigit[] {
  const result: DtmfDigit[] = [];
  for (const char of digits) {
    if (char === ' ' || char === ',') continue;
    const upper = char.toUpperCase();
    if (!isDtmfDigit(upper)) throw new InvalidDtmfDigitError(char);
    result.push(upper);
  }
  return result;
}
