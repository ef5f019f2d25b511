// @serial-test: judged by timing or by audio as heard; runs alone, after the others (scripts/run-jest.cjs).
import { type AudioOutput, formatCandidate, generateDtlsCertificate, IceAgent, parseSdp, PortAllocator, RtpSession, SdpError, StreamClosedError, VirtualAudioProvider, WebRtcAudioStream, type DtmfEvent, type VirtualSource } from '@sip-endpoint/media';
import { compareSpeech, concatSamples, dominantFrequency, segmentalSnrOutsideDefects, sineSnrDb, speechLikeSignal } from '@sip-endpoint/media/testing';
import { Coturn, peerAvailable, testPorts, waitFor } from '@sip-endpoint/test-support';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { watchStalls } from '../support/stalls';

// Two WebRTC streams (libwebrtc through @roamhq/wrtc) in one process, connected over ICE and
// DTLS-SRTP on this machine's own addresses: what one's microphone says, the other plays.

const threads = (): number => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

/**
 * A microphone silent until `begin()`, then playing a speech-like signal, and what it has given
 * since. (Begun once the call is connected: what a microphone says before the media flows never
 * arrives, and the far end's playout would then lead the reference, a delay no comparison finds.)
 */
function speaker(seed: number, sampleRate: number): { source: VirtualSource; sent: () => Int16Array; begin: () => void } {
  const signal = speechLikeSignal({ sampleRate, seconds: 10, seed });
  let cursor = 0;
  let begun = false;
  return {
    source: { kind: 'function', fill: (frame, length) => { for (let i = 0; i < length; i++) frame[i] = begun && cursor < signal.length ? signal[cursor++]! : 0; } },
    sent: () => signal.subarray(0, cursor),
    begin: () => {
      begun = true;
    },
  };
}

interface End {
  stream: WebRtcAudioStream;
  /** What played since the last change of rate (libwebrtc's sink may begin at another rate before the first packet). */
  played: Int16Array[];
  /** Everything played, each frame with its rate. */
  timeline: { frame: Int16Array; rate: number }[];
  rate: () => number;
  digits: DtmfEvent[];
}

async function end(source: VirtualSource, options: { codecs?: string[]; inputRate?: number; connectTimeoutMs?: number; output?: AudioOutput; iceServers?: { urls: string; username?: string; credential?: string }[]; iceTransportPolicy?: 'all' | 'relay' } = {}): Promise<End> {
  const provider = new VirtualAudioProvider({ defaults: false });
  const mic = provider.addInput({ name: 'mic' }, source);
  const played: Int16Array[] = [];
  const timeline: { frame: Int16Array; rate: number }[] = [];
  let rate = 0;
  const stream = await WebRtcAudioStream.create({
    input: provider.openInput(mic.id, options.inputRate ?? 48000),
    codecs: options.codecs,
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.output ? { output: options.output } : {}),
    ...(options.iceServers ? { iceServers: options.iceServers } : {}),
    ...(options.iceTransportPolicy ? { iceTransportPolicy: options.iceTransportPolicy } : {}),
    onPlayout: (frame, length, sampleRate) => {
      if (sampleRate !== rate) played.length = 0;
      rate = sampleRate;
      const copy = frame.slice(0, length);
      played.push(copy);
      timeline.push({ frame: copy, rate: sampleRate });
    },
  });
  const digits: DtmfEvent[] = [];
  stream.on('dtmf', (event) => digits.push(event));
  return { stream, played, timeline, rate: () => rate, digits };
}

async function connect(alice: End, bob: End): Promise<{ offer: string; answer: string }> {
  const offer = await alice.stream.createOffer();
  const answer = await bob.stream.answer(offer);
  await alice.stream.acceptAnswer(answer);
  alice.stream.start();
  bob.stream.start();
  await waitFor(() => alice.stream.connectionState === 'connected' && bob.stream.connectionState === 'connected', 10_000, 'both connected');
  return { offer, answer };
}

const seconds = (side: End): number => side.played.reduce((n, frame) => n + frame.length, 0) / Math.max(1, side.rate());

/** How long `side` has played, in seconds, over every rate it played at. */
const playedSeconds = (side: End): number => side.timeline.reduce((n, { frame, rate }) => n + frame.length / rate, 0);

/**
 * What `side` played from `fromSeconds` of its playout on, at its current rate: frames it played at
 * another rate (before the first packet set the codec's) count as silence of the same length, so
 * the time from `fromSeconds` on stays true.
 */
function playedSince(side: End, fromSeconds: number): Int16Array {
  const rate = side.rate();
  const chunks: Int16Array[] = [];
  let at = 0;
  for (const { frame, rate: frameRate } of side.timeline) {
    const length = frame.length / frameRate;
    if (at + length > fromSeconds) chunks.push(frameRate === rate ? frame : new Int16Array(Math.round(length * rate)));
    at += length;
  }
  return concatSamples(chunks);
}

describe('WebRtcAudioStream (libwebrtc) to another', () => {
  it('offers UDP/TLS/RTP/SAVPF with a fingerprint and the asked codecs only, no telephone-event; PCMU speech arrives sample for sample between the time-stretches of libwebrtc\'s jitter buffer', async () => {
    const talk = speaker(11, 48000);
    const alice = await end(talk.source, { codecs: ['PCMU'] });
    const bob = await end({ kind: 'silence' }, { codecs: ['PCMU', 'opus'] });
    try {
      const { offer, answer } = await connect(alice, bob);
      talk.begin();
      const playedBefore = playedSeconds(bob);
      expect(offer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0\r$/m);
      expect(offer).toMatch(/^a=fingerprint:sha-256 [0-9A-F:]{95}\r$/m);
      expect(offer).toMatch(/^a=candidate:/m);
      expect(offer).not.toMatch(/telephone-event/);
      expect(answer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0\r$/m);
      const stallWatch = watchStalls(15);
      await waitFor(() => playedSeconds(bob) >= playedBefore + 5, 15_000, '5 s of speech played at Bob').finally(() => stallWatch.stop());
      const stats = await bob.stream.refreshStats();
      expect(stats.codec).toBe('PCMU/8000');
      expect(stats.received.packets).toBeGreaterThan(100);
      expect(stats.srtpCipher).toMatch(/AES/);
      expect(stats.ice?.localType).toBe('host');
      // NetEq (libwebrtc's jitter buffer) stretches or conceals audio in its first second and,
      // when the machine is loaded (CI runs two test files at once), wherever packets arrive
      // late: measured from 0 to 30 of 171 frames bad, in runs of 2 to 7 frames after which the
      // waveform lines up again (the comparison's `shifts`), and under CI's load the frames
      // between at 14 to 22 dB instead of 22 to 29 (its stretching reshapes them). What our
      // stream can do wrong shows otherwise: a 10 ms frame dropped, repeated or zeroed spoils a
      // frame in five or more; samples in the wrong byte order or format are noise; a wrong
      // scale changes the level. So: at most a quarter of the frames bad, the level kept within
      // 3 dB, no clicks, no noise in the pauses. A stall of this process's event loop (over 15 ms)
      // delays Alice's frames into libwebrtc, and NetEq stretches around it: the longest defect
      // for each such stall is left out of the count (a loaded CI run saw 56 of 185 frames bad).
      // What Bob played from the moment Alice began to speak.
      const played = playedSince(bob, playedBefore);
      const whole = compareSpeech(talk.sent(), 48000, played, bob.rate(), { minFrameSnrDb: 10 });
      const stalls = stallWatch.stalls.length;
      const excused = [...whole.defectLengths].sort((a, b) => b - a).slice(0, stalls).reduce((sum, length) => sum + length, 0);
      // What was measured is printed when an expectation fails.
      const measured = JSON.stringify({ playedBefore, stalls: stallWatch.stalls.map(({ ms }) => Math.round(ms)), excused, rates: [...new Set(bob.timeline.map(({ rate }) => rate))], between: segmentalSnrOutsideDefects(whole, whole.defects), whole });
      try {
        expect(whole.frames).toBeGreaterThan(150);
        expect(whole.delayMs).toBeLessThan(1000);
        expect(whole.badFrames - excused).toBeLessThanOrEqual(whole.frames * 0.25);
        expect(Math.abs(whole.gainDb)).toBeLessThan(3);
        expect(whole.clicks).toBe(0);
        expect(whole.noisyFrames).toBe(0);
      } catch (error) {
        (error as Error).message += `\n\nmeasured: ${measured}`;
        throw error;
      }
    } finally {
      alice.stream.close();
      bob.stream.close();
    }
  }, 30_000);

  it.each([true, false])('a speaker at 16 kHz that discards (%s) gets no writes, or every frame resampled to its rate; playout goes on either way', async (discards) => {
    const writes: number[] = [];
    const output: AudioOutput = { device: { id: 'speaker', name: 'speaker', kind: 'output' }, sampleRate: 16000, discards, write: (_frame, length) => void writes.push(length), close: () => undefined };
    const alice = await end({ kind: 'tone', frequencies: [1000] }, { codecs: ['PCMU'] });
    const bob = await end({ kind: 'silence' }, { codecs: ['PCMU'], output });
    try {
      await connect(alice, bob);
      await waitFor(() => seconds(bob) >= 0.5, 10_000, '0.5 s played at Bob');
    } finally {
      alice.stream.close();
      bob.stream.close();
    }
    if (discards) expect(writes).toEqual([]);
    else {
      // libwebrtc's 10 ms frames at 48 kHz, 160 samples each at 16 kHz.
      expect(writes.length).toBeGreaterThanOrEqual(bob.played.length - 1);
      expect(new Set(writes)).toEqual(new Set([160]));
    }
  }, 30_000);

  it('in-band DTMF both ways (libwebrtc has no RTCDTMFSender): sent as tones, detected at the other end; the promise resolves once sent', async () => {
    const alice = await end({ kind: 'silence' }, { codecs: ['PCMA'] });
    const bob = await end({ kind: 'silence' }, { codecs: ['PCMA'] });
    try {
      await connect(alice, bob);
      await alice.stream.sendDtmf('19#');
      await bob.stream.sendDtmf('*0');
      await waitFor(() => bob.digits.length >= 3 && alice.digits.length >= 2, 5000, 'digits detected');
      expect(bob.digits.map((event) => event.digit).join('')).toBe('19#');
      expect(alice.digits.map((event) => event.digit).join('')).toBe('*0');
      expect(bob.digits.every((event) => event.source === 'inband')).toBe(true);
    } finally {
      alice.stream.close();
      bob.stream.close();
    }
  }, 30_000);

  it('hold by a re-offer (sendonly, answered recvonly) stops what the held side receives; mute sends silence', async () => {
    const alice = await end({ kind: 'tone', frequencies: [440] }, { codecs: ['PCMU'] });
    const bob = await end({ kind: 'tone', frequencies: [1000] }, { codecs: ['PCMU'] });
    const level = (side: End): number => {
      const last = side.played.slice(-20);
      let sum = 0;
      let n = 0;
      for (const frame of last) {
        for (const sample of frame) sum += sample * sample;
        n += frame.length;
      }
      return Math.sqrt(sum / Math.max(1, n));
    };
    try {
      await connect(alice, bob);
      await waitFor(() => seconds(bob) >= 1 && level(bob) > 1000, 10_000, 'Alice heard at Bob');
      alice.stream.setDirection('sendonly');
      const reoffer = await alice.stream.createOffer();
      expect(reoffer).toMatch(/^a=sendonly\r$/m);
      const answer = await bob.stream.answer(reoffer);
      expect(answer).toMatch(/^a=recvonly\r$/m);
      await alice.stream.acceptAnswer(answer);
      const atHold = (await alice.stream.refreshStats()).received.packets;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // Bob no longer sends (a packet or two may have been on the way).
      expect((await alice.stream.refreshStats()).received.packets - atHold).toBeLessThan(10);
      expect(level(bob)).toBeGreaterThan(1000);
      alice.stream.setMuted(true);
      expect(alice.stream.muted).toBe(true);
      await waitFor(() => level(bob) < 50, 5000, 'silence at Bob once Alice is muted');
    } finally {
      alice.stream.close();
      bob.stream.close();
    }
  }, 30_000);

  it('opus: what libwebrtc plays at 48 kHz is resampled to an 8 kHz speaker; the tone is the one sent', async () => {
    const alice = await end({ kind: 'tone', frequencies: [700] }, { codecs: ['opus'], inputRate: 16000 });
    const provider = new VirtualAudioProvider({ defaults: false });
    const speakerDevice = provider.addOutput({ name: 'speaker' }, { record: true });
    const bob = await WebRtcAudioStream.create({ output: provider.openOutput(speakerDevice.id, 8000), codecs: ['opus'] });
    try {
      await connect(alice, { stream: bob, played: [], timeline: [], rate: () => 0, digits: [] });
      await waitFor(() => provider.recording(speakerDevice.id).samples.length >= 8000 * 2, 10_000, '2 s recorded at Bob');
      const stats = await bob.refreshStats();
      expect(stats.codec).toBe('opus/48000/2');
      const recorded = provider.recording(speakerDevice.id);
      expect(recorded.sampleRate).toBe(8000);
      const lastSecond = recorded.samples.subarray(recorded.samples.length - 8000);
      expect(Math.abs(dominantFrequency(lastSecond, 8000) - 700)).toBeLessThan(10);
      expect(sineSnrDb(lastSecond, 8000, 700)).toBeGreaterThan(15);
    } finally {
      alice.stream.close();
      bob.close();
    }
  }, 30_000);

  it('refuses an offer without a fingerprint with an SdpError; a closed stream refuses work', async () => {
    const alice = await end({ kind: 'silence' });
    const bob = await end({ kind: 'silence' });
    try {
      const offer = (await alice.stream.createOffer()).replace(/^a=fingerprint:.*\r\n/gm, '');
      await expect(bob.stream.answer(offer)).rejects.toThrow(SdpError);
    } finally {
      alice.stream.close();
      bob.stream.close();
    }
    expect(bob.stream.state).toBe('CLOSED');
    expect(() => bob.stream.start()).toThrow(StreamClosedError);
    await expect(bob.stream.createOffer()).rejects.toThrow(StreamClosedError);
  }, 30_000);

  it('takes an offer and an answer without a BUNDLE group (an SBC such as rtpengine writes none), and still offers one', async () => {
    const noBundle = (sdp: string): string => sdp.replace(/^a=group:BUNDLE [^\r\n]*\r?\n/m, '');
    const alice = await end({ kind: 'silence' });
    const bob = await end({ kind: 'silence' });
    try {
      const offer = await alice.stream.createOffer();
      expect(offer).toMatch(/^a=group:BUNDLE \S+/m);
      const answer = await bob.stream.answer(noBundle(offer));
      await alice.stream.acceptAnswer(noBundle(answer));
      alice.stream.start();
      bob.stream.start();
      await waitFor(() => alice.stream.connectionState === 'connected' && bob.stream.connectionState === 'connected', 10_000, 'both connected');
    } finally {
      alice.stream.close();
      bob.stream.close();
    }
  });

  it('ICE that finds no working pair (the peer went away after answering): failed, with the reason, within connectTimeoutMs', async () => {
    const alice = await end({ kind: 'silence' }, { connectTimeoutMs: 3000 });
    const bob = await end({ kind: 'silence' });
    try {
      const answer = await bob.stream.answer(await alice.stream.createOffer());
      bob.stream.close();
      await alice.stream.acceptAnswer(answer);
      const failures: string[] = [];
      alice.stream.on('failed', (reason) => failures.push(reason));
      alice.stream.start();
      await waitFor(() => failures.length > 0, 10_000, 'the failure');
      expect(failures).toEqual([expect.stringMatching(/^(ICE did not connect within 3000 ms \(ICE (new|checking|disconnected)\)|ICE failed: no candidate pair answered.*)$/)]);
      expect(alice.stream.failureReason).toBe(failures[0]);
      expect(alice.stream.connectionState).not.toBe('connected');
    } finally {
      alice.stream.close();
    }
  });

  it('a DTLS handshake that never completes (the peer answers ICE checks and ignores DTLS): failed, naming DTLS, while ICE is up', async () => {
    // The peer: our own ICE agent on this machine's address, a fingerprint, passive (libwebrtc
    // is the DTLS client), and nobody reading the DTLS records that come.
    const address = Object.values(networkInterfaces()).flat().find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address ?? '127.0.0.1';
    const base = testPorts(10);
    const session = await RtpSession.open({ ports: new PortAllocator(base, base + 9), bindAddress: address });
    const agent = new IceAgent({ session, hostAddress: address });
    const alice = await end({ kind: 'silence' }, { connectTimeoutMs: 4000 });
    try {
      await agent.gather();
      const certificate = await generateDtlsCertificate();
      const offerText = await alice.stream.createOffer();
      const offer = parseSdp(offerText);
      const mid = /^a=mid:(\S+)/m.exec(offerText)?.[1] ?? '0';
      const answer = [
        'v=0', `o=- 1 1 IN IP4 ${address}`, 's=-', 't=0 0', `a=group:BUNDLE ${mid}`,
        `m=audio ${session.localPort} UDP/TLS/RTP/SAVPF 0`, `c=IN IP4 ${address}`, `a=mid:${mid}`, 'a=rtcp-mux', 'a=sendrecv', 'a=rtpmap:0 PCMU/8000',
        `a=ice-ufrag:${agent.ufrag}`, `a=ice-pwd:${agent.pwd}`, `a=fingerprint:sha-256 ${certificate.fingerprint.value}`, 'a=setup:passive',
        ...agent.candidates.map((candidate) => `a=candidate:${formatCandidate(candidate)}`), '',
      ].join('\r\n');
      agent.start(offer.audio!.ice!, false);
      await alice.stream.acceptAnswer(answer);
      const failures: string[] = [];
      alice.stream.on('failed', (reason) => failures.push(reason));
      alice.stream.start();
      await waitFor(() => failures.length > 0, 15_000, 'the failure');
      expect(failures).toEqual(['the DTLS handshake did not complete within 4000 ms']);
      expect(agent.state).toBe('connected');
      expect(['connected', 'completed']).toContain(alice.stream.iceConnectionState);
    } finally {
      alice.stream.close();
      agent.close();
      session.close();
    }
  }, 30_000);

  it('a peer whose certificate is not the one its fingerprint names: failed, naming the DTLS handshake', async () => {
    const alice = await end({ kind: 'silence' }, { connectTimeoutMs: 8000 });
    const bob = await end({ kind: 'silence' });
    try {
      const answer = await bob.stream.answer(await alice.stream.createOffer());
      const forged = answer.replace(/^(a=fingerprint:sha-256 )(\S+)/m, (_, prefix: string, value: string) => prefix + value.split(':').map((byte, i) => (i === 0 ? (byte === 'AA' ? 'BB' : 'AA') : byte)).join(':'));
      expect(forged).not.toBe(answer);
      // libwebrtc may fail the handshake before acceptAnswer() has returned: listen first.
      const failures: string[] = [];
      alice.stream.on('failed', (reason) => failures.push(reason));
      await alice.stream.acceptAnswer(forged);
      alice.stream.start();
      bob.stream.start();
      await waitFor(() => failures.length > 0, 15_000, 'the failure');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatch(/DTLS/);
      expect(alice.stream.failureReason).toBe(failures[0]);
      // No SRTP keys: nothing from Bob was taken (libwebrtc's sink still gives frames of silence).
      expect((await alice.stream.refreshStats()).received.packets).toBe(0);
    } finally {
      alice.stream.close();
      bob.stream.close();
    }
  }, 30_000);

  it('closing releases what libwebrtc made: 20 connected pairs leave no thread behind', async () => {
    const warm = [await end({ kind: 'silence' }), await end({ kind: 'silence' })] as const;
    await connect(warm[0], warm[1]);
    warm[0].stream.close();
    warm[1].stream.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = threads();
    for (let i = 0; i < 20; i++) {
      const pair = [await end({ kind: 'silence' }), await end({ kind: 'silence' })] as const;
      await connect(pair[0], pair[1]);
      pair[0].stream.close();
      pair[1].stream.close();
    }
    await waitFor(() => threads() <= before, 5000, `threads back to ${before} (now ${threads()})`);
  }, 120_000);
});

// The TURN servers given (as the line's nat settings give them, see endpoint-core's nat-settings)
// reach libwebrtc: with the relay policy nothing else is offered, and the call goes through coturn.
const describeTurn = peerAvailable('turnserver') ? describe : describe.skip;

describeTurn('WebRtcAudioStream through a TURN relay (coturn)', () => {
  let coturn: Coturn;
  beforeAll(async () => {
    coturn = await Coturn.start({ users: { alice: 'secret' } });
  }, 20_000);
  afterAll(async () => {
    await coturn?.stop();
  });

  it.each(['udp', 'tcp'] as const)('TURN over %s, relay policy: each side offers relayed candidates only, the selected pair is relay to relay, and the tone arrives', async (transport) => {
    // A tone, not speech: through a relay on a loaded machine NetEq stretches and shrinks the
    // audio all along (sample-aligned speech is judged on the direct path, above); what this
    // proves is the path, and the tone's frequency and level survive that.
    const iceServers = [{ urls: `turn:${coturn.address}:${coturn.port}${transport === 'tcp' ? '?transport=tcp' : ''}`, username: 'alice', credential: 'secret' }];
    const alice = await end({ kind: 'tone', frequencies: [1000] }, { codecs: ['PCMU'], iceServers, iceTransportPolicy: 'relay' });
    const bob = await end({ kind: 'silence' }, { codecs: ['PCMU'], iceServers, iceTransportPolicy: 'relay' });
    try {
      const { offer, answer } = await connect(alice, bob);
      for (const sdp of [offer, answer]) {
        const candidates = sdp.match(/^a=candidate:.*$/gm) ?? [];
        expect(candidates.length).toBeGreaterThan(0);
        expect(candidates.filter((candidate) => !/ typ relay /.test(candidate))).toEqual([]);
      }
      const playedBefore = playedSeconds(bob);
      await waitFor(() => playedSeconds(bob) >= playedBefore + 2, 15_000, '2 s played at Bob');
      const stats = await bob.stream.refreshStats();
      expect(stats.ice).toMatchObject({ localType: 'relay', remoteType: 'relay' });
      expect(stats.ice?.remote).toMatch(new RegExp(`^${coturn.address.replace(/\./g, '\\.')}:\\d+$`));
      expect(stats.received.packets).toBeGreaterThan(50);
      const played = new Int16Array(bob.played.flatMap((frame) => [...frame]));
      const last = played.subarray(played.length - Math.round(0.5 * bob.rate()));
      expect(dominantFrequency(last, bob.rate())).toBeCloseTo(1000, -1);
      expect(sineSnrDb(last, bob.rate(), 1000)).toBeGreaterThan(20);
    } finally {
      alice.stream.close();
      bob.stream.close();
    }
  }, 40_000);
});
