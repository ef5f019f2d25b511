import type { SettingDefinition } from './setting-definition';
import { allDefinitions } from './setting-key';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function defaultCell(definition: SettingDefinition): string {
  if (definition.defaultText !== undefined) return definition.defaultText;
  if (definition.repeatable) {
    const texts = definition.default as readonly string[];
    return texts.length === 0 ? '(none)' : texts.map((text) => `\`${text}\``).join(', ');
  }
  const text = definition.default as string | undefined;
  return text === undefined || text === '' ? '(empty)' : `\`${text}\``;
}

function appliedCell(definition: SettingDefinition): string {
  const applied = definition.applied;
  if (applied === 'yes') return 'yes';
  if (applied === 'no') return '**not yet**';
  return `partly: ${applied.partly}`;
}

function fallbackCell(definition: SettingDefinition): string {
  const rule = definition.onInvalid;
  if (rule === 'error') return 'error `ERR_CONFIG_INVALID_SETTING`';
  if (rule === 'default') return definition.default === undefined ? 'derived default, warning' : 'default, warning';
  return `\`${rule.fallback}\`, warning`;
}

const SECTION_TITLES: Record<string, string> = {
  'policy.endpoint': 'policy.endpoint',
  'policy.session': 'policy.session',
  'policy.device': 'policy.device',
  'policy.connector': 'policy.connector',
  'policy.codecs': 'policy.codecs',
  codecs: 'codecs',
  'proxies.proxy<n>': 'proxies.proxyN (N = 0 to 5, one per Connectivity line)',
  'proxies.proxy<n>.nat': 'proxies.proxyN.nat',
  'proxies.proxy<n>.mailbox': 'proxies.proxyN.mailbox',
  'system.diagnostics': 'system.diagnostics',
  'system.security': 'system.security',
  'system.media': 'system.media',
};

function sectionOf(key: string): string {
  if (key.startsWith('codecs.')) return 'codecs';
  return key.slice(0, key.lastIndexOf('.'));
}

/**
 * The settings reference in Markdown, generated from the settings table: the text of
 * `docs/configuration.md`.
 *
 * @public
 */
export function renderSettingsReference(): string {
  const definitions = allDefinitions();
  const count = (test: (definition: SettingDefinition) => boolean): number => definitions.filter(test).length;
  const applied = count((definition) => definition.applied === 'yes');
  const notYet = count((definition) => definition.applied === 'no');
  const partly = definitions.length - applied - notYet;
  const lines: string[] = [
    '# Softphone.config reference',
    '',
    '<!-- Generated from packages/config/src/settings-table.ts by `npm run docs:config`. Do not edit by hand. -->',
    '',
    'Every setting `@sip-endpoint/config` reads, by `domain.section.setting` key. `config.get(key)` returns the typed effective value: the file\'s value, else the default. An invalid value is replaced as the *If invalid* column says and reported in `config.warnings` (key, value given, value used, line); a value with no safe replacement throws a `ConfigError`. Settings the table does not know are kept, written back by `serializeConfig`, and reported as `unknown-setting` warnings.',
    '',
    'Origin *spec* is the Genesys Softphone configuration reference; *deployment* marks settings that real deployments send whose rules are this SDK\'s choice.',
    '',
    `*Applied* says whether the SDK acts on a setting yet: *yes*; *partly*, followed by what is applied and what is not; or **not yet**: the value is read, validated, reported and written back, but no code of the SDK uses it, whatever its description says it does. Of the ${definitions.length} rows, ${applied} are applied, ${partly} partly and ${notYet} not yet.`,
    '',
    '## Basic container',
    '',
    'Up to six `<Connectivity user="DN" server="HOST[:PORT]" protocol="UDP|TCP|TLS"/>` elements, one registration each (`WS` and `WSS` are accepted too, and `HTTPS`, the WebRTC connectivity: SIP over secure WebSocket to a WebRTC gateway, its calls on libwebrtc; `transport` is a synonym of `protocol`; missing protocol is UDP). Over `WS`, `WSS` and `HTTPS` the server may be a URL (`wss://host:port/path`, `https://gateway.example.com/webrtc`; a scheme that does not fit the protocol is refused) or `host[:port]/path`; `HTTPS` defaults to port 443 and is not looked up as SRV. A server without a port is looked up as SRV (`_sip._udp`, `_sip._tcp`, `_sips._tcp`), weight ignored, at most 20 targets. A line with neither user nor server is ignored with a warning; a line with one but not the other, a bad server or an unknown protocol is `ERR_CONFIG_INVALID_CONNECTIVITY`. Overrides address them as `user:N`, `server:N`, `protocol:N` (or `transport:N`), N from 0.',
    '',
    '## Codecs',
    '',
    'Two layouts give one ordered list (`config.codecs`): `codecs.enabled.audio` (names in priority order, first preferred; per-codec sections `codecs.<codec>` carry `payload_type` and `fmtp`), or else `policy.codecs` settings `NAME/RATE = priority` (1 to 127, unique, the higher the earlier). Names are matched case-insensitively in any common spelling (`pcmu`, `PCMU/8000`, `G722`, `opus/48000/2`). Without either, the list is PCMU/8000, PCMA/8000, G722/16000, opus/48000/2. Video codecs are ignored with a warning; unknown names are kept for the media engine to judge and warned about; a repeated priority is `ERR_CONFIG_DUPLICATE_CODEC_PRIORITY`.',
  ];
  let current = '';
  for (const definition of definitions) {
    const section = sectionOf(definition.key);
    if (section !== current) {
      current = section;
      lines.push('', `## ${SECTION_TITLES[section] ?? section}`, '', '| Setting | Type | Valid values | Default | If invalid | Origin | Description | Applied |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
    }
    const name = definition.key.slice(section.length + 1);
    const aliases = definition.aliases?.length ? ` (also ${definition.aliases.map((alias) => `\`${alias}\``).join(', ')})` : '';
    const type = definition.type.label + (definition.repeatable ? ', repeatable' : '');
    lines.push(
      `| \`${name}\`${aliases} | ${cell(type)} | ${cell(definition.type.values)} | ${cell(defaultCell(definition))} | ${cell(fallbackCell(definition))} | ${definition.origin} | ${cell(definition.namesFile ? `${definition.description} Names a file on this computer: the Connector API's \`POST /session\` cannot override it (403).` : definition.description)} | ${cell(appliedCell(definition))} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}
