import { Ajv } from 'ajv';
import { EndpointConfig, overridesJsonSchema, parseConfig, settingsJsonSchema } from '@sip-endpoint/config';
import { fixture } from './support/xml';

describe('settingsJsonSchema()', () => {
  const validate = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true }).compile(settingsJsonSchema());

  it.each([
    ['the defaults', EndpointConfig.defaults()],
    ['the namespaced sample', parseConfig(fixture('namespaced.config'))],
    ['the plain sample', parseConfig(fixture('plain.config'))],
  ])('accepts the effective settings of %s', (_name, config) => {
    const object = JSON.parse(JSON.stringify(config.toObject())) as Record<string, unknown>;
    const ok = validate(object);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it.each([
    ['policy.endpoint.rtp_port_min', 0],
    ['policy.endpoint.gui_call_lines', 8],
    ['policy.session.dtmf_method', 'Morse'],
    ['policy.endpoint.vq_alarm_threshold', 0.5],
    ['proxies.proxy9.reg_timeout', 10],
    ['policy.endpoint.unknown', 1],
  ])('refuses %s = %p', (key, value) => {
    const object = { ...(JSON.parse(JSON.stringify(EndpointConfig.defaults().toObject())) as Record<string, unknown>), [key]: value };
    expect(validate(object)).toBe(false);
  });

  it('carries defaults and descriptions from the table', () => {
    const schema = settingsJsonSchema() as { properties: Record<string, { default?: unknown; description?: string; minimum?: number }> };
    expect(schema.properties['policy.endpoint.rtp_port_min']).toMatchObject({ default: 9000, minimum: 1 });
    expect(schema.properties['policy.session.sip_code_when_headset_na']?.description).toMatch(/480/);
  });
});

describe('overridesJsonSchema', () => {
  const validate = new Ajv({ strict: false }).compile(overridesJsonSchema);

  it('accepts the transcript\'s options.sipendpoint', () => {
    expect(validate({ 'policy.connector.auto_restart': '1' })).toBe(true);
    expect(validate({ 'user:0': '5320', 'server:0': '135.39.45.32:5060', 'policy.device.headset_name': ['a', 'b'], 'proxies.proxy0.nat.ice_enabled': true })).toBe(true);
  });

  it('refuses keys that are not setting keys and nested objects', () => {
    expect(validate({ nonsense: '1' })).toBe(false);
    expect(validate({ 'policy.session.auto_answer': { on: true } })).toBe(false);
  });
});
