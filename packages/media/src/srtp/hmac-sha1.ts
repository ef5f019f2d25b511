// HMAC-SHA1 (RFC 2104 over FIPS 180-4's SHA-1), the message authentication of SRTP's
// HMAC_SHA1 suites (RFC 3711 section 4.2.1). The states after the key's inner and outer pad blocks
// are kept, so a packet costs its own blocks plus one outer block, and nothing is allocated per
// message: node:crypto's createHmac would make an object and a digest Buffer for every packet.

import { createHash } from 'node:crypto';

const BLOCK = 64;

/** SHA-1's compression of the 64 bytes of `bytes` at `offset` into the state `h`; `w` is the 80-word schedule scratch. */
function compress(h: Int32Array, bytes: Uint8Array, offset: number, w: Int32Array): void {
  // Stryker disable next-line EqualityOperator: a 17th word is written over by the schedule's first expansion.
  for (let i = 0; i < 16; i++) {
    const at = offset + 4 * i;
    w[i] = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
  }
  // Stryker disable next-line EqualityOperator: a write past the end of an Int32Array is ignored.
  for (let i = 16; i < 80; i++) {
    const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
    w[i] = (x << 1) | (x >>> 31);
  }
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  let e = h[4]!;
  // The four rounds of twenty, each with its function and constant.
  for (let i = 0; i < 20; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 20; i < 40; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 40; i < 60; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + w[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 60; i < 80; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + w[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
}

const INITIAL = Int32Array.of(0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0);

/**
 * HMAC-SHA1 under one key, computed piecewise: {@link begin}, {@link update} and
 * {@link updateUint32} as often as needed, then {@link finish}.
 */
export class HmacSha1 {
  readonly #innerStart = new Int32Array(5);
  readonly #outerStart = new Int32Array(5);
  readonly #state = new Int32Array(5);
  readonly #block = new Uint8Array(BLOCK);
  readonly #schedule = new Int32Array(80);
  readonly #digest = new Uint8Array(20);
  #filled = 0;
  /** Bytes hashed since the start, the key block included. */
  #length = 0;

  constructor(key: Uint8Array) {
    const padded = new Uint8Array(BLOCK);
    padded.set(key.length > BLOCK ? createHash('sha1').update(key).digest() : key);
    const pad = new Uint8Array(BLOCK);
    // Stryker disable next-line EqualityOperator: a write past the end of a Uint8Array is ignored.
    for (let i = 0; i < BLOCK; i++) pad[i] = padded[i]! ^ 0x36;
    this.#innerStart.set(INITIAL);
    compress(this.#innerStart, pad, 0, this.#schedule);
    // Stryker disable next-line EqualityOperator: a write past the end of a Uint8Array is ignored.
    for (let i = 0; i < BLOCK; i++) pad[i] = padded[i]! ^ 0x5c;
    this.#outerStart.set(INITIAL);
    compress(this.#outerStart, pad, 0, this.#schedule);
    this.begin();
  }

  /** Starts a new message. */
  begin(): void {
    this.#state.set(this.#innerStart);
    this.#filled = 0;
    this.#length = BLOCK;
  }

  /** Adds `data[start, end)` to the message. */
  update(data: Uint8Array, start: number, end: number): void {
    const block = this.#block;
    let filled = this.#filled;
    let i = start;
    // Whole blocks straight from the data when nothing is pending; the rest through the block buffer.
    // Stryker disable next-line ConditionalExpression,BlockStatement: whole blocks then go through the block buffer: the same result, only slower.
    if (filled === 0) {
      // Stryker disable next-line ConditionalExpression,EqualityOperator: whole blocks (or a last one) then go through the block buffer: the same result.
      for (; i + BLOCK <= end; i += BLOCK) compress(this.#state, data, i, this.#schedule);
    }
    for (; i < end; i++) {
      block[filled++] = data[i]!;
      if (filled === BLOCK) {
        compress(this.#state, block, 0, this.#schedule);
        filled = 0;
      }
    }
    this.#length += end - start;
    this.#filled = filled;
  }

  /** Adds a 32-bit number, big-endian (SRTP's rollover counter). */
  updateUint32(value: number): void {
    const block = this.#block;
    for (let shift = 24; shift >= 0; shift -= 8) {
      block[this.#filled++] = value >>> shift;
      if (this.#filled === BLOCK) {
        compress(this.#state, block, 0, this.#schedule);
        this.#filled = 0;
      }
    }
    this.#length += 4;
  }

  /** Ends the message: the first `bytes` of the MAC go to `out` at `offset`. Then {@link begin} is implied. */
  finish(out: Uint8Array, offset: number, bytes: number): void {
    this.#pad(this.#state, this.#length);
    const digest = this.#digest;
    // Stryker disable next-line EqualityOperator: a sixth word writes past the 20-byte digest, which is ignored.
    for (let i = 0; i < 5; i++) {
      const word = this.#state[i]!;
      digest[4 * i] = word >>> 24;
      digest[4 * i + 1] = word >>> 16;
      digest[4 * i + 2] = word >>> 8;
      digest[4 * i + 3] = word;
    }
    this.#state.set(this.#outerStart);
    this.#filled = 0;
    this.#length = BLOCK;
    this.update(digest, 0, 20);
    this.#pad(this.#state, this.#length);
    for (let i = 0; i < bytes; i++) out[offset + i] = this.#state[i >>> 2]! >>> (24 - 8 * (i & 3));
    this.begin();
  }

  /**
   * Ends the message and compares the first `bytes` of its MAC with `data[offset, offset + bytes)`,
   * in time that does not depend on where they differ.
   */
  verify(data: Uint8Array, offset: number, bytes: number): boolean {
    const expected = this.#digest;
    this.finish(expected, 0, bytes);
    let difference = 0;
    for (let i = 0; i < bytes; i++) difference |= expected[i]! ^ data[offset + i]!;
    return difference === 0;
  }

  /** SHA-1's padding: 0x80, zeros, the length in bits; the last block(s) compressed into `state`. */
  #pad(state: Int32Array, length: number): void {
    const block = this.#block;
    let filled = this.#filled;
    block[filled++] = 0x80;
    if (filled > BLOCK - 8) {
      block.fill(0, filled);
      compress(state, block, 0, this.#schedule);
      filled = 0;
    }
    // Stryker disable next-line ArithmeticOperator: fill stops at the end of the block either way, and bytes 56 to 63 are written next.
    block.fill(0, filled, BLOCK - 8);
    const bits = length * 8;
    // Stryker disable next-line ArithmeticOperator: below 2^32 bits (512 MB) both give a multiple of 2^32, whose bytes are 0.
    const high = Math.floor(bits / 0x100000000);
    block[56] = high >>> 24;
    block[57] = high >>> 16;
    block[58] = high >>> 8;
    block[59] = high;
    block[60] = bits >>> 24;
    block[61] = bits >>> 16;
    block[62] = bits >>> 8;
    block[63] = bits;
    compress(state, block, 0, this.#schedule);
  }
}
