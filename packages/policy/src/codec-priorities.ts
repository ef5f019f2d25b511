import { lookupCodec, type ConfiguredCodec } from '@sip-endpoint/config';
import type { CodecContext, CodecPriorities } from './endpoint-policy';

/** One spelling per codec: the catalogue's canonical name, or the lower-cased text. */
function canonical(name: string): string {
  const spelling = lookupCodec(name)?.name ?? name.trim();
  // Stryker disable next-line MethodExpression: names are only compared with each other, and on ASCII names (SDP encoding names are tokens) upper-casing pairs the same ones.
  return spelling.toLowerCase();
}

/**
 * Codec order of our offers and the codec chosen when answering.
 *
 * @remarks
 * The offer is the configured list (`config.codecs`) restricted to what the media engine runs;
 * configured codecs it cannot run are returned in `unsupported` and never offered. A redundancy
 * format (`red`, `ulpfec`) takes the rate of the codec it protects, so it is matched by its
 * encoding alone (`red` configured, libwebrtc's `red/48000/2` run). When answering,
 * `answer_sdp_priority` = `local` takes the first codec of our list that the offer has, `remote`
 * the first codec of the offer that our list has. telephone-event and FEC entries are never the
 * chosen codec.
 *
 * @public
 */
export function codecPriorities(ctx: CodecContext): CodecPriorities {
  const supported = new Set(ctx.supported.map(canonical));
  const supportedEncodings = new Set(ctx.supported.map((name) => (lookupCodec(name)?.encoding ?? name.split('/')[0]!).toLowerCase()));
  const offer: ConfiguredCodec[] = [];
  const unsupported: string[] = [];
  for (const codec of ctx.config.codecs) {
    const redundancy = codec.codec?.kind === 'fec' && supportedEncodings.has(codec.codec.encoding.toLowerCase());
    if (supported.has(canonical(codec.name)) || redundancy) offer.push(codec);
    else unsupported.push(codec.name);
  }
  let answer: ConfiguredCodec | null = null;
  if (ctx.offer) {
    const audio = offer.filter((codec) => codec.codec === undefined || codec.codec.kind === 'audio');
    const remote = ctx.offer.map(canonical);
    if (ctx.config.get('policy.session.answer_sdp_priority') === 'local') {
      answer = audio.find((codec) => remote.includes(canonical(codec.name))) ?? null;
    } else {
      for (const name of remote) {
        answer = audio.find((codec) => canonical(codec.name) === name) ?? null;
        if (answer) break;
      }
    }
  }
  return { offer, answer, unsupported };
}
