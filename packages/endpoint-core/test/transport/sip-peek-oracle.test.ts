import fc from 'fast-check';
import { peekSip, peekStartLine, type SipPeek } from '../../src/transport/sip-peek';

// peekSip reads the three headers it needs without copying the others (the transport peeks at
// every message). The oracle: peekSip as it was, reading every header into an object first.
// Both must agree on any header block: folded lines, compact names, odd white space, lines
// without a colon, names that only look like the wanted ones.

const COMPACT: Record<string, string> = { v: 'via', i: 'call-id', l: 'content-length' };

function headerLines(message: string, end: number): { name: string; value: string; start: number; stop: number }[] {
  const lines: { name: string; value: string; start: number; stop: number }[] = [];
  let position = message.indexOf('\n') + 1;
  while (position > 0 && position < end) {
    let stop = message.indexOf('\n', position);
    if (stop < 0 || stop > end) stop = end;
    // Folded lines (leading space or tab) continue the previous header.
    let next = stop + 1;
    while (next < end && (message[next] === ' ' || message[next] === '\t')) {
      const more = message.indexOf('\n', next);
      stop = more < 0 || more > end ? end : more;
      next = stop + 1;
    }
    const line = message.slice(position, stop).replace(/\r?\n[ \t]+/g, ' ').replace(/\r$/, '');
    const colon = line.indexOf(':');
    if (colon > 0) {
      const raw = line.slice(0, colon).trim().toLowerCase();
      lines.push({ name: COMPACT[raw] ?? raw, value: line.slice(colon + 1).trim(), start: position, stop });
    }
    position = next;
  }
  return lines;
}

/** peekSip before it skipped the headers it does not read. */
function oldPeekSip(message: string): SipPeek | undefined {
  const start = peekStartLine(message);
  if (!start) return undefined;
  const { kind, status, headerEnd } = start;
  let method = start.method;
  let via: SipPeek['via'];
  let cseq = 0;
  let callId = '';
  for (const header of headerLines(message, headerEnd)) {
    if (header.name === 'via' && via === undefined) {
      const value = header.value.split(',')[0]!.trim();
      const match = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+(\[[^\]]+\]|[^\s;:]+)(?::(\d+))?\s*(.*)$/.exec(value);
      if (match) {
        const params = match[4] ?? '';
        const param = (name: string): string | undefined => {
          const found = new RegExp(`;\\s*${name}(?:\\s*=\\s*([^;\\s]*))?`, 'i').exec(params);
          return found ? (found[1] ?? '') : undefined;
        };
        const rport = param('rport');
        via = {
          transport: match[1]!.toUpperCase(),
          host: match[2]!,
          port: match[3] !== undefined ? Number(match[3]) : undefined,
          branch: param('branch') ?? '',
          received: param('received') || undefined,
          rport: rport !== undefined && rport !== '' ? Number(rport) : undefined,
          line: message.slice(header.start, header.stop).replace(/\r$/, ''),
        };
      }
    } else if (header.name === 'cseq') {
      const match = /^(\d+)\s+([A-Za-z]+)/.exec(header.value);
      if (match) {
        cseq = Number(match[1]);
        if (kind === 'response') method = match[2]!.toUpperCase();
      }
    } else if (header.name === 'call-id') {
      callId = header.value;
    }
  }
  return { kind, method, status, via, cseq, callId, headerEnd };
}


const headerLine = fc.constantFrom(
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;rport',
  'v: SIP/2.0/TCP [2001:db8::5]:5062;received=2001:db8::9;rport=5999;branch=z9hG4bKb',
  'VIA :SIP/2.0/UDP host.example ; branch = z9hG4bKc , SIP/2.0/UDP other',
  'Via: garbage',
  'Via:',
  '  Via: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKd',
  '\u00a0Via: SIP/2.0/UDP 5.6.7.8;branch=z9hG4bKe',
  'Vias: SIP/2.0/UDP 9.9.9.9;branch=z9hG4bKf',
  'CSeq: 7 INVITE',
  'cseq:42 bye',
  'CSeq: x INVITE',
  'Call-ID: abc@host',
  'i:  compact@host ',
  'call-id:',
  'Contact: <sip:a@b>',
  'c: application/sdp',
  'Content-Length: 0',
  'From: <sip:x@y>;tag=1',
  'no colon here',
  ':starts with a colon',
  'X-Very: v:i:c',
  'Ixx: y',
);
const fold = fc.constantFrom(' INVITE', '\t;branch=z9hG4bKfold', ' more', '  ');
const block = fc.array(fc.tuple(headerLine, fc.array(fold, { maxLength: 2 }), fc.constantFrom('\r\n', '\n')), { maxLength: 12 });
const startLine = fc.constantFrom('INVITE sip:bob@127.0.0.1 SIP/2.0', 'SIP/2.0 200 OK', 'SIP/2.0 180 Ringing', 'OPTIONS sip:x SIP/2.0');

describe('peekSip against its former self', () => {
  it('reads the same from generated header blocks', () => {
    fc.assert(
      fc.property(startLine, block, fc.constantFrom('\r\n\r\nv=0\r\n', '\r\n', ''), (start, lines, tail) => {
        const text = `${start}\r\n${lines.map(([line, folds, eol]) => [line, ...folds].join(eol)).join('\r\n')}${tail}`;
        expect(peekSip(text)).toEqual(oldPeekSip(text));
      }),
      { numRuns: 5000 },
    );
  });
});
