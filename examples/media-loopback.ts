import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioStream, PCMA, PortAllocator, RtpSession, VirtualAudioProvider, writeWav } from '@sip-endpoint/media';

// Two audio streams on 127.0.0.1: Alice's virtual microphone plays a 440 Hz tone, Bob's
// records what he hears (after his jitter buffer and decoder) and writes it to a WAV file.
async function main(): Promise<void> {
  const ports = new PortAllocator(47000, 47099);
  const devices = new VirtualAudioProvider({ defaults: false });
  const mic = devices.addInput({ name: 'Tone' }, { kind: 'tone', frequencies: [440], levelDbfs: -12 });
  const speaker = devices.addOutput({ name: 'Recorder' }, { record: true });

  const aliceRtp = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
  const bobRtp = await RtpSession.open({ ports, bindAddress: '127.0.0.1' });
  const alice = new AudioStream({ session: aliceRtp, codec: PCMA, payloadType: 8, remote: { address: '127.0.0.1', rtpPort: bobRtp.localPort }, input: devices.openInput(mic.id, 8000) });
  const bob = new AudioStream({ session: bobRtp, codec: PCMA, payloadType: 8, remote: { address: '127.0.0.1', rtpPort: aliceRtp.localPort }, output: devices.openOutput(speaker.id, 16000) });
  alice.start();
  bob.start();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const { received, jitterBuffer } = bob.stats();
  alice.close();
  bob.close();

  const heard = devices.recording(speaker.id);
  const file = join(tmpdir(), 'bob-heard.wav');
  await writeWav(file, { sampleRate: heard.sampleRate, channels: 1, samples: heard.samples });
  console.log(`Bob received ${received.packets} packets, lost ${received.lost}, jitter buffer at ${jitterBuffer.currentDelayMs} ms`);
  console.log(`wrote ${file}: ${(heard.samples.length / heard.sampleRate).toFixed(1)} s at ${heard.sampleRate} Hz`);
}

void main();
