import { networkInterfaces } from 'node:os';
import { parseConfig, resolvePublicAddress, type InterfaceAddress, type PublicAddressOptions } from '@sip-endpoint/config';
import { fakeResolver } from './support/fake-resolver';
import { configXml } from './support/xml';

const interfaces: Record<string, InterfaceAddress[]> = {
  lo: [
    { address: '127.0.0.1', family: 'IPv4', internal: true },
    { address: '::1', family: 'IPv6', internal: true },
  ],
  eth0: [
    { address: 'fe80::1', family: 'IPv6', internal: false, mac: 'aa:bb:cc:00:00:01' },
    { address: '2001:db8::5', family: 'IPv6', internal: false, mac: 'aa:bb:cc:00:00:01' },
    { address: '192.168.1.20', family: 'IPv4', internal: false, mac: 'aa:bb:cc:00:00:01' },
  ],
  'Wi-Fi': [{ address: '10.1.2.3', family: 'IPv4', internal: false, mac: 'aa:bb:cc:00:00:02' }],
  tun0: [
    { address: '169.254.10.10', family: 'IPv4', internal: false },
    { address: '172.16.5.5', family: 'IPv4', internal: false },
  ],
};

const resolver = fakeResolver({
  a: { agent7: ['192.168.1.20'], 'agent7.corp.example.com': ['192.168.1.20'], 'epsipwin2.us.example.com': ['10.1.2.3'] },
  aaaa: { 'v6only.example.com': ['2001:db8::5'] },
});

const options: PublicAddressOptions = {
  interfaces,
  descriptions: { tun0: 'Cisco AnyConnect VPN Adapter' },
  hostname: 'agent7',
  fqdn: 'agent7.corp.example.com',
  resolver,
};

function resolve(publicAddress: string, ipVersions = 'IPv4', extra: PublicAddressOptions = {}) {
  const config = parseConfig(configXml({ policy: { endpoint: { public_address: publicAddress, ip_versions: ipVersions } } }));
  return resolvePublicAddress(config, { ...options, ...extra });
}

describe('resolvePublicAddress', () => {
  it.each([
    ['', 'IPv4', '192.168.1.20', 'eth0'],
    ['$auto', 'IPv4', '192.168.1.20', 'eth0'],
    ['$auto', 'IPv6', '2001:db8::5', 'eth0'],
    ['$auto', 'IPv6,IPv4', '2001:db8::5', 'eth0'],
    ['$auto', '', '192.168.1.20', 'eth0'],
    ['$ipv4', 'IPv6', '192.168.1.20', 'eth0'],
    ['$ipv6', 'IPv4', '2001:db8::5', 'eth0'],
    ['$net:10.0.0.0/8', 'IPv4', '10.1.2.3', 'Wi-Fi'],
    ['$net:2001:db8::/32', 'IPv4', '2001:db8::5', 'eth0'],
    ['$Wi-Fi', 'IPv4', '10.1.2.3', 'Wi-Fi'],
    ['$wi', 'IPv4', '10.1.2.3', 'Wi-Fi'],
    ['$AnyConnect', 'IPv4', '172.16.5.5', 'tun0'],
    ["$(if='Wi-Fi')", 'IPv4', '10.1.2.3', 'Wi-Fi'],
    ["$(if!='eth0')", 'IPv4', '10.1.2.3', 'Wi-Fi'],
    ["$(if!='eth0',if!='Wi-Fi')", 'IPv4', '172.16.5.5', 'tun0'],
    ["$(net='172.16.0.0/12')", 'IPv4', '172.16.5.5', 'tun0'],
    ["$(net!='192.168.1.0/24')", 'IPv4', '10.1.2.3', 'Wi-Fi'],
    ["$(if='eth0',net='10.0.0.0/8')", 'IPv4', '192.168.1.20', 'eth0'],
    ["$(if='VPN', net!='10.0.0.0/8')", 'IPv4', '172.16.5.5', 'tun0'],
    ['$lo', 'IPv4', '127.0.0.1', 'lo'],
  ])('%s with ip_versions %s picks %s on %s', async (publicAddress, ipVersions, address, interfaceName) => {
    const resolved = await resolve(publicAddress, ipVersions);
    expect(resolved).toMatchObject({ address, interfaceName, contactHost: address, loopbackFallback: false });
  });

  it('gives the interface MAC for include_mac_address', async () => {
    expect((await resolve('$auto')).mac).toBe('aa:bb:cc:00:00:01');
  });

  it('uses an explicit IP as is, whatever ip_versions says', async () => {
    expect(await resolve('FE80::0202:B3FF:FE1E:8329', 'IPv4')).toMatchObject({ address: 'FE80::0202:B3FF:FE1E:8329', family: 'IPv6', contactHost: 'FE80::0202:B3FF:FE1E:8329' });
    expect(await resolve('192.168.1.20')).toMatchObject({ address: '192.168.1.20', interfaceName: 'eth0' });
  });

  it('puts an explicit host name in Contact and its address in SDP', async () => {
    expect(await resolve('epsipwin2.us.example.com')).toMatchObject({ address: '10.1.2.3', contactHost: 'epsipwin2.us.example.com', interfaceName: 'Wi-Fi' });
    expect(await resolve('v6only.example.com', 'IPv4,IPv6')).toMatchObject({ address: '2001:db8::5', family: 'IPv6' });
  });

  it('$fqdn puts the FQDN in Contact; $host puts the resolved address', async () => {
    expect(await resolve('$fqdn')).toMatchObject({ address: '192.168.1.20', contactHost: 'agent7.corp.example.com' });
    expect(await resolve('$host')).toMatchObject({ address: '192.168.1.20', contactHost: '192.168.1.20' });
  });

  it('$fqdn without a given FQDN finds one by reverse lookup', async () => {
    const config = parseConfig(configXml({ policy: { endpoint: { public_address: '$fqdn' } } }));
    const withReverse = { ...resolver, reverse: async () => ['agent7.corp.example.com'] };
    const resolved = await resolvePublicAddress(config, { interfaces, hostname: 'agent7', resolver: withReverse });
    expect(resolved.contactHost).toBe('agent7.corp.example.com');
  });

  it('falls back to loopback, and says so, when the machine has no other address', async () => {
    expect(await resolve('$auto', 'IPv4', { interfaces: { lo: interfaces['lo'] ?? [] } })).toMatchObject({ address: '127.0.0.1', loopbackFallback: true });
  });

  it.each(['$net:10.99.0.0/16', '$Bluetooth', "$(if='Bluetooth')", "$(if!='eth0',if!='Wi-Fi',if!='tun0',if!='lo')", 'nowhere.example.com'])(
    '%s is ERR_CONFIG_ADDRESS_UNAVAILABLE while nothing qualifies',
    async (publicAddress) => {
      await expect(resolve(publicAddress)).rejects.toMatchObject({ code: 'ERR_CONFIG_ADDRESS_UNAVAILABLE', key: 'policy.endpoint.public_address' });
    },
  );

  it.each(['$net:10.0.0.0/33', '$net:nonsense', "$(if='Wi-Fi'", '$(foo=1)', 'bad host!', '$'])('refuses the malformed form %s when reading the file', (publicAddress) => {
    expect(() => parseConfig(configXml({ policy: { endpoint: { public_address: publicAddress } } }))).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID_SETTING', key: 'policy.endpoint.public_address' }),
    );
  });

  it('works on this machine without injected interfaces', async () => {
    const real = await resolvePublicAddress(parseConfig(configXml({ policy: { endpoint: { public_address: '$net:127.0.0.0/8' } } })));
    expect(real.address).toBe('127.0.0.1');
    const auto = await resolvePublicAddress(parseConfig(configXml({})));
    const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []).map((entry) => entry.address);
    expect(all).toContain(auto.address);
  });
});
