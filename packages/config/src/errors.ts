/**
 * Stable error codes of the configuration package.
 *
 * @public
 */
export type ConfigErrorCode =
  /** The XML text is not well-formed. */
  | 'ERR_CONFIG_MALFORMED_XML'
  /** The XML is well-formed but its elements are not a Softphone.config layout. */
  | 'ERR_CONFIG_INVALID_LAYOUT'
  /** A key that is not in the settings table was asked for with `config.get()`. */
  | 'ERR_CONFIG_UNKNOWN_SETTING'
  /** A setting has a value the specification treats as fatal (no documented fallback). */
  | 'ERR_CONFIG_INVALID_SETTING'
  /** A minimum above its maximum (RTP or SIP port range): the endpoint must not initialise. */
  | 'ERR_CONFIG_INVALID_RANGE'
  /** Two codecs share one priority in `policy.codecs`. */
  | 'ERR_CONFIG_DUPLICATE_CODEC_PRIORITY'
  /** A Connectivity element is unusable (bad transport, bad server address). */
  | 'ERR_CONFIG_INVALID_CONNECTIVITY'
  /** An override key or value given to `config.with()` cannot be applied. */
  | 'ERR_CONFIG_INVALID_OVERRIDE'
  /** The configuration file could not be read. */
  | 'ERR_CONFIG_READ'
  /** `public_address` names an interface or subnet that is not present (yet). */
  | 'ERR_CONFIG_ADDRESS_UNAVAILABLE'
  /** A server address could not be resolved (no SRV, A or AAAA record). */
  | 'ERR_CONFIG_SERVER_UNRESOLVED';

/**
 * Base class of every error the SDK throws. Each subclass carries a stable `code`.
 *
 * @public
 */
export class SipEndpointError extends Error {
  /** Stable, documented code, e.g. `ERR_CONFIG_INVALID_SETTING`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * Where in the source an error or warning comes from.
 *
 * @public
 */
export interface ConfigLocation {
  /** Dotted setting key (`domain.section.setting`), or `Connectivity[N].attr` for the Basic container. */
  key?: string;
  /** 1-based line in the XML file, when the problem comes from the file. */
  line?: number;
  /** 1-based column in the XML file, when known. */
  column?: number;
}

/**
 * Any configuration problem that prevents the endpoint from starting.
 *
 * @remarks
 * Fallbacks that the specification documents never throw: they are reported in
 * `config.warnings`. A `ConfigError` means there is no safe value to use.
 *
 * @public
 */
export class ConfigError extends SipEndpointError {
  declare readonly code: ConfigErrorCode;
  /** The setting key, when the problem is about one setting. */
  readonly key: string | undefined;
  /** 1-based line in the file, when known. */
  readonly line: number | undefined;
  /** 1-based column in the file, when known. */
  readonly column: number | undefined;

  constructor(code: ConfigErrorCode, message: string, location: ConfigLocation = {}, options?: { cause?: unknown }) {
    const where = [
      location.key !== undefined ? `setting ${location.key}` : undefined,
      location.line !== undefined ? `line ${location.line}${location.column !== undefined ? `, column ${location.column}` : ''}` : undefined,
    ].filter((part): part is string => part !== undefined);
    super(code, where.length > 0 ? `${message} (${where.join(', ')})` : message, options);
    this.key = location.key;
    this.line = location.line;
    this.column = location.column;
  }
}

/**
 * One fallback applied while reading the configuration: the value given was not valid and
 * the specification's documented value was used instead.
 *
 * @public
 */
export interface ConfigWarning {
  /** What kind of notice this is. */
  kind: 'fallback' | 'unknown-setting' | 'ignored' | 'deprecated';
  /** The setting key (or `Connectivity[N]`). */
  key: string;
  /** The value found in the file or override, as text; `undefined` when it was missing. */
  given: string | undefined;
  /** The value used instead, as text; `undefined` when the entry is ignored. */
  used: string | undefined;
  /** 1-based line in the file, when the value came from the file. */
  line: number | undefined;
  /** A sentence a person can act on. */
  message: string;
}
