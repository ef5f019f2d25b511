import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import { PortAllocator, type WebRtcAudioStream } from '@sip-endpoint/media';
import { testPorts } from '@sip-endpoint/test-support';
import { sleep, waitFor } from '../support/endpoints';
import { Kamailio, kamailioAvailable } from '../support/kamailio';
import { SipFarEnd, type FarEndAnswer } from '../support/sip-far-end';
import { makeTestCertificates, type TestCertificates } from '../support/tls-certificates';
import { resolverFor, toneDevices, webRtcLineConfig } from '../support/webrtc-agents';
import { browserOffer, deadPortAnswer, IceOnlyPeer, recordStreamsMade } from '../support/webrtc-far-ends';

// A WebRTC agent (an HTTPS line, over WSS through Kamailio) calls far ends whose media cannot
// come up: an answer whose only candidate is a dead port (ICE never connects), a far end that does
// ICE but ignores DTLS (the handshake never completes), an answer without a fingerprint; and is
// offered a call without a fingerprint. Each call ends by itself (DISCONNECTED) with its reason in
// endReason and the log, its BYE sent, its peer connection closed, and nothing left in session().

const describeIf = kamailioAvailable() ? describe : describe.skip;

const SIP = testPorts(3);
const TLS = SIP + 1;
const WSS = SIP + 2;
const TOKEN = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJmYWlsdXJlcyJ9.c2lnbmF0dXJl';
const RTP = testPorts(20);
const SIP_PORTS = testPorts(7);
/** Where nothing listens: the one candidate of the dead-port answers. */
const DEAD = testPorts(1);
/** The ports of the ICE-only peers' RTP sessions. */
const PEER_PORTS = testPorts(20);
/** What libwebrtc's connection gets (the engine's default, which calls use) before the call gives up. */
const CONNECT_TIMEOUT_MS = 20000;
/** The two ways ICE to a dead port ends: libwebrtc gives up on its own, or the connect timeout comes first. */
const ICE_FAILED = /^(ICE failed: no candidate pair answered \(or the selected one stopped answering\)|ICE did not connect within 20000 ms \(ICE (checking|failed|disconnected)\))$/;

const resolver = resolverFor('gateway.example.test');

describeIf('WebRTC calls whose media cannot come up end by themselves', () => {
  let kamailio: Kamailio;
  let certificates: TestCertificates;
  let endpoint: Endpoint;
  const log: string[] = [];
  const farEnds: SipFarEnd[] = [];
  const peers: IceOnlyPeer[] = [];
  /** Every stream the endpoint made (its calls' peer connections), whether or not a call got it. */
  let made: WebRtcAudioStream[] = [];

  beforeAll(async () => {
    made = recordStreamsMade();
    certificates = makeTestCertificates(['gateway.example.test']);
    kamailio = await Kamailio.start(SIP, 'secret', { tls: { port: TLS, certificate: certificates.serverCertificate, key: certificates.serverKey }, wss: { port: WSS }, bearer: { token: TOKEN } });
    endpoint = new Endpoint({
      config: webRtcLineConfig('7101', `https://gateway.example.test:${WSS}/`, certificates.caCertificate, SIP_PORTS, RTP),
      devices: toneDevices(600),
      resolver,
      accessToken: TOKEN,
      logger: (level, message) => log.push(`${level} ${message}`),
    });
    await endpoint.start();
    await waitFor(() => endpoint.lines[0]!.state === 'READY', 10000, 'the line READY');
  });
  beforeEach(() => {
    made.length = 0;
  });
  afterEach(() => {
    for (const farEnd of farEnds.splice(0)) farEnd.close();
    for (const peer of peers.splice(0)) peer.close();
  });
  afterAll(async () => {
    await endpoint?.stop();
    await kamailio?.stop();
    jest.restoreAllMocks();
  });

  /** A far end registered with Kamailio as `user`, answering each offer with `answer`. */
  async function farEnd(user: string, answer: (offer: string) => Promise<FarEndAnswer> = async () => ({ status: 486 })): Promise<SipFarEnd> {
    const far = await SipFarEnd.open({ user, kamailioPort: SIP, answer });
    farEnds.push(far);
    expect(await far.register(TOKEN)).toBe(200);
    return far;
  }

  /** The call's states, from its first. */
  function statesOf(call: Call): string[] {
    const states: string[] = [call.state];
    call.on('stateChanged', (next) => states.push(next));
    return states;
  }

  /** What must hold once a call whose media failed has ended: its BYE at the far end, its peer connection closed, nothing in session(). */
  async function expectEndedCleanly(call: Call, far: SipFarEnd): Promise<void> {
    expect(call.state).toBe('DISCONNECTED');
    expect(log).toContain(`1 ${call.id}: WebRTC media failed: ${call.endReason}; the call ends`);
    // The BYE went (sip.js ends the call as it sends it): the far end's dialog ended by it.
    await waitFor(() => [...far.dialogs.values()].every((dialog) => dialog.endedBy === 'bye'), 10000, 'the BYE at the far end');
    expect([...far.dialogs.values()].map((dialog) => dialog.state)).toEqual(['ended']);
    const stream = call.media.stream as WebRtcAudioStream;
    expect([stream.state, stream.connectionState]).toEqual(['CLOSED', 'closed']);
    expect(made).toHaveLength(1);
    expect(made[0]).toBe(stream);
    expect(call.media.security).toEqual({ kind: 'webrtc', srtpCipher: undefined, state: 'closed' });
    expect(call.media.ice?.state).toBe('closed');
    expect(endpoint.calls).toEqual([]);
    expect(endpoint.session().phone.calls).toEqual([]);
    expect(endpoint.lines[0]!.state).toBe('READY');
  }

  it('an answer whose only candidate is a dead port: ICE checks and never connects; the call ends DISCONNECTED by itself, with the ICE reason, logged, its BYE sent', async () => {
    const far = await farEnd('7102', async (offer) => deadPortAnswer(offer, DEAD));
    const call = await endpoint.makeCall('7102');
    const states = statesOf(call);
    const lost: string[] = [];
    call.media.on('connectivityLost', (reason) => lost.push(reason));
    await waitFor(() => call.state === 'CONNECTED' && call.media.ice?.state === 'checking', 10000, 'the call CONNECTED, ICE checking');
    // SIP is up, the media is not: the call API and session() say so.
    expect(call.media.engine).toBe('webrtc');
    expect(call.media.security).toEqual({ kind: 'webrtc', srtpCipher: undefined, state: 'connecting' });
    expect(endpoint.session().phone.calls).toEqual([{ uuid: call.id, state: 'CONNECTED', security: 'webrtc', ice: { state: 'checking' } }]);
    expect(call.endReason).toBeUndefined();

    await waitFor(() => call.state === 'DISCONNECTED', CONNECT_TIMEOUT_MS + 20000, 'the call ended by itself');
    expect(states).toEqual(['IN_PROGRESS', 'CONNECTED', 'DISCONNECTED']);
    expect(call.endReason).toMatch(ICE_FAILED);
    // The media said so once, with the reason the call ended for.
    expect(lost).toEqual([call.endReason]);
    expect((call.media.stream as WebRtcAudioStream).failureReason).toBe(call.endReason);
    expect((call.media.stream as WebRtcAudioStream).stats().received.packets).toBe(0);
    await expectEndedCleanly(call, far);
  }, 70000);

  it('a far end that answers ICE checks and ignores DTLS: ICE connects, the handshake never completes; the call ends after 20 s naming DTLS, logged, its BYE sent', async () => {
    const ports = new PortAllocator(PEER_PORTS, PEER_PORTS + 19);
    const far = await farEnd('7103', async (offer) => {
      const { peer, answer } = await IceOnlyPeer.answer(offer, ports);
      peers.push(peer);
      return answer;
    });
    const call = await endpoint.makeCall('7103');
    const states = statesOf(call);
    const lost: string[] = [];
    call.media.on('connectivityLost', (reason) => lost.push(reason));
    // ICE up (the pair's ends come with the next statistics read), DTLS still connecting.
    await waitFor(() => call.state === 'CONNECTED' && call.media.ice?.local !== undefined, 15000, 'ICE connected with its pair');
    expect(peers.map((peer) => peer.iceState)).toEqual(['connected']);
    expect(call.media.ice).toMatchObject({ state: 'connected', local: 'host', remote: 'host' });
    expect(call.media.security).toEqual({ kind: 'webrtc', srtpCipher: undefined, state: 'connecting' });
    expect(endpoint.session().phone.calls).toEqual([{ uuid: call.id, state: 'CONNECTED', security: 'webrtc', ice: { state: 'connected', local: 'host', remote: 'host' } }]);

    await waitFor(() => call.state === 'DISCONNECTED', CONNECT_TIMEOUT_MS + 20000, 'the call ended by itself');
    expect(states).toEqual(['IN_PROGRESS', 'CONNECTED', 'DISCONNECTED']);
    expect(call.endReason).toBe('the DTLS handshake did not complete within 20000 ms');
    expect(lost).toEqual([call.endReason]);
    // Without DTLS no SRTP keys: not one packet was taken.
    expect((call.media.stream as WebRtcAudioStream).stats().received.packets).toBe(0);
    await expectEndedCleanly(call, far);
  }, 70000);

  it('an answer without a fingerprint: libwebrtc refuses it; the call ends at once with the reason, its ACK and BYE sent, its peer connection closed', async () => {
    const far = await farEnd('7104', async (offer) => deadPortAnswer(offer, DEAD, { fingerprint: false }));
    const call = await endpoint.makeCall('7104');
    const states = statesOf(call);
    await waitFor(() => call.state === 'DISCONNECTED', 15000, 'the call ended');
    const reason = 'the WebRTC engine refused the answer: Failed to set remote answer sdp: Called with SDP without DTLS fingerprint.';
    expect(call.endReason).toBe(`the far end's SDP was refused: ${reason}`);
    expect(log).toContain(`2 ${call.id}: offer/answer refused: ${reason}`);
    expect(states.at(-1)).toBe('DISCONNECTED');
    await waitFor(() => [...far.dialogs.values()].every((dialog) => dialog.endedBy === 'bye'), 10000, 'the BYE at the far end');
    expect([...far.dialogs.values()].map((dialog) => dialog.state)).toEqual(['ended']);
    // The stream was made for the offer, never started, and is closed.
    expect(call.media.stream).toBeUndefined();
    expect(made).toHaveLength(1);
    expect([made[0]!.state, made[0]!.connectionState]).toEqual(['CLOSED', 'closed']);
    expect(endpoint.session().phone.calls).toEqual([]);
    expect(endpoint.lines[0]!.state).toBe('READY');
  }, 30000);

  it('an offer without a fingerprint: refused 488 with a Warning that says so, no call and no peer connection made, the line goes on', async () => {
    const far = await farEnd('7105');
    const incoming: Call[] = [];
    const onIncoming = (call: Call): void => void incoming.push(call);
    endpoint.on('incomingCall', onIncoming);
    try {
      const refused = await far.invite('7101', browserOffer({ fingerprint: false }));
      const why = 'a WebRTC line takes WebRTC offers only (ICE and DTLS-SRTP); this one has no DTLS fingerprint';
      expect(refused.status).toBe(488);
      expect(refused.warning).toBe(`304 127.0.0.1 "${why}"`);
      expect(log).toContain(`2 call on line 0 rejected with 488: ${why}`);
    } finally {
      endpoint.off('incomingCall', onIncoming);
    }
    expect(incoming).toEqual([]);
    expect(made).toEqual([]);
    expect(endpoint.calls).toEqual([]);
    expect(endpoint.lines[0]!.state).toBe('READY');
  }, 30000);

  it('a call we answered that the far end ends with a BYE before its ACK: sip.js\'s ACK timeout (32 s) later finds it over and leaves it alone (no uncaught exception)', async () => {
    const far = await farEnd('7106');
    const incoming: Call[] = [];
    const onIncoming = (call: Call): void => {
      incoming.push(call);
      void call.answer();
    };
    endpoint.on('incomingCall', onIncoming);
    try {
      // The far end's INVITE is answered 200; it sends a BYE and never the ACK.
      expect((await far.invite('7101', browserOffer({ fingerprint: true }), { ack: false })).status).toBe(200);
      await waitFor(() => incoming[0]?.state === 'DISCONNECTED', 10000, 'the call ended by the BYE');
      const call = incoming[0]!;
      // The scenario is the wait: Timer L (64 * T1 = 32 s from the 200) fires on the session that
      // ended; sip.js alone would end it once more and throw from its timer, which fails this test.
      await sleep(35000);
      expect(call.state).toBe('DISCONNECTED');
      expect(call.endReason).toBeUndefined();
      expect(endpoint.calls).toEqual([]);
      expect(made).toHaveLength(1);
      expect(made[0]!.state).toBe('CLOSED');
      expect(endpoint.lines[0]!.state).toBe('READY');
    } finally {
      endpoint.off('incomingCall', onIncoming);
    }
  }, 60000);
});
