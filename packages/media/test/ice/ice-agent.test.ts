import { buildStun, candidatePriority, formatCandidate, IceAgent, iceCredentials, parseCandidate, RtpSession, STUN_ATTRIBUTE, STUN_METHOD, textAttribute, uint32Attribute, writeRtpHeader, type IceAgentState } from '@sip-endpoint/media';
import { readFileSync } from 'node:fs';
import { Coturn, makeTestCertificates, peerAvailable, waitFor, type TestCertificates } from '@sip-endpoint/test-support';
import { workerPorts } from '../support/ports';

const ports = workerPorts(20);

describe('ICE candidates (RFC 8839)', () => {
  it('reads and writes a=candidate values, and skips what cannot be used', () => {
    const host = parseCandidate('1 1 UDP 2130706431 10.0.1.1 8998 typ host');
    expect(host).toEqual({ foundation: '1', component: 1, transport: 'udp', priority: 2130706431, address: '10.0.1.1', port: 8998, type: 'host' });
    const srflx = parseCandidate('2 1 udp 1694498815 192.0.2.3 45664 typ srflx raddr 10.0.1.1 rport 8998 generation 0');
    expect(srflx).toMatchObject({ type: 'srflx', relatedAddress: '10.0.1.1', relatedPort: 8998 });
    expect(formatCandidate(srflx!)).toBe('2 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 10.0.1.1 rport 8998');
    for (const bad of ['1 1 TCP 2130706431 10.0.1.1 8998 typ host tcptype active', '1 1 UDP 1 host.example 8998 typ host', '1 1 UDP 1 10.0.1.1 70000 typ host', '1 1 UDP 1 10.0.1.1 1 typ weird', '1 1 UDP 1 10.0.1.1', '1 0 UDP 1 10.0.1.1 1 typ host']) {
      expect([bad, parseCandidate(bad)]).toEqual([bad, undefined]);
    }
    expect(candidatePriority('host')).toBe(2130706431);
    expect(candidatePriority('srflx')).toBe(1694498815);
    expect(candidatePriority('relay', 2)).toBe(16777214);
    const credentials = iceCredentials();
    expect(credentials.ufrag).toMatch(/^[A-Za-z0-9+/]{8}$/);
    expect(credentials.pwd).toMatch(/^[A-Za-z0-9+/]{24}$/);
  });
});

describe('IceAgent between two RTP sessions on the loopback', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const close of cleanup.splice(0)) close();
  });

  async function agent(options: Partial<ConstructorParameters<typeof IceAgent>[0]> = {}): Promise<{ agent: IceAgent; session: RtpSession; states: IceAgentState[]; refused: string[] }> {
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const made = new IceAgent({ session, hostAddress: '127.0.0.1', ...options });
    const states: IceAgentState[] = [];
    const refused: string[] = [];
    made.on('stateChanged', (state) => states.push(state));
    made.on('refused', (reason) => refused.push(reason));
    cleanup.push(() => {
      made.close();
      session.close();
    });
    await made.gather();
    return { agent: made, session, states, refused };
  }

  const remoteOf = (peer: IceAgent, candidates = true) => ({ ufrag: peer.ufrag, pwd: peer.pwd, candidates: candidates ? peer.candidates : [] });

  it('each side checks, the controlling one nominates, and both select the same pair', async () => {
    const a = await agent();
    const b = await agent();
    expect(a.agent.candidates).toEqual([{ foundation: '1', component: 1, transport: 'udp', priority: 2130706431, address: '127.0.0.1', port: a.session.localPort, type: 'host' }]);
    a.agent.start(remoteOf(b.agent), true);
    b.agent.start(remoteOf(a.agent), false);
    await waitFor(() => a.agent.state === 'connected' && b.agent.state === 'connected', 5000, 'both connected');
    expect(a.agent.selected?.remote.port).toBe(b.session.localPort);
    expect(b.agent.selected?.remote.port).toBe(a.session.localPort);
    expect(a.states).toEqual(['gathering', 'new', 'checking', 'connected']);
    expect(a.agent.controlling).toBe(true);
    expect(b.agent.controlling).toBe(false);
    expect(a.agent.counters.checksSucceeded).toBeGreaterThanOrEqual(2); // the check, then the nomination
    expect(b.agent.counters.requestsReceived).toBeGreaterThanOrEqual(2);
    expect([a.refused, b.refused]).toEqual([[], []]);
  });

  it('learns a peer-reflexive candidate from the peer\'s check when its SDP gave none', async () => {
    const a = await agent();
    const b = await agent();
    b.agent.start(remoteOf(a.agent, false), false);
    a.agent.start(remoteOf(b.agent), true);
    await waitFor(() => b.agent.state === 'connected', 5000, 'B connected');
    expect(b.agent.selected?.remote).toMatchObject({ type: 'prflx', address: '127.0.0.1', port: a.session.localPort, priority: candidatePriority('prflx') });
  });

  it('answers checks that come before it knows the peer (our answer still in flight), and follows them up', async () => {
    const a = await agent();
    const b = await agent();
    a.agent.start(remoteOf(b.agent), true);
    await waitFor(() => b.agent.counters.requestsReceived >= 1, 3000, 'an early check at B');
    b.agent.start(remoteOf(a.agent), false);
    await waitFor(() => a.agent.state === 'connected' && b.agent.state === 'connected', 5000, 'both connected');
  });

  it('settles a role conflict (both think they control) by the tie-breakers', async () => {
    const a = await agent();
    const b = await agent();
    a.agent.start(remoteOf(b.agent), true);
    b.agent.start(remoteOf(a.agent), true);
    await waitFor(() => a.agent.state === 'connected' && b.agent.state === 'connected', 5000, 'both connected');
    expect(a.agent.controlling).not.toBe(b.agent.controlling);
    expect(a.agent.counters.roleConflicts + b.agent.counters.roleConflicts).toBeGreaterThan(0);
  });

  it('refuses a check with a bad MESSAGE-INTEGRITY or a stranger\'s USERNAME with 401, counted and reported, and goes on', async () => {
    const a = await agent();
    const b = await agent();
    a.agent.start(remoteOf(b.agent), true);
    b.agent.start(remoteOf(a.agent), false);
    await waitFor(() => b.agent.state === 'connected', 5000, 'connected');
    const forged = (username: string, password: string) =>
      buildStun({ method: STUN_METHOD.binding, cls: 'request', attributes: [textAttribute(STUN_ATTRIBUTE.username, username), uint32Attribute(STUN_ATTRIBUTE.priority, 1)], integrityKey: Buffer.from(password), fingerprint: true });
    const requests = [forged(`${b.agent.ufrag}:${a.agent.ufrag}`, 'not the password'), forged(`someone:${a.agent.ufrag}`, b.agent.pwd)];
    // Only the answers to these two: B's own consent checks and the answers to A's keep arriving on the same socket.
    const ours = (data: Buffer) => requests.some((request) => data.subarray(8, 20).equals(request.subarray(8, 20)));
    const answers: Buffer[] = [];
    a.session.setDatagramHandler('stun', (data) => { if (ours(Buffer.from(data))) answers.push(Buffer.from(data)); });
    for (const request of requests) a.session.sendDatagram(request, { address: '127.0.0.1', port: b.session.localPort });
    await waitFor(() => answers.length === 2, 2000, 'two answers');
    expect(answers.map((data) => data.readUInt16BE(0))).toEqual([0x0111, 0x0111]); // Binding error responses
    expect(answers.every((data) => data.includes(Buffer.from([4, 1])))).toBe(true); // 401
    expect(b.agent.counters).toMatchObject({ badIntegrity: 1, badUsername: 1 });
    expect(b.refused).toEqual([expect.stringContaining('failed MESSAGE-INTEGRITY'), expect.stringContaining('names another USERNAME')]);
    expect(b.agent.state).toBe('connected');
    // Not STUN at all, or without FINGERPRINT: dropped, counted.
    a.session.sendDatagram(buildStun({ method: STUN_METHOD.binding, cls: 'request' }), { address: '127.0.0.1', port: b.session.localPort });
    await waitFor(() => b.agent.counters.malformed === 1, 2000, 'the malformed one counted');
  });

  it('keeps consent fresh while the peer answers, and loses it (failed) when the peer goes away', async () => {
    const a = await agent({ consentIntervalMs: 100, consentTimeoutMs: 700 });
    const b = await agent();
    a.agent.start(remoteOf(b.agent), true);
    b.agent.start(remoteOf(a.agent), false);
    await waitFor(() => a.agent.state === 'connected', 5000, 'connected');
    await waitFor(() => a.agent.counters.consentChecks >= 4, 3000, 'consent checks');
    expect(a.agent.state).toBe('connected');
    b.agent.close();
    b.session.close();
    await waitFor(() => a.agent.state === 'failed', 5000, 'consent lost');
    expect(a.refused.at(-1)).toMatch(/^consent lost: no answer from 127\.0\.0\.1:\d+ for 1 s$/);
    expect(a.agent.failureReason).toBe(a.refused.at(-1));
  });

  it('fails after checkTimeoutMs when no pair works', async () => {
    const a = await agent({ checkTimeoutMs: 800 });
    a.agent.start({ ufrag: 'abcd', pwd: 'x'.repeat(22), candidates: [{ foundation: '1', component: 1, transport: 'udp', priority: 1, address: '127.0.0.1', port: 9, type: 'host' }] }, true);
    await waitFor(() => a.agent.state === 'failed', 3000, 'failed');
    expect(a.refused.at(-1)).toBe('no candidate pair worked');
    expect(a.agent.failureReason).toBe('no candidate pair worked');
  });

  const itCoturn = peerAvailable('turnserver') ? it : it.skip;
  itCoturn('asks the STUN server for a server-reflexive candidate (on the loopback coturn sees our host address: no srflx added)', async () => {
    const coturn = await Coturn.start();
    try {
      const a = await agent({ stunServer: { address: coturn.address, port: coturn.port } });
      expect(a.agent.candidates.map((c) => c.type)).toEqual(['host']);
      expect(a.refused).toEqual([]);
      const b = await agent({ stunServer: { address: '127.0.0.1', port: 9 } });
      expect(b.agent.candidates.map((c) => c.type)).toEqual(['host']);
      expect(b.refused).toEqual([expect.stringMatching(/^no server-reflexive candidate: no STUN answer from 127\.0\.0\.1:9 after 3 attempts$/)]);
    } finally {
      await coturn.stop();
    }
  });
});

const describeTurn = peerAvailable('turnserver') ? describe : describe.skip;

describeTurn('IceAgent with a TURN relay (coturn)', () => {
  let coturn: Coturn;
  let certificates: TestCertificates;
  const cleanup: (() => void)[] = [];
  beforeAll(async () => {
    certificates = makeTestCertificates(['turn.sep.test']);
    coturn = await Coturn.start({ users: { alice: 'secret' }, tls: { certificate: certificates.serverCertificate, key: certificates.serverKey } });
  }, 20_000);
  afterAll(async () => {
    await coturn?.stop();
  });
  afterEach(() => {
    for (const close of cleanup.splice(0)) close();
  });

  async function agent(options: Partial<ConstructorParameters<typeof IceAgent>[0]> = {}): Promise<{ agent: IceAgent; session: RtpSession; refused: string[] }> {
    const session = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
    const made = new IceAgent({ session, hostAddress: '127.0.0.1', ...options });
    const refused: string[] = [];
    made.on('refused', (reason) => refused.push(reason));
    cleanup.push(() => {
      made.close();
      session.close();
    });
    await made.gather();
    return { agent: made, session, refused };
  }

  it.each(['udp', 'tcp', 'tls'] as const)('gathers a relayed candidate (TURN over %s); with the relay policy the pair through it is selected, and RTP crosses it both ways', async (transport) => {
    const tls = { ca: [readFileSync(certificates.caCertificate, 'latin1')], servername: 'turn.sep.test' };
    const server = { address: coturn.address, port: transport === 'tls' ? coturn.tlsPort! : coturn.port };
    const a = await agent({ turnServer: { server, username: 'alice', password: 'secret', transport, ...(transport === 'tls' ? { tls } : {}) }, policy: 'relay' });
    const b = await agent();
    expect(a.refused).toEqual([]);
    expect(a.agent.candidates.map((c) => c.type)).toEqual(['relay']);
    expect(a.agent.defaultCandidate?.type).toBe('relay');
    a.agent.start({ ufrag: b.agent.ufrag, pwd: b.agent.pwd, candidates: b.agent.candidates }, true);
    b.agent.start({ ufrag: a.agent.ufrag, pwd: a.agent.pwd, candidates: a.agent.candidates }, false);
    await waitFor(() => a.agent.state === 'connected' && b.agent.state === 'connected', 8000, 'both connected');
    expect(a.agent.selected?.local.type).toBe('relay');
    expect(b.agent.selected?.remote).toMatchObject({ type: 'relay', port: a.agent.candidates[0]!.port });
    expect(a.session.relay?.peer).toEqual({ address: '127.0.0.1', port: b.session.localPort });
    // RTP both ways on the selected paths: A's goes out through the relay, B's comes back through it.
    const atB: number[] = [];
    const atA: number[] = [];
    b.session.setReceiver((header) => atB.push(header.sequence));
    a.session.setReceiver((header) => atA.push(header.sequence));
    a.session.setRemote('127.0.0.1', b.session.localPort, b.session.localPort, true);
    b.session.setRemote(b.agent.selected!.remote.address, b.agent.selected!.remote.port, b.agent.selected!.remote.port, true);
    const packet = new Uint8Array(12 + 160);
    for (let sequence = 1; sequence <= 5; sequence++) {
      writeRtpHeader(packet, false, 0, sequence, sequence * 160, 7);
      a.session.sendRtp(packet, packet.length);
      b.session.sendRtp(packet, packet.length);
    }
    await waitFor(() => atB.length === 5 && atA.length === 5, 3000, 'five packets each way');
    expect(a.agent.turn?.counters.sent).toBeGreaterThanOrEqual(5);
    expect(a.agent.turn?.counters.received).toBeGreaterThanOrEqual(5);
  }, 20_000);

  it('over TLS, a server whose certificate is not trusted, or does not name the server, gives no relayed candidate (reported)', async () => {
    const server = { address: coturn.address, port: coturn.tlsPort! };
    const untrusted = await agent({ turnServer: { server, username: 'alice', password: 'secret', transport: 'tls', tls: { servername: 'turn.sep.test' } } });
    expect(untrusted.agent.candidates.map((c) => c.type)).toEqual(['host']);
    expect(untrusted.refused).toEqual([expect.stringMatching(/^no relayed candidate: cannot connect to the TURN server 127\.0\.0\.1:\d+ \(tls\): unable to verify the first certificate$/)]);
    const misnamed = await agent({ turnServer: { server, username: 'alice', password: 'secret', transport: 'tls', tls: { ca: [readFileSync(certificates.caCertificate, 'latin1')], servername: 'another.sep.test' } } });
    expect(misnamed.agent.candidates.map((c) => c.type)).toEqual(['host']);
    expect(misnamed.refused).toEqual([expect.stringMatching(/^no relayed candidate: cannot connect to the TURN server 127\.0\.0\.1:\d+ \(tls\): Hostname\/IP does not match certificate's altnames/)]);
  }, 20_000);

  it('reports a TURN server that refuses the credentials, and goes on with the other candidates', async () => {
    const a = await agent({ turnServer: { server: { address: coturn.address, port: coturn.port }, username: 'alice', password: 'wrong', transport: 'udp' } });
    expect(a.agent.candidates.map((c) => c.type)).toEqual(['host']);
    expect(a.refused).toEqual([expect.stringMatching(/^no relayed candidate: the TURN server .* answered 401/)]);
  }, 20_000);
});
