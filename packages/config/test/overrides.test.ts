import { ConfigError, parseConfig } from '@sip-endpoint/config';
import { fixture } from './support/xml';

const base = parseConfig(fixture('namespaced.config'));

describe('config.with(overrides)', () => {
  it('applies domain.section.setting overrides as options.sipendpoint sends them, leaving the original untouched', () => {
    const next = base.with({ 'policy.connector.auto_restart': '1', 'policy.session.ringing_file': 'bell.wav' });
    expect(next.get('policy.connector.auto_restart')).toBe(true);
    expect(next.get('policy.session.ringing_file')).toBe('bell.wav');
    expect(base.get('policy.session.ringing_file')).toBe('ringing_-10dB.wav');
  });

  it('treats colons and dots alike', () => {
    const next = base.with({ 'policy:session:auto_answer': '1', 'proxies:proxy0:nat:ice_enabled': '1' });
    expect(next.get('policy.session.auto_answer')).toBe(true);
    expect(next.get('proxies.proxy0.nat.ice_enabled')).toBe(true);
  });

  it('writes numbers and booleans as the file does', () => {
    const next = base.with({ 'policy.endpoint.gui_call_lines': 6, 'policy.device.use_headset': false });
    expect(next.raw('policy.endpoint.gui_call_lines')).toEqual(['6']);
    expect(next.raw('policy.device.use_headset')).toEqual(['0']);
  });

  it('creates missing domains and nested sections', () => {
    const next = base.with({ 'proxies.proxy4.mailbox.user': '7777', 'codecs.opus.fmtp': 'useinbandfec=1' });
    expect(next.get('proxies.proxy4.mailbox.user')).toBe('7777');
    expect(next.get('codecs.opus.fmtp')).toBe('useinbandfec=1');
    expect(next.toXml()).toMatch(/<section name="proxy4">\s*<section name="mailbox">\s*<setting name="user" value="7777"\/>/);
  });

  it('replaces every value of a repeatable setting with a list, in place', () => {
    const next = base.with({ 'policy.device.headset_name': ['Poly.*', 'Jabra'] });
    expect(next.get('policy.device.headset_name')).toEqual(['Poly.*', 'Jabra']);
    const xml = next.toXml();
    expect(xml.indexOf('value="Poly.*"')).toBeLessThan(xml.indexOf('name="include_headset"'));
  });

  it('removes a setting with null, back to its default', () => {
    const next = base.with({ 'policy.endpoint.rtp_port_min': null, 'policy.endpoint.rtp_port_max': null, 'policy.nothere.x': null });
    expect(next.get('policy.endpoint.rtp_port_min')).toBe(9000);
    expect(next.get('policy.endpoint.rtp_port_max')).toBe(9999);
    expect(next.has('policy.endpoint.rtp_port_min')).toBe(false);
  });

  it('sets Connectivity attributes with user:N, server:N, protocol:N and transport:N', () => {
    const next = base.with({ 'server:0': '10.0.0.9:5070', 'protocol:0': 'tcp', 'user:2': '6000', 'server.2': 'sip.example.org', 'transport:2': 'TLS' });
    expect(next.connectivities.map((c) => [c.index, c.user, c.host, c.port, c.protocol])).toEqual([
      [0, '5320', '10.0.0.9', 5070, 'TCP'],
      [1, '5320', 'sipserver-dr.example.com', undefined, 'TCP'],
      [2, '6000', 'sip.example.org', undefined, 'TLS'],
    ]);
  });

  it('creates the Basic container when the file has none', () => {
    const next = parseConfig('<S><Container name="Genesys"/></S>').with({ 'user:0': '100', 'server:0': 'h' });
    expect(next.connectivities).toHaveLength(1);
  });

  it('re-validates: an override gets the same fallbacks and errors, without a line', () => {
    const next = base.with({ 'policy.session.sip_code_when_headset_na': '900' });
    expect(next.get('policy.session.sip_code_when_headset_na')).toBe(480);
    expect(next.warnings).toContainEqual(expect.objectContaining({ key: 'policy.session.sip_code_when_headset_na', given: '900', used: '480', line: undefined }));
    expect(() => base.with({ 'policy.endpoint.rtp_port_min': '9500', 'policy.endpoint.rtp_port_max': '9400' })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID_RANGE' }),
    );
  });

  it.each([
    [{ 'server:4': 'h' }, 'cannot be set before'],
    [{ 'user:6': '1' }, 'at most 6'],
    [{ 'policy.endpoint': '1' }, 'is not a setting key'],
    [{ 'bad key': '1' }, 'is not a setting key'],
    [{ 'policy.endpoint.gui_call_lines': { nested: 1 } }, 'must be a string'],
    [{ 'policy.session.auto_answer': ['1', '0'] }, 'not repeatable'],
    [{ 'policy.endpoint.gui_call_lines': Number.NaN }, 'must be a string, number'],
  ])('refuses %j with ERR_CONFIG_INVALID_OVERRIDE', (overrides, message) => {
    let caught: unknown;
    try {
      base.with(overrides as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ code: 'ERR_CONFIG_INVALID_OVERRIDE' });
    expect((caught as Error).message).toContain(message);
  });

  it('refuses a non-object', () => {
    expect(() => base.with('policy' as never)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID_OVERRIDE' }));
  });
});
