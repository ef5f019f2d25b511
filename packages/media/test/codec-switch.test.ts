// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { AudioStream, G722, OPUS, PCMU, RtpSession, VirtualAudioProvider, type AudioOutput, type Codec, type VirtualSource } from '@sip-endpoint/media';
import { compareSpeech, speechLikeSignal } from '@sip-endpoint/media/testing';
import { waitFor } from '@sip-endpoint/test-support';
import { workerPorts } from './support/ports';
import { watchStalls } from './support/stalls';

// A mid-call codec change (AudioStream.setCodec) between two streams on 127.0.0.1: PCMU, then
// G.722, then opus, both ways, with the devices open at 48 kHz throughout (as a call's devices stay
// at the rate they opened at). What each speaker recorded is judged around each switch against
// the speech-like signal sent: no gap (every 5 ms of speech is there, at a level near the
// signal's) and no click (no sample-to-sample step beyond what the signal itself has nearby).

const ports = workerPorts(40);
const RATE = 48000;

/** A microphone playing a speech-like signal from the start, and what it has played. */
function speaker(seed: number): { source: VirtualSource; sent: () => Int16Array } {
  const signal = speechLikeSignal({ sampleRate: RATE, seconds: 10, seed });
  let cursor = 0;
  return {
    source: { kind: 'function', fill: (frame, length) => { for (let i = 0; i < length; i++) frame[i] = cursor < signal.length ? signal[cursor++]! : 0; } },
    sent: () => signal.subarray(0, cursor),
  };
}

interface Side {
  stream: AudioStream;
  devices: VirtualAudioProvider;
  mic: ReturnType<typeof speaker>;
  /** Seconds played (by the playout clock) when each new playout rate began. */
  switches: { atS: number; rate: number }[];
  playedS: number;
}

function side(session: RtpSession, peerPort: number, seed: number): Side {
  const devices = new VirtualAudioProvider({ defaults: false });
  const mic = speaker(seed);
  devices.addInput({ name: 'mic', id: 'mic' }, mic.source);
  devices.addOutput({ name: 'speaker', id: 'speaker' }, { record: true });
  const self: Side = { devices, mic, switches: [], playedS: 0, stream: undefined as unknown as AudioStream };
  let rate = PCMU.sampleRate;
  self.stream = new AudioStream({
    session,
    codec: PCMU,
    payloadType: 0,
    telephoneEvent: { payloadType: 101, clockRate: 8000 },
    remote: { address: '127.0.0.1', rtpPort: peerPort },
    input: devices.openInput('mic', RATE),
    output: devices.openOutput('speaker', RATE),
    onPlayout: (_frame, length, sampleRate) => {
      if (sampleRate !== rate) {
        rate = sampleRate;
        self.switches.push({ atS: self.playedS, rate });
      }
      self.playedS += length / sampleRate;
    },
  });
  return self;
}

/** The largest step between two neighbouring samples in `samples[from, to)`. */
function largestStep(samples: Int16Array, from: number, to: number): number {
  let largest = 0;
  for (let i = Math.max(1, from); i < Math.min(samples.length, to); i++) largest = Math.max(largest, Math.abs(samples[i]! - samples[i - 1]!));
  return largest;
}

function rmsOf(samples: Int16Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! ** 2;
  return Math.sqrt(sum / Math.max(1, to - from));
}

/**
 * Around one switch of the recording (at `atS` of playout, ±60 ms), against the reference aligned
 * by `delayS`: the longest run of near silence (under 1 % of full scale) where the reference
 * speaks, in ms (a gap), and the largest step between neighbouring samples against the
 * reference's largest step around it (a click). The speaker's resampler is the same before and
 * after, so its delay cancels out.
 */
function judgeSwitch(recording: Int16Array, reference: Int16Array, atS: number, delayS: number): { longestSilenceMs: number; speechMs: number; stepRatio: number } {
  const at = Math.round(atS * RATE);
  const half = Math.round(0.06 * RATE);
  const shift = Math.round(delayS * RATE);
  const around = Math.round(0.01 * RATE);
  let run = 0;
  let longest = 0;
  let speech = 0;
  for (let i = at - half; i < at + half; i++) {
    // Where the reference speaks: 20 ms around the aligned sample (the path's delay moves by a few ms at a switch).
    const speaks = rmsOf(reference, i - shift - around, i - shift + around) > 1000;
    if (!speaks) {
      run = 0;
      continue;
    }
    speech++;
    run = Math.abs(recording[i]!) < 328 ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  const referenceStep = largestStep(reference, at - shift - half, at - shift + half);
  const stepRatio = largestStep(recording, at - half, at + half) / Math.max(1, referenceStep);
  return { longestSilenceMs: (longest / RATE) * 1000, speechMs: (speech / RATE) * 1000, stepRatio };
}

describe('a mid-call codec change (AudioStream.setCodec) on 127.0.0.1', () => {
  it('PCMU -> G.722 -> opus both ways: the receiver follows each switch, no gap, no click', async () => {
    const aliceSession = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const bobSession = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const alice = side(aliceSession, bobSession.localPort, 21);
    // The same speech both ways (each side's mic runs on its own clock): a switch made while one
    // speaks lands in the other's speech too, where a gap or a click would show.
    const bob = side(bobSession, aliceSession.localPort, 21);
    const sentPayloadTypes = new Set<number>();
    /** When each switch was made (performance.now()), in order. */
    const switchedAt: number[] = [];
    const stallWatch = watchStalls();
    /** Waits until the last 10 ms of Alice's microphone is speech, well within a syllable. */
    const speaking = async (): Promise<void> => {
      await waitFor(() => {
        const sent = alice.mic.sent();
        return sent.length > 480 && rmsOf(sent, sent.length - 480, sent.length) > 2500;
      }, 5_000, 'a syllable');
    };
    const switchTo = (codec: Codec, payloadType: number): void => {
      // The answerer switches as it answers, the offerer as the answer comes: in the same tick here.
      bob.stream.setCodec({ codec, payloadType, telephoneEvent: { payloadType: 101, clockRate: 8000 } });
      alice.stream.setCodec({ codec, payloadType, telephoneEvent: { payloadType: 101, clockRate: 8000 } });
      sentPayloadTypes.add(payloadType);
      switchedAt.push(performance.now());
    };
    alice.stream.start();
    bob.stream.start();
    try {
      await waitFor(() => bob.playedS >= 1.5 && alice.playedS >= 1.5, 20_000, '1.5 s played');
      await speaking();
      switchTo(G722, 9);
      expect(alice.stream.codec).toBe(G722);
      await waitFor(() => bob.playedS >= 3 && alice.playedS >= 3, 20_000, '3 s played');
      await speaking();
      switchTo(OPUS, 111);
      await waitFor(() => bob.playedS >= 4.5 && alice.playedS >= 4.5, 20_000, '4.5 s played');
    } finally {
      alice.stream.close();
      bob.stream.close();
    }
    const stalls = stallWatch.stop();
    expect(() => alice.stream.setCodec({ codec: PCMU, payloadType: 0 })).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_STREAM_CLOSED' }));

    for (const [name, listener, talker] of [['bob', bob, alice], ['alice', alice, bob]] as const) {
      // The playout followed both switches, each at the rate of the new codec.
      expect(listener.switches.map((s) => s.rate)).toEqual([16000, 48000]);
      const recording = listener.devices.recording('speaker');
      expect(recording.sampleRate).toBe(RATE);
      const reference = talker.mic.sent();
      // The whole call: speech all the way (opus is perceptual: judged against the call's median).
      const whole = compareSpeech(reference, RATE, recording.samples, RATE, { frameMarginDb: 20 });
      const context = `${name}: ${JSON.stringify({ ...whole, frameSnrDb: undefined })}`;
      // One more defect or click for each long stall of the event loop (the media clock stopped).
      const long = stalls.filter((stall) => stall.ms > 40).length;
      expect({ context, long, defects: whole.defects <= 2 + long, clicks: whole.clicks <= 1 + long }).toEqual({ context, long, defects: true, clicks: true });
      for (const [index, change] of listener.switches.entries()) {
        // A stall of the event loop from just before the switch to when its packets played (the
        // jitter buffer's delay, under 400 ms) may leave the receiver a gap or a concealed frame
        // there that is the stall's, not the switch's: the judgement then allows what the stall
        // lasted. Without a stall (a machine that is not overloaded) it is strict.
        const made = switchedAt[index]!;
        const stalled = stalls.filter((stall) => stall.endedAt > made - 100 && stall.endedAt - stall.ms < made + 400).reduce((sum, stall) => sum + stall.ms, 0);
        // The delay before the switch: the path's (jitter buffer, codec), from the comparison.
        const judged = judgeSwitch(recording.samples, reference, change.atS, whole.delayMs / 1000);
        // Measured: the weakest 5 ms within 3 dB of the signal; steps at most 1.3 times the signal's.
        const at = `${name} at the switch to ${change.rate} Hz: ${JSON.stringify(judged)}`;
        // The same measure away from the switch, before and after it: where the path's delay drifts
        // by a few ms (the jitter buffer adapts), a syllable's edge reads as a short "gap" there
        // too. A gap of the switch is one longer than any of these.
        const controls = [-0.5, -0.25, 0.25].map((offset) => judgeSwitch(recording.samples, reference, change.atS + offset, whole.delayMs / 1000));
        const baselineMs = Math.max(...controls.map((control) => control.longestSilenceMs));
        console.log(at, 'controls 500 and 250 ms before, 250 ms after:', JSON.stringify(controls));
        const allowed = stalled > 0 ? { gapMs: 2 + baselineMs + stalled, stepRatio: 4 } : { gapMs: 2 + baselineMs, stepRatio: 2 };
        const context = `${at} (event-loop stalls around it: ${Math.round(stalled)} ms; longest "gap" away from the switch: ${baselineMs.toFixed(1)} ms)`;
        // Speech there (so that no gap and no click mean something): 40 ms of it, less what a stall
        // took (30 ms of speech beside a 111 ms stall on a loaded CI run), and never under 10.
        const speechMs = stalled > 0 ? Math.max(10, 40 - stalled) : 40;
        expect({ context, speech: judged.speechMs > speechMs, gap: judged.longestSilenceMs < allowed.gapMs, click: judged.stepRatio < allowed.stepRatio }).toEqual({ context, speech: true, gap: true, click: true });
      }
    }
    // The stats follow: the receive jitter is in ms at whichever clock rate, not a jump of the switch.
    expect(bob.stream.stats().received.jitterMs).toBeLessThan(30);
  }, 60_000);

  it('a speaker that discarded at the switch and plays later gets frames at its own rate (a call joining a conference after a codec change)', async () => {
    // A call's speaker port without a speaker discards and says the codec's rate (8 kHz for PCMU);
    // put on a conference leg later, it takes frames at that rate, which the leg was made for. A
    // switch to G.722 made while it discarded must leave the stream writing 8 kHz frames to it.
    const writes: number[] = [];
    const port = { discards: true, sampleRate: 8000, device: { id: '', name: 'no speaker', kind: 'output' as const }, write: (_frame: Int16Array, length: number) => writes.push(length), close: () => undefined };
    const output: AudioOutput = port;
    const aliceSession = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const bobSession = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    let bobRate = 0;
    const devices = new VirtualAudioProvider({ defaults: false });
    devices.addInput({ name: 'mic', id: 'mic' }, { kind: 'tone', frequencies: [440] });
    const alice = new AudioStream({ session: aliceSession, codec: PCMU, payloadType: 0, remote: { address: '127.0.0.1', rtpPort: bobSession.localPort }, input: devices.openInput('mic', 8000) });
    const bob = new AudioStream({ session: bobSession, codec: PCMU, payloadType: 0, remote: { address: '127.0.0.1', rtpPort: aliceSession.localPort }, output, onPlayout: (_frame, _length, sampleRate) => (bobRate = sampleRate) });
    alice.start();
    bob.start();
    try {
      await waitFor(() => bobRate === 8000, 5_000, 'PCMU played');
      alice.setCodec({ codec: G722, payloadType: 9 });
      bob.setCodec({ codec: G722, payloadType: 9 });
      await waitFor(() => bobRate === 16000, 5_000, 'G.722 played');
      expect(writes).toEqual([]);
      // The port goes on a conference leg: it plays from now on, still at 8 kHz.
      port.discards = false;
      await waitFor(() => writes.length >= 10, 5_000, '10 frames written');
    } finally {
      alice.close();
      bob.close();
    }
    expect(new Set(writes)).toEqual(new Set([160]));
  }, 20_000);
});
