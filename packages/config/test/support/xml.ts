import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Reads a fixture file of this package's tests. */
export function fixture(name: string): string {
  return readFileSync(join(__dirname, '..', 'fixtures', name), 'utf8');
}

/** A namespaced Softphone.config around the given Genesys domains (and optional Connectivity lines). */
export function configXml(domains: Record<string, Record<string, Record<string, string | string[]>>>, connectivities = ''): string {
  const body = Object.entries(domains)
    .map(([domain, sections]) => {
      const inner = Object.entries(sections)
        .map(([section, settings]) => {
          const lines = Object.entries(settings).flatMap(([name, value]) =>
            (Array.isArray(value) ? value : [value]).map((text) => `        <setting name="${name}" value="${escapeXml(text)}"/>`),
          );
          return `      <section name="${section}">\n${lines.join('\n')}\n      </section>`;
        })
        .join('\n');
      return `    <domain name="${domain}">\n${inner}\n    </domain>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<SipEndpoint xmlns="http://schemas.genesyslab.com/2009/sipendpoint">
  <Container name="Basic">${connectivities}</Container>
  <Container name="Genesys">
   <settings xmlns="http://www.genesyslab.com/sip">
${body}
   </settings>
  </Container>
</SipEndpoint>
`;
}

/** One setting in its section, as a whole file. */
export function oneSetting(key: string, value: string): string {
  const [domain = '', section = '', ...rest] = key.split('.');
  const name = rest.pop() ?? '';
  if (rest.length > 0) {
    const nested = rest.map((sub) => `<section name="${sub}">`).join('') + `<setting name="${name}" value="${escapeXml(value)}"/>` + rest.map(() => '</section>').join('');
    return `<SipEndpoint><Container name="Genesys"><settings><domain name="${domain}"><section name="${section}">${nested}</section></domain></settings></Container></SipEndpoint>`;
  }
  return configXml({ [domain]: { [section]: { [name]: value } } });
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}
