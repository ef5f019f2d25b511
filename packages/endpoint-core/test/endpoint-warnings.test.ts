import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@sip-endpoint/config';
import { VirtualAudioProvider } from '@sip-endpoint/media';
import { dominantFrequency } from '@sip-endpoint/media/testing';
import { testPorts } from '@sip-endpoint/test-support';
import { Endpoint, type EndpointWarning } from '@sip-endpoint/endpoint-core';
import { standaloneConfig, standaloneEndpoint, waitFor } from './support/endpoints';

/** Starts an endpoint, collects its warnings, stops it. */
async function warningsOf(endpoint: Endpoint): Promise<EndpointWarning[]> {
  const seen: EndpointWarning[] = [];
  endpoint.on('warning', (warning) => seen.push(warning));
  await endpoint.start();
  await endpoint.stop();
  return seen;
}

describe('warnings that reach the host without a log file', () => {
  it('a password on a stand-alone line (reg_timeout empty), a missing ringtone, an override key that names no setting', async () => {
    const config = standaloneConfig('7201', testPorts(8), testPorts(50), {
      'proxies.proxy0.reg_timeout': '',
      'proxies.proxy0.password': 'secret',
      'system.media.ringing_file': 'no-such-ring.wav',
      'policy.session.auto_answr': '1',
    });
    const warnings = await warningsOf(new Endpoint({ config, mediaDir: tmpdir() }));
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'WARN_PASSWORD_WITHOUT_REGISTRATION', setting: 'proxies.proxy0.reg_timeout', message: expect.stringMatching(/line 0 has a password but .* never registers/) }),
        expect.objectContaining({ code: 'WARN_MEDIA_FILE_MISSING', setting: 'system.media.ringing_file', message: expect.stringContaining(join(tmpdir(), 'no-such-ring.wav')) }),
        expect.objectContaining({ code: 'WARN_CONFIG_SETTING', setting: 'policy.session.auto_answr', message: expect.stringMatching(/not a setting this SDK knows/) }),
      ]),
    );
    expect(warnings).toHaveLength(3);
  });

  it('webrtc_audio_layer: the Windows-only digits (audio layer type, MMCSS) are named as changing nothing; the keep-open modes alone warn of nothing', async () => {
    const layered = await warningsOf(new Endpoint({ config: standaloneConfig('7204', testPorts(8), testPorts(50), { 'policy.endpoint.webrtc_audio_layer': '3002' }) }));
    expect(layered).toEqual([expect.objectContaining({ code: 'WARN_CONFIG_SETTING', setting: 'policy.endpoint.webrtc_audio_layer', message: expect.stringMatching(/3002: the audio layer type 2 is Windows' and changes nothing here/) })]);
    const mmcss = await warningsOf(new Endpoint({ config: standaloneConfig('7205', testPorts(8), testPorts(50), { 'policy.endpoint.webrtc_audio_layer': '501' }) }));
    expect(mmcss).toEqual([expect.objectContaining({ message: expect.stringMatching(/501: the audio layer type 1 and MMCSS \(500\) are Windows'/) })]);
    for (const value of ['0', '1000', '2000', '3000']) {
      expect(await warningsOf(new Endpoint({ config: standaloneConfig('7206', testPorts(8), testPorts(50), { 'policy.endpoint.webrtc_audio_layer': value }) }))).toEqual([]);
    }
  });

  it('with nobody listening, each warning is a process warning', async () => {
    const config = standaloneConfig('7202', testPorts(8), testPorts(50), { 'proxies.proxy0.password': 'secret' });
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const endpoint = new Endpoint({ config });
      await endpoint.start();
      await endpoint.stop();
      expect(emitWarning).toHaveBeenCalledWith(expect.stringMatching(/has a password but/), { type: 'SipEndpointWarning', code: 'WARN_PASSWORD_WITHOUT_REGISTRATION' });
    } finally {
      emitWarning.mockRestore();
    }
  });

  it('a file path given as config is read, with a warning; text that is neither XML nor a file says what to pass', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sep-config-'));
    try {
      const file = join(dir, 'Softphone.config');
      writeFileSync(file, standaloneConfig('7203', testPorts(8), testPorts(50)).toXml());
      const endpoint = new Endpoint({ config: file });
      expect(endpoint.config.connectivities[0]?.user).toBe('7203');
      const warnings = await warningsOf(endpoint);
      expect(warnings).toEqual([expect.objectContaining({ code: 'WARN_CONFIG_PATH', message: expect.stringContaining('pass loadConfig(path)') })]);
      expect(() => new Endpoint({ config: 'Softphone.config' })).toThrow(ConfigError);
      expect(() => new Endpoint({ config: 'Softphone.config' })).toThrow(/neither Softphone.config XML text .* await loadConfig\(path\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the default ringtone', () => {
  it('rings an incoming call with the sample ringing.wav the media package ships, with no file of the host', async () => {
    const ringingFile = { 'system.media.ringing_file': 'ringing.wav', 'policy.session.ringing_enabled': '1' };
    const alice = standaloneEndpoint('7211', testPorts(8), testPorts(50), 900);
    const devices = new VirtualAudioProvider({ defaults: false });
    devices.addInput({ name: 'Microphone', id: 'mic' }, { kind: 'silence' });
    devices.addOutput({ name: 'Speakers', id: 'speaker' }, { record: true });
    const bob = new Endpoint({ config: standaloneConfig('7212', testPorts(8), testPorts(50), ringingFile), devices, mediaDir: tmpdir() });
    const warnings: EndpointWarning[] = [];
    bob.on('warning', (warning) => warnings.push(warning));
    await alice.endpoint.start();
    await bob.start();
    try {
      const call = await alice.endpoint.makeCall(`sip:7212@127.0.0.1:${bob.lines[0]!.port}`);
      await waitFor(() => bob.calls[0]?.state === 'RINGING', 5000, 'Bob ringing');
      await waitFor(() => devices.recording('speaker').samples.length > 16000 * 0.8, 5000, '0.8 s of ringing played');
      const played = devices.recording('speaker');
      const ring = played.samples.subarray(Math.round(played.sampleRate * 0.1), Math.round(played.sampleRate * 0.7));
      expect([440, 480]).toContain(dominantFrequency(ring, played.sampleRate));
      expect(warnings).toEqual([]);
      await call.hangup();
    } finally {
      await alice.endpoint.stop();
      await bob.stop();
    }
  }, 20000);
});
