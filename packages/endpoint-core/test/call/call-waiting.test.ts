import { dominantFrequency, powerAt } from '@sip-endpoint/media/testing';
import type { Call } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { recorded, standaloneEndpoint, toneFileDir, untilRecorded, waitFor } from '../support/endpoints';

const uri = (user: string, endpoint: { lines: readonly { port: number | undefined }[] }): string => `sip:${user}@127.0.0.1:${endpoint.lines[0]!.port}`;

describe('several calls on one line', () => {
  it('a second call rings with the call-waiting tone during a call; the agent holds the first, answers the second, then goes back', async () => {
    const dir = await toneFileDir('callwait.wav', 950, 0.2);
    const agent = standaloneEndpoint('7201', testPorts(7), testPorts(50), 0, { 'policy.session.callwait_tone_file': 'callwait.wav' }, { mediaDir: dir });
    const first = standaloneEndpoint('7202', testPorts(7), testPorts(50), 600);
    const second = standaloneEndpoint('7203', testPorts(7), testPorts(50), 700);
    await Promise.all([agent.endpoint.start(), first.endpoint.start(), second.endpoint.start()]);
    try {
      const incoming: Call[] = [];
      agent.endpoint.on('incomingCall', (call) => incoming.push(call));
      const a = await first.endpoint.makeCall(uri('7201', agent.endpoint));
      await waitFor(() => incoming.length === 1);
      await incoming[0]!.answer();
      await waitFor(() => a.state === 'CONNECTED');
      const b = await second.endpoint.makeCall(uri('7201', agent.endpoint));
      await waitFor(() => incoming.length === 2 && b.state === 'ALERTING');
      expect(incoming[1]!.state).toBe('RINGING');
      expect(agent.endpoint.session().phone.calls.map((call) => call.state)).toEqual(['CONNECTED', 'RINGING']);
      // The call-waiting tone is mixed over the first call's audio (600 Hz): both are there, in
      // 0.8 s of what the speaker plays from 0.3 s on.
      await untilRecorded(recorded(agent.devices) + 0.3, agent.devices);
      agent.devices.clearRecording('speaker');
      await untilRecorded(0.8, agent.devices);
      const heard = agent.devices.recording('speaker');
      const beepPower = powerAt(heard.samples, heard.sampleRate, 950);
      expect(beepPower).toBeGreaterThan(100 * powerAt(heard.samples, heard.sampleRate, 1300));
      expect(powerAt(heard.samples, heard.sampleRate, 600)).toBeGreaterThan(100 * powerAt(heard.samples, heard.sampleRate, 1300));

      await incoming[0]!.hold();
      await incoming[1]!.answer();
      await waitFor(() => b.state === 'CONNECTED');
      expect(a.state).toBe('HELD');
      await untilRecorded(recorded(agent.devices) + 0.6, agent.devices);
      const talking = agent.devices.recording('speaker');
      expect(dominantFrequency(talking.samples.subarray(talking.samples.length - talking.sampleRate * 0.3), talking.sampleRate)).toBe(700);

      await incoming[1]!.hangup();
      await waitFor(() => b.state === 'DISCONNECTED');
      await incoming[0]!.retrieve();
      await waitFor(() => a.state === 'CONNECTED');
      await untilRecorded(recorded(agent.devices) + 0.6, agent.devices);
      const back = agent.devices.recording('speaker');
      expect(dominantFrequency(back.samples.subarray(back.samples.length - back.sampleRate * 0.3), back.sampleRate)).toBe(600);
      expect(agent.endpoint.calls).toHaveLength(1);
      await a.hangup();
    } finally {
      await Promise.all([agent.endpoint.stop(), first.endpoint.stop(), second.endpoint.stop()]);
    }
  }, 20000);

  it('with reject_session_when_busy, a call beyond number_sessions_for_busy gets sip_code_when_busy', async () => {
    const agent = standaloneEndpoint('7211', testPorts(7), testPorts(50), 0, { 'policy.session.auto_answer': '1', 'policy.session.reject_session_when_busy': '1', 'policy.session.number_sessions_for_busy': '1', 'policy.session.sip_code_when_busy': '486' });
    const first = standaloneEndpoint('7212', testPorts(7), testPorts(50), 600);
    await Promise.all([agent.endpoint.start(), first.endpoint.start()]);
    try {
      const a = await first.endpoint.makeCall(uri('7211', agent.endpoint));
      await waitFor(() => a.state === 'CONNECTED');
      const b = await first.endpoint.makeCall(uri('7211', agent.endpoint));
      await waitFor(() => b.state === 'DISCONNECTED');
      expect(b.info().rejectedWith).toBe(486);
      expect(a.state).toBe('CONNECTED');
      await a.hangup();
    } finally {
      await Promise.all([agent.endpoint.stop(), first.endpoint.stop()]);
    }
  }, 15000);
});
