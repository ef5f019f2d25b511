import type { AudioDecoder, AudioEncoder, Codec } from './codec';

// G.711 companding (ITU-T G.711). Both laws are done by table: 64 KiB per law to encode (every
// 16-bit sample), 256 entries to decode, built once at load. Encoding and decoding then cost one
// lookup per sample and allocate nothing.

const MU_BIAS = 0x84;
const MU_CLIP = 32635;

function muLawEncodeSample(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  let magnitude = sample < 0 ? -sample : sample;
  if (magnitude > MU_CLIP) magnitude = MU_CLIP;
  magnitude += MU_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function muLawDecodeSample(code: number): number {
  const value = ~code & 0xff;
  const sign = value & 0x80;
  const exponent = (value >> 4) & 0x07;
  const mantissa = value & 0x0f;
  const magnitude = (((mantissa << 3) + MU_BIAS) << exponent) - MU_BIAS;
  return sign ? -magnitude : magnitude;
}

function aLawEncodeSample(sample: number): number {
  let sign: number;
  let magnitude: number;
  if (sample >= 0) {
    sign = 0x80;
    magnitude = sample >> 3;
  } else {
    sign = 0;
    magnitude = (-sample - 1) >> 3;
  }
  if (magnitude > 0xfff) magnitude = 0xfff;
  let code: number;
  if (magnitude < 32) {
    code = magnitude >> 1;
  } else {
    let exponent = 1;
    while (magnitude >= 64 << (exponent - 1) && exponent < 7) exponent++;
    code = (exponent << 4) | ((magnitude >> exponent) & 0x0f);
  }
  return (sign | code) ^ 0x55;
}

function aLawDecodeSample(code: number): number {
  const value = code ^ 0x55;
  const sign = value & 0x80;
  const exponent = (value >> 4) & 0x07;
  const mantissa = value & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  magnitude = Math.min(magnitude, 32767);
  return sign ? magnitude : -magnitude;
}

function buildTables(encodeSample: (sample: number) => number, decodeSample: (code: number) => number): { encode: Uint8Array; decode: Int16Array } {
  const encode = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) encode[i] = encodeSample(i < 32768 ? i : i - 65536);
  const decode = new Int16Array(256);
  for (let code = 0; code < 256; code++) decode[code] = decodeSample(code);
  return { encode, decode };
}

const MU_LAW = buildTables(muLawEncodeSample, muLawDecodeSample);
const A_LAW = buildTables(aLawEncodeSample, aLawDecodeSample);

/** Encodes 16-bit PCM to mu-law bytes; returns the count. @public */
export function muLawEncode(pcm: Int16Array, out: Uint8Array): number {
  const table = MU_LAW.encode;
  const n = pcm.length;
  for (let i = 0; i < n; i++) out[i] = table[pcm[i]! & 0xffff]!;
  return n;
}

/** Decodes mu-law bytes to 16-bit PCM; returns the count. @public */
export function muLawDecode(payload: Uint8Array, out: Int16Array): number {
  const table = MU_LAW.decode;
  const n = Math.min(payload.length, out.length);
  for (let i = 0; i < n; i++) out[i] = table[payload[i]!]!;
  return n;
}

/** Encodes 16-bit PCM to A-law bytes; returns the count. @public */
export function aLawEncode(pcm: Int16Array, out: Uint8Array): number {
  const table = A_LAW.encode;
  const n = pcm.length;
  for (let i = 0; i < n; i++) out[i] = table[pcm[i]! & 0xffff]!;
  return n;
}

/** Decodes A-law bytes to 16-bit PCM; returns the count. @public */
export function aLawDecode(payload: Uint8Array, out: Int16Array): number {
  const table = A_LAW.decode;
  const n = Math.min(payload.length, out.length);
  for (let i = 0; i < n; i++) out[i] = table[payload[i]!]!;
  return n;
}

function g711(name: string, encoding: string, staticPayloadType: number, encode: typeof muLawEncode, decode: typeof muLawDecode): Codec {
  const stateless = { close: () => undefined };
  const encoder: AudioEncoder = { encode, ...stateless };
  const decoder: AudioDecoder = { decode, ...stateless };
  return {
    name,
    encoding,
    clockRate: 8000,
    channels: 1,
    sampleRate: 8000,
    staticPayloadType,
    fmtp: '',
    maxPayloadBytes: (samples) => samples,
    // ITU-T G.113 Appendix I: G.711 Ie 0; Bpl 25.1 with packet loss concealment.
    impairment: { ie: 0, bpl: 25.1 },
    createEncoder: () => encoder,
    createDecoder: () => decoder,
  };
}

/** G.711 mu-law (PCMU/8000, payload type 0). @public */
export const PCMU: Codec = g711('PCMU/8000', 'PCMU', 0, muLawEncode, muLawDecode);
/** G.711 A-law (PCMA/8000, payload type 8). @public */
export const PCMA: Codec = g711('PCMA/8000', 'PCMA', 8, aLawEncode, aLawDecode);
