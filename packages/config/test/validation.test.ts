import { ConfigError, parseConfig, type EndpointConfig } from '@sip-endpoint/config';
import { configXml, oneSetting } from './support/xml';

function endpoint(settings: Record<string, string | string[]>): EndpointConfig {
  return parseConfig(configXml({ policy: { endpoint: settings } }));
}

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('RTP and SIP port ranges', () => {
  it.each([
    ['rtp', {}, 9000, 9999],
    ['rtp', { rtp_port_min: '12000' }, 12000, 12999],
    ['rtp', { rtp_port_min: '65000' }, 65000, 65535],
    ['rtp', { rtp_port_min: 'abc', rtp_port_max: '9500' }, 9000, 9500],
    ['rtp', { rtp_port_min: '0' }, 9000, 9999],
    ['rtp', { rtp_port_min: '10000', rtp_port_max: '70000' }, 10000, 10999],
    ['rtp', { rtp_port_min: '10000', rtp_port_max: '' }, 10000, 10999],
    ['sip', {}, 5060, 5066],
    ['sip', { sip_port_min: '5070' }, 5070, 5076],
    ['sip', { sip_port_min: '-5', sip_port_max: 'x' }, 5060, 5066],
    ['sip', { sip_port_min: '5080', sip_port_max: '5080' }, 5080, 5080],
  ])('%s ports %j give %i..%i', (kind, settings, min, max) => {
    const config = endpoint(settings as Record<string, string>);
    expect(config.get(`policy.endpoint.${kind}_port_min` as 'policy.endpoint.rtp_port_min')).toBe(min);
    expect(config.get(`policy.endpoint.${kind}_port_max` as 'policy.endpoint.rtp_port_max')).toBe(max);
  });

  it('reports a fallback for an invalid maximum with the derived value used', () => {
    const config = endpoint({ rtp_port_min: '10000', rtp_port_max: '70000' });
    expect(config.warnings).toContainEqual(expect.objectContaining({ kind: 'fallback', key: 'policy.endpoint.rtp_port_max', given: '70000', used: '10999' }));
  });

  it.each(['rtp', 'sip'])('a %s minimum above the maximum fails initialisation with ERR_CONFIG_INVALID_RANGE', (kind) => {
    const error = thrown(() => endpoint({ [`${kind}_port_min`]: '20000', [`${kind}_port_max`]: '10000' }));
    expect(error.code).toBe('ERR_CONFIG_INVALID_RANGE');
    expect(error.key).toBe(`policy.endpoint.${kind}_port_max`);
    expect(error.line).toBeGreaterThan(0);
  });

  it('a default minimum above a given maximum is also a range error', () => {
    expect(thrown(() => endpoint({ rtp_port_max: '5000' })).code).toBe('ERR_CONFIG_INVALID_RANGE');
  });
});

describe('TCP client port range', () => {
  it('0 (the default) means ephemeral ports', () => {
    const config = endpoint({});
    expect([config.get('policy.endpoint.tcp_port_min'), config.get('policy.endpoint.tcp_port_max')]).toEqual([0, 0]);
    expect(config.warnings).toEqual([]);
  });

  it('keeps a valid range', () => {
    const config = endpoint({ tcp_port_min: '40000', tcp_port_max: '40100' });
    expect([config.get('policy.endpoint.tcp_port_min'), config.get('policy.endpoint.tcp_port_max')]).toEqual([40000, 40100]);
  });

  it.each([
    [{ tcp_port_min: '40000' }],
    [{ tcp_port_min: '40000', tcp_port_max: '30000' }],
    [{ tcp_port_min: '0', tcp_port_max: '30000' }],
    [{ tcp_port_min: '40000', tcp_port_max: '40000' }],
  ])('an invalid range %j falls back to ephemeral ports with a warning', (settings) => {
    const config = endpoint(settings);
    expect([config.get('policy.endpoint.tcp_port_min'), config.get('policy.endpoint.tcp_port_max')]).toEqual([0, 0]);
    expect(config.warnings.map((w) => w.kind)).toEqual(['fallback']);
  });
});

describe('gui_tabs and gui_call_lines', () => {
  it.each([
    ['status,calls,devices', ['status', 'calls', 'devices']],
    ['dev,stat', ['devices', 'status']],
    ['calls,call,CALLS,devices', ['calls', 'devices']],
    ['Status,Calls', ['status']],
    ['nonsense', ['status']],
  ])('gui_tabs "%s" gives %j', (text, tabs) => {
    expect(endpoint({ gui_tabs: text }).get('policy.endpoint.gui_tabs')).toEqual(tabs);
  });

  it('notes every ignored tab name', () => {
    const config = endpoint({ gui_tabs: 'calls,bogus,call' });
    expect(config.warnings.map((w) => w.message)).toEqual([
      'policy.endpoint.gui_tabs: unknown tab name "bogus" ignored',
      'policy.endpoint.gui_tabs: repeated tab name "call" ignored',
    ]);
  });

  it.each([['1', 1], ['7', 7], ['0', 3], ['8', 3], ['two', 3]])('gui_call_lines %s gives %i', (text, lines) => {
    expect(endpoint({ gui_call_lines: text }).get('policy.endpoint.gui_call_lines')).toBe(lines);
  });
});

describe('numeric ranges of the specification', () => {
  it.each([
    ['policy.session.sip_code_when_headset_na', '486', 486],
    ['policy.session.sip_code_when_headset_na', '399', 480],
    ['policy.session.sip_code_when_headset_na', '700', 480],
    ['policy.session.sip_code_when_headset_na', 'busy', 480],
    ['policy.endpoint.rtp_inactivity_timeout', '5', 5],
    ['policy.endpoint.rtp_inactivity_timeout', '4', 150],
    ['policy.endpoint.rtp_inactivity_timeout', '151', 150],
    ['policy.endpoint.vq_alarm_threshold', '0', 0],
    ['policy.endpoint.vq_alarm_threshold', '1.0', 1],
    ['policy.endpoint.vq_alarm_threshold', '4.25', 4.25],
    ['policy.endpoint.vq_alarm_threshold', '0.9', 0],
    ['policy.endpoint.vq_alarm_threshold', '5.1', 0],
    ['policy.endpoint.sip_transaction_timeout', '1', 1],
    ['policy.endpoint.sip_transaction_timeout', '0', 32000],
    ['policy.endpoint.sip_transaction_timeout', '32001', 32000],
    ['proxies.proxy0.reg_timeout', '', 0],
    ['proxies.proxy0.reg_timeout', 'abc', 0],
    ['proxies.proxy0.reg_timeout', '1800', 1800],
    ['proxies.proxy0.reg_interval', '-5', 0],
    ['proxies.proxy0.reg_interval', '', 0],
    ['proxies.proxy0.reg_interval', '30', 30],
    ['policy.session.ringing_timeout', '', 0],
  ] as const)('%s = "%s" gives %p', (key, text, value) => {
    expect(parseConfig(oneSetting(key, text)).get(key)).toBe(value);
  });

  it('an empty reg_timeout is stand-alone silently, a non-numeric one with a warning', () => {
    expect(parseConfig(oneSetting('proxies.proxy0.reg_timeout', '')).warnings).toEqual([]);
    expect(parseConfig(oneSetting('proxies.proxy0.reg_timeout', 'abc')).warnings).toEqual([
      expect.objectContaining({ kind: 'fallback', key: 'proxies.proxy0.reg_timeout', given: 'abc', used: '0' }),
    ]);
  });
});

describe('log_segment and log_expire grammars', () => {
  it.each([
    ['false', false],
    ['10 MB', { kind: 'size', kilobytes: 10240 }],
    ['10MB', { kind: 'size', kilobytes: 10240 }],
    ['512', { kind: 'size', kilobytes: 512 }],
    ['512 KB', { kind: 'size', kilobytes: 512 }],
    ['3 hr', { kind: 'time', hours: 3 }],
    ['10 GB', { kind: 'size', kilobytes: 10240 }],
    ['0 MB', { kind: 'size', kilobytes: 10240 }],
  ])('log_segment "%s" gives %j', (text, value) => {
    expect(parseConfig(oneSetting('system.diagnostics.log_segment', text)).get('system.diagnostics.log_segment')).toEqual(value);
  });

  it.each([
    ['false', false],
    ['10', { kind: 'files', count: 10 }],
    ['10 file', { kind: 'files', count: 10 }],
    ['1000 file', { kind: 'files', count: 1000 }],
    ['7 day', { kind: 'days', count: 7 }],
    ['100 day', { kind: 'days', count: 100 }],
    ['1001 file', { kind: 'files', count: 10 }],
    ['101 day', { kind: 'files', count: 10 }],
    ['3 weeks', { kind: 'files', count: 10 }],
  ])('log_expire "%s" gives %j', (text, value) => {
    expect(parseConfig(oneSetting('system.diagnostics.log_expire', text)).get('system.diagnostics.log_expire')).toEqual(value);
  });
});

describe('use_srtp', () => {
  it.each([
    ['optional', 'optional', false],
    ['allowed', 'optional', false],
    ['disabled', 'disabled', false],
    ['off', 'disabled', false],
    ['elective', 'elective', false],
    ['both', 'elective', false],
    ['enabled', 'enabled', false],
    ['force', 'mandatory', false],
    ['mandatory', 'mandatory', false],
    ['enabled,UEC', 'enabled', true],
    ['force, UNENCRYPTED_SRTCP', 'mandatory', true],
    ['Elective,uec', 'elective', true],
  ])('"%s" is mode %s, unencrypted SRTCP %p', (text, mode, unencryptedSrtcp) => {
    expect(parseConfig(oneSetting('system.security.use_srtp', text)).get('system.security.use_srtp')).toEqual({ mode, unencryptedSrtcp });
  });

  it.each(['secure', 'enabled,XYZ', ''])('"%s" falls back to disabled', (text) => {
    expect(parseConfig(oneSetting('system.security.use_srtp', text)).get('system.security.use_srtp')).toEqual({ mode: 'disabled', unencryptedSrtcp: false });
  });
});

describe('ip_versions', () => {
  it.each([
    ['IPv4', ['IPv4']],
    ['IPv6', ['IPv6']],
    ['IPv4,IPv6', ['IPv4', 'IPv6']],
    ['ipv6, ipv4', ['IPv6', 'IPv4']],
    ['', ['IPv4', 'IPv6']],
    ['IPv4,IPv4', ['IPv4']],
  ])('"%s" gives %j', (text, families) => {
    expect(endpoint({ ip_versions: text }).get('policy.endpoint.ip_versions')).toEqual(families);
  });
});

describe('the connector', () => {
  function connector(settings: Record<string, string>): EndpointConfig {
    return parseConfig(configXml({ policy: { connector: settings } }));
  }

  it('is off without a port', () => {
    expect(connector({}).get('policy.connector.port')).toBeNull();
  });

  it('a port without protocol means http', () => {
    expect(connector({ port: '8654' }).get('policy.connector.protocol')).toBe('http');
  });

  it('a protocol without port is an error', () => {
    expect(thrown(() => connector({ protocol: 'https' }))).toMatchObject({ code: 'ERR_CONFIG_INVALID_SETTING', key: 'policy.connector.port' });
  });
});

describe('repeated settings and headset lists', () => {
  it('a repeatable setting keeps its valid values in order and drops invalid ones with a warning', () => {
    const config = parseConfig(configXml({ policy: { device: { exclude_headset: '(', headset_name: ['Jabra', '', 'Plantronics.*'] } } }));
    expect(config.get('policy.device.headset_name')).toEqual(['Jabra', '', 'Plantronics.*']);
    expect(config.get('policy.device.exclude_headset')).toBe('');
    expect(config.warnings.map((w) => w.key)).toEqual(['policy.device.exclude_headset']);
  });

  it('a single setting written twice uses the last value and says so', () => {
    const config = parseConfig(configXml({ policy: { session: { auto_answer: ['0', '1'] } } }));
    expect(config.get('policy.session.auto_answer')).toBe(true);
    expect(config.warnings).toEqual([expect.objectContaining({ kind: 'ignored', key: 'policy.session.auto_answer', given: '0' })]);
  });

  it.each([
    ['External Mic:Headphones', [{ input: 'External Mic', output: 'Headphones' }]],
    ['A:B, C:D', [{ input: 'A', output: 'B' }, { input: 'C', output: 'D' }]],
    [`"Mic, USB":'Speaker: 2'`, [{ input: 'Mic, USB', output: 'Speaker: 2' }]],
    [`'He said "hi"':Out`, [{ input: 'He said "hi"', output: 'Out' }]],
    ['NoColon, A:B', [{ input: 'A', output: 'B' }]],
    ['', []],
  ])('include_headset %s', (text, pairs) => {
    expect(parseConfig(oneSetting('policy.device.include_headset', text)).get('policy.device.include_headset')).toEqual(pairs);
  });

  it('accepts the deprecated spelling reg_match_received_number', () => {
    const config = parseConfig(oneSetting('proxies.proxy2.reg_match_received_number', '1'));
    expect(config.get('proxies.proxy2.reg_match_received_rport')).toBe(true);
    expect(config.warnings).toEqual([]);
  });
});

describe('connectivity errors', () => {
  function basic(connectivity: string): EndpointConfig {
    return parseConfig(`<S><Container name="Basic">\n${connectivity}</Container></S>`);
  }

  it.each([
    ['<Connectivity user="1" server="h:99999"/>', 'Connectivity[0].server'],
    ['<Connectivity user="1" server="bad host"/>', 'Connectivity[0].server'],
    ['<Connectivity user="1" server="h" protocol="SCTP"/>', 'Connectivity[0].protocol'],
    ['<Connectivity user="" server="h"/>', 'Connectivity[0].user'],
    ['<Connectivity user="1"/>', 'Connectivity[0].server'],
  ])('%s is ERR_CONFIG_INVALID_CONNECTIVITY on %s', (xml, key) => {
    expect(thrown(() => basic(xml))).toMatchObject({ code: 'ERR_CONFIG_INVALID_CONNECTIVITY', key, line: 2 });
  });

  it('ignores an empty line and lines past the sixth, with warnings', () => {
    const lines = Array.from({ length: 8 }, (_, i) => `<Connectivity user="${i}" server="h${i}"/>`);
    lines.splice(1, 0, '<Connectivity user="" server=""/>');
    const config = basic(lines.join('\n'));
    expect(config.connectivities.map((c) => c.user)).toEqual(['0', '1', '2', '3', '4']);
    expect(config.warnings.map((w) => w.key)).toEqual(['Connectivity[1]', 'Connectivity[6]', 'Connectivity[7]', 'Connectivity[8]']);
  });
});

describe('get()', () => {
  it('throws ERR_CONFIG_UNKNOWN_SETTING for a key outside the table', () => {
    expect(thrown(() => parseConfig(configXml({})).get('policy.endpoint.nope' as 'policy.endpoint.gui_tabs'))).toMatchObject({ code: 'ERR_CONFIG_UNKNOWN_SETTING' });
  });

  it('accepts colons for dots', () => {
    expect(endpoint({ gui_call_lines: '6' }).get('policy:endpoint:gui_call_lines' as 'policy.endpoint.gui_call_lines')).toBe(6);
  });

  it('returns frozen values', () => {
    const tabs = endpoint({}).get('policy.endpoint.gui_tabs');
    expect(Object.isFrozen(tabs)).toBe(true);
  });
});
