import { aLawDecode, aLawEncode, muLawDecode, muLawEncode, PCMA, PCMU, type Codec } from '@sip-endpoint/media';
import { allocationsDuring } from '@sip-endpoint/test-support';

/** Marks the bytes an encoder must leave untouched. */
const UNTOUCHED_BYTE = 0x42;
/** Marks the samples a decoder must leave untouched (no G.711 level is 12345). */
const UNTOUCHED_SAMPLE = 12345;

// Each law through its functions and through its codec's encoder and decoder (as calls use it).
// Known codes (ITU-T G.711 tables): silence is 0xff in u-law and 0xd5 in A-law; the largest
// positive and negative samples are 0x80 / 0x00 (u-law) and 0xaa / 0x2a (A-law), which decode to
// +-32124 and +-32256.
interface Law {
  name: string;
  codec: Codec;
  encoding: string;
  payloadType: number;
  encode: typeof muLawEncode;
  decode: typeof muLawDecode;
  /** Samples, their codes and the levels those decode to. */
  codes: [sample: number, code: number, level: number][];
}

const laws: Law[] = [
  { name: 'u-law', codec: PCMU, encoding: 'PCMU', payloadType: 0, encode: muLawEncode, decode: muLawDecode, codes: [[0, 0xff, 0], [32767, 0x80, 32124], [-32768, 0x00, -32124], [1000, 0xce, 988], [-1000, 0x4e, -988]] },
  { name: 'A-law', codec: PCMA, encoding: 'PCMA', payloadType: 8, encode: aLawEncode, decode: aLawDecode, codes: [[0, 0xd5, 8], [32767, 0xaa, 32256], [-32768, 0x2a, -32256], [1000, 0xfa, 1008], [-1000, 0x7a, -1008]] },
];

/** The law's two ways of encoding: its function, and its codec's encoder. */
function encoders(law: Law): ((pcm: Int16Array, out: Uint8Array) => number)[] {
  const encoder = law.codec.createEncoder();
  return [law.encode, (pcm, out) => encoder.encode(pcm, out)];
}

/** The law's two ways of decoding: its function, and its codec's decoder. */
function decoders(law: Law): ((payload: Uint8Array, out: Int16Array) => number)[] {
  const decoder = law.codec.createDecoder();
  return [law.decode, (payload, out) => decoder.decode(payload, out)];
}

describe.each(laws)('G.711 $name', (law) => {
  it('describes the codec as SDP and RTP know it', () => {
    expect(law.codec).toMatchObject<Partial<Codec>>({
      name: `${law.encoding}/8000`,
      encoding: law.encoding,
      clockRate: 8000,
      channels: 1,
      sampleRate: 8000,
      staticPayloadType: law.payloadType,
      fmtp: '',
      impairment: { ie: 0, bpl: 25.1 },
    });
    expect(law.codec.maxPayloadBytes(160)).toBe(160);
  });

  it('encodes and decodes known samples to their known codes and levels', () => {
    const samples = Int16Array.from(law.codes, ([sample]) => sample);
    const codes = Uint8Array.from(law.codes, ([, code]) => code);
    const levels = law.codes.map(([, , level]) => level);
    for (const encode of encoders(law)) {
      const out = new Uint8Array(samples.length);
      expect(encode(samples, out)).toBe(samples.length);
      expect(Array.from(out)).toEqual(Array.from(codes));
    }
    for (const decode of decoders(law)) {
      const out = new Int16Array(codes.length);
      expect(decode(codes, out)).toBe(codes.length);
      expect(Array.from(out)).toEqual(levels);
    }
  });

  it('encodes one byte per sample and writes nothing past them in a larger buffer', () => {
    const samples = Int16Array.from({ length: 160 }, (_, n) => Math.round(8000 * Math.sin(n / 5)));
    for (const encode of encoders(law)) {
      const exact = new Uint8Array(160);
      encode(samples, exact);
      const out = new Uint8Array(200).fill(UNTOUCHED_BYTE);
      expect(encode(samples, out)).toBe(160);
      expect(Array.from(out.subarray(0, 160))).toEqual(Array.from(exact));
      expect(out.subarray(160).every((byte) => byte === UNTOUCHED_BYTE)).toBe(true);
    }
  });

  it('decodes one sample per byte, as many as both the payload and the output hold, and writes nothing past them', () => {
    const payload = Uint8Array.from({ length: 160 }, (_, i) => i);
    for (const decode of decoders(law)) {
      // A larger output: the payload's 160 samples, the rest untouched.
      const larger = new Int16Array(200).fill(UNTOUCHED_SAMPLE);
      expect(decode(payload, larger)).toBe(160);
      expect(larger.subarray(160).every((sample) => sample === UNTOUCHED_SAMPLE)).toBe(true);
      // A smaller output: as many samples as it holds.
      const smaller = new Int16Array(100);
      expect(decode(payload, smaller)).toBe(100);
      const whole = new Int16Array(160);
      decode(payload, whole);
      expect(Array.from(smaller)).toEqual(Array.from(whole.subarray(0, 100)));
    }
  });

  it('close() can be called twice', () => {
    const encoder = law.codec.createEncoder();
    const decoder = law.codec.createDecoder();
    expect(() => {
      encoder.close();
      encoder.close();
      decoder.close();
      decoder.close();
    }).not.toThrow();
  });

  it('encodes and decodes without allocating', async () => {
    const encoder = law.codec.createEncoder();
    const decoder = law.codec.createDecoder();
    const frame = Int16Array.from({ length: 160 }, (_, n) => Math.round(8000 * Math.sin(n / 5)));
    const payload = new Uint8Array(160);
    const decoded = new Int16Array(160);
    const call = (): number => encoder.encode(frame, payload) + decoder.decode(payload, decoded);
    for (let i = 0; i < 1000; i++) call();
    let total = 0;
    const allocations = await allocationsDuring(() => {
      for (let i = 0; i < 20_000; i++) total += call();
    });
    expect(total).toBe(20_000 * 320);
    expect(allocations.youngCollections).toBe(0);
    expect(allocations.youngBytes).toBeLessThan(40_000);
  }, 30_000);
});
