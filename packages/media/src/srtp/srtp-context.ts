import { AesEncryptor, aesCounterXor, readWord as readInt32, writeWord as writeUint32 } from './aes';
import { HmacSha1 } from './hmac-sha1';
import { BATCH_PACKET_BYTES, BATCH_PACKETS, KeystreamBatches, type KeystreamBatch } from './keystream-batch';
import { SrtpError } from './srtp-error';

/**
 * The SRTP crypto suites we speak (RFC 4568 section 6.2, RFC 6188 for the 256-bit keys): AES in
 * counter mode with HMAC-SHA1, the tag of SRTP 80 or 32 bits; SRTCP's tag is 80 bits in every one.
 *
 * @public
 */
export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' | 'AES_256_CM_HMAC_SHA1_80' | 'AES_256_CM_HMAC_SHA1_32';

/** The suites in our order of preference (what we offer, and the order we pick from an offer). @public */
export const SRTP_SUITES: readonly SrtpSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80', 'AES_256_CM_HMAC_SHA1_32'];

/** Sizes of a suite's keys and tags, in bytes. @public */
export function srtpSuiteSizes(suite: SrtpSuite): { masterKey: number; masterSalt: number; rtpTag: number; rtcpTag: number } {
  return {
    masterKey: suite.startsWith('AES_256') ? 32 : 16,
    masterSalt: 14,
    rtpTag: suite.endsWith('_32') ? 4 : 10,
    rtcpTag: 10,
  };
}

/** The master key of one direction of an SRTP session, as SDES (a=crypto) or DTLS-SRTP gives it. @public */
export interface SrtpKeyMaterial {
  suite: SrtpSuite;
  masterKey: Uint8Array;
  masterSalt: Uint8Array;
  /** RTCP sent without encryption, still authenticated (the `UNENCRYPTED_SRTCP` session parameter). */
  unencryptedSrtcp?: boolean;
}

/** Why an incoming packet was dropped, as {@link SrtpContext.unprotectRtp} returns it (negative). @public */
export const SRTP_DROP = {
  /** Shorter than its header and tag, or not RTP / RTCP at all. */
  malformed: -1,
  /** The authentication tag does not match: forged, corrupted, or keyed differently. */
  authentication: -2,
  /** An index already received (a replay or a duplicate). */
  replayed: -3,
  /** Older than the 64-packet replay window: cannot be told from a replay. */
  tooOld: -4,
} as const;

/** Counts of what an {@link SrtpContext} let through and dropped. @public */
export interface SrtpCounters {
  protectedRtp: number;
  protectedRtcp: number;
  unprotectedRtp: number;
  unprotectedRtcp: number;
  malformed: number;
  authenticationFailures: number;
  replayed: number;
  tooOld: number;
}

/** What one SSRC's packets have told: the highest index authenticated and the replay window below it. */
interface SourceState {
  /** Highest packet index authenticated (-1: none yet). */
  highest: number;
  /** Bit k set: index `highest - k` was received (k < 32 in low, 32..63 in high). */
  low: number;
  high: number;
  /** RTP: the keystream made ahead for this source's next packets (see {@link KeystreamBatches}). */
  batch: KeystreamBatch | undefined;
}

const REPLAY_WINDOW = 64;
/** Sources remembered per direction; a new one beyond this replaces the oldest. */
const MAX_SOURCES = 8;

/** The keys RFC 3711's key derivation (section 4.3, key derivation rate 0) makes from a master key, for RTP or for RTCP. */
interface SessionKeys {
  cipher: AesEncryptor;
  salt: Uint8Array;
  auth: HmacSha1;
  /** RTP's: the same key in node:crypto, for keystream made a batch at a time (SRTCP has none). */
  batches: KeystreamBatches | undefined;
}

/** AES-CM as the key derivation's PRF: `length` bytes of keystream under the master key, IV = (salt XOR label) * 2^16. */
function derive(master: AesEncryptor, masterSalt: Uint8Array, label: number, length: number): Uint8Array {
  const iv = new Uint8Array(16);
  iv.set(masterSalt);
  // key_id = label || r (48 bits, 0 at rate 0) is XORed into the salt's low 56 bits: the label lands on byte 7.
  iv[7]! ^= label;
  const out = new Uint8Array(length);
  aesCounterXor(master, iv, new Uint8Array(16), out, 0, length);
  return out;
}

function sessionKeys(material: SrtpKeyMaterial, master: AesEncryptor, firstLabel: number, keyBytes: number): SessionKeys {
  const key = derive(master, material.masterSalt, firstLabel, keyBytes);
  return {
    cipher: new AesEncryptor(key),
    // RTP's keys (label 0) only: SRTCP's few packets take the block-by-block way.
    batches: firstLabel === 0 ? new KeystreamBatches(key) : undefined,
    auth: new HmacSha1(derive(master, material.masterSalt, firstLabel + 1, 20)),
    salt: derive(master, material.masterSalt, firstLabel + 2, 14),
  };
}

/**
 * One direction of an SRTP session (RFC 3711): protects what we send, or checks and decrypts what
 * we receive, in place in the caller's buffer and without allocating per packet.
 *
 * @remarks
 * Use one context to send and another (with the peer's key) to receive. Each SSRC has its own
 * rollover counter and 64-packet replay window, up to 8 SSRCs per context. The key derivation rate
 * is 0 (keys derived once), MKIs are not used: what SDES offers in practice and DTLS-SRTP always.
 *
 * @public
 */
export class SrtpContext {
  readonly suite: SrtpSuite;
  readonly unencryptedSrtcp: boolean;
  readonly counters: SrtpCounters = {
    protectedRtp: 0,
    protectedRtcp: 0,
    unprotectedRtp: 0,
    unprotectedRtcp: 0,
    malformed: 0,
    authenticationFailures: 0,
    replayed: 0,
    tooOld: 0,
  };
  readonly rtpTagBytes: number;
  readonly rtcpTagBytes: number;
  readonly #masterKey: Uint8Array;
  readonly #masterSalt: Uint8Array;
  readonly #rtp: SessionKeys;
  readonly #rtcp: SessionKeys;
  readonly #iv = new Uint8Array(16);
  readonly #keystream = new Uint8Array(16);
  readonly #rtpSources = new Map<number, SourceState>();
  readonly #rtcpSources = new Map<number, SourceState>();
  /** The SRTCP index of the next packet we protect (31 bits). */
  #rtcpIndex = 0;

  constructor(material: SrtpKeyMaterial) {
    const sizes = srtpSuiteSizes(material.suite);
    if (material.masterKey.length !== sizes.masterKey) throw new SrtpError(`${material.suite} takes a ${sizes.masterKey}-byte master key, not ${material.masterKey.length}`);
    if (material.masterSalt.length !== sizes.masterSalt) throw new SrtpError(`${material.suite} takes a 14-byte master salt, not ${material.masterSalt.length}`);
    this.suite = material.suite;
    this.unencryptedSrtcp = material.unencryptedSrtcp === true;
    this.rtpTagBytes = sizes.rtpTag;
    this.rtcpTagBytes = sizes.rtcpTag;
    this.#masterKey = Uint8Array.from(material.masterKey);
    this.#masterSalt = Uint8Array.from(material.masterSalt);
    const master = new AesEncryptor(material.masterKey);
    this.#rtp = sessionKeys(material, master, 0, sizes.masterKey);
    this.#rtcp = sessionKeys(material, master, 3, sizes.masterKey);
  }

  /** Whether `material` holds this context's master key and salt (a re-offer that kept its key). */
  keyEquals(material: SrtpKeyMaterial): boolean {
    return equalBytes(this.#masterKey, material.masterKey) && equalBytes(this.#masterSalt, material.masterSalt);
  }

  /**
   * Encrypts the RTP packet `packet[0, length)` in place and appends its tag. `packet` must have
   * room for {@link rtpTagBytes} more. Returns the new length, or {@link SRTP_DROP}.malformed
   * when the bytes are not an RTP packet.
   */
  protectRtp(packet: Uint8Array, length: number): number {
    const headerEnd = rtpHeaderLength(packet, length);
    // Stryker disable next-line EqualityOperator: a header ends at 12 or later, never at 0.
    if (headerEnd < 0) return this.#drop(SRTP_DROP.malformed);
    if (packet.length < length + this.rtpTagBytes) throw new SrtpError(`an SRTP packet needs ${this.rtpTagBytes} bytes after the RTP packet for its tag`);
    const ssrc = readInt32(packet, 8);
    const sequence = (packet[2]! << 8) | packet[3]!;
    const source = this.#source(this.#rtpSources, ssrc);
    const index = estimateIndex(source, sequence);
    // Stryker disable next-line EqualityOperator: an index equal to the highest leaves the same highest.
    if (index > source.highest) source.highest = index;
    const rolloverCounter = Math.floor(index / 0x10000);
    this.#encryptRtp(source, ssrc, index, packet, headerEnd, length);
    const auth = this.#rtp.auth;
    auth.update(packet, 0, length);
    auth.updateUint32(rolloverCounter);
    auth.finish(packet, length, this.rtpTagBytes);
    this.counters.protectedRtp++;
    return length + this.rtpTagBytes;
  }

  /**
   * Checks and decrypts the SRTP packet `packet[0, length)` in place. Returns the length of the
   * RTP packet it held, or a negative {@link SRTP_DROP} value (the packet is then to be dropped; the
   * counters say why).
   */
  unprotectRtp(packet: Uint8Array, length: number): number {
    const end = length - this.rtpTagBytes;
    const headerEnd = rtpHeaderLength(packet, end);
    // Stryker disable next-line EqualityOperator: a header ends at 12 or later, never at 0.
    if (headerEnd < 0) return this.#drop(SRTP_DROP.malformed);
    const ssrc = readInt32(packet, 8);
    const sequence = (packet[2]! << 8) | packet[3]!;
    const source = this.#rtpSources.get(ssrc);
    const index = source === undefined ? sequence : estimateIndex(source, sequence);
    if (source !== undefined) {
      const replay = replayCheck(source, index);
      if (replay !== 0) return this.#drop(replay);
    }
    const auth = this.#rtp.auth;
    auth.update(packet, 0, end);
    auth.updateUint32(Math.floor(index / 0x10000));
    if (!auth.verify(packet, end, this.rtpTagBytes)) return this.#drop(SRTP_DROP.authentication);
    if (source === undefined) this.#encrypt(this.#rtp, ssrc, index, packet, headerEnd, end);
    else this.#encryptRtp(source, ssrc, index, packet, headerEnd, end);
    markReceived(source ?? this.#source(this.#rtpSources, ssrc), index);
    this.counters.unprotectedRtp++;
    return end;
  }

  /**
   * Protects the RTCP compound packet `packet[0, length)` in place: encrypts it (unless
   * UNENCRYPTED_SRTCP), appends the E flag with the SRTCP index, then the tag. `packet` must have
   * room for 4 + {@link rtcpTagBytes} more bytes. Returns the new length.
   */
  protectRtcp(packet: Uint8Array, length: number): number {
    if (length < 8) return this.#drop(SRTP_DROP.malformed);
    if (packet.length < length + 4 + this.rtcpTagBytes) throw new SrtpError(`an SRTCP packet needs ${4 + this.rtcpTagBytes} bytes after the RTCP packet`);
    const index = this.#rtcpIndex;
    this.#rtcpIndex = (index + 1) & 0x7fffffff;
    if (!this.unencryptedSrtcp) this.#encrypt(this.#rtcp, readInt32(packet, 4), index, packet, 8, length);
    writeUint32(packet, length, (this.unencryptedSrtcp ? 0 : 0x80000000) | index);
    const auth = this.#rtcp.auth;
    auth.update(packet, 0, length + 4);
    auth.finish(packet, length + 4, this.rtcpTagBytes);
    this.counters.protectedRtcp++;
    return length + 4 + this.rtcpTagBytes;
  }

  /**
   * Checks and decrypts the SRTCP packet `packet[0, length)` in place. Returns the length of the
   * RTCP compound packet it held, or a negative {@link SRTP_DROP} value.
   */
  unprotectRtcp(packet: Uint8Array, length: number): number {
    const indexAt = length - this.rtcpTagBytes - 4;
    if (indexAt < 8 || packet[0]! >> 6 !== 2) return this.#drop(SRTP_DROP.malformed);
    const word = readInt32(packet, indexAt);
    const encrypted = word < 0; // the E flag
    const index = word & 0x7fffffff;
    const ssrc = readInt32(packet, 4);
    const source = this.#rtcpSources.get(ssrc);
    if (source !== undefined) {
      const replay = replayCheck(source, index);
      if (replay !== 0) return this.#drop(replay);
    }
    const auth = this.#rtcp.auth;
    auth.update(packet, 0, indexAt + 4);
    if (!auth.verify(packet, indexAt + 4, this.rtcpTagBytes)) return this.#drop(SRTP_DROP.authentication);
    if (encrypted) this.#encrypt(this.#rtcp, ssrc, index, packet, 8, indexAt);
    markReceived(source ?? this.#source(this.#rtcpSources, ssrc), index);
    this.counters.unprotectedRtcp++;
    return indexAt;
  }

  /**
   * AES-CM over an RTP payload `data[start, end)` with the source's keystream made ahead: a new
   * batch when the index is past the current one (or there is none), the block-by-block way for a
   * late packet from before it and for payload bytes past what a batch holds per packet.
   */
  #encryptRtp(source: SourceState, ssrc: number, index: number, data: Uint8Array, start: number, end: number): void {
    let batch = source.batch;
    let offset = batch === undefined ? -1 : index - batch.first;
    if (batch === undefined || offset >= BATCH_PACKETS) {
      batch = this.#rtp.batches!.make(this.#rtp.salt, ssrc, index);
      source.batch = batch;
      offset = 0;
    } else if (offset < 0) {
      this.#encrypt(this.#rtp, ssrc, index, data, start, end);
      return;
    }
    const keystream = batch.bytes;
    const stop = Math.min(end, start + BATCH_PACKET_BYTES);
    let k = offset * BATCH_PACKET_BYTES;
    for (let i = start; i < stop; i++) data[i]! ^= keystream[k++]!;
    if (stop < end) this.#encrypt(this.#rtp, ssrc, index, data, stop, end, BATCH_PACKET_BYTES / 16);
  }

  /**
   * AES-CM over `data[start, end)`: IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16), the
   * counter starting at block `firstBlock` (`data[start]` is that block's first byte).
   */
  #encrypt(keys: SessionKeys, ssrc: number, index: number, data: Uint8Array, start: number, end: number, firstBlock = 0): void {
    const iv = this.#iv;
    iv.set(keys.salt);
    iv[14] = 0;
    iv[15] = 0;
    iv[4]! ^= ssrc >>> 24;
    iv[5]! ^= ssrc >>> 16;
    iv[6]! ^= ssrc >>> 8;
    iv[7]! ^= ssrc;
    // The 48-bit index, bytes 8 to 13.
    // Stryker disable next-line ArithmeticOperator: below 2^32 (a rollover counter under 65536: 2^32 packets, 2.7 years at 50 packets a second) both give 0 in the IV's bytes.
    const high = Math.floor(index / 0x100000000);
    iv[8]! ^= high >>> 8;
    iv[9]! ^= high;
    iv[10]! ^= index >>> 24;
    iv[11]! ^= index >>> 16;
    iv[12]! ^= index >>> 8;
    iv[13]! ^= index;
    aesCounterXor(keys.cipher, iv, this.#keystream, data, start, end, firstBlock);
  }

  #source(sources: Map<number, SourceState>, ssrc: number): SourceState {
    let source = sources.get(ssrc);
    if (source === undefined) {
      if (sources.size >= MAX_SOURCES) sources.delete(sources.keys().next().value!);
      // Stryker disable next-line UnaryOperator: a first highest of 1 instead of -1 keeps the window's bits relative to it: the same decisions.
      source = { highest: -1, low: 0, high: 0, batch: undefined };
      sources.set(ssrc, source);
    }
    return source;
  }

  #drop(reason: number): number {
    const counters = this.counters;
    if (reason === SRTP_DROP.malformed) counters.malformed++;
    else if (reason === SRTP_DROP.authentication) counters.authenticationFailures++;
    else if (reason === SRTP_DROP.replayed) counters.replayed++;
    else counters.tooOld++;
    return reason;
  }
}

/** Where the payload of an RTP packet starts (after CSRCs and extension), or -1 if it is not RTP that fits in `length`. */
function rtpHeaderLength(packet: Uint8Array, length: number): number {
  // Stryker disable next-line ConditionalExpression: a packet under 12 bytes also fails the last check (a header ends at 12 or later).
  if (length < 12 || packet[0]! >> 6 !== 2) return -1;
  let offset = 12 + 4 * (packet[0]! & 0x0f);
  if (packet[0]! & 0x10) {
    // Stryker disable next-line ConditionalExpression,ArithmeticOperator: a cut extension header also fails the last check (the offset ends past the length).
    if (offset + 4 > length) return -1;
    offset += 4 + 4 * ((packet[offset + 2]! << 8) | packet[offset + 3]!);
  }
  return offset <= length ? offset : -1;
}

/**
 * The packet index of `sequence` (RFC 3711 section 3.3.1 and appendix A): the rollover counter
 * guessed from the highest index seen, so a sequence that wrapped counts one more rollover and a
 * late one from before the wrap one less.
 */
function estimateIndex(source: SourceState, sequence: number): number {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: with no highest (or 0) the estimate below gives the sequence too.
  if (source.highest < 0) return sequence;
  const rollover = Math.floor(source.highest / 0x10000);
  const last = source.highest % 0x10000;
  let guess = rollover;
  // Stryker disable next-line EqualityOperator: at last = 0x8000 both branches keep the cycle (no sequence is 0x10000 or more).
  if (last < 0x8000) {
    if (sequence - last > 0x8000) guess = rollover - 1;
  } else if (last - 0x8000 > sequence) {
    guess = rollover + 1;
  }
  // Before the first rollover there is nothing older to reach: a negative index is treated as index 0's sequence.
  // Stryker disable next-line EqualityOperator: a guess of 0 gives the sequence either way.
  return guess < 0 ? sequence : guess * 0x10000 + sequence;
}

/** 0 when `index` is new to the window, else the {@link SRTP_DROP} reason. */
function replayCheck(source: SourceState, index: number): number {
  const behind = source.highest - index;
  if (behind < 0) return 0;
  if (behind >= REPLAY_WINDOW) return SRTP_DROP.tooOld;
  // Stryker disable next-line ArithmeticOperator: shift counts are taken mod 32: behind + 32 and behind - 32 shift alike.
  const seen = behind < 32 ? (source.low >>> behind) & 1 : (source.high >>> (behind - 32)) & 1;
  return seen ? SRTP_DROP.replayed : 0;
}

/** Records an authenticated index: the window slides when it is the new highest. */
function markReceived(source: SourceState, index: number): void {
  let behind = source.highest - index;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: a first packet has behind < 0 anyway; an index equal to the highest is refused as replayed before it gets here.
  if (source.highest < 0 || behind < 0) {
    // Stryker disable next-line ConditionalExpression: a fresh window is empty: shifting it by any amount leaves it empty.
    const ahead = source.highest < 0 ? REPLAY_WINDOW : -behind;
    if (ahead >= REPLAY_WINDOW) {
      source.low = 0;
      source.high = 0;
    } else if (ahead >= 32) {
      // Stryker disable next-line ArithmeticOperator: shift counts are taken mod 32: ahead + 32 and ahead - 32 shift alike.
      source.high = source.low << (ahead - 32);
      source.low = 0;
    } else {
      source.high = (source.high << ahead) | (source.low >>> (32 - ahead));
      source.low <<= ahead;
    }
    source.highest = index;
    behind = 0;
  }
  if (behind < 32) source.low |= 1 << behind;
  else {
    // (The directive must lead the statement: before `else` StrykerJS does not see it.)
    // Stryker disable next-line ArithmeticOperator: shift counts are taken mod 32: behind + 32 and behind - 32 shift alike (behind is 32 to 63 here).
    source.high |= 1 << (behind - 32);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  // Stryker disable next-line EqualityOperator: one more turn XORs undefined with undefined: 0.
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}
