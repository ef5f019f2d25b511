import { parseCidr } from '../src/cidr';
import { parseHostPort } from '../src/host-port';

// The small parsers behind the Connectivity servers, resolveServer and the public_address type:
// every answer and every reason exactly, so that a wrong branch or a changed message shows.

describe('parseHostPort', () => {
  it.each([
    ['sip.example.com', { host: 'sip.example.com', port: undefined, ipVersion: 0 }],
    ['  sip.example.com:5061  ', { host: 'sip.example.com', port: 5061, ipVersion: 0 }],
    ['sip.example.com.', { host: 'sip.example.com.', port: undefined, ipVersion: 0 }],
    ['_sip-1.example:1', { host: '_sip-1.example', port: 1, ipVersion: 0 }],
    ['10.0.0.1:65535', { host: '10.0.0.1', port: 65535, ipVersion: 4 }],
    ['10.0.0.1', { host: '10.0.0.1', port: undefined, ipVersion: 4 }],
    ['[2001:db8::1]:5060', { host: '2001:db8::1', port: 5060, ipVersion: 6 }],
    ['[2001:db8::1]', { host: '2001:db8::1', port: undefined, ipVersion: 6 }],
    ['2001:db8::1', { host: '2001:db8::1', port: undefined, ipVersion: 6 }],
    ['host:00080', { host: 'host', port: 80, ipVersion: 0 }],
  ] as const)('reads %j', (text, value) => {
    expect(parseHostPort(text)).toEqual({ ok: true, value });
  });

  it.each([
    ['[2001:db8::1', '"[2001:db8::1" has no closing bracket'],
    ['[2001:db8::1]5060', '"[2001:db8::1]5060" has text after the bracket'],
    ['[10.0.0.1]:5060', '"10.0.0.1" is not an IPv6 address'],
    ['[]:5060', '"" is not an IPv6 address'],
    ['a:b:c', '"a:b:c" is not host:port'],
    [':5060', '":5060" names no host'],
    ['', '"" names no host'],
    ['bad host:5060', '"bad host" is not a host name or IP address'],
    ['-host', '"-host" is not a host name or IP address'],
    ['host:', '"" is not a port'],
    ['host:50600x', '"50600x" is not a port'],
    ['host:x5060', '"x5060" is not a port'],
    ['host:123456', '"123456" is not a port'],
    ['host:0', 'port 0 is outside 1 to 65535'],
    ['host:65536', 'port 65536 is outside 1 to 65535'],
    ['[2001:db8::1]:0', 'port 0 is outside 1 to 65535'],
    ['[2001:db8::1]:', '"" is not a port'],
  ])('refuses %j: %s', (text, reason) => {
    expect(parseHostPort(text)).toEqual({ ok: false, reason });
  });
});

describe('parseCidr', () => {
  it.each([
    ['192.168.0.0/16', 'IPv4', ['192.168.0.1', '192.168.255.255'], ['192.169.0.1', '10.0.0.1', 'fd00::1', 'not an address']],
    [' 10.1.2.3/32 ', 'IPv4', ['10.1.2.3'], ['10.1.2.4']],
    ['0.0.0.0/0', 'IPv4', ['8.8.8.8'], ['::1']],
    ['fd00::/8', 'IPv6', ['fd12::1'], ['fe80::1', '10.0.0.1']],
    ['::1/128', 'IPv6', ['::1'], ['::2']],
  ] as const)('reads %j', (text, family, inside, outside) => {
    const cidr = parseCidr(text)!;
    expect(cidr).toBeDefined();
    expect(cidr.family).toBe(family);
    expect(cidr.text).toBe(text.trim());
    expect(JSON.stringify({ subnet: cidr })).toBe(`{"subnet":${JSON.stringify(text.trim())}}`);
    for (const address of inside) expect(cidr.contains(address)).toBe(true);
    for (const address of outside) expect(cidr.contains(address)).toBe(false);
  });

  it.each(['192.168.0.0', '192.168.0.0/', '192.168.0.0/33', '::/129', 'host/8', '10.0.0.0/1234', '10.0.0.0/x', '/8'])('refuses %j', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });

  it('takes the last slash, and a prefix at the limits', () => {
    expect(parseCidr('10.0.0.0/8/8')).toBeUndefined();
    expect(parseCidr('10.0.0.0/32')?.contains('10.0.0.0')).toBe(true);
    expect(parseCidr('::/128')?.contains('::')).toBe(true);
    expect(parseCidr('10.0.0.0/ 8')?.contains('10.255.0.1')).toBe(true);
  });
});
