// SRTP per packet: protect (sender) + unprotect (receiver) of a G.711 packet (12 + 160 bytes),
// AES_CM_128_HMAC_SHA1_80, for three implementations measured in the same run:
//  - ours: SrtpContext (RTP keystream from node:crypto 64 packets at a time, own HMAC-SHA1 on preallocated state, in place);
//  - node:crypto per packet, as werift-rtp does it (createCipheriv + createHmac + Buffers);
//  - werift-rtp itself, when WERIFT_RTP names an install of it (npm i werift-rtp in another folder;
//    it is not a dependency of the project).
// Also how often each makes V8 collect its young generation (what allocating per packet costs).
// Run: npm run bench:srtp   (BENCH_PACKETS=200000 by default, 5 runs, medians)
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { SrtpContext } from '@sip-endpoint/media';

const PACKETS = Number(process.env['BENCH_PACKETS'] ?? 200_000);
const RUNS = 5;
const masterKey = randomBytes(16);
const masterSalt = randomBytes(14);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Young-generation collections so far: what allocating per packet costs, counted. */
let scavenges = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
}).observe({ entryTypes: ['gc'] });
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/** ns per packet (protect + unprotect) and young collections per 100 000 packets. */
async function measure(roundTrip: (sequence: number) => void): Promise<{ ns: number; collections: number }> {
  // One stream throughout: sequence numbers go on (and wrap) from run to run, as on a call.
  let next = 0;
  for (let i = 0; i < 20_000; i++) roundTrip(next++ & 0xffff);
  const times: number[] = [];
  const collections: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    await settle();
    const before = scavenges;
    const start = process.hrtime.bigint();
    for (let i = 0; i < PACKETS; i++) roundTrip(next++ & 0xffff);
    times.push(Number(process.hrtime.bigint() - start) / PACKETS);
    await settle();
    collections.push(((scavenges - before) * 100_000) / PACKETS);
  }
  return { ns: median(times), collections: median(collections) };
}

function rtp(sequence: number, into: Uint8Array): void {
  into[0] = 0x80;
  into[1] = 0;
  into[2] = sequence >>> 8;
  into[3] = sequence;
  into[8] = 0x12;
  into[11] = 0x34;
}

function ours(): Promise<{ ns: number; collections: number }> {
  const sender = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt });
  const receiver = new SrtpContext({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt });
  const packet = new Uint8Array(1500);
  return measure((sequence) => {
    rtp(sequence, packet);
    const length = sender.protectRtp(packet, 172);
    if (receiver.unprotectRtp(packet, length) !== 172) throw new Error('ours: a packet failed');
  });
}

/** SRTP on node:crypto the usual way (werift-rtp's): a cipher and an HMAC object per packet. */
function nodeCryptoPerPacket(): Promise<{ ns: number; collections: number }> {
  const derive = (label: number, length: number): Buffer => {
    const iv = Buffer.alloc(16);
    iv.set(masterSalt);
    iv[7]! ^= label;
    return createCipheriv('aes-128-ctr', masterKey, iv).update(Buffer.alloc(length));
  };
  const key = derive(0, 16);
  const auth = derive(1, 20);
  const salt = derive(2, 14);
  const packet = Buffer.alloc(172);
  const ivFor = (buffer: Buffer): Buffer => {
    const iv = Buffer.alloc(16);
    salt.copy(iv);
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ buffer.readUInt32BE(8)) >>> 0, 4);
    iv.writeUInt16BE(iv.readUInt16BE(12) ^ buffer.readUInt16BE(2), 12);
    return iv;
  };
  const roc = Buffer.alloc(4);
  return measure((sequence) => {
    rtp(sequence, packet);
    const encrypted = Buffer.concat([packet.subarray(0, 12), createCipheriv('aes-128-ctr', key, ivFor(packet)).update(packet.subarray(12))]);
    const tag = createHmac('sha1', auth).update(encrypted).update(roc).digest().subarray(0, 10);
    const srtp = Buffer.concat([encrypted, tag]);
    const body = srtp.subarray(0, srtp.length - 10);
    const check = createHmac('sha1', auth).update(body).update(roc).digest().subarray(0, 10);
    if (!check.equals(srtp.subarray(srtp.length - 10))) throw new Error('node:crypto: a packet failed');
    createCipheriv('aes-128-ctr', key, ivFor(srtp)).update(body.subarray(12));
  });
}

interface WeriftRtp {
  SrtpSession: new (config: { keys: Record<string, Buffer>; profile: number }) => { encrypt(payload: Buffer, header: unknown): Buffer; decrypt(buffer: Buffer): Buffer };
  RtpHeader: new (props: Record<string, unknown>) => unknown;
  ProtectionProfileAes128CmHmacSha1_80: number;
}

function werift(path: string): Promise<{ ns: number; collections: number }> {
  const w = createRequire(`${path}/`)('werift-rtp') as WeriftRtp;
  const keys = { localMasterKey: masterKey, localMasterSalt: masterSalt, remoteMasterKey: masterKey, remoteMasterSalt: masterSalt };
  const sender = new w.SrtpSession({ keys, profile: w.ProtectionProfileAes128CmHmacSha1_80 });
  const receiver = new w.SrtpSession({ keys, profile: w.ProtectionProfileAes128CmHmacSha1_80 });
  const payload = Buffer.alloc(160, 0x55);
  return measure((sequence) => {
    const header = new w.RtpHeader({ sequenceNumber: sequence, timestamp: sequence * 160, ssrc: 0x1234, payloadType: 0 });
    const srtp = sender.encrypt(payload, header);
    if (receiver.decrypt(srtp).length !== 172) throw new Error('werift-rtp: a packet failed');
  });
}

async function main(): Promise<void> {
  const results: [string, { ns: number; collections: number }][] = [
    ['ours (SrtpContext)', await ours()],
    ['node:crypto per packet', await nodeCryptoPerPacket()],
  ];
  const weriftPath = process.env['WERIFT_RTP'];
  if (weriftPath) results.push(['werift-rtp', await werift(weriftPath)]);
  const base = results[0]![1].ns;
  process.stdout.write(`SRTP AES_CM_128_HMAC_SHA1_80, protect + unprotect of a 172-byte RTP packet, median of ${RUNS} runs of ${PACKETS} packets\n`);
  for (const [name, { ns, collections }] of results) {
    process.stdout.write(`${name.padEnd(24)} ${(ns / 1000).toFixed(2).padStart(6)} us/packet  ${(ns / base).toFixed(2)}x ours  ${collections.toFixed(0).padStart(4)} young collections per 100 000 packets\n`);
  }
}

void main();
