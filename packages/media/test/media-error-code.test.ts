import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SipEndpointError } from '@sip-endpoint/config';
import * as media from '@sip-endpoint/media';
import {
  AudioStream,
  CodecClosedError,
  dtmfFrequencies,
  InvalidDtmfDigitError,
  InvalidPortRangeError,
  InvalidSampleRateError,
  normalizeDigits,
  OPUS,
  PCMU,
  PortAllocator,
  Resampler,
  RtpSession,
  SrtpContext,
  SrtpError,
  type DtmfDigit,
  type MediaErrorCode,
} from '@sip-endpoint/media';
import { workerPorts } from './support/ports';

/** The class of each code. A Record, so that the compiler holds it to MediaErrorCode exactly. */
const CLASS_OF: Record<MediaErrorCode, string> = {
  ERR_MEDIA_SOCKET: 'RtpSocketError',
  ERR_MEDIA_PORTS_EXHAUSTED: 'PortRangeExhaustedError',
  ERR_MEDIA_PORT_RANGE_INVALID: 'InvalidPortRangeError',
  ERR_MEDIA_SDP_INVALID: 'SdpError',
  ERR_MEDIA_STREAM_CLOSED: 'StreamClosedError',
  ERR_MEDIA_CODEC_CLOSED: 'CodecClosedError',
  ERR_MEDIA_DTMF_DIGIT_INVALID: 'InvalidDtmfDigitError',
  ERR_MEDIA_DTMF_NOT_SENT: 'DtmfNotSentError',
  ERR_MEDIA_SAMPLE_RATE_INVALID: 'InvalidSampleRateError',
  ERR_MEDIA_WAV_UNSUPPORTED: 'WavError',
  ERR_MEDIA_WAV_MALFORMED: 'WavError',
  ERR_MEDIA_DEVICE_NOT_FOUND: 'AudioDeviceError',
  ERR_MEDIA_INVALID_ARGUMENT: 'AudioDeviceError',
  ERR_MEDIA_SOUND_SERVER: 'SoundServerError',
  ERR_MEDIA_SRTP_INVALID: 'SrtpError',
  ERR_MEDIA_AUDIO_PROCESSING: 'AudioProcessingError',
  ERR_MEDIA_DTLS_FAILED: 'DtlsError',
  ERR_MEDIA_ICE_FAILED: 'IceError',
  ERR_MEDIA_WEBRTC_UNAVAILABLE: 'WebRtcUnavailableError',
  ERR_MEDIA_WORKER: 'MediaWorkerError',
};

const packageDir = join(__dirname, '..');
const ports = workerPorts(10);

function sources(dir = join(packageDir, 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []));
}

/** What `run` threw. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

describe('the error codes of @sip-endpoint/media', () => {
  it('MediaErrorCode lists every code the sources use, and no other', () => {
    const used = new Set(sources().flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/'(ERR_MEDIA_[A-Z_]+)'/g)].map((match) => match[1]!)));
    expect([...used].sort()).toEqual(Object.keys(CLASS_OF).sort());
  });

  it('the README\'s table names each code with its class, and each class is an exported SipEndpointError', () => {
    const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `(ERR_[A-Z_]+)` \| `(\w+)` \| [^|]+\|$/gm)].map((match) => [match[1]!, match[2]!] as const);
    expect(Object.fromEntries(rows)).toEqual(CLASS_OF);
    expect(rows).toHaveLength(Object.keys(CLASS_OF).length);
    for (const name of new Set(Object.values(CLASS_OF))) {
      const exported = (media as Record<string, unknown>)[name];
      expect(typeof exported).toBe('function');
      expect((exported as { prototype: unknown }).prototype).toBeInstanceOf(SipEndpointError);
    }
  });

  it('no source throws a plain Error, RangeError or TypeError', () => {
    const plain = sources().filter((file) => /throw new (Error|RangeError|TypeError)\(/.test(readFileSync(file, 'utf8')));
    expect(plain).toEqual([]);
  });
});

describe('the typed errors', () => {

  it.each([
    ['min above max', 5000, 4000],
    ['port 0', 0, 100],
    ['above 65535', 60000, 70000],
    ['not whole', 4000.5, 5000],
  ])('new PortAllocator() throws InvalidPortRangeError for %s', (_name, min, max) => {
    const error = thrown(() => new PortAllocator(min, max));
    expect(error).toBeInstanceOf(InvalidPortRangeError);
    expect(error).toBeInstanceOf(SipEndpointError);
    expect(error).toMatchObject({ code: 'ERR_MEDIA_PORT_RANGE_INVALID', name: 'InvalidPortRangeError', min, max });
  });

  it.each([
    [0, 8000],
    [8000, -16000],
    [44.1, 48000],
    [Number.NaN, 8000],
  ])('new Resampler(%p, %p) throws InvalidSampleRateError', (inputRate, outputRate) => {
    const error = thrown(() => new Resampler(inputRate, outputRate));
    expect(error).toBeInstanceOf(InvalidSampleRateError);
    expect(error).toBeInstanceOf(SipEndpointError);
    expect(error).toMatchObject({ code: 'ERR_MEDIA_SAMPLE_RATE_INVALID', name: 'InvalidSampleRateError', inputRate, outputRate });
  });

  it('new SrtpContext() with a key of the wrong size throws SrtpError naming the suite and the sizes', () => {
    const error = thrown(() => new SrtpContext({ suite: 'AES_256_CM_HMAC_SHA1_80', masterKey: new Uint8Array(16), masterSalt: new Uint8Array(14) }));
    expect(error).toBeInstanceOf(SrtpError);
    expect(error).toBeInstanceOf(SipEndpointError);
    expect(error).toMatchObject({ code: 'ERR_MEDIA_SRTP_INVALID', name: 'SrtpError', message: 'AES_256_CM_HMAC_SHA1_80 takes a 32-byte master key, not 16' });
  });

  it('normalizeDigits() and dtmfFrequencies() throw InvalidDtmfDigitError naming the character', () => {
    for (const [run, value] of [
      [() => normalizeDigits('12x3'), 'x'],
      [() => normalizeDigits('#E'), 'E'],
      [() => dtmfFrequencies('X' as DtmfDigit), 'X'],
    ] as const) {
      const error = thrown(run);
      expect(error).toBeInstanceOf(InvalidDtmfDigitError);
      expect(error).toBeInstanceOf(SipEndpointError);
      expect(error).toMatchObject({ code: 'ERR_MEDIA_DTMF_DIGIT_INVALID', name: 'InvalidDtmfDigitError', value });
      expect((error as Error).message).toContain(`"${value}" is not a DTMF digit`);
    }
  });

  it('AudioStream.sendDtmf() throws InvalidDtmfDigitError for a character that is not a digit', async () => {
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const stream = new AudioStream({ session, codec: PCMU, payloadType: 0, remote: { address: '127.0.0.1', rtpPort: 9 } });
    try {
      const error = thrown(() => stream.sendDtmf('12?'));
      expect(error).toBeInstanceOf(InvalidDtmfDigitError);
      expect(error).toMatchObject({ code: 'ERR_MEDIA_DTMF_DIGIT_INVALID', value: '?' });
    } finally {
      stream.close();
    }
  });

  it('an opus encoder or decoder used after close() throws CodecClosedError', () => {
    const encoder = OPUS.createEncoder();
    const decoder = OPUS.createDecoder();
    encoder.close();
    decoder.close();
    const encoding = thrown(() => encoder.encode(new Int16Array(960), new Uint8Array(1275)));
    const decoding = thrown(() => decoder.decode(new Uint8Array(10), new Int16Array(960)));
    expect(encoding).toBeInstanceOf(CodecClosedError);
    expect(encoding).toBeInstanceOf(SipEndpointError);
    expect(encoding).toMatchObject({ code: 'ERR_MEDIA_CODEC_CLOSED', name: 'CodecClosedError', codec: 'opus', part: 'encoder', message: 'the opus encoder is closed' });
    expect(decoding).toBeInstanceOf(CodecClosedError);
    expect(decoding).toMatchObject({ code: 'ERR_MEDIA_CODEC_CLOSED', codec: 'opus', part: 'decoder', message: 'the opus decoder is closed' });
  });
});
