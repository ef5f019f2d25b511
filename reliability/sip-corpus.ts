/**
 * The SIP fuzzer's seed corpus: ordinary requests and responses an endpoint meets every day, and
 * the torture messages of RFC 4475 (sections 3.1 to 3.3), written for this project from the RFC's
 * descriptions of what each one tests (not copied from it). Each entry is a function of where it
 * goes, so that a message reaches the endpoint under test on any transport.
 */

/** Where a corpus message is sent, and from where. */
export interface CorpusTarget {
  /** `host:port` of the endpoint under test. */
  target: string;
  /** `host:port` the fuzzer sends from (its Via sent-by and Contact). */
  source: string;
  /** The Via transport token: UDP, TCP, TLS or WS. */
  transport: string;
  /** A value unique to this message (branch, Call-ID, tags), so that each one is a new transaction. */
  unique: string;
}

/**
 * - `valid`: a well-formed request the endpoint must answer;
 * - `invalid`: a malformed request: 400 (or no answer), never a 2xx;
 * - `lenient`: malformed, but RFC 4475 lets a receiver that does not need the bad part take it: any
 *   answer but a 5xx;
 * - `response`: a response with no transaction of ours: dropped.
 */
export type CorpusKind = 'valid' | 'invalid' | 'lenient' | 'response';

export interface CorpusEntry {
  name: string;
  kind: CorpusKind;
  /** The RFC 4475 section this entry is written from, if any. */
  rfc4475?: string;
  text(at: CorpusTarget): string;
}

const CRLF = '\r\n';

/** Header lines and a body joined into a message; Content-Length added (correct) unless given. */
function message(lines: readonly string[], body = ''): string {
  const head = lines.some((line) => /^(content-length|l)\s*:/i.test(line)) ? lines : [...lines, `Content-Length: ${Buffer.byteLength(body)}`];
  return head.join(CRLF) + CRLF + CRLF + body;
}

/** A plain SDP offer (PCMU, PCMA, telephone-event), from the fuzzer's address. */
export function sdpOffer(address = '127.0.0.1', port = 40000): string {
  return [
    'v=0',
    `o=fuzz 1 1 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0 8 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join(CRLF);
}

/** The common headers of a request from the fuzzer. */
function headers(at: CorpusTarget, method: string, cseq = 1): string[] {
  return [
    `Via: SIP/2.0/${at.transport} ${at.source};branch=z9hG4bK-${at.unique};rport`,
    'Max-Forwards: 70',
    `From: "Fuzz" <sip:fuzz@${at.source}>;tag=f${at.unique}`,
    `To: <sip:agent@${at.target}>`,
    `Call-ID: ${at.unique}@fuzz.invalid`,
    `CSeq: ${cseq} ${method}`,
  ];
}

function request(method: string, extra: readonly string[] = [], body = ''): (at: CorpusTarget) => string {
  return (at) => message([`${method} sip:agent@${at.target} SIP/2.0`, ...headers(at, method), `Contact: <sip:fuzz@${at.source};transport=${at.transport.toLowerCase()}>`, ...extra], body);
}

function response(status: string, method: string, extra: readonly string[] = [], body = ''): (at: CorpusTarget) => string {
  return (at) =>
    message(
      [
        `SIP/2.0 ${status}`,
        `Via: SIP/2.0/${at.transport} ${at.target};branch=z9hG4bK-${at.unique};received=127.0.0.1`,
        `From: <sip:agent@${at.target}>;tag=a${at.unique}`,
        `To: <sip:fuzz@${at.source}>;tag=f${at.unique}`,
        `Call-ID: ${at.unique}@agent.invalid`,
        `CSeq: 7 ${method}`,
        ...extra,
      ],
      body,
    );
}

const everyday: CorpusEntry[] = [
  { name: 'INVITE with an SDP offer', kind: 'valid', text: (at) => request('INVITE', ['Content-Type: application/sdp', 'Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REFER, NOTIFY', 'Supported: replaces, timer', 'Session-Expires: 1800;refresher=uac'], sdpOffer())(at) },
  { name: 'INVITE without an offer', kind: 'valid', text: request('INVITE', ['Allow: INVITE, ACK, BYE, CANCEL']) },
  { name: 'INVITE with auto-answer headers', kind: 'valid', text: (at) => request('INVITE', ['Content-Type: application/sdp', 'Call-Info: <sip:127.0.0.1>;answer-after=0', 'Alert-Info: <http://127.0.0.1/x>;info=alert-autoanswer', 'X-Genesys-CallUUID: 0123456789ABCDEF'], sdpOffer())(at) },
  { name: 'OPTIONS', kind: 'valid', text: request('OPTIONS', ['Accept: application/sdp']) },
  { name: 'REGISTER', kind: 'valid', text: request('REGISTER', ['Expires: 60']) },
  { name: 'BYE out of dialog', kind: 'valid', text: request('BYE') },
  { name: 'CANCEL out of transaction', kind: 'valid', text: request('CANCEL') },
  { name: 'ACK out of transaction', kind: 'valid', text: request('ACK') },
  { name: 'MESSAGE', kind: 'valid', text: request('MESSAGE', ['Content-Type: text/plain'], 'hello from the fuzzer') },
  { name: 'INFO with DTMF', kind: 'valid', text: request('INFO', ['Content-Type: application/dtmf-relay'], 'Signal=5\r\nDuration=160\r\n') },
  { name: 'NOTIFY of a message summary', kind: 'valid', text: request('NOTIFY', ['Event: message-summary', 'Subscription-State: active;expires=3600', 'Content-Type: application/simple-message-summary'], 'Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2)\r\n') },
  { name: 'SUBSCRIBE', kind: 'valid', text: request('SUBSCRIBE', ['Event: presence', 'Expires: 600', 'Accept: application/pidf+xml']) },
  { name: 'REFER out of dialog', kind: 'valid', text: (at) => request('REFER', [`Refer-To: <sip:other@${at.source}>`, `Referred-By: <sip:fuzz@${at.source}>`])(at) },
  { name: 'UPDATE out of dialog', kind: 'valid', text: (at) => request('UPDATE', ['Content-Type: application/sdp'], sdpOffer())(at) },
  { name: 'PRACK out of dialog', kind: 'valid', text: request('PRACK', ['RAck: 1 1 INVITE']) },
  { name: 'PUBLISH', kind: 'valid', text: request('PUBLISH', ['Event: presence', 'Expires: 60', 'Content-Type: application/pidf+xml'], '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:fuzz@x"/>') },
  { name: '200 OK to an INVITE we did not send', kind: 'response', text: (at) => response('200 OK', 'INVITE', [`Contact: <sip:agent@${at.target}>`, 'Content-Type: application/sdp'], sdpOffer())(at) },
  { name: '180 Ringing', kind: 'response', text: response('180 Ringing', 'INVITE') },
  { name: '401 with a digest challenge', kind: 'response', text: response('401 Unauthorized', 'REGISTER', ['WWW-Authenticate: Digest realm="fuzz", nonce="abc", qop="auth", algorithm=MD5']) },
  { name: '486 Busy Here', kind: 'response', text: response('486 Busy Here', 'INVITE') },
];

/** RFC 4475 3.1.1: valid messages, each stressing a part of the grammar. */
const validTorture: CorpusEntry[] = [
  {
    name: 'short tortuous INVITE (folding, compact forms, odd case and spacing)',
    kind: 'valid',
    rfc4475: '3.1.1.1',
    text: (at) =>
      message(
        [
          `INVITE sip:agent@${at.target};unknownparam;lr=2;unknownuriparam=X SIP/2.0`,
          `TO :${CRLF} agent  <sip:agent@${at.target}>  ;   tag    = 1918181833n`,
          `from   : "Bob \\\\\\"  Fuzz"${CRLF} <sip:fuzz@${at.source}>${CRLF}  ;${CRLF}  tag = f${at.unique}`,
          'MaX-fOrWaRdS: 0068',
          `Call-ID: wsinv.${at.unique}@fuzz.invalid`,
          'Content-Length   : 0',
          `cseq: 0009${CRLF}  INVITE`,
          `Via  : SIP  /   2.0${CRLF} /${at.transport}${CRLF}    ${at.source};branch=z9hG4bK-${at.unique}`,
          `s :${CRLF}`,
          'NewFangledHeader:   newfangled value',
          ` continued newfangled value`,
          'UnknownHeaderWithUnusualValue: ;;,,;;,;',
          'Content-Type: application/sdp',
          `Route:${CRLF} <sip:services.example.invalid;lr;unknownwith=value;unknown-no-value>`,
          `v:  SIP  / 2.0  / ${at.transport}  ${at.source} ;${CRLF}  branch  =   z9hG4bK-x${at.unique}  ;${CRLF}  received=127.0.0.1`,
          `m:"Quoted string \\"\\"" <sip:fuzz@${at.source}> ; newparam =${CRLF}      newvalue ;${CRLF}  secondparam ; q = 0.33`,
        ],
      ),
  },
  {
    name: 'a method name of every token character',
    kind: 'valid',
    rfc4475: '3.1.1.2',
    text: (at) =>
      message([
        `!interesting-Method0123456789_*+\`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@${at.target} SIP/2.0`,
        `Via: SIP/2.0/${at.transport} ${at.source};branch=z9hG4bK-.!%66*_+\`'~${at.unique}`,
        `To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@${at.target}>`,
        `From: token1~\` token2'+_ token3*%!.- <sip:mundane@${at.source}>;fromParam''~+*_!.-%="works on a quoted string"%;tag=_token~1'+\`*%!-.${at.unique}`,
        `Call-ID: intmeth.word%ZK-!.*_+'@word\`~)(><:\\/"][?}{${at.unique}`,
        `CSeq: 139122385 !interesting-Method0123456789_*+\`.%indeed'~`,
        'Max-Forwards: 255',
        'extensionHeader-!.%*+_`\'~: \u00ef\u00bb\u00bf\u5927\u5b9c\u6cf1\u5834',
      ]),
  },
  {
    name: 'valid % escaping in the URIs',
    kind: 'valid',
    rfc4475: '3.1.1.3',
    text: (at) =>
      message([
        `INVITE sip:%61gent@${at.target};%6C%72 SIP/2.0`,
        `To: sip:%61gent@${at.target}`,
        `From: <sip:I%20have%20spaces@${at.source}>;tag=f${at.unique}`,
        'Max-Forwards: 87',
        `i: esc01.${at.unique}`,
        'Content-Length: 0',
        `CSeq: 1 INVITE`,
        `Via: SIP/2.0/${at.transport} ${at.source};branch=z9hG4bK-${at.unique}`,
        `Contact: <sip:cal%6Cer@${at.source};%6C%72;n%61me=v%61lue%25%34%31>`,
      ]),
  },
  {
    name: 'escaped NULs in the URIs',
    kind: 'valid',
    rfc4475: '3.1.1.4',
    text: (at) =>
      message([
        `REGISTER sip:${at.target} SIP/2.0`,
        `To: sip:null-%00-null@${at.target}`,
        `From: sip:null-%00-null@${at.target};tag=f${at.unique}`,
        `Via: SIP/2.0/${at.transport} ${at.source};branch=z9hG4bK-${at.unique}`,
        `Call-ID: escnull.${at.unique}`,
        'CSeq: 3882 REGISTER',
        'Max-Forwards: 70',
        `Contact: <sip:%00@${at.source}>`,
        `Contact: <sip:%00%00@${at.source}>`,
        'L:0',
      ]),
  },
  {
    name: '% that is not an escape (in a display name and a header value)',
    kind: 'valid',
    rfc4475: '3.1.1.5',
    text: (at) =>
      message([
        `RE%47IST%45R sip:${at.target} SIP/2.0`,
        `To: "%Z%45" <sip:resource@${at.target}>`,
        `From: "%Z%45" <sip:resource@${at.target}>;tag=f${at.unique}`,
        `Via: SIP/2.0/${at.transport} ${at.source};branch=z9hG4bK-${at.unique}`,
        `Call-ID: esc02.${at.unique}`,
        'CSeq: 29344 RE%47IST%45R',
        'Max-Forwards: 70',
        `Contact: <sip:alias1@${at.source}>`,
        `Contact: "%" <sip:alias2@${at.source}>`,
        `Contact: "Alias3%" <sip:alias3@${at.source}>`,
        'l: 0',
      ]),
  },
  {
    name: 'no whitespace between a display name and <',
    kind: 'valid',
    rfc4475: '3.1.1.6',
    text: (at) => message([`OPTIONS sip:agent@${at.target} SIP/2.0`, `To: sip:agent@${at.target}`, `From: caller<sip:fuzz@${at.source}>;tag=f${at.unique}`, `Max-Forwards: 70`, `Call-ID: lwsdisp.${at.unique}`, 'CSeq: 1 OPTIONS', `Via: SIP/2.0/${at.transport} ${at.source};branch=z9hG4bK-${at.unique}`, 'l: 0']),
  },
  {
    name: 'long header values (a long tag, branch, Call-ID, many Via headers)',
    kind: 'valid',
    rfc4475: '3.1.1.7',
    text: (at) => {
      const long = 'longvalue'.repeat(40);
      return message(
        [
          `INVITE sip:agent@${at.target} SIP/2.0`,
          `To: "I have a user name of ${'extreme'.repeat(20)} proportion" <sip:agent@${at.target}:6000;unknownparam1=very${long};longparamnamenamenamenamename=shortvalue>`,
          `From: sip:${'amazinglylongcallername'.repeat(8)}@${at.source};tag=${'12982424'.repeat(20)}${at.unique}`,
          `Call-ID: longreq.${'onereallylongcallid'.repeat(20)}${at.unique}`,
          'CSeq: 3882340 INVITE',
          `Unknown-${'LongLong'.repeat(20)}-Name: unknown-${'long'.repeat(50)}-value; unknown-${'long'.repeat(30)}-parameter-name = unknown-long-parameter-value`,
          `Via: SIP/2.0/${at.transport} ${at.source};branch=z9hG4bK-${at.unique}`,
          ...Array.from({ length: 34 }, (_, i) => `Via: SIP/2.0/TCP sip${i}.example.invalid;branch=z9hG4bK-${'x'.repeat(60)}${i}`),
          'Max-Forwards: 70',
          `Contact: <sip:${'amazinglylongcallername'.repeat(8)}@${at.source}>`,
          'Content-Type: application/sdp',
        ],
        sdpOffer(),
      );
    },
  },
  {
    name: 'two requests in one datagram (the trailing one is not a message of its own)',
    kind: 'valid',
    rfc4475: '3.1.1.8',
    text: (at) => request('REGISTER', ['Expires: 60'])(at) + request('INVITE', ['Content-Type: application/sdp'], sdpOffer())({ ...at, unique: `${at.unique}b` }),
  },
  {
    name: 'semicolons in the user part of URIs',
    kind: 'valid',
    rfc4475: '3.1.1.9',
    text: (at) => message([`OPTIONS sip:user;par=u%40example.net@${at.target} SIP/2.0`, `To: sip:j_user@${at.target}`, `From: sip:caller@${at.source};tag=f${at.unique}`, `Call-ID: semiuri.${at.unique}`, 'CSeq: 8 OPTIONS', `Via: SIP/2.0/${at.transport} ${at.source};branch=z9hG4bK-${at.unique}`, 'Accept: application/sdp, application/pkcs7-mime,', '        multipart/mixed, multipart/signed,', '        message/sip, message/sipfrag', 'Max-Forwards: 70', 'l: 0']),
  },
  {
    name: 'unknown transport tokens in Via headers',
    kind: 'valid',
    rfc4475: '3.1.1.10',
    text: (at) =>
      message([
        `OPTIONS sip:agent@${at.target} SIP/2.0`,
        `To: sip:agent@${at.target}`,
        `From: <sip:caller@${at.source}>;tag=f${at.unique}`,
        `Call-ID: transports.${at.unique}`,
        'CSeq: 1 OPTIONS',
        `Via: SIP/2.0/${at.transport} ${at.source};branch=z9hG4bK-${at.unique}`,
        'Via: SIP/2.0/SCTP t2.example.invalid;branch=z9hG4bKklasjdhf',
        'Via: SIP/2.0/TLS t3.example.invalid;branch=z9hG4bK2980unddj',
        'Via: SIP/2.0/UNKNOWN t4.example.invalid;branch=z9hG4bKasd0f3en',
        'Via: SIP/2.0/TCP t5.example.invalid;branch=z9hG4bK0a9idfnee',
        'Max-Forwards: 70',
        'l: 0',
      ]),
  },
  {
    name: 'multipart MIME body (SDP and a binary part)',
    kind: 'valid',
    rfc4475: '3.1.1.11',
    text: (at) => {
      const body = ['--boundary42', 'Content-Type: application/sdp', '', sdpOffer(), '--boundary42', 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: binary', '', '\u0001\u0002\u00ff\u0000binary', '--boundary42--', ''].join(CRLF);
      return request('INVITE', ['Content-Type: multipart/mixed;boundary=boundary42'], body)(at);
    },
  },
  { name: 'a reason phrase of unusual characters', kind: 'response', rfc4475: '3.1.1.12', text: response('200 = 2**3 * 5**2 \u043d\u043e \u0441\u0442\u043e', 'INVITE') },
  { name: 'an empty reason phrase', kind: 'response', rfc4475: '3.1.1.13', text: response('200 ', 'INVITE') },
];

/** RFC 4475 3.1.2, 3.2 and 3.3: invalid messages. None may get a 2xx. */
const invalidTorture: CorpusEntry[] = [
  { name: 'extraneous header separators (a header with two colons in the middle of a name)', kind: 'lenient', rfc4475: '3.1.2.1', text: (at) => request('INVITE', ['Content-Type: application/sdp', 'Expires:: 60::'], sdpOffer())(at).replace('Max-Forwards: 70', 'Max-Forwards: 70\r\nTo: <sip:agent@' + at.target + '>;;,,;;') },
  { name: 'Content-Length larger than the message', kind: 'invalid', rfc4475: '3.1.2.2', text: (at) => message([...request('INVITE')(at).split(CRLF).slice(0, 8), 'Content-Type: application/sdp', 'Content-Length: 9999'], sdpOffer()) },
  { name: 'negative Content-Length', kind: 'invalid', rfc4475: '3.1.2.3', text: (at) => message([...request('INVITE')(at).split(CRLF).slice(0, 8), 'Content-Type: application/sdp', 'Content-Length: -999'], sdpOffer()) },
  {
    name: 'request scalar fields with overlarge values',
    kind: 'invalid',
    rfc4475: '3.1.2.4',
    text: (at) => message([`REGISTER sip:${at.target} SIP/2.0`, `Via: SIP/2.0/${at.transport} ${at.source};branch=z9hG4bK-${at.unique}`, 'Max-Forwards: 300', `From: <sip:fuzz@${at.source}>;tag=f${at.unique}`, `To: <sip:agent@${at.target}>`, `Call-ID: scalar02.${at.unique}`, 'CSeq: 36893488147419103232 REGISTER', `Contact: <sip:fuzz@${at.source}>;expires=280297596632815`, 'Expires: 1020202020202020202020202020202020202020202020202'], ''),
  },
  {
    name: 'a large CSeq alone (2^32)',
    kind: 'invalid',
    text: (at) => request('OPTIONS')(at).replace('CSeq: 1 OPTIONS', 'CSeq: 4294967296 OPTIONS'),
  },
  {
    name: 'response scalar fields with overlarge values',
    kind: 'response',
    rfc4475: '3.1.2.5',
    text: (at) => response('503 Service Unavailable', 'INVITE', ['Warning: 1812 overture "In Progress"', 'Retry-After: 949302838503028349304023988'])(at).replace('CSeq: 7 INVITE', 'CSeq: 36893488147419103232 INVITE'),
  },
  { name: 'unterminated quoted string in a display name', kind: 'invalid', rfc4475: '3.1.2.6', text: (at) => request('INVITE', ['Content-Type: application/sdp'], sdpOffer())(at).replace('From: "Fuzz" <', 'From: "Fuzz <') },
  { name: '<> around the Request-URI', kind: 'invalid', rfc4475: '3.1.2.7', text: (at) => request('INVITE', ['Content-Type: application/sdp'], sdpOffer())(at).replace(`INVITE sip:agent@${at.target} SIP/2.0`, `INVITE <sip:agent@${at.target}> SIP/2.0`) },
  { name: 'whitespace inside the Request-URI', kind: 'lenient', rfc4475: '3.1.2.8', text: (at) => request('INVITE', ['Content-Type: application/sdp'], sdpOffer())(at).replace(`INVITE sip:agent@${at.target} SIP/2.0`, `INVITE sip:agent@${at.target}; lr SIP/2.0`) },
  { name: 'several spaces between Request-Line elements', kind: 'lenient', rfc4475: '3.1.2.9', text: (at) => request('INVITE', ['Content-Type: application/sdp'], sdpOffer())(at).replace(`INVITE sip:agent@${at.target} SIP/2.0`, `INVITE  sip:agent@${at.target}  SIP/2.0`) },
  { name: 'spaces at the end of the Request-Line', kind: 'lenient', rfc4475: '3.1.2.10', text: (at) => request('OPTIONS')(at).replace(`OPTIONS sip:agent@${at.target} SIP/2.0`, `OPTIONS sip:agent@${at.target} SIP/2.0   `) },
  { name: 'escaped headers in the Request-URI', kind: 'lenient', rfc4475: '3.1.2.11', text: (at) => request('INVITE', ['Content-Type: application/sdp'], sdpOffer())(at).replace(`INVITE sip:agent@${at.target} SIP/2.0`, `INVITE sip:agent@${at.target}?Route=%3Csip:example.com%3E SIP/2.0`) },
  { name: 'a Date with a time zone other than GMT', kind: 'lenient', rfc4475: '3.1.2.12', text: request('INVITE', ['Date: Fri, 01 Jan 2010 16:00:00 EST', 'Content-Type: application/sdp'], sdpOffer()) },
  { name: 'a name-addr URI with parameters not in <>', kind: 'lenient', rfc4475: '3.1.2.13', text: (at) => request('REGISTER')(at).replace(/Contact: <([^>]*)>/, 'Contact: sip:fuzz@127.0.0.1;user=phone;expires=60') },
  { name: 'spaces inside an addr-spec', kind: 'invalid', rfc4475: '3.1.2.14', text: (at) => request('OPTIONS')(at).replace(`To: <sip:agent@${at.target}>`, `To: <sip:agent @ ${at.target}>`) },
  { name: 'non-token characters in an unquoted display name', kind: 'lenient', rfc4475: '3.1.2.15', text: (at) => request('OPTIONS')(at).replace('From: "Fuzz" <', 'From: Fuzz, the "name"; <') },
  { name: 'unknown protocol version', kind: 'invalid', rfc4475: '3.1.2.16', text: (at) => request('OPTIONS')(at).replace(' SIP/2.0\r\n', ' SIP/7.0\r\n') },
  { name: 'Request-Line method and CSeq method differ', kind: 'invalid', rfc4475: '3.1.2.17', text: (at) => request('OPTIONS')(at).replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE') },
  { name: 'an unknown method with a CSeq of another method', kind: 'invalid', rfc4475: '3.1.2.18', text: (at) => request('NEWMETHOD')(at).replace('CSeq: 1 NEWMETHOD', 'CSeq: 1 INVITE') },
  { name: 'a response code over 699', kind: 'response', rfc4475: '3.1.2.19', text: response('4294967301 better not break the receiver', 'INVITE') },
  { name: 'a Via branch without the magic cookie, and an unknown method', kind: 'valid', rfc4475: '3.2.1', text: (at) => request('OPTIONS')(at).replace(`branch=z9hG4bK-${at.unique}`, `branch=${at.unique}`) },
  { name: 'missing required headers (no Call-ID, From, To)', kind: 'invalid', rfc4475: '3.3.1', text: (at) => request('INVITE', ['Content-Type: application/sdp'], sdpOffer())(at).replace(/^(From|To|Call-ID): .*\r\n/gm, '') },
  { name: 'a Request-URI of an unknown scheme', kind: 'invalid', rfc4475: '3.3.2', text: (at) => request('OPTIONS')(at).replace(`OPTIONS sip:agent@${at.target}`, 'OPTIONS nobodyknowsthisscheme:totallyopaquecontent') },
  { name: 'unknown schemes in To, From and Contact', kind: 'valid', rfc4475: '3.3.3', text: (at) => request('OPTIONS')(at).replace(`To: <sip:agent@${at.target}>`, 'To: isbn:2983792873').replace(/From: "Fuzz" <[^>]*>/, 'From: <http://www.example.invalid/>').replace(/Contact: <[^>]*>/, 'Contact: <name@127.0.0.1>') },
  { name: 'a Require of an unknown extension', kind: 'valid', rfc4475: '3.3.4', text: request('OPTIONS', ['Require: nothingpeopleknowabout']) },
  { name: 'several values in single-value headers (two Call-IDs, two CSeqs)', kind: 'invalid', rfc4475: '3.3.5', text: (at) => request('INVITE', ['Content-Type: application/sdp', `Call-ID: second.${at.unique}`, 'CSeq: 2 INVITE'], sdpOffer())(at) },
  { name: 'two Content-Length headers', kind: 'invalid', rfc4475: '3.3.6', text: (at) => request('INVITE', ['Content-Type: application/sdp', 'Content-Length: 10'], sdpOffer())(at).replace('Content-Length: 10', `Content-Length: ${Buffer.byteLength(sdpOffer())}\r\nContent-Length: 10`) },
  { name: 'a Via with a broadcast address', kind: 'response', rfc4475: '3.3.7', text: (at) => response('200 OK', 'OPTIONS')(at).replace(/Via: SIP\/2.0\/\w+ [^;]+/, 'Via: SIP/2.0/UDP 255.255.255.255') },
  { name: 'Max-Forwards 0', kind: 'valid', rfc4475: '3.3.8', text: (at) => request('OPTIONS')(at).replace('Max-Forwards: 70', 'Max-Forwards: 0') },
  { name: 'a REGISTER with a Contact parameter', kind: 'valid', rfc4475: '3.3.9', text: (at) => request('REGISTER')(at).replace(/Contact: <([^>]*)>/, 'Contact: <$1>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";newparam=newvalue') },
  { name: 'an INVITE whose body type is not SDP', kind: 'valid', rfc4475: '3.3.10', text: request('INVITE', ['Content-Type: application/unknownformat'], 'the body of an unknown format') },
  { name: 'an INVITE whose SDP has no media of ours (video only)', kind: 'valid', rfc4475: '3.3.11', text: request('INVITE', ['Content-Type: application/sdp'], ['v=0', 'o=fuzz 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=video 40000 RTP/AVP 96', 'a=rtpmap:96 H264/90000', ''].join(CRLF)) },
  { name: 'an INVITE with a body and no Content-Type', kind: 'lenient', rfc4475: '3.3.12', text: request('INVITE', [], sdpOffer()) },
  { name: 'a CSeq of 0', kind: 'valid', text: (at) => request('OPTIONS')(at).replace('CSeq: 1 OPTIONS', 'CSeq: 0 OPTIONS') },
  { name: 'an IPv6 reference without brackets in the Request-URI', kind: 'lenient', text: (at) => request('OPTIONS')(at).replace(`OPTIONS sip:agent@${at.target}`, 'OPTIONS sip:agent@2001:db8::10:5070') },
  { name: 'a Via with an IPv6 reference in brackets', kind: 'valid', text: (at) => request('OPTIONS')(at).replace(/Via: SIP\/2.0\/(\w+) [^;]+/, `Via: SIP/2.0/$1 [2001:db8::9:1]:5060;received=${at.source.split(':')[0]}`) },
];

/** The whole corpus. */
export const SIP_CORPUS: readonly CorpusEntry[] = [...everyday, ...validTorture, ...invalidTorture];
