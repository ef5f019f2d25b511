import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EndpointConfig } from '@sip-endpoint/config';
import { ToneGenerator, VirtualAudioProvider, writeWav } from '@sip-endpoint/media';
import { Endpoint } from '@sip-endpoint/endpoint-core';
import type { EndpointPolicy } from '@sip-endpoint/policy';
import { waitFor } from '@sip-endpoint/test-support';

/** A fixed wait: only for a wait that is the scenario itself (a quiet period, pacing a peer); else `waitFor`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export { waitFor };

/** Seconds of audio the recording speaker `id` of `devices` holds (since it was last cleared). */
export function recorded(devices: VirtualAudioProvider, id = 'speaker'): number {
  const { samples, sampleRate } = devices.recording(id);
  return samples.length / sampleRate;
}

/**
 * Waits until the recording speaker of each of `devices` holds at least `seconds` of audio: media
 * flows for that long in media time, however loaded the machine (a fixed sleep may give less).
 */
export function untilRecorded(seconds: number, ...devices: VirtualAudioProvider[]): Promise<void> {
  return waitFor(() => devices.every((device) => recorded(device) >= seconds), 5000 + seconds * 1000, `${seconds} s of audio on the speaker`);
}

/**
 * The configuration of a stand-alone line on 127.0.0.1 (reg_timeout 0, SIP ports from `sipPort`,
 * 50 RTP ports from `rtpBase`, no ringtone file), with `settings` on top.
 */
export function standaloneConfig(user: string, sipPort: number, rtpBase: number, settings: Record<string, string> = {}): EndpointConfig {
  return EndpointConfig.defaults().with({
    'user:0': user,
    'server:0': '127.0.0.1:5060',
    'proxies.proxy0.reg_timeout': '0',
    'policy.endpoint.public_address': '127.0.0.1',
    'policy.endpoint.sip_port_min': String(sipPort),
    'policy.endpoint.sip_port_max': String(sipPort + 6),
    'policy.endpoint.rtp_port_min': String(rtpBase),
    'policy.endpoint.rtp_port_max': String(rtpBase + 49),
    'system.media.ringing_file': '',
    ...settings,
  });
}

/**
 * A stand-alone endpoint on 127.0.0.1 (SIP ports from `sipPort`, RTP from `rtpBase`, 50 ports) with a
 * virtual microphone playing `frequency` (silence when 0) and a recording speaker.
 */
export function standaloneEndpoint(
  user: string,
  sipPort: number,
  rtpBase: number,
  frequency = 0,
  settings: Record<string, string> = {},
  options: { mediaDir?: string; minSessionExpires?: number; policy?: EndpointPolicy; logger?: (level: number, message: string, component?: string) => void; srtpKeying?: 'sdes' | 'dtls'; dtlsCertificate?: { certPem: string; keyPem: string }; spareRtpPorts?: number } = {},
): { endpoint: Endpoint; devices: VirtualAudioProvider } {
  const config = standaloneConfig(user, sipPort, rtpBase, settings);
  const devices = new VirtualAudioProvider({ defaults: false });
  devices.addInput({ name: 'Headset Microphone (Jabra)', id: 'mic' }, frequency > 0 ? { kind: 'tone', frequencies: [frequency], levelDbfs: -12 } : { kind: 'silence' });
  devices.addOutput({ name: 'Headset Earphone (Jabra)', id: 'speaker' }, { record: true });
  return { endpoint: new Endpoint({ config, devices, ...options }), devices };
}

/**
 * A fresh media directory holding `file`: an 8 kHz WAV of one tone (`frequency` Hz, -10 dBFS,
 * `seconds` long), for the ringtone, ringback or call-waiting settings that name it. Returns the
 * directory (the endpoint's `mediaDir`).
 */
export async function toneFileDir(file: string, frequency: number, seconds: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sep-tone-'));
  const tone = new Int16Array(Math.round(8000 * seconds));
  new ToneGenerator(8000, [frequency], -10).fill(tone);
  await writeWav(join(dir, file), { sampleRate: 8000, channels: 1, samples: tone });
  return dir;
}
