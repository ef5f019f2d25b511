import { formatPublicAddress, parsePublicAddress, type PublicAddressSpec } from '../src/public-address-spec';

// public_address's grammar, each form to its spec or its reason, and each spec back to text.
// (What the specs resolve to on a machine is public-address.test.ts.)

/** A spec with its subnets as text, for comparing. */
function plain(spec: PublicAddressSpec): unknown {
  return JSON.parse(JSON.stringify(spec)) as unknown;
}

describe('public_address forms', () => {
  it.each([
    ['', { kind: 'auto' }],
    ['  ', { kind: 'auto' }],
    ['$auto', { kind: 'auto' }],
    [' $AUTO ', { kind: 'auto' }],
    ['$IPv4', { kind: 'family', family: 'IPv4' }],
    ['$ipv6', { kind: 'family', family: 'IPv6' }],
    ['$Host', { kind: 'host' }],
    ['$FQDN', { kind: 'fqdn' }],
    ['$net:10.0.0.0/8', { kind: 'net', cidr: '10.0.0.0/8' }],
    ['$NET:fd00::/8', { kind: 'net', cidr: 'fd00::/8' }],
    ['$eth0', { kind: 'adapter', name: 'eth0' }],
    ['$Intel(R) Ethernet', { kind: 'adapter', name: 'Intel(R) Ethernet' }],
    ['192.0.2.10', { kind: 'ip', address: '192.0.2.10', family: 'IPv4' }],
    ['2001:db8::10', { kind: 'ip', address: '2001:db8::10', family: 'IPv6' }],
    ['[2001:db8::10]', { kind: 'ip', address: '2001:db8::10', family: 'IPv6' }],
    ['agent-7.example.com', { kind: 'hostname', name: 'agent-7.example.com' }],
    ['agent.', { kind: 'hostname', name: 'agent.' }],
  ] as const)('%j', (text, spec) => {
    const result = parsePublicAddress(text);
    expect(result.ok).toBe(true);
    expect(result.ok && plain(result.value)).toEqual(spec);
  });

  it('reads rule lists: quoted or bare values, any case, blanks and empty items skipped', () => {
    const result = parsePublicAddress(`$( if = 'Wi-Fi, 2' , IF!="vbox" ,, net=192.168.0.0/16, NET!= '10.0.0.0/8' , if=eth0 )`);
    expect(result.ok && plain(result.value)).toEqual({
      kind: 'rules',
      rules: [
        { type: 'if', name: 'Wi-Fi, 2' },
        { type: 'if!=', name: 'vbox' },
        { type: 'net', cidr: '192.168.0.0/16' },
        { type: 'net!=', cidr: '10.0.0.0/8' },
        { type: 'if', name: 'eth0' },
      ],
    });
  });

  it.each([
    ['$net:10.0.0.0', '"10.0.0.0" is not a CIDR subnet'],
    ['$net:', '"" is not a CIDR subnet'],
    ['$(if=eth0', 'the rule list has no closing parenthesis'],
    ['$()', 'the rule list is empty'],
    ['$( , )', 'the rule list is empty'],
    ['$(ip=1.2.3.4)', '"ip=1.2.3.4" is not if=, if!=, net= or net!='],
    ['$(if=eth0, eth1)', '"eth1" is not if=, if!=, net= or net!='],
    ['$(if=)', 'rule "if=" names no interface'],
    ["$(if!='')", `rule "if!=''" names no interface`],
    ['$(net=10.0.0.1)', '"10.0.0.1" is not a CIDR subnet'],
    ['$(net!=eth0)', '"eth0" is not a CIDR subnet'],
    ['$', '"$" names no adapter'],
    ['$  ', '"$" names no adapter'],
    ['not a host', '"not a host" is not an IP address, a host name or a $ form'],
    ['-bad.example', '"-bad.example" is not an IP address, a host name or a $ form'],
    ['[192.0.2.1', '"[192.0.2.1" is not an IP address, a host name or a $ form'],
  ])('refuses %j: %s', (text, reason) => {
    expect(parsePublicAddress(text)).toEqual({ ok: false, reason });
  });

  it('writes every spec back as text that reads the same', () => {
    const texts = ['$auto', '$ipv4', '$ipv6', '$host', '$fqdn', '$net:10.0.0.0/8', '$eth0', '192.0.2.10', '2001:db8::10', 'agent.example.com', `$(if='Wi-Fi',if!='vbox',net='192.168.0.0/16',net!='10.0.0.0/8')`];
    for (const text of texts) {
      const result = parsePublicAddress(text);
      if (!result.ok) throw new Error(result.reason);
      expect(formatPublicAddress(result.value)).toBe(text);
    }
  });
});
