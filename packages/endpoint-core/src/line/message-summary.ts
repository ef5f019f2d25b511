import { InvalidMessageError } from '../errors';

/**
 * The message classes of a message summary (RFC 3842 5.2, from RFC 3458's message-context-class),
 * without their `-message` suffix: `voice` is `Voice-Message`.
 *
 * @public
 */
export type MessageClass = 'voice' | 'fax' | 'pager' | 'multimedia' | 'text' | 'none';

/** The counts of one message class: new and old messages, and of them the urgent ones. @public */
export interface MessageCounts {
  new: number;
  old: number;
  urgentNew: number;
  urgentOld: number;
}

/**
 * A mailbox's message-waiting state, from the body of a `message-summary` NOTIFY
 * (`application/simple-message-summary`, RFC 3842).
 *
 * @public
 */
export interface MessageSummary {
  /** `Messages-Waiting: yes`. */
  waiting: boolean;
  /** The mailbox's address (`Message-Account`), when the server gives it. */
  account: string | undefined;
  /** The counts of each class the server listed. */
  messages: Partial<Record<MessageClass, MessageCounts>>;
}

/** The content type of a message summary (RFC 3842 7). */
export const MESSAGE_SUMMARY_TYPE = 'application/simple-message-summary';

const CLASSES: Record<string, MessageClass> = {
  'voice-message': 'voice',
  'fax-message': 'fax',
  'pager-message': 'pager',
  'multimedia-message': 'multimedia',
  'text-message': 'text',
  none: 'none',
};

/** new/old, optionally followed by (urgent new/urgent old); counts of at most 9 digits. */
const COUNTS = /^(\d{1,9})\s*\/\s*(\d{1,9})(?:\s*\(\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*\))?$/;
const HEADER = /^([A-Za-z0-9!%*_+`'~.-]+)[ \t]*:[ \t]*(.*)$/;

/**
 * Reads a message summary (RFC 3842 5.2): `Messages-Waiting` first, then `Message-Account` and a
 * line of counts per message class, each once; header names in any case. What follows a blank
 * line (the optional headers of the messages) is not read; neither are lines of an extension
 * (a name this grammar does not know), which RFC 3842 lets a server add.
 *
 * @throws {@link InvalidMessageError} for a body that is not a message summary: no
 * `Messages-Waiting` first, a status other than yes or no, counts that are not `new/old` with
 * optional `(new/old)` of urgent ones, a class given twice, a line that is no header.
 */
export function parseMessageSummary(body: string): MessageSummary {
  const lines = body.split(/\r?\n/);
  // Header folding (a line starting with white space continues the previous one).
  const headers: string[] = [];
  for (const line of lines) {
    if (line.trim() === '') {
      if (headers.length > 0) break;
      continue;
    }
    if (/^[ \t]/.test(line) && headers.length > 0) headers[headers.length - 1] += ` ${line.trim()}`;
    else headers.push(line);
  }
  const summary: MessageSummary = { waiting: false, account: undefined, messages: {} };
  let sawStatus = false;
  for (const [index, line] of headers.entries()) {
    const header = HEADER.exec(line);
    if (!header) throw new InvalidMessageError(`message summary: "${line.slice(0, 80)}" is not a header`);
    const name = header[1]!.toLowerCase();
    const value = header[2]!.trim();
    if (index === 0) {
      if (name !== 'messages-waiting') throw new InvalidMessageError('message summary: the first line is not Messages-Waiting');
      const status = value.toLowerCase();
      if (status !== 'yes' && status !== 'no') throw new InvalidMessageError(`message summary: Messages-Waiting is "${value.slice(0, 40)}", not yes or no`);
      summary.waiting = status === 'yes';
      sawStatus = true;
      continue;
    }
    if (name === 'messages-waiting') throw new InvalidMessageError('message summary: Messages-Waiting given twice');
    if (name === 'message-account') {
      if (summary.account !== undefined) throw new InvalidMessageError('message summary: Message-Account given twice');
      if (value === '') throw new InvalidMessageError('message summary: an empty Message-Account');
      summary.account = value;
      continue;
    }
    const kind = CLASSES[name];
    if (kind === undefined) continue;
    if (summary.messages[kind] !== undefined) throw new InvalidMessageError(`message summary: ${header[1]} given twice`);
    const counts = COUNTS.exec(value);
    if (!counts) throw new InvalidMessageError(`message summary: ${header[1]} is "${value.slice(0, 40)}", not new/old (urgent new/urgent old)`);
    summary.messages[kind] = { new: Number(counts[1]), old: Number(counts[2]), urgentNew: Number(counts[3] ?? 0), urgentOld: Number(counts[4] ?? 0) };
  }
  if (!sawStatus) throw new InvalidMessageError('message summary: empty');
  return summary;
}
