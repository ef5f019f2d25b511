import { createSocket, type Socket } from 'node:dgram';

/**
 * A UDP relay between two SIP parties on 127.0.0.1 that drops the first copy of every message it
 * sees (identified by its first line and top Via branch / CSeq), so that only retransmissions get
 * through. Each side talks to the relay's port; the relay remembers which side is which.
 */
export class DropFirstRelay {
  readonly #socket: Socket;
  readonly #seen = new Set<string>();
  #a: { address: string; port: number } | undefined;
  #b: { address: string; port: number };
  dropped = 0;
  forwarded = 0;

  private constructor(socket: Socket, b: { address: string; port: number }) {
    this.#socket = socket;
    this.#b = b;
    socket.on('message', (data, remote) => {
      const text = data.toString();
      const key = `${text.slice(0, text.indexOf('\r\n'))}|${/branch=([^;\s,]+)/.exec(text)?.[1] ?? ''}|${/^CSeq:\s*(.*)$/im.exec(text)?.[1] ?? ''}`;
      const fromB = remote.port === this.#b.port && remote.address === this.#b.address;
      if (!fromB) this.#a = { address: remote.address, port: remote.port };
      if (!this.#seen.has(key)) {
        this.#seen.add(key);
        this.dropped++;
        return;
      }
      const to = fromB ? this.#a : this.#b;
      if (!to) return;
      this.forwarded++;
      socket.send(data, to.port, to.address);
    });
  }

  /**
   * Opens a relay that forwards what it gets from A to `b`, and what `b` sends back to A; on
   * 127.0.0.1:`port` (an ephemeral port by default).
   */
  static async open(b: { address: string; port: number }, port = 0): Promise<DropFirstRelay> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
    return new DropFirstRelay(socket, b);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  close(): void {
    this.#socket.close();
  }
}
