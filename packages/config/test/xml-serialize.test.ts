import { emptyDocument, type ConfigDocument } from '../src/config-document';
import { serializeDocument } from '../src/xml-serialize';
import { parseDocument } from '../src/xml-parse';

// The document written back as text: exactly, element by element, and read back the same.

describe('serializeDocument', () => {
  it('writes the usual layout, indented by two spaces, empty elements closed', () => {
    const document = emptyDocument();
    document.basic!.connectivities.push({ attributes: { user: '1001', server: 'pbx:5060' } });
    document.genesys!.children.push({
      kind: 'section',
      element: 'domain',
      name: 'proxies',
      attributes: {},
      children: [{ kind: 'section', element: 'section', name: 'proxy0', attributes: { note: 'n' }, children: [{ kind: 'setting', name: 'reg_timeout', value: '60', attributes: { unit: 's' } }] }],
    });
    expect(serializeDocument(document)).toBe(
      [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<SipEndpoint xmlns="http://schemas.genesyslab.com/2009/sipendpoint">',
        '  <Container name="Basic">',
        '    <Connectivity user="1001" server="pbx:5060"/>',
        '  </Container>',
        '  <Container name="Genesys">',
        '    <settings version="1.0" xmlns="http://www.genesyslab.com/sip">',
        '      <domain name="proxies">',
        '        <section name="proxy0" note="n">',
        '          <setting name="reg_timeout" value="60" unit="s"/>',
        '        </section>',
        '      </domain>',
        '    </settings>',
        '  </Container>',
        '</SipEndpoint>',
        '',
      ].join('\n'),
    );
  });

  it('writes no Basic container, no wrapper and a bare root when the document has none', () => {
    const document: ConfigDocument = { root: { name: 'Root', attributes: {} }, basic: null, genesys: { attributes: { name: 'Genesys' }, wrapper: null, children: [{ kind: 'setting', name: 'top', value: 'x', attributes: {} }] }, others: [] };
    expect(serializeDocument(document)).toBe(['<?xml version="1.0" encoding="utf-8"?>', '<Root>', '  <Container name="Genesys">', '    <setting name="top" value="x"/>', '  </Container>', '</Root>', ''].join('\n'));
    expect(serializeDocument({ ...document, genesys: null, basic: { attributes: { name: 'Basic' }, connectivities: [], others: [] } })).toBe(['<?xml version="1.0" encoding="utf-8"?>', '<Root>', '  <Container name="Basic"/>', '</Root>', ''].join('\n'));
  });

  it('keeps the elements it does not know, where they were, and reads back the same', () => {
    const text = '<R><Container name="Basic"><Extra a="1"><Inner/></Extra></Container><Container name="Genesys"><domain name="d"><Unknown x="y"/><setting name="s" value="a &amp; b"/></domain></Container><Other/></R>';
    const written = serializeDocument(parseDocument(text));
    expect(written).toContain('<Extra a="1">');
    expect(written).toContain('<Inner/>');
    expect(written).toContain('<Unknown x="y"/>');
    expect(written).toContain('<setting name="s" value="a &amp; b"/>');
    expect(written).toMatch(/<\/Container>\n {2}<Other\/>\n<\/R>\n$/);
    expect(serializeDocument(parseDocument(written))).toBe(written);
  });
});
