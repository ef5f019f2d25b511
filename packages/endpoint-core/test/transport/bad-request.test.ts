// @serial-test: a sipp scenario expects each message in its order; a slowed endpoint retransmits and breaks it. Runs alone, after the others (scripts/run-jest.cjs).
import { createSocket, type Socket } from 'node:dgram';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Call, Endpoint } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { sleep, standaloneEndpoint, waitFor } from '../support/endpoints';
import { assertSippPassed, runSipp, sippAvailable } from '../support/sipp';

// This file's ports, from this jest worker's range, taken when it loads (the tables below name
// them): the agent's SIP ports (UDP and TCP), the raw socket's, sipp's and its media ports.
const AGENT_SIP = testPorts(7);
const RAW_PORT = testPorts(1);
const SIPP_PORT = testPorts(1);
const SIPP_MEDIA = testPorts(4);

/** A raw SIP request from the test's socket, with `\r\n` line ends; `edit` changes or removes lines. */
function request(method: string, options: { uri?: string; headers?: Record<string, string | null>; body?: string; contentLength?: string } = {}): { text: string; branch: string; callId: string } {
  const token = randomBytes(6).toString('hex');
  const branch = `z9hG4bK${token}`;
  const callId = `${token}@127.0.0.1`;
  const headers: Record<string, string | null> = {
    Via: `SIP/2.0/UDP 127.0.0.1:${RAW_PORT};branch=${branch};rport`,
    From: `<sip:tester@127.0.0.1>;tag=${token}`,
    To: '<sip:agent@127.0.0.1>',
    'Call-ID': callId,
    CSeq: `1 ${method}`,
    Contact: `<sip:tester@127.0.0.1:${RAW_PORT}>`,
    'Max-Forwards': '70',
    ...(options.body !== undefined ? { 'Content-Type': 'application/sdp' } : {}),
    ...options.headers,
  };
  const body = options.body ?? '';
  const lines = Object.entries(headers)
    .filter((entry): entry is [string, string] => entry[1] !== null)
    .map(([name, value]) => `${name}: ${value}`);
  lines.push(`Content-Length: ${options.contentLength ?? Buffer.byteLength(body)}`);
  return { text: [`${method} ${options.uri ?? 'sip:agent@127.0.0.1'} SIP/2.0`, ...lines, '', body].join('\r\n'), branch, callId };
}

const GOOD_SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${SIPP_MEDIA} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

describe('bad input on the SIP port of an endpoint', () => {
  let agent: Endpoint;
  let caller: Endpoint;
  let socket: Socket;
  let agentPort: number;
  const received: string[] = [];
  const incoming: Call[] = [];

  beforeAll(async () => {
    agent = standaloneEndpoint('agent', AGENT_SIP, testPorts(50), 500, { 'policy.endpoint.sip_transaction_timeout': '4000' }).endpoint;
    caller = standaloneEndpoint('caller', testPorts(7), testPorts(50), 900, { 'policy.endpoint.sip_transaction_timeout': '4000' }).endpoint;
    await agent.start();
    await caller.start();
    agentPort = agent.lines[0]!.port!;
    agent.on('incomingCall', (call) => incoming.push(call));
    socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(RAW_PORT, '127.0.0.1', resolve));
    socket.on('message', (data) => received.push(data.toString()));
  });

  afterAll(async () => {
    socket.close();
    await caller.stop();
    await agent.stop();
  });

  /**
   * Sends one datagram and returns what came back within `ms`; when `answers` are expected, they
   * are waited for however long they take (up to 5 s), then what else comes until `ms` is over.
   * With none expected, the `ms` of silence is the behaviour under test.
   */
  async function exchange(data: string | Buffer, ms = 700, answers = 0): Promise<string[]> {
    received.length = 0;
    const sent = Date.now();
    socket.send(data, agentPort, '127.0.0.1');
    if (answers > 0) await waitFor(() => received.length >= answers, 5000, `${answers} answer(s)`);
    await sleep(Math.max(0, ms - (Date.now() - sent)));
    return [...received];
  }

  /** A normal call from the caller endpoint, answered automatically, is set up and ended. */
  async function normalCallWorks(): Promise<void> {
    const before = incoming.length;
    const call = await caller.makeCall(`sip:agent@127.0.0.1:${agentPort}`, { headers: { 'Alert-Info': '<http://127.0.0.1>;info=alert-autoanswer' } });
    await waitFor(() => call.state === 'CONNECTED' && incoming[before]?.state === 'CONNECTED', 5000);
    await call.hangup();
    await waitFor(() => incoming[before]!.state === 'DISCONNECTED');
  }

  const status = (response: string): number => Number(/^SIP\/2\.0 (\d{3})/.exec(response)?.[1] ?? 0);

  it.each([
    ['random bytes', randomBytes(300)],
    ['text that is not SIP', 'HELLO WORLD\r\nthis is not: sip\r\n\r\n'],
    ['a request without Call-ID', request('OPTIONS', { headers: { 'Call-ID': null } }).text],
    ['a request without Via', request('OPTIONS', { headers: { Via: null } }).text],
    ['an ACK that does not parse', request('ACK', { headers: { CSeq: 'one ACK' } }).text],
    ['a response to nothing', ['SIP/2.0 200 OK', `Via: SIP/2.0/UDP 127.0.0.1:${AGENT_SIP};branch=z9hG4bKnothing`, 'From: <sip:agent@127.0.0.1>;tag=a', 'To: <sip:x@127.0.0.1>;tag=b', 'Call-ID: nothing@127.0.0.1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n')],
    ['a response whose CSeq does not parse', ['SIP/2.0 200 OK', `Via: SIP/2.0/UDP 127.0.0.1:${AGENT_SIP};branch=z9hG4bKbadcseq`, 'From: <sip:agent@127.0.0.1>;tag=a', 'To: <sip:x@127.0.0.1>;tag=b', 'Call-ID: badcseq@127.0.0.1', 'CSeq: abc', 'Content-Length: 0', '', ''].join('\r\n')],
  ])('drops %s without answering, and a call still works', async (_name, data) => {
    expect(await exchange(data)).toEqual([]);
    await normalCallWorks();
  }, 15000);

  it.each([
    ['a CSeq that does not parse', { headers: { CSeq: 'one OPTIONS' } }, /does not parse|CSeq/],
    ['a CSeq method that is not the request method', { headers: { CSeq: '1 BYE' } }, /CSeq method BYE/],
    ['a CSeq number beyond 32 bits (2**65)', { headers: { CSeq: '36893488147419103232 OPTIONS' } }, /CSeq number 36893488147419103232 is larger than 2\*\*32 - 1/],
    ['a CSeq number of 2**32', { headers: { CSeq: '4294967296 OPTIONS' } }, /CSeq number 4294967296 is larger/],
    ['a Content-Length that is not a number', { contentLength: 'abc' }, /Content-Length/i],
    ['a Content-Length beyond the datagram', { body: 'v=0\r\n', contentLength: '500' }, /Content-Length 500/],
    ['a Request-URI that does not parse', { uri: '<<sip:agent>>' }, /first line|parse/],
    ['a From that does not parse', { headers: { From: '<<<garbage' } }, /From|parse/],
    ['a 9000-byte header line', { headers: { Subject: 'x'.repeat(9000) } }, /longer than 8192 bytes/],
    ['300 header fields', { headers: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`X-Filler-${i}`, 'x'])) }, /308 header fields, more than 256/],
    ['two Call-IDs (RFC 4475 3.3.5; an INVITE like it was answered 200: found by the fuzzer)', { headers: { 'call-id': 'second@127.0.0.1' } }, /call-id header appears more than once/],
    ['two CSeqs', { headers: { cseq: '2 OPTIONS' } }, /cseq header appears more than once/],
    ['two Content-Lengths (RFC 4475 3.3.6)', { headers: { 'Content-Length': '0' } }, /content-length header appears more than once/],
  ])('answers a request with %s with 400 Bad Request (same Via, Call-ID, CSeq; a To tag), again on its retransmission, and a call still works', async (_name, options, why) => {
    const bad = request('OPTIONS', options as Parameters<typeof request>[1]);
    const responses = await exchange(bad.text, 700, 1);
    expect(responses.map(status)).toEqual([400]);
    const response = responses[0]!;
    expect(response).toContain(`branch=${bad.branch}`);
    expect(response).toContain(`Call-ID: ${bad.callId}`);
    expect(response).toMatch(/^To: <sip:agent@127\.0\.0\.1>;tag=\w+/m);
    expect(/^Warning: 399 \S+ "(.*)"$/m.exec(response)?.[1]).toMatch(why);
    // A retransmission of the same request gets the same answer.
    expect(await exchange(bad.text, 400, 1)).toEqual([response]);
    await normalCallWorks();
  }, 15000);

  it.each([
    ['a body that is not SDP', 'this is not an SDP body\r\n'],
    ['SDP without o= and m= lines', 'v=0\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n'],
    ['SDP whose audio line does not parse (no audio stream left)', GOOD_SDP.replace(`m=audio ${SIPP_MEDIA}`, 'm=audio port')],
  ])('answers an INVITE whose offer is %s with 488 until its ACK, never rings, and a call still works', async (_name, body) => {
    const before = incoming.length;
    const invite = request('INVITE', { body, headers: { 'Alert-Info': '<http://127.0.0.1>;info=alert-autoanswer' } });
    const responses = await exchange(invite.text, 800, 2);
    // The 488, retransmitted (Timer G) until the ACK comes.
    expect(responses.length).toBeGreaterThanOrEqual(2);
    expect(new Set(responses.map(status))).toEqual(new Set([488]));
    expect(responses[0]).toMatch(/^Warning: 399 \S+ "the SDP offer (does not parse: |has no audio stream)/m);
    const toTag = /^To: .*;tag=(\w+)/m.exec(responses[0]!)?.[1];
    const ack = request('ACK', { headers: { Via: `SIP/2.0/UDP 127.0.0.1:${RAW_PORT};branch=${invite.branch};rport`, 'Call-ID': invite.callId, To: `<sip:agent@127.0.0.1>;tag=${toTag}`, CSeq: '1 ACK' } });
    // The ACK must keep the INVITE's From tag.
    const from = /^From: .*$/m.exec(invite.text)![0];
    await exchange(ack.text.replace(/^From: .*$/m, from), 10);
    // A 488 already on its way when the ACK left may still come: 200 ms for it, not counted. Then
    // 2.5 s of silence (Timer G would have resent it by then) is the behaviour under test.
    await sleep(200);
    expect(await exchange(Buffer.alloc(0), 2500)).toEqual([]); // no more 488s once ACKed
    expect(incoming.length).toBe(before);
    await normalCallWorks();
  }, 20000);

  it('answers an auto-answer INVITE whose body has no Content-Type with 400 and never rings (it used to ring for ever: the answer failed in sip.js; found by the fuzzer)', async () => {
    const before = incoming.length;
    const invite = request('INVITE', { body: GOOD_SDP, headers: { 'Content-Type': null, 'Alert-Info': '<http://127.0.0.1>;info=alert-autoanswer' } });
    const responses = await exchange(invite.text, 700, 1);
    expect(responses.map(status).filter((code) => code >= 200)[0]).toBe(400);
    expect(responses.find((response) => status(response) === 400)).toMatch(/^Warning: 399 \S+ "the request has a body and no Content-Type/m);
    expect(incoming.length).toBe(before);
    expect(agent.calls).toEqual([]);
    await normalCallWorks();
  }, 15000);

  it('still answers a well-formed OPTIONS with 200 (the screening lets good requests through)', async () => {
    const responses = await exchange(request('OPTIONS').text, 700, 1);
    expect(responses.map(status)).toEqual([200]);
  }, 15000);

  it('answers a bad request on a TCP connection with 400 on that connection', async () => {
    const bad = request('OPTIONS', { headers: { CSeq: '1 INFO', Via: `SIP/2.0/TCP 127.0.0.1:${RAW_PORT};branch=z9hG4bKtcp${randomBytes(4).toString('hex')}` } });
    const connection = connect({ host: '127.0.0.1', port: agentPort, localAddress: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => connection.once('connect', resolve).once('error', reject));
    let text = '';
    connection.on('data', (chunk: Buffer) => (text += chunk.toString()));
    connection.write(bad.text);
    await waitFor(() => /\r\n\r\n/.test(text), 5000, 'the response on the connection');
    connection.destroy();
    expect(status(text)).toBe(400);
    expect(text).toContain(`Call-ID: ${bad.callId}`);
    await normalCallWorks();
  }, 15000);

  (sippAvailable() ? it : it.skip)('takes a normal call from sipp after all of the above', async () => {
    const result = await runSipp({
      remotePort: agentPort,
      localPort: SIPP_PORT,
      mediaPort: SIPP_MEDIA,
      rtpEcho: true,
      scenario: `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="normal call">
<send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Alert-Info: <http://127.0.0.1>;info=alert-autoanswer
Content-Type: application/sdp
Content-Length: [len]

v=0
o=- 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="200" rrs="true"/>
<send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
<pause milliseconds="500"/>
<send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="200"/>
</scenario>
`,
    });
    assertSippPassed(result);
    await waitFor(() => incoming.at(-1)?.state === 'DISCONNECTED');
  }, 25000);
});
