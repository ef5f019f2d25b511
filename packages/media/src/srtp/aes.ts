// The AES block cipher (FIPS-197), encryption direction only: all that counter mode needs, which is
// the only mode SRTP's AES-CM suites (RFC 3711 section 4.1.1, RFC 6188) and their key derivation
// use. Round tables on 32-bit words; after the key schedule nothing is allocated, so a packet can be
// encrypted on the hot path. node:crypto's ciphers return a new Buffer from every update() and
// would allocate per packet (see the media README for the measured comparison).

import { SrtpError } from './srtp-error';

const SBOX = new Uint8Array(256);
/** Round tables: for a byte s of row r, the column SubBytes + MixColumns makes of it. */
// Int32Array, not Uint32Array: V8 keeps signed 32-bit values as small integers, where unsigned
// ones of 2^31 and more become doubles and every XOR converts them back.
const T0 = new Int32Array(256);
const T1 = new Int32Array(256);
const T2 = new Int32Array(256);
const T3 = new Int32Array(256);

/** Multiplication by x (that is 2) in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1. */
function xtime(a: number): number {
  return ((a << 1) ^ (a & 0x80 ? 0x1b : 0)) & 0xff;
}

function rotr(word: number, bits: number): number {
  return (word >>> bits) | (word << (32 - bits));
}

{
  // Powers of the generator 3 give logarithms, so inverses: s = affine(inverse(i)).
  const power = new Uint8Array(256);
  const log = new Uint8Array(256);
  let x = 1;
  for (let i = 0; i < 255; i++) {
    power[i] = x;
    log[x] = i;
    x ^= xtime(x);
  }
  for (let i = 0; i < 256; i++) {
    const inverse = i === 0 ? 0 : power[(255 - log[i]!) % 255]!;
    let s = inverse;
    let rotated = inverse;
    for (let k = 0; k < 4; k++) {
      rotated = ((rotated << 1) | (rotated >>> 7)) & 0xff;
      s ^= rotated;
    }
    s ^= 0x63;
    SBOX[i] = s;
    const twice = xtime(s);
    // Column (2s, s, s, 3s) for row 0; the other rows are the same column rotated.
    const t = (twice << 24) | (s << 16) | (s << 8) | (twice ^ s);
    T0[i] = t;
    T1[i] = rotr(t, 8);
    T2[i] = rotr(t, 16);
    T3[i] = rotr(t, 24);
  }
}

function subWord(w: number): number {
  return (SBOX[w >>> 24]! << 24) | (SBOX[(w >>> 16) & 0xff]! << 16) | (SBOX[(w >>> 8) & 0xff]! << 8) | SBOX[w & 0xff]!;
}

/** A big-endian 32-bit word as a signed number (a small integer for V8, whatever its top bit). */
export function readWord(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
}

/** Writes a 32-bit word big-endian (signed or unsigned alike). */
export function writeWord(bytes: Uint8Array, offset: number, word: number): void {
  bytes[offset] = word >>> 24;
  bytes[offset + 1] = word >>> 16;
  bytes[offset + 2] = word >>> 8;
  bytes[offset + 3] = word;
}

/** AES with a 128, 192 or 256-bit key, encrypting one 16-byte block at a time. */
export class AesEncryptor {
  readonly #roundKeys: Int32Array;
  readonly #rounds: number;

  constructor(key: Uint8Array) {
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new SrtpError(`an AES key has 16, 24 or 32 bytes, not ${key.length}`);
    const words = key.length / 4;
    this.#rounds = words + 6;
    const schedule = new Int32Array(4 * (this.#rounds + 1));
    // Stryker disable next-line EqualityOperator: one word more reads past the key (0) into a slot the next loop writes over.
    for (let i = 0; i < words; i++) schedule[i] = readWord(key, 4 * i);
    let roundConstant = 1;
    // Stryker disable next-line EqualityOperator: a write past the end of an Int32Array is ignored.
    for (let i = words; i < schedule.length; i++) {
      let t = schedule[i - 1]!;
      if (i % words === 0) {
        t = subWord((t << 8) | (t >>> 24)) ^ (roundConstant << 24);
        roundConstant = xtime(roundConstant);
      } else if (words > 6 && i % words === 4) {
        t = subWord(t);
      }
      schedule[i] = schedule[i - words]! ^ t;
    }
    this.#roundKeys = schedule;
  }

  /** Encrypts the 16 bytes of `input` at `inOffset` into `output` at `outOffset` (they may overlap exactly). */
  encryptBlock(input: Uint8Array, inOffset: number, output: Uint8Array, outOffset: number): void {
    const k = this.#roundKeys;
    let s0 = readWord(input, inOffset) ^ k[0]!;
    let s1 = readWord(input, inOffset + 4) ^ k[1]!;
    let s2 = readWord(input, inOffset + 8) ^ k[2]!;
    let s3 = readWord(input, inOffset + 12) ^ k[3]!;
    let r = 4;
    for (let round = 1; round < this.#rounds; round++) {
      const t0 = T0[s0 >>> 24]! ^ T1[(s1 >>> 16) & 0xff]! ^ T2[(s2 >>> 8) & 0xff]! ^ T3[s3 & 0xff]! ^ k[r]!;
      const t1 = T0[s1 >>> 24]! ^ T1[(s2 >>> 16) & 0xff]! ^ T2[(s3 >>> 8) & 0xff]! ^ T3[s0 & 0xff]! ^ k[r + 1]!;
      const t2 = T0[s2 >>> 24]! ^ T1[(s3 >>> 16) & 0xff]! ^ T2[(s0 >>> 8) & 0xff]! ^ T3[s1 & 0xff]! ^ k[r + 2]!;
      const t3 = T0[s3 >>> 24]! ^ T1[(s0 >>> 16) & 0xff]! ^ T2[(s1 >>> 8) & 0xff]! ^ T3[s2 & 0xff]! ^ k[r + 3]!;
      s0 = t0;
      s1 = t1;
      s2 = t2;
      s3 = t3;
      r += 4;
    }
    writeWord(output, outOffset, finalColumn(s0, s1, s2, s3) ^ k[r]!);
    writeWord(output, outOffset + 4, finalColumn(s1, s2, s3, s0) ^ k[r + 1]!);
    writeWord(output, outOffset + 8, finalColumn(s2, s3, s0, s1) ^ k[r + 2]!);
    writeWord(output, outOffset + 12, finalColumn(s3, s0, s1, s2) ^ k[r + 3]!);
  }
}

/** The last round's column: SubBytes and ShiftRows, no MixColumns. */
function finalColumn(a: number, b: number, c: number, d: number): number {
  return (SBOX[a >>> 24]! << 24) | (SBOX[(b >>> 16) & 0xff]! << 16) | (SBOX[(c >>> 8) & 0xff]! << 8) | SBOX[d & 0xff]!;
}

/**
 * AES in counter mode as SRTP uses it: the keystream blocks are E(key, IV + j) for j = 0, 1, ...,
 * XORed over `data[start, end)` in place. `iv` is 16 bytes whose last two are the block counter (zero
 * on entry; SRTP's IVs have their low 16 bits zero); they are left holding the last counter used.
 * `firstBlock`: the counter of the block `data[start]` begins (0 for a whole payload).
 * `keystream` is a 16-byte scratch block.
 */
export function aesCounterXor(cipher: AesEncryptor, iv: Uint8Array, keystream: Uint8Array, data: Uint8Array, start: number, end: number, firstBlock = 0): void {
  let block = firstBlock;
  // Stryker disable next-line EqualityOperator: one more turn at the end XORs nothing; the counter it leaves is reset by the next packet's IV.
  for (let at = start; at < end; at += 16) {
    iv[14] = block >>> 8;
    iv[15] = block;
    cipher.encryptBlock(iv, 0, keystream, 0);
    const stop = Math.min(end, at + 16);
    for (let i = at; i < stop; i++) data[i]! ^= keystream[i - at]!;
    block++;
  }
}
