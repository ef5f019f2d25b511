import { readFile, writeFile } from 'node:fs/promises';
import { aLawDecode, aLawEncode, muLawDecode, muLawEncode } from '../codecs/g711';
import { SipEndpointError } from '@sip-endpoint/config';

/** Sample formats of WAV files this package reads and writes. @public */
export type WavFormat = 'pcm16' | 'alaw' | 'mulaw';

/** Sample rates accepted in WAV files. @public */
export const WAV_SAMPLE_RATES: readonly number[] = [8000, 16000, 32000, 48000];

/** Decoded WAV audio: 16-bit samples, interleaved when stereo. @public */
export interface WavAudio {
  sampleRate: number;
  channels: 1 | 2;
  /** The format the file stored. */
  format: WavFormat;
  samples: Int16Array;
}

/**
 * A WAV file that cannot be used: not RIFF/WAVE, an unsupported format, rate or channel count, or
 * truncated. Code `ERR_MEDIA_WAV_UNSUPPORTED` or `ERR_MEDIA_WAV_MALFORMED`.
 *
 * @public
 */
export class WavError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_WAV_UNSUPPORTED' | 'ERR_MEDIA_WAV_MALFORMED';

  constructor(code: 'ERR_MEDIA_WAV_UNSUPPORTED' | 'ERR_MEDIA_WAV_MALFORMED', message: string) {
    super(code, message);
  }
}

const FORMAT_CODES: Record<number, WavFormat> = { 1: 'pcm16', 6: 'alaw', 7: 'mulaw' };

/**
 * Reads a RIFF WAVE file held in memory: PCM 16-bit, A-law or mu-law (also in the
 * WAVE_FORMAT_EXTENSIBLE form), 8, 16, 32 or 48 kHz, mono or stereo.
 *
 * @throws {@link WavError} for anything else.
 * @public
 */
export function parseWav(data: Uint8Array): WavAudio {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const text = (offset: number): string => String.fromCharCode(data[offset] ?? 0, data[offset + 1] ?? 0, data[offset + 2] ?? 0, data[offset + 3] ?? 0);
  if (data.length < 12 || text(0) !== 'RIFF' || text(8) !== 'WAVE') throw new WavError('ERR_MEDIA_WAV_MALFORMED', 'not a RIFF WAVE file');
  let offset = 12;
  let format: { code: number; channels: number; sampleRate: number; bits: number } | undefined;
  while (offset + 8 <= data.length) {
    const id = text(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > data.length) throw new WavError('ERR_MEDIA_WAV_MALFORMED', 'the fmt chunk is truncated');
      let code = view.getUint16(body, true);
      if (code === 0xfffe && size >= 40) code = view.getUint16(body + 24, true); // extensible: sub-format GUID starts with the code
      format = { code, channels: view.getUint16(body + 2, true), sampleRate: view.getUint32(body + 4, true), bits: view.getUint16(body + 14, true) };
    } else if (id === 'data') {
      if (!format) throw new WavError('ERR_MEDIA_WAV_MALFORMED', 'the data chunk comes before the fmt chunk');
      const kind = FORMAT_CODES[format.code];
      if (kind === undefined) throw new WavError('ERR_MEDIA_WAV_UNSUPPORTED', `WAV format code ${format.code} is not supported (PCM 16-bit, A-law or mu-law only)`);
      if (kind === 'pcm16' && format.bits !== 16) throw new WavError('ERR_MEDIA_WAV_UNSUPPORTED', `PCM WAV must be 16-bit, not ${format.bits}-bit`);
      if (kind !== 'pcm16' && format.bits !== 8) throw new WavError('ERR_MEDIA_WAV_UNSUPPORTED', `${kind} WAV must be 8-bit, not ${format.bits}-bit`);
      if (format.channels !== 1 && format.channels !== 2) throw new WavError('ERR_MEDIA_WAV_UNSUPPORTED', `WAV must be mono or stereo, not ${format.channels} channels`);
      if (!WAV_SAMPLE_RATES.includes(format.sampleRate)) throw new WavError('ERR_MEDIA_WAV_UNSUPPORTED', `WAV sample rate ${format.sampleRate} Hz is not supported (8, 16, 32 or 48 kHz)`);
      const available = Math.min(size, data.length - body);
      let samples: Int16Array;
      if (kind === 'pcm16') {
        samples = new Int16Array(available >> 1);
        for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(body + i * 2, true);
      } else {
        samples = new Int16Array(available);
        (kind === 'alaw' ? aLawDecode : muLawDecode)(data.subarray(body, body + available), samples);
      }
      return { sampleRate: format.sampleRate, channels: format.channels as 1 | 2, format: kind, samples };
    }
    offset = body + size + (size & 1);
  }
  throw new WavError('ERR_MEDIA_WAV_MALFORMED', 'the WAV file has no data chunk');
}

/** Reads a WAV file from disk. @public */
export async function readWav(path: string): Promise<WavAudio> {
  return parseWav(await readFile(path));
}

/**
 * Writes audio as a RIFF WAVE file: PCM 16-bit by default, or A-law / mu-law.
 *
 * @public
 */
export function encodeWav(audio: { sampleRate: number; channels: 1 | 2; samples: Int16Array }, format: WavFormat = 'pcm16'): Uint8Array {
  const bytesPerSample = format === 'pcm16' ? 2 : 1;
  const dataBytes = audio.samples.length * bytesPerSample;
  const out = new Uint8Array(44 + dataBytes + (dataBytes & 1));
  const view = new DataView(out.buffer);
  const ascii = (offset: number, value: string): void => {
    for (let i = 0; i < 4; i++) out[offset + i] = value.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, out.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, format === 'pcm16' ? 1 : format === 'alaw' ? 6 : 7, true);
  view.setUint16(22, audio.channels, true);
  view.setUint32(24, audio.sampleRate, true);
  view.setUint32(28, audio.sampleRate * audio.channels * bytesPerSample, true);
  view.setUint16(32, audio.channels * bytesPerSample, true);
  view.setUint16(34, bytesPerSample * 8, true);
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  if (format === 'pcm16') {
    for (let i = 0; i < audio.samples.length; i++) view.setInt16(44 + i * 2, audio.samples[i]!, true);
  } else {
    (format === 'alaw' ? aLawEncode : muLawEncode)(audio.samples, out.subarray(44));
  }
  return out;
}

/** Writes a WAV file to disk. @public */
export async function writeWav(path: string, audio: { sampleRate: number; channels: 1 | 2; samples: Int16Array }, format: WavFormat = 'pcm16'): Promise<void> {
  await writeFile(path, encodeWav(audio, format));
}

/** Mono samples of WAV audio (stereo channels averaged). @public */
export function toMono(audio: WavAudio): Int16Array {
  if (audio.channels === 1) return audio.samples;
  const mono = new Int16Array(audio.samples.length >> 1);
  for (let i = 0; i < mono.length; i++) mono[i] = (audio.samples[2 * i]! + audio.samples[2 * i + 1]!) >> 1;
  return mono;
}
