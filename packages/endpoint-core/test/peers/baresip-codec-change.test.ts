// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Endpoint } from '@sip-endpoint/endpoint-core';
import type { Call } from '@sip-endpoint/endpoint-core';
import { VirtualAudioProvider, writeWav } from '@sip-endpoint/media';
import { compareSpeech, segmentalSnrOutsideDefects, speechLikeSignal } from '@sip-endpoint/media/testing';
import { testPorts } from '@sip-endpoint/test-support';
import { Baresip, baresipAvailable } from '../support/baresip';
import { Capture, tsharkAvailable } from '../support/capture';
import { standaloneConfig, waitFor } from '../support/endpoints';
import { watchStalls } from '../support/stalls';

// A mid-call codec change offered to baresip 1.0.0: baresip calls us offering G.722 and PCMU, we
// answer PCMU (local answer priority), then call.changeCodec('G722') sends a re-INVITE offering
// G.722 first (then PCMU). baresip 1.0.0 does NOT switch on a re-INVITE: it answers with the codec
// in use (PCMU) whatever the offer's order, so its encoder never changes. What this test checks is
// that refusal path: changeCodec() rejects with RequestFailedError, the call and its stream stay
// on PCMU without a break (tshark: payload type 0 both ways throughout), and our recording of
// baresip's speech stays whole (found, quarter second by quarter second, in the audio on the wire,
// and frame by frame against baresip's WAV). The switch itself, on the wire, is checked against sipp
// (sipp-codec-change) and on recorded audio between two of our streams (media codec-switch test).
const describeIf = baresipAvailable() && tsharkAvailable() ? describe : describe.skip;

/**
 * The audio baresip sent us as captured (its PCMU packets to `ourPort`, in order), decoded by
 * ffmpeg rather than by our own code.
 */
function wireSpeech(capture: Capture, ourPort: number): Int16Array {
  const payloads = capture.fields(`udp.dstport == ${ourPort} && rtp.p_type == 0`, ['rtp.payload'], [`udp.port==${ourPort},rtp`]);
  const mulaw = Buffer.from(payloads.map(([payload]) => payload!.replace(/[^0-9a-f]/gi, '')).join(''), 'hex');
  const dir = mkdtempSync(join(tmpdir(), 'sep-wire-'));
  try {
    writeFileSync(join(dir, 'wire.ulaw'), mulaw);
    const ffmpeg = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'mulaw', '-ar', '8000', '-ac', '1', '-i', join(dir, 'wire.ulaw'), '-f', 's16le', join(dir, 'wire.raw')], { encoding: 'utf8' });
    if (ffmpeg.status !== 0) throw new Error(`ffmpeg could not decode the captured mu-law: ${ffmpeg.stderr}`);
    const raw = readFileSync(join(dir, 'wire.raw'));
    return new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Where each `block` samples of `received` (those not near silence) are found in `reference`:
 * the offset in samples of the best normalised correlation, searched within ±0.1 s of the previous
 * block's offset (the whole reference for the first), and that correlation.
 */
function blockAlignment(received: Int16Array, reference: Int16Array, block: number): { atS: number; offset: number; correlation: number }[] {
  const found: { atS: number; offset: number; correlation: number }[] = [];
  let previous: number | undefined;
  for (let start = 0; start + block <= received.length; start += block) {
    let energy = 0;
    for (let i = 0; i < block; i++) energy += received[start + i]! ** 2;
    if (Math.sqrt(energy / block) < 100) continue;
    const from = previous === undefined ? -start : previous - 800;
    const to = previous === undefined ? reference.length - block - start : previous + 800;
    let best = { offset: 0, correlation: -1 };
    for (let offset = Math.max(from, -start); offset <= Math.min(to, reference.length - block - start); offset++) {
      let dot = 0;
      let norm = 0;
      for (let i = 0; i < block; i++) {
        const r = reference[start + offset + i]!;
        dot += received[start + i]! * r;
        norm += r * r;
      }
      const correlation = dot / (Math.sqrt(energy * norm) + 1);
      if (correlation > best.correlation) best = { offset, correlation };
    }
    previous = best.offset;
    found.push({ atS: start / 8000, offset: best.offset, correlation: Math.round(best.correlation * 1000) / 1000 });
  }
  return found;
}

describeIf('a mid-call codec change with baresip 1.0.0', () => {
  let baresip: Baresip | undefined;
  let endpoint: Endpoint | undefined;
  let capture: Capture | undefined;
  let dir = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sep-codec-change-'));
  });

  afterEach(async () => {
    await capture?.dispose();
    await endpoint?.stop();
    await baresip?.stop();
    capture = undefined;
    endpoint = undefined;
    baresip = undefined;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('call.changeCodec(\'G722\') that baresip answers with PCMU: rejected, the call goes on over PCMU unbroken', async () => {
    const theirs = speechLikeSignal({ sampleRate: 8000, seconds: 12, seed: 31 });
    const file = join(dir, 'speech.wav');
    await writeWav(file, { sampleRate: 8000, channels: 1, samples: theirs });
    const devices = new VirtualAudioProvider({ defaults: false });
    devices.addInput({ name: 'Headset Microphone', id: 'mic' }, { kind: 'tone', frequencies: [400] });
    devices.addOutput({ name: 'Headset Earphone', id: 'speaker' }, { record: true });
    endpoint = new Endpoint({
      config: standaloneConfig('1001', testPorts(7), testPorts(50), { 'policy.endpoint.rtp_port_binding': '1', 'policy.session.auto_answer': '1', 'policy.session.answer_sdp_priority': 'local', 'codecs.enabled.audio': 'pcmu,g722,telephone-event' }),
      devices,
    });
    await endpoint.start();
    baresip = await Baresip.start({ user: 'bob', codecs: ['G722', 'PCMU'], sourceFile: file, sourceRate: 8000, sourceChannels: 1 });
    const calls: Call[] = [];
    endpoint.on('incomingCall', (call) => calls.push(call));
    const stalls = watchStalls();
    await baresip.dial(`sip:1001@127.0.0.1:${endpoint.lines[0]!.port}`);
    await waitFor(() => calls[0]?.state === 'CONNECTED', 10_000, 'the call connected');
    const call = calls[0]!;
    expect(call.media.codec).toBe('PCMU/8000');
    const ourPort = (call.media.stream as unknown as { localPort: number }).localPort;
    const recorded = (): number => devices.recording('speaker').samples.length / devices.recording('speaker').sampleRate;
    capture = await Capture.start(`udp port ${ourPort}`);
    const capturedAtS = recorded();
    await waitFor(() => recorded() >= capturedAtS + 1.5, 10_000, '1.5 s recorded since the capture began');

    await expect(call.changeCodec('G722')).rejects.toMatchObject({ code: 'ERR_SIP_REQUEST_FAILED' });
    // Our offer named G.722 first; baresip's answer kept PCMU.
    const reinvite = baresip.sipTrace().filter((message) => !message.sent && message.method === 'INVITE' && message.startLine.startsWith('INVITE')).at(-1);
    expect(reinvite?.body).toMatch(/m=audio \d+ RTP\/AVP 9 0 101/);
    const switchedAtS = recorded();
    expect(call.media.codec).toBe('PCMU/8000');
    await waitFor(() => recorded() >= switchedAtS + 2, 10_000, '2 s recorded after the switch');
    await expect(call.changeCodec('opus')).rejects.toMatchObject({ code: 'ERR_SIP_INVALID_ARGUMENT' });
    await call.hangup();
    const stalled = stalls.stop();
    await capture.stop();

    // The wire: each direction's payload types (telephone-events aside): PCMU only.
    const rows = capture.fields('rtp', ['udp.srcport', 'rtp.p_type'], [`udp.port==${ourPort},rtp`]);
    const sequence = (fromUs: boolean): string => [...new Set(rows.filter(([src]) => (Number(src) === ourPort) === fromUs).map(([, pt]) => pt).filter((pt) => pt !== '101'))].join(',');
    expect({ ours: sequence(true), baresip: sequence(false) }).toEqual({ ours: '0', baresip: '0' });

    // Our speaker against what baresip put on the wire (its PCMU payloads, decoded by ffmpeg, not
    // by us), from 0.2 s after the capture began to the end, across the refused change: each
    // quarter second of it is found in the wire audio (normalised correlation). Our side of a
    // refused change is judged here: the stream kept decoding and playing what came. A quarter
    // second in which the jitter buffer dropped a frame to bring its delay down (baresip's packets
    // come unevenly; measured while starting the capture stalled our event loop, since fixed: one in
    // two quarters, the delay going from about 0.18 s to 0.08 s over 2.5 s) is aligned at one
    // offset before the drop and another after it: where the drop falls decides how much of it
    // one offset explains (0.575 to 0.8 measured, when mid-block), so such a block must correlate
    // above 0.45 (half of it at least); a block with no drop in it, above 0.9. One of silence or of
    // noise would do neither.
    const speaker = devices.recording('speaker');
    expect(speaker.sampleRate).toBe(8000);
    const fromS = capturedAtS + 0.2;
    const ours = speaker.samples.subarray(Math.floor(fromS * 8000));
    const wire = wireSpeech(capture, ourPort);
    const blocks = blockAlignment(ours, wire, 2000);
    console.log(`our speaker against baresip's wire audio, per 0.25 s: ${JSON.stringify({ switchedAtS, fromS, blocks })}`);
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    // A drop falls in a block whose offset is not that of a neighbour (which side it is found at
    // depends on where in it the drop fell; such a block's best offset may even lie between the
    // two, 5216 between 4960 and 5120 measured).
    // The first and last blocks have a neighbour on one side only: a drop in them may not show.
    const moved = blocks.map((block, i) => i === 0 || i === blocks.length - 1 || block.offset !== blocks[i - 1]!.offset || block.offset !== blocks[i + 1]!.offset);
    const judged = blocks.map((block, i) => ({ atS: block.atS, correlation: block.correlation, moved: moved[i], ok: block.correlation > (moved[i] ? 0.45 : 0.9) }));
    expect(judged.filter((block) => !block.ok)).toEqual([]);
    expect(blocks.filter((block) => block.correlation > 0.98).length).toBeGreaterThanOrEqual(blocks.length / 3);

    // And as a listener hears it: our recording against baresip's WAV, frame by frame
    // (compareSpeech), from the call's start across the refused change. Measured, three runs: 193
    // to 198 frames, no defect, 37 dB. Allowed: four defects (a frame the jitter buffer drops to
    // bring its delay down leaves a splice) and one per stall of our event loop, and 20 dB.
    const heard = compareSpeech(theirs, 8000, speaker.samples, 8000, { minFrameSnrDb: 15 });
    const context = `heard by us (event-loop stalls of ${stalled.map((ms) => `${ms} ms`).join(', ') || 'none'}): ${JSON.stringify({ ...heard, frameSnrDb: heard.frameSnrDb.map(Math.round) })}`;
    const listened = { frames: heard.frames > 100, defects: heard.defects <= 4 + stalled.length, snr: segmentalSnrOutsideDefects(heard, stalled.length) > 20 };
    console.log(`our speaker against baresip's WAV: ${heard.frames} frames, ${heard.defects} defects, ${heard.segmentalSnrDb.toFixed(1)} dB (stalls: ${stalled.join(', ') || 'none'})`);
    expect({ context, ...listened }).toEqual({ context, frames: true, defects: true, snr: true });
  }, 60_000);
});
