// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import { VirtualAudioProvider, type AudioStream } from '@sip-endpoint/media';
import { rms } from '@sip-endpoint/media/testing';
import { testPorts } from '@sip-endpoint/test-support';
import { Capture, tsharkAvailable } from '../support/capture';
import { sleep, standaloneConfig, standaloneEndpoint, waitFor } from '../support/endpoints';

// The specification's audio-processing settings as calls run them: AGC (agc_mode) on the
// microphone when the endpoint processes its devices' audio (audioProcessing 'on' here, since
// the devices are virtual), and DTX (dtx_mode) with RFC 3389 comfort noise, negotiated in the
// SDP and seen on the wire. The media package's own tests measure each processor.

const dbfs = (samples: Int16Array): number => 20 * Math.log10(Math.max(1e-9, rms(samples)) / 32768);

/** An agent whose microphone plays a quiet 500 Hz tone (-40 dBFS RMS). */
function quietAgent(user: string, settings: Record<string, string>, audioProcessing: 'auto' | 'on' | 'off'): Endpoint {
  const devices = new VirtualAudioProvider({ defaults: false });
  // -37 dBFS peak: -40 dBFS RMS for a sine.
  devices.addInput({ name: 'Headset Microphone (Jabra)', id: 'mic' }, { kind: 'tone', frequencies: [500], levelDbfs: -37 });
  devices.addOutput({ name: 'Headset Earphone (Jabra)', id: 'speaker' });
  return new Endpoint({ config: standaloneConfig(user, testPorts(7), testPorts(50), settings), devices, audioProcessing });
}

describe('audio processing of a call, as the settings say', () => {
  it.each([
    ['agc_mode 1, audioProcessing on: the far end hears the quiet microphone near -18 dBFS', '1', 'on', -18],
    ['agc_mode 0: as it was, -40 dBFS', '0', 'on', -40],
    ['audioProcessing auto on virtual devices: unprocessed, -40 dBFS', '1', 'auto', -40],
  ] as const)('%s', async (_name, agcMode, audioProcessing, expectedDbfs) => {
    // Echo control and noise suppression off: a steady tone is what RNNoise takes for noise.
    const agent = quietAgent('1401', { 'policy.session.agc_mode': agcMode, 'policy.session.echo_control': '0', 'policy.session.noise_suppression': '0' }, audioProcessing);
    const far = standaloneEndpoint('1402', testPorts(7), testPorts(50), 0, { 'policy.session.auto_answer': '1' });
    await agent.start();
    await far.endpoint.start();
    try {
      const call = await agent.makeCall(`sip:1402@127.0.0.1:${far.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'CONNECTED', 5000, 'connected');
      // The AGC settles within a second or two; then 1 s of what the far end heard is judged.
      await sleep(2500);
      far.devices.clearRecording('speaker');
      await waitFor(() => far.devices.recording('speaker').samples.length >= 8000, 5000, '1 s recorded');
      const heard = dbfs(far.devices.recording('speaker').samples);
      expect({ heard: Math.round(heard), near: Math.abs(heard - expectedDbfs) <= 3 }).toEqual({ heard: Math.round(heard), near: true });
      await call.hangup();
    } finally {
      await agent.stop();
      await far.endpoint.stop();
    }
  }, 20000);

  const itTshark = tsharkAvailable() ? it : it.skip;
  itTshark('dtx_mode 1: CN offered and taken; a silent microphone sends CN packets (payload type 13), not a packet every 20 ms, and the far end plays comfort noise', async () => {
    const farRtp = testPorts(50);
    const agent = standaloneEndpoint('1411', testPorts(7), testPorts(50), 0, { 'policy.session.dtx_mode': '1', 'policy.session.vad_level': '2' });
    const far = standaloneEndpoint('1412', testPorts(7), farRtp, 0, { 'policy.session.auto_answer': '1', 'policy.session.dtx_mode': '1' });
    await agent.endpoint.start();
    await far.endpoint.start();
    const capture = await Capture.start(`udp dst portrange ${farRtp}-${farRtp + 49}`);
    try {
      const incoming: Call[] = [];
      far.endpoint.on('incomingCall', (call) => incoming.push(call));
      const call = await agent.endpoint.makeCall(`sip:1412@127.0.0.1:${far.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'CONNECTED' && incoming[0]?.state === 'CONNECTED', 5000, 'connected');
      expect(call.media.negotiated?.comfortNoise).toEqual({ payloadType: 13 });
      await sleep(3000);
      const farStream = incoming[0]!.media.stream as AudioStream;
      const port = farStream.localPort;
      expect(farStream.comfortNoiseFrames).toBeGreaterThan(0);
      await call.hangup();
      await capture.stop();
      const types = capture.fields(`udp.dstport == ${port} && rtp`, ['rtp.p_type'], [`udp.port==${port},rtp`]).map(([type]) => Number(type));
      // 3 s of silence would be 150 packets at 20 ms: DTX sends at most a fifth of that, CN among them.
      expect(types.length).toBeGreaterThan(0);
      expect(types.length).toBeLessThan(150 * 0.2 + 10);
      expect(types.filter((type) => type === 13).length).toBeGreaterThan(0);
    } finally {
      await capture.dispose();
      await agent.endpoint.stop();
      await far.endpoint.stop();
    }
  }, 20000);
});
