import { Core } from 'sip.js';

/**
 * Sends an UPDATE (RFC 3311) in a session dialog, without a body: a session refresh (RFC 4028
 * 7.4) that changes nothing of the media. sip.js answers UPDATEs (our patch) but has no client of
 * its own for them; this is one made like its INFO client: the dialog builds the request (its
 * next CSeq, its route set, its remote target) and a non-INVITE transaction carries it, digest
 * challenges included.
 */
export function sendUpdate(dialog: Core.SessionDialog, delegate: Core.OutgoingRequestDelegate, extraHeaders: string[]): Core.OutgoingRequest {
  const message = dialog.createOutgoingRequestMessage('UPDATE', { extraHeaders });
  return new Core.UserAgentClient(Core.NonInviteClientTransaction, dialog.userAgentCore, message, delegate);
}
