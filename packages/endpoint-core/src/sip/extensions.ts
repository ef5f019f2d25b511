import { Core } from 'sip.js';
import { UnsupportedSipJsError } from '../errors';
import { installDialogActivity } from './dialog-activity';

/** What a call adds to sip.js's handling of its INVITE dialog. */
export interface DialogHooks {
  /** Extra headers for our 2xx to a re-INVITE of the far end (e.g. Session-Expires). */
  reinviteResponseHeaders?(request: Core.IncomingRequestMessage): string[];
  /** Answers an in-dialog UPDATE (RFC 3311); without a hook, UPDATE gets 501. */
  onUpdate?(request: Core.IncomingRequestMessage): Promise<Core.ResponseOptions>;
}

const hooks = new WeakMap<object, DialogHooks>();
let installed = false;

type ParseMessage = (data: string, logger: Core.Logger) => Core.IncomingRequestMessage | Core.IncomingResponseMessage | undefined;
const sipJsParseMessage: ParseMessage = Core.Parser.parseMessage.bind(Core.Parser);
/** The message the transport last parsed for its screening, kept for sip.js to take once. */
let screened: { text: string; parsed: ReturnType<ParseMessage> } | undefined;

/**
 * Parses a received message with sip.js's parser for the transport's screening (bad-request.ts),
 * and keeps the result: when sip.js then parses the same text, it gets this one instead of
 * parsing the message a second time.
 */
export function parseForSipJs(text: string, logger: Core.Logger): ReturnType<ParseMessage> {
  const parsed = sipJsParseMessage(text, logger);
  screened = { text, parsed };
  return parsed;
}

/** Attaches hooks to a sip.js session dialog. */
export function setDialogHooks(dialog: object, dialogHooks: DialogHooks): void {
  hooks.set(dialog, dialogHooks);
}

interface ReInviteServer {
  dialog: object;
  message: Core.IncomingRequestMessage;
}

interface SessionDialogInternals {
  core: Core.UserAgentCore;
  sequenceGuard(message: Core.IncomingRequestMessage): boolean;
}

/**
 * Extends sip.js 0.21 where it stops short, without copying it: in-dialog UPDATEs reach the call's
 * hook (sip.js answers them 405 or 501), a late response of a transaction already replaced after
 * a challenge is dropped (sip.js fails the new one with it), and our 2xx to a re-INVITE
 * can carry extra headers (sip.js only adds Contact and Record-Route), which session timers need.
 * Done once, by wrapping the prototypes; it checks what it wraps, so that a sip.js upgrade that
 * moves them fails loudly at start rather than silently dropping session refreshes.
 */
export function installSipExtensions(): void {
  if (installed) return;
  const reinvite = Core.ReInviteUserAgentServer?.prototype as unknown as { accept: (options?: Core.ResponseOptions) => unknown } | undefined;
  const dialog = Core.SessionDialog?.prototype as unknown as { receiveRequest: (message: Core.IncomingRequestMessage) => void } | undefined;
  const base = Core.Dialog?.prototype as unknown as { receiveRequest: (message: Core.IncomingRequestMessage) => void } | undefined;
  const core = Core.UserAgentCore?.prototype as unknown as
    | { receiveRequest: (message: Core.IncomingRequestMessage) => void; receiveResponseFromTransport: (message: Core.IncomingResponseMessage) => void }
    | undefined;
  if (
    typeof reinvite?.accept !== 'function' ||
    typeof dialog?.receiveRequest !== 'function' ||
    typeof base?.receiveRequest !== 'function' ||
    typeof core?.receiveRequest !== 'function' ||
    typeof core.receiveResponseFromTransport !== 'function'
  ) {
    throw new UnsupportedSipJsError('this sip.js version does not have the internals src/sip/extensions.ts wraps (sip.js 0.21.2 has)');
  }
  installed = true;
  installDialogActivity();

  // sip.js parses each message the transport hands it; the screening has just parsed it.
  Core.Parser.parseMessage = (data: string, logger: Core.Logger) => {
    const kept = screened;
    screened = undefined;
    return kept && kept.text === data ? kept.parsed : sipJsParseMessage(data, logger);
  };

  // sip.js finds a response's client by the branch it first had; once a challenge was answered
  // the client runs a new transaction (new branch), and a late second challenge of the old one
  // (a retransmitted REGISTER answered twice) would reach it and fail it. Such a response
  // belongs to a transaction that is over: dropped.
  const coreResponse = core.receiveResponseFromTransport;
  core.receiveResponseFromTransport = function (this: { userAgentClients: Map<string, { transaction: { id: string } }> }, message: Core.IncomingResponseMessage) {
    const client = this.userAgentClients.get(message.viaBranch + message.method);
    if (client && client.transaction.id !== message.viaBranch) return;
    coreResponse.call(this, message);
  };

  // sip.js answers UPDATE 405 before looking for its dialog: in a dialog, hand it to the dialog.
  const coreReceive = core.receiveRequest;
  core.receiveRequest = function (this: { dialogs: Map<string, { receiveRequest(message: Core.IncomingRequestMessage): void }>; replyStateless: Core.UserAgentCore['replyStateless'] }, message: Core.IncomingRequestMessage) {
    if (message.method !== 'UPDATE' || !message.toTag) {
      coreReceive.call(this, message);
      return;
    }
    const found = this.dialogs.get(message.callId + message.toTag + message.fromTag);
    if (found) found.receiveRequest(message);
    else this.replyStateless(message, { statusCode: 481 });
  };

  const accept = reinvite.accept;
  reinvite.accept = function (this: ReInviteServer, options: Core.ResponseOptions = { statusCode: 200 }) {
    const extra = hooks.get(this.dialog)?.reinviteResponseHeaders?.(this.message) ?? [];
    return accept.call(this, extra.length > 0 ? { ...options, extraHeaders: [...(options.extraHeaders ?? []), ...extra] } : options);
  };

  const receive = dialog.receiveRequest;
  dialog.receiveRequest = function (this: SessionDialogInternals, message: Core.IncomingRequestMessage) {
    if (message.method !== 'UPDATE') {
      receive.call(this, message);
      return;
    }
    // RFC 3261 12.2.2: an out-of-order request is dropped (sip.js's guard answers it 500).
    if (!this.sequenceGuard(message)) return;
    base.receiveRequest.call(this, message); // remote CSeq and target
    const hook = hooks.get(this)?.onUpdate;
    const core = this.core;
    if (!hook) {
      core.replyStateless(message, { statusCode: 501 });
      return;
    }
    hook(message)
      .then((options) => core.replyStateless(message, options))
      .catch(() => core.replyStateless(message, { statusCode: 500 }));
  };
}
