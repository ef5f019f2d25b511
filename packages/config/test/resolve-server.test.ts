import { MAX_SRV_TARGETS, resolveServer } from '@sip-endpoint/config';
import { fakeResolver } from './support/fake-resolver';

describe('resolveServer', () => {
  it('uses an IP literal as is, with the default port of the transport', async () => {
    expect(await resolveServer('10.0.0.1', 'UDP')).toEqual([{ host: '10.0.0.1', address: '10.0.0.1', port: 5060, family: 'IPv4', transport: 'UDP', priority: 0 }]);
    expect((await resolveServer('[2001:db8::1]:5071', 'TLS'))[0]).toMatchObject({ address: '2001:db8::1', port: 5071, family: 'IPv6' });
    expect((await resolveServer('10.0.0.1', 'TLS'))[0]?.port).toBe(5061);
  });

  it('looks a host with a port up as A/AAAA only, never SRV', async () => {
    const resolver = fakeResolver({ a: { 'sip.example.com': ['192.0.2.1', '192.0.2.2'] } });
    const targets = await resolveServer('sip.example.com:5070', 'UDP', { resolver });
    expect(targets.map((t) => `${t.address}:${t.port}`)).toEqual(['192.0.2.1:5070', '192.0.2.2:5070']);
    expect(resolver.asked).toEqual(['A sip.example.com']);
  });

  it.each([
    ['UDP', '_sip._udp.example.com'],
    ['TCP', '_sip._tcp.example.com'],
    ['TLS', '_sips._tcp.example.com'],
  ] as const)('looks a host without port up as SRV over %s (%s), ordered by priority, weight ignored', async (transport, name) => {
    const resolver = fakeResolver({
      srv: {
        [name]: [
          { name: 'b.example.com', port: 5080, priority: 20, weight: 100 },
          { name: 'a.example.com', port: 5070, priority: 10, weight: 0 },
          { name: 'c.example.com', port: 5090, priority: 20, weight: 1 },
        ],
      },
      a: { 'a.example.com': ['192.0.2.1'], 'b.example.com': ['192.0.2.2'], 'c.example.com': ['192.0.2.3'] },
    });
    const targets = await resolveServer('example.com', transport, { resolver });
    expect(targets.map((t) => [t.host, t.address, t.port, t.priority])).toEqual([
      ['a.example.com', '192.0.2.1', 5070, 10],
      ['b.example.com', '192.0.2.2', 5080, 20],
      ['c.example.com', '192.0.2.3', 5090, 20],
    ]);
  });

  it(`uses at most ${MAX_SRV_TARGETS} SRV targets`, async () => {
    const srv = Array.from({ length: 25 }, (_, i) => ({ name: `t${i}.example.com`, port: 5060, priority: i, weight: 0 }));
    const a = Object.fromEntries(srv.map((record, i) => [record.name, [`192.0.2.${i + 1}`]]));
    const targets = await resolveServer('example.com', 'UDP', { resolver: fakeResolver({ srv: { '_sip._udp.example.com': srv }, a }) });
    expect(targets).toHaveLength(20);
    expect(targets.at(-1)?.host).toBe('t19.example.com');
  });

  it('does not mix families for one name: the preferred family that resolves wins', async () => {
    const resolver = fakeResolver({ a: { dual: ['192.0.2.9'] }, aaaa: { dual: ['2001:db8::9'] } });
    expect((await resolveServer('dual:5060', 'UDP', { resolver })).map((t) => t.address)).toEqual(['192.0.2.9']);
    expect((await resolveServer('dual:5060', 'UDP', { resolver, ipVersions: ['IPv6', 'IPv4'] })).map((t) => t.address)).toEqual(['2001:db8::9']);
  });

  it('falls back to A records and the default port when there is no SRV record', async () => {
    const resolver = fakeResolver({ a: { 'sip.example.com': ['192.0.2.7'] } });
    expect(await resolveServer('sip.example.com', 'TCP', { resolver })).toEqual([
      { host: 'sip.example.com', address: '192.0.2.7', port: 5060, family: 'IPv4', transport: 'TCP', priority: 0 },
    ]);
    expect(resolver.asked).toEqual(['SRV _sip._tcp.sip.example.com', 'A sip.example.com']);
  });

  it('reports ERR_CONFIG_SERVER_UNRESOLVED when nothing resolves or DNS fails', async () => {
    await expect(resolveServer('nothing.example.com', 'UDP', { resolver: fakeResolver({}) })).rejects.toMatchObject({ code: 'ERR_CONFIG_SERVER_UNRESOLVED' });
    await expect(resolveServer('slow.example.com:5060', 'UDP', { resolver: fakeResolver({ failing: ['slow.example.com'] }) })).rejects.toMatchObject({
      code: 'ERR_CONFIG_SERVER_UNRESOLVED',
    });
  });

  it('takes a WebRTC gateway URL: its host and port (443 by default, no SRV), the path left to the transport', async () => {
    const resolver = fakeResolver({ a: { 'gw.example.com': ['192.0.2.9'] } });
    expect(await resolveServer('https://gw.example.com/webrtc', 'HTTPS', { resolver })).toEqual([{ host: 'gw.example.com', address: '192.0.2.9', port: 443, family: 'IPv4', transport: 'HTTPS', priority: 0 }]);
    expect(resolver.asked).toEqual(['A gw.example.com']);
    expect((await resolveServer('wss://10.0.0.2:8443/sip', 'WSS'))[0]).toMatchObject({ address: '10.0.0.2', port: 8443 });
  });

  it('reports a malformed server as ERR_CONFIG_INVALID_CONNECTIVITY', async () => {
    await expect(resolveServer('host:0', 'UDP')).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID_CONNECTIVITY' });
    await expect(resolveServer('host/path', 'UDP')).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID_CONNECTIVITY', message: 'server: a path ("/path") is only for WS, WSS and HTTPS servers (setting server)' });
  });

  it('resolves localhost with the system resolver', async () => {
    const targets = await resolveServer('localhost:5060', 'UDP');
    expect(targets[0]).toMatchObject({ address: '127.0.0.1', port: 5060 });
  });
});
