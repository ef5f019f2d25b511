import { DtmfNotSentError, G722, OPUS, PCMA, PCMU, type Codec, type DtmfEvent } from '@sip-endpoint/media';
import { waitFor } from '@sip-endpoint/test-support';
import { connectPair, sleep, type Side } from './support/engines';
import { workerPorts } from './support/ports';
import { concat, dominantFrequency, fractionAbove, powerAt, rms, windowSnrsDb } from './support/signal';

const ports = workerPorts(200);

/** Samples a side has played so far. */
const playedSamples = (side: Side): number => side.played.reduce((n, frame) => n + frame.length, 0);

describe.each([
  [PCMU.name, PCMU, 1000, 30],
  [PCMA.name, PCMA, 1000, 30],
  [G722.name, G722, 1000, 20],
  // opus is a perceptual codec: a pure tone comes back right in frequency but with a modest SNR.
  [OPUS.name, OPUS, 1000, 6],
] as const)('two engines on 127.0.0.1 with %s', (_name: string, codec: Codec, frequency: number, minSnr: number) => {
  it(`carry a ${frequency} Hz tone both ways with the right frequency and SNR above ${minSnr} dB`, async () => {
    const pair = await connectPair(codec, ports, { kind: 'tone', frequencies: [frequency], levelDbfs: -10 }, { kind: 'tone', frequencies: [frequency * 0.6], levelDbfs: -10 });
    // Wait until there is enough to measure: 1.3 s played at each end (the window is 0.4 to 1.2 s)
    // and more than 60 packets each way. On a loaded machine this takes longer than 1.3 s; the
    // clock's pace is the stall test's business.
    const enough = (side: Side): boolean => playedSamples(side) >= side.playedRate * 1.3 && side.stream.stats().sent.packets > 60 && side.stream.stats().received.packets > 60;
    try {
      await waitFor(() => enough(pair.alice) && enough(pair.bob), 10000, '1.3 s of audio both ways');
    } finally {
      pair.close();
    }
    for (const [side, expected] of [
      [pair.bob, frequency],
      [pair.alice, frequency * 0.6],
    ] as const) {
      // Skip the first 400 ms (jitter buffer filling, codec start-up).
      const all = concat(side.played);
      expect(all.length).toBeGreaterThan(side.playedRate * 1.2);
      const audio = all.subarray(Math.round(side.playedRate * 0.4), Math.round(side.playedRate * 1.2));
      expect(Math.abs(dominantFrequency(audio, side.playedRate) - expected)).toBeLessThanOrEqual(10);
      // Eight 100 ms windows: a codec defect spoils all of them, a stall of a loaded machine one or two.
      const snrs = windowSnrsDb(audio, side.playedRate, expected);
      expect(snrs).toHaveLength(8);
      expect(fractionAbove(snrs, minSnr)).toBeGreaterThanOrEqual(0.75);
    }
    const stats = pair.alice.stream.stats();
    expect(stats.sent.packets).toBeGreaterThan(60);
    expect(stats.received.packets).toBeGreaterThan(60);
    // Loopback UDP does not lose packets unless the machine stalls the event loop for long.
    expect(stats.received.lost).toBeLessThanOrEqual(stats.received.packets * 0.02);
  });
});

describe('an event-loop stall', () => {
  it('is caught up by the media clock: the overdue packets all go out, none lost or repeated', async () => {
    const pair = await connectPair(PCMU, ports, { kind: 'tone', frequencies: [1000], levelDbfs: -10 }, { kind: 'silence' });
    // 300 ms of media, the stall, 400 ms more, then the count: the waits are the scenario under test.
    await sleep(300);
    // Hold the event loop for 80 ms: the clock then runs four overdue ticks of each stream at once.
    const until = performance.now() + 80;
    while (performance.now() < until);
    await sleep(400);
    pair.close();
    const received = pair.bob.stream.stats().received;
    expect(received.packets).toBeGreaterThan(30);
    expect(received.lost).toBe(0);
    expect(received.expected).toBe(received.packets);
  });
});

describe('DTMF between two engines', () => {
  it.each([PCMU, PCMA, G722, OPUS].map((codec) => [codec.name, codec] as const))('sends telephone-events both ways, one event per digit, with %s', async (_name, codec) => {
    const pair = await connectPair(codec, ports, { kind: 'silence' }, { kind: 'silence' });
    const atBob: DtmfEvent[] = [];
    const atAlice: DtmfEvent[] = [];
    pair.bob.stream.on('dtmf', (event) => atBob.push(event));
    pair.alice.stream.on('dtmf', (event) => atAlice.push(event));
    await waitFor(() => pair.alice.stream.stats().received.packets > 0 && pair.bob.stream.stats().received.packets > 0, 5000, 'media both ways');
    pair.alice.stream.sendDtmf('12#*');
    pair.bob.stream.sendDtmf('90D');
    await waitFor(() => atBob.length >= 4 && atAlice.length >= 3, 5000, 'the digits at both ends');
    // No second event may follow (an end packet is sent three times): a quiet spell is the check.
    await sleep(200);
    pair.close();
    expect(atBob.map((e) => e.digit).join('')).toBe('12#*');
    expect(atAlice.map((e) => e.digit).join('')).toBe('90D');
    expect(atBob.every((e) => e.source === 'rfc4733' && (e.durationMs ?? 0) >= 80)).toBe(true);
    // Telephone-events share the stream's sequence numbers: none of them counts as lost.
    expect(pair.bob.stream.stats().received.lost).toBe(0);
    expect(pair.alice.stream.stats().received.lost).toBe(0);
  });

  it('sendDtmf resolves once its digits have gone out, in order after those queued before; a close rejects with the digits not sent', async () => {
    const pair = await connectPair(PCMU, ports, { kind: 'silence' }, { kind: 'silence' });
    const atBob: string[] = [];
    pair.bob.stream.on('dtmf', (event) => atBob.push(event.digit));
    await waitFor(() => pair.alice.stream.stats().received.packets > 0 && pair.bob.stream.stats().received.packets > 0, 5000, 'media both ways');
    const started = Date.now();
    const first = pair.alice.stream.sendDtmf('12');
    const second = pair.alice.stream.sendDtmf('3');
    let firstDone = 0;
    void first.then(() => (firstDone = Date.now()));
    await second;
    // Three digits of 100 ms with their end packets and 60 ms gaps: the second call's promise
    // cannot resolve before the first's, nor before ~0.3 s of sending.
    expect(firstDone).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    await waitFor(() => atBob.length >= 3, 3000, 'the three digits at Bob');
    expect(atBob.join('')).toBe('123');
    const cut = pair.alice.stream.sendDtmf('4567');
    await sleep(60); // the first digit is under way when the stream closes
    pair.close();
    await expect(cut).rejects.toBeInstanceOf(DtmfNotSentError);
    await expect(cut).rejects.toMatchObject({ code: 'ERR_MEDIA_DTMF_NOT_SENT', unsent: '4567' });
  });

  it('sends in-band tones that the far end detects', async () => {
    const pair = await connectPair(PCMA, ports, { kind: 'silence' }, { kind: 'silence' });
    const atBob: DtmfEvent[] = [];
    pair.bob.stream.on('dtmf', (event) => atBob.push(event));
    await waitFor(() => pair.bob.stream.stats().received.packets > 0, 5000, 'media from Alice');
    pair.alice.stream.sendDtmf('5A7', 'inband');
    await waitFor(() => atBob.length >= 3, 5000, 'three digits at Bob');
    // No digit may be detected twice: a quiet spell after the last one is the check.
    await sleep(200);
    pair.close();
    expect(atBob.map((e) => `${e.digit}:${e.source}`)).toEqual(['5:inband', 'A:inband', '7:inband']);
  });

  it('plays every sent digit locally with dtmf_feedback, without reporting it as received', async () => {
    const pair = await connectPair(PCMU, ports, { kind: 'silence' }, { kind: 'silence' }, { dtmfFeedback: true });
    const heardLocally: string[] = [];
    pair.alice.stream.on('dtmf', (event) => heardLocally.push(`${event.digit}:${event.source}`));
    await waitFor(() => pair.alice.played.length > 0, 5000, 'Alice playing');
    pair.alice.played.length = 0;
    pair.alice.stream.sendDtmf('81');
    // Both digits and their gaps (0.32 s) and a margin played out.
    await waitFor(() => playedSamples(pair.alice) >= pair.alice.playedRate * 0.6, 5000, '0.6 s played by Alice');
    pair.close();
    // Alice's own output carried the tone of 8 (852 + 1336 Hz), then of 1 (697 + 1209 Hz).
    const played = concat(pair.alice.played);
    const rate = pair.alice.playedRate;
    const eight = played.subarray(0, Math.round(rate * 0.12));
    const one = played.subarray(Math.round(rate * 0.16), Math.round(rate * 0.28));
    expect(powerAt(eight, rate, 1336)).toBeGreaterThan(100 * powerAt(eight, rate, 1209));
    expect(powerAt(one, rate, 1209)).toBeGreaterThan(100 * powerAt(one, rate, 1336));
    // Her own digits are not events from the far end.
    expect(heardLocally).toEqual([]);
  });
});

describe('hold', () => {
  it('sendonly on one side and recvonly on the other stop the held direction, and retrieve resumes it', async () => {
    const pair = await connectPair(PCMU, ports, { kind: 'tone', frequencies: [1000] }, { kind: 'tone', frequencies: [600] });
    // 300 ms of media, then 500 ms of hold, counted after: the waits are the scenario under test.
    await sleep(300);
    pair.alice.stream.setDirection('sendonly');
    pair.bob.stream.setDirection('recvonly');
    const bobSentAtHold = pair.bob.stream.stats().sent.packets;
    const aliceReceivedAtHold = pair.alice.stream.stats().received.packets;
    await sleep(500);
    expect(pair.bob.stream.stats().sent.packets).toBe(bobSentAtHold);
    expect(pair.alice.stream.stats().received.packets).toBe(aliceReceivedAtHold);
    expect(pair.bob.stream.stats().received.packets).toBeGreaterThan(30);
    pair.alice.stream.setDirection('sendrecv');
    pair.bob.stream.setDirection('sendrecv');
    const retrieved = performance.now();
    await waitFor(() => pair.alice.stream.stats().received.packets > aliceReceivedAtHold + 10, 5000, 'media to Alice again');
    expect(performance.now() - retrieved).toBeLessThan(400);
    expect(pair.alice.stream.stats().received.packets).toBeGreaterThan(aliceReceivedAtHold + 10);
    pair.close();
  });
});

describe('mute', () => {
  it('a muted microphone sends silence (RTP keeps flowing) and a muted speaker plays silence; unmuting brings the tone back', async () => {
    const pair = await connectPair(PCMU, ports, { kind: 'tone', frequencies: [1000], levelDbfs: -10 }, { kind: 'silence' });
    await waitFor(() => playedSamples(pair.bob) >= pair.bob.playedRate * 0.2 && pair.bob.stream.stats().received.packets > 0, 5000, 'the tone at Bob');
    pair.alice.stream.setMuted(true);
    expect(pair.alice.stream.muted).toBe(true);
    const sentAtMute = pair.alice.stream.stats().sent.packets;
    const playedAtMute = concat(pair.bob.played).length;
    // Each of the waits below lets the media flow for a while before measuring it: the behaviour under test.
    await sleep(600);
    const sentWhileMuted = pair.alice.stream.stats().sent.packets - sentAtMute;
    expect(sentWhileMuted).toBeGreaterThan(20);
    // Skip what was in flight and in the jitter buffer when the mute began.
    const whileMuted = concat(pair.bob.played).subarray(playedAtMute + Math.round(pair.bob.playedRate * 0.2));
    expect(rms(whileMuted)).toBeLessThan(30);
    pair.alice.stream.setMuted(false);
    await sleep(500);
    const afterUnmute = concat(pair.bob.played);
    const tail = afterUnmute.subarray(afterUnmute.length - Math.round(pair.bob.playedRate * 0.2));
    expect(Math.abs(dominantFrequency(tail, pair.bob.playedRate) - 1000)).toBeLessThanOrEqual(10);
    pair.bob.stream.setSpeakerMuted(true);
    const playedAtSpeakerMute = concat(pair.bob.played).length;
    await sleep(300);
    const whileSpeakerMuted = concat(pair.bob.played).subarray(playedAtSpeakerMute + Math.round(pair.bob.playedRate * 0.05));
    expect(whileSpeakerMuted.length).toBeGreaterThan(pair.bob.playedRate * 0.1);
    expect(rms(whileSpeakerMuted)).toBe(0);
    pair.close();
  });
});
