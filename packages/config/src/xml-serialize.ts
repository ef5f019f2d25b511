import { XMLBuilder } from 'fast-xml-parser';
import type { ConfigDocument, ConfigNode, XmlAttributes } from './config-document';
import { PARSER_OPTIONS } from './xml-parse';

type OrderedNode = Record<string, unknown>;

function element(name: string, attributes: XmlAttributes, children: unknown[]): OrderedNode {
  const node: OrderedNode = { [name]: children };
  // Stryker disable next-line EqualityOperator: an empty attribute object writes no attributes either.
  if (Object.keys(attributes).length > 0) node[':@'] = { ...attributes };
  return node;
}

function nodeToXml(node: ConfigNode): unknown {
  switch (node.kind) {
    case 'setting':
      return element('setting', { name: node.name, value: node.value, ...node.attributes }, []);
    case 'section':
      return element(node.element, { name: node.name, ...node.attributes }, node.children.map(nodeToXml));
    case 'opaque':
      return node.element;
  }
}

/** Writes a {@link ConfigDocument} as Softphone.config XML text. */
export function serializeDocument(document: ConfigDocument): string {
  const containers: unknown[] = [];
  if (document.basic) {
    containers.push(
      element('Container', document.basic.attributes, [
        ...document.basic.connectivities.map((connectivity) => element('Connectivity', connectivity.attributes, [])),
        ...document.basic.others.map((other) => other.element),
      ]),
    );
  }
  if (document.genesys) {
    const domains = document.genesys.children.map(nodeToXml);
    const wrapper = document.genesys.wrapper;
    containers.push(
      element('Container', document.genesys.attributes, wrapper ? [element(wrapper.name, wrapper.attributes, domains)] : domains),
    );
  }
  containers.push(...document.others.map((other) => other.element));
  const builder = new XMLBuilder({
    ...PARSER_OPTIONS,
    format: true,
    indentBy: '  ',
    suppressEmptyNode: true,
  });
  const body = builder.build([element(document.root.name, document.root.attributes, containers)]) as string;
  return `<?xml version="1.0" encoding="utf-8"?>\n${body.trim()}\n`;
}
