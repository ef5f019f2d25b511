import { DtmfNotSentError, dtmfFrequencies, InvalidDtmfDigitError, isDtmfDigit, TelephoneEventReceiver, TelephoneEventSender, type DtmfDigit, type ReceivedTelephoneEvent, type TelephoneEventSenderOptions } from '@sip-endpoint/media';

/** Every tick's packet as `M ts e E v d`, or `audio`, with busy and completed after it. */
function run(sender: TelephoneEventSender, ticks: number, step = 160): string[] {
  const out = new Uint8Array(4);
  const lines: string[] = [];
  for (let tick = 0; tick < ticks; tick++) {
    const packet = sender.next(tick * step, out);
    const what = packet ? `${packet.marker ? 'M' : '-'} ts${packet.timestamp} e${out[0]} ${out[1]! & 0x80 ? 'E' : '-'} v${out[1]! & 0x3f} d${(out[2]! << 8) | out[3]!} l${packet.length}` : 'audio';
    lines.push(`${what} ${sender.busy ? 'busy' : 'idle'} ${sender.completed}`);
  }
  return lines;
}

describe('TelephoneEventSender (RFC 4733)', () => {
  it('with the defaults: 8000 Hz, 20 ms packets, 100 ms tones, volume 10, 60 ms (3 packets) between digits', () => {
    const sender = new TelephoneEventSender();
    expect(sender.busy).toBe(false);
    expect(sender.next(0, new Uint8Array(4))).toBeUndefined();
    sender.send(['D', '*']);
    expect(sender.busy).toBe(true);
    expect(run(sender, 20)).toEqual([
      'M ts0 e15 - v10 d160 l4 busy 0',
      '- ts0 e15 - v10 d320 l4 busy 0',
      '- ts0 e15 - v10 d480 l4 busy 0',
      '- ts0 e15 - v10 d640 l4 busy 0',
      '- ts0 e15 E v10 d800 l4 busy 0',
      '- ts0 e15 E v10 d800 l4 busy 0',
      '- ts0 e15 E v10 d800 l4 busy 1',
      'audio busy 1',
      'audio busy 1',
      'audio busy 1',
      'M ts1600 e10 - v10 d160 l4 busy 1',
      '- ts1600 e10 - v10 d320 l4 busy 1',
      '- ts1600 e10 - v10 d480 l4 busy 1',
      '- ts1600 e10 - v10 d640 l4 busy 1',
      '- ts1600 e10 E v10 d800 l4 busy 1',
      '- ts1600 e10 E v10 d800 l4 busy 1',
      '- ts1600 e10 E v10 d800 l4 busy 2',
      'audio busy 2',
      'audio busy 2',
      'audio idle 2',
    ]);
  });

  it.each<[string, TelephoneEventSenderOptions, number, string]>([
    // 30 ms packets at 16 kHz (480 ticks), 50 ms tone (800 ticks), 60 ms gap: 2 packets.
    ['a 16 kHz clock, 30 ms packets and a 50 ms tone', { clockRate: 16000, packetMs: 30, durationMs: 50 }, 480, 'v10 d480 d800E d800E d800E | 2 audio'],
    // A tone shorter than a packet lasts one packet; 50 ms of gap is 3 packets of 20 ms.
    ['a tone shorter than one packet, a 50 ms gap', { durationMs: 5, gapMs: 50 }, 160, 'v10 d160E d160E d160E | 3 audio'],
    ['no gap', { durationMs: 40, gapMs: 0 }, 160, 'v10 d160 d320E d320E d320E | 0 audio'],
    ['volume above 63 sent as 63', { durationMs: 20, volume: 70 }, 160, 'v63 d160E d160E d160E | 3 audio'],
    ['volume below 0 sent as 0', { durationMs: 20, volume: -5 }, 160, 'v0 d160E d160E d160E | 3 audio'],
    ['volume 0 (loudest) kept', { durationMs: 20, volume: 0 }, 160, 'v0 d160E d160E d160E | 3 audio'],
  ])('%s', (_, options, step, expected) => {
    const sender = new TelephoneEventSender(options);
    sender.send(['1', '2']);
    const out = new Uint8Array(4);
    const volumes = new Set<number>();
    const durations: string[] = [];
    let audio = 0;
    for (let tick = 0; tick < 40; tick++) {
      if (!sender.next(tick * step, out)) audio++;
      else if (out[0] === 2) break;
      else {
        volumes.add(out[1]! & 0x3f);
        durations.push(`d${(out[2]! << 8) | out[3]!}${out[1]! & 0x80 ? 'E' : ''}`);
      }
    }
    expect(`v${[...volumes].join(',')} ${durations.join(' ')} | ${audio} audio`).toBe(expected);
  });
});

describe('TelephoneEventReceiver (RFC 4733)', () => {
  const packet = (event: number, end: boolean, duration: number, volume = 10) => Uint8Array.from([0xff, event, (end ? 0x80 : 0) | volume, duration >> 8, duration & 0xff]);

  it('reads every event 0-15 as its digit, its volume and its duration at the clock rate, from the offset', () => {
    const got: ReceivedTelephoneEvent[] = [];
    const receiver = new TelephoneEventReceiver((event) => got.push(event), 16000);
    for (let event = 0; event <= 16; event++) receiver.receive(event * 1000, packet(event, true, 1600 + event, event), 1, 4, 0);
    expect(got).toEqual([...'0123456789*#ABCD'].map((digit, event) => ({ digit, durationMs: Math.round((1600 + event) / 16), volume: event })));
  });

  it('reports an event without end when the next one starts, keeping the largest duration of a reordered event', () => {
    const got: ReceivedTelephoneEvent[] = [];
    const receiver = new TelephoneEventReceiver((event) => got.push(event));
    receiver.receive(100, packet(1, false, 320), 1, 4, 0);
    receiver.receive(100, packet(1, false, 160), 1, 4, 0); // late
    receiver.receive(900, packet(2, false, 160), 1, 4, 0);
    expect(got).toEqual([{ digit: '1', durationMs: 40, volume: 10 }]);
    receiver.receive(900, packet(2, true, 480), 1, 4, 0);
    expect(got.map((e) => `${e.digit}${e.durationMs}`)).toEqual(['140', '260']);
  });

  it('flushes an event idle for a second since its last packet, not before', () => {
    const got: ReceivedTelephoneEvent[] = [];
    const receiver = new TelephoneEventReceiver((event) => got.push(event));
    receiver.flush(99999); // nothing under way
    receiver.receive(100, packet(9, false, 160), 1, 4, 5000);
    receiver.receive(100, packet(9, false, 320), 1, 4, 5400);
    receiver.flush(6399);
    expect(got).toEqual([]);
    receiver.flush(6400);
    expect(got).toEqual([{ digit: '9', durationMs: 40, volume: 10 }]);
    receiver.flush(99999);
    receiver.receive(100, packet(9, true, 800), 1, 4, 6500); // the lost end, late: the digit was reported
    expect(got).toHaveLength(1);
  });
});

describe('DTMF digits', () => {
  it('gives each key its row and column frequency (ITU-T Q.23) and refuses anything else', () => {
    const table = [...'123A456B789C*0#D'].map((digit) => [digit, ...dtmfFrequencies(digit as DtmfDigit)].join(' '));
    expect(table).toEqual(['1 697 1209', '2 697 1336', '3 697 1477', 'A 697 1633', '4 770 1209', '5 770 1336', '6 770 1477', 'B 770 1633', '7 852 1209', '8 852 1336', '9 852 1477', 'C 852 1633', '* 941 1209', '0 941 1336', '# 941 1477', 'D 941 1633']);
    for (const bad of ['E', 'a', '', '12', ' ']) {
      expect(() => dtmfFrequencies(bad as DtmfDigit)).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_DTMF_DIGIT_INVALID', value: bad, message: `"${bad}" is not a DTMF digit (0-9, *, #, A-D)` }));
      expect(() => dtmfFrequencies(bad as DtmfDigit)).toThrow(InvalidDtmfDigitError);
      expect(isDtmfDigit(bad)).toBe(false);
    }
  });

  it('DtmfNotSentError names the digits not sent', () => {
    const error = new DtmfNotSentError('45#');
    expect(error).toMatchObject({ code: 'ERR_MEDIA_DTMF_NOT_SENT', unsent: '45#', message: 'the stream closed before DTMF 45# was sent' });
  });
});
