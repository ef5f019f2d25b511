// The IceAgent against a scripted peer: a plain UDP socket in the test that plays the other ICE
// agent message by message, so each check, answer, nomination and refusal is read exactly as it
// crossed the wire (the loopback tests of ice-agent.test.ts prove two of our agents agree; these
// prove what each message holds and what the agent makes of each answer).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Socket } from 'node:net';
import {
  buildStun,
  candidatePriority,
  checkStunFingerprint,
  checkStunIntegrity,
  decodeErrorCode,
  decodeXorAddress,
  encodeXorAddress,
  errorCodeAttribute,
  IceAgent,
  IceError,
  parseStun,
  readUint32,
  RtpSession,
  STUN_ATTRIBUTE,
  STUN_METHOD,
  stunAttribute,
  textAttribute,
  uint32Attribute,
  type IceAgentState,
  type IceCandidate,
  type IcePair,
  type StunAddress,
  type StunAttribute,
  type StunMessage,
} from '@sip-endpoint/media';
import { waitFor } from '@sip-endpoint/test-support';
import { workerPorts } from '../support/ports';

const ports = workerPorts(40);
const HOST_PRIORITY = candidatePriority('host');
const PRFLX_PRIORITY = candidatePriority('prflx');

/** What the peer does with a check it receives. */
// `mapped: null`: no XOR-MAPPED-ADDRESS; `key`: signed with another password; `code: null`: no ERROR-CODE.
type Answer = { kind: 'success'; mapped?: StunAddress | null; key?: string } | { kind: 'error'; code: number | null; reason: string } | { kind: 'silent' };

interface Received {
  message: StunMessage;
  from: StunAddress;
  at: number;
}

/** The other ICE agent, played by the test on a socket of its own. */
class ScriptedPeer {
  readonly ufrag: string;
  readonly pwd: string;
  readonly received: Received[] = [];
  answer: Answer = { kind: 'success' };
  /** Answers for the next requests, in turn, before `answer`. */
  readonly next: Answer[] = [];
  /** The answer to a nomination (a check with USE-CANDIDATE), when it differs from `answer`. */
  nomination: Answer | undefined;
  private constructor(
    readonly socket: UdpSocket,
    readonly port: number,
    credentials: { ufrag: string; pwd: string },
  ) {
    this.ufrag = credentials.ufrag;
    this.pwd = credentials.pwd;
    socket.on('message', (data, rinfo) => {
      const message = parseStun(data);
      if ('malformed' in message) return;
      const from = { address: rinfo.address, port: rinfo.port };
      this.received.push({ message, from, at: performance.now() });
      const nominated = stunAttribute(message, STUN_ATTRIBUTE.useCandidate) !== undefined;
      if (message.cls === 'request') this.respond(message, from, this.next.shift() ?? (nominated ? this.nomination : undefined) ?? this.answer);
    });
  }

  /** A peer on a socket of its own; `like`: another address of that peer (its credentials). */
  static async open(name: string, like?: ScriptedPeer): Promise<ScriptedPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new ScriptedPeer(socket, socket.address().port, like ?? { ufrag: `peer${name}`, pwd: `the-peer-password-${name}-0123` });
  }

  candidate(priority = 2130706431, foundation = '1'): IceCandidate {
    return { foundation, component: 1, transport: 'udp', priority, address: '127.0.0.1', port: this.port, type: 'host' };
  }

  /** The requests received, one per transaction (retransmissions left out). */
  requests(): StunMessage[] {
    const seen = new Set<string>();
    const out: StunMessage[] = [];
    for (const { message } of this.received) {
      const id = Buffer.from(message.transactionId).toString('hex');
      if (message.cls !== 'request' || seen.has(id)) continue;
      seen.add(id);
      out.push(message);
    }
    return out;
  }

  answers(): StunMessage[] {
    return this.received.filter(({ message }) => message.cls === 'success' || message.cls === 'error').map(({ message }) => message);
  }

  respond(request: StunMessage, to: StunAddress, answer: Answer): void {
    if (answer.kind === 'silent') return;
    const key = Buffer.from(answer.kind === 'success' && answer.key !== undefined ? answer.key : this.pwd);
    const data =
      answer.kind === 'success'
        ? buildStun({ method: request.method, cls: 'success', transactionId: request.transactionId, attributes: answer.mapped === null ? [] : [{ type: STUN_ATTRIBUTE.xorMappedAddress, value: encodeXorAddress(answer.mapped ?? to, request.transactionId) }], integrityKey: key, fingerprint: true })
        : buildStun({ method: request.method, cls: 'error', transactionId: request.transactionId, attributes: answer.code === null ? [] : [errorCodeAttribute(answer.code, answer.reason)], integrityKey: key, fingerprint: true });
    this.socket.send(data, to.port, to.address);
  }

  /** Sends a check to the agent, as its peer would (or with what a test changes). */
  check(agent: { ufrag: string; pwd: string; port: number }, options: { username?: string | null; key?: string; controlling?: Buffer; controlled?: Buffer; useCandidate?: boolean; priority?: number | null; fingerprint?: boolean; method?: number; cls?: 'request' | 'indication' } = {}): Buffer {
    const attributes: StunAttribute[] = [];
    if (options.username !== null) attributes.push(textAttribute(STUN_ATTRIBUTE.username, options.username ?? `${agent.ufrag}:${this.ufrag}`));
    if (options.priority !== null) attributes.push(uint32Attribute(STUN_ATTRIBUTE.priority, options.priority ?? 1845501695));
    if (options.controlling) attributes.push({ type: STUN_ATTRIBUTE.iceControlling, value: options.controlling });
    if (options.controlled) attributes.push({ type: STUN_ATTRIBUTE.iceControlled, value: options.controlled });
    if (options.useCandidate) attributes.push({ type: STUN_ATTRIBUTE.useCandidate, value: new Uint8Array(0) });
    const data = buildStun({ method: options.method ?? STUN_METHOD.binding, cls: options.cls ?? 'request', attributes, integrityKey: Buffer.from(options.key ?? agent.pwd), fingerprint: options.fingerprint ?? true });
    this.socket.send(data, agent.port, '127.0.0.1');
    return data;
  }

  /** The answer to the request `sent`, once it came. */
  async answerTo(sent: Buffer): Promise<StunMessage> {
    const id = sent.subarray(8, 20);
    await waitFor(() => this.answers().some((message) => Buffer.from(message.transactionId).equals(id)), 2000, 'the agent\'s answer');
    return this.answers().find((message) => Buffer.from(message.transactionId).equals(id))!;
  }

  close(): void {
    this.socket.close();
  }
}

const HIGH = Buffer.alloc(8, 0xff);
const LOW = Buffer.alloc(8, 0x00);

describe('IceAgent against a scripted peer', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
    for (const close of cleanup.splice(0).reverse()) close();
  });

  interface Made {
    agent: IceAgent;
    session: RtpSession;
    states: IceAgentState[];
    refused: string[];
    selected: IcePair[];
    /** What a scripted peer needs to reach the agent. */
    me: { ufrag: string; pwd: string; port: number };
  }

  async function agent(options: Partial<ConstructorParameters<typeof IceAgent>[0]> = {}, gather = true): Promise<Made> {
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const made = new IceAgent({ session, hostAddress: '127.0.0.1', ...options });
    const states: IceAgentState[] = [];
    const refused: string[] = [];
    const selected: IcePair[] = [];
    made.on('stateChanged', (state) => states.push(state));
    made.on('refused', (reason) => refused.push(reason));
    made.on('selected', (pair) => selected.push(pair));
    cleanup.push(() => {
      made.close();
      session.close();
    });
    if (gather) await made.gather();
    return { agent: made, session, states, refused, selected, me: { ufrag: made.ufrag, pwd: made.pwd, port: session.localPort } };
  }

  async function peer(name = 'A', like?: ScriptedPeer): Promise<ScriptedPeer> {
    const made = await ScriptedPeer.open(name, like);
    cleanup.push(() => made.close());
    return made;
  }

  /** The ports the session sent to, in the order of their first datagram (when they left, not when they arrived). */
  function sendOrder(session: RtpSession): number[] {
    const order: number[] = [];
    const send = session.sendDatagram.bind(session);
    session.sendDatagram = (data, to, direct) => {
      if (to && !order.includes(to.port)) order.push(to.port);
      send(data, to, direct);
    };
    return order;
  }

  const remote = (p: ScriptedPeer, candidates: IceCandidate[] = [p.candidate()]) => ({ ufrag: p.ufrag, pwd: p.pwd, candidates });

  /** Time for what must not happen to show (a check, an answer, a state). */
  const quiet = (ms = 250) => new Promise((resolve) => setTimeout(resolve, ms));

  it('controlling: its check carries USERNAME, PRIORITY, ICE-CONTROLLING, integrity with the peer\'s password and FINGERPRINT; then it nominates the pair with USE-CANDIDATE and selects it', async () => {
    const a = await agent();
    const p = await peer();
    a.agent.start(remote(p), true);
    await waitFor(() => a.agent.state === 'connected', 2000, 'connected');
    const [check, nomination, ...rest] = p.requests();
    expect(rest).toEqual([]);
    for (const message of [check!, nomination!]) {
      expect(message.method).toBe(STUN_METHOD.binding);
      expect(Buffer.from(stunAttribute(message, STUN_ATTRIBUTE.username)!).toString()).toBe(`${p.ufrag}:${a.agent.ufrag}`);
      expect(readUint32(stunAttribute(message, STUN_ATTRIBUTE.priority))).toBe(PRFLX_PRIORITY);
      expect(stunAttribute(message, STUN_ATTRIBUTE.iceControlling)).toHaveLength(8);
      expect(stunAttribute(message, STUN_ATTRIBUTE.iceControlled)).toBeUndefined();
      expect(checkStunIntegrity(message, Buffer.from(p.pwd))).toBe(true);
      expect(checkStunIntegrity(message, Buffer.from(a.agent.pwd))).toBe(false);
      expect(checkStunFingerprint(message)).toBe(true);
    }
    expect(stunAttribute(check!, STUN_ATTRIBUTE.useCandidate)).toBeUndefined();
    expect(stunAttribute(nomination!, STUN_ATTRIBUTE.useCandidate)).toEqual(new Uint8Array(0));
    expect(Buffer.from(stunAttribute(nomination!, STUN_ATTRIBUTE.iceControlling)!)).toEqual(Buffer.from(stunAttribute(check!, STUN_ATTRIBUTE.iceControlling)!));
    const host = a.agent.candidates[0]!;
    expect(host).toEqual({ foundation: '1', component: 1, transport: 'udp', priority: HOST_PRIORITY, address: '127.0.0.1', port: a.session.localPort, type: 'host' });
    expect(a.agent.selected).toEqual({ local: host, remote: p.candidate() });
    expect(a.selected).toEqual([{ local: host, remote: p.candidate() }]);
    expect(a.states).toEqual(['gathering', 'new', 'checking', 'connected']);
    expect(a.agent.counters).toEqual({ checksSent: 2, checksSucceeded: 2, checksFailed: 0, requestsReceived: 0, badIntegrity: 0, badUsername: 0, malformed: 0, roleConflicts: 0, consentChecks: 0 });
    expect(a.session.relay).toBeUndefined();
    expect(a.refused).toEqual([]);
    await quiet();
    expect(p.requests()).toHaveLength(2);
  });

  it('controlled: its check carries ICE-CONTROLLED and no USE-CANDIDATE, it nominates nothing, and selects the pair the peer nominates', async () => {
    const a = await agent();
    const p = await peer();
    a.agent.start(remote(p), false);
    await waitFor(() => a.agent.counters.checksSucceeded === 1, 2000, 'the check answered');
    await quiet();
    expect(a.agent.state).toBe('checking');
    const [check, ...rest] = p.requests();
    expect(rest).toEqual([]);
    expect(stunAttribute(check!, STUN_ATTRIBUTE.iceControlled)).toHaveLength(8);
    expect(stunAttribute(check!, STUN_ATTRIBUTE.iceControlling)).toBeUndefined();
    expect(stunAttribute(check!, STUN_ATTRIBUTE.useCandidate)).toBeUndefined();
    // A check without USE-CANDIDATE is answered but selects nothing.
    const plain = p.check(a.me, { controlling: HIGH });
    const plainAnswer = await p.answerTo(plain);
    expect(plainAnswer.cls).toBe('success');
    await quiet(100);
    expect(a.agent.state).toBe('checking');
    // The peer nominates: the pair has succeeded already, so it is selected at once.
    const sent = p.check(a.me, { controlling: HIGH, useCandidate: true });
    const answer = await p.answerTo(sent);
    expect(answer.cls).toBe('success');
    expect(answer.method).toBe(STUN_METHOD.binding);
    expect(decodeXorAddress(stunAttribute(answer, STUN_ATTRIBUTE.xorMappedAddress), answer.transactionId)).toEqual({ address: '127.0.0.1', port: p.port });
    expect(checkStunIntegrity(answer, Buffer.from(a.agent.pwd))).toBe(true);
    expect(checkStunFingerprint(answer)).toBe(true);
    await waitFor(() => a.agent.state === 'connected', 2000, 'connected');
    expect(a.agent.selected?.remote).toEqual(p.candidate());
    expect(a.agent.controlling).toBe(false);
    expect(a.agent.counters).toMatchObject({ checksSent: 1, checksSucceeded: 1, requestsReceived: 2, roleConflicts: 0 });
  });

  it('controlled: a nomination that comes before its own check succeeded selects the pair when that check\'s answer comes', async () => {
    const a = await agent();
    const p = await peer();
    p.answer = { kind: 'silent' };
    a.agent.start(remote(p), false);
    await waitFor(() => p.requests().length === 1, 2000, 'the check');
    await p.answerTo(p.check(a.me, { controlling: HIGH, useCandidate: true }));
    await quiet(100);
    expect(a.agent.state).toBe('checking');
    // Now the agent's check (retransmitted) gets its answer.
    p.answer = { kind: 'success' };
    await waitFor(() => a.agent.state === 'connected', 2000, 'connected');
    expect(a.agent.selected?.remote).toEqual(p.candidate());
    expect(a.agent.counters.checksSent).toBe(1);
  });

  it('names the pair\'s local end by the address the peer saw: a peer-reflexive candidate when it is none of ours, our host candidate when it is', async () => {
    // Our port at another address, and our address at another port: neither is our host candidate.
    for (const mapped of [(port: number) => ({ address: '203.0.113.7', port }), (port: number) => ({ address: '127.0.0.1', port: port + 1 })]) {
      const a = await agent();
      const p = await peer();
      const seen = mapped(a.session.localPort);
      p.answer = { kind: 'success', mapped: seen };
      a.agent.start(remote(p), true);
      await waitFor(() => a.agent.state === 'connected', 2000, 'connected');
      expect(a.agent.selected?.local).toEqual({ foundation: 'p', component: 1, transport: 'udp', priority: PRFLX_PRIORITY, ...seen, type: 'prflx', relatedAddress: '127.0.0.1', relatedPort: a.session.localPort });
    }
    const b = await agent();
    const q = await peer('B');
    q.answer = { kind: 'success', mapped: { address: '127.0.0.1', port: b.session.localPort } };
    b.agent.start(remote(q), true);
    await waitFor(() => b.agent.state === 'connected', 2000, 'connected');
    expect(b.agent.selected?.local).toBe(b.agent.candidates[0]);
  });

  it('checks the pairs in the order of their priority (not the SDP\'s), one every 20 ms, each pair once', async () => {
    const a = await agent();
    // The order the checks left in (their arrivals at three sockets could be read in another order).
    const order = sendOrder(a.session);
    const peers = [await peer('A'), await peer('B'), await peer('C')];
    for (const p of peers) p.answer = { kind: 'silent' };
    // The SDP lists the lowest first; all three share the credentials of one peer.
    const [low, high, middle] = peers;
    const candidates = [low!.candidate(100, '1'), high!.candidate(2130706431, '2'), middle!.candidate(1694498815, '3')];
    // Ta on the agent's clock (fake): the next check 20 ms after the last, not before.
    fakeTimers();
    a.agent.start({ ufrag: low!.ufrag, pwd: low!.pwd, candidates }, true);
    await settle(() => order.length === 1, 'the first check');
    for (const count of [2, 3]) {
      await advance(15);
      expect(order).toHaveLength(count - 1);
      await advance(5);
      await settle(() => order.length === count, `check ${count} at 20 ms`);
    }
    expect(order).toEqual([high!.port, middle!.port, low!.port]);
    await advance(400);
    await settle(() => peers.every((p) => p.received.length >= 3), 'the retransmissions');
    expect(peers.map((p) => p.requests().length)).toEqual([1, 1, 1]);
    expect(a.agent.counters.checksSent).toBe(3);
  });

  it('orders pairs by the 64-bit pair priority: two that differ below a double\'s precision are still told apart', async () => {
    // Our host candidate is G (2130706431) for both; D differs by 100, which 2^32 * G rounds away in a double.
    const a = await agent();
    const order = sendOrder(a.session);
    const peers = [await peer('A'), await peer('B')];
    for (const p of peers) p.answer = { kind: 'silent' };
    const [lower, higher] = peers;
    a.agent.start({ ufrag: lower!.ufrag, pwd: lower!.pwd, candidates: [lower!.candidate(2147483000, '1'), higher!.candidate(2147483100, '2')] }, true);
    await waitFor(() => peers.every((p) => p.requests().length === 1), 2000, 'a check on each pair');
    expect(order).toEqual([higher!.port, lower!.port]);
  });

  it('orders by the pair priority of RFC 8445 6.1.2.3 when controlled too (the peer\'s candidate is G)', async () => {
    const a = await agent();
    const order = sendOrder(a.session);
    const peers = [await peer('A'), await peer('B')];
    for (const p of peers) p.answer = { kind: 'silent' };
    const [low, high] = peers;
    a.agent.start({ ufrag: low!.ufrag, pwd: low!.pwd, candidates: [low!.candidate(5, '1'), high!.candidate(7, '2')] }, false);
    await waitFor(() => peers.every((p) => p.requests().length === 1), 2000, 'a check on each pair');
    expect(order).toEqual([high!.port, low!.port]);
  });

  it('a check answered with an error fails its pair (counted, reported with the code) and the next pair is still checked and selected', async () => {
    const a = await agent();
    const bad = await peer('A');
    const good = await peer('B', bad);
    bad.answer = { kind: 'error', code: 400, reason: 'Bad Request' };
    a.agent.start({ ufrag: bad.ufrag, pwd: bad.pwd, candidates: [bad.candidate(2000, '1'), good.candidate(1000, '2')] }, true);
    await waitFor(() => a.agent.state === 'connected', 2000, 'connected');
    expect(a.agent.selected?.remote.port).toBe(good.port);
    expect(a.refused).toEqual([`the check of 127.0.0.1:${bad.port} was answered 400`]);
    expect(a.agent.counters).toMatchObject({ checksSent: 3, checksSucceeded: 2, checksFailed: 1 });
  });

  it('an error answer that is not a role conflict leaves it checking until the deadline, then failed', async () => {
    const a = await agent({ checkTimeoutMs: 600 });
    const p = await peer();
    p.answer = { kind: 'error', code: 403, reason: 'Forbidden' };
    a.agent.start(remote(p), true);
    await waitFor(() => a.agent.counters.checksFailed === 1, 2000, 'the check failed');
    expect(a.agent.state).toBe('checking');
    await waitFor(() => a.agent.state === 'failed', 3000, 'failed');
    expect(a.refused).toEqual([`the check of 127.0.0.1:${p.port} was answered 403`, 'no candidate pair worked']);
    expect(a.states).toEqual(['gathering', 'new', 'checking', 'failed']);
    expect(p.requests()).toHaveLength(1);
  });

  it('a 487 answer (role conflict) makes the controlling agent controlled and checks the pair again at once', async () => {
    const a = await agent();
    const p = await peer();
    p.next.push({ kind: 'error', code: 487, reason: 'Role Conflict' });
    a.agent.start(remote(p), true);
    await waitFor(() => a.agent.counters.checksSucceeded === 1, 2000, 'the second check answered');
    const [first, second, ...rest] = p.requests();
    expect(rest).toEqual([]); // controlled now: no nomination
    expect(stunAttribute(first!, STUN_ATTRIBUTE.iceControlling)).toHaveLength(8);
    expect(stunAttribute(second!, STUN_ATTRIBUTE.iceControlled)).toHaveLength(8);
    expect(stunAttribute(second!, STUN_ATTRIBUTE.iceControlling)).toBeUndefined();
    expect(a.agent.controlling).toBe(false);
    expect(a.agent.counters).toMatchObject({ checksSent: 2, roleConflicts: 1, checksFailed: 0 });
    expect(a.refused).toEqual([]);
    expect(a.agent.state).toBe('checking');
  });

  it('a peer that answers 487 whatever the role gets one more check in the other role, then the pair fails', async () => {
    const a = await agent();
    const p = await peer();
    p.answer = { kind: 'error', code: 487, reason: 'Role Conflict' };
    a.agent.start(remote(p), true);
    await waitFor(() => a.agent.counters.checksFailed === 1, 2000, 'the pair failed');
    await quiet(200);
    expect(p.requests()).toHaveLength(2);
    expect(a.agent.counters).toMatchObject({ checksSent: 2, roleConflicts: 1, checksFailed: 1 });
    expect(a.agent.controlling).toBe(false);
    expect(a.refused).toEqual([`the check of 127.0.0.1:${p.port} was answered 487`]);
  });

  it('a 487 to a check sent before the role changed (the peer\'s check made us controlled meanwhile) keeps the new role and checks again in it', async () => {
    const a = await agent();
    const p = await peer();
    p.answer = { kind: 'silent' };
    a.agent.start(remote(p), true);
    await waitFor(() => p.requests().length === 1, 2000, 'the first check');
    const held = p.received.find(({ message }) => message.cls === 'request')!;
    expect(stunAttribute(held.message, STUN_ATTRIBUTE.iceControlling)).toHaveLength(8);
    // The peer's check with a larger tie-breaker: we give up control.
    expect((await p.answerTo(p.check(a.me, { controlling: HIGH }))).cls).toBe('success');
    expect(a.agent.controlling).toBe(false);
    // Now the held check is answered 487: we are controlled already, and stay so.
    p.respond(held.message, held.from, { kind: 'error', code: 487, reason: 'Role Conflict' });
    p.answer = { kind: 'success' };
    await waitFor(() => p.requests().length === 2, 2000, 'the check again');
    expect(stunAttribute(p.requests()[1]!, STUN_ATTRIBUTE.iceControlled)).toHaveLength(8);
    await waitFor(() => a.agent.counters.checksSucceeded === 1, 2000, 'it succeeded');
    expect(a.agent.controlling).toBe(false);
    expect(a.agent.counters.roleConflicts).toBe(2);
  });

  it('a nomination answered with an error fails that pair, and another pair that works is nominated and selected', async () => {
    const a = await agent();
    const first = await peer('A');
    const second = await peer('B', first);
    first.nomination = { kind: 'error', code: 400, reason: 'Bad Request' };
    a.agent.start({ ufrag: first.ufrag, pwd: first.pwd, candidates: [first.candidate(2000, '1'), second.candidate(1000, '2')] }, true);
    await waitFor(() => a.agent.state === 'connected', 3000, 'connected');
    expect(a.agent.selected?.remote.port).toBe(second.port);
    expect(a.refused).toEqual([`the check of 127.0.0.1:${first.port} was answered 400`]);
    expect(first.requests().map((m) => stunAttribute(m, STUN_ATTRIBUTE.useCandidate) !== undefined)).toEqual([false, true]);
    expect(second.requests().map((m) => stunAttribute(m, STUN_ATTRIBUTE.useCandidate) !== undefined)).toEqual([false, true]);
    // Four checks, the failed nomination the one failure: nothing is nominated when no other pair has succeeded yet.
    expect(a.agent.counters).toMatchObject({ checksSent: 4, checksSucceeded: 3, checksFailed: 1 });
  });

  it('a check carrying the same role: the larger tie-breaker keeps it (487 answered, or the role given up)', async () => {
    // Ours against all-ones (theirs larger) and all-zeros (ours larger).
    const a = await agent();
    const p = await peer();
    p.answer = { kind: 'silent' };
    a.agent.start(remote(p), true);
    let answer = await p.answerTo(p.check(a.me, { controlling: LOW }));
    expect(answer.cls).toBe('error');
    expect(decodeErrorCode(stunAttribute(answer, STUN_ATTRIBUTE.errorCode))).toEqual({ code: 487, reason: 'Role Conflict' });
    expect(checkStunFingerprint(answer)).toBe(true);
    expect(a.agent.controlling).toBe(true);
    answer = await p.answerTo(p.check(a.me, { controlling: HIGH }));
    expect(answer.cls).toBe('success');
    expect(a.agent.controlling).toBe(false);
    expect(a.agent.counters.roleConflicts).toBe(2);
    // Now controlled: a peer that says it is controlled too.
    answer = await p.answerTo(p.check(a.me, { controlled: HIGH }));
    expect(decodeErrorCode(stunAttribute(answer, STUN_ATTRIBUTE.errorCode))).toEqual({ code: 487, reason: 'Role Conflict' });
    expect(a.agent.controlling).toBe(false);
    answer = await p.answerTo(p.check(a.me, { controlled: LOW }));
    expect(answer.cls).toBe('success');
    expect(a.agent.controlling).toBe(true);
    expect(a.agent.counters.roleConflicts).toBe(4);
    // A peer in the other role is no conflict.
    answer = await p.answerTo(p.check(a.me, { controlled: LOW }));
    expect(answer.cls).toBe('success');
    expect(a.agent.counters.roleConflicts).toBe(4);
  });

  it('a controlled agent that does not know its peer yet takes no role conflict from an ICE-CONTROLLED check', async () => {
    const a = await agent();
    const p = await peer();
    const answer = await p.answerTo(p.check(a.me, { controlled: HIGH }));
    expect(answer.cls).toBe('success');
    expect(a.agent.counters).toMatchObject({ roleConflicts: 0, requestsReceived: 1 });
  });

  it('refuses with 401 (no integrity on the answer) a check without USERNAME, with only our ufrag and a colon, with another ufrag, or with a bad MESSAGE-INTEGRITY; each counted and reported', async () => {
    const a = await agent();
    const p = await peer();
    a.agent.start(remote(p), true);
    await waitFor(() => a.agent.state === 'connected', 2000, 'connected');
    const cases = [
      p.check(a.me, { username: null }),
      p.check(a.me, { username: `${a.agent.ufrag}:` }),
      p.check(a.me, { username: `${a.agent.ufrag.slice(1)}x:${p.ufrag}` }),
      p.check(a.me, { key: 'not the password' }),
    ];
    for (const sent of cases) {
      const answer = await p.answerTo(sent);
      expect(answer.cls).toBe('error');
      expect(answer.method).toBe(STUN_METHOD.binding);
      expect(decodeErrorCode(stunAttribute(answer, STUN_ATTRIBUTE.errorCode))).toEqual({ code: 401, reason: 'Unauthorized' });
      expect(answer.integrityOffset).toBe(-1);
      expect(checkStunFingerprint(answer)).toBe(true);
    }
    expect(a.agent.counters).toMatchObject({ requestsReceived: 4, badUsername: 3, badIntegrity: 1 });
    const from = `127.0.0.1:${p.port}`;
    expect(a.refused).toEqual([`a check from ${from} names another USERNAME`, `a check from ${from} names another USERNAME`, `a check from ${from} names another USERNAME`, `a check from ${from} failed MESSAGE-INTEGRITY`]);
    expect(a.agent.state).toBe('connected');
  });

  it('drops without answering what is not a Binding request with a good FINGERPRINT, and counts it; an answer to no check of ours is not counted as malformed', async () => {
    const a = await agent();
    const p = await peer();
    const to = (data: Buffer) => p.socket.send(data, a.session.localPort, '127.0.0.1');
    p.check(a.me, { fingerprint: false });
    const flipped = buildStun({ method: STUN_METHOD.binding, cls: 'request', attributes: [textAttribute(STUN_ATTRIBUTE.username, `${a.agent.ufrag}:${p.ufrag}`)], integrityKey: Buffer.from(a.agent.pwd), fingerprint: true });
    flipped[flipped.length - 1]! ^= 1;
    to(flipped);
    p.check(a.me, { cls: 'indication' });
    p.check(a.me, { method: STUN_METHOD.allocate });
    to(Buffer.from([0x01, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3])); // too short to be STUN
    await waitFor(() => a.agent.counters.malformed === 5, 2000, 'five dropped');
    to(buildStun({ method: STUN_METHOD.binding, cls: 'success', fingerprint: true }));
    await quiet(150);
    expect(a.agent.counters).toMatchObject({ malformed: 5, requestsReceived: 0 });
    expect(p.answers()).toEqual([]);
  });

  it('answers checks that come before it knows the peer, keeps at most 16 of them, and checks those pairs once it starts', async () => {
    const a = await agent();
    const peers: ScriptedPeer[] = [];
    for (let i = 0; i < 17; i++) peers.push(await peer(String(i)));
    for (const p of peers) p.answer = { kind: 'silent' };
    // All share the credentials of the first.
    const first = peers[0]!;
    for (const p of peers) await p.answerTo(p.check({ ...a.me, ufrag: a.agent.ufrag }, { username: `${a.agent.ufrag}:${first.ufrag}`, priority: 1000 + peers.indexOf(p) }));
    expect(a.agent.counters.requestsReceived).toBe(17);
    a.agent.start({ ufrag: first.ufrag, pwd: first.pwd, candidates: [] }, false);
    await waitFor(() => peers.filter((p) => p.requests().length > 0).length === 16, 2000, 'sixteen pairs checked');
    await quiet(200);
    expect(peers.filter((p) => p.requests().length > 0)).toHaveLength(16);
    expect(peers[16]!.requests()).toEqual([]);
  });

  it('a check from an address it did not know makes a peer-reflexive pair with the check\'s PRIORITY (or prflx\'s, without one), checked at once', async () => {
    const a = await agent();
    const known = await peer('A');
    const stranger = await peer('B', known);
    const other = await peer('C', known);
    known.answer = { kind: 'silent' };
    a.agent.start(remote(known), false);
    await stranger.answerTo(stranger.check({ ...a.me }, { username: `${a.agent.ufrag}:${known.ufrag}`, priority: 4242, controlling: HIGH, useCandidate: true }));
    await waitFor(() => a.agent.state === 'connected', 2000, 'connected');
    expect(a.agent.selected?.remote).toEqual({ foundation: 'p1', component: 1, transport: 'udp', priority: 4242, address: '127.0.0.1', port: stranger.port, type: 'prflx' });
    // After selection a new address is still answered, and checked, but changes nothing selected.
    await other.answerTo(other.check({ ...a.me }, { username: `${a.agent.ufrag}:${known.ufrag}`, priority: null, controlling: HIGH }));
    await waitFor(() => other.requests().length === 1, 2000, 'a triggered check');
    expect(readUint32(stunAttribute(other.requests()[0]!, STUN_ATTRIBUTE.priority))).toBe(PRFLX_PRIORITY);
    expect(a.agent.selected?.remote.port).toBe(stranger.port);
  });

  it('a repeated check on a pair in progress or succeeded triggers no new check; one on a failed pair does', async () => {
    const a = await agent();
    const p = await peer();
    p.answer = { kind: 'silent' };
    a.agent.start(remote(p), false);
    await waitFor(() => p.requests().length === 1, 2000, 'the check');
    await p.answerTo(p.check(a.me, { controlling: HIGH }));
    await quiet(100);
    expect(p.requests()).toHaveLength(1);
    p.answer = { kind: 'error', code: 400, reason: 'Bad Request' };
    await waitFor(() => a.agent.counters.checksFailed === 1, 3000, 'the check failed');
    p.answer = { kind: 'success' };
    await p.answerTo(p.check(a.me, { controlling: HIGH }));
    await waitFor(() => p.requests().length === 2, 2000, 'a check on the failed pair');
    await waitFor(() => a.agent.counters.checksSucceeded === 1, 2000, 'it succeeded');
    await p.answerTo(p.check(a.me, { controlling: HIGH }));
    await quiet(100);
    expect(p.requests()).toHaveLength(2);
  });

  it('start: an error before gathering; the same credentials again change nothing; other components and the other address family are left out; nothing after close', async () => {
    const early = await agent({}, false);
    const p = await peer();
    expect(() => early.agent.start(remote(p), true)).toThrow(new IceError('ICE checks start after gathering'));
    const a = await agent({ checkTimeoutMs: 400 });
    const candidates: IceCandidate[] = [{ ...p.candidate(), component: 2 }, { ...p.candidate(), address: '::1' }];
    a.agent.start(remote(p, candidates), true);
    await waitFor(() => a.agent.state === 'failed', 2000, 'failed: no pair');
    expect(p.requests()).toEqual([]);
    expect(a.agent.counters.checksSent).toBe(0);
    const b = await agent();
    b.agent.start(remote(p), false);
    await waitFor(() => b.agent.counters.checksSucceeded === 1, 2000, 'checked');
    b.agent.start({ ...remote(p), candidates: [p.candidate(), { ...p.candidate(), port: p.port + 1 }] }, true);
    await quiet(150);
    expect(b.agent.controlling).toBe(false);
    expect(b.agent.counters.checksSent).toBe(1);
    b.agent.close();
    expect(b.agent.state).toBe('closed');
    b.agent.start({ ufrag: 'other', pwd: 'another password that is long', candidates: [p.candidate()] }, true);
    expect(b.agent.state).toBe('closed');
    await quiet(100);
    expect(p.requests()).toHaveLength(1);
  });

  it('new credentials given to start() send the checks that follow with them', async () => {
    const a = await agent();
    const p = await peer('A');
    p.answer = { kind: 'silent' };
    a.agent.start(remote(p), false);
    await waitFor(() => p.requests().length === 1, 2000, 'the first check');
    const q = await peer('B');
    a.agent.start(remote(q), false);
    await waitFor(() => q.requests().length === 1, 2000, 'a check with the new credentials');
    expect(Buffer.from(stunAttribute(q.requests()[0]!, STUN_ATTRIBUTE.username)!).toString()).toBe(`${q.ufrag}:${a.agent.ufrag}`);
    expect(checkStunIntegrity(q.requests()[0]!, Buffer.from(q.pwd))).toBe(true);
    // Still checking: the state is not announced again.
    expect(a.states).toEqual(['gathering', 'new', 'checking']);
    // Either credential alone new is new credentials too: the next check is signed with the new
    // password, or names the new ufrag.
    q.answer = { kind: 'silent' };
    for (const changed of [{ ufrag: q.ufrag, pwd: 'another-password-of-the-peer-B' }, { ufrag: 'peerB2', pwd: 'another-password-of-the-peer-B' }]) {
      const r = await peer('R', changed as ScriptedPeer);
      r.answer = { kind: 'silent' };
      a.agent.start(remote(r), false);
      await waitFor(() => r.requests().length === 1, 2000, 'a check with the changed credentials');
      expect(Buffer.from(stunAttribute(r.requests()[0]!, STUN_ATTRIBUTE.username)!).toString()).toBe(`${changed.ufrag}:${a.agent.ufrag}`);
      expect(checkStunIntegrity(r.requests()[0]!, Buffer.from(changed.pwd))).toBe(true);
    }
  });

  it('closing stops its checks and its answers, and it says so once', async () => {
    const a = await agent();
    const p = await peer();
    p.answer = { kind: 'silent' };
    a.agent.start(remote(p), true);
    await waitFor(() => p.received.length >= 1, 2000, 'the first check');
    const states = a.states;
    a.agent.close();
    a.agent.close();
    expect(states.filter((s) => s === 'closed')).toHaveLength(1);
    const count = p.received.length;
    p.check(a.me, { controlling: LOW });
    await quiet(400);
    expect(p.received.length).toBe(count); // no retransmission, no answer
    expect(a.agent.counters.requestsReceived).toBe(0);
    // The check it gave up is not a check that failed.
    expect(a.agent.counters).toMatchObject({ checksSent: 1, checksFailed: 0 });
    expect(a.agent.listenerCount('stateChanged')).toBe(0);
  });

  it('consent: a check on the selected pair every consentIntervalMs or so, with the ICE attributes and no USE-CANDIDATE; answered it keeps the pair, errors lose consent', async () => {
    const a = await agent({ consentIntervalMs: 150, consentTimeoutMs: 700 });
    const p = await peer();
    a.agent.start(remote(p), true);
    await waitFor(() => a.agent.state === 'connected', 2000, 'connected');
    // Six consent checks reach the peer: answered, they keep the pair past consentTimeoutMs.
    await waitFor(() => p.requests().length >= 2 + 6, 4000, 'six consent checks');
    expect(a.agent.state).toBe('connected');
    const consent = p.requests().slice(2);
    for (const message of consent) {
      expect(Buffer.from(stunAttribute(message, STUN_ATTRIBUTE.username)!).toString()).toBe(`${p.ufrag}:${a.agent.ufrag}`);
      expect(readUint32(stunAttribute(message, STUN_ATTRIBUTE.priority))).toBe(PRFLX_PRIORITY);
      expect(stunAttribute(message, STUN_ATTRIBUTE.iceControlling)).toHaveLength(8);
      expect(stunAttribute(message, STUN_ATTRIBUTE.useCandidate)).toBeUndefined();
      expect(checkStunIntegrity(message, Buffer.from(p.pwd))).toBe(true);
      expect(checkStunFingerprint(message)).toBe(true);
    }
    // The intervals themselves are pinned on a fake clock below (arrival times here would bunch up in a stall).
    expect(a.agent.state).toBe('connected');
    // Answered with errors from now on: consent is not renewed.
    p.answer = { kind: 'error', code: 400, reason: 'Bad Request' };
    await waitFor(() => a.agent.state === 'failed', 3000, 'consent lost');
    expect(a.refused).toEqual([`consent lost: no answer from 127.0.0.1:${p.port} for 1 s`]);
  });

  it('a STUN server that maps us elsewhere gives a server-reflexive candidate, the default one; one that maps us where we are gives none', async () => {
    const server = await peer('S');
    server.answer = { kind: 'success', mapped: { address: '198.51.100.9', port: 5000 } };
    const a = await agent({ stunServer: { address: '127.0.0.1', port: server.port } });
    const host = a.agent.candidates[0]!;
    const srflx = { foundation: '2', component: 1, transport: 'udp', priority: candidatePriority('srflx'), address: '198.51.100.9', port: 5000, type: 'srflx', relatedAddress: '127.0.0.1', relatedPort: a.session.localPort };
    expect(a.agent.candidates).toEqual([host, srflx]);
    expect(a.agent.defaultCandidate).toEqual(srflx);
    expect(a.states).toEqual(['gathering', 'new']);
    // The Binding request to the server: no credentials, a FINGERPRINT.
    const [request] = server.requests();
    expect(request!.attributes).toEqual([]);
    expect(checkStunFingerprint(request!)).toBe(true);
    // Gathering again gives the same candidates, asks nobody.
    expect(await a.agent.gather()).toEqual([host, srflx]);
    expect(server.requests()).toHaveLength(1);
    // Our port at another address is a server-reflexive candidate too.
    const f = await agent({ stunServer: { address: '127.0.0.1', port: server.port } }, false);
    server.answer = { kind: 'success', mapped: { address: '198.51.100.9', port: f.session.localPort } };
    await f.agent.gather();
    expect(f.agent.candidates.map((candidate) => candidate.type)).toEqual(['host', 'srflx']);
    // The same address on another port is a server-reflexive candidate too.
    const samePlace = await peer('T');
    const b = await agent({}, false);
    samePlace.answer = { kind: 'success', mapped: { address: '127.0.0.1', port: b.session.localPort } };
    const c = await agent({ stunServer: { address: '127.0.0.1', port: samePlace.port } });
    expect(c.agent.candidates.map((candidate) => candidate.type)).toEqual(['host', 'srflx']);
    const d = await agent({ stunServer: { address: '127.0.0.1', port: samePlace.port } }, false);
    samePlace.answer = { kind: 'success', mapped: { address: '127.0.0.1', port: d.session.localPort } };
    await d.agent.gather();
    expect(d.agent.candidates.map((candidate) => candidate.type)).toEqual(['host']);
    expect(d.agent.defaultCandidate).toBe(d.agent.candidates[0]);
    expect(b.agent.defaultCandidate).toBeUndefined();
  });

  it('closing while the TURN server has not answered the allocation closes the connection to it at once', async () => {
    let connection: Socket | undefined;
    let closed = false;
    const server = createServer((socket) => {
      connection = socket;
      socket.resume(); // read (and drop) the Allocate request: a paused socket would never see the end
      socket.on('close', () => (closed = true));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => server.close());
    const a = await agent({ turnServer: { server: { address: '127.0.0.1', port: (server.address() as { port: number }).port }, username: 'u', password: 'p', transport: 'tcp' } }, false);
    const gathered = a.agent.gather();
    await waitFor(() => connection !== undefined, 2000, 'the connection to the TURN server');
    a.agent.close();
    await waitFor(() => closed, 1000, 'the connection closed');
    expect(await gathered).toEqual([expect.objectContaining({ type: 'host' })]);
  });

  it('with the relay policy and no relayed candidate it offers nothing, and checks to its RTP port are not answered', async () => {
    const a = await agent({ policy: 'relay' });
    const p = await peer();
    expect(a.agent.candidates).toEqual([]);
    expect(a.agent.defaultCandidate).toBeUndefined();
    p.check(a.me, { controlling: HIGH });
    await quiet(200);
    expect(p.answers()).toEqual([]);
    expect(a.agent.counters).toMatchObject({ requestsReceived: 0, malformed: 0 });
  });
  // Fake timers for the agent's own clocks (retransmissions, pacing, deadline, consent); the
  // sockets stay real, so the tests let datagrams in between the steps of fake time.
  // `performance.now()` too when a test says so (consent's clock).
  function fakeTimers(clock: 'real' | 'fake' = 'real'): void {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'queueMicrotask', 'setInterval', 'clearInterval', 'Date', 'hrtime', ...(clock === 'real' ? (['performance'] as const) : [])] });
  }
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
  /** Fake time moves on by `ms`, 5 ms at a time, with the datagrams of each step let in. */
  async function advance(ms: number): Promise<void> {
    for (let done = 0; done < ms; done += 5) {
      await jest.advanceTimersByTimeAsync(Math.min(5, ms - done));
      await tick();
      await tick();
    }
  }
  /** Waits in real time (2 s at most) for what the sockets bring, fake time standing still. */
  async function settle(condition: () => boolean, what: string): Promise<void> {
    const end = Date.now() + 2000;
    while (!condition()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await tick();
    }
  }
  const nominations = (p: ScriptedPeer) => p.requests().filter((m) => stunAttribute(m, STUN_ATTRIBUTE.useCandidate) !== undefined);

  it('a check the peer never answers: five sends (after 0, 100, 300, 700, 1500 ms), its pair failed at 3.1 s, counted and not reported; the peer\'s own check then checks it again', async () => {
    const a = await agent();
    const p = await peer();
    p.answer = { kind: 'silent' };
    fakeTimers();
    a.agent.start(remote(p), false);
    const sends = () => p.received.filter(({ message }) => message.cls === 'request').length;
    await settle(() => sends() === 1, 'the check');
    await advance(3090);
    expect(sends()).toBe(5);
    expect(a.agent.counters.checksFailed).toBe(0);
    await advance(20);
    expect(a.agent.counters).toMatchObject({ checksSent: 1, checksFailed: 1, checksSucceeded: 0 });
    expect(a.refused).toEqual([]);
    expect(a.agent.state).toBe('checking');
    p.answer = { kind: 'success' };
    p.check(a.me, { controlling: HIGH });
    await settle(() => p.requests().length === 2 && a.agent.counters.checksSucceeded === 1, 'the failed pair checked again');
  });

  /**
   * A controlling agent with two pairs to two peers: it nominated the first (whose peer never
   * answers the nomination), and the second pair has succeeded meanwhile. On the fake clock.
   */
  async function nominationUnanswered() {
    const a = await agent();
    const first = await peer('A');
    const second = await peer('B', first);
    first.nomination = { kind: 'silent' };
    fakeTimers();
    a.agent.start({ ufrag: first.ufrag, pwd: first.pwd, candidates: [first.candidate(2000, '1'), second.candidate(1000, '2')] }, true);
    await settle(() => nominations(first).length === 1, 'the first pair nominated');
    await advance(25);
    await settle(() => a.agent.counters.checksSucceeded === 2, 'the second pair succeeded');
    return { a, first, second };
  }

  it('a nomination the peer never answers gives way, once it times out, to the other pair that succeeded meanwhile', async () => {
    const { a, first, second } = await nominationUnanswered();
    expect(nominations(second)).toEqual([]); // one nomination at a time
    await advance(3100);
    await settle(() => a.agent.state === 'connected', 'connected');
    expect(a.agent.selected?.remote.port).toBe(second.port);
    expect(nominations(second)).toHaveLength(1);
    expect(nominations(first)).toHaveLength(1);
    expect(a.agent.counters.checksFailed).toBe(1);
  });

  it('a nomination that times out after a role conflict made us controlled nominates no other pair', async () => {
    const { a, first, second } = await nominationUnanswered();
    // The peer controls too, with the larger tie-breaker: we give up control.
    first.check(a.me, { controlling: HIGH });
    await settle(() => !a.agent.controlling, 'controlled');
    await advance(3100);
    expect(a.agent.counters.checksFailed).toBe(1);
    expect(nominations(second)).toEqual([]);
    expect(a.agent.state).toBe('checking');
  });

  it('a pair that fails while another is being nominated starts no second nomination', async () => {
    const a = await agent();
    const first = await peer('A');
    const second = await peer('B', first);
    first.nomination = { kind: 'silent' };
    second.answer = { kind: 'error', code: 400, reason: 'Bad Request' };
    a.agent.start({ ufrag: first.ufrag, pwd: first.pwd, candidates: [first.candidate(2000, '1'), second.candidate(1000, '2')] }, true);
    await waitFor(() => a.agent.counters.checksFailed === 1, 2000, 'the second pair failed');
    await quiet(150);
    expect(nominations(first)).toHaveLength(1);
    expect(a.agent.state).toBe('checking');
  });

  it('new credentials while checking give a new deadline; once failed it sends nothing more (retransmissions stop) and start() changes nothing', async () => {
    const a = await agent({ checkTimeoutMs: 400 });
    const p = await peer('A');
    const q = await peer('B');
    p.answer = { kind: 'silent' };
    q.answer = { kind: 'silent' };
    fakeTimers();
    a.agent.start(remote(p), false);
    await advance(200);
    a.agent.start(remote(q), false);
    await advance(300); // 500 ms after the first start()
    expect(a.agent.state).toBe('checking');
    await advance(110);
    expect(a.agent.state).toBe('failed');
    expect(a.refused).toEqual(['no candidate pair worked']);
    const count = p.received.length + q.received.length;
    await advance(3000);
    expect(p.received.length + q.received.length).toBe(count);
    expect(a.agent.counters.checksFailed).toBe(0);
    const r = await peer('C');
    a.agent.start(remote(r), true);
    await advance(100);
    expect(a.agent.state).toBe('failed');
    expect(r.received).toEqual([]);
    expect(a.states).toEqual(['gathering', 'new', 'checking', 'failed']);
  });

  it('after failing, a nomination of a pair that succeeded is answered but selects nothing', async () => {
    const a = await agent({ checkTimeoutMs: 300 });
    const p = await peer();
    a.agent.start(remote(p), false);
    await waitFor(() => a.agent.state === 'failed', 2000, 'failed: the peer nominated nothing');
    expect(a.agent.counters.checksSucceeded).toBe(1);
    expect((await p.answerTo(p.check(a.me, { controlling: HIGH, useCandidate: true }))).cls).toBe('success');
    await quiet(100);
    expect(a.agent.state).toBe('failed');
    expect(a.selected).toEqual([]);
  });

  it('new credentials once connected keep the selected pair: the deadline of the new checks does not fail it', async () => {
    const a = await agent({ checkTimeoutMs: 300 });
    const p = await peer('A');
    a.agent.start(remote(p), true);
    await waitFor(() => a.agent.state === 'connected', 2000, 'connected');
    const q = await peer('B');
    q.answer = { kind: 'silent' };
    a.agent.start(remote(q), true);
    await quiet(500);
    expect(a.agent.state).not.toBe('failed');
    expect(a.agent.selected?.remote.port).toBe(p.port);
  });

  it('roles: controlled until start() (an early ICE-CONTROLLING check is no conflict, whatever its tie-breaker); an ICE-lite peer makes it controlling', async () => {
    const a = await agent();
    const p = await peer('A');
    expect(a.agent.controlling).toBe(false);
    expect((await p.answerTo(p.check(a.me, { controlling: LOW }))).cls).toBe('success');
    expect(a.agent.counters.roleConflicts).toBe(0);
    const b = await agent();
    const q = await peer('B');
    b.agent.start({ ...remote(q), lite: true }, false);
    expect(b.agent.controlling).toBe(true);
    await waitFor(() => b.agent.state === 'connected', 2000, 'connected');
    const [check, nomination] = q.requests();
    expect(stunAttribute(check!, STUN_ATTRIBUTE.iceControlling)).toHaveLength(8);
    expect(stunAttribute(nomination!, STUN_ATTRIBUTE.useCandidate)).toBeDefined();
  });

  it('closed before gathering, it gathers nothing and stays closed', async () => {
    const a = await agent({}, false);
    a.agent.close();
    expect(await a.agent.gather()).toEqual([]);
    expect(a.agent.state).toBe('closed');
    expect(a.agent.candidates).toEqual([]);
  });

  it('controlled: the first pair the peer nominates stays selected when it nominates another', async () => {
    const a = await agent();
    const first = await peer('A');
    const second = await peer('B', first);
    a.agent.start({ ufrag: first.ufrag, pwd: first.pwd, candidates: [first.candidate(2000, '1'), second.candidate(1000, '2')] }, false);
    await waitFor(() => a.agent.counters.checksSucceeded === 2, 2000, 'both pairs succeeded');
    await first.answerTo(first.check(a.me, { controlling: HIGH, useCandidate: true }));
    await waitFor(() => a.agent.state === 'connected', 2000, 'connected');
    await second.answerTo(second.check(a.me, { controlling: HIGH, useCandidate: true }));
    await quiet(100);
    expect(a.selected.map((pair) => pair.remote.port)).toEqual([first.port]);
    expect(a.agent.selected?.remote.port).toBe(first.port);
  });

  it('an error answer without ERROR-CODE fails the pair (reported as "?"); a success without XOR-MAPPED-ADDRESS keeps our host candidate as the local end', async () => {
    const a = await agent();
    const p = await peer('A');
    p.answer = { kind: 'error', code: null, reason: '' };
    a.agent.start(remote(p), true);
    await waitFor(() => a.agent.counters.checksFailed === 1, 2000, 'the pair failed');
    expect(a.refused).toEqual([`the check of 127.0.0.1:${p.port} was answered ?`]);
    const b = await agent();
    const q = await peer('B');
    q.answer = { kind: 'success', mapped: null };
    b.agent.start(remote(q), true);
    await waitFor(() => b.agent.state === 'connected', 2000, 'connected');
    expect(b.agent.selected?.local).toBe(b.agent.candidates[0]);
  });

  it('a check without PRIORITY from an unknown address: its pair\'s remote end gets prflx\'s priority, and the triggered check carries no USE-CANDIDATE', async () => {
    const a = await agent();
    const known = await peer('A');
    const stranger = await peer('B', known);
    known.answer = { kind: 'silent' };
    a.agent.start(remote(known), false);
    await stranger.answerTo(stranger.check(a.me, { username: `${a.agent.ufrag}:${known.ufrag}`, priority: null, controlling: HIGH, useCandidate: true }));
    await waitFor(() => a.agent.state === 'connected', 2000, 'connected');
    expect(a.agent.selected?.remote).toMatchObject({ type: 'prflx', port: stranger.port, priority: PRFLX_PRIORITY });
    expect(stranger.requests()).toHaveLength(1);
    expect(stunAttribute(stranger.requests()[0]!, STUN_ATTRIBUTE.useCandidate)).toBeUndefined();
  });

  it('consent: the next check after consentIntervalMs times 0.8 to 1.2 (drawn each time); answers signed with another password do not renew it', async () => {
    const a = await agent({ consentIntervalMs: 1000, consentTimeoutMs: 2500 });
    const p = await peer();
    const random = jest.spyOn(Math, 'random').mockReturnValue(0);
    fakeTimers('fake');
    a.agent.start(remote(p), true);
    await settle(() => a.agent.state === 'connected', 'connected');
    const at = p.requests().length;
    await advance(795);
    expect(p.requests()).toHaveLength(at);
    await advance(10);
    await settle(() => p.requests().length === at + 1, 'a consent check 800 ms after connecting');
    random.mockReturnValue(0.999999); // the interval after the next check: 1200 ms
    await advance(800);
    await settle(() => p.requests().length === at + 2, 'the second one 800 ms later');
    await advance(1190);
    expect(p.requests()).toHaveLength(at + 2);
    await advance(15);
    await settle(() => p.requests().length === at + 3, 'the third one 1200 ms later');
    expect(a.agent.state).toBe('connected');
    // From now on answered with the wrong password: consent runs out 2.5 s after the last good answer.
    p.answer = { kind: 'success', key: 'not-the-peer-password-at-all' };
    for (let waited = 0; waited < 4000 && a.agent.state === 'connected'; waited += 100) await advance(100);
    expect(a.agent.state).toBe('failed');
    expect(a.refused).toEqual([`consent lost: no answer from 127.0.0.1:${p.port} for 3 s`]);
  });
  it('pacing stops once no pair waits; closed by a listener of its \'checking\' state, it sends no check and leaves no timer', async () => {
    const a = await agent();
    const b = await agent();
    const p = await peer('A');
    const q = await peer('B');
    p.answer = { kind: 'silent' };
    b.agent.on('stateChanged', (state) => {
      if (state === 'checking') b.agent.close();
    });
    fakeTimers();
    a.agent.start(remote(p), false);
    await settle(() => p.requests().length === 1, 'the check');
    // The check's retransmission and the deadline; no pacer: the one pair is in progress.
    expect(jest.getTimerCount()).toBe(2);
    a.agent.close();
    expect(jest.getTimerCount()).toBe(0);
    b.agent.start(remote(q, [q.candidate(2000, '1'), { ...q.candidate(1000, '2'), port: q.port + 1 }]), false);
    expect(b.agent.state).toBe('closed');
    expect(jest.getTimerCount()).toBe(0);
    await advance(100);
    expect(q.received).toEqual([]);
  });
});
