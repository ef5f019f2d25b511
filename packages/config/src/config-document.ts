/** Attributes of an XML element, by name, values decoded. @public */
export type XmlAttributes = Record<string, string>;

/** A `<setting name value/>` element. @public */
export interface SettingNode {
  kind: 'setting';
  name: string;
  value: string;
  /** Attributes other than `name` and `value`, kept for the round trip. */
  attributes: XmlAttributes;
  /** 1-based line in the file; absent for settings set by an override. */
  line?: number;
}

/** A `<domain>` or `<section>` element. @public */
export interface SectionNode {
  kind: 'section';
  /** `domain` for the first level of the Genesys container, `section` below. */
  element: 'domain' | 'section';
  name: string;
  /** Attributes other than `name`. */
  attributes: XmlAttributes;
  children: ConfigNode[];
  line?: number;
}

/** An element the layout does not know, kept as it was read so that it is written back. @public */
export interface OpaqueNode {
  kind: 'opaque';
  /** The element in fast-xml-parser's ordered form. */
  element: unknown;
}

/** @public */
export type ConfigNode = SettingNode | SectionNode | OpaqueNode;

/** A `<Connectivity>` element. @public */
export interface ConnectivityNode {
  attributes: XmlAttributes;
  line?: number;
}

/** An element's name and attributes. @public */
export interface ElementShape {
  name: string;
  attributes: XmlAttributes;
}

/**
 * The Softphone.config file as read: enough to rebuild the same file, including what the SDK
 * does not know. Comments are not kept.
 *
 * @public
 */
export interface ConfigDocument {
  /** The root element (e.g. `SipEndpoint` with its `xmlns`). */
  root: ElementShape;
  /** `<Container name="Basic">`; `null` when the file has none. */
  basic: { attributes: XmlAttributes; connectivities: ConnectivityNode[]; others: OpaqueNode[] } | null;
  /** `<Container name="Genesys">`; `null` when the file has none. */
  genesys: {
    attributes: XmlAttributes;
    /** The `<settings>` element that wraps the domains, if the file has one. */
    wrapper: ElementShape | null;
    /** Domains (and anything else) inside. */
    children: ConfigNode[];
  } | null;
  /** Other children of the root element. */
  others: OpaqueNode[];
}

/** A document with no settings and no connectivity, in the usual namespaced layout. */
export function emptyDocument(): ConfigDocument {
  return {
    root: { name: 'SipEndpoint', attributes: { xmlns: 'http://schemas.genesyslab.com/2009/sipendpoint' } },
    basic: { attributes: { name: 'Basic' }, connectivities: [], others: [] },
    genesys: {
      attributes: { name: 'Genesys' },
      wrapper: { name: 'settings', attributes: { version: '1.0', xmlns: 'http://www.genesyslab.com/sip' } },
      children: [],
    },
    others: [],
  };
}

/** A deep copy (opaque elements included). */
export function cloneDocument(document: ConfigDocument): ConfigDocument {
  return structuredClone(document);
}

/** A copy without line numbers: what two documents must share to be equal. */
export function documentSnapshot(document: ConfigDocument): ConfigDocument {
  return JSON.parse(
    JSON.stringify(document, (key, value: unknown) => (key === 'line' ? undefined : value)),
  ) as ConfigDocument;
}

/** One setting found in the document, with the path of sections that holds it. */
export interface LocatedSetting {
  /** Dotted key as written in the file (`domain.section[.subsection].setting`). */
  key: string;
  node: SettingNode;
  /** The section path, domain first. */
  path: string[];
}

/** Every setting of the Genesys container, in file order. */
export function listSettings(document: ConfigDocument): LocatedSetting[] {
  const found: LocatedSetting[] = [];
  const walk = (nodes: readonly ConfigNode[], path: string[]): void => {
    for (const node of nodes) {
      if (node.kind === 'setting') found.push({ key: [...path, node.name].join('.'), node, path });
      else if (node.kind === 'section') walk(node.children, [...path, node.name]);
    }
  };
  // Stryker disable next-line ArrayDeclaration: without a Genesys container the list is walked empty; a made-up entry, neither setting nor section, would be skipped all the same.
  walk(document.genesys?.children ?? [], []);
  return found;
}
