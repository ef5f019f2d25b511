import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ts from 'typescript';
import { SETTINGS, type SettingDefinition } from '@sip-endpoint/config';

/*
 * The table's `applied` column, checked against the code of the other packages.
 *
 * The rule: a setting is read when code outside `@sip-endpoint/config` (the `src/**\/*.ts` files of
 * every package except config and the private test-support) passes its key to a `.get()` call
 * as a string or template literal: `config.get('policy.endpoint.rtp_port_min')`,
 * `config.get(`${proxy}.reg_timeout`)`. The files are parsed with the TypeScript compiler, so
 * comments, log messages and the keys given to `config.with({...})` (writes) do not count.
 * A literal key matches as `config.get()` takes it: `proxy0` to `proxy5` for `proxy<n>`, any
 * name for `<codec>`, an alias for its setting, colons for dots. A template key matches when its
 * fixed parts match the key and the part after its last `${...}` spells out everything after
 * the key's last placeholder (`.mailbox.password`), or the whole setting name for a key without
 * placeholder: so `${proxy}.password` reads `proxies.proxy<n>.password` and not
 * `proxies.proxy<n>.mailbox.password`, and `${prefix}_max` reads nothing.
 *
 * A few settings config reads itself, behind an API the other packages use ({@link CARRIERS}):
 * the codec settings become `config.codecs`, `public_address` and `ip_versions` are resolved by
 * `resolvePublicAddress()`. They count as read when another package uses that API and config's
 * file behind it reads or names the key.
 *
 * Both directions are strict: a setting marked `yes` or `partly` must be read, one marked `no`
 * must not be, except those in {@link READ_BUT_NOT_APPLIED}, read for a reason that is not
 * applying them (each entry must still be read, so the list cannot go stale either).
 */

const root = join(__dirname, '..', '..', '..');
const rows = SETTINGS as readonly SettingDefinition[];

/** What one source file does with settings. */
interface SourceFacts {
  readonly file: string;
  /** The literal keys given to `.get()`: the fixed parts, split where a template has `${...}`. */
  readonly reads: readonly (readonly string[])[];
  /** Every string literal, for the config files behind a carrier. */
  readonly literals: ReadonlySet<string>;
  /** Property reads by their last two names (`ctx.config.codecs` is `config.codecs`; `#` dropped). */
  readonly accesses: ReadonlySet<string>;
  /** Names of the functions called directly (`resolvePublicAddress(...)`). */
  readonly calls: ReadonlySet<string>;
}

function literalParts(node: ts.Node): string[] | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isTemplateExpression(node)) return [node.head.text, ...node.templateSpans.map((span) => span.literal.text)];
  return undefined;
}

function lastName(node: ts.Expression): string {
  if (ts.isIdentifier(node)) return node.text;
  if (ts.isPropertyAccessExpression(node)) return node.name.text.replace(/^#/, '');
  if (node.kind === ts.SyntaxKind.ThisKeyword) return 'this';
  return '';
}

function factsOf(file: string, text: string): SourceFacts {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const reads: string[][] = [];
  const literals = new Set<string>();
  const accesses = new Set<string>();
  const calls = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) literals.add(node.text);
    if (ts.isPropertyAccessExpression(node)) accesses.add(`${lastName(node.expression)}.${node.name.text.replace(/^#/, '')}`);
    if (ts.isCallExpression(node)) {
      if (ts.isIdentifier(node.expression)) calls.add(node.expression.text);
      const first = node.arguments[0];
      const parts = first && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'get' ? literalParts(first) : undefined;
      if (parts) reads.push(parts.map((part) => part.trim().replace(/:/g, '.')));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { file, reads, literals, accesses, calls };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The spellings of a row's key: the key and its aliases, placeholders kept. */
function spellings(row: SettingDefinition): string[] {
  return [row.key, ...(row.aliases ?? []).map((alias) => row.key.replace(/[^.]+$/, alias))];
}

/** Whether the fixed parts of a `.get()` argument read a spelling of a table key (the rule above). */
function partsRead(parts: readonly string[], spelling: string): boolean {
  if (parts.length === 1) {
    const pattern = escape(spelling).replace(escape('<n>'), '[0-5]').replace(escape('<codec>'), '[^.]+');
    return new RegExp(`^${pattern}$`).test(parts[0] ?? '');
  }
  const placeholder = Math.max(spelling.lastIndexOf('<n>') + 3, spelling.lastIndexOf('<codec>') + 7);
  const fixedEnd = placeholder > 6 ? spelling.slice(placeholder) : spelling.slice(spelling.lastIndexOf('.'));
  if (!(parts.at(-1) ?? '').endsWith(fixedEnd)) return false;
  const template = new RegExp(`^${parts.map(escape).join('(.*)')}$`);
  const samples = ['0', '1', '2', '3', '4', '5'].map((n) => spelling.replace('<n>', n).replace('<codec>', 'PCMU'));
  return samples.some((sample) => template.test(sample));
}

/** Whether these facts read the row's key directly. */
function readsDirectly(facts: SourceFacts, row: SettingDefinition): boolean {
  return facts.reads.some((parts) => spellings(row).some((spelling) => partsRead(parts, spelling)));
}

/** An API of config that reads settings on behalf of the other packages. */
interface Carrier {
  /** How the other packages reach it. */
  readonly api: string;
  /** The table keys it reads. */
  readonly keys: readonly string[];
  /** Whether a file of another package uses it. */
  readonly usedBy: (facts: SourceFacts) => boolean;
  /** The file of config's `src/` that reads the settings for it. */
  readonly readIn: string;
}

const CARRIERS: readonly Carrier[] = [
  {
    api: 'config.codecs',
    keys: ['policy.codecs.<codec>', 'codecs.enabled.audio', 'codecs.<codec>.payload_type', 'codecs.<codec>.fmtp'],
    usedBy: (facts) => facts.accesses.has('config.codecs'),
    readIn: 'endpoint-config.ts',
  },
  {
    api: 'resolvePublicAddress()',
    keys: ['policy.endpoint.public_address', 'policy.endpoint.ip_versions'],
    usedBy: (facts) => facts.calls.has('resolvePublicAddress'),
    readIn: 'public-address.ts',
  },
];

/** Settings marked `no` that code reads for another purpose than applying them. */
const READ_BUT_NOT_APPLIED: Readonly<Record<string, string>> = {
  'policy.connector.certificate_search_value': 'the connector names it in the error that refuses https without policy.connector.certificate',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .map((name) => join(dir, name));
}

function factsOfFiles(files: readonly string[]): SourceFacts[] {
  return files.map((file) => factsOf(relative(root, file), readFileSync(file, 'utf8')));
}

const outsidePackages = readdirSync(join(root, 'packages')).filter((name) => name !== 'config' && name !== 'test-support');
const outside = factsOfFiles(outsidePackages.flatMap((name) => sourceFiles(join(root, 'packages', name, 'src'))));
const configFacts = new Map(factsOfFiles(sourceFiles(join(root, 'packages', 'config', 'src'))).map((facts) => [facts.file.split('/').pop() ?? '', facts]));

/** Where the row's key is read outside config: files, or `api (file)` for a carried key. */
function evidence(row: SettingDefinition): string[] {
  const found = outside.filter((facts) => readsDirectly(facts, row)).map((facts) => facts.file);
  for (const carrier of CARRIERS.filter((candidate) => candidate.keys.includes(row.key))) {
    const behind = configFacts.get(carrier.readIn);
    const readBehind = behind !== undefined && (readsDirectly(behind, row) || behind.literals.has(row.key));
    if (readBehind) found.push(...outside.filter(carrier.usedBy).map((facts) => `${carrier.api} (${facts.file})`));
  }
  return found;
}

describe('the rule that finds where a setting is read', () => {
  const row = (key: string): SettingDefinition => rows.find((candidate) => candidate.key === key) as SettingDefinition;
  const reads = (code: string, key: string): boolean => readsDirectly(factsOf('sample.ts', code), row(key));

  it('finds a literal key given to get(), with any proxy index, an alias or colons', () => {
    expect(reads("config.get('policy.endpoint.rtp_port_min')", 'policy.endpoint.rtp_port_min')).toBe(true);
    expect(reads("config.get('proxies.proxy3.reg_timeout')", 'proxies.proxy<n>.reg_timeout')).toBe(true);
    expect(reads("config.get('proxies.proxy0.reg_match_received_number')", 'proxies.proxy<n>.reg_match_received_rport')).toBe(true);
    expect(reads("config.get('policy:session:auto_answer')", 'policy.session.auto_answer')).toBe(true);
  });

  it('finds a template key whose last fixed part spells out the setting', () => {
    expect(reads('config.get(`${proxy}.password`)', 'proxies.proxy<n>.password')).toBe(true);
    expect(reads('config.get(`proxies.proxy${index}.reg_interval`)', 'proxies.proxy<n>.reg_interval')).toBe(true);
    expect(reads('config.get(`codecs.${name}.fmtp`)', 'codecs.<codec>.fmtp')).toBe(true);
  });

  it('does not take one setting for another, nor count comments, messages or writes', () => {
    expect(reads('config.get(`${proxy}.password`)', 'proxies.proxy<n>.mailbox.password')).toBe(false);
    expect(reads('config.get(`${proxy}.mailbox.password`)', 'proxies.proxy<n>.password')).toBe(false);
    expect(reads('config.get(`${prefix}_max`)', 'policy.endpoint.rtp_port_max')).toBe(false);
    expect(reads("// config.get('policy.session.agc_mode')", 'policy.session.agc_mode')).toBe(false);
    expect(reads("log('policy.session.agc_mode is 1')", 'policy.session.agc_mode')).toBe(false);
    expect(reads("config.with({ 'policy.session.agc_mode': '1' })", 'policy.session.agc_mode')).toBe(false);
  });

  it('looks at the source of every other package', () => {
    expect(outsidePackages).toEqual(expect.arrayContaining(['policy', 'media', 'endpoint-core', 'softphone', 'connector-client']));
    expect(outside.filter((facts) => facts.reads.length > 0).length).toBeGreaterThan(5);
  });
});

describe('the applied column of the settings table', () => {
  it("every setting marked 'yes' or partly is read by code outside the config package", () => {
    const unread = rows.filter((row) => row.applied !== 'no' && evidence(row).length === 0).map((row) => `${row.key} is marked ${row.applied === 'yes' ? "'yes'" : 'partly'} but no other package reads it`);
    expect(unread).toEqual([]);
  });

  it("no setting marked 'no' is read by code outside the config package (but those read for another purpose)", () => {
    const read = rows
      .filter((row) => row.applied === 'no' && READ_BUT_NOT_APPLIED[row.key] === undefined)
      .flatMap((row) => evidence(row).map((where) => `${row.key} is marked 'no' but ${where} reads it`));
    expect(read).toEqual([]);
  });

  it('lists as read for another purpose only settings marked no that are still read', () => {
    const stale = Object.keys(READ_BUT_NOT_APPLIED).filter((key) => {
      const row = rows.find((candidate) => candidate.key === key);
      return row?.applied !== 'no' || evidence(row).length === 0;
    });
    expect(stale).toEqual([]);
  });

  it('carries only keys of the table, read behind the API by config itself', () => {
    for (const carrier of CARRIERS) {
      expect(configFacts.has(carrier.readIn)).toBe(true);
      for (const key of carrier.keys) expect(rows.map((row) => row.key)).toContain(key);
    }
  });

  it('says, for a setting applied partly, what is and is not applied', () => {
    for (const row of rows) {
      if (typeof row.applied === 'object') expect(row.applied.partly.length).toBeGreaterThan(40);
    }
  });
});
