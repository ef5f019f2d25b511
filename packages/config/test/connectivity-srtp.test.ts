import { readConnectivities } from '../src/connectivity';
import type { ConfigWarning } from '../src/errors';
import { srtpPolicyType } from '../src/srtp-policy';

// use_srtp's grammar and the Connectivity lines, each answer and message exactly.

describe('use_srtp', () => {
  it.each([
    ['optional', 'optional', false],
    [' Allowed ', 'optional', false],
    ['disabled', 'disabled', false],
    ['OFF', 'disabled', false],
    ['elective', 'elective', false],
    ['both', 'elective', false],
    ['enabled', 'enabled', false],
    ['force', 'mandatory', false],
    ['mandatory', 'mandatory', false],
    ['force,UEC', 'mandatory', true],
    ['enabled , unencrypted_srtcp', 'enabled', true],
    ['both,,uec', 'elective', true],
    [',optional', 'optional', false],
  ] as const)('%j is %s (unencrypted SRTCP %s)', (text, mode, unencryptedSrtcp) => {
    expect(srtpPolicyType.parse(text)).toEqual({ ok: true, value: { mode, unencryptedSrtcp } });
  });

  it.each([
    ['', '"" does not start with an SRTP mode'],
    ['UEC', '"UEC" does not start with an SRTP mode'],
    ['sometimes', '"sometimes" does not start with an SRTP mode'],
    ['toString', '"toString" does not start with an SRTP mode'],
    ['force,UEC,x', '"x" is not UEC or UNENCRYPTED_SRTCP'],
    ['force,encrypted', '"encrypted" is not UEC or UNENCRYPTED_SRTCP'],
  ])('refuses %j: %s', (text, reason) => {
    expect(srtpPolicyType.parse(text)).toEqual({ ok: false, reason });
  });

  it('writes the mode, and ,UEC when RTCP goes unencrypted', () => {
    expect(srtpPolicyType.format({ mode: 'mandatory', unencryptedSrtcp: true })).toBe('mandatory,UEC');
    expect(srtpPolicyType.format({ mode: 'elective', unencryptedSrtcp: false })).toBe('elective');
  });
});

describe('Connectivity lines', () => {
  const read = (...attributes: Record<string, string>[]): { lines: ReturnType<typeof readConnectivities>; warnings: ConfigWarning[] } => {
    const warnings: ConfigWarning[] = [];
    const lines = readConnectivities(attributes.map((a, i) => ({ attributes: a, line: 10 + i })), warnings);
    return { lines, warnings };
  };

  it('reads user, server and protocol (or transport), trimmed, UDP by default', () => {
    const { lines, warnings } = read({ user: ' 1001 ', server: ' sip.example.com:5061 ', protocol: ' tls ' }, { user: '1002', server: '10.0.0.1', transport: 'tcp' }, { user: '1003', server: '[2001:db8::1]:5070' });
    expect(warnings).toEqual([]);
    expect(lines).toEqual([
      { index: 0, user: '1001', server: 'sip.example.com:5061', host: 'sip.example.com', port: 5061, protocol: 'TLS', path: undefined, line: 10 },
      { index: 1, user: '1002', server: '10.0.0.1', host: '10.0.0.1', port: undefined, protocol: 'TCP', path: undefined, line: 11 },
      { index: 2, user: '1003', server: '[2001:db8::1]:5070', host: '2001:db8::1', port: 5070, protocol: 'UDP', path: undefined, line: 12 },
    ]);
  });

  it('notes and skips an empty line and those past the sixth', () => {
    const full = Array.from({ length: 7 }, (_, i) => ({ user: `10${i}`, server: 'pbx' }));
    const { lines, warnings } = read({ user: ' ', server: '' }, ...full.slice(1));
    expect(lines.map((l) => l.index)).toEqual([1, 2, 3, 4, 5]);
    expect(warnings).toEqual([
      { kind: 'ignored', key: 'Connectivity[0]', given: undefined, used: undefined, line: 10, message: 'Connectivity[0] has no user and no server and is ignored' },
      { kind: 'ignored', key: 'Connectivity[6]', given: '106@pbx', used: undefined, line: 16, message: 'Connectivity[6]: an endpoint has at most 6 connections; this one is ignored' },
    ]);
  });

  it.each([
    [{ user: '1001' }, 'Connectivity[0] has a user but no server (setting Connectivity[0].server, line 10)', 'Connectivity[0].server'],
    [{ user: '1001', server: '  ' }, 'Connectivity[0] has a user but no server (setting Connectivity[0].server, line 10)', 'Connectivity[0].server'],
    [{ server: 'pbx' }, 'Connectivity[0] has a server but no user (DN) (setting Connectivity[0].user, line 10)', 'Connectivity[0].user'],
    [{ user: '1001', server: 'pbx:0' }, 'Connectivity[0] server: port 0 is outside 1 to 65535 (setting Connectivity[0].server, line 10)', 'Connectivity[0].server'],
    [{ user: '1001', server: 'pbx', protocol: 'sctp' }, 'Connectivity[0] protocol "sctp" is not one of UDP, TCP, TLS, WS, WSS, HTTPS (setting Connectivity[0].protocol, line 10)', 'Connectivity[0].protocol'],
    [{ user: '1001', server: 'pbx', protocol: 'http' }, 'Connectivity[0] protocol "http" is not one of UDP, TCP, TLS, WS, WSS, HTTPS (setting Connectivity[0].protocol, line 10)', 'Connectivity[0].protocol'],
    [{ user: '1001', server: 'pbx/sip', protocol: 'udp' }, 'Connectivity[0] server: a path ("/sip") is only for WS, WSS and HTTPS servers (setting Connectivity[0].server, line 10)', 'Connectivity[0].server'],
    [{ user: '1001', server: 'wss://pbx/sip', protocol: 'ws' }, 'Connectivity[0] server: a wss:// URL does not fit protocol WS (it fits WSS or HTTPS) (setting Connectivity[0].server, line 10)', 'Connectivity[0].server'],
    [{ user: '1001', server: 'sip://pbx', protocol: 'https' }, 'Connectivity[0] server: "sip://" is not a WebSocket URL scheme (ws://, wss:// or https://) (setting Connectivity[0].server, line 10)', 'Connectivity[0].server'],
    [{ user: '1001', server: 'https://gw/a b', protocol: 'https' }, 'Connectivity[0] server: the path "/a b" has a space, "?" or "#" (setting Connectivity[0].server, line 10)', 'Connectivity[0].server'],
    [{ user: '1001', server: 'https://gw:99999/webrtc', protocol: 'https' }, 'Connectivity[0] server: port 99999 is outside 1 to 65535 (setting Connectivity[0].server, line 10)', 'Connectivity[0].server'],
  ])('refuses %j', (attributes, message, key) => {
    expect(() => read(attributes)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID_CONNECTIVITY', message, key, line: 10 }));
  });

  it('reads WebRTC (https) and WebSocket servers as URLs or host:port/path, the path kept', () => {
    const { lines } = read(
      { user: '1', server: 'https://gw.example.com/webrtc/sip', protocol: 'https' },
      { user: '2', server: 'WSS://[2001:db8::2]:8443', protocol: 'HTTPS' },
      { user: '3', server: '127.0.0.1:8080/ws', protocol: 'ws' },
      { user: '4', server: 'ws://pbx', protocol: 'ws' },
    );
    expect(lines.map(({ host, port, protocol, path }) => ({ host, port, protocol, path }))).toEqual([
      { host: 'gw.example.com', port: undefined, protocol: 'HTTPS', path: '/webrtc/sip' },
      { host: '2001:db8::2', port: 8443, protocol: 'HTTPS', path: undefined },
      { host: '127.0.0.1', port: 8080, protocol: 'WS', path: '/ws' },
      { host: 'pbx', port: undefined, protocol: 'WS', path: undefined },
    ]);
  });

  it('takes protocol before transport', () => {
    expect(read({ user: '1', server: 'pbx', protocol: 'wss', transport: 'udp' }).lines[0]?.protocol).toBe('WSS');
  });
});
