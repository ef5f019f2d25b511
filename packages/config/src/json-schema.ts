import type { JsonSchema } from './setting-type';
import type { SettingDefinition } from './setting-definition';
import { allDefinitions, keyPatternSource } from './setting-key';

function schemaOf(definition: SettingDefinition): JsonSchema {
  const value = definition.repeatable ? { type: 'array', items: definition.type.schema } : definition.type.schema;
  const schema: JsonSchema = { ...value, description: definition.description };
  if (definition.default !== undefined) {
    if (definition.repeatable) {
      schema['default'] = (definition.default as readonly string[]).map((text) => {
        const parsed = definition.type.parse(text);
        return parsed.ok ? parsed.value : text;
      });
    } else {
      const parsed = definition.type.parse(definition.default as string);
      if (parsed.ok && parsed.value !== undefined) schema['default'] = parsed.value;
    }
  }
  return schema;
}

/**
 * JSON Schema (draft-07, as ajv reads it) of the effective settings object that
 * {@link EndpointConfig.toObject} returns: one property per dotted key, with its type, range,
 * default and description, all derived from the settings table.
 *
 * @public
 */
export function settingsJsonSchema(): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const patternProperties: Record<string, JsonSchema> = {};
  for (const definition of allDefinitions()) {
    if (definition.key.includes('<')) {
      patternProperties[keyPatternSource(definition.key, false)] = schemaOf(definition);
    } else {
      properties[definition.key] = schemaOf(definition);
    }
  }
  return {
    $id: 'https://sip-endpoint.dev/schemas/softphone-config.json',
    title: 'Softphone.config effective settings',
    type: 'object',
    properties,
    patternProperties,
    additionalProperties: false,
  };
}
