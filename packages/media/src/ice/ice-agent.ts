import { randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { SafeEmitter } from '@sip-endpoint/policy';
import type { RtpSession } from '../rtp/rtp-session';
import { candidatePriority, iceCredentials, type IceCandidate } from './candidate';
import { IceError } from './ice-error';
import {
  buildStun,
  checkStunFingerprint,
  checkStunIntegrity,
  decodeErrorCode,
  decodeXorAddress,
  encodeXorAddress,
  errorCodeAttribute,
  parseStun,
  readUint32,
  STUN_ATTRIBUTE,
  STUN_METHOD,
  stunAttribute,
  textAttribute,
  uint32Attribute,
  type StunAddress,
  type StunMessage,
} from './stun';
import { stunBinding, StunTransactions } from './stun-transactions';
import { TurnClient } from './turn-client';

/** Where a pair's local end is: our RTP port itself, or our TURN allocation. */
type Base = 'host' | 'relay';

/** A candidate pair: ours and the peer's (RFC 8445 6.1.2). @public */
export interface IcePair {
  local: IceCandidate;
  remote: IceCandidate;
}

/** Where an ICE agent stands. @public */
export type IceAgentState = 'new' | 'gathering' | 'checking' | 'connected' | 'failed' | 'closed';

/** The peer's ICE parameters, from its SDP. @public */
export interface RemoteIce {
  ufrag: string;
  pwd: string;
  candidates: readonly IceCandidate[];
  /** The peer is ICE-lite (`a=ice-lite`): it only answers checks, so we control. */
  lite?: boolean;
}

/** Options of an {@link IceAgent}. @public */
export interface IceAgentOptions {
  /** The RTP session whose port the agent runs on (its STUN datagrams are the agent's). */
  session: RtpSession;
  /** Our host candidate's address: the media address written in SDP. */
  hostAddress: string;
  /** A STUN server, for our server-reflexive candidate (`stun_server`, `stun_server_port`). */
  stunServer?: StunAddress;
  /**
   * A TURN server, for our relayed candidate (`turn_server`, `turn_server_port`,
   * `turn_user_name`, `turn_password`; `turn_relay_type` 1 reaches it over TCP, 2 over TLS with
   * `tls` as node:tls's client options: the authorities to trust, the name to check).
   */
  turnServer?: { server: StunAddress; username: string; password: string; transport: 'udp' | 'tcp' | 'tls'; tls?: ConnectionOptions };
  /**
   * `relay` uses the relayed candidate alone (as WebRTC's `iceTransportPolicy: 'relay'`): only it
   * is offered and checked, and checks to the RTP port itself are not answered. @defaultValue 'all'
   */
  policy?: 'all' | 'relay';
  /** Consent freshness (RFC 7675): a check on the selected pair this often. @defaultValue 5000 */
  consentIntervalMs?: number;
  /** ... and consent lost when no answer came for this long. @defaultValue 30000 */
  consentTimeoutMs?: number;
  /** No pair works after this long: `failed`. @defaultValue 10000 */
  checkTimeoutMs?: number;
}

/** Counters of an {@link IceAgent}. @public */
export interface IceAgentCounters {
  checksSent: number;
  checksSucceeded: number;
  checksFailed: number;
  requestsReceived: number;
  /** Requests refused with 401: a MESSAGE-INTEGRITY that does not check with our password. */
  badIntegrity: number;
  /** Requests refused with 401: a USERNAME that is not ours. */
  badUsername: number;
  /** Datagrams dropped: not STUN, without FINGERPRINT or with a wrong one, or not a request nor an answer. */
  malformed: number;
  roleConflicts: number;
  consentChecks: number;
}

/** Events of an {@link IceAgent}. @public */
export type IceAgentEvents = {
  stateChanged: [IceAgentState, IceAgentState];
  /** A pair was selected (nominated and checked): media goes there. */
  selected: [IcePair];
  /** A check or request was refused (bad integrity, a stranger's username): the reason, for the log. */
  refused: [string];
};

interface PairState extends IcePair {
  base: Base;
  state: 'waiting' | 'in-progress' | 'succeeded' | 'failed';
  /** The controlling peer asked for this pair (USE-CANDIDATE). */
  nominatedByPeer: boolean;
  /** RFC 8445 6.1.2.3's 64-bit pair priority (beyond a double's 53 bits: a bigint). */
  priority: bigint;
  /** Checked again after a 487 already: a second 487 fails the pair (a peer answering 487 to both roles). */
  roleRetried: boolean;
}

const PAIR_PACE_MS = 20;

/**
 * A full ICE agent (RFC 8445) for one component on an RTP session's port (RTP and, with
 * rtcp-mux, RTCP): gathers a host candidate, a server-reflexive one (STUN) and a relayed one
 * (TURN over UDP or TCP), answers the
 * peer's checks (short-term credentials, FINGERPRINT), checks the pairs (regular nomination when
 * controlling, USE-CANDIDATE followed when controlled), selects a pair, and keeps consent fresh
 * on it (RFC 7675).
 *
 * @public
 */
export class IceAgent extends SafeEmitter<IceAgentEvents> {
  readonly ufrag: string;
  readonly pwd: string;
  readonly counters: IceAgentCounters = { checksSent: 0, checksSucceeded: 0, checksFailed: 0, requestsReceived: 0, badIntegrity: 0, badUsername: 0, malformed: 0, roleConflicts: 0, consentChecks: 0 };
  readonly #options: IceAgentOptions;
  readonly #session: RtpSession;
  readonly #transactions: StunTransactions;
  readonly #tieBreaker = randomBytes(8);
  #controlling = false;
  #state: IceAgentState = 'new';
  #local: IceCandidate[] = [];
  #remote: RemoteIce | undefined;
  #pairs: PairState[] = [];
  #selected: PairState | undefined;
  #nominating: PairState | undefined;
  #pacer: NodeJS.Timeout | undefined;
  #consentTimer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #lastConsent = 0;
  /** Checks that came before we knew the peer's credentials: answered, and followed up once we do. */
  #early: { from: StunAddress; priority: number; useCandidate: boolean; base: Base }[] = [];
  #turn: TurnClient | undefined;
  /** The TURN client while it allocates (its answers arrive before it is `#turn`). */
  #allocating: TurnClient | undefined;
  #gathering: Promise<readonly IceCandidate[]> | undefined;
  #failureReason: string | undefined;

  constructor(options: IceAgentOptions) {
    super();
    this.#options = options;
    this.#session = options.session;
    const { ufrag, pwd } = iceCredentials();
    this.ufrag = ufrag;
    this.pwd = pwd;
    // From the host candidate, the RTP port itself (a relay pair's STUN says how it goes instead: #route).
    this.#transactions = new StunTransactions((data, to) => this.#session.sendDatagram(data, to, true));
    this.#session.setDatagramHandler('stun', (data, from) => this.#onDatagram(data, from, 'host'));
  }

  get state(): IceAgentState {
    return this.#state;
  }

  /** Why the agent failed (`failed`): no pair worked in time, or consent was lost on the selected one. */
  get failureReason(): string | undefined {
    return this.#failureReason;
  }

  /** Whether we control (we nominate). */
  get controlling(): boolean {
    return this.#controlling;
  }

  /** Our candidates, once gathered. */
  get candidates(): readonly IceCandidate[] {
    return this.#relayOnly() ? this.#local.filter((candidate) => candidate.type === 'relay') : this.#local;
  }

  #relayOnly(): boolean {
    return this.#options.policy === 'relay';
  }

  /** The selected pair, once there is one. */
  get selected(): IcePair | undefined {
    return this.#selected ? { local: this.#selected.local, remote: this.#selected.remote } : undefined;
  }

  /** The candidate for `c=` and `m=` (RFC 8445 5.1.4): the server-reflexive one if there is one, else the host. */
  get defaultCandidate(): IceCandidate | undefined {
    if (this.#relayOnly()) return this.#local.find((candidate) => candidate.type === 'relay');
    return this.#local.find((candidate) => candidate.type === 'srflx') ?? this.#local[0];
  }

  /** The TURN client, when a relayed candidate was gathered (its counters, for statistics). */
  get turn(): TurnClient | undefined {
    return this.#turn;
  }

  /**
   * Gathers our candidates: the host one, and the server-reflexive one when a STUN server is
   * set and answers (a server that does not answer leaves the host candidate alone). Called
   * again, it gives the same candidates (it asks the servers once).
   */
  gather(): Promise<readonly IceCandidate[]> {
    this.#gathering ??= this.#gather();
    return this.#gathering;
  }

  async #gather(): Promise<readonly IceCandidate[]> {
    if (this.#state !== 'new') return this.#local;
    this.#to('gathering');
    const port = this.#session.localPort;
    const host: IceCandidate = { foundation: '1', component: 1, transport: 'udp', priority: candidatePriority('host'), address: this.#options.hostAddress, port, type: 'host' };
    this.#local = [host];
    // The STUN and TURN servers are asked at once: a dead one delays the call by its own timeout only.
    const server = this.#options.stunServer;
    const turn = this.#options.turnServer;
    const [mapped, relay] = await Promise.all([
      server
        ? stunBinding(this.#transactions, server, { attempts: 3, rtoMs: 250 }).catch((error: unknown) => {
            this.emit('refused', `no server-reflexive candidate: ${(error as Error).message}`);
            return undefined;
          })
        : undefined,
      turn ? this.#allocate(turn) : undefined,
    ]);
    // A server-reflexive address from STUN, else (over UDP) the one the TURN server saw.
    const reflexive = mapped ?? (turn?.transport === 'udp' ? relay?.mapped : undefined);
    if (reflexive && (reflexive.address !== host.address || reflexive.port !== host.port)) {
      this.#local.push({ foundation: '2', component: 1, transport: 'udp', priority: candidatePriority('srflx'), address: reflexive.address, port: reflexive.port, type: 'srflx', relatedAddress: host.address, relatedPort: host.port });
    }
    if (relay) {
      this.#local.push({ foundation: '3', component: 1, transport: 'udp', priority: candidatePriority('relay'), address: relay.relayed.address, port: relay.relayed.port, type: 'relay', relatedAddress: relay.mapped?.address ?? host.address, relatedPort: relay.mapped?.port ?? host.port });
    }
    // Stryker disable next-line ConditionalExpression: closing while gathering leaves it closed.
    if ((this.#state as IceAgentState) === 'gathering') this.#to('new');
    return this.#local;
  }

  /** A relayed address from the TURN server (with the address it saw us at), or undefined (reported). */
  async #allocate(turn: NonNullable<IceAgentOptions['turnServer']>): Promise<{ relayed: StunAddress; mapped: StunAddress | undefined } | undefined> {
    const client = new TurnClient({
      ...turn,
      // Stryker disable next-line BooleanLiteral: the TURN server is never the relay's peer, so nothing of its goes through the relay either way.
      sendUdp: (data, to) => this.#session.sendDatagram(data, to, true),
      onRelayed: (data, length, peer) => this.#onRelayed(data, length, peer),
      onLost: (reason) => this.emit('refused', reason),
    });
    // What the server sends to the RTP port (over UDP): its answers are STUN, its ChannelData has a handler of its own.
    // Stryker disable next-line StringLiteral: RtpSession takes any kind other than its three others as 'turn'.
    this.#session.setDatagramHandler('turn', (data) => client.receive(data));
    this.#allocating = client;
    try {
      const allocation = await client.allocate();
      this.#allocating = undefined;
      // Stryker disable next-line ConditionalExpression,BlockStatement,StringLiteral: close() closes the allocating client, whose allocate() then rejects; this is for a close between its answer and this line, which no event can come in.
      if ((this.#state as IceAgentState) === 'closed') {
        client.close();
        return undefined;
      }
      this.#turn = client;
      return allocation;
    } catch (error) {
      this.#allocating = undefined;
      client.close();
      // Stryker disable next-line StringLiteral: RtpSession takes any kind other than its three others as 'turn'.
      this.#session.setDatagramHandler('turn', undefined);
      this.emit('refused', `no relayed candidate: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** What came through the relay: a peer's STUN check or answer, or media for the session. */
  #onRelayed(data: Buffer, length: number, peer: StunAddress): void {
    const first = data[0]!;
    // Stryker disable next-line EqualityOperator: a first byte of 3 is no Binding message (its method bits are beyond Binding's): the session's demultiplexer takes it as STUN too, and it is counted malformed either way.
    if (first <= 3) this.#onDatagram(data.subarray(0, length), peer, 'relay');
    else this.#session.receiveRelayed(data, length, peer);
  }

  /**
   * Starts the checks with the peer's parameters. `controlling`: we are the offerer (or the peer
   * is ICE-lite). Called again with the same credentials (a re-offer), it changes nothing.
   */
  start(remote: RemoteIce, controlling: boolean): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    if (this.#remote && this.#remote.ufrag === remote.ufrag && this.#remote.pwd === remote.pwd) return;
    this.#remote = remote;
    this.#controlling = controlling || remote.lite === true;
    const host = this.#local[0];
    if (!host) throw new IceError('ICE checks start after gathering');
    const family = isIPv6(host.address);
    for (const candidate of remote.candidates) {
      if (candidate.component !== 1 || isIPv6(candidate.address) !== family) continue;
      if (!this.#relayOnly()) this.#addPair(candidate, 'host');
      if (this.#turn) this.#addPair(candidate, 'relay');
    }
    // The deadline before the state: a listener that closes the agent on 'checking' clears it.
    // New credentials (a re-offer while checking) give the checks a new deadline.
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => {
      if (!this.#selected) this.#fail('no candidate pair worked');
    }, this.#options.checkTimeoutMs ?? 10_000);
    this.#to('checking');
    for (const early of this.#early.splice(0)) this.#fromPeer(early.from, early.priority, early.useCandidate, early.base);
    this.#pace();
  }

  /** Stops everything; the session's STUN datagrams are no longer taken. */
  close(): void {
    // Each step below may be taken again: closing twice changes nothing.
    this.#stopTimers();
    this.#transactions.close();
    this.#turn?.close();
    // A TURN client still allocating (its connection open) goes with the agent.
    this.#allocating?.close();
    this.#session.setRelay(undefined);
    this.#session.setDatagramHandler('stun', undefined);
    // Stryker disable next-line StringLiteral: RtpSession takes any kind other than its three others as 'turn'.
    this.#session.setDatagramHandler('turn', undefined);
    this.#to('closed');
    this.removeAllListeners();
  }

  /** Read after an await: the agent may have been closed, or have failed, meanwhile (then it checks no more). */
  #isOver(): boolean {
    return this.#state === 'closed' || this.#state === 'failed';
  }

  #to(next: IceAgentState): void {
    const previous = this.#state;
    if (previous === next) return;
    this.#state = next;
    this.emit('stateChanged', next, previous);
  }

  #stopTimers(): void {
    clearTimeout(this.#pacer);
    clearTimeout(this.#consentTimer);
    clearTimeout(this.#deadline);
  }

  /** From the deadline or a consent check only: their timers stop when the agent connects, fails or closes. */
  #fail(reason: string): void {
    this.#stopTimers();
    // Its checks in flight stop retransmitting (the peer's checks are still answered).
    this.#transactions.close();
    this.#failureReason = reason;
    this.emit('refused', reason);
    this.#to('failed');
  }

  /** Our candidate for a base: the host one, or the relayed one. */
  #baseCandidate(base: Base): IceCandidate {
    return base === 'relay' ? this.#local.find((candidate) => candidate.type === 'relay')! : this.#local[0]!;
  }

  #pairPriority(remote: IceCandidate, base: Base): bigint {
    const local = this.#baseCandidate(base).priority;
    const g = this.#controlling ? local : remote.priority;
    const d = this.#controlling ? remote.priority : local;
    // Stryker disable next-line EqualityOperator: with G = D no other pair's priority lies one above this one (that needs min and max equal to G and G > D).
    return (1n << 32n) * BigInt(Math.min(g, d)) + 2n * BigInt(Math.max(g, d)) + (g > d ? 1n : 0n);
  }

  #addPair(remote: IceCandidate, base: Base): PairState {
    const existing = this.#pairs.find((pair) => pair.base === base && pair.remote.address === remote.address && pair.remote.port === remote.port);
    if (existing) return existing;
    const pair: PairState = { base, local: this.#baseCandidate(base), remote, state: 'waiting', nominatedByPeer: false, priority: this.#pairPriority(remote, base), roleRetried: false };
    this.#pairs.push(pair);
    // The difference as a double keeps its sign (a nonzero bigint is a nonzero number).
    this.#pairs.sort((a, b) => Number(b.priority - a.priority));
    return pair;
  }

  /** Ordinary checks: the next waiting pair every 20 ms (RFC 8445's Ta). */
  #pace(): void {
    clearTimeout(this.#pacer);
    if (this.#state !== 'checking') return;
    const next = this.#pairs.find((pair) => pair.state === 'waiting');
    if (next) void this.#check(next, false);
    if (this.#pairs.some((pair) => pair.state === 'waiting')) this.#pacer = setTimeout(() => this.#pace(), PAIR_PACE_MS);
  }

  async #check(pair: PairState, nominate: boolean): Promise<void> {
    const remote = this.#remote;
    // Stryker disable next-line ConditionalExpression,LogicalOperator,BooleanLiteral: unreachable: the pacer, the answers and the peer's checks call it only while checking or connected, with the peer known.
    if (!remote || this.#isOver()) return;
    // Stryker disable next-line ConditionalExpression,StringLiteral: only 'waiting', 'failed' and 'succeeded' are read; a nomination goes on a pair that succeeded, and its answer sets the state again.
    if (!nominate) pair.state = 'in-progress';
    this.counters.checksSent++;
    const key = Buffer.from(remote.pwd);
    const controlling = this.#controlling;
    const attributes = [
      textAttribute(STUN_ATTRIBUTE.username, `${remote.ufrag}:${this.ufrag}`),
      uint32Attribute(STUN_ATTRIBUTE.priority, candidatePriority('prflx')),
      { type: controlling ? STUN_ATTRIBUTE.iceControlling : STUN_ATTRIBUTE.iceControlled, value: this.#tieBreaker },
      ...(nominate ? [{ type: STUN_ATTRIBUTE.useCandidate, value: new Uint8Array(0) }] : []),
    ];
    let answer: StunMessage;
    try {
      const route = await this.#route(pair);
      answer = await this.#transactions.request({ address: pair.remote.address, port: pair.remote.port }, { method: STUN_METHOD.binding, attributes, integrityKey: key, fingerprint: true }, { integrityKey: key, attempts: 5, rtoMs: 100, ...route });
    } catch {
      if (this.#isOver()) return;
      this.counters.checksFailed++;
      pair.state = 'failed';
      this.#nominationFailed(pair);
      return;
    }
    // Stryker disable next-line ConditionalExpression: unreachable: closing or failing closes the transactions, so an answer that comes after rejects above instead.
    if (this.#isOver()) return;
    if (answer.cls === 'error') {
      const code = decodeErrorCode(stunAttribute(answer, STUN_ATTRIBUTE.errorCode))?.code;
      if (code === 487 && !pair.roleRetried) {
        // Role conflict (RFC 8445 7.2.5.1): take the other role than the check had (a request
        // since may have taken it already) and check again, once: a peer that answers 487 whatever the role
        // fails the pair instead of keeping us switching.
        this.counters.roleConflicts++;
        this.#controlling = !controlling;
        pair.roleRetried = true;
        void this.#check(pair, false);
        return;
      }
      this.counters.checksFailed++;
      pair.state = 'failed';
      this.#nominationFailed(pair);
      this.emit('refused', `the check of ${pair.remote.address}:${pair.remote.port} was answered ${code ?? '?'}`);
      return;
    }
    this.counters.checksSucceeded++;
    pair.state = 'succeeded';
    // The address the peer saw us at names the pair's local candidate (RFC 8445 7.2.5.3.1): our
    // server-reflexive one behind a NAT, a peer-reflexive one when it is none of ours.
    const mapped = decodeXorAddress(stunAttribute(answer, STUN_ATTRIBUTE.xorMappedAddress), answer.transactionId);
    if (mapped) {
      const known = this.#local.find((candidate) => candidate.address === mapped.address && candidate.port === mapped.port);
      const base = this.#baseCandidate(pair.base);
      pair.local = known ?? { foundation: 'p', component: 1, transport: 'udp', priority: candidatePriority('prflx'), address: mapped.address, port: mapped.port, type: 'prflx', relatedAddress: base.address, relatedPort: base.port };
    }
    if (nominate || (!this.#controlling && pair.nominatedByPeer)) {
      this.#select(pair);
      return;
    }
    if (this.#controlling && !this.#nominating && !this.#selected) {
      this.#nominating = pair;
      void this.#check(pair, true);
    }
  }

  /** When the pair being nominated failed: the best other pair that succeeded is nominated instead. */
  #nominationFailed(pair: PairState): void {
    if (this.#nominating !== pair) return;
    this.#nominating = undefined;
    const next = this.#pairs.find((candidate) => candidate.state === 'succeeded');
    if (next && this.#controlling && !this.#selected) {
      this.#nominating = next;
      void this.#check(next, true);
    }
  }

  /** How a pair's STUN goes out: from the RTP port, or through the relay (its channel bound first). */
  async #route(pair: PairState): Promise<{ send?: (data: Uint8Array, to: StunAddress) => void }> {
    const turn = this.#turn;
    if (pair.base !== 'relay' || !turn) return {};
    await turn.bind(pair.remote);
    return { send: (data, to) => turn.send(to, data) };
  }

  /** Called while checking or connected only (after an answer, or from a peer's check). */
  #select(pair: PairState): void {
    if (this.#selected) return;
    this.#selected = pair;
    clearTimeout(this.#deadline);
    clearTimeout(this.#pacer);
    this.#lastConsent = performance.now();
    // Media follows the pair: through the relay when its local end is our allocation.
    const turn = this.#turn;
    const peer = { address: pair.remote.address, port: pair.remote.port };
    this.#session.setRelay(pair.base === 'relay' && turn ? { peer, send: (data, length) => turn.send(peer, data, length) } : undefined);
    this.#to('connected');
    this.emit('selected', { local: pair.local, remote: pair.remote });
    this.#scheduleConsent();
  }

  /** RFC 7675: a check on the selected pair every ~5 s (randomised), consent lost after 30 s without an answer. */
  #scheduleConsent(): void {
    const interval = this.#options.consentIntervalMs ?? 5000;
    this.#consentTimer = setTimeout(() => void this.#consent(), interval * (0.8 + Math.random() * 0.4));
  }

  /** Runs on the consent timer only, which is set once a pair is selected and stops when the agent fails or closes. */
  async #consent(): Promise<void> {
    const pair = this.#selected!;
    const remote = this.#remote!;
    // Stryker disable next-line EqualityOperator: performance.now() has sub-millisecond steps: being exactly at the limit is never seen.
    if (performance.now() - this.#lastConsent > (this.#options.consentTimeoutMs ?? 30_000)) {
      this.#fail(`consent lost: no answer from ${pair.remote.address}:${pair.remote.port} for ${Math.round((this.#options.consentTimeoutMs ?? 30_000) / 1000)} s`);
      return;
    }
    this.#scheduleConsent();
    this.counters.consentChecks++;
    const key = Buffer.from(remote.pwd);
    try {
      const route = await this.#route(pair);
      const answer = await this.#transactions.request(
        { address: pair.remote.address, port: pair.remote.port },
        { method: STUN_METHOD.binding, attributes: [textAttribute(STUN_ATTRIBUTE.username, `${remote.ufrag}:${this.ufrag}`), uint32Attribute(STUN_ATTRIBUTE.priority, candidatePriority('prflx')), { type: this.#controlling ? STUN_ATTRIBUTE.iceControlling : STUN_ATTRIBUTE.iceControlled, value: this.#tieBreaker }], integrityKey: key, fingerprint: true },
        { integrityKey: key, attempts: 4, rtoMs: 500, ...route },
      );
      if (answer.cls === 'success') this.#lastConsent = performance.now();
    } catch {
      // No answer this round: the timeout above decides.
    }
  }

  #onDatagram(data: Buffer, from: StunAddress, base: Base): void {
    // Over UDP the TURN server's answers come to the RTP port too: they are the TURN client's.
    const turnServer = this.#options.turnServer;
    if (base === 'host' && turnServer?.transport === 'udp' && from.port === turnServer.server.port && from.address === turnServer.server.address && this.#turnReceives(data)) return;
    const message = parseStun(data);
    // A message without FINGERPRINT fails its check too.
    if ('malformed' in message || !checkStunFingerprint(message)) {
      this.counters.malformed++;
      return;
    }
    if (message.cls === 'success' || message.cls === 'error') {
      this.#transactions.handle(message, from);
      return;
    }
    if (base === 'host' && this.#relayOnly()) return;
    if (message.cls !== 'request' || message.method !== STUN_METHOD.binding) {
      this.counters.malformed++;
      return;
    }
    this.#onRequest(message, from, base);
  }

  /** Hands a datagram from the TURN server to its client (during the allocation too). */
  #turnReceives(data: Buffer): boolean {
    const client = this.#turn ?? this.#allocating;
    return client ? client.receive(data) : false;
  }

  /** Sends a datagram of ours to `to`, from the RTP port or through the relay. */
  #sendFrom(base: Base, data: Uint8Array, to: StunAddress): void {
    const turn = this.#turn;
    if (base === 'relay' && turn) {
      // Stryker disable next-line ConditionalExpression: bind() of a confirmed channel resolves at once: the answer would go a microtask later.
      if (turn.bound(to)) turn.send(to, data);
      else void turn.bind(to).then(() => turn.send(to, data), () => undefined);
    } else this.#session.sendDatagram(data, to, true);
  }

  #onRequest(message: StunMessage, from: StunAddress, base: Base): void {
    this.counters.requestsReceived++;
    const username = stunAttribute(message, STUN_ATTRIBUTE.username);
    const ours = Buffer.from(this.ufrag + ':');
    if (!username || username.length <= ours.length || !Buffer.from(username).subarray(0, ours.length).equals(ours)) {
      this.counters.badUsername++;
      this.#answerError(message, from, 401, 'Unauthorized', base);
      this.emit('refused', `a check from ${from.address}:${from.port} names another USERNAME`);
      return;
    }
    if (!checkStunIntegrity(message, Buffer.from(this.pwd))) {
      this.counters.badIntegrity++;
      this.#answerError(message, from, 401, 'Unauthorized', base);
      this.emit('refused', `a check from ${from.address}:${from.port} failed MESSAGE-INTEGRITY`);
      return;
    }
    // Role conflict (RFC 8445 7.3.1.1): the larger tie-breaker keeps control.
    const theirsControlling = stunAttribute(message, STUN_ATTRIBUTE.iceControlling);
    const theirsControlled = stunAttribute(message, STUN_ATTRIBUTE.iceControlled);
    if (this.#controlling && theirsControlling) {
      this.counters.roleConflicts++;
      // Stryker disable next-line EqualityOperator: equal tie-breakers (8 random bytes each) happen once in 2^64.
      if (Buffer.compare(this.#tieBreaker, Buffer.from(theirsControlling)) >= 0) {
        this.#answerError(message, from, 487, 'Role Conflict', base);
        return;
      }
      this.#controlling = false;
    } else if (!this.#controlling && theirsControlled && this.#remote) {
      this.counters.roleConflicts++;
      if (Buffer.compare(this.#tieBreaker, Buffer.from(theirsControlled)) >= 0) this.#controlling = true;
      else {
        this.#answerError(message, from, 487, 'Role Conflict', base);
        return;
      }
    }
    this.#sendFrom(
      base,
      buildStun({ method: STUN_METHOD.binding, cls: 'success', transactionId: message.transactionId, attributes: [{ type: STUN_ATTRIBUTE.xorMappedAddress, value: encodeXorAddress(from, message.transactionId) }], integrityKey: Buffer.from(this.pwd), fingerprint: true }),
      from,
    );
    const priority = readUint32(stunAttribute(message, STUN_ATTRIBUTE.priority)) ?? candidatePriority('prflx');
    const useCandidate = stunAttribute(message, STUN_ATTRIBUTE.useCandidate) !== undefined;
    if (!this.#remote) {
      if (this.#early.length < 16) this.#early.push({ from, priority, useCandidate, base });
      return;
    }
    this.#fromPeer(from, priority, useCandidate, base);
  }

  /** A check from the peer: its pair (a peer-reflexive candidate when new), a triggered check, its nomination. */
  #fromPeer(from: StunAddress, priority: number, useCandidate: boolean, base: Base): void {
    if (this.#state !== 'checking' && this.#state !== 'connected') return;
    // The pair it names, or a new one with a peer-reflexive candidate (#addPair gives the one there is).
    const pair = this.#addPair({ foundation: `p${this.#pairs.length}`, component: 1, transport: 'udp', priority, address: from.address, port: from.port, type: 'prflx' }, base);
    if (useCandidate && !this.#controlling) {
      pair.nominatedByPeer = true;
      if (pair.state === 'succeeded') {
        this.#select(pair);
        return;
      }
    }
    if (pair.state === 'waiting' || pair.state === 'failed') void this.#check(pair, false);
  }

  #answerError(message: StunMessage, from: StunAddress, code: number, reason: string, base: Base): void {
    this.#sendFrom(base, buildStun({ method: message.method, cls: 'error', transactionId: message.transactionId, attributes: [errorCodeAttribute(code, reason)], fingerprint: true }), from);
  }
}
