import type { Session } from 'sip.js';

/**
 * Changes the Contact a session sends in its requests and its 2xx to re-INVITEs from now on.
 * sip.js takes a session's Contact from the user agent once, when the session is made, and keeps
 * it in `_contact` (its own TODO: the core does not track it); a line whose Contact moved (a new
 * connection's port) gives the new one to its calls before their target refresh (RFC 3261 12.2).
 */
export function setSessionContact(session: Session, contact: string): void {
  session._contact = contact;
}

/** The Contact a session sends (see {@link setSessionContact}). */
export function sessionContact(session: Session): string | undefined {
  return session._contact;
}
