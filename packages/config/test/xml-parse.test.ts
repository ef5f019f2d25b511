import { cloneDocument, documentSnapshot, emptyDocument, listSettings } from '../src/config-document';
import { parseDocument } from '../src/xml-parse';

// Softphone.config's XML layout read into a document: every element kind, where each thing lands,
// line numbers, and every refusal with its code, message and place.

const FILE = `<?xml version="1.0" encoding="utf-8"?>
<!-- a comment before the root -->
<sep:SipEndpoint xmlns:sep="http://schemas.genesyslab.com/2009/sipendpoint" build="7"><!-- in the root -->
  <Container name=" basic " kind="b">
    <!-- lines -->
    <Connectivity user="1001" server="pbx:5060"/>
    <Extra a="1"/>
    <Connectivity user="1002" server="pbx:5062" protocol="tcp"/>
  </Container>
  <Container name="Genesys">
    <settings version="1.0">
      <domain name=" proxies " note="n">
        <section name="proxy0"><!-- in a section -->text between
          <setting name=" reg_timeout " value="60" unit="s"/>
          <setting name="display_name">Agent  One</setting>
          <setting name="number">42</setting>
          <Unknown x="y"/>
        </section>
      </domain>
    </settings>
  </Container>
  <Container name="Basic"><Connectivity user="9999" server="other"/></Container>
  <Other/>
</sep:SipEndpoint>
`;

describe('parseDocument', () => {
  it('reads the root, the Basic container, the Genesys container under its settings wrapper, and keeps the rest', () => {
    const document = parseDocument(`\ufeff${FILE}`);
    expect(document.root).toEqual({ name: 'sep:SipEndpoint', attributes: { 'xmlns:sep': 'http://schemas.genesyslab.com/2009/sipendpoint', build: '7' } });
    // Attribute values come trimmed; the container's name is matched in any case.
    expect(document.basic?.attributes).toEqual({ name: 'basic', kind: 'b' });
    expect(document.basic?.connectivities).toEqual([
      { attributes: { user: '1001', server: 'pbx:5060' }, line: 6 },
      { attributes: { user: '1002', server: 'pbx:5062', protocol: 'tcp' }, line: 8 },
    ]);
    expect(document.basic?.others).toHaveLength(1);
    expect(JSON.stringify(document.basic?.others[0])).toContain('Extra');
    expect(document.genesys?.attributes).toEqual({ name: 'Genesys' });
    expect(document.genesys?.wrapper).toEqual({ name: 'settings', attributes: { version: '1.0' } });
    const [domain] = document.genesys!.children;
    expect(domain).toMatchObject({ kind: 'section', element: 'domain', name: 'proxies', attributes: { note: 'n' }, line: 12 });
    const section = domain?.kind === 'section' ? domain.children[0] : undefined;
    expect(section).toMatchObject({ kind: 'section', element: 'section', name: 'proxy0', attributes: {}, line: 13 });
    const children = section?.kind === 'section' ? section.children : [];
    expect(children.slice(0, 3)).toEqual([
      { kind: 'setting', name: 'reg_timeout', value: '60', attributes: { unit: 's' }, line: 14 },
      { kind: 'setting', name: 'display_name', value: 'Agent  One', attributes: {}, line: 15 },
      { kind: 'setting', name: 'number', value: '42', attributes: {}, line: 16 },
    ]);
    expect(children[3]?.kind).toBe('opaque');
    // The second Basic container and <Other/> are kept as they were, not read.
    expect(document.others).toHaveLength(2);
    expect(JSON.stringify(document.others)).toContain('9999');
    expect(listSettings(document).map((s) => [s.key, s.path])).toEqual([
      ['proxies.proxy0.reg_timeout', ['proxies', 'proxy0']],
      ['proxies.proxy0.display_name', ['proxies', 'proxy0']],
      ['proxies.proxy0.number', ['proxies', 'proxy0']],
    ]);
  });

  it('reads a Genesys container without a wrapper, and one whose only child is not a wrapper', () => {
    const bare = parseDocument('<SipEndpoint><Container name="GENESYS"><domain name="system"><setting name="a" value="1"/></domain></Container></SipEndpoint>');
    expect(bare.basic).toBeNull();
    expect(bare.genesys?.wrapper).toBeNull();
    expect(listSettings(bare).map((s) => s.key)).toEqual(['system.a']);
    const single = parseDocument('<SipEndpoint><Container name="Genesys"><setting name="top" value="x"/></Container></SipEndpoint>');
    expect(single.genesys?.wrapper).toBeNull();
    expect(listSettings(single).map((s) => [s.key, s.node.value])).toEqual([['top', 'x']]);
    const two = parseDocument('<SipEndpoint><Container name="Genesys"><settings/><settings><domain name="d"><setting name="s" value="v"/></domain></settings></Container></SipEndpoint>');
    expect(two.genesys?.wrapper).toBeNull();
    expect(two.genesys?.children.map((c) => c.kind)).toEqual(['opaque', 'opaque']);
    const prefixed = parseDocument('<SipEndpoint><Container name="Genesys"><g:settings xmlns:g="urn:x"><g:domain name="d"><g:setting name="s" value="v"/></g:domain></g:settings></Container></SipEndpoint>');
    expect(prefixed.genesys?.wrapper?.name).toBe('g:settings');
    expect(listSettings(prefixed).map((s) => s.key)).toEqual(['d.s']);
  });

  it('reads a setting without value or text as empty', () => {
    const document = parseDocument('<SipEndpoint><Container name="Genesys"><domain name="d"><setting name="s"/><setting name="t" value=""/></domain></Container></SipEndpoint>');
    expect(listSettings(document).map((s) => s.node.value)).toEqual(['', '']);
  });

  it.each([
    [null, 'ERR_CONFIG_MALFORMED_XML', 'configuration XML must be a string, not null', undefined],
    [42, 'ERR_CONFIG_MALFORMED_XML', 'configuration XML must be a string, not number', undefined],
    [undefined, 'ERR_CONFIG_MALFORMED_XML', 'configuration XML must be a string, not undefined', undefined],
    ['', 'ERR_CONFIG_MALFORMED_XML', 'configuration XML is empty (line 1, column 1)', 1],
    ['\ufeff  \n ', 'ERR_CONFIG_MALFORMED_XML', 'configuration XML is empty (line 1, column 1)', 1],
    ['<a>\n<b></a>', 'ERR_CONFIG_MALFORMED_XML', expect.stringMatching(/^configuration XML is malformed: .+ \(line 2, column \d+\)$/), 2],
    ['<a flag/>', 'ERR_CONFIG_MALFORMED_XML', expect.stringMatching(/^configuration XML is malformed: .*flag.* \(line 1, column \d+\)$/), 1],
    // The validator refuses a document without an element before the layout is looked at.
    ['<?xml version="1.0"?><!-- only -->', 'ERR_CONFIG_MALFORMED_XML', 'configuration XML is malformed: Start tag expected. (line 1)', 1],
    ['<a><Container name="Basic"/></a>\n\n<b/>', 'ERR_CONFIG_MALFORMED_XML', 'configuration XML has more than one root element (line 3)', 3],
    ['<Root>\n  <Container name="Other"/>\n</Root>', 'ERR_CONFIG_INVALID_LAYOUT', '<Root> holds neither <Container name="Basic"> nor <Container name="Genesys"> (line 1)', 1],
    ['<R><Container name="Genesys">\n<domain name=" "/></Container></R>', 'ERR_CONFIG_INVALID_LAYOUT', '<domain> has no name attribute (line 2)', 2],
    ['<R><Container name="Genesys"><domain name="d">\n\n<section/></domain></Container></R>', 'ERR_CONFIG_INVALID_LAYOUT', '<section> has no name attribute (line 3)', 3],
    ['<R><Container name="Genesys"><domain name="d"><section name="s">\n<setting value="1"/></section></domain></Container></R>', 'ERR_CONFIG_INVALID_LAYOUT', '<setting> has no name attribute (line 2)', 2],
  ])('refuses %j', (input, code, message, line) => {
    let thrown: unknown;
    try {
      parseDocument(input as string);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code, message, line });
  });
});

describe('documents', () => {
  it('an empty document is the usual namespaced layout, and copies are deep', () => {
    const document = emptyDocument();
    expect(document).toEqual({
      root: { name: 'SipEndpoint', attributes: { xmlns: 'http://schemas.genesyslab.com/2009/sipendpoint' } },
      basic: { attributes: { name: 'Basic' }, connectivities: [], others: [] },
      genesys: { attributes: { name: 'Genesys' }, wrapper: { name: 'settings', attributes: { version: '1.0', xmlns: 'http://www.genesyslab.com/sip' } }, children: [] },
      others: [],
    });
    const copy = cloneDocument(document);
    copy.genesys!.children.push({ kind: 'setting', name: 'x', value: '1', attributes: {} });
    expect(document.genesys!.children).toEqual([]);
    expect(listSettings({ ...document, genesys: null })).toEqual([]);
  });

  it('a snapshot leaves out line numbers and nothing else', () => {
    const document = parseDocument(FILE);
    const snapshot = documentSnapshot(document);
    expect(JSON.stringify(snapshot)).not.toContain('"line"');
    expect(snapshot.basic?.connectivities[0]).toEqual({ attributes: { user: '1001', server: 'pbx:5060' } });
    expect(listSettings(snapshot).map((s) => s.node)).toEqual(listSettings(document).map(({ node: { line: _line, ...rest } }) => rest));
  });
});

describe('parseDocument: which container is which, whatever comes first', () => {
  it('an element before the containers is kept, not read as one; a second Genesys container is kept as it was', () => {
    const document = parseDocument(`<R>
  <Other/>
  <Extra name="basic"/>
  <Container name="Genesys"><domain name="d"><setting name="a" value="1"/></domain></Container>
  <Container name="Basic"><Connectivity user="7" server="s"/></Container>
  <Container name="genesys"><domain name="e"><setting name="b" value="2"/></domain></Container>
</R>`);
    expect(document.basic?.connectivities.map((c) => c.attributes)).toEqual([{ user: '7', server: 's' }]);
    expect(listSettings(document).map((s) => s.key)).toEqual(['d.a']);
    expect(document.others).toHaveLength(3);
    const kept = JSON.stringify(document.others);
    expect(kept).toContain('Other');
    expect(kept).toContain('Extra');
    expect(kept).toContain('"e"');
  });
});

describe('parseDocument: a setting written as text', () => {
  it('joins the text around a comment, and leaves the comment out', () => {
    const document = parseDocument('<R><Container name="Genesys"><domain name="d"><setting name="a">one<!-- note -->two</setting></domain></Container></R>');
    expect(listSettings(document).map((s) => [s.key, s.node.value])).toEqual([['d.a', 'onetwo']]);
  });

  it('joins the text around an element inside it, and leaves the element out', () => {
    const document = parseDocument('<R><Container name="Genesys"><domain name="d"><setting name="a">one<b>x</b>two<c/>3</setting></domain></Container></R>');
    expect(listSettings(document).map((s) => [s.key, s.node.value])).toEqual([['d.a', 'onetwo3']]);
  });
});

describe('parseDocument: text between the elements', () => {
  it('leaves out text beside the containers and beside the Connectivity elements', () => {
    const document = parseDocument('<R>stray<Container name="Basic">loose<Connectivity user="7"/>end</Container>tail<Container name="Genesys"><domain name="d"><setting name="a" value="1"/></domain></Container></R>');
    expect(document.others).toEqual([]);
    expect(document.basic?.others).toEqual([]);
    expect(document.basic?.connectivities.map((c) => c.attributes)).toEqual([{ user: '7' }]);
    expect(listSettings(document).map((s) => s.key)).toEqual(['d.a']);
  });

  it('finds the settings wrapper of the Genesys container with text beside it', () => {
    const document = parseDocument('<R><Container name="Genesys">note<settings version="2"><domain name="d"><setting name="a" value="1"/></domain></settings>more</Container></R>');
    expect(document.genesys?.wrapper).toEqual({ name: 'settings', attributes: { version: '2' } });
    expect(listSettings(document).map((s) => s.key)).toEqual(['d.a']);
  });

  it('reads only a Container element as the Genesys container, whatever else is named "genesys"', () => {
    const document = parseDocument('<R><Extra name="genesys"><domain name="x"><setting name="z" value="9"/></domain></Extra><Container name="Genesys"><domain name="d"><setting name="a" value="1"/></domain></Container></R>');
    expect(listSettings(document).map((s) => s.key)).toEqual(['d.a']);
    expect(document.others).toHaveLength(1);
    expect(JSON.stringify(document.others)).toContain('Extra');
  });
});
