import { parseConfig, type GuiTab, type LogSegment, type PublicAddressSpec, type SettingKey, type SrtpPolicy } from '@sip-endpoint/config';
import { configXml, oneSetting } from './support/xml';

// These assignments are checked by `tsc -b` (npm test): each type comes from the settings table.
describe('the types of config.get()', () => {
  const config = parseConfig(configXml({}));

  it('are the table rows\' value types', () => {
    const port: number = config.get('policy.endpoint.rtp_port_min');
    const autoAnswer: boolean = config.get('policy.session.auto_answer');
    const tabs: GuiTab[] = config.get('policy.endpoint.gui_tabs');
    const headsets: string[] = config.get('policy.device.headset_name');
    const segment: LogSegment = config.get('system.diagnostics.log_segment');
    const srtp: SrtpPolicy = config.get('system.security.use_srtp');
    const address: PublicAddressSpec = config.get('policy.endpoint.public_address');
    const dtmf: 'Rfc2833' | 'Info' | 'InbandRtp' = config.get('policy.session.dtmf_method');
    const connectorPort: number | null = config.get('policy.connector.port');
    const proxyTimeout: number = config.get('proxies.proxy5.reg_timeout');
    const natPort: number = config.get('proxies.proxy0.nat.stun_server_port');
    const payloadType: number | undefined = config.get('codecs.opus.payload_type');
    expect([port, autoAnswer, tabs, headsets, segment, srtp, address.kind, dtmf, connectorPort, proxyTimeout, natPort, payloadType]).toEqual([
      9000, false, ['status', 'calls', 'devices'], ['*'], { kind: 'size', kilobytes: 10240 }, { mode: 'disabled', unencryptedSrtcp: false }, 'auto', 'Rfc2833', null, 0, 3478, undefined,
    ]);
  });

  it('refuse keys outside the table at compile time', () => {
    // @ts-expect-error not a setting
    expect(() => config.get('policy.endpoint.no_such_setting')).toThrow();
    // @ts-expect-error proxy6 is beyond the six lines
    const key: SettingKey = 'proxies.proxy6.reg_timeout';
    expect(key).toBeDefined();
  });

  it('section() gives one typed object per section', () => {
    const nat = config.section('proxies.proxy1.nat');
    const enabled: boolean = nat.ice_enabled;
    expect(enabled).toBe(false);
    expect(Object.keys(config.section('system.media'))).toEqual(['ringing_file']);
  });

  it('has() sees a setting written under its deprecated name', () => {
    const withAlias = parseConfig(oneSetting('proxies.proxy1.reg_match_received_number', '1'));
    expect(withAlias.has('proxies.proxy1.reg_match_received_rport')).toBe(true);
    expect(withAlias.has('proxies.proxy1.reg_match_received_number')).toBe(true);
    expect(withAlias.has('proxies.proxy1.reg_timeout')).toBe(false);
  });
});
