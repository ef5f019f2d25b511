import { InvalidMessageError, MessageTooLargeError } from '../errors';
/**
 * Cuts a SIP byte stream (TCP, TLS) into messages by their Content-Length (RFC 3261 18.3), which
 * counts bytes, not characters. Blank lines between messages are keep-alives (RFC 5626 4.4.1):
 * a double CRLF is reported as a ping so that the transport can answer it with a single CRLF.
 */
export class SipStreamFramer {
  #buffer: Buffer = Buffer.alloc(0);
  readonly #onMessage: (message: string) => void;
  readonly #onPing: () => void;
  readonly #maxMessageBytes: number;

  constructor(onMessage: (message: string) => void, onPing: () => void = () => undefined, maxMessageBytes = 65535) {
    this.#onMessage = onMessage;
    this.#onPing = onPing;
    this.#maxMessageBytes = maxMessageBytes;
  }

  /**
   * Adds received bytes; emits every complete message. Throws a {@link MessageTooLargeError} when the stream
   * cannot be framed (no Content-Length, or a message above the size limit): the connection must
   * then be closed.
   */
  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      // Leading CRLFs: keep-alives.
      let start = 0;
      while (start + 1 < this.#buffer.length && this.#buffer[start] === 13 && this.#buffer[start + 1] === 10) {
        start += 2;
        if (start % 4 === 0) this.#onPing();
      }
      if (start > 0) this.#buffer = this.#buffer.subarray(start);
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.#buffer.length > this.#maxMessageBytes) throw new MessageTooLargeError('SIP headers longer than the limit');
        return;
      }
      const head = this.#buffer.toString('latin1', 0, end);
      const match = /\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)/i.exec(`\r\n${head.slice(head.indexOf('\r\n') + 2)}`);
      if (!match) throw new InvalidMessageError('a SIP message on a stream has no Content-Length');
      const length = Number(match[1]);
      if (end + 4 + length > this.#maxMessageBytes) throw new MessageTooLargeError(`a SIP message of ${end + 4 + length} bytes is above the limit`);
      if (this.#buffer.length < end + 4 + length) return;
      const message = this.#buffer.toString('utf8', 0, end + 4 + length);
      this.#buffer = this.#buffer.subarray(end + 4 + length);
      this.#onMessage(message);
    }
  }
}
