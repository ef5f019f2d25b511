import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** sipp's A-law speech capture (Debian's sip-tester), which its `play_pcap_audio` sends. */
export const PCAP = '/usr/share/sip-tester/g711a.pcap';

/**
 * The speech in sipp's g711a.pcap, decoded by other programs than ours: tshark takes the RTP
 * payloads out of the capture, ffmpeg decodes the A-law (8 kHz samples).
 */
export function pcapSpeech(): Int16Array {
  const payloads = spawnSync('tshark', ['-r', PCAP, '-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtp.p_type == 8', '-T', 'fields', '-e', 'rtp.payload'], { encoding: 'utf8' });
  if (payloads.status !== 0) throw new Error(`tshark could not read ${PCAP}: ${payloads.stderr}`);
  const alaw = Buffer.from(payloads.stdout.replace(/[^0-9a-f]/gi, ''), 'hex');
  const dir = mkdtempSync(join(tmpdir(), 'sep-pcap-'));
  try {
    writeFileSync(join(dir, 'speech.alaw'), alaw);
    const ffmpeg = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'alaw', '-ar', '8000', '-ac', '1', '-i', join(dir, 'speech.alaw'), '-f', 's16le', join(dir, 'speech.raw')], { encoding: 'utf8' });
    if (ffmpeg.status !== 0) throw new Error(`ffmpeg could not decode the pcap's A-law: ${ffmpeg.stderr}`);
    const raw = readFileSync(join(dir, 'speech.raw'));
    return new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
