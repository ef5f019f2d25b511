import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/** A SIP message as the far end reads it: its first line, headers (lower-case names, in order) and body. */
export interface FarEndMessage {
  firstLine: string;
  headers: [string, string][];
  body: string;
}

/** What the far end does with an INVITE's offer: the answer it gives in its 200, or a refusal. */
export type FarEndAnswer = { sdp: string } | { status: number };

/** One dialog an INVITE opened at the far end, as it stands. */
export interface FarEndDialog {
  callId: string;
  offer: string;
  state: 'answering' | 'answered' | 'confirmed' | 'ended';
  /** What ended it: a BYE, a CANCEL, or the far end's own refusal (or failure to answer). */
  endedBy: 'bye' | 'cancel' | 'refused' | undefined;
}

const COMPACT: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type' };

function parse(text: string): FarEndMessage {
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const lines = head.split('\r\n');
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.push([COMPACT[name] ?? name, line.slice(colon + 1).trim()]);
  }
  const length = Number(headers.find(([name]) => name === 'content-length')?.[1] ?? '0');
  const body = split < 0 ? '' : Buffer.from(text.slice(split + 4)).subarray(0, length).toString();
  return { firstLine: lines[0]!, headers, body };
}

const header = (message: FarEndMessage, name: string): string | undefined => message.headers.find(([n]) => n === name)?.[1];
const all = (message: FarEndMessage, name: string): string[] => message.headers.filter(([n]) => n === name).map(([, value]) => value);
const token = (): string => randomBytes(6).toString('hex');

/**
 * A scripted SIP user agent over UDP on 127.0.0.1, for the far end of WebRTC calls whose media
 * misbehaves: it registers with the test Kamailio (with a Bearer token, as its REGISTER route
 * wants), answers each INVITE routed to it with what `answer` gives for the offer (a 200 with that
 * SDP, retransmitted until the ACK, or a refusal), answers BYE and CANCEL, and sends INVITEs of its
 * own (with any SDP: offers an endpoint must refuse). No media of its own: `answer` makes whatever
 * the scenario needs (nothing, a dead port, an ICE agent that ignores DTLS).
 */
export class SipFarEnd {
  readonly #socket: Socket;
  readonly #kamailioPort: number;
  readonly user: string;
  readonly #answer: (offer: string, callId: string) => Promise<FarEndAnswer>;
  readonly #onEnded: ((dialog: FarEndDialog) => void) | undefined;
  readonly #tag = token();
  /** Dialogs by Call-ID, with the last response to their INVITE (sent again for a retransmitted INVITE). */
  readonly dialogs = new Map<string, FarEndDialog & { lastResponse?: string; retransmit?: NodeJS.Timeout; cancel?: () => void }>();
  /** Transactions of ours waiting for a final response, by branch. */
  readonly #pending = new Map<string, (response: FarEndMessage) => void>();
  #closed = false;

  private constructor(socket: Socket, user: string, kamailioPort: number, answer: (offer: string, callId: string) => Promise<FarEndAnswer>, onEnded?: (dialog: FarEndDialog) => void) {
    this.#socket = socket;
    this.user = user;
    this.#kamailioPort = kamailioPort;
    this.#answer = answer;
    this.#onEnded = onEnded;
    socket.on('message', (data, remote) => this.#onMessage(parse(data.toString()), remote));
  }

  /** Opens the far end on an ephemeral 127.0.0.1 port. */
  static async open(options: { user: string; kamailioPort: number; answer?: (offer: string, callId: string) => Promise<FarEndAnswer>; onEnded?: (dialog: FarEndDialog) => void }): Promise<SipFarEnd> {
    const socket = createSocket('udp4');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new SipFarEnd(socket, options.user, options.kamailioPort, options.answer ?? (async () => ({ status: 486 })), options.onEnded);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  /** Registers `user` with Kamailio (Bearer `bearer`); resolves with the status of its answer. */
  async register(bearer: string): Promise<number> {
    const branch = `z9hG4bK${token()}`;
    const request = [
      `REGISTER sip:127.0.0.1:${this.#kamailioPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:${this.user}@127.0.0.1>;tag=${this.#tag}`,
      `To: <sip:${this.user}@127.0.0.1>`,
      `Call-ID: reg-${this.#tag}@127.0.0.1`,
      'CSeq: 1 REGISTER',
      `Contact: <sip:${this.user}@127.0.0.1:${this.port}>`,
      'Expires: 600',
      `Authorization: Bearer ${bearer}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const response = await this.#transaction(branch, request);
    return Number(/^SIP\/2\.0 (\d{3})/.exec(response.firstLine)?.[1] ?? 0);
  }

  /**
   * Sends an INVITE with `sdp` to `target` (a user registered with Kamailio) and resolves with its
   * final status and Warning header (a refusal is acknowledged; a 2xx is acknowledged and ended
   * with a BYE, or with `ack` false ended with a BYE that no ACK came before).
   */
  async invite(target: string, sdp: string, options: { ack?: boolean } = {}): Promise<{ status: number; warning: string | undefined }> {
    const branch = `z9hG4bK${token()}`;
    const callId = `${token()}@127.0.0.1`;
    const tag = token();
    const via = `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=${branch};rport`;
    const from = `From: <sip:${this.user}@127.0.0.1>;tag=${tag}`;
    const request = [
      `INVITE sip:${target}@127.0.0.1:${this.#kamailioPort} SIP/2.0`, via, 'Max-Forwards: 70', from, `To: <sip:${target}@127.0.0.1>`, `Call-ID: ${callId}`, 'CSeq: 1 INVITE',
      `Contact: <sip:${this.user}@127.0.0.1:${this.port}>`, 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp,
    ].join('\r\n');
    const response = await this.#transaction(branch, request, true);
    const status = Number(/^SIP\/2\.0 (\d{3})/.exec(response.firstLine)?.[1] ?? 0);
    const to = header(response, 'to')!;
    if (status >= 300) {
      // ACK of a non-2xx: the INVITE's branch and Request-URI (RFC 3261 17.1.1.3).
      this.#send([`ACK sip:${target}@127.0.0.1:${this.#kamailioPort} SIP/2.0`, via, 'Max-Forwards: 70', from, `To: ${to}`, `Call-ID: ${callId}`, 'CSeq: 1 ACK', 'Content-Length: 0', '', ''].join('\r\n'));
    } else {
      const contact = /<([^>]+)>/.exec(header(response, 'contact') ?? '')?.[1] ?? `sip:${target}@127.0.0.1`;
      const routes = all(response, 'record-route').flatMap((value) => value.split(',')).reverse().map((value) => `Route: ${value.trim()}`);
      const inDialog = (method: string, cseq: number): string =>
        [`${method} ${contact} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=z9hG4bK${token()};rport`, 'Max-Forwards: 70', ...routes, from, `To: ${to}`, `Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`, 'Content-Length: 0', '', ''].join('\r\n');
      if (options.ack !== false) this.#sendTo(inDialog('ACK', 1));
      this.#sendTo(inDialog('BYE', 2));
    }
    return { status, warning: header(response, 'warning') };
  }

  /** Closes the socket and stops every retransmission. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const dialog of this.dialogs.values()) clearInterval(dialog.retransmit);
    this.#socket.close();
  }

  #transaction(branch: string, request: string, finalOnly = false): Promise<FarEndMessage> {
    return new Promise<FarEndMessage>((resolve, reject) => {
      let tries = 0;
      const send = (): void => {
        if (++tries > 7) {
          clearInterval(timer);
          this.#pending.delete(branch);
          reject(new Error(`no final answer to ${request.slice(0, request.indexOf('\r\n'))}`));
          return;
        }
        this.#send(request);
      };
      const timer = setInterval(send, 1000);
      this.#pending.set(branch, (response) => {
        const status = Number(/^SIP\/2\.0 (\d{3})/.exec(response.firstLine)?.[1] ?? 0);
        if (status < 200) {
          // A provisional response: the request arrived, wait for the final one without resending.
          if (finalOnly) clearInterval(timer);
          return;
        }
        clearInterval(timer);
        this.#pending.delete(branch);
        resolve(response);
      });
      send();
    });
  }

  #send(text: string, to: { address: string; port: number } = { address: '127.0.0.1', port: this.#kamailioPort }): void {
    if (!this.#closed) this.#socket.send(text, to.port, to.address);
  }

  /** In-dialog requests go to Kamailio (it routes them by their Request-URI). */
  #sendTo(text: string): void {
    this.#send(text);
  }

  #respond(request: FarEndMessage, remote: RemoteInfo, status: string, extra: string[] = [], body = '', toTag = this.#tag): string {
    const to = header(request, 'to') ?? '';
    const response = [
      `SIP/2.0 ${status}`,
      ...all(request, 'via').map((value) => `Via: ${value}`),
      ...all(request, 'record-route').map((value) => `Record-Route: ${value}`),
      `From: ${header(request, 'from') ?? ''}`,
      `To: ${/;\s*tag=/i.test(to) || status.startsWith('100') ? to : `${to};tag=${toTag}`}`,
      `Call-ID: ${header(request, 'call-id') ?? ''}`,
      `CSeq: ${header(request, 'cseq') ?? ''}`,
      ...extra,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
    this.#send(response, { address: remote.address, port: remote.port });
    return response;
  }

  #onMessage(message: FarEndMessage, remote: RemoteInfo): void {
    if (this.#closed) return;
    if (message.firstLine.startsWith('SIP/2.0')) {
      const branch = /branch=([^;\s,]+)/.exec(all(message, 'via')[0] ?? '')?.[1];
      if (branch) this.#pending.get(branch)?.(message);
      return;
    }
    const method = message.firstLine.split(' ')[0];
    const callId = header(message, 'call-id') ?? '';
    const dialog = this.dialogs.get(callId);
    if (method === 'INVITE') {
      if (dialog) {
        // A retransmission (or a re-INVITE, which this far end does not take).
        if (/;\s*tag=/i.test(header(message, 'to') ?? '')) this.#respond(message, remote, '488 Not Acceptable Here');
        else if (dialog.lastResponse) this.#send(dialog.lastResponse, { address: remote.address, port: remote.port });
        return;
      }
      const created: FarEndDialog & { lastResponse?: string; retransmit?: NodeJS.Timeout; cancel?: () => void } = { callId, offer: message.body, state: 'answering', endedBy: undefined };
      // A CANCEL while answering: the INVITE gets its 487 (RFC 3261 9.2).
      created.cancel = () => void (created.lastResponse = this.#respond(message, remote, '487 Request Terminated'));
      this.dialogs.set(callId, created);
      this.#respond(message, remote, '100 Trying');
      void this.#answer(message.body, callId).then(
        (answer) => {
          if (created.state !== 'answering' || this.#closed) return;
          if ('status' in answer) {
            created.lastResponse = this.#respond(message, remote, `${answer.status} Refused`);
            this.#ended(created, 'refused');
            return;
          }
          created.state = 'answered';
          created.lastResponse = this.#respond(message, remote, '200 OK', [`Contact: <sip:${this.user}@127.0.0.1:${this.port}>`, 'Content-Type: application/sdp'], answer.sdp);
          // A 2xx is sent again until its ACK comes (RFC 3261 13.3.1.4).
          created.retransmit = setInterval(() => {
            if (created.state === 'answered' && created.lastResponse) this.#send(created.lastResponse, { address: remote.address, port: remote.port });
            else clearInterval(created.retransmit);
          }, 500);
        },
        () => {
          created.lastResponse = this.#respond(message, remote, '500 Server Error');
          this.#ended(created, 'refused');
        },
      );
      return;
    }
    if (method === 'ACK') {
      if (dialog && dialog.state === 'answered') {
        dialog.state = 'confirmed';
        clearInterval(dialog.retransmit);
      }
      return;
    }
    if (method === 'BYE') {
      this.#respond(message, remote, '200 OK');
      if (dialog) this.#ended(dialog, 'bye');
      return;
    }
    if (method === 'CANCEL') {
      this.#respond(message, remote, '200 OK');
      if (dialog && dialog.state === 'answering') {
        dialog.cancel?.();
        this.#ended(dialog, 'cancel');
      }
      return;
    }
    this.#respond(message, remote, '200 OK');
  }

  #ended(dialog: FarEndDialog & { retransmit?: NodeJS.Timeout }, by: NonNullable<FarEndDialog['endedBy']>): void {
    if (dialog.state === 'ended') return;
    dialog.state = 'ended';
    dialog.endedBy = by;
    clearInterval(dialog.retransmit);
    this.#onEnded?.(dialog);
  }
}
