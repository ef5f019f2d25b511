import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, EndpointConfig, loadConfig, parseConfig, serializeConfig } from '@sip-endpoint/config';
import { fixture } from './support/xml';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('the namespaced layout (SipEndpoint root, settings wrapper with xmlns)', () => {
  const config = parseConfig(fixture('namespaced.config'));

  it('reads the Basic container connectivities', () => {
    expect(config.connectivities).toEqual([
      { index: 0, user: '5320', server: 'sipserver.example.com:5060', host: 'sipserver.example.com', port: 5060, protocol: 'UDP', path: undefined, line: 5 },
      { index: 1, user: '5320', server: 'sipserver-dr.example.com', host: 'sipserver-dr.example.com', port: undefined, protocol: 'TCP', path: undefined, line: 6 },
    ]);
  });

  it('reads settings of every domain, typed', () => {
    expect(config.get('policy.endpoint.rtp_port_min')).toBe(8000);
    expect(config.get('policy.endpoint.rtp_port_max')).toBe(9000);
    expect(config.get('policy.endpoint.ip_versions')).toEqual(['IPv4', 'IPv6']);
    expect(config.get('policy.endpoint.vq_alarm_threshold')).toBe(3.5);
    expect(config.get('policy.session.dtmf_method')).toBe('Rfc2833');
    expect(config.get('policy.session.ringing_enabled')).toBe(3);
    expect(config.get('policy.session.ringing_timeout')).toBe(0);
    expect(config.get('policy.device.use_headset')).toBe(true);
    expect(config.get('policy.device.include_headset')).toEqual([{ input: 'External Mic', output: 'Headphones' }]);
    expect(config.get('system.diagnostics.log_segment')).toEqual({ kind: 'size', kilobytes: 5 * 1024 });
    expect(config.get('system.diagnostics.log_expire')).toEqual({ kind: 'days', count: 7 });
    expect(config.get('system.security.use_srtp')).toEqual({ mode: 'enabled', unencryptedSrtcp: true });
    expect(config.get('system.security.tls-target-name-check')).toBe('host');
  });

  it('keeps every value of a repeated setting in file order', () => {
    expect(config.get('policy.device.headset_name')).toEqual(['Plantronics', 'Jabra.*', '*']);
  });

  it('reads nested sections (proxies.proxy0.nat, proxies.proxy0.mailbox)', () => {
    expect(config.get('proxies.proxy0.nat.stun_server')).toBe('stun.example.com');
    expect(config.get('proxies.proxy0.nat.turn_relay_type')).toBe(0);
    expect(config.get('proxies.proxy0.mailbox.timeout')).toBe(1800);
    expect(config.get('proxies.proxy0.mailbox.server')).toBe('sipserver.example.com:5060');
    expect(config.section('proxies.proxy0')).toMatchObject({ reg_timeout: 1800, reg_interval: 30, password: 'secret&1', display_name: 'Agent 5320' });
    expect(config.get('proxies.proxy1.reg_match_received_rport')).toBe(true);
  });

  it('turns policy.codecs priorities into an ordered list, higher first, video left out', () => {
    expect(config.codecs.map((codec) => codec.name)).toEqual(['PCMU/8000', 'PCMA/8000', 'iSAC/16000', 'iSAC/32000', 'iLBC/8000', 'G722/16000']);
    expect(config.codecs.map((codec) => codec.priority)).toEqual([7, 6, 5, 4, 3, 2]);
  });

  it('keeps settings it does not know and says so', () => {
    expect(config.raw('policy.endpoint.signaling_qos')).toEqual(['0']);
    expect(config.raw('system.security.cert_file')).toEqual(['0123456789abcdef']);
    expect(config.warnings.filter((w) => w.kind === 'unknown-setting').map((w) => w.key)).toEqual([
      'policy.endpoint.signaling_qos',
      'system.security.cert_file',
    ]);
  });
});

describe('the plain layout (no namespaces, codecs domain, name ="x" spacing, six lines)', () => {
  const config = parseConfig(fixture('plain.config'));

  it('reads six connectivities with bracketed IPv6, SRV names, the transport synonym and the UDP default', () => {
    expect(config.connectivities.map((c) => [c.user, c.host, c.port, c.protocol])).toEqual([
      ['7001', '10.10.0.1', 5060, 'UDP'],
      ['7001', '10.10.0.2', 5060, 'UDP'],
      ['7001', '2001:db8::10', 5070, 'TCP'],
      ['7001', 'sbc.example.com', undefined, 'TLS'],
      ['7002', '10.10.0.3', undefined, 'TCP'],
      ['7003', '10.10.0.4', 5062, 'UDP'],
    ]);
  });

  it('reads settings whose attributes have spaces before the equals sign', () => {
    expect(config.get('policy.endpoint.rtp_port_min')).toBe(20000);
    expect(config.get('policy.endpoint.rtp_port_max')).toBe(20999);
    expect(config.get('policy.endpoint.gui_tabs')).toEqual(['calls', 'devices']);
    expect(config.get('policy.connector.port')).toBe(8654);
    expect(config.get('policy.connector.allowed_origin_headers')).toEqual(['*.genesyscloud.com', 'gwa-use1.genesyscloud.com']);
    expect(config.get('policy.device.audio_in_device')).toEqual(['USB Audio.*', 'Microphone Array']);
    expect(config.get('policy.session.answer_sdp_priority')).toBe('remote');
    expect(config.get('proxies.proxy0.domain')).toBe('example.com');
    expect(config.get('proxies.proxy3.reg_timeout')).toBe(0);
  });

  it('reads the codecs domain: enabled.audio order with per-codec payload types and fmtp', () => {
    expect(config.codecs.map((codec) => [codec.name, codec.payloadType, codec.fmtp])).toEqual([
      ['opus/48000/2', 111, 'minptime=10;useinbandfec=1'],
      ['G722/16000', 9, ''],
      ['PCMU/8000', undefined, ''],
      ['PCMA/8000', undefined, ''],
      ['telephone-event/8000', undefined, ''],
    ]);
  });

  it('has no warnings', () => {
    expect(config.warnings).toEqual([]);
  });
});

describe('round trip', () => {
  it.each(['namespaced.config', 'plain.config'])('parse(serialize(c)) equals c for %s', (name) => {
    const config = parseConfig(fixture(name));
    const again = parseConfig(serializeConfig(config));
    expect(again.document()).toEqual(config.document());
    expect(again.equals(config)).toBe(true);
    expect(again.toObject()).toEqual(config.toObject());
    expect(again.warnings.map((w) => w.message)).toEqual(config.warnings.map((w) => w.message));
  });

  it('keeps the root element, namespaces and wrapper attributes', () => {
    const xml = serializeConfig(parseConfig(fixture('namespaced.config')));
    expect(xml).toContain('<SipEndpoint xmlns="http://schemas.genesyslab.com/2009/sipendpoint">');
    expect(xml).toContain('<settings version="1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://www.genesyslab.com/sip">');
    expect(xml).toContain('<setting name="password" value="secret&amp;1"/>');
  });

  it('keeps unknown elements, unknown attributes and unknown containers', () => {
    const xml = `<SipEndpoint a="1"><Container name="Basic"><Connectivity user="1" server="h:5060" protocol="udp" extra="x"/><Note>hi</Note></Container>
      <Container name="Genesys"><settings><domain name="policy"><section name="endpoint" flavour="z"><setting name="gui_call_lines" value="4" comment="c"/><unknown k="v"/></section></domain></settings></Container>
      <Container name="Custom"><thing/></Container></SipEndpoint>`;
    const config = parseConfig(xml);
    const again = parseConfig(serializeConfig(config));
    expect(again.equals(config)).toBe(true);
    const out = serializeConfig(again);
    for (const part of ['extra="x"', '<Note>hi</Note>', 'flavour="z"', 'comment="c"', '<unknown k="v"', '<Container name="Custom">']) expect(out).toContain(part);
  });

  it('a configuration changed by with() round-trips too', () => {
    const changed = parseConfig(fixture('plain.config')).with({ 'policy.session.auto_answer': '0', 'proxies.proxy5.nat.ice_enabled': '1', 'user:0': '9999' });
    expect(parseConfig(serializeConfig(changed)).equals(changed)).toBe(true);
  });

  it('equals() tells different configurations apart', () => {
    const config = parseConfig(fixture('plain.config'));
    expect(config.with({ 'policy.endpoint.gui_call_lines': '6' }).equals(config)).toBe(false);
  });
});

describe('malformed and unusable XML', () => {
  it('reports malformed XML as ERR_CONFIG_MALFORMED_XML with line and column', () => {
    const error = configError(() => parseConfig('<SipEndpoint>\n  <Container name="Basic">\n  </Contain>\n</SipEndpoint>'));
    expect(error.code).toBe('ERR_CONFIG_MALFORMED_XML');
    expect(error.line).toBe(3);
    expect(error.column).toBeGreaterThan(0);
    expect(error.message).toMatch(/line 3/);
  });

  it.each([
    ['empty text', ''],
    ['text only', 'hello'],
    ['an unclosed attribute', '<a b="1></a>'],
    ['two roots', '<a/><b/>'],
    // fast-xml-parser's validator passes it and its parser throws a plain Error (found by the fuzzer).
    ['a declaration cut short by another', '<?xml version="1.0" encoding="utf-8<?xml version="1.0" encoding="utf-8"?>\n<SipEndpoint>\n  <Container name="Basic"/>\n</SipEndpoint>'],
  ])('reports %s as ERR_CONFIG_MALFORMED_XML', (_name, xml) => {
    expect(configError(() => parseConfig(xml)).code).toBe('ERR_CONFIG_MALFORMED_XML');
  });

  it('rejects a non-string input with a ConfigError, not a crash', () => {
    expect(configError(() => parseConfig(undefined as unknown as string)).code).toBe('ERR_CONFIG_MALFORMED_XML');
  });

  it('reports a document with no Basic or Genesys container as ERR_CONFIG_INVALID_LAYOUT', () => {
    expect(configError(() => parseConfig('<html><body/></html>')).code).toBe('ERR_CONFIG_INVALID_LAYOUT');
  });

  it('reports a setting without a name with its line', () => {
    const error = configError(() => parseConfig('<S><Container name="Genesys">\n<domain name="policy"><section name="endpoint">\n<setting value="1"/></section></domain></Container></S>'));
    expect(error.code).toBe('ERR_CONFIG_INVALID_LAYOUT');
    expect(error.line).toBe(3);
  });

  it('accepts a file with only a Genesys container (no connectivity) and one with only a Basic container', () => {
    expect(parseConfig('<S><Container name="Genesys"/></S>').connectivities).toEqual([]);
    expect(parseConfig('<S><Container name="Basic"><Connectivity user="1" server="h"/></Container></S>').get('policy.endpoint.sip_port_min')).toBe(5060);
  });

  it('strips a byte-order mark', () => {
    expect(parseConfig('\uFEFF<S><Container name="Genesys"/></S>').warnings).toEqual([]);
  });
});

describe('loadConfig', () => {
  it('reads a file from disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sep-config-'));
    const path = join(dir, 'Softphone.config');
    await writeFile(path, fixture('plain.config'));
    const config = await loadConfig(path);
    expect(config).toBeInstanceOf(EndpointConfig);
    expect(config.connectivities).toHaveLength(6);
  });

  it('rejects with ERR_CONFIG_READ when the file is missing', async () => {
    await expect(loadConfig('/nonexistent/Softphone.config')).rejects.toMatchObject({ code: 'ERR_CONFIG_READ' });
  });
});
