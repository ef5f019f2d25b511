import { createCipheriv, type Cipher } from 'node:crypto';

/** Packets one batch of keystream covers: 1.28 s of 20 ms packets. */
export const BATCH_PACKETS = 64;
/** AES blocks made per packet: 192 bytes of payload (G.711's 160, G.722's, opus's); blocks past them are made one by one. */
export const BATCH_BLOCKS = 12;
/** Bytes of keystream a batch holds for each packet. */
export const BATCH_PACKET_BYTES = BATCH_BLOCKS * 16;

/** The counter blocks of one batch, rewritten for each (one for all contexts: `make()` runs to its end at once). */
const COUNTERS = Buffer.alloc(BATCH_PACKETS * BATCH_PACKET_BYTES);

/** The keystream of one source's packets `first` to `first + BATCH_PACKETS - 1`, `BATCH_PACKET_BYTES` each. */
export interface KeystreamBatch {
  first: number;
  bytes: Buffer;
}

/**
 * SRTP's AES-CM keystream for the coming packets of a source, made by node:crypto (OpenSSL, with
 * the CPU's AES instructions) a batch at a time: the counter blocks of 64 consecutive packet
 * indices go through AES-ECB in one call, which is what counter mode's keystream is. A packet then
 * costs an XOR of its payload with its slice of the batch, instead of its AES blocks in JavaScript.
 *
 * @remarks
 * node:crypto returns a new Buffer from each call: one allocation per 64 packets of a source, none
 * per packet. Keystream does not depend on the data, so making it ahead of time is what counter
 * mode allows (RFC 3711 section 4.1.1).
 */
export class KeystreamBatches {
  readonly #cipher: Cipher;

  constructor(sessionKey: Uint8Array) {
    this.#cipher = createCipheriv(sessionKey.length === 32 ? 'aes-256-ecb' : 'aes-128-ecb', sessionKey, null);
    this.#cipher.setAutoPadding(false);
  }

  /**
   * The keystream of packets `first` onwards of source `ssrc` under the session salt `salt`:
   * block j of packet i is AES(key, IV_i + j), IV_i = (salt * 2^16) XOR (ssrc * 2^64) XOR (i * 2^16).
   */
  make(salt: Uint8Array, ssrc: number, first: number): KeystreamBatch {
    const counters = COUNTERS;
    const s4 = salt[4]! ^ (ssrc >>> 24);
    const s5 = salt[5]! ^ ((ssrc >>> 16) & 0xff);
    const s6 = salt[6]! ^ ((ssrc >>> 8) & 0xff);
    const s7 = salt[7]! ^ (ssrc & 0xff);
    let at = 0;
    for (let packet = 0; packet < BATCH_PACKETS; packet++) {
      const index = first + packet;
      // Stryker disable next-line ArithmeticOperator: below 2^32 (a rollover counter under 65536) both give 0 in the IV's bytes.
      const high = Math.floor(index / 0x100000000);
      const b8 = salt[8]! ^ ((high >>> 8) & 0xff);
      const b9 = salt[9]! ^ (high & 0xff);
      const b10 = salt[10]! ^ (index >>> 24);
      const b11 = salt[11]! ^ ((index >>> 16) & 0xff);
      const b12 = salt[12]! ^ ((index >>> 8) & 0xff);
      const b13 = salt[13]! ^ (index & 0xff);
      for (let block = 0; block < BATCH_BLOCKS; block++) {
        counters[at] = salt[0]!;
        counters[at + 1] = salt[1]!;
        counters[at + 2] = salt[2]!;
        counters[at + 3] = salt[3]!;
        counters[at + 4] = s4;
        counters[at + 5] = s5;
        counters[at + 6] = s6;
        counters[at + 7] = s7;
        counters[at + 8] = b8;
        counters[at + 9] = b9;
        counters[at + 10] = b10;
        counters[at + 11] = b11;
        counters[at + 12] = b12;
        counters[at + 13] = b13;
        counters[at + 14] = 0;
        counters[at + 15] = block;
        at += 16;
      }
    }
    return { first, bytes: this.#cipher.update(counters) };
  }
}
