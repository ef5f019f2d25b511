import type { Call, Conference } from '@sip-endpoint/endpoint-core';
import { powerAt } from '@sip-endpoint/media/testing';
import { testPorts } from '@sip-endpoint/test-support';
import { Baresip, baresipAvailable } from '../support/baresip';
import { standaloneEndpoint, waitFor } from '../support/endpoints';

// A local conference against two real peers: baresip A sends a 400 Hz tone, baresip B 1100 Hz,
// our microphone 950 Hz; both calls are PCMU (the mixer resamples them to and from 16 kHz). Each
// peer records what it decodes. In the conference A must hear us and B but not itself, B us and A,
// our speaker A and B (not our own microphone); once split, each peer hears only us again. The
// levels are the power at each tone (Goertzel), in dB of full scale.
const describeIf = baresipAvailable() ? describe : describe.skip;

const A_HZ = 400;
const B_HZ = 1100;
/**
 * Not 700 Hz: baresip's tones are loud (about -4 dBFS each), their sum clips on our speaker, and
 * clipping makes products at sums and differences of multiples of 400 and 1100 (700 is
 * 1100 - 400). 950 Hz is none of them.
 */
const OURS_HZ = 950;
/** A tone that is there: baresip's and ours are -12 to -20 dBFS. */
const PRESENT_DB = -35;
/** A tone that is not there: at least 25 dB below the weakest present one. */
const ABSENT_DB = -60;

/** dB of full scale of the tone at `f` in `samples` (a full-scale sine gives 0). */
function levelDb(samples: Int16Array, sampleRate: number, f: number): number {
  return 10 * Math.log10(powerAt(samples, sampleRate, f) / ((32767 * 32767 * samples.length) / 4) + 1e-12);
}

/** The levels of the three tones in `[from, to)` seconds of a recording, past the first 0.5 s of it (jitter buffers settle, latency). */
function levels(recording: { sampleRate: number; samples: Int16Array }, from: number, to: number): Record<'a' | 'b' | 'ours', number> {
  const start = Math.round((from + 0.5) * recording.sampleRate);
  const part = recording.samples.subarray(start, Math.round(to * recording.sampleRate));
  if (part.length < recording.sampleRate * 0.5) throw new Error(`only ${part.length} samples between ${from} and ${to} s`);
  const round = (db: number): number => Math.round(db * 10) / 10;
  return { a: round(levelDb(part, recording.sampleRate, A_HZ)), b: round(levelDb(part, recording.sampleRate, B_HZ)), ours: round(levelDb(part, recording.sampleRate, OURS_HZ)) };
}

/** Seconds in baresip's latest call recording. */
function recorded(baresip: Baresip): number {
  const last = baresip.recordings().at(-1);
  return last ? last.samples.length / last.sampleRate : 0;
}

describeIf('a local conference with two baresip 1.0.0 peers', () => {
  let peers: Baresip[] = [];
  let us: ReturnType<typeof standaloneEndpoint> | undefined;

  afterEach(async () => {
    await us?.endpoint.stop();
    await Promise.all(peers.map((peer) => peer.stop()));
    peers = [];
    us = undefined;
  });

  it('mixes both calls with our microphone (nobody hears itself), splits back without cross-talk, and each leg keeps its MOS', async () => {
    us = standaloneEndpoint('1001', testPorts(7), testPorts(50), OURS_HZ, { 'policy.endpoint.rtp_port_binding': '1' });
    const { endpoint, devices } = us;
    await endpoint.start();
    const a = await Baresip.start({ user: 'alice', frequency: A_HZ, answerMode: 'auto', codecs: ['PCMU'] });
    const b = await Baresip.start({ user: 'bob', frequency: B_HZ, answerMode: 'auto', codecs: ['PCMU'] });
    peers = [a, b];
    const connect = async (peer: Baresip): Promise<Call> => {
      const call = await endpoint.makeCall(peer.uri);
      await waitFor(() => call.state === 'CONNECTED' && call.media.stream !== undefined, 10_000, `the call to ${peer.user} connected`);
      return call;
    };
    const callA = await connect(a);
    const callB = await connect(b);
    const speakerSeconds = (): number => devices.recording('speaker').samples.length / devices.recording('speaker').sampleRate;
    // Media time on all three recordings, however loaded the machine.
    const untilMore = async (seconds: number): Promise<{ a: number; b: number; us: number }> => {
      const start = { a: recorded(a), b: recorded(b), us: speakerSeconds() };
      await waitFor(() => recorded(a) >= start.a + seconds && recorded(b) >= start.b + seconds && speakerSeconds() >= start.us + seconds, 10_000 + seconds * 2000, `${seconds} s more recorded`);
      return { a: recorded(a), b: recorded(b), us: speakerSeconds() };
    };
    const before = await untilMore(1.5);

    const conference: Conference = await endpoint.conference(callA, callB);
    const events: string[] = [];
    conference.on('callRemoved', (call) => events.push(`removed ${call === callA ? 'A' : 'B'}`));
    conference.on('closed', () => events.push('closed'));
    expect(conference.calls).toEqual([callA, callB]);
    const joined = { a: recorded(a), b: recorded(b), us: speakerSeconds() };
    const inConference = await untilMore(2.5);
    // MOS per leg: each call keeps its own stream, statistics and quality.
    const quality = [callA.media.quality(), callB.media.quality()];
    conference.split();
    expect(events).toEqual(['removed A', 'removed B', 'closed']);
    const split = { a: recorded(a), b: recorded(b), us: speakerSeconds() };
    const after = await untilMore(2);
    await callA.hangup();
    await callB.hangup();

    const heard = {
      aInConference: levels(a.recordings().at(-1)!, joined.a, inConference.a),
      bInConference: levels(b.recordings().at(-1)!, joined.b, inConference.b),
      usInConference: levels(devices.recording('speaker'), joined.us, inConference.us),
      aAfterSplit: levels(a.recordings().at(-1)!, split.a, after.a),
      bAfterSplit: levels(b.recordings().at(-1)!, split.b, after.b),
      aBefore: levels(a.recordings().at(-1)!, 0, before.a),
    };
    // The measured levels, for the record (the failure message shows them too).
    console.log(JSON.stringify({ codecs: [callA.info().codec, callB.info().codec], heard, mos: quality.map((q) => q?.mos) }));
    const present = (db: number): boolean => db > PRESENT_DB;
    const absent = (db: number): boolean => db < ABSENT_DB;
    const judged = {
      aHearsUsAndB: present(heard.aInConference.ours) && present(heard.aInConference.b),
      aDoesNotHearItself: absent(heard.aInConference.a),
      bHearsUsAndA: present(heard.bInConference.ours) && present(heard.bInConference.a),
      bDoesNotHearItself: absent(heard.bInConference.b),
      weHearAAndB: present(heard.usInConference.a) && present(heard.usInConference.b),
      weDoNotHearOurselves: absent(heard.usInConference.ours),
      aHearsOnlyUsBefore: present(heard.aBefore.ours) && absent(heard.aBefore.b),
      aHearsOnlyUsAfterSplit: present(heard.aAfterSplit.ours) && absent(heard.aAfterSplit.b),
      bHearsOnlyUsAfterSplit: present(heard.bAfterSplit.ours) && absent(heard.bAfterSplit.a),
    };
    expect({ heard, ...judged }).toEqual({ heard, ...Object.fromEntries(Object.keys(judged).map((key) => [key, true])) });
    for (const q of quality) expect(q?.mos).toBeGreaterThan(3.5);
  }, 90_000);
});
