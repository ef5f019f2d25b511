// The IceAgent's TURN paths against a scripted TURN server: a UDP socket in the test that answers
// Allocate (401 first, then the allocation), ChannelBind and Refresh, and a second socket that is
// the relayed address, which really relays (ChannelData and Send indications out to peers; a
// peer's datagrams back as ChannelData once a channel is bound, else as Data indications). Unlike
// coturn on the loopback (ice-agent.test.ts), it maps us wherever a test says, refuses on demand,
// and shows each message that crossed it. The peers are UDP sockets of the test that play the
// other ICE agent.
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Socket as TcpSocket } from 'node:net';
import {
  buildStun,
  candidatePriority,
  checkStunIntegrity,
  decodeXorAddress,
  encodeXorAddress,
  errorCodeAttribute,
  IceAgent,
  longTermKey,
  parseStun,
  readUint32,
  RtpSession,
  STUN_ATTRIBUTE,
  STUN_METHOD,
  stunAttribute,
  textAttribute,
  uint32Attribute,
  type IceAgentOptions,
  type IceCandidate,
  type RemoteIce,
  type StunAddress,
  type StunAttribute,
  type StunMessage,
} from '@sip-endpoint/media';
import { waitFor } from '@sip-endpoint/test-support';
import { workerPorts } from '../support/ports';

const ports = workerPorts(30);
const T = STUN_ATTRIBUTE;
const M = STUN_METHOD;
const USER = 'alice';
const PASSWORD = 'secret';
const REALM = 'sep.test';
const KEY = longTermKey(USER, REALM, PASSWORD);
const HOST_PRIORITY = candidatePriority('host');
const RELAY_PRIORITY = candidatePriority('relay');
const PRFLX_PRIORITY = candidatePriority('prflx');
/** The largest tie-breaker: a peer that sends it keeps (or takes) control. */
const HIGH = Buffer.alloc(8, 0xff);
/** An address of the documentation range: where a NAT in front of us would be (nothing is sent there). */
const OUTSIDE: StunAddress = { address: '203.0.113.9', port: 40001 };

const same = (a: StunAddress, b: StunAddress): boolean => a.address === b.address && a.port === b.port;
const id = (message: StunMessage): string => Buffer.from(message.transactionId).toString('hex');
const addressOf = (info: { address: string; port: number }): StunAddress => ({ address: info.address, port: info.port });

async function udpSocket(address = '127.0.0.1', port = 0): Promise<UdpSocket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(port, address, resolve));
  return socket;
}

/** A Data indication: `payload` from `peer` (as a TURN server sends it; FINGERPRINT on request). */
function dataIndication(peer: StunAddress, payload: Uint8Array, fingerprint = false): Buffer {
  const transactionId = randomBytes(12);
  return buildStun({ method: M.data, cls: 'indication', transactionId, attributes: [{ type: T.xorPeerAddress, value: encodeXorAddress(peer, transactionId) }, { type: T.data, value: payload }], fingerprint });
}

function channelData(channel: number, payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([channel >> 8, channel & 0xff, payload.length >> 8, payload.length & 0xff]), payload]);
}

/** A connectivity check for `agent` from a peer of ufrag `ufrag`: controlling, with the largest tie-breaker. */
function iceCheck(agent: IceAgent, ufrag: string): Buffer {
  const attributes: StunAttribute[] = [textAttribute(T.username, `${agent.ufrag}:${ufrag}`), uint32Attribute(T.priority, 1845501695), { type: T.iceControlling, value: HIGH }];
  return buildStun({ method: M.binding, cls: 'request', attributes, integrityKey: Buffer.from(agent.pwd), fingerprint: true });
}

/** What crossed the scripted TURN server's relay: to or from which peer, and how it was framed. */
interface Hop {
  peer: StunAddress;
  data: Buffer;
  how: 'channel' | 'send' | 'data';
}

/**
 * A TURN server (RFC 8656) with the long-term credentials alice/secret in realm sep.test, over UDP
 * (`control`), relaying on a socket of its own (`relay`). It lets any peer reach the client (no
 * permission needed): a peer can send to the relayed address before any channel is bound.
 */
class ScriptedTurn {
  readonly requests: StunMessage[] = [];
  /** What it relayed from the client to peers (from the relayed address). */
  readonly toPeers: Hop[] = [];
  /** What it relayed from peers to the client. */
  readonly toClient: Hop[] = [];
  /** STUN answers and indications it received that are not TURN's (an ICE agent's answers). */
  readonly stray: StunMessage[] = [];
  readonly channels = new Map<number, StunAddress>();
  /** The XOR-MAPPED-ADDRESS of the allocation: where the server saw us (none: left out). */
  mapped: StunAddress | undefined;
  /** An error answer to the signed Allocate instead of an allocation. */
  refuse: { code: number; reason: string } | undefined;
  /** Where the Allocate came from: where it relays to. */
  client: StunAddress | undefined;

  private constructor(
    readonly control: UdpSocket,
    readonly relay: UdpSocket,
  ) {
    control.on('message', (data, info) => this.fromClient(data, addressOf(info)));
    relay.on('message', (data, info) => this.deliver(addressOf(info), data));
  }

  static async open(): Promise<ScriptedTurn> {
    return new ScriptedTurn(await udpSocket(), await udpSocket());
  }

  get address(): StunAddress {
    return addressOf(this.control.address());
  }

  get relayed(): StunAddress {
    return addressOf(this.relay.address());
  }

  of(method: number): StunMessage[] {
    return this.requests.filter((request) => request.method === method);
  }

  /** The answer to a request of the client (over UDP or TCP): 401 with the realm and nonce unless signed. */
  answer(request: StunMessage): Buffer {
    this.requests.push(request);
    const reply = (cls: 'success' | 'error', attributes: StunAttribute[], signed = true): Buffer => buildStun({ method: request.method, cls, transactionId: request.transactionId, attributes, ...(signed ? { integrityKey: KEY } : {}), fingerprint: true });
    const xor = (type: number, address: StunAddress): StunAttribute => ({ type, value: encodeXorAddress(address, request.transactionId) });
    if (request.integrityOffset < 0 || !checkStunIntegrity(request, KEY)) return reply('error', [errorCodeAttribute(401, 'Unauthorized'), textAttribute(T.realm, REALM), textAttribute(T.nonce, 'nonce-1')], false);
    if (request.method === M.allocate) {
      if (this.refuse) return reply('error', [errorCodeAttribute(this.refuse.code, this.refuse.reason)]);
      return reply('success', [xor(T.xorRelayedAddress, this.relayed), ...(this.mapped ? [xor(T.xorMappedAddress, this.mapped)] : []), uint32Attribute(T.lifetime, 600)]);
    }
    if (request.method === M.channelBind) {
      const peer = decodeXorAddress(stunAttribute(request, T.xorPeerAddress), request.transactionId)!;
      this.channels.set(Buffer.from(stunAttribute(request, T.channelNumber)!).readUInt16BE(0), peer);
    }
    if (request.method === M.refresh) return reply('success', [uint32Attribute(T.lifetime, readUint32(stunAttribute(request, T.lifetime)) ?? 600)]);
    return reply('success', []);
  }

  /** `payload` from `peer` to the client: ChannelData on the peer's channel, else a Data indication. */
  deliver(peer: StunAddress, payload: Buffer): void {
    const client = this.client;
    if (!client) return;
    const channel = [...this.channels].find(([, bound]) => same(bound, peer))?.[0];
    this.toClient.push({ peer, data: Buffer.from(payload), how: channel === undefined ? 'data' : 'channel' });
    this.control.send(channel === undefined ? dataIndication(peer, payload) : channelData(channel, payload), client.port, client.address);
  }

  private fromClient(data: Buffer, from: StunAddress): void {
    if (data[0]! >= 0x40 && data[0]! <= 0x4f) {
      const peer = this.channels.get(data.readUInt16BE(0));
      if (peer) this.toPeer(peer, data.subarray(4, 4 + data.readUInt16BE(2)), 'channel');
      return;
    }
    const message = parseStun(data);
    if ('malformed' in message) return;
    if (message.cls === 'indication' && message.method === M.send) {
      const peer = decodeXorAddress(stunAttribute(message, T.xorPeerAddress), message.transactionId);
      const payload = stunAttribute(message, T.data);
      if (peer && payload) this.toPeer(peer, payload, 'send');
      return;
    }
    if (message.cls !== 'request') {
      this.stray.push(message);
      return;
    }
    if (message.method === M.allocate) this.client = from;
    this.control.send(this.answer(message), from.port, from.address);
  }

  private toPeer(peer: StunAddress, payload: Uint8Array, how: Hop['how']): void {
    this.toPeers.push({ peer, data: Buffer.from(payload), how });
    this.relay.send(payload, peer.port, peer.address);
  }

  close(): void {
    this.control.close();
    this.relay.close();
  }
}

/** The other ICE agent, on a socket of its own: silent unless `answers` says how to answer a check. */
class Peer {
  readonly ufrag: string;
  readonly pwd: string;
  /** Every datagram, with where it came from (STUN read, when it is STUN). */
  readonly received: { data: Buffer; message: StunMessage | undefined; from: StunAddress }[] = [];
  /** A check that came from `from` is answered with success (XOR-MAPPED-ADDRESS `mapped`, else `from`), or not at all. */
  /** How it answers a check from `from`: success (mapped where it says), an error (`error`: its code), or not at all. */
  answers: (from: StunAddress) => { mapped?: StunAddress; error?: number } | undefined = () => undefined;

  private constructor(
    readonly socket: UdpSocket,
    name: string,
  ) {
    this.ufrag = `peer${name}`;
    this.pwd = `the-peer-password-${name}-0123`;
    socket.on('message', (data, info) => {
      const from = addressOf(info);
      const parsed = parseStun(data);
      const message = 'malformed' in parsed ? undefined : parsed;
      this.received.push({ data: Buffer.from(data), message, from });
      const answer = message?.cls === 'request' ? this.answers(from) : undefined;
      if (!message || !answer) return;
      const attributes = answer.error !== undefined ? [errorCodeAttribute(answer.error, 'Bad Request')] : [{ type: T.xorMappedAddress, value: encodeXorAddress(answer.mapped ?? from, message.transactionId) }];
      socket.send(buildStun({ method: M.binding, cls: answer.error !== undefined ? 'error' : 'success', transactionId: message.transactionId, attributes, integrityKey: Buffer.from(this.pwd), fingerprint: true }), from.port, from.address);
    });
  }

  static async open(name: string, address = '127.0.0.1', port = 0): Promise<Peer> {
    return new Peer(await udpSocket(address, port), name);
  }

  get address(): StunAddress {
    return addressOf(this.socket.address());
  }

  candidate(priority = 100, foundation = '1'): IceCandidate {
    return { foundation, component: 1, transport: 'udp', priority, ...this.address, type: 'host' };
  }

  remote(candidates: IceCandidate[] = [this.candidate()]): RemoteIce {
    return { ufrag: this.ufrag, pwd: this.pwd, candidates };
  }

  /** The checks received, one per transaction (retransmissions left out), and where each came from. */
  checks(): { message: StunMessage; from: StunAddress }[] {
    const seen = new Set<string>();
    const out: { message: StunMessage; from: StunAddress }[] = [];
    for (const { message, from } of this.received) {
      if (message?.cls !== 'request' || seen.has(id(message))) continue;
      seen.add(id(message));
      out.push({ message, from });
    }
    return out;
  }

  /** Sends a check for `agent` to `to` (its RTP port, or its relayed address). */
  check(agent: IceAgent, to: StunAddress): Buffer {
    const data = iceCheck(agent, this.ufrag);
    this.socket.send(data, to.port, to.address);
    return data;
  }

  /** The answer to the request `sent`, and where it came from. */
  async answerTo(sent: Buffer): Promise<{ message: StunMessage; from: StunAddress }> {
    const transaction = sent.subarray(8, 20).toString('hex');
    const find = () => this.received.find(({ message }) => message !== undefined && message.cls !== 'request' && id(message) === transaction);
    await waitFor(() => find() !== undefined, 1000, 'the agent\'s answer');
    const { message, from } = find()!;
    return { message: message!, from };
  }

  close(): void {
    this.socket.close();
  }
}

describe('IceAgent with a scripted TURN server', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const close of cleanup.splice(0).reverse()) close();
  });

  interface Made {
    agent: IceAgent;
    session: RtpSession;
    /** The RTP port: our host candidate's address. */
    host: StunAddress;
    refused: string[];
    /** Every datagram sent from the RTP port (ICE's and the TURN client's), in order. */
    sent: { to: StunAddress; data: Buffer }[];
  }

  async function agent(options: Partial<IceAgentOptions> = {}): Promise<Made> {
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const sent: Made['sent'] = [];
    const send = session.sendDatagram.bind(session);
    session.sendDatagram = (data, to, direct) => {
      // A copy: the TURN client reuses its buffer for the next datagram.
      if (to) sent.push({ to, data: Buffer.from(data) });
      send(data, to, direct);
    };
    const made = new IceAgent({ session, hostAddress: '127.0.0.1', ...options });
    const refused: string[] = [];
    made.on('refused', (reason) => refused.push(reason));
    cleanup.push(() => {
      made.close();
      session.close();
    });
    await made.gather();
    return { agent: made, session, host: { address: '127.0.0.1', port: session.localPort }, refused, sent };
  }

  async function turnServer(): Promise<ScriptedTurn> {
    const made = await ScriptedTurn.open();
    cleanup.push(() => made.close());
    return made;
  }

  async function peer(name: string, address?: string, port?: number): Promise<Peer> {
    const made = await Peer.open(name, address, port);
    cleanup.push(() => made.close());
    return made;
  }

  const viaTurn = (turn: ScriptedTurn): Partial<IceAgentOptions> => ({ turnServer: { server: turn.address, username: USER, password: PASSWORD, transport: 'udp' } });

  /** Time for what must not happen to show. */
  const quiet = (ms = 150) => new Promise((resolve) => setTimeout(resolve, ms));

  /**
   * The pairs in the order their checks started, read from what left the RTP port: `host X` for
   * a check sent to peer X directly, `relay X` for the ChannelBind to X that starts a check
   * through the relay (each relayed pair here has a peer of its own, so a channel of its own).
   */
  function checkOrder(made: Made, turn: ScriptedTurn | undefined, names: Peer[]): string[] {
    const name = (address: StunAddress): string => names.find((p) => same(p.address, address))?.ufrag ?? '?';
    const order: string[] = [];
    for (const { to, data } of made.sent) {
      const message = parseStun(data);
      if ('malformed' in message || message.cls !== 'request') continue;
      let entry: string | undefined;
      if (turn && same(to, turn.address)) {
        if (message.method === M.channelBind) entry = `relay ${name(decodeXorAddress(stunAttribute(message, T.xorPeerAddress), message.transactionId)!)}`;
      } else if (message.method === M.binding) entry = `host ${name(to)}`;
      if (entry !== undefined && !order.includes(entry)) order.push(entry);
    }
    return order;
  }

  it('over UDP, the address the TURN server saw us at is a server-reflexive candidate (related to the host), and the relayed candidate is related to it', async () => {
    const turn = await turnServer();
    turn.mapped = OUTSIDE;
    const a = await agent(viaTurn(turn));
    const host = { foundation: '1', component: 1, transport: 'udp', priority: HOST_PRIORITY, ...a.host, type: 'host' };
    const srflx = { foundation: '2', component: 1, transport: 'udp', priority: candidatePriority('srflx'), ...OUTSIDE, type: 'srflx', relatedAddress: '127.0.0.1', relatedPort: a.host.port };
    const relay = { foundation: '3', component: 1, transport: 'udp', priority: RELAY_PRIORITY, ...turn.relayed, type: 'relay', relatedAddress: OUTSIDE.address, relatedPort: OUTSIDE.port };
    expect(a.agent.candidates).toEqual([host, srflx, relay]);
    expect(a.agent.defaultCandidate).toEqual(srflx);
    // The server saw the Allocate twice: unsigned (answered 401), then signed.
    expect(turn.requests.map((request) => [request.method, request.integrityOffset >= 0])).toEqual([
      [M.allocate, false],
      [M.allocate, true],
    ]);
    expect(a.agent.turn?.relayed).toEqual(turn.relayed);
    expect(a.refused).toEqual([]);
  });

  it('an allocation without XOR-MAPPED-ADDRESS gives no server-reflexive candidate, and a relayed one related to the host', async () => {
    const turn = await turnServer();
    const a = await agent(viaTurn(turn));
    expect(a.agent.candidates.map((candidate) => candidate.type)).toEqual(['host', 'relay']);
    expect(a.agent.candidates[1]).toEqual({ foundation: '3', component: 1, transport: 'udp', priority: RELAY_PRIORITY, ...turn.relayed, type: 'relay', relatedAddress: '127.0.0.1', relatedPort: a.host.port });
  });

  it('over TCP, the mapped address (the connection\'s, not the RTP port\'s) is no server-reflexive candidate; the connection closed is reported', async () => {
    const turn = await turnServer();
    turn.mapped = OUTSIDE;
    // The same script over a TCP listener: STUN framed on the stream (nothing else comes here).
    const connections: TcpSocket[] = [];
    const listener = createServer((socket) => {
      connections.push(socket);
      socket.on('error', () => undefined);
      let buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        while (buffer.length >= 20 && buffer.length >= 20 + buffer.readUInt16BE(2)) {
          const frame = Buffer.from(buffer.subarray(0, 20 + buffer.readUInt16BE(2)));
          buffer = buffer.subarray(frame.length);
          const message = parseStun(frame);
          if (!('malformed' in message) && message.cls === 'request') socket.write(turn.answer(message));
        }
      });
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => {
      for (const connection of connections) connection.destroy();
      listener.close();
    });
    const server = addressOf(listener.address() as { address: string; port: number });
    const a = await agent({ turnServer: { server, username: USER, password: PASSWORD, transport: 'tcp' } });
    expect(a.agent.candidates.map((candidate) => candidate.type)).toEqual(['host', 'relay']);
    expect(a.agent.candidates[1]).toMatchObject({ ...turn.relayed, type: 'relay', relatedAddress: OUTSIDE.address, relatedPort: OUTSIDE.port });
    expect(a.refused).toEqual([]);
    // The server drops the connection: the allocation is lost, and the agent says why.
    connections[0]!.destroy();
    await waitFor(() => a.refused.length === 1, 1000, 'the loss reported');
    expect(a.refused).toEqual([`the TCP connection to the TURN server 127.0.0.1:${server.port} (tcp) closed`]);
  });

  it('a refused allocation leaves no TURN client: what then comes from the server\'s address is ICE\'s (a check is answered), its ChannelData nobody\'s', async () => {
    const turn = await turnServer();
    turn.refuse = { code: 486, reason: 'Allocation Quota Reached' };
    const a = await agent(viaTurn(turn));
    const malformed: Buffer[] = [];
    a.session.on('malformed', (data) => malformed.push(Buffer.from(data)));
    expect(a.agent.candidates.map((candidate) => candidate.type)).toEqual(['host']);
    expect(a.agent.turn).toBeUndefined();
    expect(a.refused).toEqual([`no relayed candidate: the TURN server 127.0.0.1:${turn.address.port} (udp) answered 486 Allocation Quota Reached`]);
    // A check from the very address and port of the server: answered like anyone's.
    turn.control.send(iceCheck(a.agent, 'server'), a.host.port, a.host.address);
    await waitFor(() => turn.stray.length === 1, 1000, 'the answer to the check');
    expect(turn.stray[0]).toMatchObject({ method: M.binding, cls: 'success' });
    expect(a.agent.counters).toMatchObject({ requestsReceived: 1, malformed: 0 });
    // ChannelData has no TURN client to go to any more: the session counts it malformed.
    turn.control.send(channelData(0x4000, Buffer.from('late')), a.host.port, a.host.address);
    await waitFor(() => malformed.length === 1, 1000, 'the ChannelData dropped');
    expect(malformed[0]!.subarray(0, 2)).toEqual(Buffer.from([0x40, 0x00]));
  });

  it('a relay pair\'s check goes through the relay (a ChannelBind, then ChannelData from the relayed address); a host pair\'s leaves the RTP port itself', async () => {
    const turn = await turnServer();
    const a = await agent(viaTurn(turn));
    const p = await peer('A');
    a.agent.start(p.remote(), true);
    // Two pairs to the one peer, host and relay: one check each (the peer answers neither).
    await waitFor(() => p.checks().length === 2, 1000, 'two checks');
    const direct = p.checks().find(({ from }) => same(from, a.host));
    const relayed = p.checks().find(({ from }) => same(from, turn.relayed));
    expect(direct).toBeDefined();
    expect(relayed).toBeDefined();
    // The server saw a ChannelBind to the peer, then the check as ChannelData on that channel.
    const [bind] = turn.of(M.channelBind);
    expect(decodeXorAddress(stunAttribute(bind!, T.xorPeerAddress), bind!.transactionId)).toEqual(p.address);
    expect(turn.toPeers.length).toBeGreaterThanOrEqual(1);
    for (const hop of turn.toPeers) {
      expect(hop).toMatchObject({ peer: p.address, how: 'channel' });
      expect(id(parseStun(hop.data) as StunMessage)).toBe(id(relayed!.message));
    }
    // The host check (and its retransmissions) went to the peer straight from the RTP port.
    expect(new Set(a.sent.filter(({ to }) => same(to, p.address)).map(({ data }) => id(parseStun(data) as StunMessage)))).toEqual(new Set([id(direct!.message)]));
  });

  it('controlling with the relay policy: the pair through the relay is checked, nominated and selected; its local end is named after the relayed address; media goes through the relay', async () => {
    const turn = await turnServer();
    const a = await agent({ ...viaTurn(turn), policy: 'relay' });
    const p = await peer('A');
    // The peer says it saw us somewhere that is none of our candidates: a peer-reflexive local end.
    const seen = { address: '203.0.113.5', port: 7000 };
    p.answers = () => ({ mapped: seen });
    a.agent.start(p.remote(), true);
    await waitFor(() => a.agent.state === 'connected', 1000, 'connected');
    expect(p.checks().map(({ from }) => from)).toEqual([turn.relayed, turn.relayed]);
    expect(a.agent.selected).toEqual({
      local: { foundation: 'p', component: 1, transport: 'udp', priority: PRFLX_PRIORITY, ...seen, type: 'prflx', relatedAddress: turn.relayed.address, relatedPort: turn.relayed.port },
      remote: p.candidate(),
    });
    // The peer's answers came back over the channel.
    expect(turn.toClient.length).toBeGreaterThanOrEqual(2);
    expect(turn.toClient.every(({ how }) => how === 'channel')).toBe(true);
    expect(a.session.relay).toEqual({ peer: p.address, send: expect.any(Function) });
    const media = Buffer.from([0x80, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1]);
    a.session.sendDatagram(media, p.address);
    await waitFor(() => p.received.some(({ data }) => data.equals(media)), 1000, 'the media through the relay');
    expect(p.received.find(({ data }) => data.equals(media))!.from).toEqual(turn.relayed);
  });

  it('once a relay pair is selected, ICE\'s own STUN from the host candidate still leaves the RTP port: a check to it is answered from there (RFC 8445 7.3: from where the check came)', async () => {
    const turn = await turnServer();
    const a = await agent(viaTurn(turn));
    const p = await peer('A');
    // The checks through the relay are answered, those from the RTP port refused: the relay pair is selected.
    p.answers = (from) => (same(from, turn.relayed) ? {} : { error: 400 });
    a.agent.start(p.remote(), true);
    await waitFor(() => a.agent.state === 'connected' && a.agent.counters.checksFailed === 1, 1000, 'connected, the host pair failed');
    expect(a.agent.selected?.local.relatedAddress).toBe(turn.relayed.address);
    expect(a.session.relay?.peer).toEqual(p.address);
    const checksBefore = p.checks().length;
    const direct = await p.answerTo(p.check(a.agent, a.host));
    expect(direct.from).toEqual(a.host);
    expect(direct.message.cls).toBe('success');
    // The peer's check on the failed host pair triggers a check of it, from the RTP port too.
    await waitFor(() => p.checks().length === checksBefore + 1, 1000, 'the triggered check');
    expect(p.checks().at(-1)!.from).toEqual(a.host);
  });

  it('a host pair selected while an allocation exists sends media directly (no relay set on the session)', async () => {
    const turn = await turnServer();
    const a = await agent(viaTurn(turn));
    const p = await peer('A');
    // Only the checks from the RTP port are answered: the host pair is the one that works.
    p.answers = (from) => (same(from, a.host) ? {} : undefined);
    a.agent.start(p.remote(), true);
    await waitFor(() => a.agent.state === 'connected', 1000, 'connected');
    expect(a.agent.selected?.local).toEqual(a.agent.candidates[0]);
    expect(a.agent.turn).toBeDefined();
    expect(a.session.relay).toBeUndefined();
  });

  it('checks the pairs in the order of their priority, host before relay, in either role (RFC 8445 6.1.2.3)', async () => {
    for (const controlling of [true, false]) {
      const turn = await turnServer();
      const a = await agent(viaTurn(turn));
      const A = await peer('A');
      const B = await peer('B');
      // Two remote candidates of the same priority. The pairs were made host A, relay A, host B,
      // relay B; their priorities put both host pairs first (the larger local priority is in the
      // 2 * max(G, D) term), each base's pairs in the SDP's order.
      a.agent.start({ ufrag: A.ufrag, pwd: A.pwd, candidates: [A.candidate(100, '1'), B.candidate(100, '2')] }, controlling);
      await waitFor(() => checkOrder(a, turn, [A, B]).length === 4, 1000, 'four checks');
      expect(checkOrder(a, turn, [A, B])).toEqual(['host peerA', 'host peerB', 'relay peerA', 'relay peerB']);
    }
  });

  it('breaks a tie of two pairs by the +1 of G > D: one reckoned controlled and one controlling (a re-offer that gives us control) are checked in that order', async () => {
    // Within one role the +1 never decides: pairs with the same min and max have the same G > D,
    // and where G = D (a remote priority equal to ours) the doubles cannot hold it anyway. So pair A
    // is made controlled (G is the peer's 1000: + 0) and pair B, to another address of the same
    // priority, controlling (G is our host's: + 1): B goes first.
    const a = await agent();
    const [Z, A, B] = [await peer('Z'), await peer('A'), await peer('B')];
    // Z first, so that A waits its turn behind it.
    a.agent.start({ ufrag: 'one', pwd: 'the first offer password 01234', candidates: [Z.candidate(2000, '1'), A.candidate(1000, '2')] }, false);
    a.agent.start({ ufrag: 'two', pwd: 'the second offer password 0123', candidates: [B.candidate(1000, '3')] }, true);
    await waitFor(() => checkOrder(a, undefined, [Z, A, B]).length === 3, 1000, 'three checks');
    expect(checkOrder(a, undefined, [Z, A, B])).toEqual(['host peerZ', 'host peerB', 'host peerA']);
  });

  it('makes one pair per base for each remote address: a candidate listed twice is checked once per base, the same port at another address is another pair', async () => {
    const turn = await turnServer();
    const a = await agent(viaTurn(turn));
    const A = await peer('A');
    const elsewhere = { address: '127.0.0.2', port: A.address.port };
    const candidates = [A.candidate(100, '1'), A.candidate(100, '2'), { ...A.candidate(100, '3'), address: elsewhere.address }];
    a.agent.start(A.remote(candidates), true);
    // Checks counted one per transaction: host ones as they left the RTP port, relayed ones as the server relayed them.
    const count = (to: StunAddress): { host: number; relay: number } => {
      const host = new Set<string>();
      const relay = new Set<string>();
      for (const { to: where, data } of a.sent) {
        const message = parseStun(data);
        if (same(where, to) && !('malformed' in message) && message.method === M.binding && message.cls === 'request') host.add(id(message));
      }
      for (const { peer: where, data } of turn.toPeers) {
        const message = parseStun(data);
        if (same(where, to) && !('malformed' in message) && message.method === M.binding && message.cls === 'request') relay.add(id(message));
      }
      return { host: host.size, relay: relay.size };
    };
    await waitFor(() => a.agent.counters.checksSent >= 4, 1000, 'four checks');
    await waitFor(() => count(elsewhere).relay === 1, 1000, 'the last check relayed');
    await quiet();
    expect(count(A.address)).toEqual({ host: 1, relay: 1 });
    expect(count(elsewhere)).toEqual({ host: 1, relay: 1 });
    expect(a.agent.counters.checksSent).toBe(4);
  });

  it('answers a check the way it came: through the relay (binding a channel first when there is none), or from the RTP port', async () => {
    const turn = await turnServer();
    const a = await agent(viaTurn(turn));
    const p = await peer('A');
    // Before any channel: the server brings the check as a Data indication; the answer waits for
    // a ChannelBind to the peer, then goes as ChannelData, and the peer gets it from the relayed address.
    const first = await p.answerTo(p.check(a.agent, turn.relayed));
    expect(turn.toClient.map(({ how }) => how)).toEqual(['data']);
    expect(first.from).toEqual(turn.relayed);
    expect(first.message.cls).toBe('success');
    expect(decodeXorAddress(stunAttribute(first.message, T.xorMappedAddress), first.message.transactionId)).toEqual(p.address);
    expect(turn.of(M.channelBind)).toHaveLength(1);
    expect(turn.toPeers.map(({ peer: to, how }) => [to, how])).toEqual([[p.address, 'channel']]);
    // With the channel bound: over it both ways, no second ChannelBind.
    const second = await p.answerTo(p.check(a.agent, turn.relayed));
    expect(second.from).toEqual(turn.relayed);
    expect(turn.toClient.map(({ how }) => how)).toEqual(['data', 'channel']);
    expect(turn.of(M.channelBind)).toHaveLength(1);
    // A check to the RTP port is answered from the RTP port, past the relay.
    const direct = await p.answerTo(p.check(a.agent, a.host));
    expect(direct.from).toEqual(a.host);
    expect(direct.message.cls).toBe('success');
    expect(turn.toPeers).toHaveLength(2);
    expect(a.agent.counters).toMatchObject({ requestsReceived: 3, malformed: 0 });
  });

  it('over UDP, only the TURN server itself speaks for the TURN client: a Data indication from another port or address, or relayed from a peer at the server\'s address, is a stray STUN message', async () => {
    const turn = await turnServer();
    const a = await agent(viaTurn(turn));
    const client = a.agent.turn!;
    const someone = { address: '127.0.0.1', port: 9 };
    // From the server's address on another port, and from the server's port on another address.
    const otherPort = await peer('X');
    const otherAddress = await peer('Y', '127.0.0.2', turn.address.port);
    otherPort.socket.send(dataIndication(someone, iceCheck(a.agent, 'X'), true), a.host.port, a.host.address);
    otherAddress.socket.send(dataIndication(someone, iceCheck(a.agent, 'Y'), true), a.host.port, a.host.address);
    await waitFor(() => a.agent.counters.malformed + client.counters.received >= 2, 1000, 'both taken');
    expect(a.agent.counters.malformed).toBe(2);
    expect(client.counters).toEqual({ sent: 0, received: 0, malformed: 0 });
    // Relayed by the server from a peer that is at the server's own address and port: the peer's
    // datagram, for ICE, even though it is a Data indication itself.
    turn.deliver(turn.address, dataIndication(someone, iceCheck(a.agent, 'Z'), true));
    await waitFor(() => client.counters.received >= 1, 1000, 'the relayed datagram');
    await quiet(50);
    expect(client.counters).toEqual({ sent: 0, received: 1, malformed: 0 });
    expect(a.agent.counters).toMatchObject({ malformed: 3, requestsReceived: 0 });
  });
});
