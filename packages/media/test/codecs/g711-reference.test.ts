import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PCMA, PCMU } from '@sip-endpoint/media';
import { peerAvailable } from '@sip-endpoint/test-support';

/** ffmpeg, an implementation of G.711 independent of ours, converting raw files. */
function ffmpeg(args: string[]): void {
  const run = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8' });
  if (run.error !== undefined || run.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${run.error?.message ?? run.stderr}`);
}

// The codecs as calls use them (their encoder and decoder), checked against ffmpeg's own law.
const laws = [
  { name: 'A-law (PCMA)', format: 'alaw', encode: (pcm: Int16Array, out: Uint8Array) => PCMA.createEncoder().encode(pcm, out), decode: (payload: Uint8Array, out: Int16Array) => PCMA.createDecoder().decode(payload, out) },
  { name: 'u-law (PCMU)', format: 'mulaw', encode: (pcm: Int16Array, out: Uint8Array) => PCMU.createEncoder().encode(pcm, out), decode: (payload: Uint8Array, out: Int16Array) => PCMU.createDecoder().decode(payload, out) },
] as const;

(peerAvailable('ffmpeg') ? describe : describe.skip)('G.711 against ffmpeg, byte for byte', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'g711-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(laws)('$name: our decoding of each of the 256 codes is ffmpeg\'s', ({ format, decode }) => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    writeFileSync(join(dir, `${format}.raw`), codes);
    ffmpeg(['-f', format, '-ar', '8000', '-ac', '1', '-i', join(dir, `${format}.raw`), '-f', 's16le', join(dir, `${format}.pcm`)]);
    const file = readFileSync(join(dir, `${format}.pcm`));
    const reference = new Int16Array(file.buffer, file.byteOffset, file.length / 2);
    const ours = new Int16Array(256);
    decode(codes, ours);
    expect(Array.from(ours)).toEqual(Array.from(reference));
  });

  it.each(laws)('$name: ffmpeg decodes our encoding of every 16-bit sample to the quantization level of that sample', ({ format, encode }) => {
    // G.711 puts a sample in the interval that holds it; the level ffmpeg decodes our code to must
    // then be one of the two levels around the sample (A-law and u-law tables swapped, or an
    // off-by-one segment, land far away).
    const samples = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
    const ours = new Uint8Array(samples.length);
    encode(samples, ours);
    writeFileSync(join(dir, `${format}-ours.raw`), ours);
    ffmpeg(['-f', format, '-ar', '8000', '-ac', '1', '-i', join(dir, `${format}-ours.raw`), '-f', 's16le', join(dir, `${format}-ours.pcm`)]);
    const file = readFileSync(join(dir, `${format}-ours.pcm`));
    const decoded = new Int16Array(file.buffer, file.byteOffset, file.length / 2);
    const levels = [...new Set(decoded)].sort((a, b) => a - b);
    const wrong: string[] = [];
    for (let i = 0; i < samples.length && wrong.length < 5; i++) {
      const x = samples[i]!;
      // The levels just below and just above the sample (or the sample's own level).
      const above = levels.find((level) => level >= x) ?? levels.at(-1)!;
      const below = [...levels].reverse().find((level) => level <= x) ?? levels[0]!;
      if (decoded[i] !== above && decoded[i] !== below) wrong.push(`${x} -> ${decoded[i]} (levels around it: ${below}, ${above})`);
    }
    expect(wrong).toEqual([]);
    // Every code of the law is used: a table of the other law would leave levels out.
    expect(levels.length).toBeGreaterThanOrEqual(format === 'alaw' ? 256 : 255);
  });
});
