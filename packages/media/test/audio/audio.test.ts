import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aLawDecode, aLawEncode, encodeWav, muLawDecode, muLawEncode, parseWav, Resampler, ToneGenerator, VirtualAudioProvider, WavError } from '@sip-endpoint/media';
import { ListenerError, type AudioDevice } from '@sip-endpoint/policy';
import { peerAvailable } from '../support/peers';
import { dominantFrequency, rms, sineSnrDb } from '../support/signal';

const tone = (rate: number, f: number, seconds: number, db = -6): Int16Array => {
  const out = new Int16Array(Math.round(rate * seconds));
  new ToneGenerator(rate, [f], db).fill(out);
  return out;
};

describe('G.711', () => {
  it.each([
    ['mu-law', muLawEncode, muLawDecode],
    ['A-law', aLawEncode, aLawDecode],
  ] as const)('%s keeps a -6 dBFS tone above 33 dB SNR', (_name, encode, decode) => {
    const input = tone(8000, 1000, 0.5);
    const bytes = new Uint8Array(input.length);
    encode(input, bytes);
    const output = new Int16Array(input.length);
    decode(bytes, output);
    expect(sineSnrDb(output, 8000, 1000)).toBeGreaterThan(33);
  });

  const describeSox = peerAvailable('sox') ? describe : describe.skip;
  describeSox('against sox', () => {
    it.each([
      ['u-law', muLawEncode, muLawDecode],
      ['a-law', aLawEncode, aLawDecode],
    ] as const)('%s bytes match what sox writes but for rounding at level boundaries, and decode to the same samples', (encoding, encode, decode) => {
      const dir = mkdtempSync(join(tmpdir(), 'sep-g711-'));
      const input = tone(8000, 700, 0.25, -3);
      writeFileSync(join(dir, 'in.raw'), Buffer.from(input.buffer));
      const run = (args: string[]) => {
        const result = spawnSync('sox', args);
        if (result.status !== 0) throw new Error(`sox failed: ${result.stderr.toString()}`);
      };
      // -D: no dither, or sox would move samples at random before encoding.
      run(['-D', '-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', join(dir, 'in.raw'), '-t', 'raw', '-e', encoding, '-b', '8', join(dir, 'sox.g711')]);
      const soxBytes = new Uint8Array(readFileSync(join(dir, 'sox.g711')));
      const ours = new Uint8Array(input.length);
      encode(input, ours);
      // sox rounds to the nearest level, the ITU-T reference (and we) truncate: where the two
      // differ, the levels chosen are neighbours.
      const level = (code: number): number => {
        const out = new Int16Array(1);
        decode(Uint8Array.of(code), out);
        return out[0]!;
      };
      let different = 0;
      for (let i = 0; i < ours.length; i++) {
        if (ours[i] === soxBytes[i]) continue;
        different++;
        const a = level(ours[i]!);
        const b = level(soxBytes[i]!);
        expect(Math.abs(a - b)).toBeLessThanOrEqual(Math.max(16, Math.abs(a) * 0.07));
      }
      expect(different).toBeLessThanOrEqual(input.length * 0.05);
      run(['-D', '-t', 'raw', '-r', '8000', '-e', encoding, '-b', '8', '-c', '1', join(dir, 'sox.g711'), '-t', 'raw', '-e', 'signed', '-b', '16', join(dir, 'sox.raw')]);
      const soxDecoded = new Int16Array(new Uint8Array(readFileSync(join(dir, 'sox.raw'))).buffer);
      const ourDecoded = new Int16Array(soxBytes.length);
      decode(soxBytes, ourDecoded);
      expect(Array.from(ourDecoded)).toEqual(Array.from(soxDecoded));
    });
  });
});

describe('WAV', () => {
  it.each(['pcm16', 'alaw', 'mulaw'] as const)('writes and reads %s', (format) => {
    const samples = tone(16000, 500, 0.1);
    const wav = parseWav(encodeWav({ sampleRate: 16000, channels: 1, samples }, format));
    expect(wav).toMatchObject({ sampleRate: 16000, channels: 1, format });
    expect(wav.samples.length).toBe(samples.length);
    if (format === 'pcm16') expect(wav.samples).toEqual(samples);
    else expect(sineSnrDb(wav.samples, 16000, 500)).toBeGreaterThan(30);
  });

  it('reads stereo', () => {
    const stereo = new Int16Array([1, 2, 3, 4]);
    expect(parseWav(encodeWav({ sampleRate: 8000, channels: 2, samples: stereo })).channels).toBe(2);
  });

  const header = (format: number, channels: number, rate: number, bits: number): Uint8Array => {
    const bytes = encodeWav({ sampleRate: 8000, channels: 1, samples: new Int16Array(4) });
    const view = new DataView(bytes.buffer);
    view.setUint16(20, format, true);
    view.setUint16(22, channels, true);
    view.setUint32(24, rate, true);
    view.setUint16(34, bits, true);
    return bytes;
  };

  it.each([
    ['an MP3 in a WAV', header(0x55, 1, 8000, 0), 'ERR_MEDIA_WAV_UNSUPPORTED', 'format code 85'],
    ['24-bit PCM', header(1, 1, 8000, 24), 'ERR_MEDIA_WAV_UNSUPPORTED', '24-bit'],
    ['44.1 kHz', header(1, 1, 44100, 16), 'ERR_MEDIA_WAV_UNSUPPORTED', '44100'],
    ['six channels', header(1, 6, 8000, 16), 'ERR_MEDIA_WAV_UNSUPPORTED', '6 channels'],
    ['a text file', new TextEncoder().encode('hello, not a wav'), 'ERR_MEDIA_WAV_MALFORMED', 'RIFF'],
  ])('refuses %s with a clear error', (_name, bytes, code, message) => {
    let caught: unknown;
    try {
      parseWav(bytes);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WavError);
    expect(caught).toMatchObject({ code });
    expect((caught as Error).message).toContain(message);
  });
});

describe('Resampler', () => {
  it.each([
    [8000, 16000],
    [16000, 8000],
    [8000, 48000],
    [48000, 16000],
    [44100, 48000],
  ])('converts %i Hz to %i Hz keeping a 600 Hz tone clean', (from, to) => {
    const resampler = new Resampler(from, to);
    const frame = Math.round(from * 0.02);
    const input = tone(from, 600, 1);
    const chunks: number[] = [];
    const out = new Int16Array(resampler.outputLength(frame) + 8);
    for (let i = 0; i + frame <= input.length; i += frame) {
      const written = resampler.process(input.subarray(i, i + frame), frame, out);
      chunks.push(...out.subarray(0, written));
    }
    const output = Int16Array.from(chunks);
    expect(Math.abs(output.length - (input.length * to) / from)).toBeLessThanOrEqual(2);
    const steady = output.subarray(Math.round(to * 0.1));
    expect(dominantFrequency(steady, to)).toBe(600);
    expect(sineSnrDb(steady, to, 600)).toBeGreaterThan(40);
  });

  it.each([
    [16000, 8000],
    [8000, 16000],
    [8000, 44100],
    [48000, 16000],
  ])('%i Hz to %i Hz: silence after silence skips the filter, and frame by frame equals one block sample for sample', (from, to) => {
    // Silence, a burst of tone shorter than the filter's memory, silence, tone, silence: frames
    // of silence are written without the filter once its memory is silent too; the result must be
    // what the filter gives for the whole signal in one call (where no frame is all silence).
    // Frames of an odd length, so that a frame's last output falls between input samples.
    const frame = Math.round(from * 0.02) + 3;
    const burst = tone(from, 600, 0.05);
    const input = new Int16Array(frame * 20);
    // Seven samples of sound ending a frame: the next frame is silent, the filter's memory is not.
    input.set(burst.subarray(0, 7), frame * 4 - 7);
    input.set(burst, frame * 9);
    const whole = new Resampler(from, to);
    const expected = new Int16Array(whole.outputLength(input.length) + 8);
    const expectedLength = whole.process(input, input.length, expected);
    const framed = new Resampler(from, to);
    const out = new Int16Array(framed.outputLength(frame) + 8);
    const chunks: number[] = [];
    for (let i = 0; i < input.length; i += frame) {
      const written = framed.process(input.subarray(i, i + frame), frame, out);
      chunks.push(...out.subarray(0, written));
    }
    expect(chunks).toHaveLength(expectedLength);
    expect(Int16Array.from(chunks)).toEqual(expected.subarray(0, expectedLength));
    // The tone came through (not all zeros), and the end is silence again.
    expect(chunks.some((sample) => sample !== 0)).toBe(true);
    expect(chunks.slice(-Math.round(to * 0.02)).every((sample) => sample === 0)).toBe(true);
  });
});

describe('VirtualAudioProvider', () => {
  it('starts with a default microphone and speaker, and emits devicesChanged on plug and unplug', () => {
    const provider = new VirtualAudioProvider();
    expect(provider.list().map((d) => d.name)).toEqual(['Default Microphone', 'Default Speaker']);
    const seen: AudioDevice[][] = [];
    provider.on('devicesChanged', (list) => seen.push(list));
    const headset = provider.addInput({ name: 'Jabra EVOLVE 20', headset: true });
    provider.remove(headset.id);
    expect(seen.map((list) => list.length)).toEqual([3, 2]);
  });

  it('plays a WAV source (resampled to the rate asked) and records an output', () => {
    const provider = new VirtualAudioProvider({ defaults: false });
    const wav = parseWav(encodeWav({ sampleRate: 8000, channels: 1, samples: tone(8000, 400, 0.5) }));
    const mic = provider.addInput({ name: 'file' }, { kind: 'wav', audio: wav });
    const speaker = provider.addOutput({ name: 'recorder' }, { record: true });
    const input = provider.openInput(mic.id, 16000);
    const output = provider.openOutput(speaker.id, 16000);
    const frame = new Int16Array(320);
    for (let i = 0; i < 30; i++) {
      input.read(frame, 320);
      output.write(frame, 320);
    }
    const recording = provider.recording(speaker.id);
    expect(recording.sampleRate).toBe(16000);
    expect(recording.samples.length).toBe(9600);
    expect(dominantFrequency(recording.samples.subarray(0, 7000), 16000)).toBe(400);
    expect(rms(recording.samples.subarray(8200))).toBe(0); // past the end of the file: silence
  });

  it('mixes streams open on one recording speaker at their own pace, resampling those at another rate', () => {
    const provider = new VirtualAudioProvider({ defaults: false });
    const speaker = provider.addOutput({ name: 'recorder' }, { record: true });
    const call = provider.openOutput(speaker.id, 16000);
    const callFrame = new Int16Array(320);
    const beepFrame = new Int16Array(160);
    const callTone = new ToneGenerator(16000, [600], -12);
    const beepTone = new ToneGenerator(8000, [950], -12);
    for (let i = 0; i < 25; i++) {
      callTone.fill(callFrame);
      call.write(callFrame, 320);
    }
    // A call-waiting beep at 8 kHz joins for 0.5 s: it is mixed in, not appended.
    const beep = provider.openOutput(speaker.id, 8000);
    for (let i = 0; i < 25; i++) {
      callTone.fill(callFrame);
      call.write(callFrame, 320);
      beepTone.fill(beepFrame);
      beep.write(beepFrame, 160);
    }
    const { sampleRate, samples } = provider.recording(speaker.id);
    expect(sampleRate).toBe(16000);
    expect(Math.abs(samples.length - 16000)).toBeLessThanOrEqual(40); // one second, not 1.5
    const second = samples.subarray(9000, 15000);
    expect(sineSnrDb(second, 16000, 600)).toBeLessThan(3); // the beep is there too
    expect(Math.abs(dominantFrequency(samples.subarray(0, 7000), 16000) - 600)).toBeLessThanOrEqual(3);
    provider.clearRecording(speaker.id);
    callTone.fill(callFrame);
    call.write(callFrame, 320);
    expect(provider.recording(speaker.id).samples.length).toBe(320);
  });

  it('mutes and scales by volume, and an unplugged device goes silent', () => {
    const provider = new VirtualAudioProvider({ defaults: false });
    const mic = provider.addInput({ name: 'tone' }, { kind: 'tone', frequencies: [1000], levelDbfs: -6 });
    const input = provider.openInput(mic.id, 8000);
    const frame = new Int16Array(160);
    input.read(frame, 160);
    const full = rms(frame);
    provider.setVolume(mic.id, 50);
    input.read(frame, 160);
    expect(Math.abs(rms(frame) - full / 4)).toBeLessThan(full * 0.02);
    provider.setMuted(mic.id, true);
    input.read(frame, 160);
    expect(rms(frame)).toBe(0);
    provider.setMuted(mic.id, false);
    provider.remove(mic.id);
    input.read(frame, 160);
    expect(rms(frame)).toBe(0);
    expect(() => provider.openInput(mic.id, 8000)).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_DEVICE_NOT_FOUND' }));
    expect(() => provider.setVolume('x', 10)).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_DEVICE_NOT_FOUND' }));
  });
});

describe('VirtualAudioProvider listener errors', () => {
  it('reports a throwing devicesChanged listener as listenerError on the provider, and the other listeners still run', () => {
    const provider = new VirtualAudioProvider({ defaults: false });
    const errors: ListenerError[] = [];
    const seen: number[] = [];
    provider.on('listenerError', (error) => errors.push(error));
    provider.on('devicesChanged', () => {
      throw new Error('a broken listener');
    });
    provider.on('devicesChanged', (list) => seen.push(list.length));
    expect(() => provider.addInput({ name: 'Headset Microphone' })).not.toThrow();
    provider.addOutput({ name: 'Headset Earphone' });
    expect(seen).toEqual([1, 2]);
    expect(provider.list()).toHaveLength(2);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBeInstanceOf(ListenerError);
    expect(errors[0]).toMatchObject({ code: 'ERR_LISTENER_THREW', source: 'VirtualAudioProvider', event: 'devicesChanged' });
  });
});

describe('signal analysis', () => {
  it('finds the dominant frequency of a recording that starts with silence and a click', () => {
    const rate = 8000;
    const recording = new Int16Array(rate * 0.5);
    // 120 ms of silence with a click in it (what a jitter buffer's start or a stall leaves), then a tone.
    recording.fill(12000, 400, 404);
    recording.set(tone(rate, 600, 0.38, -12), rate * 0.12);
    expect(dominantFrequency(recording, rate)).toBe(600);
    expect(dominantFrequency(tone(rate, 1237, 0.3), rate)).toBe(1237);
    expect(Math.abs(dominantFrequency(tone(48000, 440, 0.03), 48000) - 440)).toBeLessThanOrEqual(5);
  });
});
