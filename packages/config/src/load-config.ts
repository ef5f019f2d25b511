import { readFile } from 'node:fs/promises';
import { EndpointConfig } from './endpoint-config';
import { ConfigError } from './errors';
import { parseDocument } from './xml-parse';

/**
 * Reads Softphone.config XML text.
 *
 * @throws {@link ConfigError} `ERR_CONFIG_MALFORMED_XML` (with line and column), `ERR_CONFIG_INVALID_LAYOUT`,
 * `ERR_CONFIG_INVALID_SETTING`, `ERR_CONFIG_INVALID_RANGE`, `ERR_CONFIG_INVALID_CONNECTIVITY`,
 * `ERR_CONFIG_DUPLICATE_CODEC_PRIORITY`.
 * @public
 */
export function parseConfig(xml: string): EndpointConfig {
  return new EndpointConfig(parseDocument(xml));
}

/**
 * Reads a Softphone.config file (UTF-8).
 *
 * @throws {@link ConfigError} `ERR_CONFIG_READ` when the file cannot be read, otherwise as {@link parseConfig}.
 * @public
 */
export async function loadConfig(path: string): Promise<EndpointConfig> {
  let xml: string;
  try {
    xml = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError('ERR_CONFIG_READ', `cannot read ${path}: ${(error as Error).message}`, {}, { cause: error });
  }
  return parseConfig(xml);
}

/**
 * Writes a configuration as Softphone.config XML; settings the SDK does not know are written too.
 * `parseConfig(serializeConfig(c))` equals `c`.
 *
 * @public
 */
export function serializeConfig(config: EndpointConfig): string {
  return config.toXml();
}
