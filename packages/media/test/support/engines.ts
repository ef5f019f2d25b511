import { AudioStream, type PortAllocator, RtpSession, VirtualAudioProvider, type AudioStreamOptions, type Codec, type VirtualSource } from '@sip-endpoint/media';

/** One side of a loopback call: a virtual microphone, a stream, and what it played. */
export interface Side {
  stream: AudioStream;
  provider: VirtualAudioProvider;
  played: Int16Array[];
  playedRate: number;
}

/**
 * Two streams on 127.0.0.1 sending to each other: Alice's microphone plays `aliceSource`, Bob's
 * `bobSource`. Each side keeps what it played (after jitter buffer, decoder and concealment).
 */
export async function connectPair(
  codec: Codec,
  ports: PortAllocator,
  aliceSource: VirtualSource,
  bobSource: VirtualSource,
  extra: Partial<AudioStreamOptions> = {},
  payloadType = codec.staticPayloadType ?? 111,
): Promise<{ alice: Side; bob: Side; close: () => void }> {
  const aliceSession = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
  const bobSession = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
  const make = (session: RtpSession, peer: RtpSession, source: VirtualSource): Side => {
    const provider = new VirtualAudioProvider({ defaults: false });
    const mic = provider.addInput({ name: 'mic' }, source);
    const played: Int16Array[] = [];
    const side: Side = {
      provider,
      played,
      playedRate: codec.sampleRate,
      stream: new AudioStream({
        session,
        codec,
        payloadType,
        telephoneEvent: { payloadType: 101, clockRate: 8000 },
        remote: { address: '127.0.0.1', rtpPort: peer.localPort },
        input: provider.openInput(mic.id, codec.sampleRate),
        onPlayout: (frame, length) => played.push(frame.slice(0, length)),
        ...extra,
      }),
    };
    return side;
  };
  const alice = make(aliceSession, bobSession, aliceSource);
  const bob = make(bobSession, aliceSession, bobSource);
  alice.stream.start();
  bob.stream.start();
  return {
    alice,
    bob,
    close: () => {
      alice.stream.close();
      bob.stream.close();
    },
  };
}

/**
 * A fixed wait: only where the wait is the behaviour under test (media flowing for a while before
 * it is measured, nothing happening for a while). To wait for something, use `waitFor`.
 */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
