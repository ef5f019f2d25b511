import { DtmfDetector, dtmfFrequencies, InvalidDtmfDigitError, normalizeDigits, TelephoneEventReceiver, TelephoneEventSender, ToneGenerator, type DtmfDigit, type ReceivedTelephoneEvent } from '@sip-endpoint/media';

describe('RFC 4733 telephone-events', () => {
  it('sends one event per digit: marker first, same timestamp, growing duration, end sent three times', () => {
    const sender = new TelephoneEventSender({ durationMs: 100, packetMs: 20 });
    sender.send(['5']);
    const out = new Uint8Array(4);
    const packets: string[] = [];
    for (let tick = 0; tick < 10; tick++) {
      const packet = sender.next(1000 + tick * 160, out);
      packets.push(packet ? `${packet.marker ? 'M' : '-'} ts${packet.timestamp} e${out[0]} ${out[1]! & 0x80 ? 'E' : '-'} d${(out[2]! << 8) | out[3]!}` : 'audio');
    }
    expect(packets).toEqual([
      'M ts1000 e5 - d160',
      '- ts1000 e5 - d320',
      '- ts1000 e5 - d480',
      '- ts1000 e5 - d640',
      '- ts1000 e5 E d800',
      '- ts1000 e5 E d800',
      '- ts1000 e5 E d800',
      'audio',
      'audio',
      'audio',
    ]);
  });

  it('receives one digit per event, collapsing retransmitted ends', () => {
    const got: ReceivedTelephoneEvent[] = [];
    const receiver = new TelephoneEventReceiver((event) => got.push(event));
    const packet = (event: number, end: boolean, duration: number) => Uint8Array.from([event, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff]);
    for (const [ts, event, end, duration] of [
      [100, 11, false, 160],
      [100, 11, false, 320],
      [100, 11, true, 800],
      [100, 11, true, 800],
      [100, 11, true, 800],
      [900, 3, false, 160],
      [900, 3, true, 400],
      [900, 3, true, 400],
    ] as const) {
      receiver.receive(ts, packet(event, end, duration), 0, 4, 0);
    }
    expect(got).toEqual([
      { digit: '#', durationMs: 100, volume: 10 },
      { digit: '3', durationMs: 50, volume: 10 },
    ]);
  });

  it('reports an event whose end packets were lost, once idle for a second, and ignores junk', () => {
    const got: ReceivedTelephoneEvent[] = [];
    const receiver = new TelephoneEventReceiver((event) => got.push(event));
    receiver.receive(5, Uint8Array.from([7, 10, 0, 160]), 0, 4, 0);
    receiver.receive(6, Uint8Array.from([200, 10, 0, 160]), 0, 4, 0); // event 200 is not a digit
    receiver.receive(7, Uint8Array.from([1, 10]), 0, 2, 0); // too short
    receiver.flush(500);
    expect(got).toEqual([]);
    receiver.flush(1100);
    expect(got.map((e) => e.digit)).toEqual(['7']);
  });

  it('normalises digit strings and refuses other characters', () => {
    expect(normalizeDigits('1a, #*d')).toEqual(['1', 'A', '#', '*', 'D']);
    expect(() => normalizeDigits('12x')).toThrow(InvalidDtmfDigitError);
    expect(() => normalizeDigits('12x')).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_DTMF_DIGIT_INVALID', value: 'x' }));
  });
});

describe('in-band DTMF detection (Goertzel)', () => {
  const render = (rate: number, digits: string, toneMs = 80, gapMs = 60, levelDb = -10): Int16Array => {
    const parts: Int16Array[] = [];
    for (const digit of digits) {
      const on = new Int16Array(Math.round((rate * toneMs) / 1000));
      new ToneGenerator(rate, dtmfFrequencies(digit as DtmfDigit), levelDb).fill(on);
      parts.push(on, new Int16Array(Math.round((rate * gapMs) / 1000)));
    }
    const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  };

  it.each([8000, 16000, 48000])('finds every key at %i Hz, once per press', (rate) => {
    const found: string[] = [];
    const detector = new DtmfDetector(rate, (digit) => found.push(digit));
    const audio = render(rate, '0123456789*#ABCD');
    for (let i = 0; i < audio.length; i += 160) detector.process(audio.subarray(i, i + 160));
    expect(found.join('')).toBe('0123456789*#ABCD');
  });

  it('does not fire on a single tone, speech-like noise, or a tone too short', () => {
    const found: string[] = [];
    const detector = new DtmfDetector(8000, (digit) => found.push(digit));
    const single = new Int16Array(8000);
    new ToneGenerator(8000, [1209], -10).fill(single);
    detector.process(single);
    let seed = 1;
    const noise = Int16Array.from({ length: 8000 }, () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 16000) - 8000);
    detector.process(noise);
    detector.process(render(8000, '5', 25, 100));
    expect(found).toEqual([]);
  });
});
