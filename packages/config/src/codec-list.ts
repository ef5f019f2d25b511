import { lookupCodec, type CodecName } from './codec-catalogue';
import { ConfigError, type ConfigWarning } from './errors';

/**
 * One codec of the configured, ordered codec list.
 *
 * @public
 */
export interface ConfiguredCodec {
  /** Canonical `NAME/RATE[/CHANNELS]` for a codec the SDK knows; the name as written otherwise. */
  name: string;
  /** What the catalogue knows of it; `undefined` for a name the SDK does not know. */
  codec: CodecName | undefined;
  /** Payload type from `codecs.<codec>.payload_type`, if set. */
  payloadType: number | undefined;
  /** Format parameters from `codecs.<codec>.fmtp` (empty when none). */
  fmtp: string;
  /** `policy.codecs` priority, when the list came from there. */
  priority: number | undefined;
}

/** Inputs of {@link buildCodecList}, gathered from the settings. */
export interface CodecSources {
  /** `codecs.enabled.audio`, when set and not empty. */
  enabledAudio: { names: readonly string[]; line: number | undefined } | undefined;
  /** `codecs.enabled.video`, when set and not empty. */
  enabledVideo: readonly string[] | undefined;
  /** Valid `policy.codecs.<codec>` entries, in file order. */
  priorities: readonly { name: string; priority: number; line: number | undefined }[];
  /** `codecs.<codec>` sections: payload type and fmtp by section name. */
  parameters: readonly { name: string; payloadType: number | undefined; fmtp: string }[];
}

/** The codec list used when the configuration names none. @public */
export const DEFAULT_CODECS: readonly string[] = ['PCMU/8000', 'PCMA/8000', 'G722/16000', 'opus/48000/2'];

function canonical(name: string): string {
  return lookupCodec(name)?.name ?? name.trim();
}

/**
 * Normalises both codec layouts into one ordered list: `codecs.enabled.audio` (first is preferred)
 * wins; otherwise `policy.codecs` priorities (1 to 127, unique, higher first); otherwise
 * {@link DEFAULT_CODECS}. Video codecs are noted and left out.
 */
export function buildCodecList(sources: CodecSources, warnings: ConfigWarning[]): ConfiguredCodec[] {
  const parameters = new Map<string, { payloadType: number | undefined; fmtp: string }>();
  for (const entry of sources.parameters) parameters.set(canonical(entry.name).toLowerCase(), entry);

  let ordered: { name: string; priority: number | undefined; line: number | undefined; key: string }[];
  if (sources.enabledAudio) {
    const { names, line } = sources.enabledAudio;
    ordered = names.map((name) => ({ name, priority: undefined, line, key: 'codecs.enabled.audio' }));
    if (sources.priorities.length > 0) {
      warnings.push({
        kind: 'ignored',
        key: 'policy.codecs',
        given: sources.priorities.map((entry) => `${entry.name}=${entry.priority}`).join(','),
        used: undefined,
        // Stryker disable next-line OptionalChaining: the warning is made only when there are priorities.
        line: sources.priorities[0]?.line,
        message: 'policy.codecs is ignored because codecs.enabled.audio is set',
      });
    }
  } else if (sources.priorities.length > 0) {
    const byPriority = new Map<number, { name: string; line: number | undefined }>();
    for (const entry of sources.priorities) {
      const other = byPriority.get(entry.priority);
      if (other) {
        throw new ConfigError(
          'ERR_CONFIG_DUPLICATE_CODEC_PRIORITY',
          `codecs ${other.name} and ${entry.name} both have priority ${entry.priority}; priorities must be unique`,
          { key: `policy.codecs.${entry.name}`, line: entry.line },
        );
      }
      byPriority.set(entry.priority, entry);
    }
    ordered = [...sources.priorities]
      .sort((a, b) => b.priority - a.priority)
      .map((entry) => ({ name: entry.name, priority: entry.priority, line: entry.line, key: `policy.codecs.${entry.name}` }));
  } else {
    // Stryker disable next-line StringLiteral: the key shows only in warnings, and the default codecs are all known and listed once.
    ordered = DEFAULT_CODECS.map((name) => ({ name, priority: undefined, line: undefined, key: 'codecs.enabled.audio' }));
  }

  if (sources.enabledVideo && sources.enabledVideo.length > 0) {
    warnings.push({
      kind: 'ignored',
      key: 'codecs.enabled.video',
      given: sources.enabledVideo.join(','),
      used: undefined,
      line: undefined,
      message: 'video codecs are ignored: this SDK carries audio only',
    });
  }

  const list: ConfiguredCodec[] = [];
  const seen = new Set<string>();
  for (const entry of ordered) {
    const codec = lookupCodec(entry.name);
    const name = codec?.name ?? entry.name.trim();
    if (codec?.kind === 'video') {
      warnings.push({ kind: 'ignored', key: entry.key, given: entry.name, used: undefined, line: entry.line, message: `video codec ${name} is ignored: this SDK carries audio only` });
      continue;
    }
    if (seen.has(name.toLowerCase())) {
      warnings.push({ kind: 'ignored', key: entry.key, given: entry.name, used: undefined, line: entry.line, message: `codec ${name} is listed twice; the later entry is ignored` });
      continue;
    }
    seen.add(name.toLowerCase());
    if (!codec) {
      warnings.push({ kind: 'unknown-setting', key: entry.key, given: entry.name, used: entry.name, line: entry.line, message: `codec "${entry.name}" is not known to this SDK; it is kept in the list for the media engine to judge` });
    }
    const parameter = parameters.get(name.toLowerCase());
    list.push({ name, codec, payloadType: parameter?.payloadType, fmtp: parameter?.fmtp ?? '', priority: entry.priority });
  }
  return list;
}
