import { isDeepStrictEqual } from 'node:util';
import { buildCodecList, type CodecSources, type ConfiguredCodec } from './codec-list';
import {
  cloneDocument,
  documentSnapshot,
  emptyDocument,
  listSettings,
  type ConfigDocument,
  type ConfigNode,
  type SectionNode,
} from './config-document';
import { readConnectivities, type Connectivity } from './connectivity';
import { ConfigError, type ConfigWarning } from './errors';
import { validateOverrides, type ConfigOverrides } from './overrides';
import { MAX_CONNECTIVITIES, type ProxyIndex, type SettingDefinition } from './setting-definition';
import { allDefinitions, normalizeKey, resolveKey, type SettingKey, type SettingValue } from './setting-key';
import { serializeDocument } from './xml-serialize';

/** Sections that {@link EndpointConfig.section} returns as one object. @public */
export type SectionName =
  | 'policy.endpoint'
  | 'policy.session'
  | 'policy.device'
  | 'policy.connector'
  | 'system.diagnostics'
  | 'system.security'
  | 'system.media'
  | `proxies.proxy${ProxyIndex}`
  | `proxies.proxy${ProxyIndex}.nat`
  | `proxies.proxy${ProxyIndex}.mailbox`;

/** The typed settings of one section, by setting name. @public */
export type SectionSettings<S extends SectionName> = {
  [K in SettingKey as K extends `${S}.${infer N}` ? (N extends `${string}.${string}` ? never : N) : never]: SettingValue<K>;
};

/** Where an effective value came from. */
type Origin = 'file' | 'default' | 'fallback';

interface Effective {
  value: unknown;
  origin: Origin;
}

const defaultCache = new WeakMap<SettingDefinition, unknown>();

/** The typed default of a row (`undefined` for rows whose default is derived). */
function defaultOf(definition: SettingDefinition): unknown {
  if (defaultCache.has(definition)) return defaultCache.get(definition);
  let value: unknown;
  if (definition.repeatable) {
    const texts = definition.default as readonly string[];
    value = Object.freeze(texts.map((text) => {
      const parsed = definition.type.parse(text);
      if (!parsed.ok) throw new Error(`settings table: default of ${definition.key} does not parse: ${parsed.reason}`);
      return parsed.value;
    }));
  } else if (definition.default !== undefined) {
    const parsed = definition.type.parse(definition.default as string);
    if (!parsed.ok) throw new Error(`settings table: default of ${definition.key} does not parse: ${parsed.reason}`);
    value = deepFreeze(parsed.value);
  }
  defaultCache.set(definition, value);
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

interface SettingOccurrence {
  text: string;
  line: number | undefined;
}

/**
 * A Softphone.config, read and validated: typed effective values of every setting (defaults
 * applied, the specification's fallbacks applied and reported in {@link EndpointConfig.warnings}),
 * the Connectivity lines and the ordered codec list. Immutable: {@link EndpointConfig.with}
 * returns a new configuration.
 *
 * @example
 * ```ts
 * const config = parseConfig(xml);
 * config.get('policy.endpoint.rtp_port_min'); // 9000 when the file does not say
 * const next = config.with({ 'policy.session.auto_answer': '1', 'server:0': 'sip.example.com:5060' });
 * ```
 *
 * @public
 */
export class EndpointConfig {
  /** The Connectivity lines (at most six), in file order. */
  readonly connectivities: readonly Connectivity[];
  /** The audio codecs to offer, preferred first, from either codec layout. */
  readonly codecs: readonly ConfiguredCodec[];
  /** Every fallback applied, unknown setting kept, and entry ignored while reading. */
  readonly warnings: readonly ConfigWarning[];

  readonly #document: ConfigDocument;
  readonly #values = new Map<string, Effective>();
  /** What {@link EndpointConfig.get} answered, by the key as asked. */
  readonly #answered = new Map<string, unknown>();
  readonly #texts = new Map<string, SettingOccurrence[]>();
  /** Canonical keys of the table that the file sets (aliases resolved). */
  readonly #present = new Set<string>();

  /** Reads and validates a document. Prefer {@link parseConfig} or {@link EndpointConfig.defaults}. @internal */
  constructor(document: ConfigDocument) {
    this.#document = document;
    const warnings: ConfigWarning[] = [];
    this.connectivities = Object.freeze(readConnectivities(document.basic?.connectivities ?? [], warnings).map((c) => Object.freeze(c)));

    const grouped = new Map<string, { definition: SettingDefinition; occurrences: SettingOccurrence[] }>();
    for (const { key, node } of listSettings(document)) {
      const occurrence = { text: node.value, line: node.line };
      const texts = this.#texts.get(key) ?? [];
      texts.push(occurrence);
      this.#texts.set(key, texts);
      const resolved = resolveKey(key);
      if (!resolved) {
        warnings.push({
          kind: 'unknown-setting',
          key,
          given: node.value,
          used: undefined,
          line: node.line,
          message: `${key} is not a setting this SDK knows; it is kept as written`,
        });
        continue;
      }
      const group = grouped.get(resolved.key) ?? { definition: resolved.definition, occurrences: [] };
      group.occurrences.push(occurrence);
      grouped.set(resolved.key, group);
    }
    for (const [key, { definition, occurrences }] of grouped) {
      this.#present.add(key);
      this.#read(key, definition, occurrences, warnings);
    }

    this.#applyPortRange('policy.endpoint.rtp_port_min', 'policy.endpoint.rtp_port_max', 999, grouped, warnings);
    this.#applyPortRange('policy.endpoint.sip_port_min', 'policy.endpoint.sip_port_max', 6, grouped, warnings);
    this.#applyTcpRange(warnings);
    this.#applyConnector(grouped);
    this.codecs = Object.freeze(buildCodecList(this.#codecSources(), warnings).map((codec) => Object.freeze(codec)));
    this.warnings = Object.freeze(warnings.map((warning) => Object.freeze(warning)));
    // What the construction read while it settled the values (port ranges, the connector) is read again.
    this.#answered.clear();
  }

  /** A configuration with every setting at its default and no Connectivity. */
  static defaults(): EndpointConfig {
    return new EndpointConfig(emptyDocument());
  }

  /**
   * The typed effective value of a setting: the file's value, or the default, or the spec's
   * fallback. Colons may stand for dots. Throws `ERR_CONFIG_UNKNOWN_SETTING` for a key the table
   * does not know (use {@link EndpointConfig.raw} for those).
   */
  get<K extends SettingKey>(key: K): SettingValue<K> {
    // A configuration never changes (`with` makes another): each key is resolved once. Calls read
    // a dozen settings as they are made, and the resolution normalises the key and may try the
    // table's patterns.
    if (this.#answered.has(key)) return this.#answered.get(key) as SettingValue<K>;
    const normalized = normalizeKey(key);
    const resolved = resolveKey(normalized);
    if (!resolved) throw new ConfigError('ERR_CONFIG_UNKNOWN_SETTING', `${key} is not a setting this SDK knows`, { key });
    const effective = this.#values.get(resolved.key);
    const value = effective ? effective.value : defaultOf(resolved.definition);
    this.#answered.set(key, value);
    return value as SettingValue<K>;
  }

  /** True when the file (or an override) sets this key, known or not; a deprecated alias counts for its setting. */
  has(key: string): boolean {
    const normalized = normalizeKey(key);
    const resolved = resolveKey(normalized);
    return this.#texts.has(normalized) || (resolved !== undefined && this.#present.has(resolved.key));
  }

  /** The texts a key has in the file, in file order (any key, known or not); `undefined` when absent. */
  raw(key: string): readonly string[] | undefined {
    return this.#texts.get(normalizeKey(key))?.map((occurrence) => occurrence.text);
  }

  /** Every setting key present in the file, in file order, known or not. */
  keys(): string[] {
    return [...this.#texts.keys()];
  }

  /** The typed settings of one section (`policy.endpoint`, `proxies.proxy0.nat`, ...) as one object. */
  section<S extends SectionName>(name: S): SectionSettings<S> {
    const result: Record<string, unknown> = {};
    const proxy = /^proxies\.proxy(\d)/.exec(name)?.[1];
    for (const definition of allDefinitions()) {
      const key = proxy === undefined ? definition.key : definition.key.replace('proxy<n>', `proxy${proxy}`);
      if (key.includes('<') || !key.startsWith(`${name}.`)) continue;
      const settingName = key.slice(name.length + 1);
      if (settingName.includes('.')) continue;
      result[settingName] = this.get(key as SettingKey);
    }
    return result as SectionSettings<S>;
  }

  /**
   * A new configuration with overrides applied, as the Connector API's `options.sipendpoint` and
   * the dynamic-reconfiguration API send them: `domain.section[.subsection].setting` keys, and
   * `user:N`, `server:N`, `protocol:N` (or `transport:N`) for Connectivity line N. Colons and dots
   * are interchangeable. A `null` value removes the setting (back to its default); an array
   * replaces every value of a repeatable setting.
   */
  with(overrides: ConfigOverrides): EndpointConfig {
    validateOverrides(overrides);
    const document = cloneDocument(this.#document);
    for (const [rawKey, value] of Object.entries(overrides)) applyOverride(document, rawKey, value);
    return new EndpointConfig(document);
  }

  /** The file as Softphone.config XML (settings the SDK does not know included). */
  toXml(): string {
    return serializeDocument(this.#document);
  }

  /** The document this configuration was read from, without line numbers: equal for equal configurations. */
  document(): ConfigDocument {
    return documentSnapshot(this.#document);
  }

  /** True when both configurations hold the same document (line numbers aside). */
  equals(other: EndpointConfig): boolean {
    return isDeepStrictEqual(this.document(), other.document());
  }

  /**
   * Every effective value by key: all settings of the table, `proxies.proxyN.*` for each
   * Connectivity line and each proxy section present, and the codec settings present.
   * Matches {@link settingsJsonSchema}.
   */
  toObject(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const proxies = new Set<number>(this.connectivities.map((connectivity) => connectivity.index));
    for (const key of this.#texts.keys()) {
      const resolved = resolveKey(key);
      if (resolved?.proxy !== undefined) proxies.add(resolved.proxy);
    }
    for (const definition of allDefinitions()) {
      if (definition.key.includes('<codec>')) continue;
      if (definition.key.includes('<n>')) {
        for (const index of [...proxies].sort()) {
          const key = definition.key.replace('proxy<n>', `proxy${index}`);
          result[key] = this.get(key as SettingKey);
        }
      } else {
        result[definition.key] = this.get(definition.key as SettingKey);
      }
    }
    for (const key of this.#texts.keys()) {
      const resolved = resolveKey(key);
      if (resolved?.codec !== undefined) result[resolved.key] = this.get(resolved.key as SettingKey);
    }
    return result;
  }

  /** Same as {@link EndpointConfig.toObject}, so that `JSON.stringify(config)` shows the effective settings. */
  toJSON(): Record<string, unknown> {
    return this.toObject();
  }

  #read(key: string, definition: SettingDefinition, occurrences: SettingOccurrence[], warnings: ConfigWarning[]): void {
    const fallbackTo = (occurrence: SettingOccurrence, reason: string): Effective | undefined => {
      const rule = definition.onInvalid;
      if (rule === 'error') {
        throw new ConfigError('ERR_CONFIG_INVALID_SETTING', `${key}: ${reason}`, { key, line: occurrence.line });
      }
      if (definition.default === undefined) return undefined; // derived: the range rule decides and reports
      const used = rule === 'default' ? (definition.repeatable ? undefined : (definition.default as string)) : rule.fallback;
      let value: unknown;
      if (used === undefined) value = undefined;
      else {
        const parsed = definition.type.parse(used);
        if (!parsed.ok) throw new Error(`settings table: fallback of ${definition.key} does not parse`);
        value = deepFreeze(parsed.value);
      }
      warnings.push({
        kind: 'fallback',
        key,
        given: occurrence.text,
        used,
        line: occurrence.line,
        message: used === undefined ? `${key}: ${reason}; the value is ignored` : `${key}: ${reason}; ${used === '' ? 'empty' : used} is used`,
      });
      return { value, origin: 'fallback' };
    };
    const note = (occurrence: SettingOccurrence, notes: readonly string[] | undefined): void => {
      for (const message of notes ?? []) {
        warnings.push({ kind: 'ignored', key, given: occurrence.text, used: undefined, line: occurrence.line, message: `${key}: ${message}` });
      }
    };

    if (definition.repeatable) {
      const values: unknown[] = [];
      for (const occurrence of occurrences) {
        const parsed = definition.type.parse(occurrence.text);
        if (parsed.ok) {
          values.push(parsed.value);
          note(occurrence, parsed.notes);
        } else fallbackTo(occurrence, parsed.reason);
      }
      this.#values.set(key, { value: deepFreeze(values), origin: 'file' });
      return;
    }

    const last = occurrences[occurrences.length - 1];
    if (!last) return;
    for (const earlier of occurrences.slice(0, -1)) {
      warnings.push({ kind: 'ignored', key, given: earlier.text, used: last.text, line: earlier.line, message: `${key} is set more than once; the last value (line ${last.line ?? '?'}) is used` });
    }
    if (last.text.trim() === '' && !definition.type.emptyIsValue) {
      // An empty number or flag means "not set": the default applies, silently.
      if (definition.default !== undefined) this.#values.set(key, { value: defaultOf(definition), origin: 'default' });
      return;
    }
    const parsed = definition.type.parse(last.text);
    if (parsed.ok) {
      note(last, parsed.notes);
      this.#values.set(key, { value: deepFreeze(parsed.value), origin: 'file' });
      return;
    }
    const fallback = fallbackTo(last, parsed.reason);
    if (fallback) this.#values.set(key, fallback);
  }

  #applyPortRange(
    minKey: string,
    maxKey: string,
    span: number,
    grouped: ReadonlyMap<string, { occurrences: SettingOccurrence[] }>,
    warnings: ConfigWarning[],
  ): void {
    const min = this.get(minKey as SettingKey) as number;
    const maxEffective = this.#values.get(maxKey);
    const maxOccurrence = grouped.get(maxKey)?.occurrences.at(-1);
    let max: number;
    if (maxEffective) {
      max = maxEffective.value as number;
    } else {
      max = Math.min(min + span, 65535);
      if (maxOccurrence && maxOccurrence.text.trim() !== '') {
        warnings.push({
          kind: 'fallback',
          key: maxKey,
          given: maxOccurrence.text,
          used: String(max),
          line: maxOccurrence.line,
          message: `${maxKey}: "${maxOccurrence.text}" is not a port from 1 to 65535; ${minKey.split('.').pop() ?? ''} + ${span} = ${max} is used`,
        });
      }
      this.#values.set(maxKey, { value: max, origin: maxOccurrence ? 'fallback' : 'default' });
    }
    if (min > max) {
      const minOccurrence = grouped.get(minKey)?.occurrences.at(-1);
      const line = maxEffective ? maxOccurrence?.line : minOccurrence?.line;
      throw new ConfigError('ERR_CONFIG_INVALID_RANGE', `${minKey} (${min}) is above ${maxKey} (${max}); the endpoint cannot initialise`, {
        key: maxEffective ? maxKey : minKey,
        line,
      });
    }
  }

  #applyTcpRange(warnings: ConfigWarning[]): void {
    const minKey = 'policy.endpoint.tcp_port_min';
    const maxKey = 'policy.endpoint.tcp_port_max';
    const min = this.get(minKey);
    const max = this.get(maxKey);
    if (min === 0 && max === 0) return;
    if (min >= 1 && max > min) return;
    const line = this.#texts.get(maxKey)?.at(-1)?.line ?? this.#texts.get(minKey)?.at(-1)?.line;
    warnings.push({
      kind: 'fallback',
      key: `${minKey},${maxKey}`,
      given: `${min}-${max}`,
      used: '0-0',
      line,
      message: `tcp_port_min ${min} and tcp_port_max ${max} are not a valid range (both non-zero, max above min); ephemeral ports are used`,
    });
    this.#values.set(minKey, { value: 0, origin: 'fallback' });
    this.#values.set(maxKey, { value: 0, origin: 'fallback' });
  }

  #applyConnector(grouped: ReadonlyMap<string, { occurrences: SettingOccurrence[] }>): void {
    const port = this.get('policy.connector.port');
    const protocol = this.get('policy.connector.protocol');
    if (protocol !== '' && port === null) {
      throw new ConfigError('ERR_CONFIG_INVALID_SETTING', `policy.connector.protocol is ${protocol} but policy.connector.port is empty`, {
        key: 'policy.connector.port',
        line: grouped.get('policy.connector.protocol')?.occurrences.at(-1)?.line,
      });
    }
    if (protocol === '' && port !== null) this.#values.set('policy.connector.protocol', { value: 'http', origin: 'default' });
  }

  #codecSources(): CodecSources {
    const enabledAudio = this.get('codecs.enabled.audio');
    const enabledVideo = this.get('codecs.enabled.video');
    const priorities: CodecSources['priorities'][number][] = [];
    const parameters = new Map<string, { name: string; payloadType: number | undefined; fmtp: string }>();
    for (const key of this.#texts.keys()) {
      const resolved = resolveKey(key);
      if (resolved?.codec === undefined) continue;
      if (resolved.definition.key === 'policy.codecs.<codec>') {
        const priority = this.get(resolved.key as SettingKey) as number | undefined;
        if (priority !== undefined) priorities.push({ name: resolved.codec, priority, line: this.#texts.get(key)?.at(-1)?.line });
      } else if (!parameters.has(resolved.codec)) {
        parameters.set(resolved.codec, {
          name: resolved.codec,
          payloadType: this.get(`codecs.${resolved.codec}.payload_type`),
          fmtp: this.get(`codecs.${resolved.codec}.fmtp`),
        });
      }
    }
    return {
      enabledAudio: enabledAudio.length > 0 ? { names: enabledAudio, line: this.#texts.get('codecs.enabled.audio')?.at(-1)?.line } : undefined,
      enabledVideo: enabledVideo.length > 0 ? enabledVideo : undefined,
      priorities,
      parameters: [...parameters.values()],
    };
  }
}

const CONNECTIVITY_KEY = /^(user|server|protocol|transport)\.(\d+)$/;

/** Writes an override value as the file writes it (`validateOverrides` has checked the types). */
function overrideText(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  return String(value);
}

function applyOverride(document: ConfigDocument, rawKey: string, value: ConfigOverrides[string]): void {
  const key = normalizeKey(rawKey);
  const connectivity = CONNECTIVITY_KEY.exec(key);
  if (connectivity) {
    const attribute = connectivity[1] === 'transport' ? 'protocol' : (connectivity[1] ?? '');
    const index = Number.parseInt(connectivity[2] ?? '', 10);
    if (index >= MAX_CONNECTIVITIES) {
      throw new ConfigError('ERR_CONFIG_INVALID_OVERRIDE', `${rawKey}: an endpoint has at most ${MAX_CONNECTIVITIES} connections (0 to ${MAX_CONNECTIVITIES - 1})`, { key: rawKey });
    }
    if (Array.isArray(value)) throw new ConfigError('ERR_CONFIG_INVALID_OVERRIDE', `${rawKey} takes one value, not a list`, { key: rawKey });
    document.basic ??= { attributes: { name: 'Basic' }, connectivities: [], others: [] };
    const lines = document.basic.connectivities;
    if (index > lines.length) {
      throw new ConfigError('ERR_CONFIG_INVALID_OVERRIDE', `${rawKey}: Connectivity ${index} cannot be set before Connectivity ${lines.length}`, { key: rawKey });
    }
    const line = lines[index] ?? { attributes: {} };
    if (index === lines.length) lines.push(line);
    delete line.line;
    const name = attribute === 'protocol' && 'transport' in line.attributes && !('protocol' in line.attributes) ? 'transport' : attribute;
    if (value === null) delete line.attributes[name];
    else line.attributes[name] = overrideText(value as string | number | boolean);
    return;
  }

  const parts = key.split('.').map((part) => part.trim());
  if (parts.length < 3 || parts.some((part) => part === '')) {
    throw new ConfigError('ERR_CONFIG_INVALID_OVERRIDE', `${rawKey} is not domain.section.setting nor user:N, server:N, protocol:N`, { key: rawKey });
  }
  const settingName = parts[parts.length - 1] ?? '';
  const path = parts.slice(0, -1);
  document.genesys ??= { attributes: { name: 'Genesys' }, wrapper: { name: 'settings', attributes: {} }, children: [] };
  let children: ConfigNode[] = document.genesys.children;
  for (const [depth, name] of path.entries()) {
    let section = children.find((node): node is SectionNode => node.kind === 'section' && node.name === name);
    if (!section) {
      if (value === null) return; // nothing to remove
      section = { kind: 'section', element: depth === 0 ? 'domain' : 'section', name, attributes: {}, children: [] };
      children.push(section);
    }
    children = section.children;
  }
  const resolved = resolveKey(key);
  const names = new Set([settingName, ...(resolved?.definition.aliases ?? [])]);
  const existing = children.filter((node) => node.kind === 'setting' && names.has(node.name));
  const texts = value === null ? [] : Array.isArray(value) ? value.map((item) => overrideText(item)) : [overrideText(value as string | number | boolean)];
  if (Array.isArray(value) && resolved && !resolved.definition.repeatable) {
    throw new ConfigError('ERR_CONFIG_INVALID_OVERRIDE', `${rawKey} is not repeatable and takes one value, not a list`, { key: rawKey });
  }
  const firstIndex = existing.length > 0 ? children.indexOf(existing[0] as ConfigNode) : children.length;
  const kept = children.filter((node) => !existing.includes(node));
  const replacements: ConfigNode[] = texts.map((text) => ({
    kind: 'setting',
    name: existing[0]?.kind === 'setting' ? existing[0].name : settingName,
    value: text,
    attributes: existing[0]?.kind === 'setting' ? { ...existing[0].attributes } : {},
  }));
  // The first existing occurrence marks where the new values go; nothing of `existing` precedes it.
  children.splice(0, children.length, ...kept.slice(0, firstIndex), ...replacements, ...kept.slice(firstIndex));
}
