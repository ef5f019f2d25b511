import type { Core } from 'sip.js';

/** What a transport hands sip.js: the text, or the message it already parsed to screen it. */
export type ReceivedMessage = string | Core.IncomingRequestMessage | Core.IncomingResponseMessage;

/** The part of sip.js's logger a transport writes to. */
export interface TransportLogger {
  error(message: string): void;
}

/**
 * Hands a received message to sip.js. What sip.js throws on it must not take the socket's or
 * connection's handler down: the message is dropped, and the failure goes to the log (sip.js's
 * logger, which reaches the endpoint's), never silently. Listener errors of the SDK's objects do
 * not come here: their emitters report them as `listenerError`.
 */
export function handOver(onMessage: ((message: ReceivedMessage) => void) | undefined, message: ReceivedMessage, logger: TransportLogger | undefined): void {
  try {
    onMessage?.(message);
  } catch (error) {
    logger?.error(`a received message was dropped: sip.js failed on it: ${error instanceof Error ? error.message : String(error)}`);
  }
}
