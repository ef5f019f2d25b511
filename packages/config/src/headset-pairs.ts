import type { SettingType } from './setting-type';

/**
 * One `include_headset` entry: a microphone and a speaker (names or name parts) that together
 * count as a headset.
 *
 * @public
 */
export interface HeadsetPair {
  input: string;
  output: string;
}

/**
 * Splits `text` at `delimiter` where it stands outside single or double quotes, and strips the
 * quotes of each part (unless `keepQuotes`). Returns `undefined` when a quote is not closed.
 */
function splitOutsideQuotes(text: string, delimiter: string, keepQuotes = false): string[] | undefined {
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  let quoted = false;
  for (const char of text) {
    if (quote !== undefined) {
      if (char !== quote) current += char;
      else {
        quote = undefined;
        if (keepQuotes) current += char;
      }
    } else if (char === '"' || char === "'") {
      quote = char;
      quoted = !keepQuotes;
      if (keepQuotes) current += char;
      else if (current.trim() === '') current = '';
    } else if (char === delimiter) {
      parts.push(quoted ? current : current.trim());
      current = '';
      quoted = false;
    } else if (!(quoted && /\s/.test(char))) {
      current += char;
    }
  }
  if (quote !== undefined) return undefined;
  parts.push(quoted ? current : current.trim());
  return parts;
}

/**
 * `policy.device.include_headset`: `Mic:Speaker` pairs separated by commas; names holding quotes,
 * colons or commas are written in single or double quotes. A pair without exactly one colon is
 * ignored (and noted); an unclosed quote makes the whole value invalid.
 *
 * @public
 */
export const headsetPairsType: SettingType<HeadsetPair[]> = {
  label: 'device pairs',
  values: 'Mic:Speaker, or a comma-separated list of such pairs; quote names that hold : , or quotes',
  schema: {
    type: 'array',
    items: {
      type: 'object',
      properties: { input: { type: 'string', minLength: 1 }, output: { type: 'string', minLength: 1 } },
      required: ['input', 'output'],
      additionalProperties: false,
    },
  },
  emptyIsValue: true,
  parse(text) {
    const items = splitOutsideQuotes(text, ',', true);
    if (items === undefined) return { ok: false, reason: `"${text}" has a quote that is not closed` };
    const pairs: HeadsetPair[] = [];
    const notes: string[] = [];
    for (const item of items) {
      // Stryker disable next-line MethodExpression: the items of the outer split come trimmed.
      if (item.trim() === '') continue;
      const sides = splitOutsideQuotes(item, ':');
      // Stryker disable next-line ArrayDeclaration: the items of the outer split have their quotes closed, so the inner split never fails.
      const [input, output] = sides ?? [];
      // Stryker disable next-line ConditionalExpression: the items of the outer split have their quotes closed, so the inner split never fails.
      if (sides === undefined || sides.length !== 2 || !input || !output) {
        notes.push(`"${item}" is not a Mic:Speaker pair and is ignored`);
        continue;
      }
      pairs.push({ input, output });
    }
    return notes.length > 0 ? { ok: true, value: pairs, notes } : { ok: true, value: pairs };
  },
  format(pairs) {
    const quote = (name: string): string => (/[,:"']/.test(name) || name !== name.trim() ? (name.includes('"') ? `'${name}'` : `"${name}"`) : name);
    return pairs.map((pair) => `${quote(pair.input)}:${quote(pair.output)}`).join(',');
  },
};
