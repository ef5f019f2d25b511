// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import type { Call, Endpoint } from '@sip-endpoint/endpoint-core';
import type { AudioStreamStats } from '@sip-endpoint/media';
import { compareSpeech } from '@sip-endpoint/media/testing';
import { peerAvailable, testPorts } from '@sip-endpoint/test-support';
import { Capture, tsharkAvailable } from '../support/capture';
import { recorded, sleep, standaloneEndpoint, untilRecorded, waitFor } from '../support/endpoints';
import { PCAP, pcapSpeech } from '../support/pcap-speech';
import { assertSippPassed, runSipp, sippAvailable, udpBound } from '../support/sipp';
import { ACK, AUTO_ANSWER, ESTABLISH, HANG_UP, IN_DIALOG, RESPONSE, SDP, pause, recv, scenario, send } from '../support/sipp-scenario';

// A mid-call codec change against sipp playing SIP Server (or a far end), judged on the wire
// (tshark) and on what our speaker recorded. Both ways: sipp re-offers only PCMA in a call on
// PCMU, and call.changeCodec('PCMA') re-offers PCMA first to a sipp that answers it. The wire must
// show our RTP going from payload type 0 to 8 inside one RTP stream: sequence numbers without a
// gap, the timestamp stepping by one 20 ms frame (160 at 8 kHz on both sides of the switch), and
// the marker bit on the first PCMA packet. After sipp's re-offer, sipp plays the A-law speech of
// its g711a.pcap: our speaker must play that speech (our stream decodes payload type 8 with the
// A-law decoder; before the switch it took payload type 0 only).
const describeIf = sippAvailable() && tsharkAvailable() ? describe : describe.skip;


/** The offer of a call on PCMU that also allows PCMA (so that a later PCMA-only offer is a change, not a new codec). */
const PCMU_AND_PCMA = SDP().replace('RTP/AVP 0 101', 'RTP/AVP 0 8 101').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000');
/** The same session, version 2 of its SDP, with PCMA (and telephone-events) only. */
const PCMA_ONLY = SDP().replace('o=- 1 1', 'o=- 1 2').replace('RTP/AVP 0 101', 'RTP/AVP 8 101').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000');

/** The agent's endpoint (microphone at 700 Hz, a recording speaker) and the calls it is offered. */
function agent(): { endpoint: Endpoint; devices: ReturnType<typeof standaloneEndpoint>['devices']; calls: Call[] } {
  const made = standaloneEndpoint('agent', testPorts(7), testPorts(50), 700);
  const calls: Call[] = [];
  made.endpoint.on('incomingCall', (call) => calls.push(call));
  return { ...made, calls };
}

/** One RTP packet we sent, as tshark decoded it. */
interface WirePacket {
  sequence: number;
  timestamp: number;
  payloadType: number;
  marker: boolean;
}

/** Our audio packets to sipp's media port, in the order sent (telephone-events aside). */
function ourAudio(capture: Capture, mediaPort: number): WirePacket[] {
  return capture
    .fields(`udp.dstport == ${mediaPort} && rtp && rtp.p_type != 101`, ['rtp.seq', 'rtp.timestamp', 'rtp.p_type', 'rtp.marker'], [`udp.port==${mediaPort},rtp`])
    .map(([sequence, timestamp, payloadType, marker]) => ({ sequence: Number(sequence), timestamp: Number(timestamp), payloadType: Number(payloadType), marker: marker === '1' || marker === 'True' }));
}

/**
 * What the wire says of the switch: the payload types in the order they came (runs collapsed),
 * every sequence step that is not +1, and, at the first packet of `to`, its timestamp step and marker.
 */
function switchOnWire(packets: WirePacket[], to: number): { payloadTypes: number[]; sequenceGaps: number[]; timestampStep: number | undefined; marker: boolean | undefined; before: number; after: number } {
  const payloadTypes = packets.map((packet) => packet.payloadType).filter((type, i, all) => i === 0 || all[i - 1] !== type);
  const sequenceGaps: number[] = [];
  for (let i = 1; i < packets.length; i++) {
    const step = (packets[i]!.sequence - packets[i - 1]!.sequence + 0x10000) % 0x10000;
    if (step !== 1) sequenceGaps.push(step);
  }
  const at = packets.findIndex((packet) => packet.payloadType === to);
  return {
    payloadTypes,
    sequenceGaps,
    timestampStep: at > 0 ? (packets[at]!.timestamp - packets[at - 1]!.timestamp + 2 ** 32) % 2 ** 32 : undefined,
    marker: at > 0 ? packets[at]!.marker : undefined,
    before: at < 0 ? packets.length : at,
    after: at < 0 ? 0 : packets.length - at,
  };
}

function rmsOf(samples: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! ** 2;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

/** The audio stream's counters (this call's stream is a native one: not WebRTC). */
function streamStats(call: Call): AudioStreamStats {
  const stats = call.media.stats();
  if (!stats || !('localSsrc' in stats)) throw new Error('the call has no native audio stream');
  return stats;
}

describeIf('a mid-call codec change against sipp', () => {
  let capture: Capture | undefined;
  let endpoint: Endpoint | undefined;

  afterEach(async () => {
    await capture?.dispose();
    await endpoint?.stop();
    capture = undefined;
    endpoint = undefined;
  });

  it('sipp re-offers only PCMA in a call on PCMU: our answer names 8, our RTP switches to 8 unbroken, and the A-law sipp plays is heard', async () => {
    expect(peerAvailable('ffmpeg')).toBe(true);
    const made = agent();
    endpoint = made.endpoint;
    const { devices, calls } = made;
    await endpoint.start();
    const mediaPort = testPorts(4);
    capture = await Capture.start(`udp port ${mediaPort}`);
    const sipp = runSipp({
      remotePort: endpoint.lines[0]!.port!,
      localPort: testPorts(1),
      mediaPort,
      timeoutS: 30,
      scenario: scenario('codec change by the far end', [
        // The call settles on PCMU (our local priority puts it before PCMA); nothing is sent to us yet.
        ...ESTABLISH(AUTO_ANSWER, PCMU_AND_PCMA),
        pause(1500),
        send(IN_DIALOG('INVITE', 2, '', PCMA_ONLY), ' retrans="500"'),
        '<recv response="100" optional="true"/>',
        recv('response="200"', [{ header: 'CSeq:', regexp: '2 INVITE' }, { regexp: 'm=audio [0-9]+ RTP/AVP 8[^0-9]' }, { regexp: 'a=rtpmap:8 PCMA/8000' }]),
        send(ACK(2)),
        // 7 s of A-law speech (30 ms packets) from sipp's media port; the call ends while it plays.
        `<nop><action><exec play_pcap_audio="${PCAP}"/></action></nop>`,
        pause(4500),
        ...HANG_UP(3),
      ]),
    });
    await waitFor(() => calls[0]?.state === 'CONNECTED', 10_000, 'the call connected');
    const call = calls[0]!;
    expect(call.media.codec).toBe('PCMU/8000');
    await waitFor(() => call.media.codec === 'PCMA/8000', 10_000, 'the re-INVITE settled PCMA');
    // Nothing came from sipp before the switch: what the speaker holds from here on is the pcap's.
    const switchedAtS = recorded(devices);
    const atSwitch = streamStats(call);
    await untilRecorded(switchedAtS + 3.5, devices);
    const later = streamStats(call);
    const result = await sipp;
    assertSippPassed(result);
    await waitFor(() => call.state === 'DISCONNECTED', 5000, 'the BYE');
    await capture.stop();

    // The answer in sipp's trace: PCMA alone (and telephone-events), not PCMU.
    const answer = result.messages.split(/^-{5,}.*$/m).find((message) => /^SIP\/2\.0 200/m.test(message) && /CSeq: 2 INVITE/.test(message));
    expect(answer).toMatch(/^m=audio \d+ RTP\/AVP 8 101\r?$/m);

    const wire = switchOnWire(ourAudio(capture, mediaPort), 8);
    expect(wire).toEqual({ payloadTypes: [0, 8], sequenceGaps: [], timestampStep: 160, marker: true, before: expect.any(Number) as number, after: expect.any(Number) as number });
    // About 1.5 s on PCMU, then PCMA until the BYE: both sides of the switch are there, not a stray packet.
    expect(wire.before).toBeGreaterThan(50);
    expect(wire.after).toBeGreaterThan(150);

    // The receive side: about 3.5 s of 30 ms packets (~115) went into the jitter buffer after the
    // switch, and concealment grew by a few frames at most (a payload type the stream did not
    // decode would be dropped before the buffer, and the buffer would run dry: concealment and
    // silence for the whole time).
    const received = later.jitterBuffer.received - atSwitch.jitterBuffer.received;
    const concealed = later.jitterBuffer.concealed - atSwitch.jitterBuffer.concealed;
    console.log(`after the switch: ${JSON.stringify({ received, concealed, lost: later.jitterBuffer.lost - atSwitch.jitterBuffer.lost, late: later.jitterBuffer.late - atSwitch.jitterBuffer.late, underruns: later.jitterBuffer.underruns - atSwitch.jitterBuffer.underruns })}`);
    expect(received).toBeGreaterThan(90);
    expect(concealed).toBeLessThanOrEqual(5);

    // What the speaker played after the switch: not silence, and the pcap's speech itself (A-law
    // decoded as mu-law, or not decoded, would match no frame).
    const speaker = devices.recording('speaker');
    const after = speaker.samples.subarray(Math.floor(switchedAtS * speaker.sampleRate));
    const before = speaker.samples.subarray(0, Math.floor(switchedAtS * speaker.sampleRate));
    const heard = compareSpeech(pcapSpeech(), 8000, after, speaker.sampleRate, { minFrameSnrDb: 15, maxDelayMs: 2000 });
    console.log(`heard after the switch: ${JSON.stringify({ ...heard, frameSnrDb: undefined, rmsBefore: rmsOf(before), rmsAfter: rmsOf(after) })}`);
    expect(rmsOf(after)).toBeGreaterThan(300);
    expect(heard.frames).toBeGreaterThan(50);
    expect(heard.badFrames).toBeLessThanOrEqual(heard.frames * 0.1);
    expect(heard.segmentalSnrDb).toBeGreaterThan(25);
  }, 45_000);

  it('call.changeCodec(\'PCMA\') that sipp answers with PCMA: our re-INVITE names 8 first, our RTP switches to 8 unbroken', async () => {
    const made = agent();
    endpoint = made.endpoint;
    await endpoint.start();
    const mediaPort = testPorts(4);
    const sippPort = testPorts(1);
    capture = await Capture.start(`udp port ${mediaPort}`);
    const sipp = runSipp({
      remotePort: endpoint.lines[0]!.port!,
      localPort: sippPort,
      mediaPort,
      timeoutS: 30,
      scenario: scenario('codec change by us', [
        recv('request="INVITE"'),
        send(RESPONSE('200 OK', SDP(), '[pid]uas[call_number]')),
        '<recv request="ACK"/>',
        // Our re-offer lists PCMA first, then the codec in use.
        recv('request="INVITE"', [{ regexp: 'm=audio [0-9]+ RTP/AVP 8 0[^0-9]' }], ' timeout="10000"'),
        send(RESPONSE('200 OK', PCMA_ONLY)),
        '<recv request="ACK"/>',
        recv('request="BYE"', [], ' timeout="10000"'),
        send(RESPONSE('200 OK')),
      ]),
    });
    await waitFor(() => udpBound(sippPort), 5000, 'sipp to listen');
    const call = await endpoint.makeCall(`sip:uas@127.0.0.1:${sippPort}`);
    await waitFor(() => call.state === 'CONNECTED', 10_000, 'the call connected');
    expect(call.media.codec).toBe('PCMU/8000');
    // A second of PCMU on the wire first.
    await sleep(1000);
    await call.changeCodec('PCMA');
    expect(call.media.codec).toBe('PCMA/8000');
    await sleep(1000);
    await call.hangup();
    assertSippPassed(await sipp);
    await capture.stop();

    const wire = switchOnWire(ourAudio(capture, mediaPort), 8);
    expect(wire).toEqual({ payloadTypes: [0, 8], sequenceGaps: [], timestampStep: 160, marker: true, before: expect.any(Number) as number, after: expect.any(Number) as number });
    expect(wire.before).toBeGreaterThan(30);
    expect(wire.after).toBeGreaterThan(30);
  }, 45_000);
});
