// @serial-test: a sipp scenario expects each message in its order; a slowed endpoint retransmits and breaks it. Runs alone, after the others (scripts/run-jest.cjs).
import { Endpoint, type MessageSummary } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { standaloneConfig, waitFor } from '../support/endpoints';
import { resubscribeDelayMs } from '../../src/line/mailbox';
import { Kamailio, kamailioAvailable } from '../support/kamailio';
import { rawSipSocket } from '../support/raw-sip';
import { assertSippPassed, runSipp, sippAvailable, udpBound } from '../support/sipp';
import { recv, RESPONSE, scenario, send } from '../support/sipp-scenario';

// The line's mailbox (proxies.proxy0.mailbox): sipp plays the mailbox server (RFC 3842 over
// RFC 6665). It challenges the SUBSCRIBE and checks the answer with the mailbox's own user and
// password, notifies the summary, sends two bad NOTIFYs (checking the 400 and 415), takes the
// refresh, notifies again, and takes the unsubscribe when the endpoint stops.

const describeIf = sippAvailable() && kamailioAvailable() ? describe : describe.skip;

/** A NOTIFY of sipp's subscription dialog (sipp is the notifier: its tag in To of our SUBSCRIBE's answer). */
const NOTIFY = (cseq: number, state: string, type: string, body: string): string => `
NOTIFY [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:vm100@[local_ip]:[local_port]>;tag=vm[call_number]
To: [$subscriber]
Call-ID: [call_id]
CSeq: ${cseq} NOTIFY
Contact: <sip:vm100@[local_ip]:[local_port]>
Max-Forwards: 70
Event: message-summary
Subscription-State: ${state}
Content-Type: ${type}
Content-Length: [len]

${body}`;

/** The mailbox's 200 to a SUBSCRIBE: its tag, its Contact, the Expires it grants. */
const SUBSCRIBE_OK = (expires: number): string => `
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=vm[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:vm100@[local_ip]:[local_port]>
Expires: ${expires}
Content-Length: 0

`;

const SUMMARY = 'Messages-Waiting: yes\r\nMessage-Account: sip:vm100@127.0.0.1\r\nVoice-Message: 2/8 (1/0)\r\n';

/** The mailbox server's side; with `proxyPort`, the SUBSCRIBE must come through that proxy (its Via on top). */
const MAILBOX = (timeout: number, proxyPort?: number) =>
  scenario('a mailbox server', [
    '<nop><action><assignstr assign_to="subscriber" value=""/><assignstr assign_to="authvalid" value=""/></action></nop>',
    recv('request="SUBSCRIBE"', [{ header: 'Event:', regexp: '^ *message-summary' }, { header: 'Accept:', regexp: 'application/simple-message-summary' }, { header: 'Expires:', regexp: `^ *${timeout}$` }, ...(proxyPort ? [{ header: 'Via:', regexp: `^ *SIP/2.0/UDP 127.0.0.1:${proxyPort};` }] : [])]),
    send(`
SIP/2.0 401 Unauthorized
[last_Via:]
[last_From:]
[last_To:];tag=vm[call_number]
[last_Call-ID:]
[last_CSeq:]
WWW-Authenticate: Digest realm="mailbox", nonce="mwi-nonce-1", algorithm=MD5
Content-Length: 0

`),
    `<recv request="SUBSCRIBE" rrs="true"><action>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="subscriber"/>
      <verifyauth assign_to="authvalid" username="vm100" password="mailbox-secret"/>
    </action></recv>`,
    // A wrong answer to the challenge: 403, and the scenario fails (nothing more comes).
    '<nop hide="true" test="authvalid" next="good"/>',
    send(RESPONSE('403 Forbidden')),
    '<recv request="NOTHING" timeout="100"/>',
    '<label id="good"/>',
    send(SUBSCRIBE_OK(timeout)),
    send(NOTIFY(1, `active;expires=${timeout}`, 'application/simple-message-summary', SUMMARY), ' retrans="500"'),
    recv('response="200"', [{ header: 'CSeq:', regexp: '1 NOTIFY' }]),
    // Not a message summary: 400. Another content type: 415.
    send(NOTIFY(2, `active;expires=${timeout}`, 'application/simple-message-summary', 'Messages-Waiting: perhaps\r\n'), ' retrans="500"'),
    recv('response="400"', [{ header: 'CSeq:', regexp: '2 NOTIFY' }]),
    send(NOTIFY(3, `active;expires=${timeout}`, 'text/plain', 'you have mail'), ' retrans="500"'),
    recv('response="415"', [{ header: 'CSeq:', regexp: '3 NOTIFY' }, { header: 'Accept:', regexp: 'application/simple-message-summary' }]),
    // The refresh, before the subscription expires; then the mailbox has been read.
    recv('request="SUBSCRIBE"', [{ header: 'Expires:', regexp: `^ *${timeout}$` }], ' timeout="10000"'),
    send(RESPONSE('200 OK')),
    send(NOTIFY(4, `active;expires=${timeout}`, 'application/simple-message-summary', 'Messages-Waiting: no\r\nVoice-Message: 0/10\r\n'), ' retrans="500"'),
    recv('response="200"', [{ header: 'CSeq:', regexp: '4 NOTIFY' }]),
    // The endpoint stops: it unsubscribes.
    recv('request="SUBSCRIBE"', [{ header: 'Expires:', regexp: '^ *0$' }], ' timeout="20000"'),
    send(RESPONSE('200 OK')),
  ]);

describeIf('the mailbox subscription (message waiting, RFC 3842) against sipp as the mailbox server', () => {
  it.each([
    ['a stand-alone line, straight to the mailbox server', false],
    ['a line registered with Kamailio, through it (its outbound proxy)', true],
  ])('%s: subscribes with the mailbox credentials, reports each summary, refuses bad NOTIFYs, refreshes, and unsubscribes on stop', async (_name, throughKamailio) => {
    const sippPort = testPorts(1);
    const timeout = 4;
    const kamailioPort = testPorts(1);
    const kamailio = throughKamailio ? await Kamailio.start(kamailioPort, 'line-secret', { forward: true }) : undefined;
    const sipp = runSipp({ scenario: MAILBOX(timeout, throughKamailio ? kamailioPort : undefined), remotePort: testPorts(1), localPort: sippPort, timeoutS: 30 });
    await waitFor(() => udpBound(sippPort), 5000, 'sipp to listen');
    const endpoint = new Endpoint({
      config: standaloneConfig('1000', testPorts(7), testPorts(50), {
        ...(throughKamailio ? { 'server:0': `127.0.0.1:${kamailioPort}`, 'proxies.proxy0.reg_timeout': '60', 'proxies.proxy0.password': 'line-secret' } : {}),
        'proxies.proxy0.mailbox.user': 'vm100',
        'proxies.proxy0.mailbox.server': `127.0.0.1:${sippPort}`,
        'proxies.proxy0.mailbox.password': 'mailbox-secret',
        'proxies.proxy0.mailbox.timeout': String(timeout),
      }),
    });
    const seen: Array<[number, MessageSummary]> = [];
    endpoint.on('messageWaiting', (line, summary) => seen.push([line, summary]));
    await endpoint.start();
    try {
      await waitFor(() => seen.length >= 1, 5000, 'the first summary');
      expect(seen[0]).toEqual([0, { waiting: true, account: 'sip:vm100@127.0.0.1', messages: { voice: { new: 2, old: 8, urgentNew: 1, urgentOld: 0 } } }]);
      // The refresh went out before the 4 s ran out, and the next summary came over it.
      await waitFor(() => seen.length >= 2, 8000, 'the summary after the refresh');
      expect(seen[1]).toEqual([0, { waiting: false, account: undefined, messages: { voice: { new: 0, old: 10, urgentNew: 0, urgentOld: 0 } } }]);
      expect(seen).toHaveLength(2);
      expect(endpoint.lines[0]!.messageWaiting).toEqual(seen[1]![1]);
      if (throughKamailio) expect(endpoint.lines[0]!.state).toBe('READY');
    } finally {
      await endpoint.stop();
      await kamailio?.stop();
    }
    assertSippPassed(await sipp);
  }, 40000);
});

describeIf('the mailbox with timeout 0', () => {
  it('fetches the state once (SUBSCRIBE with Expires 0, one NOTIFY), and neither refreshes nor unsubscribes', async () => {
    const sippPort = testPorts(1);
    const sipp = runSipp({
      scenario: scenario('a mailbox server asked for its state once', [
        '<nop><action><assignstr assign_to="subscriber" value=""/></action></nop>',
        `<recv request="SUBSCRIBE" rrs="true"><action>
          <ereg regexp="^ *0$" search_in="hdr" header="Expires:" check_it="true" assign_to="dummy"/>
          <ereg regexp=".*" search_in="hdr" header="From:" assign_to="subscriber"/>
        </action></recv>`,
        send(SUBSCRIBE_OK(0)),
        send(NOTIFY(1, 'terminated;reason=timeout', 'application/simple-message-summary', 'Messages-Waiting: yes\r\nVoice-Message: 3/0\r\n'), ' retrans="500"'),
        recv('response="200"', [{ header: 'CSeq:', regexp: '1 NOTIFY' }]),
        // Nothing more: a SUBSCRIBE now (a refresh, an unsubscribe) is unexpected and fails the scenario.
        '<pause milliseconds="3000"/>',
      ]),
      remotePort: testPorts(1),
      localPort: sippPort,
      timeoutS: 20,
    });
    await waitFor(() => udpBound(sippPort), 5000, 'sipp to listen');
    const endpoint = new Endpoint({ config: standaloneConfig('1000', testPorts(7), testPorts(50), { 'proxies.proxy0.mailbox.user': 'vm100', 'proxies.proxy0.mailbox.server': `127.0.0.1:${sippPort}`, 'proxies.proxy0.mailbox.timeout': '0' }) });
    const seen: MessageSummary[] = [];
    endpoint.on('messageWaiting', (_line, summary) => seen.push(summary));
    await endpoint.start();
    try {
      await waitFor(() => seen.length >= 1, 5000, 'the summary');
      expect(seen[0]!.messages.voice?.new).toBe(3);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      await endpoint.stop();
    }
    assertSippPassed(await sipp);
    expect(seen).toHaveLength(1);
  }, 30000);
});

describe('a message-summary NOTIFY outside a subscription', () => {
  /** A NOTIFY from the raw socket on `from` to the line on `to`; `toTag` makes it claim a dialog. */
  const notify = (to: number, from: number, id: string, body: string, toTag = '', user = '1000'): string =>
    [
      `NOTIFY sip:${user}@127.0.0.1:${to} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${from};branch=z9hG4bK${id}`,
      'Max-Forwards: 70',
      `From: <sip:vm@127.0.0.1:${from}>;tag=vm-${id}`,
      `To: <sip:${user}@127.0.0.1>${toTag ? `;tag=${toTag}` : ''}`,
      `Call-ID: ${id}@127.0.0.1`,
      'CSeq: 1 NOTIFY',
      `Contact: <sip:vm@127.0.0.1:${from}>`,
      'Event: message-summary',
      'Subscription-State: active',
      'Content-Type: application/simple-message-summary',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');

  it('is taken by a line with a mailbox (unsolicited message waiting), 400 when its body is bad; 481 on a line without one, and for a dialog that does not exist', async () => {
    const rawPort = testPorts(1);
    const { socket, responses } = await rawSipSocket(rawPort);
    const withMailbox = new Endpoint({ config: standaloneConfig('1000', testPorts(7), testPorts(50), { 'proxies.proxy0.mailbox.user': 'vm100', 'proxies.proxy0.mailbox.server': `127.0.0.1:${rawPort}` }) });
    const without = new Endpoint({ config: standaloneConfig('1001', testPorts(7), testPorts(50)) });
    const seen: MessageSummary[] = [];
    withMailbox.on('messageWaiting', (_line, summary) => seen.push(summary));
    await Promise.all([withMailbox.start(), without.start()]);
    try {
      const status = async (id: string): Promise<number> => {
        await waitFor(() => responses.some((response) => response.callId === `${id}@127.0.0.1` && response.status >= 200), 3000, `the answer to ${id}`);
        return responses.find((response) => response.callId === `${id}@127.0.0.1` && response.status >= 200)!.status;
      };
      socket.send(notify(withMailbox.lines[0]!.port!, rawPort, 'good', 'Messages-Waiting: yes\r\nVoice-Message: 1/0\r\n'), withMailbox.lines[0]!.port!, '127.0.0.1');
      expect(await status('good')).toBe(200);
      expect(seen).toEqual([{ waiting: true, account: undefined, messages: { voice: { new: 1, old: 0, urgentNew: 0, urgentOld: 0 } } }]);
      socket.send(notify(withMailbox.lines[0]!.port!, rawPort, 'bad', 'Messages-Waiting: 3\r\n'), withMailbox.lines[0]!.port!, '127.0.0.1');
      expect(await status('bad')).toBe(400);
      socket.send(notify(without.lines[0]!.port!, rawPort, 'nobox', 'Messages-Waiting: yes\r\n', '', '1001'), without.lines[0]!.port!, '127.0.0.1');
      expect(await status('nobox')).toBe(481);
      socket.send(notify(withMailbox.lines[0]!.port!, rawPort, 'nodialog', 'Messages-Waiting: yes\r\n', 'no-such-tag'), withMailbox.lines[0]!.port!, '127.0.0.1');
      expect(await status('nodialog')).toBe(481);
      expect(seen).toHaveLength(1);
    } finally {
      socket.close();
      await Promise.all([withMailbox.stop(), without.stop()]);
    }
  });
});

describe('resubscribeDelayMs (RFC 6665 4.1.3)', () => {
  it.each([
    ['terminated;reason=deactivated', 0],
    ['terminated; reason=timeout', 0],
    ['terminated;reason=probation;retry-after=7', 7000],
    ['terminated;reason=giveup', 30000],
    ['terminated', 30000],
    ['terminated;retry-after=2', 2000],
    ['terminated;reason=probation;retry-after=soon', 30000],
    ['terminated;reason=rejected', undefined],
    ['terminated;reason=noresource;retry-after=5', undefined],
    ['TERMINATED;REASON=INVARIANT', undefined],
  ])('%s: %p ms', (state, delay) => {
    expect(resubscribeDelayMs(state)).toBe(delay);
  });
});

describeIf('a mailbox server that ends the subscription', () => {
  it('reason=deactivated: the line subscribes again at once (a new dialog), and the new subscription brings the summary', async () => {
    const sippPort = testPorts(1);
    // One scenario per subscription (sipp runs it for each new Call-ID): summary, then ended.
    const sipp = runSipp({
      calls: 2,
      scenario: scenario('a mailbox server ending each subscription', [
        '<nop><action><assignstr assign_to="subscriber" value=""/></action></nop>',
        `<recv request="SUBSCRIBE" rrs="true"><action><ereg regexp=".*" search_in="hdr" header="From:" assign_to="subscriber"/></action></recv>`,
        send(SUBSCRIBE_OK(60)),
        send(NOTIFY(1, 'active;expires=60', 'application/simple-message-summary', SUMMARY), ' retrans="500"'),
        recv('response="200"', [{ header: 'CSeq:', regexp: '1 NOTIFY' }]),
        '<pause milliseconds="300"/>',
        send(NOTIFY(2, 'terminated;reason=deactivated', 'application/simple-message-summary', ''), ' retrans="500"'),
        recv('response="200"', [{ header: 'CSeq:', regexp: '2 NOTIFY' }]),
      ]),
      remotePort: testPorts(1),
      localPort: sippPort,
      timeoutS: 20,
    });
    await waitFor(() => udpBound(sippPort), 5000, 'sipp to listen');
    const endpoint = new Endpoint({
      config: standaloneConfig('1001', testPorts(7), testPorts(50), {
        'proxies.proxy0.mailbox.user': 'vm100',
        'proxies.proxy0.mailbox.server': `127.0.0.1:${sippPort}`,
        'proxies.proxy0.mailbox.timeout': '60',
      }),
    });
    const seen: number[] = [];
    endpoint.on('messageWaiting', () => seen.push(performance.now()));
    await endpoint.start();
    try {
      // The second summary comes over the second subscription, made at once (not 30 s later).
      await waitFor(() => seen.length >= 2, 5000, 'the summary of the second subscription');
      expect(seen[1]! - seen[0]!).toBeLessThan(3000);
      assertSippPassed(await sipp);
    } finally {
      await endpoint.stop();
    }
  }, 30000);
});
