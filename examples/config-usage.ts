import { ConfigError, parseConfig } from '@sip-endpoint/config';

const xml = `<?xml version="1.0" encoding="utf-8"?>
<SipEndpoint xmlns="http://schemas.genesyslab.com/2009/sipendpoint">
  <Container name="Basic">
    <Connectivity user="5320" server="sipserver.example.com:5060" protocol="UDP"/>
  </Container>
  <Container name="Genesys">
    <settings xmlns="http://www.genesyslab.com/sip">
      <domain name="policy">
        <section name="endpoint">
          <setting name="rtp_port_min" value="20000"/>
          <setting name="rtp_inactivity_timeout" value="500"/>
        </section>
        <section name="device">
          <setting name="use_headset" value="1"/>
          <setting name="headset_name" value="Jabra.*"/>
          <setting name="headset_name" value="*"/>
        </section>
      </domain>
      <domain name="proxies">
        <section name="proxy0"><setting name="reg_timeout" value="1800"/></section>
      </domain>
    </settings>
  </Container>
</SipEndpoint>`;

const config = parseConfig(xml);
console.log(config.connectivities[0]?.server); // sipserver.example.com:5060
console.log(config.get('policy.endpoint.rtp_port_max')); // 20999: rtp_port_min + 999
console.log(config.get('policy.device.headset_name')); // [ 'Jabra.*', '*' ]: file order is priority
for (const warning of config.warnings) console.log(`line ${warning.line}: ${warning.message}`); // 500 is out of 5..150: 150 is used

// The Connector API's options.sipendpoint, or dynamic reconfiguration, as overrides:
const next = config.with({ 'policy.session.auto_answer': '1', 'server:0': 'sipserver-dr.example.com:5060' });
console.log(next.get('policy.session.auto_answer'), next.connectivities[0]?.host); // true sipserver-dr.example.com

try {
  config.with({ 'policy.endpoint.rtp_port_max': '100' });
} catch (error) {
  if (error instanceof ConfigError) console.log(error.code); // ERR_CONFIG_INVALID_RANGE
}
