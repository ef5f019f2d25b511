/**
 * Building blocks of sipp scenarios in which sipp plays SIP Server driving an agent's endpoint
 * (sipp keywords in brackets).
 */
export const SDP = (direction = 'sendrecv', address = '[media_ip]', port = '[media_port]') => `v=0
o=- 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 ${address}
t=0 0
m=audio ${port} RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=${direction}
`;

export const FROM = 'From: <sip:sipserver@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]';
/** The INVITE's branch, written out so that CANCEL and the ACK of a failure can repeat it. */
export const INVITE_BRANCH = 'z9hG4bK[pid]i[call_number]';

/** An INVITE; `sdp` null sends it without a body (a delayed offer, as 3pcc make-call does). */
export const INVITE = (extraHeaders = '', sdp: string | null = SDP()) => `
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=${INVITE_BRANCH};rport
${FROM}
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipserver@[local_ip]:[local_port]>
Max-Forwards: 70
${extraHeaders}${sdp !== null ? 'Content-Type: application/sdp\n' : ''}Content-Length: [len]

${sdp ?? ''}`;

/** An in-dialog request from sipp (our To tag kept in $totag by `recv(..., true)`). */
export const IN_DIALOG = (method: string, cseq: number, extraHeaders = '', body = '') => `
${method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
${FROM}
To: <sip:[service]@[remote_ip]:[remote_port]>;tag=[$totag]
Call-ID: [call_id]
CSeq: ${cseq} ${method}
Contact: <sip:sipserver@[local_ip]:[local_port]>
Max-Forwards: 70
${extraHeaders}${body ? 'Content-Type: application/sdp\n' : ''}Content-Length: [len]

${body}`;

export const ACK = (cseq = 1, body = '') => IN_DIALOG('ACK', cseq, '', body);

/** CANCEL, and the ACK of a non-2xx final response: the INVITE's branch and CSeq number. */
export const SAME_TRANSACTION = (method: 'CANCEL' | 'ACK') => `
${method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=${INVITE_BRANCH};rport
${FROM}
${method === 'ACK' ? '[last_To:]' : 'To: <sip:[service]@[remote_ip]:[remote_port]>'}
Call-ID: [call_id]
CSeq: 1 ${method}
Max-Forwards: 70
Content-Length: 0

`;

/** sipp's 200 OK to a request the endpoint sent (a re-INVITE), with an SDP answer. */
export const OK_WITH_SDP = (sdp: string) => `
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:sipserver@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

${sdp}`;

// sipp refuses a variable used only once: $dummy (where checks put what they match) is set twice first.
export const scenario = (name: string, steps: string[]) => `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="${name}">
<nop><action><assignstr assign_to="dummy" value=""/><assignstr assign_to="dummy" value=""/></action></nop>
${steps.join('\n')}
</scenario>
`;

export const send = (message: string, attributes = '') => `<send${attributes}><![CDATA[${message}]]></send>`;
export const pause = (ms: number) => `<pause milliseconds="${ms}"/>`;

/** A `<recv>` whose regular expressions must match (`check_it`); `captureToTag` keeps our To tag in `$totag`. */
export function recv(what: string, checks: { header?: string; regexp: string }[] = [], attributes = '', captureToTag = false): string {
  const actions = checks.map((check) =>
    check.header ? `<ereg regexp="${check.regexp}" search_in="hdr" header="${check.header}" check_it="true" assign_to="dummy"/>` : `<ereg regexp="${check.regexp}" search_in="body" check_it="true" assign_to="dummy"/>`,
  );
  if (captureToTag) actions.push('<ereg regexp=";tag=([^;> ]+)" search_in="hdr" header="To:" assign_to="dummy,totag"/>');
  return `<recv ${what}${attributes}>${actions.length ? `<action>${actions.join('')}</action>` : ''}</recv>`;
}

export const AUTO_ANSWER = 'Alert-Info: <http://127.0.0.1>;info=alert-autoanswer\n';

/**
 * INVITE (with SDP unless `sdp` is null), answered by the endpoint: 200 with SDP, ACK. With
 * `lossy`, each retransmitted 200 (our ACK was lost) gets another ACK for 1.2 s, as a UAC core does.
 */
export const ESTABLISH = (headers = AUTO_ANSWER, sdp: string | null = SDP(), ackBody = '', lossy = false) => [
  send(INVITE(headers, sdp), ' retrans="500"'),
  '<recv response="100" optional="true"/>',
  '<recv response="180" optional="true"/>',
  recv('response="200"', [{ header: 'CSeq:', regexp: 'INVITE' }, { regexp: 'm=audio [0-9]+ RTP/AVP 0' }], ' rrs="true"', true),
  send(ACK(1, ackBody)),
  // Lossy: each retransmitted 200 (its ACK was lost) is ACKed again, until none comes for 4.5 s.
  // The 200's retransmissions double up to T2, 4 s apart (RFC 3261 13.3.1.4): a shorter wait
  // once let a late one arrive while sipp waited for the BYE's 200, and failed the call.
  ...(lossy ? ['<label id="1"/>', recv('response="200"', [{ header: 'CSeq:', regexp: 'INVITE' }], ' timeout="4500" ontimeout="2"'), send(ACK(1, ackBody), ' next="1"'), '<label id="2"/>'] : []),
];

export const HANG_UP = (cseq: number) => [send(IN_DIALOG('BYE', cseq), ' retrans="500"'), recv('response="200"', [{ header: 'CSeq:', regexp: 'BYE' }])];

/**
 * BYE after a lossy ESTABLISH: the endpoint may still be retransmitting its 200 to the INVITE (every
 * ACK so far lost, and the last retransmissions too, so that the 4.5 s wait ended), and such a 200
 * can come before the BYE's. It is ACKed and the BYE sent again from the same step (the same
 * branch: a retransmission), until the BYE's 200 comes, or a 481 (the first BYE had ended the
 * dialog and its 200 was lost).
 */
export const HANG_UP_LOSSY = (cseq: number, ackBody = '') => [
  '<label id="3"/>',
  send(IN_DIALOG('BYE', cseq), ' retrans="500"'),
  '<recv response="481" optional="true" next="4"/>',
  '<recv response="200"><action><ereg regexp="BYE" search_in="hdr" header="CSeq:" check_it="false" assign_to="bye"/></action></recv>',
  '<nop test="bye" next="4"/>',
  send(ACK(1, ackBody), ' next="3"'),
  '<label id="4"/>',
];


/**
 * An INVITE the endpoint must refuse at once with `status` (no 180 first: the policy decides
 * before anything rings), and the ACK of the refusal. `checks` are matched against the refusal.
 */
export const REFUSED = (status: number, headers = AUTO_ANSWER, sdp: string | null = SDP(), checks: { header?: string; regexp: string }[] = []) => [
  send(INVITE(headers, sdp), ' retrans="500"'),
  '<recv response="100" optional="true"/>',
  recv(`response="${status}"`, [{ header: 'CSeq:', regexp: '1 INVITE' }, ...checks]),
  send(SAME_TRANSACTION('ACK')),
];

/** sipp's response to the request it received last (as a UAS), with `sdp` as body or none. */
export const RESPONSE = (status: string, sdp?: string, toTag = '') => `
SIP/2.0 ${status}
[last_Via:]
[last_From:]
[last_To:]${toTag ? `;tag=${toTag}` : ''}
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:sipserver@[local_ip]:[local_port]>
${sdp !== undefined ? 'Content-Type: application/sdp\n' : ''}Content-Length: [len]

${sdp ?? ''}`;
