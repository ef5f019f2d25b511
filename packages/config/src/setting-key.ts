import { MAX_CONNECTIVITIES, type ExpandKey, type SettingDefinition } from './setting-definition';
import { SETTINGS, type SettingsTable } from './settings-table';

/**
 * Every key `config.get()` accepts: the table's keys with `proxy<n>` expanded to `proxy0`..`proxy5`
 * and `<codec>` to any codec name.
 *
 * @public
 */
export type SettingKey = ExpandKey<SettingsTable[number]['key']>;

/** The table row that defines a key. @public */
export type SettingRow<K extends SettingKey> = SettingsTable[number] extends infer R
  ? R extends SettingDefinition<infer P, unknown, boolean>
    ? K extends ExpandKey<P>
      ? R
      : never
    : never
  : never;

/**
 * The typed effective value of a setting: the row's type, or a list of it for repeatable settings.
 *
 * @public
 */
export type SettingValue<K extends SettingKey> = SettingRow<K> extends SettingDefinition<string, infer T, infer R>
  ? R extends true
    ? T[]
    : T
  : never;

/** A table row found for a concrete key, with what its placeholders stood for. */
export interface ResolvedKey {
  readonly definition: SettingDefinition;
  /** The canonical concrete key (aliases replaced by the canonical name). */
  readonly key: string;
  /** The proxy index `proxy<n>` stood for. */
  readonly proxy?: number;
  /** The codec name `<codec>` stood for. */
  readonly codec?: string;
}

const exact = new Map<string, SettingDefinition>();
const patterns: { regex: RegExp; definition: SettingDefinition; template: string }[] = [];

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The regular expression source (anchored) matching the concrete keys of a table key:
 * `proxy<n>` matches `proxy0` to `proxy5`, `<codec>` any name without a dot. With `capture`,
 * each placeholder is a capturing group.
 */
export function keyPatternSource(template: string, capture: boolean): string {
  const open = capture ? '(' : '(?:';
  return `^${escape(template)
    .replace(escape('proxy<n>'), `proxy${open}[0-${MAX_CONNECTIVITIES - 1}])`)
    .replace(escape('<codec>'), `${open}[^.]+)`)}$`;
}

for (const row of SETTINGS as readonly SettingDefinition[]) {
  const names = [row.key, ...(row.aliases ?? []).map((alias) => row.key.replace(/[^.]+$/, alias))];
  for (const name of names) {
    if (!name.includes('<')) {
      exact.set(name, row);
      continue;
    }
    patterns.push({ regex: new RegExp(keyPatternSource(name, true)), definition: row, template: row.key });
  }
}

/**
 * Normalises a key as the dynamic-reconfiguration API allows it to be written: colons and dots
 * are interchangeable, surrounding spaces are ignored.
 *
 * @public
 */
export function normalizeKey(key: string): string {
  return key.trim().replace(/:/g, '.');
}

/**
 * Finds the table row of a concrete key (aliases included). Returns `undefined` for a key the
 * table does not know.
 */
export function resolveKey(key: string): ResolvedKey | undefined {
  const direct = exact.get(key);
  if (direct) return { definition: direct, key: direct.key };
  for (const { regex, definition, template } of patterns) {
    const match = regex.exec(key);
    if (!match) continue;
    let canonical = template;
    const result: { proxy?: number; codec?: string } = {};
    let group = 1;
    if (template.includes('proxy<n>')) {
      result.proxy = Number.parseInt(match[group++] ?? '0', 10);
      canonical = canonical.replace('proxy<n>', `proxy${result.proxy}`);
    }
    if (template.includes('<codec>')) {
      result.codec = match[group++] ?? '';
      canonical = canonical.replace('<codec>', result.codec);
    }
    return { definition, key: canonical, ...result };
  }
  return undefined;
}

/** Every row of the table, in table order. */
export function allDefinitions(): readonly SettingDefinition[] {
  return SETTINGS as readonly SettingDefinition[];
}

/**
 * Whether a setting key (any spelling `EndpointConfig.with()` takes: `:` or `.`, an alias, a
 * `proxyN` section) names a file on disk (`namesFile` in the settings table).
 *
 * @public
 */
export function settingNamesFile(key: string): boolean {
  return resolveKey(normalizeKey(key))?.definition.namesFile === true;
}
