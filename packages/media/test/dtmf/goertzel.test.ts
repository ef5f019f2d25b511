import { DtmfDetector, dtmfFrequencies, type DtmfDigit } from '@sip-endpoint/media';
import { speechLikeSignal } from '@sip-endpoint/media/testing';

const KEYS = [...'0123456789*#ABCD'] as DtmfDigit[];
const RATES = [8000, 16000, 48000];

/** A sum of sines (frequency in Hz, level in dBFS each, start phase), `ms` long. */
function tones(rate: number, parts: readonly (readonly [number, number, number?])[], ms: number): Int16Array {
  const out = new Int16Array(Math.round((rate * ms) / 1000));
  for (let i = 0; i < out.length; i++) {
    let sample = 0;
    for (const [frequency, db, phase = frequency] of parts) sample += 32767 * 10 ** (db / 20) * Math.sin((2 * Math.PI * frequency * i) / rate + phase);
    out[i] = Math.round(sample);
  }
  return out;
}

/** What the detector reports for `audio` after `lead` samples of silence, then 200 ms of silence. */
function detect(rate: number, audio: Int16Array, lead = 0): string {
  const found: string[] = [];
  const detector = new DtmfDetector(rate, (digit) => {
    if (!KEYS.includes(digit)) throw new Error(`reported ${String(digit)}, not a key`);
    found.push(digit);
  });
  detector.process(new Int16Array(lead));
  detector.process(audio);
  detector.process(new Int16Array(rate / 5));
  return found.join('');
}

/** A key's two tones: row scaled by `rowScale` at `rowDb`, column by `columnScale` at `columnDb`. */
function key(rate: number, digit: DtmfDigit, ms = 100, { rowScale = 1, columnScale = 1, rowDb = -10, columnDb = -10, phase }: { rowScale?: number; columnScale?: number; rowDb?: number; columnDb?: number; phase?: number } = {}): Int16Array {
  const [row, column] = dtmfFrequencies(digit);
  return tones(rate, [[row * rowScale, rowDb, phase], [column * columnScale, columnDb, phase]], ms);
}

describe('DtmfDetector (ITU-T Q.24)', () => {
  describe.each(RATES)('at %i Hz', (rate) => {
    it.each([-0.015, 0.015])('finds every key with its row or its column %f off (within 1.5 %)', (deviation) => {
      const found = KEYS.map((digit) => [detect(rate, key(rate, digit, 100, { rowScale: 1 + deviation })), detect(rate, key(rate, digit, 100, { columnScale: 1 + deviation })), detect(rate, key(rate, digit, 100, { rowScale: 1 + deviation, columnScale: 1 + deviation }))].join(' '));
      expect(found).toEqual(KEYS.map((digit) => `${digit} ${digit} ${digit}`));
    });

    it.each([-0.035, 0.035])('finds no key with its row or its column %f off (3.5 %)', (deviation) => {
      const found = KEYS.map((digit) => detect(rate, key(rate, digit, 100, { rowScale: 1 + deviation })) + detect(rate, key(rate, digit, 100, { columnScale: 1 + deviation })));
      expect(found).toEqual(KEYS.map(() => ''));
    });

    it.each([
      ['column 7 dB below the row (normal twist)', -10, -17, true],
      ['column 9 dB below the row', -10, -19, false],
      ['row 3 dB below the column (reverse twist)', -13, -10, true],
      ['row 5 dB below the column', -15, -10, false],
      ['each tone at -45 dBFS', -45, -45, true],
      ['each tone at -53 dBFS (under the -50 dBFS floor)', -53, -53, false],
    ] as const)('%s: every key found or none', (_, rowDb, columnDb, found) => {
      expect(KEYS.map((digit) => detect(rate, key(rate, digit, 100, { rowDb, columnDb }), 33))).toEqual(KEYS.map((digit) => (found ? digit : '')));
    });
  });

  it('holds the 1.5 % / 3.5 % frequency tolerance whatever phase the tones start at', () => {
    const rate = 8000;
    const found = (scale: number, phase: number) => KEYS.map((digit) => detect(rate, key(rate, digit, 100, { rowScale: scale, columnScale: scale, phase }))).join('');
    for (let step = 0; step < 16; step++) {
      const phase = (step * Math.PI) / 8;
      for (const scale of [0.985, 1.015]) expect(found(scale, phase)).toBe(KEYS.join(''));
      for (const scale of [0.965, 1.035]) expect(found(scale, phase)).toBe('');
    }
  });

  it.each([
    [20, false],
    [30, false],
    [35, false],
    [65, true],
    [80, true],
  ])('a %i ms tone is found at every alignment with the blocks: %s', (ms, found) => {
    const rate = 8000;
    for (const digit of ['1', '5', '#', 'D'] as const) {
      const audio = key(rate, digit, ms);
      const results = new Set<string>();
      for (let lead = 0; lead < 205; lead += 3) results.add(detect(rate, audio, lead));
      expect([...results]).toEqual([found ? digit : '']);
    }
  });

  it('reports a held key once, a key dropped out for one block once, and a key pressed again twice', () => {
    const rate = 8000;
    const gap = (ms: number) => new Int16Array((rate * ms) / 1000);
    const join = (...parts: Int16Array[]) => {
      const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((offset, p) => (out.set(p, offset), offset + p.length), 0);
      return out;
    };
    expect(detect(rate, key(rate, '7', 1000))).toBe('7');
    // 15 ms of silence spoils one 25.6 ms block at most: the key is still held, however often.
    expect(detect(rate, join(key(rate, '7', 100), gap(15), key(rate, '7', 100)))).toBe('7');
    expect(detect(rate, join(key(rate, '7', 100), gap(15), key(rate, '7', 100), gap(15), key(rate, '7', 100)))).toBe('7');
    // 40 ms of silence (after the key's 800 samples: blocks from 820 to 1025, and to 1230 with
    // 10 samples of tone after the gap) is two blocks without it: a second press.
    expect(detect(rate, join(key(rate, '7', 100), gap(40), key(rate, '7', 100)))).toBe('77');
    // 80 ms of silence is more than two blocks: a second press.
    expect(detect(rate, join(key(rate, '7', 100), gap(80), key(rate, '7', 100)))).toBe('77');
    // A different key right after: reported at once.
    expect(detect(rate, join(key(rate, '7', 100), key(rate, '9', 100)))).toBe('79');
  });

  it('needs two blocks in a row: two tones of one block each, one block apart, are no key', () => {
    const rate = 8000;
    const block = 205; // 25.6 ms at 8 kHz
    const audio = new Int16Array(3 * block);
    audio.set(key(rate, '4', 25.625));
    audio.set(key(rate, '4', 25.625), 2 * block);
    expect(detect(rate, audio)).toBe('');
    expect(detect(rate, key(rate, '4', 51.25))).toBe('4');
  });

  it('finds the same keys whatever the chunks the audio comes in, and reads only `length` samples', () => {
    const rate = 16000;
    const parts = (['3', 'B', '0'] as const).flatMap((digit) => [key(rate, digit, 90), new Int16Array(rate / 10)]);
    const all = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((offset, p) => (all.set(p, offset), offset + p.length), 0);
    for (const chunk of [1, 7, 160, 1000]) {
      const found: string[] = [];
      const detector = new DtmfDetector(rate, (digit) => found.push(digit));
      const buffer = new Int16Array(chunk + 5).fill(12000); // samples past `length` are loud junk
      for (let i = 0; i < all.length; i += chunk) {
        const piece = all.subarray(i, i + chunk);
        buffer.set(piece);
        detector.process(buffer, piece.length);
      }
      expect(found.join('')).toBe('3B0');
    }
  });

  it('finds nothing in a single tone, two rows with a column, or a row with two columns', () => {
    const rate = 8000;
    for (const frequency of [697, 770, 852, 941, 1209, 1336, 1477, 1633]) expect(detect(rate, tones(rate, [[frequency, -10]], 300))).toBe('');
    expect(detect(rate, tones(rate, [[697, -10], [770, -10], [1209, -10]], 300))).toBe('');
    expect(detect(rate, tones(rate, [[852, -10], [1336, -10], [1477, -10]], 300))).toBe('');
    // A second row or column 6 dB down is still too strong for one key; 12 dB down it is not.
    expect(detect(rate, tones(rate, [[697, -10], [941, -16], [1209, -10]], 300))).toBe('');
    expect(detect(rate, tones(rate, [[697, -10], [1209, -10], [1633, -16]], 300))).toBe('');
    expect(detect(rate, tones(rate, [[697, -10], [941, -22], [1209, -10]], 300))).toBe('1');
    expect(detect(rate, tones(rate, [[697, -10], [1209, -10], [1633, -22]], 300))).toBe('1');
  });

  it('finds nothing in speech: nine speech-like signals of 3 s, at every rate', () => {
    // Making the signal dominates this test's time (its low-pass has 289 taps at 48 kHz, a second
    // of work on a loaded machine): four at 8 kHz, four at 16 kHz, one at 48 kHz keep it short
    // enough for the mutation run, which runs it for every mutant of the detector.
    for (let seed = 1; seed <= 9; seed++) {
      const sampleRate = seed <= 4 ? 8000 : seed <= 8 ? 16000 : 48000;
      expect(detect(sampleRate, speechLikeSignal({ sampleRate, seconds: 3, seed, levelDbfs: -15 }))).toBe('');
    }
  });
});
