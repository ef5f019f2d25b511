import { lookupCodec, type ConfiguredCodec, type SrtpPolicy } from '@sip-endpoint/config';
import { parse, write } from 'sdp-transform';
import type { MediaDirection } from '../audio-stream';
import type { Codec } from '../codecs/codec';
import { codecs as defaultRegistry, type CodecRegistry } from '../codecs/codec-registry';
import { SRTP_SUITES, type SrtpKeyMaterial } from '../srtp/srtp-context';
import { chooseCrypto, formatCryptoAttribute, generateSrtpKey } from './crypto-attribute';
import { SdpError } from './sdp-error';
import type { IceCandidate } from '../ice/candidate';
import { answerDirection, writeAudioSdp, type DtlsFingerprint, type DtlsSetup, type SdpIce, type OfferedFormat, type ParsedSdp, type SdpAudio, type SdpFormat, type SdpOrigin } from './session-description';

/** What an offer/answer exchange settled for the audio stream. @public */
export interface NegotiatedAudio {
  codec: Codec;
  payloadType: number;
  /** telephone-event, when both sides have it. */
  telephoneEvent: { payloadType: number; clockRate: number } | undefined;
  /** Comfort noise (RFC 3389 `CN`, at the codec's clock rate), when both sides offered it (`comfortNoise`); absent otherwise. */
  comfortNoise?: { payloadType: number };
  /** Where to send. */
  remote: { address: string; rtpPort: number; rtcpPort: number; rtcpMux: boolean };
  /** Our direction. */
  direction: MediaDirection;
  ptimeMs: number;
  /** The far end put us on hold (sendonly, inactive, or c=0.0.0.0). */
  remoteHeld: boolean;
  /**
   * SRTP with SDES keys, when the exchange settled it: our key for what we send, the peer's for
   * what we receive. Undefined: plain RTP.
   */
  srtp: NegotiatedSrtp | undefined;
  /**
   * DTLS-SRTP, when the exchange settled it (`UDP/TLS/RTP/SAVP`): the keys come from the
   * handshake that follows on the RTP port, in the role given here. Undefined otherwise.
   */
  dtls: NegotiatedDtls | undefined;
  /**
   * The peer's ICE parameters, when both sides do ICE (RFC 8839): our agent checks its
   * candidates. Undefined when the peer does none (or an ALG rewrote its addresses: its c= and m=
   * are none of its candidates), and media goes to `remote`.
   */
  ice: SdpIce | undefined;
}

/** The DTLS-SRTP an offer/answer exchange settled (RFC 5763). @public */
export interface NegotiatedDtls {
  /** `client`: we start the handshake (our `a=setup` is `active`); `server`: we wait for it. */
  role: 'client' | 'server';
  /** The peer's `a=fingerprint`: its certificate must match it. */
  remoteFingerprint: DtlsFingerprint;
}

/** The SRTP an offer/answer exchange settled (SDES, RFC 4568). @public */
export interface NegotiatedSrtp {
  /** The `a=crypto` tag of the accepted line. */
  tag: number;
  /** Protects what we send (our key; the peer decrypts with it). */
  send: SrtpKeyMaterial;
  /** Checks what we receive (the peer's key). */
  receive: SrtpKeyMaterial;
}

/** A key we offered in an `a=crypto` line, kept to meet the answer. @public */
export interface OfferedKey {
  tag: number;
  key: SrtpKeyMaterial;
}

const NO_SRTP: SrtpPolicy = { mode: 'disabled', unencryptedSrtcp: false };

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
  /**
   * Offer and accept comfort noise (RFC 3389: `CN/8000`, static payload type 13, for the codecs of
   * an 8000 Hz RTP clock: G.711, G.722), as DTX (`dtx_mode`) sends it. @defaultValue false
   */
  comfortNoise?: boolean;
  /** @defaultValue 20 */
  ptimeMs?: number;
  /** Our direction (`sendonly` to hold). @defaultValue 'sendrecv' */
  direction?: MediaDirection;
  /** Advance the o= version: a re-offer that changes the session. */
  newVersion?: boolean;
  /**
   * `system.security.use_srtp`: what we offer and what we accept. Offers: `optional` and
   * `disabled` plain RTP/AVP; `elective` RTP/AVP with a=crypto (best-effort SRTP: the answer may
   * take it or not); `enabled` and `mandatory` RTP/SAVP with a=crypto. Answers: `disabled` refuses
   * an RTP/SAVP offer and answers a best-effort one in plain; `mandatory` refuses a plain offer;
   * the others take what is offered. @defaultValue disabled
   */
  srtp?: SrtpPolicy;
  /**
   * SDES keys already in use, for a re-offer or a re-answer: offered again as they are (a re-offer
   * of an established SRTP stream keeps its key, RFC 4568 section 7.1.4, which peers such as
   * baresip rely on), instead of fresh ones. Fresh keys re-key the stream.
   */
  srtpKeys?: readonly OfferedKey[];
  /**
   * DTLS-SRTP (RFC 5763, 5764): our certificate's fingerprint makes it possible. Secure offers
   * (`use_srtp` enabled or mandatory) use it instead of SDES when `offer` is set; DTLS-SRTP offers
   * are accepted whenever `use_srtp` is not disabled. `role` is the one of an association in use:
   * re-offers and re-answers keep it. Without this option DTLS-SRTP offers are refused.
   */
  dtls?: { fingerprint: DtlsFingerprint; offer?: boolean; role?: 'client' | 'server' };
  /**
   * ICE (RFC 8839): our credentials and candidates. Offers carry them (with rtcp-mux); answers
   * carry them only when the offer has ICE too (RFC 8839 4.2.5). `address` and `port` should be
   * the default candidate's.
   */
  ice?: { ufrag: string; pwd: string; candidates: readonly IceCandidate[] };
}

/** The peer's ICE, when the exchange has ICE on both sides and its default address is one of its candidates. */
function peerIce(audio: SdpAudio, ours: NegotiationOptions['ice']): SdpIce | undefined {
  const ice = audio.ice;
  if (!ours || !ice) return undefined;
  // RFC 8445 5.4: c= and m= not among the candidates means something rewrote the SDP: no ICE.
  if (ice.candidates.length > 0 && !ice.candidates.some((candidate) => candidate.address === audio.address && candidate.port === audio.port) && audio.port !== 9) return undefined;
  return ice;
}

/** Fingerprint hash functions we can check a certificate with. */
const FINGERPRINT_ALGORITHMS = new Set(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']);

/** Whether a profile is DTLS-SRTP's (`UDP/TLS/RTP/SAVP`, `UDP/TLS/RTP/SAVPF`). */
function isDtlsProfile(protocol: string): boolean {
  return /^UDP\/TLS\/RTP\/SAVPF?$/i.test(protocol);
}

/** Our `a=setup` for a role (an association in use), or `actpass` for a new one we offer. */
function setupFor(role: 'client' | 'server' | undefined): DtlsSetup {
  return role === 'client' ? 'active' : role === 'server' ? 'passive' : 'actpass';
}

const TELEPHONE_EVENT_PT = 101;
/** RFC 3551's static payload type of comfort noise at 8000 Hz. */
const COMFORT_NOISE_PT = 13;

/** Our offer's formats: configured codecs we run, with their payload types; what we cannot run is listed apart. */
export function offerFormats(configured: readonly ConfiguredCodec[], registry: CodecRegistry, telephoneEvent: boolean, comfortNoise = false): { formats: (OfferedFormat & { codec?: Codec })[]; unsupported: string[] } {
  const formats: (OfferedFormat & { codec?: Codec })[] = [];
  const unsupported: string[] = [];
  const used = new Set<number>([TELEPHONE_EVENT_PT, ...(comfortNoise ? [COMFORT_NOISE_PT] : [])]);
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
  // CN only serves codecs of an 8000 Hz RTP clock (opus has its own DTX, without CN).
  if (comfortNoise && formats.some((format) => format.clockRate === 8000)) formats.push({ payloadType: COMFORT_NOISE_PT, encoding: 'CN', clockRate: 8000, channels: 1, fmtp: '' });
  if (telephoneEvent && formats.length > 0) formats.push({ payloadType: TELEPHONE_EVENT_PT, encoding: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-16' });
  return { formats, unsupported };
}

/**
 * Builds our offer (an INVITE, a re-INVITE, or the 200 OK to an INVITE without SDP).
 *
 * @returns the SDP, the formats offered, and the configured codecs we cannot run (never offered).
 * @public
 */
export function createOffer(options: NegotiationOptions): { sdp: string; formats: OfferedFormat[]; unsupported: string[]; keys: OfferedKey[]; dtls: boolean } {
  const { formats, unsupported } = offerFormats(options.codecs, options.registry ?? defaultRegistry, options.telephoneEvent ?? true, options.comfortNoise ?? false);
  if (formats.length === 0) throw new SdpError(`none of the configured codecs (${options.codecs.map((c) => c.name).join(', ')}) can be run`);
  const srtp = options.srtp ?? NO_SRTP;
  const secure = srtp.mode === 'enabled' || srtp.mode === 'mandatory';
  // DTLS-SRTP: the keys come from the handshake; rtcp-mux offered (one association), a second on the RTCP port if the answer declines it.
  const dtls = secure && options.dtls?.offer === true ? options.dtls : undefined;
  // SDES: fresh keys, one line per suite in our order of preference; a re-offer keeps the keys in use.
  const wanted = !dtls && (secure || srtp.mode === 'elective');
  const keys: OfferedKey[] = !wanted ? [] : options.srtpKeys && options.srtpKeys.length > 0 ? [...options.srtpKeys] : SRTP_SUITES.map((suite, index) => ({ tag: index + 1, key: generateSrtpKey(suite, srtp.unencryptedSrtcp) }));
  const sdp = writeAudioSdp({
    protocol: dtls ? 'UDP/TLS/RTP/SAVP' : secure ? 'RTP/SAVP' : 'RTP/AVP',
    crypto: keys.map(({ tag, key }) => formatCryptoAttribute(tag, key)),
    ...(dtls ? { fingerprint: dtls.fingerprint, setup: setupFor(dtls.role), rtcpMux: true } : {}),
    ...(options.ice ? { ice: options.ice, rtcpMux: true } : {}),
    origin: options.origin,
    address: options.address,
    port: options.port,
    formats,
    direction: options.direction ?? 'sendrecv',
    ptimeMs: options.ptimeMs ?? 20,
    newVersion: options.newVersion ?? true,
  });
  return { sdp, formats: formats.map(({ codec: _codec, ...format }) => format), unsupported, keys, dtls: dtls !== undefined };
}

/**
 * What SRTP an answer to `audio` takes under `policy`: none, SDES with the chosen offered line, or
 * a refusal with its reason.
 */
function answerSecurity(audio: SdpAudio, policy: SrtpPolicy, inUse: readonly OfferedKey[] = [], dtls?: NegotiationOptions['dtls']): { refuse: string } | { srtp: NegotiatedSrtp | undefined; dtls?: NegotiatedDtls } {
  if (isDtlsProfile(audio.protocol)) return answerDtls(audio, policy, dtls);
  if (audio.secure && !/^RTP\/SAVPF?$/.test(audio.protocol)) return { refuse: `the offer wants ${audio.protocol}, a profile this endpoint does not do` };
  if (policy.mode === 'disabled') {
    if (audio.secure) return { refuse: `the offer wants SRTP (${audio.protocol}) and use_srtp is disabled` };
    return { srtp: undefined }; // a best-effort offer is answered in plain
  }
  if (!audio.secure && audio.crypto.length === 0) {
    if (policy.mode === 'mandatory') return { refuse: 'use_srtp is mandatory and the offer is plain RTP (RTP/AVP without a=crypto)' };
    return { srtp: undefined };
  }
  const choice = chooseCrypto(audio.crypto);
  if (!choice.ok) {
    if (audio.secure || policy.mode === 'mandatory') return { refuse: choice.reason };
    return { srtp: undefined }; // best effort we cannot take: plain
  }
  // The answer keeps the offer's session parameters (UNENCRYPTED_SRTCP applies both ways), and
  // our key in use when the suite stays the same (a re-answer does not re-key on its own).
  const kept = inUse.find((offered) => offered.key.suite === choice.key.suite && (offered.key.unencryptedSrtcp === true) === choice.key.unencryptedSrtcp)?.key;
  return { srtp: { tag: choice.tag, receive: choice.key, send: kept ?? generateSrtpKey(choice.key.suite, choice.key.unencryptedSrtcp) } };
}

/** The answer to a DTLS-SRTP offer: our role from its `a=setup`, or a refusal with its reason. */
function answerDtls(audio: SdpAudio, policy: SrtpPolicy, dtls: NegotiationOptions['dtls']): { refuse: string } | { srtp: undefined; dtls: NegotiatedDtls } {
  if (policy.mode === 'disabled') return { refuse: `the offer wants SRTP (${audio.protocol}) and use_srtp is disabled` };
  if (!dtls) return { refuse: `the offer wants DTLS-SRTP (${audio.protocol}), which is not available here` };
  const fingerprint = audio.fingerprint;
  if (!fingerprint) return { refuse: `the DTLS-SRTP offer has no a=fingerprint` };
  if (!FINGERPRINT_ALGORITHMS.has(fingerprint.algorithm)) return { refuse: `the offer's fingerprint uses ${fingerprint.algorithm}, which this endpoint cannot check` };
  // Without rtcp-mux, a second association runs on the RTCP port (RFC 5764 4.1).
  if (audio.setup === 'holdconn') return { refuse: 'the DTLS-SRTP offer has a=setup:holdconn' };
  // RFC 5763 5: the answerer of actpass (or of no a=setup) is active, unless an association in use keeps its role.
  const role = audio.setup === 'active' ? 'server' : audio.setup === 'passive' ? 'client' : (dtls.role ?? 'client');
  return { srtp: undefined, dtls: { role, remoteFingerprint: fingerprint } };
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

function isComfortNoise(format: SdpFormat): boolean {
  return format.encoding.toLowerCase() === 'cn';
}

/** An SDP body without its last m= line. */
function withoutLastMedia(sdp: string): string {
  const body = parse(sdp);
  body.media.pop();
  return write(body);
}

/** What an answer to an offer settles, or why there is none (see {@link answerOffer}). */
type AnswerChoice =
  | { refuse: string }
  | {
      audio: NonNullable<ParsedSdp['audio']>;
      security: Exclude<ReturnType<typeof answerSecurity>, { refuse: string }>;
      ice: ReturnType<typeof peerIce>;
      chosen: SdpFormat;
      codec: Codec;
      event: SdpFormat | undefined;
      /** CN at the codec's clock rate, when offered and taken. */
      noise: SdpFormat | undefined;
      direction: MediaDirection;
      ptimeMs: number;
    };

function chooseAnswer(offer: ParsedSdp, options: NegotiationOptions & { answerPriority?: 'local' | 'remote' }): AnswerChoice {
  const registry = options.registry ?? defaultRegistry;
  const audio = offer.audio;
  if (!audio || audio.port === 0) return { refuse: 'the offer has no audio stream' };
  const security = answerSecurity(audio, options.srtp ?? NO_SRTP, options.srtpKeys, options.dtls);
  if ('refuse' in security) return { refuse: security.refuse };
  const ice = peerIce(audio, options.ice);
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
  if (!chosen) return { refuse: `no codec in common (offered: ${audio.formats.map(nameOf).join(', ') || 'none'})` };
  const codec = registry.get(nameOf(chosen))!;
  const wantEvents = options.telephoneEvent ?? true;
  // Events share the audio's RTP stream and timestamps: telephone-event at the codec's clock rate
  // (RFC 4733 recommends the audio's rate), else the first offered.
  const event = wantEvents ? (audio.formats.find((f) => isTelephoneEvent(f) && f.clockRate === chosen.clockRate) ?? audio.formats.find(isTelephoneEvent)) : undefined;
  // Comfort noise at the codec's clock rate (RFC 3389 4), when we take it.
  const noise = options.comfortNoise ? audio.formats.find((f) => isComfortNoise(f) && f.clockRate === chosen.clockRate) : undefined;
  return { audio, security, ice, chosen, codec, event, noise, direction: answerDirection(audio.direction, options.direction), ptimeMs: options.ptimeMs ?? audio.ptimeMs ?? 20 };
}

/**
 * Why {@link answerOffer} would reject the audio of this offer (no audio stream, no codec in
 * common, the SRTP policy), or undefined when it would accept it: the same decision, without
 * writing the answer.
 *
 * @public
 */
export function answerProblem(offer: ParsedSdp, options: NegotiationOptions & { answerPriority?: 'local' | 'remote' }): string | undefined {
  const choice = chooseAnswer(offer, options);
  return 'refuse' in choice ? choice.refuse : undefined;
}

/**
 * Answers a remote offer: picks the codec by `answerPriority` (`local`: our order; `remote`: the
 * offer's), keeps the offer's payload types, accepts telephone-event when offered (at the codec's
 * clock rate when the offer has that one), mirrors the other m= lines rejected, and rejects the
 * audio (port 0) when nothing is in common or the SRTP policy refuses the offer (see
 * {@link NegotiationOptions.srtp}); SRTP offered with SDES keys is answered with a key of ours. The answer always has the
 * offer's m= lines, no more (RFC 3264 §6): an offer without audio gets them all back rejected.
 *
 * @public
 */
export function answerOffer(
  offer: ParsedSdp,
  options: NegotiationOptions & { answerPriority?: 'local' | 'remote' },
): { sdp: string; negotiated: NegotiatedAudio | undefined; reason: string | undefined } {
  const audio = offer.audio;
  const rejected = offer.media.map((m, index) => ({ index, ...m })).filter((m) => m.index !== audio?.index);
  const choice = chooseAnswer(offer, options);
  if ('refuse' in choice) {
    const sdp = writeAudioSdp({
      origin: options.origin,
      address: options.address,
      port: 0,
      // Stryker disable next-line ArrayDeclaration: the audio line written for an offer without audio is taken out again below
      formats: audio?.formats.slice(0, 1) ?? [],
      direction: 'inactive',
      protocol: audio?.protocol,
      rejected,
      audioIndex: audio?.index ?? offer.media.length,
      newVersion: options.newVersion ?? true,
    });
    // An offer without audio gets no audio line: the answer has exactly the offer's m= lines (RFC 3264 §6).
    return { sdp: audio ? sdp : withoutLastMedia(sdp), negotiated: undefined, reason: choice.refuse };
  }
  const { chosen, codec, event, noise, direction, ptimeMs, ice } = choice;
  const { srtp, dtls } = choice.security;
  const formats: OfferedFormat[] = [{ ...chosen, fmtp: chosen.fmtp }];
  if (noise) formats.push({ ...noise, fmtp: noise.fmtp });
  if (event) formats.push({ ...event, fmtp: event.fmtp || '0-16' });
  const sdp = writeAudioSdp({
    origin: options.origin,
    address: options.address,
    port: options.port,
    formats,
    direction,
    ptimeMs,
    rejected,
    audioIndex: choice.audio.index,
    rtcpMux: choice.audio.rtcpMux,
    newVersion: options.newVersion ?? true,
    // The offer's profile back (RTP/SAVP, or RTP/AVP for plain and best-effort SRTP).
    protocol: choice.audio.protocol,
    crypto: srtp ? [formatCryptoAttribute(srtp.tag, srtp.send)] : [],
    ...(dtls && options.dtls ? { fingerprint: options.dtls.fingerprint, setup: setupFor(dtls.role) } : {}),
    ...(ice && options.ice ? { ice: options.ice } : {}),
  });
  const remote = choice.audio;
  return {
    sdp,
    reason: undefined,
    negotiated: {
      codec,
      payloadType: chosen.payloadType,
      telephoneEvent: event ? { payloadType: event.payloadType, clockRate: event.clockRate } : undefined,
      ...(noise ? { comfortNoise: { payloadType: noise.payloadType } } : {}),
      remote: { address: remote.address, rtpPort: remote.port, rtcpPort: remote.rtcpMux ? remote.port : remote.rtcpPort, rtcpMux: remote.rtcpMux },
      direction,
      ptimeMs,
      remoteHeld: remote.held,
      srtp,
      dtls,
      ice,
    },
  };
}

/**
 * Reads the answer to our offer: the codec is the answer's first format that we offered and run.
 *
 * @throws {@link SdpError} when the answer rejects the audio (port 0) or names nothing we offered.
 * @public
 */
export function applyAnswer(
  answer: ParsedSdp,
  offered: readonly OfferedFormat[],
  options: { registry?: CodecRegistry; direction?: MediaDirection; ptimeMs?: number; keys?: readonly OfferedKey[]; srtp?: SrtpPolicy; dtls?: boolean; ice?: NegotiationOptions['ice'] } = {},
): NegotiatedAudio {
  const registry = options.registry ?? defaultRegistry;
  const audio = answer.audio;
  if (!audio || audio.port === 0) throw new SdpError('the answer rejects the audio stream');
  const dtls = options.dtls === true ? answeredDtls(audio) : undefined;
  if (!dtls && isDtlsProfile(audio.protocol)) throw new SdpError(`the answer uses ${audio.protocol} (DTLS-SRTP), which the offer did not offer`);
  const srtp = dtls ? undefined : answeredSrtp(audio, options.keys ?? [], options.srtp ?? NO_SRTP);
  const chosen = audio.formats.find((f) => !isTelephoneEvent(f) && offered.some((o) => same(nameOf(o as SdpFormat), nameOf(f))) && registry.get(nameOf(f)));
  if (!chosen) throw new SdpError(`the answer names no codec we offered (${audio.formats.map(nameOf).join(', ') || 'none'})`);
  const event = audio.formats.find(isTelephoneEvent);
  // Comfort noise when we offered it and the answer kept it at the codec's clock rate.
  const noise = offered.some((o) => o.encoding === 'CN') ? audio.formats.find((f) => isComfortNoise(f) && f.clockRate === chosen.clockRate) : undefined;
  // Our direction is what we wanted, narrowed by what the answer allows.
  const direction = answerDirection(audio.direction, options.direction);
  return {
    codec: registry.get(nameOf(chosen))!,
    payloadType: chosen.payloadType,
    telephoneEvent: event && offered.some((o) => o.encoding === 'telephone-event') ? { payloadType: event.payloadType, clockRate: event.clockRate } : undefined,
    ...(noise ? { comfortNoise: { payloadType: noise.payloadType } } : {}),
    remote: { address: audio.address, rtpPort: audio.port, rtcpPort: audio.rtcpMux ? audio.port : audio.rtcpPort, rtcpMux: audio.rtcpMux },
    direction,
    ptimeMs: audio.ptimeMs ?? options.ptimeMs ?? 20,
    remoteHeld: audio.held,
    srtp,
    dtls,
    ice: peerIce(audio, options.ice),
  };
}

/** The DTLS-SRTP an answer to our DTLS-SRTP offer settles: our role is the opposite of its `a=setup`. */
function answeredDtls(audio: SdpAudio): NegotiatedDtls {
  if (!isDtlsProfile(audio.protocol)) throw new SdpError(`the answer does not take DTLS-SRTP (${audio.protocol}), which the offer requires`);
  const fingerprint = audio.fingerprint;
  if (!fingerprint) throw new SdpError('the DTLS-SRTP answer has no a=fingerprint');
  if (!FINGERPRINT_ALGORITHMS.has(fingerprint.algorithm)) throw new SdpError(`the answer's fingerprint uses ${fingerprint.algorithm}, which this endpoint cannot check`);
  // No a=setup is active (RFC 4145 4's default); actpass and holdconn are not answers.
  const setup = audio.setup ?? 'active';
  if (setup !== 'active' && setup !== 'passive') throw new SdpError(`the DTLS-SRTP answer has a=setup:${setup}; an answer is active or passive`);
  return { role: setup === 'active' ? 'server' : 'client', remoteFingerprint: fingerprint };
}

/** The SRTP an answer settles for our offer's keys (none offered: plain). */
function answeredSrtp(audio: SdpAudio, keys: readonly OfferedKey[], policy: SrtpPolicy): NegotiatedSrtp | undefined {
  if (keys.length === 0) {
    if (audio.secure) throw new SdpError(`the answer uses ${audio.protocol} (SRTP), which the offer did not offer`);
    return undefined;
  }
  if (audio.crypto.length === 0) {
    if (audio.secure || policy.mode === 'enabled' || policy.mode === 'mandatory') throw new SdpError(`the answer does not take SRTP (${audio.protocol} without a=crypto), which use_srtp ${policy.mode} requires`);
    return undefined; // best effort declined: plain RTP
  }
  const choice = chooseCrypto(audio.crypto);
  if (!choice.ok) throw new SdpError(`the answer's a=crypto cannot be used: ${choice.reason}`);
  const ours = keys.find((offered) => offered.tag === choice.tag && offered.key.suite === choice.key.suite);
  if (!ours) throw new SdpError(`the answer's a=crypto tag ${choice.tag} (${choice.key.suite}) is not one we offered`);
  // UNENCRYPTED_SRTCP holds when the answer keeps it.
  return { tag: choice.tag, receive: choice.key, send: { ...ours.key, unencryptedSrtcp: choice.key.unencryptedSrtcp } };
}
