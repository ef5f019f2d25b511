/**
 * One codec as the configuration names it.
 *
 * @public
 */
export interface CodecName {
  /** Canonical `NAME/RATE[/CHANNELS]` as the settings write it, e.g. `PCMU/8000`, `G722/16000`, `opus/48000/2`. */
  readonly name: string;
  /** Encoding name as SDP writes it in a=rtpmap (`PCMU`, `G722`, `opus`, `telephone-event`). */
  readonly encoding: string;
  /** Audio sample rate in Hz. */
  readonly sampleRate: number;
  /** RTP clock rate as SDP writes it (differs from the sample rate for G.722: 8000). */
  readonly rtpClockRate: number;
  readonly channels: number;
  /** `audio`, `video`, `dtmf` (telephone-event) or `fec` (red, ulpfec). */
  readonly kind: 'audio' | 'video' | 'dtmf' | 'fec';
  /** Static RTP payload type, when the codec has one. */
  readonly staticPayloadType?: number;
}

const CATALOGUE: readonly (CodecName & { spellings: readonly string[] })[] = [
  { name: 'PCMU/8000', encoding: 'PCMU', sampleRate: 8000, rtpClockRate: 8000, channels: 1, kind: 'audio', staticPayloadType: 0, spellings: ['pcmu', 'g711u', 'g711mu', 'ulaw'] },
  { name: 'PCMA/8000', encoding: 'PCMA', sampleRate: 8000, rtpClockRate: 8000, channels: 1, kind: 'audio', staticPayloadType: 8, spellings: ['pcma', 'g711a', 'alaw'] },
  { name: 'G722/16000', encoding: 'G722', sampleRate: 16000, rtpClockRate: 8000, channels: 1, kind: 'audio', staticPayloadType: 9, spellings: ['g722', 'g722/8000'] },
  { name: 'opus/48000/2', encoding: 'opus', sampleRate: 48000, rtpClockRate: 48000, channels: 2, kind: 'audio', spellings: ['opus', 'opus/48000'] },
  { name: 'G729/8000', encoding: 'G729', sampleRate: 8000, rtpClockRate: 8000, channels: 1, kind: 'audio', staticPayloadType: 18, spellings: ['g729', 'g729a'] },
  { name: 'iLBC/8000', encoding: 'iLBC', sampleRate: 8000, rtpClockRate: 8000, channels: 1, kind: 'audio', spellings: ['ilbc'] },
  { name: 'iSAC/16000', encoding: 'iSAC', sampleRate: 16000, rtpClockRate: 16000, channels: 1, kind: 'audio', spellings: ['isac'] },
  { name: 'iSAC/32000', encoding: 'iSAC', sampleRate: 32000, rtpClockRate: 32000, channels: 1, kind: 'audio', spellings: [] },
  { name: 'telephone-event/8000', encoding: 'telephone-event', sampleRate: 8000, rtpClockRate: 8000, channels: 1, kind: 'dtmf', spellings: ['telephone-event'] },
  { name: 'red/8000', encoding: 'red', sampleRate: 8000, rtpClockRate: 8000, channels: 1, kind: 'fec', spellings: ['red'] },
  { name: 'ulpfec/8000', encoding: 'ulpfec', sampleRate: 8000, rtpClockRate: 8000, channels: 1, kind: 'fec', spellings: ['ulpfec'] },
  { name: 'H264/90000', encoding: 'H264', sampleRate: 90000, rtpClockRate: 90000, channels: 1, kind: 'video', spellings: ['h264'] },
  { name: 'VP8/90000', encoding: 'VP8', sampleRate: 90000, rtpClockRate: 90000, channels: 1, kind: 'video', spellings: ['vp8'] },
  { name: 'VP9/90000', encoding: 'VP9', sampleRate: 90000, rtpClockRate: 90000, channels: 1, kind: 'video', spellings: ['vp9'] },
];

const BY_SPELLING = new Map<string, CodecName>();
for (const { spellings, ...codec } of CATALOGUE) {
  BY_SPELLING.set(codec.name.toLowerCase(), codec);
  for (const spelling of spellings) BY_SPELLING.set(spelling, codec);
}

/**
 * Finds a codec by any of its spellings (`pcmu`, `PCMU/8000`, `G722`, `opus/48000/2`, ...),
 * case-insensitively. Returns `undefined` for a name the SDK does not know.
 *
 * @public
 */
export function lookupCodec(name: string): CodecName | undefined {
  return BY_SPELLING.get(name.trim().toLowerCase());
}

/** Every codec the configuration can name. @public */
export function knownCodecs(): readonly CodecName[] {
  return CATALOGUE.map(({ spellings: _spellings, ...codec }) => codec);
}
