import type { LogLevel } from './log-level';

/**
 * What one component of `log_options_provider` lets through: every level up to `level`
 * (`gsip=2`), or exactly the listed levels (`webrtc=(error,critical)`).
 *
 * @public
 */
export type ComponentLogLevels = { kind: 'level'; level: LogLevel } | { kind: 'set'; levels: ReadonlySet<LogLevel> };

/**
 * `system.diagnostics.log_options_provider`, parsed.
 *
 * @public
 */
export interface LogOptionsProvider {
  /** Per component (`sip` for `gsip`, `media` for `webrtc`, other names as written). */
  readonly components: ReadonlyMap<string, ComponentLogLevels>;
  /** Entries that were ignored or corrected, in words. */
  readonly problems: readonly string[];
}

/** The specification's provider names and the components of this SDK they stand for. */
const ALIASES: Readonly<Record<string, string>> = { gsip: 'sip', webrtc: 'media' };

/** The specification's webrtc level names (and ours), as log levels. */
const NAMED_LEVELS: Readonly<Record<string, LogLevel>> = {
  critical: 0,
  fatal: 0,
  error: 1,
  warning: 2,
  warn: 2,
  state: 3,
  api: 3,
  info: 3,
  debug: 4,
};

/** Splits on commas outside parentheses. */
function entries(text: string): string[] {
  const result: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth++;
    if (char === ')') depth = Math.max(0, depth - 1);
    if (char === ',' && depth === 0) {
      result.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  result.push(current);
  return result.map((entry) => entry.trim()).filter((entry) => entry.length > 0);
}

/**
 * Parses `log_options_provider`, e.g. `gsip=2, webrtc=(error,critical)`.
 *
 * @remarks
 * `name=N` (N from 0 to 4, clamped) lets the component's records through up to level N;
 * `name=(a,b,...)` lets through exactly the named levels: `critical` (Fatal), `error`,
 * `warning`, `info`, `state` and `api` (Info), `debug`. `gsip` is the SIP stack (component `sip`
 * and `sip.*`), `webrtc` the media (`media`). Malformed entries are skipped and listed in
 * `problems`; nothing throws.
 *
 * @public
 */
export function parseLogOptionsProvider(text: string): LogOptionsProvider {
  const components = new Map<string, ComponentLogLevels>();
  const problems: string[] = [];
  for (const entry of entries(text)) {
    const match = /^([A-Za-z][\w.-]*)\s*=\s*(.*)$/.exec(entry);
    if (!match) {
      problems.push(`"${entry}" is not name=level or name=(levels)`);
      continue;
    }
    const name = match[1]!.toLowerCase();
    const component = ALIASES[name] ?? name;
    const value = match[2]!.trim();
    const list = /^\((.*)\)$/.exec(value);
    if (list) {
      const levels = new Set<LogLevel>();
      for (const word of list[1]!.split(',').map((w) => w.trim().toLowerCase()).filter((w) => w.length > 0)) {
        const level = NAMED_LEVELS[word];
        if (level === undefined) problems.push(`"${word}" is not a level name of ${name} (${Object.keys(NAMED_LEVELS).join(', ')})`);
        else levels.add(level);
      }
      components.set(component, { kind: 'set', levels });
      continue;
    }
    if (/^-?\d+$/.test(value)) {
      const number = Number.parseInt(value, 10);
      const level = Math.min(4, Math.max(0, number)) as LogLevel;
      if (level !== number) problems.push(`${name}=${value} is outside 0 to 4; ${level} is used`);
      components.set(component, { kind: 'level', level });
      continue;
    }
    const named = NAMED_LEVELS[value.toLowerCase()];
    if (named !== undefined) {
      components.set(component, { kind: 'level', level: named });
      continue;
    }
    problems.push(`"${value}" is not a level (0 to 4) or a list of level names for ${name}`);
  }
  return { components, problems };
}

/** The entry that governs `component`: its own, else that of its nearest dotted parent (`sip` for `sip.Registerer`). */
export function componentLevels(options: LogOptionsProvider, component: string): ComponentLogLevels | undefined {
  let name = component.toLowerCase();
  for (;;) {
    const found = options.components.get(name);
    if (found) return found;
    const dot = name.lastIndexOf('.');
    if (dot < 0) return undefined;
    name = name.slice(0, dot);
  }
}
