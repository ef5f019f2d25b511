import { composePolicy, DefaultPolicy } from '@sip-endpoint/policy';
import type { Call } from '@sip-endpoint/endpoint-core';
import { WebRtcAudioStream } from '@sip-endpoint/media';
import { dominantFrequency } from '@sip-endpoint/media/testing';
import { testPorts } from '@sip-endpoint/test-support';
import { standaloneEndpoint, waitFor } from '../support/endpoints';

// The policy chooses a call's engine: two stand-alone endpoints on plain UDP lines whose policy
// says WebRTC call each other on libwebrtc; the caller's JSEP offer (over 1300 bytes: it goes over
// TCP) is one the callee's default rule would also run on WebRTC.

describe('the policy\'s mediaEngine', () => {
  it('puts calls of plain SIP lines on WebRTC when it says so: a JSEP offer, libwebrtc both ends, audio both ways', async () => {
    const webrtc = composePolicy(new DefaultPolicy(), { mediaEngine: () => 'webrtc' });
    const alice = standaloneEndpoint('5101', testPorts(7), testPorts(50), 600, {}, { policy: webrtc });
    const bobPort = testPorts(7);
    const bob = standaloneEndpoint('5102', bobPort, testPorts(50), 1000);
    try {
      await Promise.all([alice.endpoint.start(), bob.endpoint.start()]);
      const incoming: Call[] = [];
      bob.endpoint.on('incomingCall', (call) => {
        incoming.push(call);
        void call.answer();
      });
      const call = await alice.endpoint.makeCall(`sip:5102@127.0.0.1:${bob.endpoint.lines[0]!.port}`);
      await waitFor(() => call.state === 'CONNECTED' && incoming[0]?.state === 'CONNECTED', 10000, 'connected');
      // Bob's default policy: a JSEP offer on his UDP line runs on WebRTC.
      expect([call.media.engine, incoming[0]!.media.engine]).toEqual(['webrtc', 'webrtc']);
      expect(call.media.stream).toBeInstanceOf(WebRtcAudioStream);
      await waitFor(() => alice.devices.recording('speaker').samples.length > 24000 && bob.devices.recording('speaker').samples.length > 24000, 10000, 'audio both ways');
      const last = (devices: typeof alice.devices): number => {
        const { samples, sampleRate } = devices.recording('speaker');
        return dominantFrequency(samples.subarray(samples.length - sampleRate / 4), sampleRate);
      };
      expect(last(alice.devices)).toBeCloseTo(1000, -1);
      expect(last(bob.devices)).toBeCloseTo(600, -1);
      await call.hangup();
    } finally {
      await Promise.all([alice.endpoint.stop(), bob.endpoint.stop()]);
    }
  }, 30000);
});
