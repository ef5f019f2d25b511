import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ConfigDocument, ConfigNode, ConnectivityNode, OpaqueNode, XmlAttributes } from './config-document';
import { ConfigError } from './errors';

/** fast-xml-parser's ordered form: each element is `{ [tagName]: children, ':@'?: attributes }`. */
type OrderedNode = Record<string, unknown>;

export const PARSER_OPTIONS = {
  ignoreAttributes: false,
  attributeNamePrefix: '',
  preserveOrder: true,
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  htmlEntities: false,
} as const;

const META = XMLParser.getMetaDataSymbol() as unknown as symbol;

function tagOf(node: OrderedNode): string | undefined {
  // Stryker disable next-line ConditionalExpression,StringLiteral: the parser writes the element's own key before its attributes' key.
  return Object.keys(node).find((key) => key !== ':@');
}

function localName(tag: string): string {
  const colon = tag.indexOf(':');
  // Stryker disable next-line ConditionalExpression,EqualityOperator: slice(0) of a name without a colon is the name, and XML names do not start with one.
  return colon >= 0 ? tag.slice(colon + 1) : tag;
}

function attributesOf(node: OrderedNode): XmlAttributes {
  const attributes = node[':@'];
  const result: XmlAttributes = {};
  // Stryker disable next-line LogicalOperator,ConditionalExpression: the parser gives attributes as an object or not at all.
  if (attributes && typeof attributes === 'object') {
    for (const [name, value] of Object.entries(attributes as Record<string, unknown>)) result[name] = String(value);
  }
  return result;
}

function childrenOf(node: OrderedNode): OrderedNode[] {
  const tag = tagOf(node);
  // Stryker disable next-line ConditionalExpression: node[undefined] is undefined too.
  const children = tag === undefined ? undefined : node[tag];
  // Stryker disable next-line ArrayDeclaration: in the ordered form children are always an array.
  return Array.isArray(children) ? (children as OrderedNode[]) : [];
}

function textOf(node: OrderedNode): string {
  // Text comes as strings (parseTagValue is off); an element inside the text has no #text, which join writes as nothing.
  return childrenOf(node)
    .map((child) => child['#text'])
    .join('');
}

function isElement(node: OrderedNode): boolean {
  const tag = tagOf(node);
  // Stryker disable next-line ConditionalExpression,StringLiteral: the parser keeps no comments (no commentPropName) and every node has a tag: only the #text test decides; the others guard against a change of PARSER_OPTIONS
  return tag !== undefined && tag !== '#text' && tag !== '#comment';
}

function without(attributes: XmlAttributes, ...names: string[]): XmlAttributes {
  const rest: XmlAttributes = {};
  for (const [name, value] of Object.entries(attributes)) if (!names.includes(name)) rest[name] = value;
  return rest;
}

function opaque(node: OrderedNode): OpaqueNode {
  // JSON round trip drops the parser's metadata symbol, so that equal elements compare equal.
  return { kind: 'opaque', element: JSON.parse(JSON.stringify(node)) as unknown };
}

/** Maps a character offset of the text to its 1-based line. */
function lineFinder(xml: string): (offset: number | undefined) => number | undefined {
  const starts = [0];
  // Stryker disable next-line EqualityOperator,ArithmeticOperator: one more turn reads NaN; a line starting two characters early still holds every element that starts on it ("<" comes after the newline).
  for (let i = 0; i < xml.length; i++) if (xml.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    // Stryker disable next-line ConditionalExpression: the parser gives every element its start offset.
    if (offset === undefined) return undefined;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
}

/**
 * Reads Softphone.config XML into a {@link ConfigDocument}. Throws {@link ConfigError}
 * `ERR_CONFIG_MALFORMED_XML` (with line and column) or `ERR_CONFIG_INVALID_LAYOUT`.
 */
export function parseDocument(input: string): ConfigDocument {
  if (typeof input !== 'string') {
    throw new ConfigError('ERR_CONFIG_MALFORMED_XML', `configuration XML must be a string, not ${input === null ? 'null' : typeof input}`);
  }
  // Stryker disable next-line ConditionalExpression,MethodExpression: fast-xml-parser skips a byte-order mark itself; the line numbers do not depend on it.
  const xml = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  if (xml.trim() === '') throw new ConfigError('ERR_CONFIG_MALFORMED_XML', 'configuration XML is empty', { line: 1, column: 1 });
  // Stryker disable next-line ObjectLiteral: false is the default of allowBooleanAttributes.
  const verdict = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (verdict !== true) {
    throw new ConfigError('ERR_CONFIG_MALFORMED_XML', `configuration XML is malformed: ${verdict.err.msg}`, {
      line: verdict.err.line,
      column: verdict.err.col,
    });
  }
  let parsed: OrderedNode[];
  try {
    parsed = new XMLParser({ ...PARSER_OPTIONS, captureMetaData: true }).parse(xml) as OrderedNode[];
  } catch (error) {
    // The validator lets a few documents through that the parser refuses (an unclosed processing
    // instruction inside the declaration: found by the reliability suite's fuzzer).
    throw new ConfigError('ERR_CONFIG_MALFORMED_XML', `configuration XML is malformed: ${(error as Error).message}`, {}, { cause: error });
  }
  const lineAt = lineFinder(xml);
  // Stryker disable next-line OptionalChaining: every element carries its metadata.
  const line = (node: OrderedNode): number | undefined => lineAt((node as Record<symbol, { startIndex?: number } | undefined>)[META]?.startIndex);

  // Stryker disable next-line MethodExpression: at the top level the parser keeps only elements (declaration and processing instructions ignored, comments dropped, text outside the root refused by XMLValidator)
  const roots = parsed.filter(isElement);
  const rootNode = roots[0];
  // Stryker disable next-line ConditionalExpression,StringLiteral: XMLValidator refuses a document without an element first (the test of a comment alone shows it); kept against a parser that would not.
  if (!rootNode) throw new ConfigError('ERR_CONFIG_INVALID_LAYOUT', 'configuration XML has no root element');
  if (roots.length > 1) {
    throw new ConfigError('ERR_CONFIG_MALFORMED_XML', 'configuration XML has more than one root element', { line: line(roots[1] as OrderedNode) });
  }
  const document: ConfigDocument = {
    // Stryker disable next-line StringLiteral: an element always has its tag.
    root: { name: tagOf(rootNode) ?? '', attributes: attributesOf(rootNode) },
    basic: null,
    genesys: null,
    others: [],
  };

  const readSection = (node: OrderedNode, element: 'domain' | 'section'): ConfigNode => {
    const attributes = attributesOf(node);
    // Stryker disable next-line MethodExpression: attribute values come trimmed from the parser (trimValues).
    const name = attributes['name']?.trim();
    if (!name) throw new ConfigError('ERR_CONFIG_INVALID_LAYOUT', `<${element}> has no name attribute`, { line: line(node) });
    return {
      kind: 'section',
      element,
      name,
      attributes: without(attributes, 'name'),
      children: readChildren(node),
      line: line(node),
    };
  };

  function readChildren(parent: OrderedNode): ConfigNode[] {
    const nodes: ConfigNode[] = [];
    for (const child of childrenOf(parent)) {
      if (!isElement(child)) continue;
      // Stryker disable next-line StringLiteral: an element always has its tag.
      const tag = localName(tagOf(child) ?? '');
      if (tag === 'setting') {
        const attributes = attributesOf(child);
        // Stryker disable next-line MethodExpression: attribute values come trimmed from the parser (trimValues).
        const name = attributes['name']?.trim();
        if (!name) throw new ConfigError('ERR_CONFIG_INVALID_LAYOUT', '<setting> has no name attribute', { line: line(child) });
        nodes.push({
          kind: 'setting',
          name,
          value: attributes['value'] ?? textOf(child),
          attributes: without(attributes, 'name', 'value'),
          line: line(child),
        });
      } else if (tag === 'section' || tag === 'domain') {
        nodes.push(readSection(child, tag));
      } else {
        nodes.push(opaque(child));
      }
    }
    return nodes;
  }

  for (const child of childrenOf(rootNode)) {
    if (!isElement(child)) continue;
    // Stryker disable next-line StringLiteral: an element always has its tag.
    const tag = localName(tagOf(child) ?? '');
    const attributes = attributesOf(child);
    const containerName = attributes['name']?.trim().toLowerCase();
    if (tag === 'Container' && containerName === 'basic' && document.basic === null) {
      const connectivities: ConnectivityNode[] = [];
      const others: OpaqueNode[] = [];
      for (const item of childrenOf(child)) {
        if (!isElement(item)) continue;
        // Stryker disable next-line StringLiteral: an element always has its tag.
        if (localName(tagOf(item) ?? '') === 'Connectivity') connectivities.push({ attributes: attributesOf(item), line: line(item) });
        else others.push(opaque(item));
      }
      document.basic = { attributes, connectivities, others };
    } else if (tag === 'Container' && containerName === 'genesys' && document.genesys === null) {
      const elements = childrenOf(child).filter(isElement);
      // Stryker disable next-line StringLiteral: an element always has its tag.
      const wrapperNode = elements.length === 1 && elements[0] && localName(tagOf(elements[0]) ?? '') === 'settings' ? elements[0] : undefined;
      const children = readChildren(wrapperNode ?? child);
      document.genesys = {
        attributes,
        // Stryker disable next-line StringLiteral: an element always has its tag.
        wrapper: wrapperNode ? { name: tagOf(wrapperNode) ?? 'settings', attributes: attributesOf(wrapperNode) } : null,
        children,
      };
    } else {
      document.others.push(opaque(child));
    }
  }
  if (document.basic === null && document.genesys === null) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID_LAYOUT',
      `<${document.root.name}> holds neither <Container name="Basic"> nor <Container name="Genesys">`,
      { line: line(rootNode) },
    );
  }
  return document;
}
