import { SipEndpointError } from '@sip-endpoint/config';
import { CodecClosedError, OPUS, type Codec } from '@sip-endpoint/media';
import { compareSpeech, speechLikeSignal } from '@sip-endpoint/media/testing';

const RATE = 48000;
const FRAME = 960; // 20 ms at 48 kHz
/** Marks the samples a decoder must leave untouched. */
const UNTOUCHED_SAMPLE = 12345;

// Made once, outside the tests' time: one second of speech at 48 kHz.
const speech = speechLikeSignal({ sampleRate: RATE, seconds: 1 });

/** The 20 ms frame of `speech` with the most energy (a voiced one). */
function loudestFrame(): Int16Array {
  let best = 0;
  let bestEnergy = -1;
  for (let start = 0; start + FRAME <= speech.length; start += FRAME) {
    let energy = 0;
    for (let n = start; n < start + FRAME; n++) energy += speech[n]! ** 2;
    if (energy > bestEnergy) {
      bestEnergy = energy;
      best = start;
    }
  }
  return speech.subarray(best, best + FRAME);
}

/** One frame encoded by a new encoder. */
function encodeOne(frame: Int16Array): Uint8Array {
  const encoder = OPUS.createEncoder();
  const payload = new Uint8Array(OPUS.maxPayloadBytes(FRAME));
  const length = encoder.encode(frame, payload);
  encoder.close();
  return payload.subarray(0, length);
}

/** An encoder or a decoder, with one call of it. */
const halves: { part: 'encoder' | 'decoder'; open: () => { use: () => number; close: () => void } }[] = [
  {
    part: 'encoder',
    open: () => {
      const encoder = OPUS.createEncoder();
      return { use: () => encoder.encode(loudestFrame(), new Uint8Array(OPUS.maxPayloadBytes(FRAME))), close: () => encoder.close() };
    },
  },
  {
    part: 'decoder',
    open: () => {
      const decoder = OPUS.createDecoder();
      const payload = encodeOne(loudestFrame());
      return { use: () => decoder.decode(payload, new Int16Array(FRAME)), close: () => decoder.close() };
    },
  },
];

describe('OPUS', () => {
  it('describes opus as SDP and RTP know it (RFC 7587: opus/48000/2, mono through stereo=0)', () => {
    expect(OPUS).toMatchObject<Partial<Codec>>({
      name: 'opus/48000/2',
      encoding: 'opus',
      clockRate: 48000,
      channels: 2,
      sampleRate: 48000,
      staticPayloadType: undefined,
      fmtp: 'minptime=10;useinbandfec=1;stereo=0;sprop-stereo=0',
      impairment: { ie: 0, bpl: 25.1 },
    });
    expect(OPUS.maxPayloadBytes(FRAME)).toBe(1275);
  });

  it('carries speech through an encoder and a decoder, 20 ms frame by frame', () => {
    const encoder = OPUS.createEncoder();
    const decoder = OPUS.createDecoder();
    const payload = new Uint8Array(OPUS.maxPayloadBytes(FRAME));
    const decoded = new Int16Array(speech.length);
    for (let start = 0; start < speech.length; start += FRAME) {
      const length = encoder.encode(speech.subarray(start, start + FRAME), payload);
      // 32 kbit/s is 80 octets a frame on average; a pause takes a few.
      expect(length).toBeGreaterThan(0);
      expect(length).toBeLessThanOrEqual(200);
      expect(decoder.decode(payload.subarray(0, length), decoded.subarray(start, start + FRAME))).toBe(FRAME);
    }
    encoder.close();
    decoder.close();
    const result = compareSpeech(speech, RATE, decoded, RATE, { maxDelayMs: 100 });
    expect(result).toMatchObject({ badFrames: 0, defects: 0, clicks: 0, noisyFrames: 0, inverted: false });
    expect(result.frames).toBeGreaterThan(20);
    expect(result.segmentalSnrDb).toBeGreaterThan(10);
    expect(Math.abs(result.gainDb)).toBeLessThan(1);
    // libopus's look-ahead: 6.5 ms.
    expect(result.delayMs).toBeGreaterThan(5);
    expect(result.delayMs).toBeLessThan(8);
  }, 10_000);

  it('decodes a frame into a larger output without writing past it, and into a smaller one as many samples as it holds', () => {
    const payload = encodeOne(loudestFrame());

    const whole = new Int16Array(FRAME + 500).fill(UNTOUCHED_SAMPLE);
    const decoder = OPUS.createDecoder();
    expect(decoder.decode(payload, whole)).toBe(FRAME);
    expect(whole.subarray(FRAME).every((sample) => sample === UNTOUCHED_SAMPLE)).toBe(true);
    // Not silence: the frame is voiced.
    expect(Math.max(...whole.subarray(0, FRAME).map(Math.abs))).toBeGreaterThan(1000);

    // A new decoder (the same state) into half the room: the first half of the same samples.
    const half = new Int16Array(FRAME / 2);
    expect(OPUS.createDecoder().decode(payload, half)).toBe(FRAME / 2);
    expect(Array.from(half)).toEqual(Array.from(whole.subarray(0, FRAME / 2)));
  }, 10_000);

  it.each(halves)('$part: used after close() throws CodecClosedError (ERR_MEDIA_CODEC_CLOSED); close() twice is harmless', ({ part, open }) => {
    const half = open();
    expect(half.use()).toBeGreaterThan(0);
    half.close();
    expect(() => half.close()).not.toThrow();
    let error: unknown;
    try {
      half.use();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CodecClosedError);
    expect(error).toBeInstanceOf(SipEndpointError);
    expect(error).toMatchObject({ name: 'CodecClosedError', code: 'ERR_MEDIA_CODEC_CLOSED', codec: 'opus', part, message: `the opus ${part} is closed` });
  });
});
