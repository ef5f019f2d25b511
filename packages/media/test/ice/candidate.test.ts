import { candidatePriority, formatCandidate, iceCredentials, parseCandidate } from '@sip-endpoint/media';

// a=candidate values as peers write them, and the ones we cannot use (skipped, never a crash).

describe('parseCandidate', () => {
  it('reads a host, a server-reflexive and a relayed candidate, with raddr and rport', () => {
    expect(parseCandidate('1 1 UDP 2130706431 192.0.2.10 40000 typ host')).toEqual({ foundation: '1', component: 1, transport: 'udp', priority: 2130706431, address: '192.0.2.10', port: 40000, type: 'host' });
    expect(parseCandidate(' a+/Z9 2 udp 1694498815 203.0.113.7 5000 typ srflx raddr 192.0.2.10 rport 40000 generation 0 ')).toEqual({
      foundation: 'a+/Z9', component: 2, transport: 'udp', priority: 1694498815, address: '203.0.113.7', port: 5000, type: 'srflx', relatedAddress: '192.0.2.10', relatedPort: 40000,
    });
    expect(parseCandidate('7 1 UDP 16777215 2001:db8::1 65535 typ relay raddr 0.0.0.0 rport 0')).toMatchObject({ address: '2001:db8::1', port: 65535, type: 'relay', relatedAddress: '0.0.0.0', relatedPort: 0 });
    expect(parseCandidate('3 256 UDP 4294967295 192.0.2.1 1 typ prflx')).toMatchObject({ component: 256, priority: 4294967295, port: 1, type: 'prflx' });
  });

  it('keeps what it can of the extensions: a raddr that is no address and an rport that is no port are left out', () => {
    const candidate = parseCandidate('1 1 UDP 1 192.0.2.1 9 typ srflx raddr host.example rport 99999999 tcptype active');
    expect(candidate).toEqual({ foundation: '1', component: 1, transport: 'udp', priority: 1, address: '192.0.2.1', port: 9, type: 'srflx' });
    // A lone trailing name has no value: ignored.
    expect(parseCandidate('1 1 UDP 1 192.0.2.1 9 typ srflx raddr')).not.toHaveProperty('relatedAddress');
    expect(parseCandidate('1 1 UDP 1 192.0.2.1 9 typ srflx rport 12 raddr 192.0.2.2')).toMatchObject({ relatedPort: 12, relatedAddress: '192.0.2.2' });
  });

  it('splits on any run of blanks: several spaces and tabs between the fields', () => {
    expect(parseCandidate('1  1\tUDP \t 2130706431   192.0.2.10 40000\t\ttyp  host  raddr   192.0.2.11  rport  9')).toEqual({
      foundation: '1', component: 1, transport: 'udp', priority: 2130706431, address: '192.0.2.10', port: 40000, type: 'host', relatedAddress: '192.0.2.11', relatedPort: 9,
    });
  });

  it('takes a related address only after "raddr" and a related port only after "rport"', () => {
    expect(parseCandidate('1 1 UDP 1 192.0.2.1 9 typ srflx network-id 192.0.2.9 rport 7')).toEqual({ foundation: '1', component: 1, transport: 'udp', priority: 1, address: '192.0.2.1', port: 9, type: 'srflx', relatedPort: 7 });
    expect(parseCandidate('1 1 UDP 1 192.0.2.1 9 typ srflx rport 192.0.2.9 generation 5')).toEqual({ foundation: '1', component: 1, transport: 'udp', priority: 1, address: '192.0.2.1', port: 9, type: 'srflx' });
    expect(parseCandidate('1 1 UDP 1 192.0.2.1 9 typ srflx raddr 2001:db8::2 rport 65535')).toMatchObject({ relatedAddress: '2001:db8::2', relatedPort: 65535 });
  });

  it.each([
    ['too few fields', '1 1 UDP 1 192.0.2.1 9 typ'],
    ['no "typ"', '1 1 UDP 1 192.0.2.1 9 type host'],
    ['TCP', '1 1 TCP 1 192.0.2.1 9 typ host'],
    ['a host name (an mDNS .local name)', '1 1 UDP 1 abcd.local 9 typ host'],
    ['a foundation with a dash', '1-a 1 UDP 1 192.0.2.1 9 typ host'],
    ['a foundation of 33 characters', `${'a'.repeat(33)} 1 UDP 1 192.0.2.1 9 typ host`],
    ['component 0', '1 0 UDP 1 192.0.2.1 9 typ host'],
    ['component 257', '1 257 UDP 1 192.0.2.1 9 typ host'],
    ['component 1000', '1 1000 UDP 1 192.0.2.1 9 typ host'],
    ['component x1', '1 x1 UDP 1 192.0.2.1 9 typ host'],
    ['component 1x', '1 1x UDP 1 192.0.2.1 9 typ host'],
    ['priority above 2^32 - 1', '1 1 UDP 4294967296 192.0.2.1 9 typ host'],
    ['priority of 11 digits', '1 1 UDP 10000000000 192.0.2.1 9 typ host'],
    ['priority -1', '1 1 UDP -1 192.0.2.1 9 typ host'],
    ['priority 1x', '1 1 UDP 1x 192.0.2.1 9 typ host'],
    ['priority x1', '1 1 UDP x1 192.0.2.1 9 typ host'],
    ['port 65536', '1 1 UDP 1 192.0.2.1 65536 typ host'],
    ['port of 6 digits', '1 1 UDP 1 192.0.2.1 100000 typ host'],
    ['port 9x', '1 1 UDP 1 192.0.2.1 9x typ host'],
    ['port x9', '1 1 UDP 1 192.0.2.1 x9 typ host'],
    ['an unknown type', '1 1 UDP 1 192.0.2.1 9 typ local'],
    ['nothing', ''],
  ])('skips %s', (_, value) => {
    expect(parseCandidate(value)).toBeUndefined();
  });

  it('reads back what formatCandidate writes, with and without the related address', () => {
    const host = { foundation: '4', component: 1, transport: 'udp' as const, priority: candidatePriority('host'), address: '192.0.2.4', port: 4000, type: 'host' as const };
    expect(formatCandidate(host)).toBe(`4 1 UDP ${candidatePriority('host')} 192.0.2.4 4000 typ host`);
    expect(parseCandidate(formatCandidate(host))).toEqual(host);
    const relayed = { ...host, type: 'relay' as const, relatedAddress: '198.51.100.1', relatedPort: 3478 };
    expect(formatCandidate(relayed)).toBe(`4 1 UDP ${candidatePriority('host')} 192.0.2.4 4000 typ relay raddr 198.51.100.1 rport 3478`);
    expect(parseCandidate(formatCandidate(relayed))).toEqual(relayed);
    expect(formatCandidate({ ...host, relatedAddress: '198.51.100.1' })).toMatch(/ raddr 198\.51\.100\.1 rport 0$/);
  });
});

describe('candidatePriority and iceCredentials', () => {
  it('orders host before peer-reflexive, server-reflexive and relayed, and component 1 before 2 (RFC 8445 5.1.2.1)', () => {
    expect(candidatePriority('host')).toBe(126 * 2 ** 24 + 65535 * 2 ** 8 + 255);
    expect(candidatePriority('relay', 2, 0)).toBe(0 * 2 ** 24 + 0 + 254);
    expect(candidatePriority('prflx')).toBeGreaterThan(candidatePriority('srflx'));
    expect(candidatePriority('srflx')).toBeGreaterThan(candidatePriority('relay'));
    expect(candidatePriority('host', 1)).toBeGreaterThan(candidatePriority('host', 2));
  });

  it('makes an 8-character ufrag and a 24-character password of ICE characters, new each time', () => {
    const a = iceCredentials();
    const b = iceCredentials();
    expect(a.ufrag).toMatch(/^[A-Za-z0-9+/]{8}$/);
    expect(a.pwd).toMatch(/^[A-Za-z0-9+/]{24}$/);
    expect(a).not.toEqual(b);
  });
});
