/**
 * The fuzzer's inputs: corpus messages changed by byte, line, header and SDP mutations. Every
 * random choice comes from fast-check arbitraries sampled with a seed, so a run is repeated
 * exactly by its seed (and an input by its seed, batch and index).
 */
import fc from 'fast-check';
import { SIP_CORPUS, type CorpusEntry, type CorpusTarget } from './sip-corpus';

/** One change made to a message. Positions are fractions of the length at the time of the change. */
export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'line'; op: 'duplicate' | 'delete' | 'swap' | 'fold' | 'lf' | 'bare-cr' | 'nul'; a: number; b: number }
  | { kind: 'header'; name: string; value: string; add: boolean }
  | { kind: 'sdp'; body: string };

/** A corpus entry and the mutations made to it. */
export interface FuzzCase {
  entry: CorpusEntry;
  mutations: readonly Mutation[];
}

const fraction = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

/** Characters that break parsers: separators, quotes, controls, bytes over 127. */
const awkward = fc.constantFrom('\0', '\r', '\n', '\r\n', ':', ';', ',', '<', '>', '"', '\\', ' ', '\t', '%', '%00', '\u00ff', '\u0080', '=', '@', '[', ']', '?', '&', '/', '\r\n ', '\r\n\r\n');

/** Numbers a header may carry, the awkward ones first. */
const number = fc.oneof(
  fc.nat(300).map(String),
  fc.constantFrom('-1', '0', '255', '256', '2147483647', '2147483648', '4294967295', '4294967296', '18446744073709551616', '36893488147419103232', '1e3', '0x10', ' 12', '00000000000000000001', '', '1.5', '+5'),
  fc.bigInt({ min: 0n, max: 10n ** 40n }).map(String),
);

const token = fc.stringMatching(/^[A-Za-z0-9.!%*_+`'~-]{0,16}$/);
const junk = fc.string({ unit: 'binary-ascii', maxLength: 40 });
// Hosts stay on loopback or are names that resolve nowhere: the fuzz runs in a network namespace
// with loopback only, so even a host outside this list could not leave the machine.
const host = fc.constantFrom('127.0.0.1', '127.0.0.2', '[::1]', '::1', 'localhost', 'fuzz.invalid', '[2001:db8::1]', '10.255.255.1', '', '256.1.1.1', '127.0.0.1.', '[127.0.0.1]', 'a'.repeat(300));
const port = fc.oneof(fc.constantFrom('', ':0', ':5060', ':65535', ':65536', ':99999999999', ':-1', ':'), fc.integer({ min: 1, max: 65535 }).map((p) => `:${p}`));
const params = fc.array(fc.tuple(fc.oneof(token, fc.constantFrom('transport', 'lr', 'tag', 'branch', 'rport', 'received', 'maddr', 'ttl', 'expires', 'q', 'user', 'method')), fc.option(fc.oneof(token, number, junk))), { maxLength: 4 }).map((list) => list.map(([name, value]) => `;${name}${value === null ? '' : `=${value}`}`).join(''));
const uri = fc.tuple(fc.constantFrom('sip', 'sips', 'tel', 'http', 'SIP', 'x', ''), fc.option(fc.oneof(token, junk)), host, port, params).map(([scheme, user, h, p, ps]) => `${scheme}:${user === null ? '' : `${user}@`}${h}${p}${ps}`);
const quoted = fc.oneof(token, junk).map((text) => `"${text}"`);
const nameAddr = fc.tuple(fc.option(fc.oneof(quoted, token)), uri, params, fc.boolean()).map(([display, u, ps, angle]) => `${display === null ? '' : `${display} `}${angle ? `<${u}>` : u}${ps}`);
const via = fc
  .tuple(fc.constantFrom('SIP/2.0', 'SIP/3.0', 'SIP /2.0', ''), fc.constantFrom('UDP', 'TCP', 'TLS', 'WS', 'WSS', 'SCTP', 'X', ''), host, port, params, token)
  .map(([version, transport, h, p, ps, branch]) => `${version}/${transport} ${h}${p};branch=z9hG4bK${branch}${ps}`);
const method = fc.constantFrom('INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'INFO', 'UPDATE', 'PRACK', 'REFER', 'NOTIFY', 'SUBSCRIBE', 'MESSAGE', 'invite', 'FOO', '');

/** A header's name and a generator of its values (which of them no receiver may accept, `knownInvalid` says of the whole text). */
const headerValues: ReadonlyArray<[string, fc.Arbitrary<string>]> = [
  ['Via', via],
  ['CSeq', fc.tuple(number, method).map(([n, m]) => `${n} ${m}`)],
  ['From', nameAddr],
  ['To', nameAddr],
  ['Contact', fc.oneof(nameAddr, fc.constant('*'))],
  ['Call-ID', fc.oneof(token, junk)],
  ['Content-Length', number],
  ['Max-Forwards', number],
  ['Expires', number],
  ['Session-Expires', fc.tuple(number, fc.constantFrom('', ';refresher=uac', ';refresher=uas', ';refresher=x')).map(([n, r]) => n + r)],
  ['Min-SE', number],
  ['Content-Type', fc.constantFrom('application/sdp', 'application/SDP', 'text/plain', 'multipart/mixed;boundary=', 'multipart/mixed', '', 'application/sdp;charset=x', '/')],
  ['Route', nameAddr],
  ['Record-Route', nameAddr],
  ['RAck', fc.tuple(number, number, method).map(([a, b, m]) => `${a} ${b} ${m}`)],
  ['Event', fc.oneof(token, fc.constantFrom('refer', 'message-summary', 'talk', 'hold', 'presence', 'dialog'))],
  ['Subscription-State', fc.tuple(fc.constantFrom('active', 'pending', 'terminated', ''), params).map(([s, p]) => s + p)],
  ['Refer-To', nameAddr],
  ['Replaces', fc.tuple(token, token, token).map(([c, f, t]) => `${c};from-tag=${f};to-tag=${t}`)],
  ['Authorization', fc.tuple(token, quoted, quoted, number).map(([user, realm, nonce, nc]) => `Digest username="${user}", realm=${realm}, nonce=${nonce}, uri="sip:x", response="00", nc=${nc}, qop=auth`)],
  ['Call-Info', fc.tuple(uri, fc.constantFrom(';answer-after=0', ';answer-after=-1', ';answer-after=99999999999', ';answer-after=', '')).map(([u, p]) => `<${u}>${p}`)],
  ['Alert-Info', fc.tuple(uri, fc.constantFrom(';info=alert-autoanswer', ';delay=-1', ';delay=99999999999', '')).map(([u, p]) => `<${u}>${p}`)],
  ['Require', fc.constantFrom('100rel', 'timer', 'replaces', 'x', '')],
  ['Supported', fc.constantFrom('100rel', 'timer', 'replaces', 'x', '', ',,,')],
  ['X-Genesys-CallUUID', fc.oneof(token, junk)],
  ['Unknown-Header', junk],
];

/** An SDP body from a grammar: the lines an offer has, with values from awkward to ordinary. */
export const sdpBody: fc.Arbitrary<string> = (() => {
  const address = fc.constantFrom('127.0.0.1', '0.0.0.0', '::1', '224.2.1.1/127/3', 'fuzz.invalid', '', '999.1.1.1', '127.0.0.1 extra');
  const addrType = fc.constantFrom('IP4', 'IP6', 'IP5', '');
  const payload = fc.oneof(fc.integer({ min: 0, max: 127 }), fc.constantFrom(128, 255, 65536, -1)).map(String);
  const attribute = fc.oneof(
    fc.tuple(payload, fc.constantFrom('PCMU', 'PCMA', 'G722', 'opus', 'telephone-event', 'iLBC', 'X', ''), fc.constantFrom('8000', '16000', '48000', '0', '-1', '99999999999', ''), fc.constantFrom('', '/1', '/2', '/0', '/x')).map(([pt, name, rate, ch]) => `a=rtpmap:${pt} ${name}/${rate}${ch}`),
    fc.tuple(payload, fc.oneof(junk, fc.constantFrom('0-15', '0-16,32', 'useinbandfec=1;maxplaybackrate=0', 'mode=20', 'annexb=no', '-'))).map(([pt, value]) => `a=fmtp:${pt} ${value}`),
    number.map((n) => `a=ptime:${n}`),
    number.map((n) => `a=maxptime:${n}`),
    fc.constantFrom('a=sendrecv', 'a=sendonly', 'a=recvonly', 'a=inactive', 'a=rtcp-mux', 'a=ice-lite', 'a=end-of-candidates', 'a=', 'a=:', 'a=rtcp:', 'a=setup:actpass', 'a=setup:x', 'a=silenceSupp:off - - - -'),
    fc.tuple(fc.nat(10), fc.constantFrom('AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AEAD_AES_256_GCM', 'X'), fc.oneof(fc.base64String({ maxLength: 60 }), junk), fc.constantFrom('', '|2^20', '|2^99', '|1:4', '|x|y|z')).map(([tag, suite, key, extra]) => `a=crypto:${tag} ${suite} inline:${key}${extra}`),
    fc.tuple(fc.constantFrom('sha-256', 'sha-1', 'md5', 'x'), fc.oneof(fc.constant(Array.from({ length: 32 }, () => 'AB').join(':')), junk)).map(([hash, value]) => `a=fingerprint:${hash} ${value}`),
    fc.tuple(token, token).map(([ufrag, pwd]) => `a=ice-ufrag:${ufrag}\r\na=ice-pwd:${pwd}`),
    fc.tuple(token, number, fc.constantFrom('udp', 'tcp', 'x'), number, address, number, fc.constantFrom('host', 'srflx', 'relay', 'x')).map(([f, c, t, p, a, port, typ]) => `a=candidate:${f} ${c} ${t} ${p} ${a} ${port} typ ${typ}`),
    fc.tuple(number, fc.constantFrom('IN', 'X'), addrType, address).map(([p, n, t, a]) => `a=rtcp:${p} ${n} ${t} ${a}`),
  );
  const media = fc
    .tuple(fc.constantFrom('audio', 'video', 'application', 'image', 'x'), fc.oneof(fc.constantFrom('0', '65535', '65536', '-1', '40000/2', ''), fc.integer({ min: 1024, max: 65535 }).map(String)), fc.constantFrom('RTP/AVP', 'RTP/SAVP', 'RTP/AVPF', 'RTP/SAVPF', 'UDP/TLS/RTP/SAVPF', 'udptl', 'TCP/RTP/AVP', 'X'), fc.array(payload, { maxLength: 6 }), fc.option(fc.tuple(addrType, address)), fc.array(attribute, { maxLength: 8 }))
    .map(([kind, p, proto, pts, c, attributes]) => [`m=${kind} ${p} ${proto} ${pts.join(' ')}`, ...(c ? [`c=IN ${c[0]} ${c[1]}`] : []), ...attributes].join('\r\n'));
  return fc
    .tuple(fc.constantFrom('v=0', 'v=1', '', 'v=0 '), fc.tuple(token, number, number, addrType, address), fc.option(fc.tuple(addrType, address)), fc.option(number), fc.array(attribute, { maxLength: 3 }), fc.array(media, { minLength: 0, maxLength: 3 }), fc.boolean())
    .map(([v, [user, id, version, t, a], c, bandwidth, session, medias, crlf]) => {
      const lines = [v, `o=${user} ${id} ${version} IN ${t} ${a}`, 's=-', ...(c ? [`c=IN ${c[0]} ${c[1]}`] : []), ...(bandwidth !== null ? [`b=AS:${bandwidth}`] : []), 't=0 0', ...session, ...medias, ''];
      return lines.join(crlf ? '\r\n' : '\n');
    });
})();

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fraction, fc.nat(7)).map(([at, bit]) => ({ kind: 'flip' as const, at, bit })) },
  { weight: 3, arbitrary: fc.tuple(fraction, fc.oneof(awkward, junk)).map(([at, text]) => ({ kind: 'insert' as const, at, text })) },
  { weight: 2, arbitrary: fc.tuple(fraction, fc.nat(64)).map(([at, length]) => ({ kind: 'delete' as const, at, length })) },
  { weight: 1, arbitrary: fc.tuple(fraction, fc.nat(2000)).map(([at, length]) => ({ kind: 'duplicate' as const, at, length })) },
  { weight: 1, arbitrary: fraction.map((at) => ({ kind: 'truncate' as const, at })) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('duplicate', 'delete', 'swap', 'fold', 'lf', 'bare-cr', 'nul') as fc.Arbitrary<'duplicate' | 'delete' | 'swap' | 'fold' | 'lf' | 'bare-cr' | 'nul'>, fraction, fraction).map(([op, a, b]) => ({ kind: 'line' as const, op, a, b })) },
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...headerValues), fc.boolean(), fc.boolean()).chain(([[name, values], add, compact]) => values.map((value) => ({ kind: 'header' as const, name: compact ? compactName(name) : name, value, add }))) },
  { weight: 2, arbitrary: sdpBody.map((body) => ({ kind: 'sdp' as const, body })) },
);

/** Compact forms (RFC 3261 7.3.3) where a header has one, else the name in another case. */
function compactName(name: string): string {
  const compact: Record<string, string> = { Via: 'v', From: 'f', To: 't', 'Call-ID': 'i', Contact: 'm', 'Content-Length': 'l', 'Content-Type': 'c', Supported: 'k', Event: 'o', 'Refer-To': 'r' };
  return compact[name] ?? name.toUpperCase();
}

/** Byte and line mutations only: for any text (XML, SDP, JSON). */
export const textMutations: fc.Arbitrary<Mutation[]> = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fraction, fc.nat(7)).map(([at, bit]) => ({ kind: 'flip' as const, at, bit })) },
    { weight: 3, arbitrary: fc.tuple(fraction, fc.oneof(awkward, junk, fc.constantFrom('<', '/>', '<!--', ']]>', '&amp;', '&#0;', '&x;', '<!DOCTYPE x [<!ENTITY a "aaaa">]>', '"', "'", '{', '}', '[', ']', 'null', '-1e999', '\\u0000'))).map(([at, text]) => ({ kind: 'insert' as const, at, text })) },
    { weight: 2, arbitrary: fc.tuple(fraction, fc.nat(64)).map(([at, length]) => ({ kind: 'delete' as const, at, length })) },
    { weight: 1, arbitrary: fc.tuple(fraction, fc.nat(400)).map(([at, length]) => ({ kind: 'duplicate' as const, at, length })) },
    { weight: 1, arbitrary: fraction.map((at) => ({ kind: 'truncate' as const, at })) },
  ),
  { minLength: 1, maxLength: 4 },
);

/** `text` with `mutations` made to it in turn. */
export function mutateText(text: string, mutations: readonly Mutation[]): string {
  return mutations.reduce(apply, text);
}

const fuzzCase: fc.Arbitrary<{ entry: number; mutations: Mutation[] }> = fc.record({ entry: fc.nat(SIP_CORPUS.length - 1), mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }) });

/** `count` cases of batch `batch` of the run with `seed`: the same arguments give the same cases. */
export function fuzzCases(seed: number, batch: number, count: number): FuzzCase[] {
  return fc.sample(fuzzCase, { seed: (seed + Math.imul(batch, 0x9e3779b1)) | 0, numRuns: count }).map(({ entry, mutations }) => ({ entry: SIP_CORPUS[entry]!, mutations }));
}

/** The message of a case, for `at`; and whether it is one no receiver may accept (see {@link knownInvalid}). */
export function render(fuzz: FuzzCase, at: CorpusTarget): { text: string; invalid: boolean } {
  const text = fuzz.mutations.reduce(apply, fuzz.entry.text(at));
  return { text, invalid: knownInvalid(text) };
}

/**
 * Whether a request is one no receiver may accept, by what its text says after every mutation (a
 * later mutation may have repaired what an earlier one broke): a CSeq number over 2^32 - 1 (RFC
 * 3261 8.1.1.5) or a negative Content-Length. Only those: the oracle must never call a valid
 * message invalid.
 */
export function knownInvalid(text: string): boolean {
  if (!/^[A-Za-z]+ /.test(text)) return false;
  // A text that holds a second request (a duplicated span) is two messages on a stream: the
  // responses to both carry the same Call-ID and cannot be told apart, so it is not judged.
  if ((text.match(/^[A-Za-z!%*_+`'~.-]+ \S+ SIP\/2\.0\r?$/gm) ?? []).length > 1) return false;
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  for (const match of head.matchAll(/^cseq[ \t]*:[ \t]*(\d+)[ \t]+[A-Za-z]+[ \t]*$/gim)) if (BigInt(match[1]!) > 4294967295n) return true;
  return /^(content-length|l)[ \t]*:[ \t]*-\d+[ \t]*$/im.test(head);
}

function apply(text: string, m: Mutation): string {
  const at = (fraction: number): number => Math.floor(fraction * (text.length + 1));
  switch (m.kind) {
    case 'flip': {
      const i = Math.min(at(m.at), text.length - 1);
      if (i < 0) return text;
      return text.slice(0, i) + String.fromCharCode((text.charCodeAt(i) ^ (1 << m.bit)) & 0xff) + text.slice(i + 1);
    }
    case 'insert':
      return text.slice(0, at(m.at)) + m.text + text.slice(at(m.at));
    case 'delete':
      return text.slice(0, at(m.at)) + text.slice(at(m.at) + m.length);
    case 'duplicate': {
      const i = at(m.at);
      return text.slice(0, i + m.length) + text.slice(i, i + m.length) + text.slice(i + m.length);
    }
    case 'truncate':
      return text.slice(0, at(m.at));
    case 'line': {
      const end = text.indexOf('\r\n\r\n');
      const head = end < 0 ? text : text.slice(0, end);
      const rest = end < 0 ? '' : text.slice(end);
      const lines = head.split('\r\n');
      const a = Math.floor(m.a * lines.length);
      const b = Math.floor(m.b * lines.length);
      switch (m.op) {
        case 'duplicate':
          lines.splice(b, 0, lines[a]!);
          break;
        case 'delete':
          lines.splice(a, 1);
          break;
        case 'swap':
          [lines[a], lines[b]] = [lines[b]!, lines[a]!];
          break;
        case 'fold':
          lines[a] = lines[a]!.replace(/: ?/, ':\r\n   ');
          break;
        case 'lf':
          return lines.join('\n') + rest.replace('\r\n\r\n', '\n\n');
        case 'bare-cr':
          return lines.join('\r') + rest;
        case 'nul':
          lines[a] = `${lines[a]!}\0`;
          break;
      }
      return lines.join('\r\n') + rest;
    }
    case 'header': {
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return `${text}\r\n${m.name}: ${m.value}`;
      const head = text.slice(0, end);
      const body = text.slice(end);
      const pattern = new RegExp(`^(${escapeRegExp(m.name)})\\s*:.*$`, 'im');
      if (!m.add && pattern.test(head)) return head.replace(pattern, `$1: ${m.value.replace(/\$/g, '$$$$')}`) + body;
      return `${head}\r\n${m.name}: ${m.value}${body}`;
    }
    case 'sdp': {
      const end = text.indexOf('\r\n\r\n');
      const head = end < 0 ? text : text.slice(0, end);
      const fixed = /^(content-length|l)\s*:.*$/im.test(head) ? head.replace(/^(content-length|l)\s*:.*$/im, `Content-Length: ${Buffer.byteLength(m.body, 'latin1')}`) : `${head}\r\nContent-Length: ${Buffer.byteLength(m.body, 'latin1')}`;
      const typed = /^(content-type|c)\s*:/im.test(fixed) ? fixed : `${fixed}\r\nContent-Type: application/sdp`;
      return `${typed}\r\n\r\n${m.body}`;
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
