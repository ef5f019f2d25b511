// @serial-test: a sipp scenario expects each message in its order; a slowed endpoint retransmits and breaks it. Runs alone, after the others (scripts/run-jest.cjs).
import { createSocket } from 'node:dgram';
import { NoMediaError, type Call, type LineMessage } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { imOffer, ImSessionDescriptionHandler } from '../../src/media/im-session-description-handler';
import { standaloneEndpoint, toneFileDir, waitFor } from '../support/endpoints';
import { Kamailio, kamailioAvailable } from '../support/kamailio';
import { assertSippPassed, runSipp, sippAvailable } from '../support/sipp';
import { IN_DIALOG, INVITE, RESPONSE, SAME_TRANSACTION, recv, scenario, send } from '../support/sipp-scenario';

// Instant-messaging sessions as SIP Server makes them for a chat (sip-signaling-chat = session): an
// INVITE whose SDP is an IM SDP (m=message ... sip ...), then MESSAGE requests in that dialog
// only. sipp plays SIP Server and checks our answer and our MESSAGE on the wire.

const describeIf = sippAvailable() ? describe : describe.skip;
const describeKamailio = kamailioAvailable() ? describe : describe.skip;

/** SIP Server's IM offer, as Office Communicator's SDP rules write it (the URI is the callee's). */
const IM_SDP = `v=0
o=- 1 1 IN IP4 [local_ip]
s=session
c=IN IP4 [local_ip]
t=0 0
m=message [local_port] sip sip:[service]@[remote_ip]
a=accept-types:text/plain text/html
`;

/** An in-dialog MESSAGE from sipp with this content type and body. */
const MESSAGE = (cseq: number, type: string, body: string): string => IN_DIALOG('MESSAGE', cseq, `Content-Type: ${type}\n`, '').replace('Content-Length: [len]\n\n', `Content-Length: [len]\n\n${body}`);

describe('imOffer and the IM handler', () => {
  it('takes an offer of an IM stream alone (message or x-ms-message), not one with audio', () => {
    const base = 'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n';
    expect(imOffer(`${base}m=message 5060 sip sip:agent@example.com\r\na=accept-types:text/plain\r\n`)).toEqual({ media: 'message', port: 5060, uri: 'sip:agent@example.com', acceptTypes: ['text/plain'] });
    expect(imOffer(`${base}m=x-ms-message 5060 sip null\r\n`)).toEqual({ media: 'x-ms-message', port: 5060, uri: undefined, acceptTypes: undefined });
    // An audio stream refused (port 0) beside the IM one still makes an IM session.
    expect(imOffer(`${base}m=audio 0 RTP/AVP 0\r\nm=message 5060 sip null\r\n`)?.media).toBe('message');
    expect(imOffer(`${base}m=audio 4000 RTP/AVP 0\r\nm=message 5060 sip null\r\n`)).toBeUndefined();
    expect(imOffer(`${base}m=message 5060 TCP/MSRP *\r\n`)).toBeUndefined();
    expect(imOffer(`${base}m=message 0 sip null\r\n`)).toBeUndefined();
    expect(imOffer('not sdp at all')).toBeUndefined();
  });

  it('answers an offer with our m=message line and accept-types, and refuses an answer without one', async () => {
    const handler = new ImSessionDescriptionHandler({ address: '10.0.0.2', port: 5070, remoteUri: 'sip:customer@example.com' });
    await handler.setDescription('v=0\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=message 5060 sip sip:agent@example.com\r\n');
    const answer = await handler.getDescription();
    expect(answer.body).toMatch(/^m=message 5070 sip sip:customer@example\.com\r$/m);
    expect(answer.body).toMatch(/^a=accept-types:text\/plain text\/html\r$/m);
    expect(handler.negotiated).toEqual({ media: 'message', remoteAcceptTypes: undefined, localAcceptTypes: ['text/plain', 'text/html'] });
    await expect(handler.setDescription('v=0\r\nm=audio 4000 RTP/AVP 0\r\n')).rejects.toThrow(/only an IM offer/);
    const offer = await handler.getDescription();
    expect(offer.body).toMatch(/^o=- \d+ 2 IN IP4 10\.0\.0\.2\r$/m);
    await expect(handler.setDescription('v=0\r\nm=message 0 sip null\r\n')).rejects.toThrow(/refuses the IM stream/);
  });
});

describeIf('IM sessions against sipp as SIP Server (sip-signaling-chat = session)', () => {
  it('rings without a sound, is answered, exchanges MESSAGEs in its dialog (415 and 413 for what it cannot take), ends with BYE', async () => {
    // A ringtone is configured: a voice call would ring on the speaker (endpoint-ringing.test.ts).
    const dir = await toneFileDir('ring.wav', 425, 0.3);
    const agent = standaloneEndpoint('3600', testPorts(7), testPorts(50), 0, { 'system.media.ringing_file': 'ring.wav', 'policy.session.ringing_enabled': '1' }, { mediaDir: dir });
    await agent.endpoint.start();
    const incoming: Call[] = [];
    const received: LineMessage[] = [];
    agent.endpoint.on('incomingCall', (call) => {
      incoming.push(call);
      call.on('message', (message) => {
        received.push(message);
        if (message.body === 'Hello, I need help') void call.sendMessage('Hello, how can I help?').catch(() => undefined);
      });
      setTimeout(() => void call.answer().catch(() => undefined), 600);
    });
    try {
      const sipp = runSipp({
        scenario: scenario('SIP Server opens a chat session with the agent', [
          send(INVITE('', IM_SDP), ' retrans="500"'),
          '<recv response="100" optional="true"/>',
          // It rings (the policy let it), then is answered by hand.
          recv('response="180"'),
          recv('response="200"', [{ header: 'CSeq:', regexp: 'INVITE' }, { regexp: 'm=message [0-9]+ sip sip:sipserver@' }, { regexp: 'a=accept-types:text/plain text/html' }], ' rrs="true"', true),
          send(IN_DIALOG('ACK', 1)),
          send(MESSAGE(2, 'text/plain', 'Hello, I need help'), ' retrans="500"'),
          recv('response="200"', [{ header: 'CSeq:', regexp: '2 MESSAGE' }]),
          // The agent's reply, in the dialog.
          recv('request="MESSAGE"', [{ header: 'Content-Type:', regexp: 'text/plain' }, { header: 'To:', regexp: 'tag=[0-9]+SIPpTag' }, { regexp: '^Hello, how can I help[?]$' }]),
          send(RESPONSE('200 OK')),
          send(MESSAGE(3, 'application/octet-stream', 'xyz'), ' retrans="500"'),
          recv('response="415"', [{ header: 'CSeq:', regexp: '3 MESSAGE' }, { header: 'Accept:', regexp: 'text/plain' }]),
          send(MESSAGE(4, 'text/plain', 'x'.repeat(17 * 1024)), ' retrans="500"'),
          recv('response="413"', [{ header: 'CSeq:', regexp: '4 MESSAGE' }]),
          send(MESSAGE(5, 'text/html', '<p>Thanks</p>'), ' retrans="500"'),
          recv('response="200"', [{ header: 'CSeq:', regexp: '5 MESSAGE' }]),
          '<pause milliseconds="300"/>',
          send(IN_DIALOG('BYE', 6), ' retrans="500"'),
          recv('response="200"', [{ header: 'CSeq:', regexp: 'BYE' }]),
        ]),
        remotePort: agent.endpoint.lines[0]!.port!,
        localPort: testPorts(1),
        mediaPort: testPorts(4),
        service: '3600',
        timeoutS: 20,
      });
      // sipp failing first (a check of its scenario) says why, rather than the wait's timeout.
      await Promise.race([waitFor(() => incoming[0]?.state === 'CONNECTED', 8000, 'the IM session connected'), sipp.then(assertSippPassed)]);
      const call = incoming[0]!;
      expect(call.kind).toBe('im');
      expect(call.info()).toMatchObject({ kind: 'im', codec: undefined, quality: undefined });
      expect(call.media.im).toEqual({ media: 'message', remoteAcceptTypes: ['text/plain', 'text/html'], localAcceptTypes: ['text/plain', 'text/html'] });
      expect(call.media.stream).toBeUndefined();
      expect(agent.endpoint.session().phone.calls).toEqual([{ uuid: call.id, state: 'CONNECTED', kind: 'im', security: 'none' }]);
      await expect(call.hold()).rejects.toThrow(NoMediaError);
      await expect(call.sendDtmf('1')).rejects.toThrow(NoMediaError);
      expect(() => call.mute()).toThrow(NoMediaError);
      const result = await sipp;
      assertSippPassed(result);
      expect(received.map((message) => [message.contentType, message.body])).toEqual([
        ['text/plain', 'Hello, I need help'],
        ['text/html', '<p>Thanks</p>'],
      ]);
      await waitFor(() => call.state === 'DISCONNECTED', 3000, 'the session ended');
      // Nothing played on the speaker: no ringtone, no audio (the recorder took no sample).
      expect(agent.devices.recording('speaker').samples.length).toBe(0);
    } finally {
      await agent.endpoint.stop();
    }
  }, 40000);

  it('auto_answer answers an IM session even with no device and use_headset 1; a MESSAGE with a stale To tag gets 481, one outside any session 200', async () => {
    const agent = standaloneEndpoint('3610', testPorts(7), testPorts(50), 0, {
      'policy.session.auto_answer': '1',
      'policy.device.use_headset': '1',
      'policy.device.headset_name': 'Plantronics',
      'policy.session.reject_session_when_headset_na': '1',
    });
    await agent.endpoint.start();
    const pages: LineMessage[] = [];
    agent.endpoint.on('message', (_line, message) => pages.push(message));
    try {
      const result = await runSipp({
        scenario: scenario('an IM session answered by policy', [
          send(INVITE('', IM_SDP), ' retrans="500"'),
          '<recv response="100" optional="true"/>',
          '<recv response="180" optional="true"/>',
          recv('response="200"', [{ header: 'CSeq:', regexp: 'INVITE' }, { regexp: 'm=message' }], ' rrs="true"', true),
          send(IN_DIALOG('ACK', 1)),
          '<pause milliseconds="200"/>',
          send(IN_DIALOG('BYE', 2), ' retrans="500"'),
          recv('response="200"', [{ header: 'CSeq:', regexp: 'BYE' }]),
        ]),
        remotePort: agent.endpoint.lines[0]!.port!,
        localPort: testPorts(1),
        mediaPort: testPorts(4),
        service: '3610',
        timeoutS: 15,
      });
      assertSippPassed(result);
      // The same agent refuses voice calls for want of a headset: the policy's rule for audio only.
      const voice = await runSipp({
        scenario: scenario('a voice call to the same agent', [send(INVITE()), '<recv response="100" optional="true"/>', recv('response="480"'), send(SAME_TRANSACTION('ACK'))]),
        remotePort: agent.endpoint.lines[0]!.port!,
        localPort: testPorts(1),
        mediaPort: testPorts(4),
        service: '3610',
        timeoutS: 10,
      });
      assertSippPassed(voice);
      // A MESSAGE naming a dialog that does not exist (a To tag of an ended session): 481
      // (RFC 3261 12.2.2); one outside any dialog is a page-mode message: 200 and the line's event.
      const port = agent.endpoint.lines[0]!.port!;
      expect(await rawMessage(port, 'To: <sip:3610@127.0.0.1>;tag=gone', 'late')).toBe(481);
      expect(await rawMessage(port, 'To: <sip:3610@127.0.0.1>', 'page mode')).toBe(200);
      await waitFor(() => pages.length === 1, 2000, 'the page-mode message');
      expect(pages[0]!.body).toBe('page mode');
    } finally {
      await agent.endpoint.stop();
    }
  }, 40000);
});

describeKamailio('placing an IM session through Kamailio', () => {
  it('one agent opens a chat with another (m=message offer), messages go both ways in the dialog, the caller hangs up', async () => {
    const port = testPorts(1);
    const kamailio = await Kamailio.start(port, 'secret');
    const registered = (user: string, settings: Record<string, string> = {}) => standaloneEndpoint(user, testPorts(7), testPorts(50), 0, { 'server:0': `127.0.0.1:${port}`, 'proxies.proxy0.reg_timeout': '60', 'proxies.proxy0.password': 'secret', ...settings });
    const alice = registered('3620');
    const bob = registered('3621', { 'policy.session.auto_answer': '1' });
    const bobGot: LineMessage[] = [];
    const aliceGot: LineMessage[] = [];
    bob.endpoint.on('incomingCall', (call) => {
      call.on('message', (message) => {
        bobGot.push(message);
        void call.sendMessage(`echo: ${message.body}`).catch(() => undefined);
      });
    });
    await Promise.all([alice.endpoint.start(), bob.endpoint.start()]);
    try {
      await waitFor(() => alice.endpoint.lines[0]!.state === 'READY' && bob.endpoint.lines[0]!.state === 'READY', 8000, 'both registered');
      const chat = await alice.endpoint.makeCall('3621', { kind: 'im' });
      chat.on('message', (message) => aliceGot.push(message));
      expect(chat.kind).toBe('im');
      await waitFor(() => chat.state === 'CONNECTED', 8000, 'the chat connected');
      const bobCall = bob.endpoint.calls[0]!;
      expect(bobCall.kind).toBe('im');
      expect(bobCall.media.im?.remoteAcceptTypes).toEqual(['text/plain', 'text/html']);
      await expect(chat.sendMessage('Can you take a customer?')).resolves.toMatchObject({ statusCode: 200 });
      await waitFor(() => aliceGot.length === 1, 3000, 'the echo');
      expect(bobGot.map((message) => message.body)).toEqual(['Can you take a customer?']);
      expect(aliceGot[0]).toMatchObject({ contentType: 'text/plain', body: 'echo: Can you take a customer?' });
      // Neither side opened audio.
      expect([chat.media.stream, bobCall.media.stream]).toEqual([undefined, undefined]);
      await chat.hangup();
      await waitFor(() => bobCall.state === 'DISCONNECTED', 3000, 'the far end ended');
    } finally {
      await Promise.all([alice.endpoint.stop(), bob.endpoint.stop()]);
      await kamailio.stop();
    }
  }, 40000);
});

/** Sends a MESSAGE from a raw socket with this To header; resolves with the final status. */
async function rawMessage(port: number, to: string, body: string): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const local = socket.address().port;
  const id = Math.random().toString(36).slice(2);
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer to the MESSAGE')), 3000);
      socket.on('message', (data) => {
        const status = Number(/^SIP\/2\.0 (\d{3})/.exec(data.toString())?.[1] ?? 0);
        if (status >= 200) {
          clearTimeout(timer);
          resolve(status);
        }
      });
      socket.send(
        [`MESSAGE sip:3610@127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${id};rport`, 'Max-Forwards: 70', `From: <sip:customer@127.0.0.1:${local}>;tag=${id}`, to, `Call-ID: ${id}@127.0.0.1`, 'CSeq: 1 MESSAGE', 'Content-Type: text/plain', `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'),
        port,
        '127.0.0.1',
      );
    });
  } finally {
    socket.close();
  }
}
