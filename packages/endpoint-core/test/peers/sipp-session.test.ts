// @serial-test: a sipp scenario expects each message in its order; a slowed endpoint retransmits and breaks it. Runs alone, after the others (scripts/run-jest.cjs).
import { compareSpeech } from '@sip-endpoint/media/testing';
import { peerAvailable } from '@sip-endpoint/test-support';
import type { Call, Endpoint } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { Capture } from '../support/capture';
import { PCAP, pcapSpeech } from '../support/pcap-speech';
import { assertSippPassed, runSipp, sippAvailable, udpBound } from '../support/sipp';
import { ACK, AUTO_ANSWER, IN_DIALOG, INVITE, OK_WITH_SDP, REFUSED, RESPONSE, SDP, recv, scenario, send, pause } from '../support/sipp-scenario';
import { sleep, standaloneEndpoint, untilRecorded, waitFor } from '../support/endpoints';

const describeSipp = sippAvailable() ? describe : describe.skip;

/** The agent's endpoint, on SIP and RTP ports of this jest worker's range (its microphone plays 700 Hz). */
function agent(settings: Record<string, string> = {}) {
  const made = standaloneEndpoint('agent', testPorts(7), testPorts(50), 700, settings, { minSessionExpires: 2 });
  const calls: Call[] = [];
  made.endpoint.on('incomingCall', (call) => calls.push(call));
  return { ...made, calls };
}

const sipPort = (endpoint: Endpoint): number => endpoint.lines[0]!.port!;


const PCMA_SDP = SDP().replace('RTP/AVP 0 101', 'RTP/AVP 8').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000');

/** sipp's INVITE asking us to refresh a 10 s session (refresher=uas), answered and ACKed. */
const WE_REFRESH = (extraHeaders = ''): string[] => [
  send(INVITE(`${AUTO_ANSWER}Session-Expires: 10;refresher=uas\nSupported: timer\n${extraHeaders}`), ' retrans="500"'),
  '<recv response="100" optional="true"/>',
  '<recv response="180" optional="true"/>',
  recv('response="200"', [{ header: 'Session-Expires:', regexp: '10;refresher=uas' }], ' rrs="true"', true),
  send(ACK()),
];

/** Our re-INVITE refreshing the session (its offer), answered; then sipp hangs up. */
const REINVITE_REFRESH_THEN_BYE = (timeout: string): string[] => [
  recv('request="INVITE"', [{ header: 'Session-Expires:', regexp: '10;refresher=uac' }, { regexp: 'a=sendrecv' }], timeout),
  send(OK_WITH_SDP(SDP()).replace('Content-Type:', 'Session-Expires: 10;refresher=uac\nRequire: timer\nContent-Type:')),
  '<recv request="ACK"/>',
  pause(300),
  send(IN_DIALOG('BYE', 2), ' retrans="500"'),
  recv('response="200"', [{ header: 'CSeq:', regexp: 'BYE' }]),
];

/** Runs a scenario of sipp (echoing our RTP) against a new agent; resolves with the agent's calls once the scenario passed. */
async function againstAgent(name: string, steps: string[], timeoutS: number): Promise<Call[]> {
  const { endpoint, calls } = agent();
  await endpoint.start();
  try {
    assertSippPassed(await runSipp({ remotePort: sipPort(endpoint), localPort: testPorts(1), rtpEcho: true, timeoutS, scenario: scenario(name, steps) }));
    return calls;
  } finally {
    await endpoint.stop();
  }
}

describeSipp('session timers, 422, 488 and early media against sipp', () => {
  it('the far end refreshes by UPDATE; when it stops, the endpoint ends the call before the interval runs out', async () => {
    const sippPort = testPorts(1);
    const { endpoint, calls } = agent();
    await endpoint.start();
    try {
      const timer = 'Session-Expires: 6;refresher=uac\nSupported: timer\nMin-SE: 2\n';
      const result = await runSipp({
        remotePort: sipPort(endpoint),
        localPort: sippPort,
        rtpEcho: true,
        timeoutS: 20,
        scenario: scenario('update refresh, then expiry', [
          send(INVITE(AUTO_ANSWER + timer), ' retrans="500"'),
          '<recv response="100" optional="true"/>',
          '<recv response="180" optional="true"/>',
          recv('response="200"', [{ header: 'Session-Expires:', regexp: '6;refresher=uac' }, { header: 'Require:', regexp: 'timer' }], ' rrs="true"', true),
          send(ACK()),
          pause(2500),
          send(IN_DIALOG('UPDATE', 2, 'Session-Expires: 6;refresher=uac\nSupported: timer\n'), ' retrans="500"'),
          recv('response="200"', [{ header: 'CSeq:', regexp: 'UPDATE' }, { header: 'Session-Expires:', regexp: '6;refresher=uac' }]),
          // No refresh from here: the endpoint gives up 6 - 2 = 4 s after the UPDATE.
          recv('request="BYE"', [], ' timeout="7000"'),
          send(RESPONSE('200 OK')),
        ]),
      });
      assertSippPassed(result);
      expect(calls).toHaveLength(1);
      await waitFor(() => calls[0]!.state === 'DISCONNECTED');
    } finally {
      await endpoint.stop();
    }
  }, 30000);

  it('when the far end asks us to refresh (refresher=uas), we re-INVITE with Session-Expires at half the interval, well before it runs out', async () => {
    const calls = await againstAgent('we refresh', [
      ...WE_REFRESH(),
      // Due at 5 s; sipp gives up at three quarters of the interval. An interval of 10 s (not 4 s
      // with 3 s) leaves a late timer of a loaded machine 2.5 s.
      ...REINVITE_REFRESH_THEN_BYE(' timeout="7500"'),
    ], 20);
    expect(calls[0]?.state).toBe('DISCONNECTED');
  }, 35000);

  it('when the far end allows UPDATE, we refresh by UPDATE without a body; one refused with 501 is followed by a re-INVITE', async () => {
    const calls = await againstAgent('we refresh by UPDATE', [
      ...WE_REFRESH('Allow: INVITE, ACK, BYE, CANCEL, UPDATE\n'),
      // The first refresh, due at 5 s: an UPDATE with the interval, our Contact, and no body.
      recv('request="UPDATE"', [{ header: 'Session-Expires:', regexp: '10;refresher=uac' }, { header: 'Contact:', regexp: 'sip:' }, { header: 'Content-Length:', regexp: '^ *0$' }], ' timeout="7500"'),
      send(RESPONSE('200 OK').replace('Content-Length:', 'Session-Expires: 10;refresher=uac\nRequire: timer\nContent-Length:')),
      // The second: refused with 501, then a re-INVITE with our offer.
      recv('request="UPDATE"', [{ header: 'Session-Expires:', regexp: '10;refresher=uac' }], ' timeout="7500"'),
      send(RESPONSE('501 Not Implemented')),
      ...REINVITE_REFRESH_THEN_BYE(' timeout="3000"'),
    ], 25);
    expect(calls[0]?.state).toBe('DISCONNECTED');
    expect(calls[0]?.endReason).toBeUndefined();
  }, 40000);

  it('an INVITE that requires 100rel gets a reliable 180 without SDP; a PRACK with a wrong RAck gets 481, the right one 200; the answer comes in the 200', async () => {
    const sippPort = testPorts(1);
    const { endpoint, calls } = agent();
    await endpoint.start();
    try {
      const PRACK = (cseq: number, rack: string): string => IN_DIALOG('PRACK', cseq, `RAck: ${rack}\n`);
      const uac = runSipp({
        remotePort: sipPort(endpoint),
        localPort: sippPort,
        timeoutS: 20,
        scenario: scenario('100rel required', [
          '<nop><action><assignstr assign_to="rseq" value=""/></action></nop>',
          send(INVITE('Require: 100rel\nSupported: 100rel\n'), ' retrans="500"'),
          '<recv response="100" optional="true"/>',
          `<recv response="180" rrs="true"><action>
            <ereg regexp="100rel" search_in="hdr" header="Require:" check_it="true" assign_to="dummy"/>
            <ereg regexp="^ *0$" search_in="hdr" header="Content-Length:" check_it="true" assign_to="dummy"/>
            <ereg regexp="([0-9]+)" search_in="hdr" header="RSeq:" check_it="true" assign_to="dummy,rseq"/>
            <ereg regexp=";tag=([^;> ]+)" search_in="hdr" header="To:" assign_to="dummy,totag"/>
          </action></recv>`,
          send(PRACK(2, '999999 1 INVITE'), ' retrans="500"'),
          recv('response="481"', [{ header: 'CSeq:', regexp: '2 PRACK' }]),
          send(PRACK(3, '[$rseq] 1 INVITE'), ' retrans="500"'),
          recv('response="200"', [{ header: 'CSeq:', regexp: '3 PRACK' }]),
          // The 180 may come again before our PRACK was taken (its retransmissions).
          '<recv response="180" optional="true"/>',
          recv('response="200"', [{ header: 'CSeq:', regexp: '1 INVITE' }, { regexp: 'm=audio [0-9]+ RTP/AVP 0' }], ' rrs="true"'),
          send(ACK()),
          pause(300),
          send(IN_DIALOG('BYE', 4), ' retrans="500"'),
          recv('response="200"', [{ header: 'CSeq:', regexp: 'BYE' }]),
        ]),
      });
      await waitFor(() => calls[0]?.state === 'RINGING', 5000, 'the call to ring');
      // Answered once sipp had its two PRACKs answered (the 200 waits for the right one anyway).
      await sleep(1000);
      await calls[0]!.answer();
      assertSippPassed(await uac);
      expect(calls[0]?.state).toBe('DISCONNECTED');
    } finally {
      await endpoint.stop();
    }
  }, 30000);

  it('answers 422 with Min-SE to a short interval, and 488 to an offer with no codec in common; neither rings', async () => {
    const sippPort = testPorts(1);
    const { endpoint, calls } = agent();
    await endpoint.start();
    try {
      const tooShort = await runSipp({
        remotePort: sipPort(endpoint),
        localPort: sippPort,
        scenario: scenario('422', [
          ...REFUSED(422, 'Session-Expires: 1\nSupported: timer\n', SDP(), [{ header: 'Min-SE:', regexp: '2' }]),
        ]),
      });
      assertSippPassed(tooShort);
      const g729 = SDP().replace('RTP/AVP 0 101', 'RTP/AVP 18').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:18 G729/8000');
      const noCodec = await runSipp({
        remotePort: sipPort(endpoint),
        localPort: sippPort,
        scenario: scenario('488', [
          ...REFUSED(488, AUTO_ANSWER, g729, [{ header: 'Warning:', regexp: '304' }]),
        ]),
      });
      assertSippPassed(noCodec);
      expect(noCodec.messages).not.toMatch(/^SIP\/2\.0 180/m);
      expect(tooShort.messages).not.toMatch(/^SIP\/2\.0 180/m);
      expect(calls).toHaveLength(0);
    } finally {
      await endpoint.stop();
    }
  }, 20000);

  it('an answer with no codec we offered: the call is ACKed and ended with a BYE, its endReason says why', async () => {
    const sippPort = testPorts(1);
    const { endpoint } = agent();
    await endpoint.start();
    try {
      const G729_SDP = SDP().replace('RTP/AVP 0 101', 'RTP/AVP 18').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:18 G729/8000');
      const uas = runSipp({
        remotePort: sipPort(endpoint),
        localPort: sippPort,
        timeoutS: 20,
        scenario: scenario('unusable answer', [
          recv('request="INVITE"'),
          send(RESPONSE('200 OK', G729_SDP, '[pid]bad[call_number]')),
          '<recv request="ACK"/>',
          recv('request="BYE"', [], ' timeout="5000"'),
          send(RESPONSE('200 OK')),
        ]),
      });
      await waitFor(() => udpBound(sippPort), 5000, 'sipp to listen');
      const call = await endpoint.makeCall(`sip:uas@127.0.0.1:${sippPort}`);
      await waitFor(() => call.state === 'DISCONNECTED', 10000, 'the call ended');
      expect(call.endReason).toMatch(/^the far end's SDP was refused: .*codec/i);
      assertSippPassed(await uas);
    } finally {
      await endpoint.stop();
    }
  }, 30000);

  /** sipp's answers to the agent's INVITE after a PRACK came between: the INVITE's headers, kept when it came (RECV_INVITE). */
  const RECV_INVITE = `<recv request="INVITE"><action>
    <ereg regexp="PCMA" search_in="body" check_it="true" assign_to="dummy"/>
    <ereg regexp="100rel" search_in="hdr" header="Supported:" check_it="true" assign_to="dummy"/>
    <ereg regexp=".*" search_in="hdr" header="Via:" assign_to="invia"/>
    <ereg regexp=".*" search_in="hdr" header="From:" assign_to="infrom"/>
    <ereg regexp=".*" search_in="hdr" header="To:" assign_to="into"/>
    <ereg regexp=".*" search_in="hdr" header="CSeq:" assign_to="incseq"/>
  </action></recv>`;
  const INVITE_RESPONSE = (status: string, headers: string, sdp: string): string => `
SIP/2.0 ${status}
Via: [$invia]
From: [$infrom]
To: [$into];tag=[pid]early[call_number]
[last_Call-ID:]
CSeq: [$incseq]
Contact: <sip:sipserver@[local_ip]:[local_port]>
${headers}Content-Type: application/sdp
Content-Length: [len]

${sdp}`;

  /** The INVITE's Contact too: sipp, as the called side, sends an UPDATE in the early dialog to it. */
  const RECV_INVITE_WITH_CONTACT = RECV_INVITE.replace('</action></recv>', '<ereg regexp="sip:[^>]*" search_in="hdr" header="Contact:" assign_to="incontact"/>\n  </action></recv>');
  /** An UPDATE of the called side (sipp) in the early dialog its 183 made, with `sdp` (or none). */
  const EARLY_UPDATE = (cseq: number, sdp?: string): string => `
UPDATE [$incontact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: [$into];tag=[pid]early[call_number]
To: [$infrom]
[last_Call-ID:]
CSeq: ${cseq} UPDATE
Contact: <sip:sipserver@[local_ip]:[local_port]>
Max-Forwards: 70
${sdp !== undefined ? 'Content-Type: application/sdp\n' : ''}Content-Length: [len]

${sdp ?? ''}`;

  it.each([
    ['1 (the early media plays): the offer moves it, answered 200 with our SDP', '1', 200],
    ['0 (no early media): the offer is answered 500 with Retry-After, the call goes on', '0', 500],
  ])('an UPDATE in the early dialog (RFC 3311) with ringback_enabled %s', async (_name, mode, status) => {
    expect(peerAvailable('tshark')).toBe(true);
    const sippPort = testPorts(1);
    // Where sipp's UPDATE moves the early media: a port nobody listens on, watched by tshark.
    const moved = testPorts(2);
    const { endpoint } = agent({ 'policy.session.ringback_enabled': mode });
    await endpoint.start();
    const capture = await Capture.start(`udp dst port ${moved}`);
    try {
      const answer = status === 200 ? [{ regexp: 'm=audio [0-9]+ RTP/AVP 8' }] : [{ header: 'Retry-After:', regexp: '^ *[0-9]+' }];
      const uas = runSipp({
        remotePort: sipPort(endpoint),
        localPort: sippPort,
        timeoutS: 20,
        scenario: scenario('UPDATE in the early dialog', [
          RECV_INVITE_WITH_CONTACT,
          send(INVITE_RESPONSE('183 Session Progress', 'Require: 100rel\nRSeq: 1\n', PCMA_SDP)),
          recv('request="PRACK"', [{ header: 'RAck:', regexp: '^ *1 1 INVITE$' }]),
          send(RESPONSE('200 OK')),
          pause(500),
          // Without a body first (a session refresh, say): 200 whatever the media.
          send(EARLY_UPDATE(1), ' retrans="500"'),
          recv('response="200"', [{ header: 'CSeq:', regexp: '1 UPDATE' }]),
          send(EARLY_UPDATE(2, SDP('sendrecv', '[local_ip]', String(moved)).replace('RTP/AVP 0 101', 'RTP/AVP 8').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000')), ' retrans="500"'),
          recv(`response="${status}"`, [{ header: 'CSeq:', regexp: '2 UPDATE' }, ...answer]),
          pause(1500),
          send(INVITE_RESPONSE('200 OK', '', PCMA_SDP)),
          '<recv request="ACK"/>',
          recv('request="BYE"', [], ' timeout="5000"'),
          send(RESPONSE('200 OK')),
        ]),
      });
      // sipp failing first (its scenario's checks) says why, rather than a wait's timeout.
      await Promise.race([waitFor(() => udpBound(sippPort), 5000, 'sipp to listen'), uas.then(assertSippPassed)]);
      const call = await endpoint.makeCall(`sip:uas@127.0.0.1:${sippPort}`);
      await Promise.race([waitFor(() => call.state === 'CONNECTED', 15000, 'the 200'), uas.then(assertSippPassed)]);
      await sleep(300);
      await call.hangup();
      assertSippPassed(await uas);
      await capture.stop();
      // Our RTP (PCMA, payload type 8) went to the port of the UPDATE's offer only when it was taken.
      const sent = capture.fields('rtp.p_type == 8', ['frame.number'], [`udp.port==${moved},rtp`]).length;
      if (status === 200) expect(sent).toBeGreaterThan(20);
      else expect(sent).toBe(0);
    } finally {
      await capture.dispose();
      await endpoint.stop();
    }
  }, 35000);

  it.each([
    ['1 plays the early media of a reliable 183 (100rel, PRACKed)', '1', true, true],
    ['1 does not play the early media of an unreliable 183', '1', false, false],
    ['4 plays the early media of an unreliable 183', '4', false, true],
  ])('ringback_enabled %s while the call alerts', async (_name, mode, reliable, plays) => {
    const sippPort = testPorts(1);
    const { endpoint, devices } = agent({ 'policy.session.ringback_enabled': mode });
    await endpoint.start();
    try {
      const uas = runSipp({
        remotePort: sipPort(endpoint),
        localPort: sippPort,
        timeoutS: 20,
        scenario: scenario('early media', [
          // Our INVITE says we take reliable provisional responses.
          RECV_INVITE,
          send(INVITE_RESPONSE('183 Session Progress', reliable ? 'Require: 100rel\nRSeq: 77\n' : '', PCMA_SDP)),
          ...(reliable ? [recv('request="PRACK"', [{ header: 'RAck:', regexp: '^ *77 1 INVITE$' }]), send(RESPONSE('200 OK'))] : []),
          `<nop><action><exec play_pcap_audio="${PCAP}"/></action></nop>`,
          // 5 s of early media before the answer: time for our speaker to play 2.5 s of it, the
          // check below, on a loaded machine too.
          pause(5000),
          send(INVITE_RESPONSE('200 OK', '', PCMA_SDP)),
          '<recv request="ACK"/>',
          recv('request="BYE"', [], ' timeout="5000"'),
          send(RESPONSE('200 OK')),
        ]),
      });
      await waitFor(() => udpBound(sippPort), 5000, 'sipp to listen');
      const call = await endpoint.makeCall(`sip:uas@127.0.0.1:${sippPort}`);
      await waitFor(() => call.state === 'ALERTING', 10000, 'the 183');
      if (plays) {
        await untilRecorded(2.5, devices);
        expect(call.state).toBe('ALERTING');
        const early = devices.recording('speaker');
        // The pcap's speech, recognised in what our speaker played while the call alerted: aligned
        // sample by sample with the pcap's audio, frame after frame matches it (noise or another
        // sound would match none). Its packets are 30 ms, our clock's 20 ms (the SDP has no ptime).
        expect(peerAvailable('tshark') && peerAvailable('ffmpeg')).toBe(true);
        const heard = compareSpeech(pcapSpeech(), 8000, early.samples, early.sampleRate, { minFrameSnrDb: 15, maxDelayMs: 3000 });
        expect(heard.frames).toBeGreaterThan(25);
        expect(heard.badFrames).toBeLessThanOrEqual(heard.frames * 0.1);
        expect(heard.segmentalSnrDb).toBeGreaterThan(25);
      } else {
        await sleep(3000);
        expect(call.state).toBe('ALERTING');
        // Nothing of the early media reached the speaker (silence, or nothing played at all).
        const early = devices.recording('speaker');
        expect(early.samples.reduce((peak, sample) => Math.max(peak, Math.abs(sample)), 0)).toBeLessThan(50);
        expect((call.media.stats() as { received?: { packets: number } } | undefined)?.received?.packets ?? 0).toBe(0);
      }
      await waitFor(() => call.state === 'CONNECTED', 10000, 'the 200');
      // Pacing sipp: the call stays up a moment before our BYE (its scenario waits for one).
      await sleep(300);
      await call.hangup();
      assertSippPassed(await uas);
    } finally {
      await endpoint.stop();
    }
  }, 35000);
});
