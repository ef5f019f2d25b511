import { Subscriber, SubscriptionState, UserAgent, type Notification } from 'sip.js';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { AddressResolver, EndpointConfig } from '@sip-endpoint/config';
import { InvalidMessageError } from '../errors';
import { proxySection } from './line-transport';
import { MESSAGE_SUMMARY_TYPE, parseMessageSummary, type MessageSummary } from './message-summary';

/** A line's `proxies.proxy<N>.mailbox` settings. */
export interface MailboxSettings {
  /** The mailbox user (`mailbox.user`). */
  user: string;
  /** host[:port] of the mailbox server (`mailbox.server`, no SRV); the line's server when empty. */
  server: string;
  /** `mailbox.transport`: the Request-URI's transport parameter (none for udp). */
  transport: 'udp' | 'tcp' | 'tls';
  /** Seconds of the subscription (`mailbox.timeout`); 0 fetches the state once. */
  timeout: number;
  /** `mailbox.password`; the line's password when empty. */
  password: string;
}

/** The mailbox settings of proxy `index`, or undefined when it has no mailbox user. */
export function mailboxSettings(config: EndpointConfig, index: number, lineServer: string): MailboxSettings | undefined {
  const proxy = proxySection(index);
  const user = config.get(`${proxy}.mailbox.user`);
  if (user === '') return undefined;
  return {
    user,
    server: config.get(`${proxy}.mailbox.server`) || lineServer,
    transport: config.get(`${proxy}.mailbox.transport`),
    timeout: config.get(`${proxy}.mailbox.timeout`),
    password: config.get(`${proxy}.mailbox.password`) || config.get(`${proxy}.password`),
  };
}

/**
 * The addresses of a mailbox server given as host[:port] (an address as it is; a name through its
 * A and AAAA records, not SRV): a registered line takes the NOTIFYs of its mailbox from them.
 */
export async function mailboxServerAddresses(server: string, resolver?: AddressResolver): Promise<string[]> {
  const host = server.startsWith('[') ? server.slice(1, server.indexOf(']')) : server.split(':')[0]!;
  if (isIP(host) !== 0) return [host];
  try {
    if (resolver) return [...(await resolver.lookup(host, 4)), ...(await resolver.lookup(host, 6))];
    return (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch {
    return [];
  }
}

/** Whether a request is one of a mailbox subscription (its SUBSCRIBEs: the initial one, refreshes, the last). */
export function isMailboxRequest(request: { method: string; getHeader(name: string): string | undefined }): boolean {
  return request.method === 'SUBSCRIBE' && /^\s*message-summary\s*(;|$)/i.test(request.getHeader('Event') ?? '');
}

/** How long to wait before subscribing again after the subscription failed, or the server ended it without saying when to. */
const RESUBSCRIBE_MS = 30000;

/**
 * When to subscribe again after the mailbox server ended the subscription with this
 * `Subscription-State` (RFC 6665 4.1.3): at once for `deactivated` and `timeout`; after
 * `retry-after` (else our 30 s) for `probation` and `giveup` and for no reason; never for
 * `rejected`, `noresource` and `invariant` (the server will not take one). In ms, or undefined
 * for never.
 */
export function resubscribeDelayMs(subscriptionState: string): number | undefined {
  const params = new Map(
    subscriptionState
      .split(';')
      .slice(1)
      .map((param) => param.split('=').map((part) => part.trim().toLowerCase()) as [string, string | undefined]),
  );
  const reason = params.get('reason');
  const retryAfter = Number(params.get('retry-after'));
  const after = Number.isInteger(retryAfter) && retryAfter >= 0 && retryAfter <= 86400 ? retryAfter * 1000 : RESUBSCRIBE_MS;
  if (reason === 'rejected' || reason === 'noresource' || reason === 'invariant') return undefined;
  if (reason === 'deactivated' || reason === 'timeout') return 0;
  return after;
}

/**
 * A line's subscription to its mailbox's `message-summary` event package (RFC 3842 over RFC 6665):
 * SUBSCRIBE with `Expires: timeout` (sip.js refreshes it before it expires), each NOTIFY's summary
 * handed to `onSummary`, a new subscription when the server ended it (at once, later or never, as
 * its reason says: {@link resubscribeDelayMs}) or 30 s after it refused one, and an
 * unsubscribe (`Expires: 0`) when the line closes. A NOTIFY whose body is not a message summary
 * gets 400, one of another content type 415, and changes nothing.
 */
export class MailboxSubscription {
  readonly #ua: UserAgent;
  readonly #settings: MailboxSettings;
  readonly #onSummary: (summary: MessageSummary) => void;
  readonly #log: (level: number, message: string) => void;
  #subscriber: Subscriber | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  #summary: MessageSummary | undefined;
  /** When to subscribe again, as the server's terminating NOTIFY said (RFC 6665 4.1.3); undefined: it said nothing. */
  #resubscribe: { delayMs: number | undefined; reason: string } | undefined;
  /** When the last immediate resubscription went: a server that ends every subscription at once is not followed in a loop. */
  #lastImmediate = 0;

  constructor(ua: UserAgent, settings: MailboxSettings, onSummary: (summary: MessageSummary) => void, log: (level: number, message: string) => void) {
    this.#ua = ua;
    this.#settings = settings;
    this.#onSummary = onSummary;
    this.#log = log;
  }

  /** The mailbox's address: `sip:user@server`, with the transport parameter unless it is udp. */
  get uri(): string {
    const { user, server, transport } = this.#settings;
    return `sip:${user}@${server}${transport === 'udp' ? '' : `;transport=${transport}`}`;
  }

  /** The last summary the server sent. */
  get summary(): MessageSummary | undefined {
    return this.#summary;
  }

  /** Subscribes (again, if the subscription ended); nothing while one is up. */
  start(): void {
    if (this.#stopped || this.#subscriber) return;
    const target = UserAgent.makeURI(this.uri);
    if (!target) {
      this.#log(1, `mailbox: "${this.uri}" is not a SIP URI (proxies mailbox user and server); no message-waiting subscription`);
      this.#stopped = true;
      return;
    }
    const subscriber = new Subscriber(this.#ua, target, 'message-summary', {
      expires: this.#settings.timeout,
      extraHeaders: [`Accept: ${MESSAGE_SUMMARY_TYPE}`],
      delegate: { onNotify: (notification) => this.takeNotify(notification) },
    });
    this.#subscriber = subscriber;
    subscriber.stateChange.addListener((state) => {
      if (state !== SubscriptionState.Terminated || this.#subscriber !== subscriber) return;
      this.#subscriber = undefined;
      if (this.#stopped || this.#settings.timeout === 0) return;
      const told = this.#resubscribe;
      this.#resubscribe = undefined;
      if (told && told.delayMs === undefined) {
        this.#log(2, `mailbox: the server ended the subscription to ${this.uri} for good (${told.reason}); no new one`);
        return;
      }
      let delay = told?.delayMs ?? RESUBSCRIBE_MS;
      if (delay === 0) {
        if (Date.now() - this.#lastImmediate < 5000) delay = RESUBSCRIBE_MS;
        else this.#lastImmediate = Date.now();
      }
      this.#log(delay === 0 ? 3 : 2, `mailbox: the subscription to ${this.uri} was ${told ? `ended (${told.reason})` : 'refused or ended'}; subscribing again ${delay === 0 ? 'now' : `in ${delay / 1000} s`}`);
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.start();
      }, delay);
      this.#retry.unref();
    });
    this.#log(3, `mailbox: subscribing to message-summary of ${this.uri} for ${this.#settings.timeout} s`);
    subscriber.subscribe().catch((error: unknown) => this.#log(2, `mailbox: cannot subscribe to ${this.uri}: ${error instanceof Error ? error.message : String(error)}`));
  }

  /** Ends the subscription (`Expires: 0`, 2 s at most for its answer); no new one after. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = undefined;
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (!subscriber || subscriber.state === SubscriptionState.Terminated) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      timer.unref();
      subscriber.stateChange.addListener((state) => {
        if (state === SubscriptionState.Terminated) {
          clearTimeout(timer);
          resolve();
        }
      });
      subscriber.unsubscribe().catch(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await subscriber.dispose().catch(() => undefined);
  }

  /** A NOTIFY of the subscription, or an unsolicited one of `message-summary` to the line: answered, and its summary taken. */
  takeNotify(notification: Notification): void {
    const request = notification.request;
    const state = request.getHeader('Subscription-State') ?? '';
    if (/^\s*terminated\b/i.test(state)) this.#resubscribe = { delayMs: resubscribeDelayMs(state), reason: /reason\s*=\s*([\w-]+)/i.exec(state)?.[1]?.toLowerCase() ?? 'no reason given' };
    const type = (request.getHeader('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
    const body = request.body ?? '';
    // A NOTIFY without a body (RFC 6665: the state is not known yet) is taken as it is.
    if (body.trim() === '') {
      void notification.accept().catch(() => undefined);
      return;
    }
    if (type !== MESSAGE_SUMMARY_TYPE) {
      this.#log(2, `mailbox: a NOTIFY of ${type || 'no content type'} refused (415): ${MESSAGE_SUMMARY_TYPE} expected`);
      void notification.reject({ statusCode: 415, extraHeaders: [`Accept: ${MESSAGE_SUMMARY_TYPE}`] }).catch(() => undefined);
      return;
    }
    let summary: MessageSummary;
    try {
      summary = parseMessageSummary(body);
    } catch (error) {
      const message = error instanceof InvalidMessageError ? error.message : String(error);
      this.#log(2, `mailbox: a NOTIFY refused (400): ${message}`);
      void notification.reject({ statusCode: 400, reasonPhrase: 'Bad Message Summary' }).catch(() => undefined);
      return;
    }
    void notification.accept().catch(() => undefined);
    this.#summary = summary;
    this.#onSummary(summary);
  }
}
