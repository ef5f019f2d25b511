import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMFORT_NOISE_ORDER, ComfortNoiseGenerator, comfortNoiseLevel, comfortNoiseRms, DtxController, VoiceActivityDetector, writeWav } from '@sip-endpoint/media';
import { speechLikeSignal } from '@sip-endpoint/media/testing';
import { allocationsDuring, peerAvailable } from '@sip-endpoint/test-support';
import { bandShape, mix, roomNoise, speechFrames, whiteNoise } from './signals';

describe('VoiceActivityDetector (WebRTC VAD)', () => {
  it('hears the prompt and not the room, at every vad_level', () => {
    const rate = 8000;
    const speech = speechLikeSignal({ sampleRate: rate, seconds: 6, levelDbfs: -20, seed: 2 });
    const input = mix(speech, roomNoise(speech.length, -55));
    const voiced = speechFrames(speech, 160);
    for (let mode = 0; mode <= 3; mode++) {
      const vad = new VoiceActivityDetector(rate, mode);
      let hit = 0;
      let speechCount = 0;
      let falseAlarm = 0;
      let noiseCount = 0;
      for (let n = 0; n < voiced.length; n++) {
        const result = vad.isSpeech(input.subarray(n * 160, (n + 1) * 160), 160);
        if (voiced[n]) {
          speechCount++;
          if (result) hit++;
        } else {
          noiseCount++;
          if (result) falseAlarm++;
        }
      }
      vad.close();
      console.log(`VAD mode ${mode}: ${((100 * hit) / speechCount).toFixed(0)} % of speech frames, ${((100 * falseAlarm) / noiseCount).toFixed(0)} % of noise frames`);
      expect(hit / speechCount).toBeGreaterThan(0.8);
    }
  });

  it('refuses a rate it does not run at', () => {
    expect(() => new VoiceActivityDetector(22050, 0)).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_AUDIO_PROCESSING' }));
  });
});

describe('comfort noise levels (RFC 3389 3.1)', () => {
  it('is -dBov of a full-scale square wave, 0 to 127', () => {
    expect(comfortNoiseLevel(32767)).toBe(0);
    expect(comfortNoiseLevel(32767 / 10)).toBe(20);
    expect(comfortNoiseLevel(0)).toBe(127);
    expect(comfortNoiseRms(40)).toBeCloseTo(327.67, 1);
  });

  it('plays white noise at the level asked, without a step at its start', () => {
    const cn = new ComfortNoiseGenerator(8000);
    cn.setLevel(50);
    const frame = new Int16Array(160);
    cn.generate(frame, 160, 3000);
    expect(Math.abs(frame[0]! - 3000)).toBeLessThan(1000);
    let sum = 0;
    for (let n = 0; n < 100; n++) {
      cn.generate(frame, 160);
      if (n >= 10) for (const v of frame) sum += v * v;
    }
    const db = 20 * Math.log10(Math.sqrt(sum / (90 * 160)) / 32767);
    expect(Math.abs(db + 50)).toBeLessThan(1);
  });
});

describe('DtxController', () => {
  for (const vadLevel of [0, 3]) it(`vad_level ${vadLevel}: sends >= 80 % fewer packets in the pauses, keeps the words whole, and tells the background level`, () => {
    const rate = 8000;
    // Speech, 3 s of background alone, speech again.
    const a = speechLikeSignal({ sampleRate: rate, seconds: 2, levelDbfs: -20, seed: 2 });
    const b = speechLikeSignal({ sampleRate: rate, seconds: 2, levelDbfs: -20, seed: 8 });
    const speech = new Int16Array(rate * 7);
    speech.set(a, 0);
    speech.set(b, rate * 5);
    const input = mix(speech, roomNoise(speech.length, -50));
    const voiced = speechFrames(speech, 160);
    const dtx = new DtxController({ sampleRate: rate, frameMs: 20, vadLevel });
    let pauseLevel = 0;
    const decisions = voiced.map((_, n) => {
      const decision = dtx.decide(input.subarray(n * 160, (n + 1) * 160), 160);
      if (n === 240) pauseLevel = dtx.level;
      return decision;
    });
    // The pause (2.3..4.9 s): packets sent against one per frame.
    const pause = decisions.slice(115, 245);
    const sent = pause.filter((d) => d !== 'silent').length;
    expect(sent / pause.length).toBeLessThanOrEqual(0.2);
    // No frame of speech 6 dB over the background is left out (quieter ones are lost in it anyway).
    const audible = speechFrames(speech, 160, -44);
    const clipped = audible.flatMap((v, n) => (v && decisions[n] !== 'speech' ? [n] : []));
    expect(clipped).toEqual([]);
    // The CN level in the pause is the background's (-50 dBFS) within 2 dB.
    expect(Math.abs(pauseLevel - 50)).toBeLessThanOrEqual(2);
    dtx.close();
  });

  it('learns a loud room (-42 dBFS) in a second, and still sends speech over it whole', () => {
    const rate = 8000;
    const room = roomNoise(rate * 6, -42);
    const speech = new Int16Array(rate * 6);
    speech.set(speechLikeSignal({ sampleRate: rate, seconds: 2, levelDbfs: -20, seed: 8 }), rate * 3);
    const input = mix(speech, room);
    const dtx = new DtxController({ sampleRate: rate, frameMs: 20, vadLevel: 0 });
    const decisions = Array.from({ length: input.length / 160 }, (_, n) => dtx.decide(input.subarray(n * 160, (n + 1) * 160), 160));
    // The room alone from 1.5 s to 3 s (the floor's climb from -60 dBFS alone took until 3.5 s): at most a fifth sent.
    const pause = decisions.slice(75, 150);
    expect(pause.filter((d) => d !== 'silent').length / pause.length).toBeLessThanOrEqual(0.2);
    // The words after it: every frame of speech 6 dB over the room is sent.
    const audible = speechFrames(speech, 160, -36);
    expect(audible.flatMap((v, n) => (v && decisions[n] !== 'speech' ? [n] : []))).toEqual([]);
    dtx.close();
  });

  it('allocates nothing per frame', async () => {
    const input = mix(speechLikeSignal({ sampleRate: 8000, seconds: 1, seed: 2 }), roomNoise(8000, -50));
    const frame = new Int16Array(160);
    const dtx = new DtxController({ sampleRate: 8000, frameMs: 20 });
    const cn = new ComfortNoiseGenerator(8000);
    const sid = new Uint8Array(1 + COMFORT_NOISE_ORDER);
    const run = (frames: number): void => {
      for (let n = 0; n < frames; n++) {
        const at = (n % 49) * 160;
        for (let i = 0; i < 160; i++) frame[i] = input[at + i]!;
        if (dtx.decide(frame, 160) !== 'speech') cn.setPayload(sid, dtx.writeSid(sid));
        cn.generate(frame, 160);
      }
    };
    run(300);
    const allocations = await allocationsDuring(() => run(200));
    expect(allocations.youngCollections).toBe(0);
    expect(allocations.youngBytes).toBeLessThan(8_000);
    dtx.close();
  });
});

/** What a generator plays, after 0.5 s to settle, for 2 s: fed the payloads in turn, one every `everyFrames` frames (DTX sends one every 400 ms). */
function played(payloads: Uint8Array[], everyFrames = 20): Int16Array {
  const cn = new ComfortNoiseGenerator(8000);
  const out = new Int16Array(8000 * 2.5);
  for (let n = 0; n < out.length / 160; n++) {
    if (n % everyFrames === 0) cn.setPayload(payloads[(n / everyFrames) % payloads.length]!);
    cn.generate(out.subarray(n * 160, (n + 1) * 160), 160);
  }
  return out.subarray(4000);
}

/** The CN payload a DtxController sends after hearing `background` alone for 2 s. */
function sidOf(background: Int16Array): Uint8Array {
  const dtx = new DtxController({ sampleRate: 8000, frameMs: 20 });
  for (let n = 0; n < 100; n++) dtx.decide(background.subarray(n * 160, (n + 1) * 160), 160);
  const sid = new Uint8Array(1 + COMFORT_NOISE_ORDER);
  const length = dtx.writeSid(sid);
  dtx.close();
  return sid.subarray(0, length);
}

describe('comfort noise spectra (RFC 3389 3.2)', () => {
  it('a room\'s spectrum goes in the CN payload, and the noise played from it has that spectrum, within 2 dB per kHz band', () => {
    // A room (white noise through a one-pole low-pass: 17 dB more in 0-1 kHz than in 3-4 kHz), and white noise.
    const room = roomNoise(8000 * 2, -50);
    const white = whiteNoise(8000 * 2, -50);
    for (const [name, background] of [['room', room], ['white noise', white]] as const) {
      const sid = sidOf(background);
      const heard = played([sid]);
      const shape = { sent: bandShape(background), played: bandShape(heard) };
      const level = 20 * Math.log10(Math.sqrt(heard.reduce((sum, v) => sum + v * v, 0) / heard.length) / 32767);
      console.log(`CN of ${name}: payload [${Array.from(sid).join(', ')}], band shape ${JSON.stringify(shape)}, played at ${level.toFixed(1)} dBFS`);
      expect(sid).toHaveLength(1 + COMFORT_NOISE_ORDER);
      for (let band = 0; band < 4; band++) expect(Math.abs(shape.played[band]! - shape.sent[band]!)).toBeLessThanOrEqual(2);
      expect(Math.abs(level + 50)).toBeLessThanOrEqual(1.5);
    }
    // The room's first coefficient is about -0.9 (its low-pass pole), white noise's about 0.
    expect((sidOf(room)[1]! - 127) / 128).toBeLessThan(-0.8);
    expect(Math.abs((sidOf(white)[1]! - 127) / 128)).toBeLessThan(0.1);
  });

  it('a payload with no coefficients plays white noise; a new spectrum is moved to, not jumped to', () => {
    const white = played([Uint8Array.of(50)]);
    for (const band of bandShape(white)) expect(Math.abs(band + 6)).toBeLessThan(1);
    const cn = new ComfortNoiseGenerator(8000);
    const frame = new Int16Array(160);
    cn.setPayload(Uint8Array.of(50, 12));
    cn.generate(frame, 160);
    expect(cn.reflections[0]).toBeCloseTo((12 - 127) / 128, 6);
    cn.setPayload(Uint8Array.of(50, 127));
    cn.generate(frame, 160);
    // Part of the way to 0 after one frame.
    expect(cn.reflections[0]).toBeLessThan(-0.3);
    expect(cn.reflections[0]).toBeGreaterThan(-0.8);
    // An empty payload changes nothing; coefficients past 16 are not read.
    cn.setPayload(new Uint8Array(0));
    cn.setPayload(Uint8Array.from({ length: 40 }, () => 127));
    cn.generate(frame, 160);
  });

  it('a payload of extreme coefficients (16 at -0.99, at +0.99, alternating) plays bounded noise, never louder than asked, never silence from a NaN', () => {
    const extremes = [0, 254, -1].map((fill) => Uint8Array.from({ length: 17 }, (_, i) => (i === 0 ? 40 : fill >= 0 ? fill : i % 2 === 0 ? 0 : 254)));
    for (const payload of extremes) {
      const cn = new ComfortNoiseGenerator(8000);
      cn.setPayload(payload);
      const frame = new Int16Array(160);
      let sum = 0;
      let peak = 0;
      for (let n = 0; n < 200; n++) {
        cn.generate(frame, 160);
        if (n >= 50) for (const v of frame) {
          sum += v * v;
          peak = Math.max(peak, Math.abs(v));
        }
      }
      const level = 10 * Math.log10(sum / (150 * 160) / (32767 * 32767));
      // Asked: -40 dBFS. A direct-form filter of these blew up to full scale (all -0.99) or NaN (all +0.99).
      expect({ payload: payload[1], level: Number.isFinite(level), quietEnough: level < -37, peak: peak < 8000 }).toEqual({ payload: payload[1], level: true, quietEnough: true, peak: true });
    }
  });

  (peerAvailable('ffmpeg') ? it : it.skip)('agrees with FFmpeg\'s CN encoder: its payloads of the room play the room\'s spectrum here, and its coefficients are ours within 0.1', async () => {
    const room = roomNoise(8000 * 2, -50);
    const dir = mkdtempSync(join(tmpdir(), 'cn-'));
    try {
      await writeWav(join(dir, 'room.wav'), { sampleRate: 8000, channels: 1, samples: room });
      const encode = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', join(dir, 'room.wav'), '-c:a', 'comfortnoise', '-f', 'nut', join(dir, 'room.nut')], { encoding: 'utf8' });
      expect(encode.stderr).toBe('');
      const probe = spawnSync('ffprobe', ['-hide_banner', '-loglevel', 'error', '-show_packets', '-show_data', join(dir, 'room.nut')], { encoding: 'utf8' });
      // Each packet's data is a hex dump: "00000000: 1b01 9867 ...  text".
      const payloads = probe.stdout.split('[PACKET]').slice(1).map((packet) => {
        const hex = [...packet.matchAll(/^[0-9a-f]{8}: ((?:[0-9a-f]{2,4} ?)+)/gm)].map((line) => line[1]!.replace(/ /g, '')).join('');
        return Uint8Array.from(hex.match(/../g) ?? [], (byte) => parseInt(byte, 16));
      });
      expect(payloads.length).toBeGreaterThan(10);
      // FFmpeg sends one for each 80 ms (four of our frames), each from that stretch alone: played in turn.
      const shape = { sent: bandShape(room), fromFfmpeg: bandShape(played(payloads, 4)) };
      const ours = sidOf(room);
      // Its first three coefficients, the mean over its payloads, against ours.
      const mean = [1, 2, 3].map((i) => payloads.reduce((sum, payload) => sum + payload[i]!, 0) / payloads.length);
      console.log(`FFmpeg's CN payloads of the room: ${payloads.length}, the first [${Array.from(payloads[0]!).join(', ')}], the mean of coefficients 1-3 [${mean.map((v) => v.toFixed(1)).join(', ')}], ours [${Array.from(ours).join(', ')}]; band shape ${JSON.stringify(shape)}`);
      for (let band = 0; band < 4; band++) expect(Math.abs(shape.fromFfmpeg[band]! - shape.sent[band]!)).toBeLessThanOrEqual(2);
      for (let i = 0; i < 3; i++) expect(Math.abs(mean[i]! - ours[i + 1]!) / 128).toBeLessThanOrEqual(0.1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
