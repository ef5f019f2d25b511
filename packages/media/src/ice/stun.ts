import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { IceError } from './ice-error';

/** The magic cookie of every STUN message (RFC 8489 5). */
export const STUN_MAGIC_COOKIE = 0x2112a442;

/** STUN methods this package uses (RFC 8489, RFC 8656). @public */
export const STUN_METHOD = {
  binding: 0x001,
  allocate: 0x003,
  refresh: 0x004,
  send: 0x006,
  data: 0x007,
  createPermission: 0x008,
  channelBind: 0x009,
} as const;

/** STUN attribute types this package reads or writes (RFC 8489, 8445, 8656). @public */
export const STUN_ATTRIBUTE = {
  mappedAddress: 0x0001,
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  unknownAttributes: 0x000a,
  channelNumber: 0x000c,
  lifetime: 0x000d,
  xorPeerAddress: 0x0012,
  data: 0x0013,
  realm: 0x0014,
  nonce: 0x0015,
  xorRelayedAddress: 0x0016,
  requestedTransport: 0x0019,
  xorMappedAddress: 0x0020,
  priority: 0x0024,
  useCandidate: 0x0025,
  software: 0x8022,
  fingerprint: 0x8028,
  iceControlled: 0x8029,
  iceControlling: 0x802a,
} as const;

/** The class of a STUN message. @public */
export type StunClass = 'request' | 'indication' | 'success' | 'error';

const CLASSES: readonly StunClass[] = ['request', 'indication', 'success', 'error'];

/** One attribute as it came: its type and its value (without padding). @public */
export interface StunAttribute {
  type: number;
  value: Uint8Array;
}

/** A STUN message read from a datagram. @public */
export interface StunMessage {
  method: number;
  cls: StunClass;
  /** The 96-bit transaction id. */
  transactionId: Uint8Array;
  /** The attributes in their order, up to MESSAGE-INTEGRITY (and FINGERPRINT), as RFC 8489 14 says to read them. */
  attributes: StunAttribute[];
  /** Where MESSAGE-INTEGRITY starts in `raw`, or -1. */
  integrityOffset: number;
  /** Where FINGERPRINT starts in `raw`, or -1. */
  fingerprintOffset: number;
  /** The whole message. */
  raw: Uint8Array;
}

/** A transport address. @public */
export interface StunAddress {
  address: string;
  port: number;
}

/** Whether a datagram is shaped like a STUN message: first two bits 0, the magic cookie, a length that fits. */
export function isStun(data: Uint8Array, length = data.length): boolean {
  if (length < 20 || (data[0]! & 0xc0) !== 0) return false;
  const view = new DataView(data.buffer, data.byteOffset, length);
  const bodyLength = view.getUint16(2);
  return view.getUint32(4) === STUN_MAGIC_COOKIE && (bodyLength & 3) === 0 && bodyLength + 20 === length;
}

/**
 * Reads a STUN message (RFC 8489 5, 14). Returns a reason instead when the datagram is not one,
 * or its attributes run past its end: a malformed message is dropped by its reader, never thrown.
 *
 * @public
 */
export function parseStun(data: Uint8Array): StunMessage | { malformed: string } {
  if (!isStun(data)) return { malformed: 'not a STUN message (header, magic cookie or length)' };
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  const type = view.getUint16(0);
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = CLASSES[((type & 0x0010) >> 4) | ((type & 0x0100) >> 7)]!;
  const attributes: StunAttribute[] = [];
  let integrityOffset = -1;
  let fingerprintOffset = -1;
  let offset = 20;
  while (offset < data.length) {
    // Stryker disable next-line ConditionalExpression,ArithmeticOperator,ObjectLiteral,StringLiteral: unreachable: isStun makes the length a multiple of 4 and each attribute ends on one, so 4 more bytes are always there.
    if (offset + 4 > data.length) return { malformed: 'an attribute header runs past the message' };
    const attributeType = view.getUint16(offset);
    const length = view.getUint16(offset + 2);
    const end = offset + 4 + length;
    if (end > data.length) return { malformed: `attribute 0x${attributeType.toString(16)} runs past the message` };
    // Stryker disable next-line EqualityOperator: an attribute's offset is 20 or more, never 0.
    if (fingerprintOffset >= 0) return { malformed: 'an attribute follows FINGERPRINT' };
    if (attributeType === STUN_ATTRIBUTE.fingerprint) {
      if (length !== 4) return { malformed: 'FINGERPRINT is not 4 bytes' };
      fingerprintOffset = offset;
    } else if (integrityOffset === -1) {
      if (attributeType === STUN_ATTRIBUTE.messageIntegrity) {
        if (length !== 20) return { malformed: 'MESSAGE-INTEGRITY is not 20 bytes' };
        integrityOffset = offset;
      }
      attributes.push({ type: attributeType, value: data.subarray(offset + 4, end) });
    }
    // Attributes after MESSAGE-INTEGRITY other than FINGERPRINT are ignored (RFC 8489 14.5).
    offset = end + ((4 - (length & 3)) & 3);
  }
  // Stryker disable next-line ConditionalExpression,ObjectLiteral,StringLiteral: unreachable: the body length is a multiple of 4, so the padding of an attribute that fits never runs past it.
  if (offset !== data.length) return { malformed: 'the last attribute\'s padding runs past the message' };
  return { method, cls, transactionId: data.subarray(8, 20), attributes, integrityOffset, fingerprintOffset, raw: data };
}

/** The value of the first attribute of `type`, if the message has one. @public */
export function stunAttribute(message: StunMessage, type: number): Uint8Array | undefined {
  return message.attributes.find((attribute) => attribute.type === type)?.value;
}

/** A copy of the message's first 20 + `length` bytes with the header's length field set to `length`. */
function withLength(raw: Uint8Array, end: number, length: number): Buffer {
  const copy = Buffer.from(raw.subarray(0, end));
  copy.writeUInt16BE(length, 2);
  return copy;
}

/**
 * Whether MESSAGE-INTEGRITY is there and right for `key` (RFC 8489 14.5): the HMAC-SHA1 of the
 * message up to the attribute, with the length as if it ended after it.
 *
 * @public
 */
export function checkStunIntegrity(message: StunMessage, key: Uint8Array): boolean {
  const at = message.integrityOffset;
  // Stryker disable next-line EqualityOperator: an attribute's offset is 20 or more, never 0.
  if (at < 0) return false;
  const expected = createHmac('sha1', key)
    .update(withLength(message.raw, at, at + 24 - 20))
    .digest();
  return timingSafeEqual(expected, message.raw.subarray(at + 4, at + 24));
}

/** Whether FINGERPRINT is there and right (RFC 8489 14.7). @public */
export function checkStunFingerprint(message: StunMessage): boolean {
  const at = message.fingerprintOffset;
  // Stryker disable next-line EqualityOperator: an attribute's offset is 20 or more, never 0.
  if (at < 0) return false;
  const view = new DataView(message.raw.buffer, message.raw.byteOffset, message.raw.length);
  return view.getUint32(at + 4) === fingerprintOf(withLength(message.raw, at, at + 8 - 20));
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, as zlib) of the bytes, XORed with 0x5354554e: FINGERPRINT's value. */
function fingerprintOf(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ((crc ^ 0xffffffff) ^ 0x5354554e) >>> 0;
}

/** What {@link buildStun} writes. @public */
export interface StunMessageFields {
  method: number;
  cls: StunClass;
  /** @defaultValue 12 random bytes */
  transactionId?: Uint8Array;
  attributes?: readonly StunAttribute[];
  /** Adds MESSAGE-INTEGRITY with this key (short-term: the password; long-term: {@link longTermKey}). */
  integrityKey?: Uint8Array;
  /** Adds FINGERPRINT. */
  fingerprint?: boolean;
  /** The byte attributes are padded with (any value is valid, RFC 8489 14). @defaultValue 0 */
  padByte?: number;
}

/** Writes a STUN message. @public */
export function buildStun(fields: StunMessageFields): Buffer {
  const transactionId = fields.transactionId ?? randomBytes(12);
  const attributes = fields.attributes ?? [];
  let bodyLength = 0;
  for (const attribute of attributes) bodyLength += 4 + ((attribute.value.length + 3) & ~3);
  const total = 20 + bodyLength + (fields.integrityKey ? 24 : 0) + (fields.fingerprint ? 8 : 0);
  const out = Buffer.alloc(total, fields.padByte ?? 0);
  out.fill(0, 0, 20);
  const classBits = CLASSES.indexOf(fields.cls);
  const method = fields.method;
  const type = (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((classBits & 1) << 4) | ((classBits & 2) << 7);
  out.writeUInt16BE(type, 0);
  out.writeUInt32BE(STUN_MAGIC_COOKIE, 4);
  out.set(transactionId.subarray(0, 12), 8);
  let offset = 20;
  for (const attribute of attributes) {
    out.writeUInt16BE(attribute.type, offset);
    out.writeUInt16BE(attribute.value.length, offset + 2);
    out.set(attribute.value, offset + 4);
    offset += 4 + ((attribute.value.length + 3) & ~3);
  }
  if (fields.integrityKey) {
    out.writeUInt16BE(offset + 24 - 20, 2);
    const mac = createHmac('sha1', fields.integrityKey).update(out.subarray(0, offset)).digest();
    out.writeUInt16BE(STUN_ATTRIBUTE.messageIntegrity, offset);
    out.writeUInt16BE(20, offset + 2);
    out.set(mac, offset + 4);
    offset += 24;
  }
  if (fields.fingerprint) {
    out.writeUInt16BE(offset + 8 - 20, 2);
    const crc = fingerprintOf(out.subarray(0, offset));
    out.writeUInt16BE(STUN_ATTRIBUTE.fingerprint, offset);
    out.writeUInt16BE(4, offset + 2);
    out.writeUInt32BE(crc, offset + 4);
    offset += 8;
  }
  out.writeUInt16BE(offset - 20, 2);
  return out;
}

/** The long-term credential key (RFC 8489 9.2.2): MD5 of `username:realm:password`. @public */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  // Stryker disable next-line StringLiteral: Node reads a string as UTF-8 when the encoding is empty.
  return createHash('md5').update(`${username}:${realm}:${password}`, 'utf8').digest();
}

/** An attribute holding UTF-8 text (USERNAME, REALM, NONCE, SOFTWARE). @public */
export function textAttribute(type: number, text: string): StunAttribute {
  // Stryker disable next-line StringLiteral: Node reads a string as UTF-8 when the encoding is empty.
  return { type, value: Buffer.from(text, 'utf8') };
}

/** An attribute holding a 32-bit number (PRIORITY, LIFETIME). @public */
export function uint32Attribute(type: number, value: number): StunAttribute {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return { type, value: bytes };
}

/** Reads a 32-bit attribute value, or undefined when it is not 4 bytes. @public */
export function readUint32(value: Uint8Array | undefined): number | undefined {
  return value?.length === 4 ? Buffer.from(value).readUInt32BE(0) : undefined;
}

/**
 * Encodes an address as XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS carry it
 * (RFC 8489 14.2): port XORed with the cookie's top half, the address with the cookie (and the
 * transaction id for IPv6).
 *
 * @public
 */
export function encodeXorAddress(address: StunAddress, transactionId: Uint8Array): Uint8Array {
  const v6 = isIPv6(address.address);
  const raw = v6 ? ipv6Bytes(address.address) : Buffer.from(address.address.split('.').map(Number));
  // An IPv4 address has four parts.
  if (!v6 && !isIPv4(address.address)) throw new IceError(`${address.address} is not an IP address`);
  const out = Buffer.alloc(4 + raw.length);
  out[1] = v6 ? 2 : 1;
  out.writeUInt16BE((address.port ^ (STUN_MAGIC_COOKIE >>> 16)) & 0xffff, 2);
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(STUN_MAGIC_COOKIE, 0);
  mask.set(transactionId.subarray(0, 12), 4);
  // Stryker disable next-line EqualityOperator: one more turn writes past the end of the buffer, which a Buffer ignores.
  for (let i = 0; i < raw.length; i++) out[4 + i] = raw[i]! ^ mask[i]!;
  return out;
}

/** Decodes an XOR-...-ADDRESS value, or undefined when it is not one. @public */
export function decodeXorAddress(value: Uint8Array | undefined, transactionId: Uint8Array): StunAddress | undefined {
  if (!value || value.length < 8) return undefined;
  const family = value[1];
  const size = family === 1 ? 4 : family === 2 ? 16 : 0;
  // A value of an unknown family (size 0) is at least 8 bytes, so never 4 + size.
  if (value.length !== 4 + size) return undefined;
  const port = (((value[2]! << 8) | value[3]!) ^ (STUN_MAGIC_COOKIE >>> 16)) & 0xffff;
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(STUN_MAGIC_COOKIE, 0);
  mask.set(transactionId.subarray(0, 12), 4);
  const bytes = Buffer.alloc(size);
  // Stryker disable next-line EqualityOperator: one more turn writes past the end of the buffer, which a Buffer ignores.
  for (let i = 0; i < size; i++) bytes[i] = value[4 + i]! ^ mask[i]!;
  return { address: size === 4 ? [...bytes].join('.') : ipv6Text(bytes), port };
}

/** Decodes a MAPPED-ADDRESS value (not XORed; old servers send it). @public */
export function decodeMappedAddress(value: Uint8Array | undefined): StunAddress | undefined {
  if (!value || value.length < 8) return undefined;
  const size = value[1] === 1 ? 4 : value[1] === 2 ? 16 : 0;
  // A value of an unknown family (size 0) is at least 8 bytes, so never 4 + size.
  if (value.length !== 4 + size) return undefined;
  const bytes = Buffer.from(value.subarray(4));
  return { address: size === 4 ? [...bytes].join('.') : ipv6Text(bytes), port: (value[2]! << 8) | value[3]! };
}

/** An ERROR-CODE attribute (RFC 8489 14.8). @public */
export function errorCodeAttribute(code: number, reason: string): StunAttribute {
  // Stryker disable next-line StringLiteral: Node reads a string as UTF-8 when the encoding is empty.
  const text = Buffer.from(reason, 'utf8');
  const value = Buffer.alloc(4 + text.length);
  value[2] = Math.floor(code / 100) & 0x07;
  value[3] = code % 100;
  value.set(text, 4);
  return { type: STUN_ATTRIBUTE.errorCode, value };
}

/** Reads ERROR-CODE: the code (300 to 699) and its reason. @public */
export function decodeErrorCode(value: Uint8Array | undefined): { code: number; reason: string } | undefined {
  if (!value || value.length < 4) return undefined;
  const code = (value[2]! & 0x07) * 100 + value[3]!;
  return { code, reason: Buffer.from(value.subarray(4)).toString('utf8') };
}

function ipv6Bytes(text: string): Buffer {
  // Expands "::" and an embedded IPv4 tail into eight groups.
  let groups = text.split('%')[0]!;
  // isIPv6 admits a dotted quad only at the end of the text.
  const v4 = /(\d+\.\d+\.\d+\.\d+)/.exec(groups);
  if (v4) {
    const parts = v4[1]!.split('.').map(Number);
    groups = groups.slice(0, -v4[1]!.length) + `${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`;
  }
  // Without "::" the text has its eight groups: tail is undefined and none is missing.
  const [head, tail] = groups.split('::') as [string, string | undefined];
  // Stryker disable next-line ArrayDeclaration: a group that is no number is written as 0, as an empty head is.
  const left = head ? head.split(':') : [];
  // Stryker disable next-line ArrayDeclaration: a group that is no number is written as 0, as an empty tail is.
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  // Stryker disable next-line StringLiteral: an empty group is no number and is written as 0 too.
  const all = [...left, ...Array<string>(missing).fill('0'), ...right];
  const out = Buffer.alloc(16);
  all.forEach((group, index) => out.writeUInt16BE(parseInt(group, 16), index * 2));
  return out;
}

function ipv6Text(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // The longest run of zero groups (two or more) becomes "::" (RFC 5952).
  let best = -1;
  let bestLength = 1;
  // Stryker disable next-line EqualityOperator: a ninth turn reads no group and ends the loop.
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    // The ninth group is undefined: the run ends there.
    while (groups[j] === '0') j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}
