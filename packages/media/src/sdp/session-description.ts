import { isIP } from 'node:net';
import { parse, type MediaAttributes, type SessionDescription as RawSdp } from 'sdp-transform';
import type { MediaDirection } from '../audio-stream';
import { SdpError } from './sdp-error';
import { formatCandidate, parseCandidate, type IceCandidate } from '../ice/candidate';

/** One payload format of an m= line, from a=rtpmap (or the static table) and a=fmtp. @public */
export interface SdpFormat {
  payloadType: number;
  /** Encoding name as written (`PCMU`, `opus`, `telephone-event`). */
  encoding: string;
  clockRate: number;
  channels: number;
  fmtp: string;
}

/** The audio stream an SDP describes. @public */
export interface SdpAudio {
  /** Index of the m= line in the body. */
  index: number;
  /** Connection address (the media's c=, else the session's). */
  address: string;
  port: number;
  /** RTCP port (a=rtcp), else port + 1. */
  rtcpPort: number;
  rtcpMux: boolean;
  direction: MediaDirection;
  /** Held by the far end: sendonly or inactive, or the old c=0.0.0.0 form. */
  held: boolean;
  /** Formats in the order of the m= line. */
  formats: SdpFormat[];
  /** a=ptime, when given. */
  ptimeMs: number | undefined;
  /** The profile is a secure one (`RTP/SAVP`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVP`...): SRTP is required. */
  secure: boolean;
  /**
   * The values of the line's `a=crypto` attributes (SDES keys, RFC 4568), in their order. On an
   * `RTP/AVP` line they offer SRTP as best effort: plain RTP remains acceptable.
   */
  crypto: string[];
  /** The transport protocol of the m= line (`RTP/AVP`, `RTP/SAVP`, ...). */
  protocol: string;
  /** The `a=fingerprint` of the line, else of the session (DTLS-SRTP, RFC 8122): the peer's certificate. */
  fingerprint: DtlsFingerprint | undefined;
  /** The line's `a=setup` (RFC 4145), else the session's: who starts the DTLS handshake. */
  setup: DtlsSetup | undefined;
  /**
   * ICE (RFC 8839): the line's (else the session's) `a=ice-ufrag` and `a=ice-pwd`, its
   * `a=candidate` lines we can use (UDP, IP addresses), and `a=ice-lite`. Undefined when the
   * body has no ICE credentials.
   */
  ice: SdpIce | undefined;
}

/** The ICE attributes of an SDP body. @public */
export interface SdpIce {
  ufrag: string;
  pwd: string;
  candidates: IceCandidate[];
  lite: boolean;
}

/** A certificate fingerprint as `a=fingerprint` writes it: hash function and hex digest (`AB:CD:...`). @public */
export interface DtlsFingerprint {
  /** `sha-256`, `sha-1`, ... as written (compared case-insensitively). */
  algorithm: string;
  value: string;
}

/** `a=setup` values (RFC 4145): `active` starts the DTLS handshake, `passive` waits, `actpass` lets the answerer choose. @public */
export type DtlsSetup = 'actpass' | 'active' | 'passive' | 'holdconn';

const SETUPS: readonly string[] = ['actpass', 'active', 'passive', 'holdconn'];

/** A parsed SDP body: its origin and its media. @public */
export interface ParsedSdp {
  sessionId: string;
  version: number;
  /** The audio m= line used (the first with a non-zero port, else the first audio one). */
  audio: SdpAudio | undefined;
  /** Every m= line, for answers that must mirror them. */
  media: { type: string; port: number; protocol: string; formats: string }[];
  raw: RawSdp;
}

/** Static payload types of RFC 3551 that an offer may use without a=rtpmap. */
const STATIC: Record<number, { encoding: string; clockRate: number }> = {
  0: { encoding: 'PCMU', clockRate: 8000 },
  3: { encoding: 'GSM', clockRate: 8000 },
  4: { encoding: 'G723', clockRate: 8000 },
  8: { encoding: 'PCMA', clockRate: 8000 },
  9: { encoding: 'G722', clockRate: 8000 },
  13: { encoding: 'CN', clockRate: 8000 },
  18: { encoding: 'G729', clockRate: 8000 },
};

/**
 * Parses an SDP body (RFC 4566) with sdp-transform and reads its audio stream.
 *
 * @throws {@link SdpError} when the text is not SDP (no v=0, o= or m= line, or an m= line that is
 * not `<media> <port> <proto> <fmt> ...`), or the audio stream has no connection address, an
 * unusable port, or formats that are not payload types (0 to 127).
 * @public
 */
export function parseSdp(text: string): ParsedSdp {
  if (typeof text !== 'string' || !/^v=0\s*$/m.test(text)) throw new SdpError('not an SDP body: no v=0 line');
  let raw: RawSdp;
  try {
    raw = parse(text);
  } catch (error) {
    throw new SdpError(`SDP does not parse: ${(error as Error).message}`, { cause: error });
  }
  if (!raw.origin) throw new SdpError('SDP has no o= line');
  if (!Array.isArray(raw.media) || raw.media.length === 0) throw new SdpError('SDP has no m= line');
  // sdp-transform leaves the fields of an m= line it cannot read unset; an answer could not mirror it.
  const unreadable = raw.media.findIndex((m) => !m.type || !m.protocol);
  if (unreadable >= 0) throw new SdpError(`m= line ${unreadable} is not "<media> <port> <proto> <fmt> ..."`);
  const media = raw.media.map((m) => ({ type: m.type, port: m.port, protocol: m.protocol, formats: String(m.payloads ?? '') }));
  const audioLines = raw.media.flatMap((m, index) => (m.type === 'audio' ? [index] : []));
  const audioIndex = audioLines.find((index) => raw.media[index]!.port !== 0) ?? audioLines[0];
  const audio = audioIndex === undefined ? undefined : readAudio(raw, audioIndex, attributeLines(text, audioIndex, 'crypto'), attributeLines(text, audioIndex, 'candidate'));
  return { sessionId: String(raw.origin.sessionId), version: Number(raw.origin.sessionVersion), audio, media, raw };
}

/**
 * The values of the `a=<name>:` lines of m= section `index`, read from the text: sdp-transform
 * keeps only the first session parameter of an `a=crypto`, and reads candidates loosely.
 */
function attributeLines(text: string, index: number, name: string): string[] {
  const values: string[] = [];
  const prefix = `a=${name}:`;
  let section = -1;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('m=')) section++;
    else if (section === index && line.startsWith(prefix)) values.push(line.slice(prefix.length).trim());
  }
  return values;
}

/** The ICE attributes of the audio line (credentials may be at session level). */
function readIce(raw: RawSdp, m: RawSdp['media'][number], candidateLines: string[]): SdpIce | undefined {
  const ufrag = m.iceUfrag ?? raw.iceUfrag;
  const pwd = m.icePwd ?? raw.icePwd;
  if (ufrag === undefined || pwd === undefined || String(ufrag) === '' || String(pwd) === '') return undefined;
  const candidates = candidateLines.map(parseCandidate).filter((candidate): candidate is IceCandidate => candidate !== undefined);
  return { ufrag: String(ufrag), pwd: String(pwd), candidates, lite: raw.icelite === 'ice-lite' };
}

function readAudio(raw: RawSdp, index: number, crypto: string[], candidates: string[]): SdpAudio {
  const m = raw.media[index] as MediaAttributes & RawSdp['media'][number];
  const address = m.connection?.ip ?? raw.connection?.ip;
  if (address === undefined) throw new SdpError(`audio m= line ${index} has no c= address`);
  // sdp-transform makes a value of digits a number (here, in the codec name, the fmtp, the
  // protocol, the setup): each is read back as text.
  const bare = String(address).split('/')[0] ?? String(address);
  if (isIP(bare) === 0 && !/^[a-z0-9.-]+$/i.test(bare)) throw new SdpError(`"${address}" is not a connection address`);
  // sdp-transform reads the port as digits: a number, or the text when it is empty or too long.
  if (!Number.isInteger(m.port) || m.port > 65535) throw new SdpError(`audio port "${String(m.port)}" is not valid`);
  const tokens = String(m.payloads ?? '').match(/\S+/g) ?? [];
  if (tokens.some((t) => !/^\d+$/.test(t) || Number(t) > 127)) throw new SdpError(`audio formats "${String(m.payloads)}" are not payload types`);
  const payloads = tokens.map(Number);
  const formats: SdpFormat[] = [];
  for (const payloadType of payloads) {
    const rtp = m.rtp.find((r) => r.payload === payloadType);
    const known = STATIC[payloadType];
    const encoding = rtp?.codec !== undefined ? String(rtp.codec) : known?.encoding;
    const clockRate = rtp?.rate ?? known?.clockRate;
    // A dynamic type without rtpmap, or with an rtpmap that has no clock rate
    // (`a=rtpmap:101 telephone-event`), cannot be used.
    if (!encoding || !clockRate) continue;
    const fmtp = String(m.fmtp.find((f) => f.payload === payloadType)?.config ?? '');
    formats.push({
      payloadType,
      encoding,
      clockRate,
      channels: Number(rtp?.encoding ?? 1) || 1,
      fmtp,
    });
  }
  // sdp-transform only reads a=sendrecv, a=sendonly, a=recvonly and a=inactive as a direction.
  const mediaDirection: MediaDirection = m.direction ?? raw.direction ?? 'sendrecv';
  const zeroAddress = bare === '0.0.0.0';
  return {
    index,
    address: bare,
    port: m.port,
    rtcpPort: m.rtcp?.port ?? m.port + 1,
    rtcpMux: m.rtcpMux !== undefined,
    direction: zeroAddress && mediaDirection === 'sendrecv' ? 'sendonly' : mediaDirection,
    held: zeroAddress || mediaDirection === 'sendonly' || mediaDirection === 'inactive',
    formats,
    ptimeMs: m.ptime,
    secure: /SAVP/.test(String(m.protocol)),
    crypto,
    protocol: String(m.protocol),
    fingerprint: fingerprintOf(m.fingerprint ?? raw.fingerprint),
    setup: setupOf(m.setup ?? raw.setup),
    ice: readIce(raw, m, candidates),
  };
}

function fingerprintOf(attribute: { type: unknown; hash: unknown } | undefined): DtlsFingerprint | undefined {
  if (!attribute || !attribute.type || !attribute.hash) return undefined;
  // sdp-transform turns a value of digits into a number (`a=fingerprint:sha-256 12`): kept as text.
  return { algorithm: String(attribute.type).toLowerCase(), value: String(attribute.hash).toUpperCase() };
}

function setupOf(value: unknown): DtlsSetup | undefined {
  const setup = value === undefined ? undefined : String(value).toLowerCase();
  return setup !== undefined && SETUPS.includes(setup) ? (setup as DtlsSetup) : undefined;
}

/** The direction an answer takes for an offered direction, given what we would like. @public */
export function answerDirection(offered: MediaDirection, wanted: MediaDirection = 'sendrecv'): MediaDirection {
  const weSend = wanted === 'sendrecv' || wanted === 'sendonly';
  const weReceive = wanted === 'sendrecv' || wanted === 'recvonly';
  const theySend = offered === 'sendrecv' || offered === 'sendonly';
  const theyReceive = offered === 'sendrecv' || offered === 'recvonly';
  const send = weSend && theyReceive;
  const receive = weReceive && theySend;
  return send && receive ? 'sendrecv' : send ? 'sendonly' : receive ? 'recvonly' : 'inactive';
}

/** The origin of our SDP bodies: session id fixed for a dialog, version incremented by each new body. @public */
export class SdpOrigin {
  readonly sessionId: string;
  #version: number;

  constructor(sessionId: string = String(Date.now()), version = 0) {
    this.sessionId = sessionId;
    this.#version = version;
  }

  /** The version of the last body (or the initial one). */
  get version(): number {
    return this.#version;
  }

  /** The version for a changed body (a re-offer). */
  next(): number {
    return ++this.#version;
  }
}

/** One format to put in our m= line. @public */
export interface OfferedFormat {
  payloadType: number;
  encoding: string;
  clockRate: number;
  channels: number;
  fmtp: string;
}

/** Fields of {@link writeAudioSdp}. @public */
export interface AudioSdpFields {
  origin: SdpOrigin;
  /** `o=` user name. @defaultValue '-' */
  username?: string;
  /** Our address, for o= and c=. */
  address: string;
  /** Our RTP port; 0 rejects the stream. */
  port: number;
  /** Formats of the audio line; none (a rejected stream) is written as format 0. */
  formats: readonly OfferedFormat[];
  direction: MediaDirection;
  ptimeMs?: number;
  /** Other m= lines of an offer to mirror, rejected (port 0), in their places. */
  rejected?: readonly { index: number; type: string; protocol: string; formats: string }[];
  /** Index of the audio line among all m= lines. @defaultValue 0 */
  audioIndex?: number;
  /** Offer or accept rtcp-mux. */
  rtcpMux?: boolean;
  /** Advance the o= version (a changed body). */
  newVersion?: boolean;
  /** The audio line's profile. @defaultValue 'RTP/AVP' */
  protocol?: string;
  /** Values of `a=crypto` attributes for the audio line (SDES keys). */
  crypto?: readonly string[];
  /** Our certificate's `a=fingerprint` for the audio line (DTLS-SRTP). */
  fingerprint?: DtlsFingerprint;
  /** Our `a=setup` for the audio line (DTLS-SRTP). */
  setup?: DtlsSetup;
  /** Our ICE credentials and candidates for the audio line. */
  ice?: { ufrag: string; pwd: string; candidates: readonly IceCandidate[] };
}

/**
 * Writes an SDP body with one audio stream (and rejected copies of other offered streams).
 *
 * The text is the one sdp-transform's writer makes of the same description (its line order:
 * v, o, s, c, t, then per m= line rtpmap, fmtp, setup, ptime, the direction, ice-ufrag, ice-pwd,
 * fingerprint, rtcp-mux, and our crypto and candidate lines last), written straight into a string:
 * the writer's format strings and regular expressions cost about a tenth of an answer's handling
 * (`docs/performance.md`, *Answer latency*). A test compares the two on generated descriptions.
 *
 * @public
 */
export function writeAudioSdp(fields: AudioSdpFields): string {
  const family = fields.address.includes(':') ? 6 : 4;
  const version = fields.newVersion ? fields.origin.next() : fields.origin.version;
  const open = fields.port !== 0;
  let audio = `m=audio ${Number(fields.port)} ${fields.protocol ?? 'RTP/AVP'} `;
  // A rejected stream with no format left still needs one: an m= line has at least one.
  audio += fields.formats.length > 0 ? fields.formats.map((f) => f.payloadType).join(' ') : '0';
  audio += '\r\n';
  for (const f of fields.formats) {
    if (f.channels > 1) audio += `a=rtpmap:${Number(f.payloadType)} ${f.encoding}/${f.clockRate}/${f.channels}\r\n`;
    else if (f.clockRate) audio += `a=rtpmap:${Number(f.payloadType)} ${f.encoding}/${f.clockRate}\r\n`;
    else audio += `a=rtpmap:${Number(f.payloadType)} ${f.encoding}\r\n`;
  }
  for (const f of fields.formats) if (f.fmtp !== '') audio += `a=fmtp:${Number(f.payloadType)} ${f.fmtp}\r\n`;
  if (open && fields.setup) audio += `a=setup:${fields.setup}\r\n`;
  if (open && fields.ptimeMs != null) audio += `a=ptime:${Number(fields.ptimeMs)}\r\n`;
  if (fields.direction != null) audio += `a=${fields.direction}\r\n`;
  if (open && fields.ice) audio += `a=ice-ufrag:${fields.ice.ufrag}\r\na=ice-pwd:${fields.ice.pwd}\r\n`;
  if (open && fields.fingerprint) audio += `a=fingerprint:${fields.fingerprint.algorithm} ${fields.fingerprint.value}\r\n`;
  if (open && fields.rtcpMux) audio += 'a=rtcp-mux\r\n';
  // Written whole, one attribute each (sdp-transform's crypto writer drops session parameters after the first).
  if (open && fields.crypto) for (const value of fields.crypto) audio += `a=crypto:${value}\r\n`;
  if (open && fields.ice) for (const candidate of fields.ice.candidates) audio += `a=candidate:${formatCandidate(candidate)}\r\n`;
  let text = `v=0\r\no=${fields.username ?? '-'} ${fields.origin.sessionId} ${Number(version)} IN IP${family} ${fields.address}\r\ns=-\r\nc=IN IP${family} ${fields.address}\r\nt=0 0\r\n`;
  const rejected = [...(fields.rejected ?? [])].sort((a, b) => a.index - b.index);
  const audioIndex = fields.audioIndex ?? 0;
  for (let i = 0, r = 0; i < rejected.length + 1; i++) {
    if (i === audioIndex) text += audio;
    else {
      const other = rejected[r++]!;
      text += `m=${other.type} 0 ${other.protocol} ${other.formats || '0'}\r\n`;
    }
  }
  return text;
}
