import { createSocket, type Socket } from 'node:dgram';

/**
 * A UDP relay on 127.0.0.1 that forwards datagrams to a target after a random delay (uniform in
 * 0..`jitterMs`, so packets also get reordered) and drops a random share of them. Seeded, so that
 * a test sees the same impairment on every run.
 */
export class ImpairmentRelay {
  readonly #socket: Socket;
  readonly #timers = new Set<NodeJS.Timeout>();
  #target: { address: string; port: number } | undefined;
  #seed: number;
  #dropEvery = 0;
  #received = 0;
  forwarded = 0;
  dropped = 0;

  private constructor(socket: Socket, seed: number, readonly loss: number, readonly jitterMs: number) {
    this.#socket = socket;
    this.#seed = seed;
    socket.on('message', (data) => {
      if (!this.#target) return;
      this.#received++;
      if (this.#random() < this.loss || (this.#dropEvery > 0 && this.#received % this.#dropEvery === 0)) {
        this.dropped++;
        return;
      }
      const target = this.#target;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.forwarded++;
        this.#socket.send(data, target.port, target.address);
      }, this.#random() * this.jitterMs);
      this.#timers.add(timer);
    });
  }

  static async open(loss: number, jitterMs: number, seed = 12345): Promise<ImpairmentRelay> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new ImpairmentRelay(socket, seed, loss, jitterMs);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  /** Drops every `n`th datagram as well (0: none). */
  dropEvery(n: number): void {
    this.#dropEvery = n;
  }

  forwardTo(address: string, port: number): void {
    this.#target = { address, port };
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#socket.close();
  }

  /** A small deterministic generator (mulberry32). */
  #random(): number {
    this.#seed = (this.#seed + 0x6d2b79f5) | 0;
    let t = this.#seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
