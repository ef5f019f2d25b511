import { parseSdp, type ParsedSdp } from '@sip-endpoint/media';

let last: { text: string; parsed: ParsedSdp } | undefined;

/**
 * `parseSdp`, remembering the last body it read: an INVITE's offer is read by the transport's
 * screening, then by the line's (`screenInvite`), then by the call's handler, one after the
 * other; the second and third get the first one's result. What it returns is shared: read it,
 * never change it. A body that does not parse throws every time, as `parseSdp` does.
 */
export function parseOffer(text: string): ParsedSdp {
  if (last !== undefined && last.text === text) return last.parsed;
  const parsed = parseSdp(text);
  last = { text, parsed };
  return parsed;
}
