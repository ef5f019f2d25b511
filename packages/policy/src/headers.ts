/**
 * Headers of an incoming request as a plain object keyed by header name. Look names up with
 * {@link headerValues}: the lookup ignores case. A header that appears several times has a list.
 *
 * @public
 */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Every value of a header, whatever the case of its name (and its compact form), in order;
 * comma-separated values of one line are split (outside quotes and angle brackets).
 *
 * @public
 */
export function headerValues(headers: HeaderBag, name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    const lower = key.toLowerCase();
    // `f` is the compact form of From (RFC 3261 7.3.3), the only compact header the policy reads.
    if (lower !== wanted && !(lower === 'f' && wanted === 'from')) continue;
    for (const line of typeof value === 'string' ? [value] : (value ?? [])) values.push(...splitHeaderList(line));
  }
  return values;
}

function splitHeaderList(line: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  for (const char of line) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === '<') angle++;
    else if (!quoted && char === '>') angle = Math.max(0, angle - 1);
    if (char === ',' && !quoted && angle === 0) {
      parts.push(current.trim());
      current = '';
    } else current += char;
  }
  parts.push(current.trim());
  return parts.filter((part) => part !== '');
}

/**
 * The parameters of one header value (after the URI in angle brackets), lower-cased names,
 * unquoted values; a parameter without value maps to `''`.
 *
 * @public
 */
export function headerParameters(value: string): Map<string, string> {
  // The URI in angle brackets ends at the first '>' outside quotes (a quoted display name or
  // parameter may hold '<', '>' or ';').
  let close = -1;
  let quoted = false;
  let angle = false;
  // Stryker disable next-line EqualityOperator: value[value.length] is undefined, and close is never 0 (a '>' closes only after a '<').
  for (let i = 0; i < value.length && close < 0; i++) {
    const char = value[i];
    if (quoted) {
      if (char === '\\') i++;
      else if (char === '"') quoted = false;
    } else if (char === '"') quoted = true;
    else if (char === '<') angle = true;
    else if (char === '>' && angle) close = i;
  }
  const parameters = new Map<string, string>();
  // Without angle brackets (close is -1) all of the value.
  const parts = splitOutsideQuotes(value.slice(close + 1), ';');
  // Without angle brackets the first part is a bare URI, unless it is itself a parameter (`info=...`).
  // Stryker disable next-line EqualityOperator: close is never 0 (a '>' closes only after a '<').
  if (close < 0 && !/^\s*[\w.!%*+`'~-]+\s*(=|$)/.test(parts[0]!)) parts.shift();
  for (const part of parts) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const equals = trimmed.indexOf('=');
    const name = (equals >= 0 ? trimmed.slice(0, equals) : trimmed).trim().toLowerCase();
    const raw = equals >= 0 ? trimmed.slice(equals + 1).trim() : '';
    parameters.set(name, raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
  }
  return parameters;
}

/** `text` cut at each `separator` that is not inside a quoted string (RFC 3261 quoted-string, with `\` escapes). */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  // Stryker disable next-line EqualityOperator: text[text.length] is undefined, which is no separator.
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '\\') i++;
      else if (char === '"') quoted = false;
    } else if (char === '"') quoted = true;
    else if (char === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * What the signalling of an incoming call asks about answering: `Alert-Info` with
 * `info=alert-autoanswer` or `info=auto-answer`, and `answer-after=N` (seconds) on `Alert-Info` or
 * `Call-Info`.
 *
 * @public
 */
export interface AutoAnswerRequest {
  /** The request asks for an automatic answer. */
  requested: boolean;
  /** Seconds from `answer-after`, when given. */
  answerAfterSeconds: number | undefined;
  /** The header that asked, for the decision's reason. */
  source: string | undefined;
}

/**
 * Reads the auto-answer request of an incoming INVITE's headers.
 *
 * @public
 */
export function autoAnswerRequest(headers: HeaderBag): AutoAnswerRequest {
  let requested = false;
  let answerAfterSeconds: number | undefined;
  let source: string | undefined;
  for (const name of ['Alert-Info', 'Call-Info']) {
    for (const value of headerValues(headers, name)) {
      const parameters = headerParameters(value);
      const info = parameters.get('info')?.toLowerCase();
      const asksByInfo = name === 'Alert-Info' && (info === 'alert-autoanswer' || info === 'auto-answer');
      const after = parameters.get('answer-after');
      // Without answer-after, String(after) is "undefined": not a number, like any other text.
      const seconds = /^\d+(\.\d+)?$/.test(String(after)) ? Number(after) : undefined;
      if (asksByInfo || seconds !== undefined) {
        requested = true;
        source ??= `${name}: ${value}`;
        answerAfterSeconds ??= seconds;
      }
    }
  }
  return { requested, answerAfterSeconds, source };
}
