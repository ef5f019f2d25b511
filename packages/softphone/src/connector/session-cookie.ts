import { CONNECTOR_BASE_PATH, SESSION_COOKIE_NAME } from '@sip-endpoint/connector-client';

/** `partitioned_cookies`: 0 never, 1 always, 2 for Chrome and Edge 118 and later. @public */
export type PartitionedCookies = 0 | 1 | 2;

/** The first Chrome and Edge version that phases out third-party cookies without `Partitioned`. */
const PARTITIONED_FROM = 118;

/**
 * Whether the session cookie carries `Partitioned`, per `partitioned_cookies` and, for 2, the
 * browser the `User-Agent` names: Edge (`Edg/N`) or Chrome (`Chrome/N`) at version 118 or later.
 *
 * @public
 */
export function wantsPartitioned(setting: PartitionedCookies, userAgent: string | undefined): boolean {
  if (setting === 0) return false;
  if (setting === 1) return true;
  const version = /\bEdg(?:e|A|iOS)?\/(\d+)/.exec(userAgent ?? '')?.[1] ?? /\b(?:Chrome|CriOS)\/(\d+)/.exec(userAgent ?? '')?.[1];
  return version !== undefined && Number(version) >= PARTITIONED_FROM;
}

/**
 * The `Set-Cookie` value that gives a client its session id, attribute for attribute as the
 * spec's transcript shows it: `SEPSESSIONID=<id>; HttpOnly; SameSite=None; Secure;
 * Path=/softphone/v2/`, then `Partitioned` when asked. (Written here rather than by the cookie
 * library so that the attributes keep the transcript's order.)
 *
 * @public
 */
export function sessionCookie(id: string, partitioned: boolean): string {
  return `${SESSION_COOKIE_NAME}=${id}; HttpOnly; SameSite=None; Secure; Path=${CONNECTOR_BASE_PATH}/${partitioned ? '; Partitioned' : ''}`;
}

/**
 * The `Set-Cookie` value of `DELETE /session`: the transcript's `SEPSESSIONID=; HttpOnly;
 * SameSite=None; Secure`, plus the session cookie's `Path` (and `Partitioned`), without which a
 * browser would keep the cookie it had and add an empty one beside it.
 *
 * @public
 */
export function clearedSessionCookie(partitioned: boolean): string {
  return sessionCookie('', partitioned);
}

/**
 * `session_expire` as the Softphone uses it: 30 when not given, the value when it is 0 to 300,
 * 300 otherwise (the spec: "If the provided value is out of range, it will be set to 300").
 *
 * @public
 */
export function sessionExpireSeconds(value: number | undefined): number {
  if (value === undefined) return 30;
  return Number.isInteger(value) && value >= 0 && value <= 300 ? value : 300;
}
