// Codec throughput: encode + decode of a speech-like signal, as a multiple of real time, with
// ffmpeg (G.722) and sox (G.711) measured on the same machine in the same run.
// Run: npm run bench:codecs   (after npm run build)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { G722, OPUS, PCMA, PCMU, type Codec } from '@sip-endpoint/media';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 120);
const RUNS = 5;

/** A signal with speech-like spectrum and level changes (three tones, slowly modulated, plus noise). */
function signal(rate: number, seconds: number): Int16Array {
  const out = new Int16Array(rate * seconds);
  let seed = 7;
  for (let i = 0; i < out.length; i++) {
    const t = i / rate;
    const envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const noise = (seed / 0x7fffffff - 0.5) * 600;
    out[i] = Math.round(envelope * (4000 * Math.sin(2 * Math.PI * 220 * t) + 2500 * Math.sin(2 * Math.PI * 1030 * t) + 1200 * Math.sin(2 * Math.PI * 2900 * t)) + noise);
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function ours(codec: Codec, pcm: Int16Array): number {
  const frame = Math.round(codec.sampleRate * 0.02);
  const encoder = codec.createEncoder();
  const decoder = codec.createDecoder();
  const payload = new Uint8Array(codec.maxPayloadBytes(frame));
  const decoded = new Int16Array(frame * 6);
  const start = process.hrtime.bigint();
  for (let i = 0; i + frame <= pcm.length; i += frame) {
    const bytes = encoder.encode(pcm.subarray(i, i + frame), payload);
    decoder.decode(payload.subarray(0, bytes), decoded);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  encoder.close();
  decoder.close();
  return pcm.length / codec.sampleRate / seconds;
}

/** Wall time of a command, minus the time of the same command on a 1 s file (start-up cost). */
function peer(command: string, argsFor: (input: string, output: string) => string[], input: string, shortInput: string, dir: string, audioSeconds: number): number | undefined {
  const time = (file: string): number => {
    const start = process.hrtime.bigint();
    const result = spawnSync(command, argsFor(file, join(dir, 'peer.out')));
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr?.toString()}`);
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
  if (spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0) return undefined;
  const full = median(Array.from({ length: 3 }, () => time(input)));
  const startup = median(Array.from({ length: 3 }, () => time(shortInput)));
  return audioSeconds / Math.max(1e-6, full - startup);
}

const dir = mkdtempSync(join(tmpdir(), 'sep-bench-codecs-'));
const rows: string[] = [];
for (const [codec, target] of [
  [PCMU, 1000],
  [PCMA, 1000],
  [G722, 100],
  [OPUS, 0],
] as const) {
  const pcm = signal(codec.sampleRate, codec === OPUS ? Math.min(SECONDS, 30) : SECONDS);
  ours(codec, pcm.subarray(0, codec.sampleRate * 2)); // warm-up
  const multiple = median(Array.from({ length: RUNS }, () => ours(codec, pcm)));
  let peerMultiple: number | undefined;
  let peerName = '';
  // The peers are fast native programs: give them 30 minutes of audio, so that their start-up
  // cost (measured on 1 s and subtracted) is small beside the work.
  const raw = join(dir, `${codec.encoding}.raw`);
  const short = join(dir, `${codec.encoding}-1s.raw`);
  const peerSeconds = 1800;
  const long = new Int16Array(codec.sampleRate * peerSeconds);
  for (let offset = 0; offset < long.length; offset += pcm.length) long.set(pcm.subarray(0, Math.min(pcm.length, long.length - offset)), offset);
  writeFileSync(raw, Buffer.from(long.buffer));
  writeFileSync(short, Buffer.from(pcm.subarray(0, codec.sampleRate).buffer));
  const audioSeconds = peerSeconds;
  if (codec === G722) {
    peerName = 'ffmpeg';
    // ffmpeg: encode to G.722 and decode back, in one pipeline of two processes.
    peerMultiple = peer('sh', (input, output) => ['-c', `ffmpeg -v error -f s16le -ar 16000 -ac 1 -i ${input} -c:a g722 -f g722 - | ffmpeg -v error -y -f g722 -i - -f s16le ${output}`], raw, short, dir, audioSeconds);
  } else if (codec === PCMU || codec === PCMA) {
    peerName = 'sox';
    const law = codec === PCMU ? 'u-law' : 'a-law';
    peerMultiple = peer('sh', (input, output) => ['-c', `sox -t raw -r 8000 -e signed -b 16 -c 1 ${input} -t raw -e ${law} -b 8 - | sox -t raw -r 8000 -e ${law} -b 8 -c 1 - -t raw -e signed -b 16 ${output}`], raw, short, dir, audioSeconds);
  }
  const ratio = peerMultiple ? ` | ${peerName} ${peerMultiple.toFixed(0)}x | ratio ${(multiple / peerMultiple).toFixed(2)}` : ' | - | -';
  const verdict = target > 0 ? (multiple >= target ? `target ${target}x met` : `target ${target}x MISSED`) : 'no target';
  rows.push(`| ${codec.name} | ${multiple.toFixed(0)}x${ratio} | ${verdict} |`);
}
console.log(`codec throughput, encode+decode, median of ${RUNS} runs over ${SECONDS} s of audio (20 ms frames)`);
console.log('| codec | ours | peer | ours/peer | target |');
console.log('| --- | --- | --- | --- | --- |');
for (const row of rows) console.log(row.replace(' | ratio ', ' | '));
console.log(`node ${process.version}, ${process.platform} ${process.arch}`);
