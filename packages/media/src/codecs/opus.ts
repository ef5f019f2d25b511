import OpusScript from 'opusscript';
import type { AudioDecoder, AudioEncoder, Codec } from './codec';
import { CodecClosedError } from './codec-closed-error';

const SAMPLE_RATE = 48000;

/**
 * Opus (RFC 6716, RTP payload RFC 7587) through `opusscript`, libopus compiled to WebAssembly:
 * it needs no native build, so it installs wherever Node runs. We encode and decode mono at
 * 48 kHz (SDP still says `opus/48000/2`, as RFC 7587 requires, with `stereo=0`).
 *
 * @remarks
 * opusscript copies each frame in and out of the WebAssembly heap and returns a new Buffer per
 * call: about two small allocations per packet, acceptable beside the codec's own cost. An
 * encoder or decoder used after its `close()` throws {@link CodecClosedError}.
 *
 * @public
 */
export const OPUS: Codec = {
  name: 'opus/48000/2',
  encoding: 'opus',
  clockRate: 48000,
  channels: 2,
  sampleRate: SAMPLE_RATE,
  staticPayloadType: undefined,
  fmtp: 'minptime=10;useinbandfec=1;stereo=0;sprop-stereo=0',
  maxPayloadBytes: () => 1275,
  // libopus's look-ahead with its delay compensation: a fresh decoder's first 312 samples (measured).
  delayMs: 6.5,
  // No G.113 value is published for opus. On the narrowband scale of the reported MOS it is at
  // the ceiling at 32 kbit/s (Ie 0); lost frames get the same concealment as G.711, hence
  // G.711's Bpl with concealment. Both are estimates.
  impairment: { ie: 0, bpl: 25.1 },
  createEncoder(): AudioEncoder {
    let opus: OpusScript | undefined = new OpusScript(SAMPLE_RATE, 1, OpusScript.Application.VOIP);
    opus.setBitrate(32000);
    return {
      encode(pcm, out) {
        if (!opus) throw new CodecClosedError('opus', 'encoder');
        const packet = opus.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.length * 2), pcm.length);
        out.set(packet);
        return packet.length;
      },
      close() {
        opus?.delete();
        opus = undefined;
      },
    };
  },
  createDecoder(): AudioDecoder {
    let opus: OpusScript | undefined = new OpusScript(SAMPLE_RATE, 1, OpusScript.Application.VOIP);
    return {
      decode(payload, out) {
        if (!opus) throw new CodecClosedError('opus', 'decoder');
        const pcm = opus.decode(Buffer.from(payload.buffer, payload.byteOffset, payload.length));
        const samples = Math.min(out.length, pcm.length >> 1);
        for (let i = 0; i < samples; i++) out[i] = pcm.readInt16LE(i * 2);
        return samples;
      },
      close() {
        opus?.delete();
        opus = undefined;
      },
    };
  },
};
