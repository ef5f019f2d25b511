import { createSocket, type Socket } from 'node:dgram';
import { IceError, TurnClient, type StunAddress } from '@sip-endpoint/media';
import { Coturn, peerAvailable, waitFor } from '@sip-endpoint/test-support';

const describeCoturn = peerAvailable('turnserver') ? describe : describe.skip;

async function udp(): Promise<{ socket: Socket; address: StunAddress; seen: { data: Buffer; from: StunAddress }[] }> {
  const socket = createSocket('udp4');
  const seen: { data: Buffer; from: StunAddress }[] = [];
  socket.on('message', (data, from) => seen.push({ data, from: { address: from.address, port: from.port } }));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, address: { address: '127.0.0.1', port: socket.address().port }, seen };
}

describeCoturn('TurnClient against coturn (RFC 8656, long-term credentials)', () => {
  let coturn: Coturn;
  const sockets: Socket[] = [];
  const clients: TurnClient[] = [];
  beforeAll(async () => {
    coturn = await Coturn.start({ users: { alice: 'secret' } });
  }, 20_000);
  afterAll(async () => {
    await coturn?.stop();
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    for (const socket of sockets.splice(0)) socket.close();
  });

  it.each(['udp', 'tcp'] as const)('over %s: allocates, binds a channel, and relays datagrams both ways', async (transport) => {
    const ours = await udp();
    const peer = await udp();
    sockets.push(ours.socket, peer.socket);
    const relayed: { data: string; peer: StunAddress }[] = [];
    const client = new TurnClient({
      server: { address: coturn.address, port: coturn.port },
      username: 'alice',
      password: 'secret',
      transport,
      sendUdp: (data, to) => ours.socket.send(data, to.port, to.address),
      onRelayed: (data, length, from) => relayed.push({ data: data.subarray(0, length).toString(), peer: from }),
    });
    clients.push(client);
    ours.socket.on('message', (data) => client.receive(data));
    const allocation = await client.allocate();
    expect(allocation.relayed.address).toBe('127.0.0.1');
    expect(allocation.mapped).toEqual(transport === 'udp' ? ours.address : expect.objectContaining({ address: '127.0.0.1' }));
    expect(allocation.lifetime).toBeGreaterThan(60);
    await client.bind(peer.address);
    expect(client.bound(peer.address)).toBe(true);
    client.send(peer.address, Buffer.from('hello through the relay'));
    await waitFor(() => peer.seen.length === 1, 3000, 'the datagram at the peer');
    expect(peer.seen[0]).toEqual({ data: Buffer.from('hello through the relay'), from: allocation.relayed });
    peer.socket.send('and back', allocation.relayed.port, allocation.relayed.address);
    await waitFor(() => relayed.length === 1, 3000, 'the answer through the relay');
    expect(relayed[0]).toEqual({ data: 'and back', peer: peer.address });
    expect(client.counters).toMatchObject({ sent: 1, received: 1, malformed: 0 });
  }, 20_000);

  it('refuses wrong credentials with an IceError saying so', async () => {
    const ours = await udp();
    sockets.push(ours.socket);
    const client = new TurnClient({ server: { address: coturn.address, port: coturn.port }, username: 'alice', password: 'wrong', sendUdp: (data, to) => ours.socket.send(data, to.port, to.address), onRelayed: () => undefined });
    clients.push(client);
    ours.socket.on('message', (data) => client.receive(data));
    const error = await client.allocate().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IceError);
    expect((error as IceError).stunCode).toBe(401);
  }, 20_000);

  it('says when the server cannot be reached over TCP', async () => {
    const client = new TurnClient({ server: { address: '127.0.0.1', port: 9 }, username: 'alice', password: 'secret', transport: 'tcp', onRelayed: () => undefined });
    clients.push(client);
    await expect(client.allocate()).rejects.toThrow(/^cannot connect to the TURN server 127\.0\.0\.1:9 \(tcp\)/);
  });

  it('drops ChannelData for a channel it never bound, counted', async () => {
    const client = new TurnClient({ server: { address: coturn.address, port: coturn.port }, username: 'alice', password: 'secret', onRelayed: () => undefined });
    clients.push(client);
    expect(client.receive(Buffer.from([0x40, 0x00, 0x00, 0x02, 1, 2]))).toBe(true);
    expect(client.receive(Buffer.from([0x80, 0, 0, 0]))).toBe(false);
    expect(client.counters.malformed).toBe(1);
  });
});
