import { type Invitation, Inviter, SessionState, UserAgent, type Session } from 'sip.js';
import { EndpointConfig } from '@sip-endpoint/config';
import { PortAllocator, VirtualAudioProvider, type AudioStream } from '@sip-endpoint/media';
import { bindSipUdp, UdpTransport } from '../../src/transport/udp-transport';
import { mediaSessionDescriptionHandlerFactory, type MediaSessionDescriptionHandler } from '../../src/media/media-session-description-handler';
import { concatSamples as concat, dominantFrequency } from '@sip-endpoint/media/testing';
import { testPorts, waitFor } from '@sip-endpoint/test-support';

// This file's ports, from this jest worker's range: SIP for the two agents, RTP for their streams.
const sipPorts = testPorts(10);
const rtpPorts = testPorts(100);
const ports = new PortAllocator(rtpPorts, rtpPorts + 99);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Agent {
  ua: UserAgent;
  port: number;
  played: Int16Array[];
  streams: AudioStream[];
  incoming: Invitation[];
}

async function agent(name: string, frequency: number, target: () => { address: string; port: number }, codecs = 'pcmu,pcma'): Promise<Agent> {
  const socket = await bindSipUdp('127.0.0.1', sipPorts, sipPorts + 9);
  const port = socket.address().port;
  const config = EndpointConfig.defaults().with({ 'codecs.enabled.audio': codecs });
  const devices = new VirtualAudioProvider({ defaults: false });
  const mic = devices.addInput({ name: 'tone' }, { kind: 'tone', frequencies: [frequency], levelDbfs: -12 });
  const played: Int16Array[] = [];
  const streams: AudioStream[] = [];
  const incoming: Invitation[] = [];
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:${name}@127.0.0.1:${port}`),
    transportConstructor: UdpTransport,
    transportOptions: { socket, viaHost: '127.0.0.1', target },
    viaHost: '127.0.0.1',
    forceRport: true,
    contactName: name,
    contactParams: { transport: 'udp' },
    logBuiltinEnabled: false,
    sessionDescriptionHandlerFactory: mediaSessionDescriptionHandlerFactory(() => ({
      address: '127.0.0.1',
      bindAddress: '127.0.0.1',
      ports,
      codecs: () => config.codecs,
      answerPriority: 'local',
      stream: { input: devices.openInput(mic.id, 8000), onPlayout: (frame, length) => played.push(frame.slice(0, length)) },
      onStream: (stream) => streams.push(stream as AudioStream),
    })),
    delegate: { onInvite: (invitation) => incoming.push(invitation) },
  });
  ua.contact.uri.port = port;
  await ua.start();
  return { ua, port, played, streams, incoming };
}

/** Seconds of audio an agent has played. */
const played = (agent: Agent): number => agent.played.reduce((sum, frame) => sum + frame.length, 0) / 8000;

async function established(session: Session): Promise<void> {
  if (session.state === SessionState.Established) return;
  await new Promise<void>((resolve, reject) => {
    session.stateChange.addListener((state) => {
      if (state === SessionState.Established) resolve();
      if (state === SessionState.Terminated) reject(new Error('the session ended'));
    });
  });
}

describe('a call between two sip.js user agents with the media session description handler', () => {
  it('carries audio both ways, holds and retrieves by re-INVITE, sends DTMF, and frees the ports on BYE', async () => {
    const bobPort = { value: 0 };
    const alice = await agent('alice', 1000, () => ({ address: '127.0.0.1', port: bobPort.value }));
    const bob = await agent('bob', 600, () => ({ address: '127.0.0.1', port: alice.port }), 'pcma,pcmu');
    bobPort.value = bob.port;
    try {
      const inviter = new Inviter(alice.ua, UserAgent.makeURI(`sip:bob@127.0.0.1:${bob.port}`)!);
      await inviter.invite();
      await waitFor(() => bob.incoming.length > 0, 5000, 'the INVITE at Bob');
      const invitation = bob.incoming[0]!;
      await invitation.accept();
      await established(inviter);
      await waitFor(() => played(alice) >= 0.8 && played(bob) >= 0.8, 5000, '0.8 s of audio at both ends');

      // Both directions carry the other's tone; Bob answered with his first codec the offer has.
      const aliceHandler = inviter.sessionDescriptionHandler as MediaSessionDescriptionHandler;
      // Alice offered PCMU then PCMA; Bob's answer_sdp_priority is local and his order puts PCMA first.
      expect(aliceHandler.negotiated?.codec.name).toBe('PCMA/8000');
      expect(dominantFrequency(concat(alice.played).subarray(3200), 8000)).toBe(600);
      expect(dominantFrequency(concat(bob.played).subarray(3200), 8000)).toBe(1000);

      // Hold: Alice re-INVITEs with sendonly; Bob answers recvonly and stops sending.
      await inviter.invite({ sessionDescriptionHandlerOptions: { hold: true } as object });
      await waitFor(() => alice.streams[0]!.direction === 'sendonly' && bob.streams[0]!.direction === 'recvonly', 5000, 'the hold');
      expect(alice.streams[0]!.direction).toBe('sendonly');
      expect(bob.streams[0]!.direction).toBe('recvonly');
      const bobSent = bob.streams[0]!.stats().sent.packets;
      // Nothing may go out for a while: a quiet period that is the behaviour under test.
      await sleep(300);
      expect(bob.streams[0]!.stats().sent.packets).toBe(bobSent);

      // Retrieve.
      await inviter.invite({ sessionDescriptionHandlerOptions: { hold: false } as object });
      await waitFor(() => alice.streams[0]!.direction === 'sendrecv' && bob.streams[0]!.direction === 'sendrecv', 5000, 'the retrieve');
      expect(alice.streams[0]!.direction).toBe('sendrecv');
      expect(bob.streams[0]!.direction).toBe('sendrecv');

      // DTMF by RFC 4733 through the handler.
      const digits: string[] = [];
      bob.streams[0]!.on('dtmf', (event) => digits.push(event.digit));
      expect(aliceHandler.sendDtmf('42')).toBe(true);
      await waitFor(() => digits.length >= 2, 5000, 'two digits at Bob');
      expect(digits).toEqual(['4', '2']);

      await inviter.bye();
      await waitFor(() => invitation.state === SessionState.Terminated && ports.used === 0, 5000, 'the BYE to end the call and free its ports');
      expect(invitation.state).toBe(SessionState.Terminated);
      expect(ports.used).toBe(0);
    } finally {
      await alice.ua.stop();
      await bob.ua.stop();
    }
  }, 15000);
});
