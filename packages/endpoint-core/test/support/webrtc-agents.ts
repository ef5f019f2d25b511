import { EndpointConfig, type AddressResolver } from '@sip-endpoint/config';
import { VirtualAudioProvider } from '@sip-endpoint/media';

/** Resolves `host` (the test certificate's name) to the loopback address, and nothing else. */
export function resolverFor(host: string): AddressResolver {
  return {
    lookup: async (name, family) => (name === host && family === 4 ? ['127.0.0.1'] : []),
    resolveSrv: async () => [],
  };
}

/**
 * The configuration of a WebRTC (HTTPS) line to `gateway` (a URL) for `user`: registering for 60 s
 * with no new cycle after a refusal, the test CA trusted, 127.0.0.1, 7 SIP ports from `sipPort`
 * and 20 RTP ports from `rtpPort` (a WebRTC line binds none of them: libwebrtc takes its own),
 * no ringtone file, with `settings` on top.
 */
export function webRtcLineConfig(user: string, gateway: string, caCertificate: string, sipPort: number, rtpPort: number, settings: Record<string, string> = {}): EndpointConfig {
  return EndpointConfig.defaults().with({
    'user:0': user,
    'server:0': gateway,
    'protocol:0': 'HTTPS',
    'proxies.proxy0.reg_timeout': '60',
    'proxies.proxy0.reg_interval': '0',
    'policy.endpoint.public_address': '127.0.0.1',
    'policy.endpoint.sip_port_min': String(sipPort),
    'policy.endpoint.sip_port_max': String(sipPort + 6),
    'policy.endpoint.rtp_port_min': String(rtpPort),
    'policy.endpoint.rtp_port_max': String(rtpPort + 19),
    'system.security.certificate': caCertificate,
    'system.media.ringing_file': '',
    ...settings,
  });
}

/** Virtual devices: a microphone playing `frequency` at -12 dBFS and a recording speaker (`speaker`). */
export function toneDevices(frequency: number): VirtualAudioProvider {
  const devices = new VirtualAudioProvider({ defaults: false });
  devices.addInput({ name: 'Headset Microphone', id: 'mic' }, { kind: 'tone', frequencies: [frequency], levelDbfs: -12 });
  devices.addOutput({ name: 'Headset Earphone', id: 'speaker' }, { record: true });
  return devices;
}
