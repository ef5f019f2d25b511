// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { AudioStream, PCMU, RtpSession, VirtualAudioProvider } from '@sip-endpoint/media';
import { speechLikeSignal } from '@sip-endpoint/media/testing';
import { waitFor } from '@sip-endpoint/test-support';
import { workerPorts } from '../../support/ports';
import { bandShape, levelDb, mix, roomNoise } from './signals';

// DTX end to end between two streams on 127.0.0.1: Alice speaks, is silent for 3 s over a room's
// background at -50 dBFS, speaks again, with dtx_mode on and CN (payload type 13) negotiated. In
// the pause she sends at most a fifth of the packets; Bob plays comfort noise near her background's
// level and of its spectrum, without steps.

const ports = workerPorts(8);
const RATE = 8000;

describe('DTX with comfort noise between two AudioStreams', () => {
  it('sends >= 80 % fewer packets in the pause, and the far end plays noise at the background level', async () => {
    const speech = new Int16Array(RATE * 7);
    speech.set(speechLikeSignal({ sampleRate: RATE, seconds: 2, levelDbfs: -20, seed: 2 }), 0);
    speech.set(speechLikeSignal({ sampleRate: RATE, seconds: 2, levelDbfs: -20, seed: 8 }), RATE * 5);
    const signal = mix(speech, roomNoise(speech.length, -50));
    const devices = new VirtualAudioProvider({ defaults: false });
    let cursor = 0;
    const marks: { at: number; packets: number }[] = [];
    const holder: { alice?: AudioStream } = {};
    devices.addInput({ name: 'mic', id: 'mic' }, {
      kind: 'function',
      fill: (frame, length) => {
        for (let i = 0; i < length; i++) frame[i] = cursor < signal.length ? signal[cursor++]! : 0;
        if (holder.alice && (cursor === RATE * 2.5 || cursor === RATE * 4.9)) marks.push({ at: cursor, packets: holder.alice.stats().sent.packets });
      },
    });
    const aliceSession = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const bobSession = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const played: number[] = [];
    const alice = new AudioStream({
      session: aliceSession,
      codec: PCMU,
      payloadType: 0,
      remote: { address: '127.0.0.1', rtpPort: bobSession.localPort },
      input: devices.openInput('mic', RATE),
      processing: { dtx: true, vadLevel: 0, comfortNoise: { payloadType: 13 } },
    });
    holder.alice = alice;
    const bob = new AudioStream({
      session: bobSession,
      codec: PCMU,
      payloadType: 0,
      remote: { address: '127.0.0.1', rtpPort: aliceSession.localPort },
      processing: { comfortNoise: { payloadType: 13 } },
      onPlayout: (frame, length) => {
        for (let i = 0; i < length; i++) played.push(frame[i]!);
      },
    });
    try {
      bob.start();
      alice.start();
      await waitFor(() => cursor >= signal.length, 15_000);
      const [start, end] = marks;
      const frames = (end!.at - start!.at) / 160;
      const sent = end!.packets - start!.packets;
      expect(sent / frames).toBeLessThanOrEqual(0.2);
      expect(bob.comfortNoiseFrames).toBeGreaterThan(50);
      // Bob's playout of the pause, found by its level: from where the first words' end has played to the second's start.
      const from = played.findIndex((v, i) => i > RATE * 2.4 && Math.abs(v) < 1000 && levelDb(played.slice(i, i + 800), () => true) < -40);
      const middle = played.slice(from + RATE * 0.5, from + RATE * 2);
      const level = levelDb(middle, () => true);
      expect(Math.abs(level + 50)).toBeLessThanOrEqual(3);
      // Of the room's spectrum too (RFC 3389 3.2: the CN packets carry it), within 3 dB per kHz band
      // (the room has 17 dB more in 0-1 kHz than in 3-4 kHz; white noise would have none).
      const shape = { room: bandShape(roomNoise(RATE * 2, -50)), played: bandShape(middle) };
      console.log(`DTX between two streams: Bob plays the pause at ${level.toFixed(1)} dBFS, band shape ${JSON.stringify(shape)}`);
      for (let band = 0; band < 4; band++) expect(Math.abs(shape.played[band]! - shape.room[band]!)).toBeLessThanOrEqual(3);
      // No click where the noise starts or through it: no step larger than the background's own range.
      let step = 0;
      for (let i = from + 1; i < from + RATE * 2.2; i++) step = Math.max(step, Math.abs(played[i]! - played[i - 1]!));
      expect(step).toBeLessThan(1200);
    } finally {
      alice.close();
      bob.close();
    }
  }, 30_000);
});
