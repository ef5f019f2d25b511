// @serial-test: a sipp scenario expects each message in its order; a slowed endpoint retransmits and breaks it. Runs alone, after the others (scripts/run-jest.cjs).
import { spawn } from 'node:child_process';
import type { Call } from '@sip-endpoint/endpoint-core';
import { dominantFrequency, sineSnrDb } from '@sip-endpoint/media/testing';
import { peerAvailable, testPorts } from '@sip-endpoint/test-support';
import { assertSippPassed, runSipp, sippAvailable } from '../support/sipp';
import { SDP, INVITE, IN_DIALOG, ACK, scenario, send, pause, recv, AUTO_ANSWER, ESTABLISH, HANG_UP, REFUSED } from '../support/sipp-scenario';
import { standaloneEndpoint, waitFor } from '../support/endpoints';

// Every use_srtp value against a scripted plain, best-effort, secure (RTP/SAVP) and DTLS-SRTP
// (UDP/TLS/RTP/SAVP) offer from sipp: who answers what, read from the 200 or 488 sipp receives.
const describeSipp = sippAvailable() ? describe : describe.skip;

const KEY = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';
const offers = {
  plain: SDP(),
  'best effort': SDP().replace('a=sendrecv', `a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:${KEY}\na=sendrecv`),
  secure: SDP().replace('RTP/AVP', 'RTP/SAVP').replace('a=sendrecv', `a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:${KEY}\na=sendrecv`),
  // DTLS-SRTP: the 200 is checked (profile, a=setup:active, our fingerprint); sipp does no DTLS, so the handshake never ends before the BYE.
  dtls: SDP().replace('RTP/AVP', 'UDP/TLS/RTP/SAVP').replace('a=sendrecv', 'a=fingerprint:sha-256 0F:1E:2D:3C\na=setup:actpass\na=rtcp-mux\na=sendrecv'),
};
type Offer = keyof typeof offers;
type Outcome = 'srtp' | 'plain' | 'dtls' | `488 ${string}`;

const expected: Record<string, Record<Offer, Outcome>> = {
  optional: { plain: 'plain', 'best effort': 'srtp', secure: 'srtp', dtls: 'dtls' },
  allowed: { plain: 'plain', 'best effort': 'srtp', secure: 'srtp', dtls: 'dtls' },
  disabled: { plain: 'plain', 'best effort': 'plain', secure: '488 the offer wants SRTP .RTP/SAVP. and use_srtp is disabled', dtls: '488 the offer wants SRTP .UDP/TLS/RTP/SAVP. and use_srtp is disabled' },
  off: { plain: 'plain', 'best effort': 'plain', secure: '488 the offer wants SRTP .RTP/SAVP. and use_srtp is disabled', dtls: '488 the offer wants SRTP .UDP/TLS/RTP/SAVP. and use_srtp is disabled' },
  elective: { plain: 'plain', 'best effort': 'srtp', secure: 'srtp', dtls: 'dtls' },
  both: { plain: 'plain', 'best effort': 'srtp', secure: 'srtp', dtls: 'dtls' },
  enabled: { plain: 'plain', 'best effort': 'srtp', secure: 'srtp', dtls: 'dtls' },
  force: { plain: '488 use_srtp is mandatory and the offer is plain RTP', 'best effort': 'srtp', secure: 'srtp', dtls: 'dtls' },
  mandatory: { plain: '488 use_srtp is mandatory and the offer is plain RTP', 'best effort': 'srtp', secure: 'srtp', dtls: 'dtls' },
  'mandatory,UEC': { plain: '488 use_srtp is mandatory and the offer is plain RTP', 'best effort': 'srtp', secure: 'srtp', dtls: 'dtls' },
};

describeSipp('use_srtp against scripted offers (sipp)', () => {
  it.each(Object.keys(expected))('use_srtp %s', async (mode) => {
    const { endpoint } = standaloneEndpoint('agent', testPorts(7), testPorts(50), 700, { 'system.security.use_srtp': mode });
    const calls: Call[] = [];
    endpoint.on('incomingCall', (call) => calls.push(call));
    await endpoint.start();
    try {
      for (const [kind, outcome] of Object.entries(expected[mode]!) as [Offer, Outcome][]) {
        const sdp = offers[kind];
        const profile = kind === 'secure' ? 'RTP/SAVP' : kind === 'dtls' ? 'UDP/TLS/RTP/SAVP' : 'RTP/AVP';
        const steps = outcome.startsWith('488')
          ? REFUSED(488, AUTO_ANSWER, sdp, [{ header: 'Warning:', regexp: `304 [^ ]+ .${outcome.slice(4)}` }])
          : [
              send(INVITE(AUTO_ANSWER, sdp), ' retrans="500"'),
              '<recv response="100" optional="true"/>',
              '<recv response="180" optional="true"/>',
              // The answer keeps the offer's profile; a=crypto with the offer's tag and a key of ours when SRTP is taken.
              recv('response="200"', [{ header: 'CSeq:', regexp: 'INVITE' }, { regexp: `m=audio [0-9]+ ${profile} 0` }, ...(outcome === 'srtp' ? [{ regexp: 'a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}' }] : []), ...(outcome === 'dtls' ? [{ regexp: 'a=setup:active' }, { regexp: 'a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}' }, { regexp: 'a=rtcp-mux' }] : [])], ' rrs="true"', true),
              send(ACK(1)),
              pause(200),
              ...HANG_UP(2),
            ];
        const before = calls.length;
        assertSippPassed(await runSipp({ remotePort: endpoint.lines[0]!.port!, localPort: testPorts(1), scenario: scenario(`srtp ${mode} ${kind}`, steps) }));
        if (outcome.startsWith('488')) {
          expect(calls.length).toBe(before);
        } else {
          await waitFor(() => calls.length === before + 1 && calls.at(-1)!.state === 'DISCONNECTED', 5000);
          expect([kind, calls.at(-1)!.media.security.kind]).toEqual([kind, outcome === 'srtp' ? 'sdes' : outcome === 'dtls' ? 'dtls' : 'none']);
        }
      }
    } finally {
      await endpoint.stop();
    }
  }, 40_000);
});

// Bad SRTP offers (issue: "a malformed a=crypto, an unknown suite ... each is refused ... with a
// counter and a log line, and the call goes on"): a new call is refused 488 with the reason in a
// Warning, counted on the line; a re-offer mid-call is refused 488 and the call stays up.
describeSipp('bad SRTP offers (sipp)', () => {
  const malformed = SDP().replace('RTP/AVP', 'RTP/SAVP').replace('a=sendrecv', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:***\na=sendrecv');
  const unknownSuite = SDP().replace('RTP/AVP', 'RTP/SAVP').replace('a=sendrecv', `a=crypto:1 AEAD_AES_128_GCM inline:${KEY}\na=sendrecv`);
  // The ACK of a refused re-INVITE: a non-2xx final answer is ACKed in the INVITE's own transaction
  // (its branch: sipp's [branch-3], the INVITE three messages back: INVITE, 100, 488, ACK).
  const ackOfRefusal = (cseq: number) => `
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-3];rport
From: <sip:sipserver@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>;tag=[$totag]
Call-ID: [call_id]
CSeq: ${cseq} ACK
Max-Forwards: 70
Content-Length: 0
`;

  it('a new call with a malformed a=crypto or an unknown suite: 488 with the reason, counted and logged; a re-offer with either mid-call: 488, counted, logged, and the call goes on with its audio', async () => {
    const logs: string[] = [];
    const { endpoint } = standaloneEndpoint('agent', testPorts(7), testPorts(50), 700, { 'system.security.use_srtp': 'optional' }, { logger: (level, message) => { if (level <= 2) logs.push(message); } });
    const calls: Call[] = [];
    endpoint.on('incomingCall', (call) => calls.push(call));
    await endpoint.start();
    try {
      const line = endpoint.lines[0]!;
      expect(line.counters).toEqual({ offersRefused: 0, requestsRefused: 0, requestsLimited: 0 });
      assertSippPassed(await runSipp({ remotePort: line.port!, localPort: testPorts(1), scenario: scenario('malformed a=crypto', REFUSED(488, AUTO_ANSWER, malformed, [{ header: 'Warning:', regexp: '304 [^ ]+ .no usable a=crypto line: a=crypto key is not base64' }])) }));
      assertSippPassed(await runSipp({ remotePort: line.port!, localPort: testPorts(1), scenario: scenario('unknown suite', REFUSED(488, AUTO_ANSWER, unknownSuite, [{ header: 'Warning:', regexp: '304 [^ ]+ .no usable a=crypto line: suite AEAD_AES_128_GCM is not supported' }])) }));
      expect(calls).toEqual([]);
      expect(line.counters).toEqual({ offersRefused: 2, requestsRefused: 0, requestsLimited: 0 });
      expect(logs.filter((message) => message.includes('rejected with 488: no usable a=crypto line'))).toEqual([
        `call on line ${line.index} rejected with 488: no usable a=crypto line: a=crypto key is not base64`,
        `call on line ${line.index} rejected with 488: no usable a=crypto line: suite AEAD_AES_128_GCM is not supported`,
      ]);

      // A plain call, then two bad re-offers: each refused, and the call is still up, sending its tone.
      const sipp = runSipp({
        remotePort: line.port!,
        localPort: testPorts(1),
        rtpEcho: true,
        scenario: scenario('bad re-offers', [
          ...ESTABLISH(),
          pause(500),
          send(IN_DIALOG('INVITE', 2, '', malformed), ' retrans="500"'),
          '<recv response="100" optional="true"/>',
          recv('response="488"', [{ header: 'CSeq:', regexp: '2 INVITE' }]),
          send(ackOfRefusal(2)),
          pause(300),
          send(IN_DIALOG('INVITE', 3, '', unknownSuite), ' retrans="500"'),
          '<recv response="100" optional="true"/>',
          recv('response="488"', [{ header: 'CSeq:', regexp: '3 INVITE' }]),
          send(ackOfRefusal(3)),
          pause(1500),
          ...HANG_UP(4),
        ]),
      });
      await waitFor(() => calls[0]?.media.failures.negotiation === 2, 8000);
      const call = calls[0]!;
      expect(call.state).toBe('CONNECTED');
      expect(call.media.security).toEqual({ kind: 'none' });
      const sent = call.media.stats()!.sent.packets;
      const received = call.media.stats()!.received.packets;
      await waitFor(() => call.media.stats()!.sent.packets >= sent + 10 && call.media.stats()!.received.packets >= received + 10, 3000);
      expect(call.state).toBe('CONNECTED');
      assertSippPassed(await sipp);
      await waitFor(() => call.state === 'DISCONNECTED', 5000);
      expect(call.media.failures).toEqual({ negotiation: 2, security: 0 });
      expect(line.counters).toEqual({ offersRefused: 2, requestsRefused: 0, requestsLimited: 0 });
      expect(logs.filter((message) => message.includes(': offer/answer refused: '))).toEqual([
        expect.stringMatching(new RegExp(`^${call.id}: offer/answer refused: .*a=crypto key is not base64$`)),
        expect.stringMatching(new RegExp(`^${call.id}: offer/answer refused: .*suite AEAD_AES_128_GCM is not supported$`)),
      ]);
    } finally {
      await endpoint.stop();
    }
  }, 40_000);
});

// A peer that re-keys mid-call (RFC 4568 7.1.4: a re-offer may carry a new key): sipp sends the
// INVITE and a re-INVITE with another a=crypto key; ffmpeg (libavformat's own SRTP, not ours)
// sends a 440 Hz tone under the first key, then 880 Hz under the second, to our RTP port. What our
// speaker plays shows which key we decrypt with.
const describeRekey = sippAvailable() && peerAvailable('ffmpeg') ? describe : describe.skip;

describeRekey('a peer that re-keys SRTP with a re-INVITE (sipp signalling, ffmpeg SRTP)', () => {
  const FIRST = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';
  const SECOND = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk';
  const secureOffer = (key: string) => SDP().replace('RTP/AVP', 'RTP/SAVP').replace('a=sendrecv', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}\na=sendrecv`);

  /** ffmpeg sends `seconds` of a tone as PCMU in SRTP under `key` (the a=crypto inline value: key and salt) to 127.0.0.1:`port`, in real time. */
  function srtpTone(frequency: number, key: string, port: number, seconds: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const args = ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `sine=frequency=${frequency}:sample_rate=8000:samples_per_frame=160:duration=${seconds}`, '-ac', '1', '-ar', '8000', '-c:a', 'pcm_mulaw', '-f', 'rtp', '-srtp_out_suite', 'AES_CM_128_HMAC_SHA1_80', '-srtp_out_params', key, `srtp://127.0.0.1:${port}`];
      const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ended with ${code}: ${stderr}`))));
    });
  }

  /** The middle of the last second played: the tone that just ended, without its fade (the jitter buffer's delay plays on after ffmpeg stops). */
  const lastTone = ({ samples, sampleRate }: { samples: Int16Array; sampleRate: number }): Int16Array => samples.subarray(samples.length - sampleRate, samples.length - Math.round(sampleRate * 0.3));

  it('takes the new key of a re-offer: the tone sent under the first key, then the one under the second, both play; nothing fails authentication', async () => {
    const logs: string[] = [];
    // One RTP port pair, at an even port (RTP's; RTCP the odd one above): the call's is rtpBase.
    const first = testPorts(50);
    const rtpBase = first % 2 === 0 ? first : first + 1;
    const { endpoint, devices } = standaloneEndpoint('agent', testPorts(7), rtpBase, 700, { 'system.security.use_srtp': 'optional', 'policy.endpoint.rtp_port_max': String(rtpBase + 1) }, { logger: (level, message) => void (level <= 3 && logs.push(message)) });
    const calls: Call[] = [];
    endpoint.on('incomingCall', (call) => calls.push(call));
    await endpoint.start();
    try {
      const sipp = runSipp({
        remotePort: endpoint.lines[0]!.port!,
        localPort: testPorts(1),
        scenario: scenario('re-key', [
          send(INVITE(AUTO_ANSWER, secureOffer(FIRST)), ' retrans="500"'),
          '<recv response="100" optional="true"/>',
          '<recv response="180" optional="true"/>',
          recv('response="200"', [{ header: 'CSeq:', regexp: 'INVITE' }, { regexp: `m=audio ${rtpBase} RTP/SAVP 0` }, { regexp: 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:' }], ' rrs="true"', true),
          send(ACK(1)),
          pause(3000),
          send(IN_DIALOG('INVITE', 2, '', secureOffer(SECOND)), ' retrans="500"'),
          '<recv response="100" optional="true"/>',
          recv('response="200"', [{ header: 'CSeq:', regexp: '2 INVITE' }, { regexp: 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:' }]),
          send(ACK(2)),
          pause(3500),
          ...HANG_UP(3),
        ]),
      });
      await waitFor(() => calls[0]?.state === 'CONNECTED', 15_000, 'the call connected');
      const call = calls[0]!;
      const keyed = (): number => logs.filter((message) => message.includes('with SDES keys')).length;
      expect(keyed()).toBe(1);
      await srtpTone(440, FIRST, rtpBase, 2);
      const received = (): object => {
        const stats = call.media.stats();
        if (!stats || !('srtp' in stats) || !stats.srtp) throw new Error('the call has no SRTP statistics');
        return stats.srtp.received;
      };
      const underFirst = received();
      const first = devices.recording('speaker');
      const heardFirst = lastTone(first);
      // The re-INVITE's new key is in force (logged again, without the key itself).
      await waitFor(() => keyed() === 2, 5000, 'the re-offer\'s key taken');
      await srtpTone(880, SECOND, rtpBase, 2);
      const second = devices.recording('speaker');
      const heardSecond = lastTone(second);
      expect(dominantFrequency(heardFirst, first.sampleRate)).toBeCloseTo(440, -1);
      expect(dominantFrequency(heardSecond, second.sampleRate)).toBeCloseTo(880, -1);
      expect(sineSnrDb(heardSecond, second.sampleRate, 880)).toBeGreaterThan(20);
      // Each key's context counts its own packets: all 100 of each tone (20 ms each) decrypted.
      const underSecond = received();
      expect(underFirst).toMatchObject({ unprotectedRtp: 100, authenticationFailures: 0, replayed: 0, malformed: 0 });
      expect(underSecond).toMatchObject({ unprotectedRtp: 100, authenticationFailures: 0, replayed: 0, malformed: 0 });
      // (The user agent's configuration dump names a digestAuthenticationFactory option: not a failure.)
      expect(logs.filter((message) => /authentication|replay/i.test(message) && !/^· /.test(message))).toEqual([]);
      expect(logs.filter((message) => message.includes(FIRST) || message.includes(SECOND))).toEqual([]);
      assertSippPassed(await sipp);
    } finally {
      await endpoint.stop();
    }
  }, 40_000);
});
