// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Endpoint } from '@sip-endpoint/endpoint-core';
import type { Call } from '@sip-endpoint/endpoint-core';
import { VirtualAudioProvider, writeWav, type VirtualSource } from '@sip-endpoint/media';
import { compareSpeech, segmentalSnrOutsideDefects, speechLikeSignal, type SpeechComparison } from '@sip-endpoint/media/testing';
import { testPorts } from '@sip-endpoint/test-support';
import { Baresip, baresipAvailable } from '../support/baresip';
import { standaloneConfig, waitFor } from '../support/endpoints';
import { watchStalls } from '../support/stalls';

// Speech both ways between our endpoint and baresip 1.0.0, judged sample-aligned (see
// compareSpeech): baresip sends a speech-like WAV (its aufile source) and records what it decodes
// (its sndfile filter); our microphone sends another speech-like signal and our speaker records.
// A frame lost, concealed or mangled on either side fails the frame; a few glitches are allowed (a
// loaded machine stalls now and then: four, and one per stall of our event loop measured during
// the call), not one frame in ten. opus runs against baresip's own opus
// module (libopus), G.711 and G.722 against its codecs.
const describeIf = baresipAvailable() ? describe : describe.skip;
const SECONDS = 4;

/** Our microphone: the speech-like signal from the call's start, made in advance at each rate it may be opened at. */
function ourSpeech(seed: number): { source: VirtualSource; sent: () => { samples: Int16Array; sampleRate: number } } {
  const signals = new Map([8000, 16000, 32000, 48000].map((rate) => [rate, speechLikeSignal({ sampleRate: rate, seconds: SECONDS + 6, seed })]));
  let rate = 0;
  let cursor = 0;
  return {
    source: {
      kind: 'function',
      fill: (frame, length, sampleRate) => {
        const signal = signals.get(sampleRate);
        if (signal === undefined) throw new Error(`the microphone was opened at ${sampleRate} Hz`);
        if (rate !== sampleRate) {
          rate = sampleRate;
          cursor = 0;
        }
        for (let i = 0; i < length; i++) frame[i] = cursor < signal.length ? signal[cursor++]! : 0;
      },
    },
    sent: () => ({ samples: (signals.get(rate) ?? new Int16Array(0)).subarray(0, cursor), sampleRate: rate }),
  };
}

/**
 * What a listener accepts over four seconds of speech (see packages/media/test/speech.test.ts):
 * four glitches, and one more for each stall of this process's event loop seen during the call
 * (`stalls`: the endpoint's media clock stopped, so both directions may have a gap there), whose
 * frames stay out of the mean SNR too; and three noisy frames in the pauses, plus the 20 ms frames
 * the stalls lasted. The comparison is in the failure's message.
 */
function expectClean(side: string, result: SpeechComparison, minSegmentalSnrDb: number, stalls: number[]): void {
  const context = `${side} (event-loop stalls of ${stalls.map((ms) => `${ms} ms`).join(', ') || 'none'}): ${JSON.stringify(result)}`;
  // A stall disturbs the playout for as long as it lasts: its 20 ms frames may carry noise too.
  const stalledFrames = stalls.reduce((frames, ms) => frames + Math.ceil(ms / 20), 0);
  const judged = { frames: result.frames > 100, defects: result.defects <= 4 + stalls.length, badFrames: result.badFrames <= result.frames * 0.15, noisyFrames: result.noisyFrames <= 3 + stalledFrames, snr: segmentalSnrOutsideDefects(result, stalls.length) > minSegmentalSnrDb };
  expect({ context, ...judged }).toEqual({ context, frames: true, defects: true, badFrames: true, noisyFrames: true, snr: true });
}

describeIf('speech between the endpoint and baresip 1.0.0', () => {
  let baresip: Baresip | undefined;
  let endpoint: Endpoint | undefined;
  let dir = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sep-speech-'));
  });

  afterEach(async () => {
    await endpoint?.stop();
    await baresip?.stop();
    endpoint = undefined;
    baresip = undefined;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    // [codec, our name in codecs.enabled.audio, the rate baresip's source runs at (the codec's:
    // nothing resampled on its side), a frame's SNR below which it is bad, the least mean frame SNR
    // (measured: 37, 36 and 18 dB; a stall's bad frames pull the mean down)]. opus (CELT at 64
    // kbit/s both ways) strays from the waveform at onsets, with no packet lost: its frames are
    // judged against the call's own median, 15 dB under it (compareSpeech's default). Its noise
    // where a syllable ends is masked by the syllable (compareSpeech judges with temporal
    // masking); without that, three such frames were bad in every run and a margin of 20 dB was
    // needed, under which a gap of silence (0 dB) went unseen.
    ['PCMA', 'pcma', 8000, 15, 20],
    ['G722', 'g722', 16000, 10, 15],
    ['opus', 'opus', 48000, undefined, 5],
  ] as const)('baresip calls us over %s: each side hears the other\'s speech whole, sample-aligned', async (codec, ours, sourceRate, minFrameSnrDb, minSegmentalSnrDb) => {
    const theirs = speechLikeSignal({ sampleRate: sourceRate, seconds: SECONDS + 6, seed: 11 });
    const file = join(dir, `speech-${codec}.wav`);
    await writeWav(file, { sampleRate: sourceRate, channels: 1, samples: theirs });
    const options = minFrameSnrDb === undefined ? { frameMarginDb: 15 } : { minFrameSnrDb };

    const mic = ourSpeech(12);
    const devices = new VirtualAudioProvider({ defaults: false });
    devices.addInput({ name: 'Headset Microphone', id: 'mic' }, mic.source);
    devices.addOutput({ name: 'Headset Earphone', id: 'speaker' }, { record: true });
    endpoint = new Endpoint({
      config: standaloneConfig('1001', testPorts(7), testPorts(50), { 'policy.endpoint.rtp_port_binding': '1', 'policy.session.auto_answer': '1', 'codecs.enabled.audio': `${ours},telephone-event` }),
      devices,
    });
    await endpoint.start();
    baresip = await Baresip.start({ user: 'bob', codecs: [codec], sourceFile: file, sourceRate, sourceChannels: 1 });
    const calls: Call[] = [];
    endpoint.on('incomingCall', (call) => calls.push(call));
    const stalls = watchStalls();
    await baresip.dial(`sip:1001@127.0.0.1:${endpoint.lines[0]!.port}`);
    await waitFor(() => calls[0]?.state === 'CONNECTED', 10_000, 'the call connected');
    const call = calls[0]!;
    expect(call.info().codec).toMatch(new RegExp(`^${codec}/`, 'i'));
    const bob = baresip;
    const recordedByUs = (): number => devices.recording('speaker').samples.length / devices.recording('speaker').sampleRate;
    const recordedByBob = (): number => {
      const last = bob.recordings().at(-1);
      return last ? last.samples.length / last.sampleRate : 0;
    };
    await waitFor(() => recordedByUs() >= SECONDS + 0.5 && recordedByBob() >= SECONDS + 0.5, 30_000, `${SECONDS + 0.5} s of speech recorded on both sides`);
    await call.hangup();
    const stalled = stalls.stop();

    const speaker = devices.recording('speaker');
    const heardByUs = compareSpeech(theirs, sourceRate, speaker.samples, speaker.sampleRate, options);
    const sent = mic.sent();
    const recording = bob.recordings().at(-1)!;
    const heardByBob = compareSpeech(sent.samples, sent.sampleRate, recording.samples, recording.sampleRate, options);
    console.log(`baresip over ${codec}: heard by us ${heardByUs.defects} defects, ${heardByUs.segmentalSnrDb.toFixed(1)} dB; heard by baresip ${heardByBob.defects} defects, ${heardByBob.segmentalSnrDb.toFixed(1)} dB (stalls: ${stalled.join(', ') || 'none'})`);
    expectClean('heard by us', heardByUs, minSegmentalSnrDb, stalled);
    expectClean('heard by baresip', heardByBob, minSegmentalSnrDb, stalled);
  }, 60_000);
});
