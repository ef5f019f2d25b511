import fc from 'fast-check';
import { InvalidMessageError, type MessageClass, type MessageCounts, type MessageSummary } from '@sip-endpoint/endpoint-core';
import { parseMessageSummary } from '../../src/line/message-summary';

// RFC 3842 5.2's message summary, read from NOTIFY bodies of the mailbox subscription.

const NAMES: Record<MessageClass, string> = { voice: 'Voice-Message', fax: 'Fax-Message', pager: 'Pager-Message', multimedia: 'Multimedia-Message', text: 'Text-Message', none: 'None' };

describe('parseMessageSummary', () => {
  it("reads RFC 3842's example: waiting, the account, voice counts with urgent ones", () => {
    const body = 'Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 2/8 (0/2)\r\n';
    expect(parseMessageSummary(body)).toEqual({ waiting: true, account: 'sip:alice@vmail.example.com', messages: { voice: { new: 2, old: 8, urgentNew: 0, urgentOld: 2 } } });
  });

  it('takes any case and spacing, bare LF, urgent counts left out, the optional message headers after a blank line, and extension lines', () => {
    const body = 'messages-waiting:NO\nfax-message : 0/1\nX-Vendor-Thing: 7\n\nTo: <sip:alice@example.com>\nVoice-Message: garbage after the blank line\n';
    expect(parseMessageSummary(body)).toEqual({ waiting: false, account: undefined, messages: { fax: { new: 0, old: 1, urgentNew: 0, urgentOld: 0 } } });
  });

  it.each([
    ['an empty body', '', /empty/],
    ['no Messages-Waiting first', 'Voice-Message: 1/0\r\nMessages-Waiting: yes\r\n', /first line is not Messages-Waiting/],
    ['a status other than yes or no', 'Messages-Waiting: maybe\r\n', /not yes or no/],
    ['counts that are not new/old', 'Messages-Waiting: yes\r\nVoice-Message: 2\r\n', /not new\/old/],
    ['a negative count', 'Messages-Waiting: yes\r\nVoice-Message: -1/0\r\n', /not new\/old/],
    ['a count of ten digits', 'Messages-Waiting: yes\r\nVoice-Message: 1234567890/0\r\n', /not new\/old/],
    ['a class twice', 'Messages-Waiting: yes\r\nVoice-Message: 1/0\r\nvoice-message: 2/0\r\n', /given twice/],
    ['Messages-Waiting twice', 'Messages-Waiting: yes\r\nMessages-Waiting: no\r\n', /given twice/],
    ['a line that is no header', 'Messages-Waiting: yes\r\nthis is not a header\r\n', /is not a header/],
  ])('refuses %s with InvalidMessageError', (_name, body, message) => {
    expect(() => parseMessageSummary(body)).toThrow(InvalidMessageError);
    expect(() => parseMessageSummary(body)).toThrow(message);
  });

  const counts = fc.record({ new: fc.nat(999999999), old: fc.nat(999999999), urgentNew: fc.nat(999999999), urgentOld: fc.nat(999999999) });
  const summaries = fc.record({
    waiting: fc.boolean(),
    account: fc.option(fc.constantFrom('sip:alice@vmail.example.com', 'sip:1000@127.0.0.1', 'sips:vm@example.net;transport=tls'), { nil: undefined }),
    messages: fc.dictionary(fc.constantFrom(...(Object.keys(NAMES) as MessageClass[])), counts) as fc.Arbitrary<Partial<Record<MessageClass, MessageCounts>>>,
  });

  it('reads back what a server writes, whatever the counts, classes, case and line ends', () => {
    fc.assert(
      fc.property(summaries, fc.constantFrom('\r\n', '\n'), fc.boolean(), fc.boolean(), (summary: MessageSummary, eol, lower, shortUrgent) => {
        const name = (text: string): string => (lower ? text.toLowerCase() : text);
        const lines = [`${name('Messages-Waiting')}: ${summary.waiting ? 'yes' : 'no'}`];
        if (summary.account) lines.push(`${name('Message-Account')}: ${summary.account}`);
        for (const [kind, value] of Object.entries(summary.messages) as [MessageClass, MessageCounts][]) {
          const urgent = shortUrgent && value.urgentNew === 0 && value.urgentOld === 0 ? '' : ` (${value.urgentNew}/${value.urgentOld})`;
          lines.push(`${name(NAMES[kind])}: ${value.new}/${value.old}${urgent}`);
        }
        expect(parseMessageSummary(lines.join(eol) + eol)).toEqual(summary);
      }),
      { numRuns: 500 },
    );
  });

  it('throws nothing but InvalidMessageError, whatever the body', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((tail) => `Messages-Waiting: yes\r\n${tail}`)), (body) => {
        try {
          parseMessageSummary(body);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidMessageError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
