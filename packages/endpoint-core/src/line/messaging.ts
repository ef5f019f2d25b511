import { Messager, type Core, type Message, type UserAgent, type URI } from 'sip.js';
import type { LineMessage } from './line';
import { InvalidArgumentError, RequestFailedError } from '../errors';

/**
 * Instant messages outside a session (RFC 3428): what a line takes (its content types, its size)
 * and how it sends one.
 */

/** The content types a line takes in a MESSAGE (parameters such as `charset` aside). */
export const MESSAGE_TYPES = ['text/plain', 'text/html'] as const;

/** The largest MESSAGE body a line takes or sends, in bytes (RFC 3428 keeps pager-mode messages small). */
export const MAX_MESSAGE_BYTES = 16 * 1024;

/** How a MESSAGE we sent was answered: its final status, 2xx (a rejection throws). @public */
export interface MessageDelivery {
  statusCode: number;
  reasonPhrase: string;
}

/** Options of `line.sendMessage()` and `endpoint.sendMessage()`. @public */
export interface SendMessageOptions {
  /** The body's content type. @defaultValue 'text/plain' */
  contentType?: string;
  /** Extra headers (`name: value`). */
  headers?: Record<string, string>;
}

const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\r\n]*"|[A-Za-z0-9!#$&^_.+-]+))*$/;

/** The answer a received MESSAGE gets: 200, 415 for another content type (with Accept), 413 for a body over the limit. */
export function messageVerdict(contentType: string | undefined, body: string): { status: 200 } | { status: 413 | 415; extraHeaders: string[] } {
  const type = (contentType ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
  if (!(MESSAGE_TYPES as readonly string[]).includes(type)) return { status: 415, extraHeaders: [`Accept: ${MESSAGE_TYPES.join(', ')}`] };
  if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) return { status: 413, extraHeaders: [] };
  return { status: 200 };
}

/**
 * Sends a MESSAGE and resolves with its 2xx; a final status of 300 or more rejects with
 * {@link RequestFailedError} (its `statusCode`), as does no answer (408 from the transaction).
 * @throws {@link InvalidArgumentError} for a content type that is not `type/subtype`, or a body over 16 KiB.
 */
export function sendMessage(ua: UserAgent, target: URI, body: string, options: SendMessageOptions = {}): Promise<MessageDelivery> {
  const { contentType, extraHeaders } = checkMessage(body, options);
  const messager = new Messager(ua, target, body, contentType, { extraHeaders });
  return delivered((requestDelegate) => messager.message({ requestDelegate }));
}

/** What a MESSAGE's answer says, for `send` (which sends it with the delegate given): the 2xx, or a {@link RequestFailedError}. */
export function delivered(send: (delegate: Core.OutgoingRequestDelegate) => Promise<unknown>): Promise<MessageDelivery> {
  return new Promise<MessageDelivery>((resolve, reject) => {
    send({
      onAccept: (response) => resolve({ statusCode: response.message.statusCode ?? 200, reasonPhrase: response.message.reasonPhrase ?? '' }),
      onReject: (response) => reject(new RequestFailedError(`MESSAGE refused: ${response.message.statusCode ?? 0} ${response.message.reasonPhrase ?? ''}`.trim(), response.message.statusCode)),
    }).catch((error: unknown) => reject(new RequestFailedError(`MESSAGE not sent: ${(error as Error).message}`, undefined, { cause: error })));
  });
}

/**
 * The content type and extra headers of a MESSAGE to send, checked.
 * @throws {@link InvalidArgumentError} for a content type that is not `type/subtype`, a body over 16 KiB, a header that is not one.
 */
export function checkMessage(body: string, options: SendMessageOptions): { contentType: string; extraHeaders: string[] } {
  const contentType = options.contentType ?? 'text/plain';
  if (!MEDIA_TYPE.test(contentType)) throw new InvalidArgumentError(`"${contentType}" is not a content type (type/subtype)`);
  if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) throw new InvalidArgumentError(`the message is ${Buffer.byteLength(body)} bytes; at most ${MAX_MESSAGE_BYTES} go in a MESSAGE`);
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (!/^[A-Za-z0-9!%*_+`'~.-]+$/.test(name) || /[\r\n]/.test(value)) throw new InvalidArgumentError(`"${name}" is not a header to send`);
  }
  return { contentType, extraHeaders: Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`) };
}

/**
 * Answers a received MESSAGE by {@link messageVerdict}: what it says when it was taken (200),
 * else undefined, after `refused` heard why.
 */
export function takeMessage(message: Message, refused: (why: string) => void): LineMessage | undefined {
  const request = message.request;
  const contentType = request.getHeader('Content-Type');
  const verdict = messageVerdict(contentType, request.body ?? '');
  if (verdict.status !== 200) {
    refused(`a MESSAGE from ${request.from.uri.toString()} refused (${verdict.status}): ${contentType ?? 'no content type'}, ${Buffer.byteLength(request.body ?? '')} bytes`);
    void message.reject({ statusCode: verdict.status, extraHeaders: verdict.extraHeaders }).catch(() => undefined);
    return undefined;
  }
  void message.accept().catch(() => undefined);
  return { from: request.from.uri.toString(), contentType: contentType ?? 'text/plain', body: request.body };
}
