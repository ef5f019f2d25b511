import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dominantFrequency, rms, ToneGenerator, writeWav } from '@sip-endpoint/media';
import type { Call } from '@sip-endpoint/endpoint-core';
import { sleep, standaloneEndpoint } from './support/endpoints';

describe('ringing for an incoming call', () => {
  it('plays the ringtone of the ringing plan on the speaker until the call is answered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sep-ring-'));
    const ringtone = new Int16Array(8000 * 0.3);
    new ToneGenerator(8000, [425], -10).fill(ringtone);
    await writeWav(join(dir, 'ring.wav'), { sampleRate: 8000, channels: 1, samples: ringtone });
    const make = (user: string, port: number, rtp: number, settings: Record<string, string> = {}) => standaloneEndpoint(user, port, rtp, 0, settings, { mediaDir: dir });
    const alice = make('6001', 47200, 47300);
    const bob = make('6002', 47210, 47400, { 'system.media.ringing_file': 'ring.wav', 'policy.session.ringing_enabled': '1' });
    await alice.endpoint.start();
    await bob.endpoint.start();
    try {
      const ringing: Call[] = [];
      bob.endpoint.on('incomingCall', (call) => ringing.push(call));
      await alice.endpoint.makeCall(`sip:6002@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
      for (let i = 0; i < 50 && ringing.length === 0; i++) await sleep(20);
      await sleep(600);
      const rang = bob.devices.recording('speaker');
      expect(rang.samples.length).toBeGreaterThan(rang.sampleRate * 0.4); // looped past the 0.3 s file
      expect(Math.abs(dominantFrequency(rang.samples, rang.sampleRate) - 425)).toBeLessThanOrEqual(2);
      await ringing[0]!.answer();
      await sleep(100);
      bob.devices.clearRecording('speaker');
      await sleep(300);
      // The ringtone stopped: what plays now is the call's (silent) audio.
      const after = bob.devices.recording('speaker');
      expect(rms(after.samples)).toBeLessThan(100);
      await ringing[0]!.hangup();
    } finally {
      await alice.endpoint.stop();
      await bob.endpoint.stop();
    }
  }, 15000);
});
