import { lookupCodec, type ConfiguredCodec } from '@sip-endpoint/config';
import { parse, write } from 'sdp-transform';
import type { MediaDirection } from '../audio-stream';
import type { Codec } from '../codecs/codec';
import { codecs as defaultRegistry, type CodecRegistry } from '../codecs/codec-registry';
import { SdpError } from './sdp-error';
import { answerDirection, writeAudioSdp, type OfferedFormat, type ParsedSdp, type SdpFormat, type SdpOrigin } from './session-description';

/** What an offer/answer exchange settled for the audio stream. @public */
export interface NegotiatedAudio {
  codec: Codec;
  payloadType: number;
  /** telephone-event, when both sides have it. */
  telephoneEvent: { payloadType: number; clockRate: number } | undefined;
  /** Where to send. */
  remote: { address: string; rtpPort: number; rtcpPort: number; rtcpMux: boolean };
  /** Our direction. */
  direction: MediaDirection;
  ptimeMs: number;
  /** The far end put us on hold (sendonly, inactive, or c=0.0.0.0). */
  remoteHeld: boolean;
}

/** Options shared by offers and answers. @public */
export interface NegotiationOptions {
  origin: SdpOrigin;
  /** Our media address (always an IP: SDP never carries a host name). */
  address: string;
  /** Our RTP port. */
  port: number;
  /** Configured codecs in priority order (`config.codecs`, or the policy's `codecPriorities().offer`). */
  codecs: readonly ConfiguredCodec[];
  /** The codecs this engine runs. @defaultValue the package's registry */
  registry?: CodecRegistry;
  /** Offer and accept telephone-event. @defaultValue true */
  telephoneEvent?: boolean;
  /** @defaultValue 20 */
  ptimeMs?: number;
  /** Our direction (`sendonly` to hold). @defaultValue 'sendrecv' */
  direction?: MediaDirection;
  /** Advance the o= version: a re-offer that changes the session. */
  newVersion?: boolean;
}

const TELEPHONE_EVENT_PT = 101;

/** Our offer's formats: configured codecs we run, with their payload types; what we cannot run is listed apart. */
export function offerFormats(configured: readonly ConfiguredCodec[], registry: CodecRegistry, telephoneEvent: boolean): { formats: (OfferedFormat & { codec?: Codec })[]; unsupported: string[] } {
  const formats: (OfferedFormat & { codec?: Codec })[] = [];
  const unsupported: string[] = [];
  const used = new Set<number>([TELEPHONE_EVENT_PT]);
  let dynamic = 96;
  const nextDynamic = (): number => {
    while (used.has(dynamic)) dynamic++;
    return dynamic;
  };
  for (const entry of configured) {
    if (entry.codec?.kind === 'dtmf') continue; // telephone-event is added below
    const codec = registry.get(entry.name);
    if (!codec) {
      unsupported.push(entry.name);
      continue;
    }
    let payloadType = entry.payloadType ?? codec.staticPayloadType ?? (codec.encoding === 'opus' ? 111 : nextDynamic());
    if (used.has(payloadType)) payloadType = nextDynamic();
    used.add(payloadType);
    formats.push({ payloadType, encoding: codec.encoding, clockRate: codec.clockRate, channels: codec.channels, fmtp: entry.fmtp || codec.fmtp, codec });
  }
  if (telephoneEvent && formats.length > 0) formats.push({ payloadType: TELEPHONE_EVENT_PT, encoding: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-16' });
  return { formats, unsupported };
}

/**
 * Builds our offer (an INVITE, a re-INVITE, or the 200 OK to an INVITE without SDP).
 *
 * @returns the SDP, the formats offered, and the configured codecs we cannot run (never offered).
 * @public
 */
export function createOffer(options: NegotiationOptions): { sdp: string; formats: OfferedFormat[]; unsupported: string[] } {
  const { formats, unsupported } = offerFormats(options.codecs, options.registry ?? defaultRegistry, options.telephoneEvent ?? true);
  if (formats.length === 0) throw new SdpError(`none of the configured codecs (${options.codecs.map((c) => c.name).join(', ')}) can be run`);
  const sdp = writeAudioSdp({
    origin: options.origin,
    address: options.address,
    port: options.port,
    formats,
    direction: options.direction ?? 'sendrecv',
    ptimeMs: options.ptimeMs ?? 20,
    newVersion: options.newVersion ?? true,
  });
  return { sdp, formats: formats.map(({ codec: _codec, ...format }) => format), unsupported };
}

function nameOf(format: SdpFormat): string {
  return format.channels > 1 ? `${format.encoding}/${format.clockRate}/${format.channels}` : `${format.encoding}/${format.clockRate}`;
}

function same(a: string, b: string): boolean {
  return (lookupCodec(a)?.name ?? a).toLowerCase() === (lookupCodec(b)?.name ?? b).toLowerCase();
}

function isTelephoneEvent(format: SdpFormat): boolean {
  return format.encoding.toLowerCase() === 'telephone-event';
}

/** An SDP body without its last m= line. */
function withoutLastMedia(sdp: string): string {
  const body = parse(sdp);
  body.media.pop();
  return write(body);
}

/**
 * Answers a remote offer: picks the codec by `answerPriority` (`local`: our order; `remote`: the
 * offer's), keeps the offer's payload types, accepts telephone-event when offered (at the codec's
 * clock rate when the offer has that one), mirrors the other m= lines rejected, and rejects the
 * audio (port 0) when nothing is in common or the offer wants SRTP. The answer always has the
 * offer's m= lines, no more (RFC 3264 §6): an offer without audio gets them all back rejected.
 *
 * @public
 */
export function answerOffer(
  offer: ParsedSdp,
  options: NegotiationOptions & { answerPriority?: 'local' | 'remote' },
): { sdp: string; negotiated: NegotiatedAudio | undefined; reason: string | undefined } {
  const registry = options.registry ?? defaultRegistry;
  const audio = offer.audio;
  const rejected = offer.media.map((m, index) => ({ index, ...m })).filter((m) => m.index !== audio?.index);
  const reject = (reason: string): { sdp: string; negotiated: undefined; reason: string } => {
    const sdp = writeAudioSdp({
      origin: options.origin,
      address: options.address,
      port: 0,
      // Stryker disable next-line ArrayDeclaration: the audio line written for an offer without audio is taken out again below
      formats: audio?.formats.slice(0, 1) ?? [],
      direction: 'inactive',
      rejected,
      audioIndex: audio?.index ?? offer.media.length,
      newVersion: options.newVersion ?? true,
    });
    // An offer without audio gets no audio line: the answer has exactly the offer's m= lines (RFC 3264 §6).
    return { sdp: audio ? sdp : withoutLastMedia(sdp), negotiated: undefined, reason };
  };
  if (!audio || audio.port === 0) return reject('the offer has no audio stream');
  if (audio.secure) return reject(`the offer wants ${audio.protocol} (SRTP), which this endpoint does not do`);
  // The offer's codecs we run: a configured codec matches one of them only if we run it too.
  const offered = audio.formats.filter((f) => !isTelephoneEvent(f) && registry.get(nameOf(f)) !== undefined);
  let chosen: SdpFormat | undefined;
  if ((options.answerPriority ?? 'local') === 'local') {
    for (const entry of options.codecs) {
      chosen = offered.find((f) => same(nameOf(f), entry.name));
      if (chosen) break;
    }
  } else {
    chosen = offered.find((f) => options.codecs.some((entry) => same(nameOf(f), entry.name)));
  }
  if (!chosen) return reject(`no codec in common (offered: ${audio.formats.map(nameOf).join(', ') || 'none'})`);
  const codec = registry.get(nameOf(chosen))!;
  const wantEvents = options.telephoneEvent ?? true;
  // Events share the audio's RTP stream and timestamps: telephone-event at the codec's clock rate
  // (RFC 4733 recommends the audio's rate), else the first offered.
  const event = wantEvents ? (audio.formats.find((f) => isTelephoneEvent(f) && f.clockRate === chosen.clockRate) ?? audio.formats.find(isTelephoneEvent)) : undefined;
  const direction = answerDirection(audio.direction, options.direction);
  const ptimeMs = options.ptimeMs ?? audio.ptimeMs ?? 20;
  const formats: OfferedFormat[] = [{ ...chosen, fmtp: chosen.fmtp }];
  if (event) formats.push({ ...event, fmtp: event.fmtp || '0-16' });
  const sdp = writeAudioSdp({
    origin: options.origin,
    address: options.address,
    port: options.port,
    formats,
    direction,
    ptimeMs,
    rejected,
    audioIndex: audio.index,
    rtcpMux: audio.rtcpMux,
    newVersion: options.newVersion ?? true,
  });
  return {
    sdp,
    reason: undefined,
    negotiated: {
      codec,
      payloadType: chosen.payloadType,
      telephoneEvent: event ? { payloadType: event.payloadType, clockRate: event.clockRate } : undefined,
      remote: { address: audio.address, rtpPort: audio.port, rtcpPort: audio.rtcpMux ? audio.port : audio.rtcpPort, rtcpMux: audio.rtcpMux },
      direction,
      ptimeMs,
      remoteHeld: audio.held,
    },
  };
}

/**
 * Reads the answer to our offer: the codec is the answer's first format that we offered and run.
 *
 * @throws {@link SdpError} when the answer rejects the audio (port 0) or names nothing we offered.
 * @public
 */
export function applyAnswer(answer: ParsedSdp, offered: readonly OfferedFormat[], options: { registry?: CodecRegistry; direction?: MediaDirection; ptimeMs?: number } = {}): NegotiatedAudio {
  const registry = options.registry ?? defaultRegistry;
  const audio = answer.audio;
  if (!audio || audio.port === 0) throw new SdpError('the answer rejects the audio stream');
  const chosen = audio.formats.find((f) => !isTelephoneEvent(f) && offered.some((o) => same(nameOf(o as SdpFormat), nameOf(f))) && registry.get(nameOf(f)));
  if (!chosen) throw new SdpError(`the answer names no codec we offered (${audio.formats.map(nameOf).join(', ') || 'none'})`);
  const event = audio.formats.find(isTelephoneEvent);
  // Our direction is what we wanted, narrowed by what the answer allows.
  const direction = answerDirection(audio.direction, options.direction);
  return {
    codec: registry.get(nameOf(chosen))!,
    payloadType: chosen.payloadType,
    telephoneEvent: event && offered.some((o) => o.encoding === 'telephone-event') ? { payloadType: event.payloadType, clockRate: event.clockRate } : undefined,
    remote: { address: audio.address, rtpPort: audio.port, rtcpPort: audio.rtcpMux ? audio.port : audio.rtcpPort, rtcpMux: audio.rtcpMux },
    direction,
    ptimeMs: audio.ptimeMs ?? options.ptimeMs ?? 20,
    remoteHeld: audio.held,
  };
}
