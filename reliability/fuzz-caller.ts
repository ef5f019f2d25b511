/**
 * The real call of the SIP fuzz, in a process of its own (so that the fuzzer's own load cannot
 * make gaps in what it hears): an `Endpoint` calls the target's UDP line over SRTP (SDES), a tone
 * each way, and records what it hears. IPC: `connected` once the call is up; on `finish` it
 * judges its recording in 100 ms windows, hangs up and sends `result`.
 */
import { EndpointConfig } from '@sip-endpoint/config';
import { VirtualAudioProvider } from '@sip-endpoint/media';
import { Endpoint } from '@sip-endpoint/endpoint-core';

export interface CallerSettings {
  target: string;
  sipPort: number;
  rtpBase: number;
}

export interface CallerResult {
  stayedConnected: boolean;
  seconds: number;
  audioSeconds: number;
  silentWindows: number;
  /** The longest run of silent windows in a row. */
  longestSilence: number;
  /** About when the longest run of silent windows began (epoch ms; from its place in the recording). */
  longestSilenceAt: number | undefined;
  windows: number;
}

export type CallerMessage = { type: 'connected' } | { type: 'result'; result: CallerResult } | { type: 'failed'; message: string };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const send = (message: CallerMessage): void => void process.send?.(message);
// The driver gone (its IPC channel closed): nothing left to do here.
process.on('disconnect', () => process.exit(0));

async function main(): Promise<void> {
  const settings = JSON.parse(process.argv[2] ?? '{}') as CallerSettings;
  const devices = new VirtualAudioProvider({ defaults: false });
  devices.addInput({ name: 'Tone', id: 'mic' }, { kind: 'tone', frequencies: [1000], levelDbfs: -12 });
  devices.addOutput({ name: 'Recorder', id: 'speaker' }, { record: true });
  const caller = new Endpoint({
    config: EndpointConfig.defaults().with({
      'user:0': 'caller',
      'server:0': '127.0.0.1:5060',
      'proxies.proxy0.reg_timeout': '0',
      'policy.endpoint.public_address': '127.0.0.1',
      'policy.endpoint.sip_port_min': String(settings.sipPort),
      'policy.endpoint.sip_port_max': String(settings.sipPort + 9),
      'policy.endpoint.rtp_port_min': String(settings.rtpBase),
      'policy.endpoint.rtp_port_max': String(settings.rtpBase + 19),
      'system.media.ringing_file': '',
      'system.security.use_srtp': 'mandatory',
    }),
    devices,
  });
  await caller.start();
  const call = await caller.makeCall(`sip:agent@${settings.target}`);
  const connectedBy = Date.now() + 10000;
  while (call.state !== 'CONNECTED') {
    if (Date.now() > connectedBy) throw new Error(`the real call did not connect: ${call.state} ${call.endReason ?? ''}`);
    await sleep(50);
  }
  let stayedConnected = true;
  call.on('stateChanged', (next) => {
    if (next !== 'CONNECTED') stayedConnected = false;
  });
  devices.clearRecording('speaker');
  const started = Date.now();
  send({ type: 'connected' });
  process.on('message', (message: { type: string }) => {
    if (message.type !== 'finish') return;
    const { samples, sampleRate } = devices.recording('speaker');
    const windowSize = Math.floor(sampleRate / 10);
    let windows = 0;
    let silentWindows = 0;
    let run = 0;
    let longestSilence = 0;
    let longestSilenceAt: number | undefined;
    // The first second left out (the jitter buffer filling); then each 100 ms window must carry the tone.
    for (let start = sampleRate; start + windowSize <= samples.length; start += windowSize) {
      let sum = 0;
      for (let i = start; i < start + windowSize; i++) sum += samples[i]! * samples[i]!;
      windows++;
      // A -12 dBFS tone is an RMS near 2900; silence or concealment's fade is far below 300.
      if (Math.sqrt(sum / windowSize) < 300) {
        silentWindows++;
        if (++run > longestSilence) {
          longestSilence = run;
          longestSilenceAt = Math.round(started + ((start - (run - 1) * windowSize) / sampleRate) * 1000);
        }
      } else run = 0;
    }
    const result: CallerResult = { stayedConnected: stayedConnected && call.state === 'CONNECTED', seconds: (Date.now() - started) / 1000, audioSeconds: samples.length / sampleRate, silentWindows, longestSilence, longestSilenceAt, windows };
    void call
      .hangup()
      .catch(() => undefined)
      .then(() => caller.stop())
      .finally(() => {
        send({ type: 'result', result });
        setTimeout(() => process.exit(0), 100);
      });
  });
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  setTimeout(() => process.exit(1), 100);
});
