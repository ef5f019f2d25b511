import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import type { LogConnector } from 'sip.js';
import { MAX_CONNECTIVITIES, type EndpointConfig, type LogExpire, type LogSegment, type ProxyIndex } from '@sip-endpoint/config';
import { LogFile, LogFileError } from './log-file';
import { toLogLevel, type LogLevel } from './log-level';
import { componentLevels, parseLogOptionsProvider, type LogOptionsProvider } from './log-options';
import type { LogTimeConvert, LogTimeFormat } from './log-time';
import { Redactor } from './redactor';

/**
 * The host application's logger, as `EndpointOptions.logger` takes it. `component` names the
 * part of the SDK (`endpoint`, `sip`, `sip.Registerer`, ...); a two-parameter function fits.
 *
 * @public
 */
export type LogSink = (level: LogLevel, message: string, component: string) => void;

/**
 * The `system.diagnostics` section, typed (the configuration package has applied the
 * specification's fallbacks already).
 *
 * @public
 */
export interface DiagnosticsSettings {
  /** `enable_logging` = 1. */
  enabled: boolean;
  /** `log_level`: records above it are dropped. */
  level: LogLevel;
  /** `log_file`. */
  file: string;
  /** `logger_type`: `file` writes `log_file`; empty leaves logging to the host application's logger. */
  loggerType: '' | 'file';
  /** `log_options_provider`, parsed. */
  options: LogOptionsProvider;
  /** `log_segment`. */
  segment: LogSegment;
  /** `log_expire`. */
  expire: LogExpire;
  /** `log_time_convert`. */
  timeConvert: LogTimeConvert;
  /** `log_time_format`. */
  timeFormat: LogTimeFormat;
}

/**
 * Reads `system.diagnostics` from a configuration.
 *
 * @public
 */
export function diagnosticsSettings(config: EndpointConfig): DiagnosticsSettings {
  return {
    enabled: config.get('system.diagnostics.enable_logging'),
    level: toLogLevel(config.get('system.diagnostics.log_level')),
    file: config.get('system.diagnostics.log_file') || 'SipEndpoint.log',
    loggerType: config.get('system.diagnostics.logger_type'),
    options: parseLogOptionsProvider(config.get('system.diagnostics.log_options_provider')),
    segment: config.get('system.diagnostics.log_segment'),
    expire: config.get('system.diagnostics.log_expire'),
    timeConvert: config.get('system.diagnostics.log_time_convert'),
    timeFormat: config.get('system.diagnostics.log_time_format'),
  };
}

/** The passwords of a configuration (every `proxies.proxy<N>`), which the log must never show. */
export function configuredSecrets(config: EndpointConfig): string[] {
  const secrets: string[] = [];
  for (let index = 0; index < MAX_CONNECTIVITIES; index++) {
    const proxy = `proxies.proxy${index as ProxyIndex}` as const;
    secrets.push(config.get(`${proxy}.password`), config.get(`${proxy}.mailbox.password`), String(config.get(`${proxy}.nat.turn_password`) ?? ''));
  }
  return secrets.filter((secret) => secret.length > 0);
}

/** Options of {@link DiagnosticsLogger}. @public */
export interface DiagnosticsLoggerOptions {
  /**
   * The host application's logger. When given it receives the records (filtered by `log_level`
   * and `log_options_provider`, redacted) and no file is written; `enable_logging` and the file
   * settings do not apply to it.
   */
  sink?: LogSink;
  /** Where a relative `log_file` is. @defaultValue the working directory */
  baseDir?: string;
  /** Where the log goes when `log_file` cannot be written. @defaultValue the system's temporary directory */
  fallbackDir?: string;
  /** Values never to be written, besides what the redaction rules find. */
  secrets?: Iterable<string>;
  /** Told when the log file cannot be written (logging then goes on in `fallbackDir`, or stops). @defaultValue `process.emitWarning` */
  onWarning?: (warning: LogFileError) => void;
  /** The clock, for tests. @defaultValue Date.now */
  now?: () => number;
  /** Locale of the `locale` time format. @defaultValue the system's */
  locale?: string;
}

const SIPJS_LEVELS: Readonly<Record<string, LogLevel>> = { error: 1, warn: 2, log: 3, debug: 4 };

/**
 * The endpoint's log per `system.diagnostics`: filters records by `log_level` and
 * `log_options_provider`, removes secrets ({@link Redactor}), and writes them to the segmented
 * `log_file` ({@link LogFile}) or hands them to the host application's logger.
 *
 * @remarks
 * A record goes to the file when `enable_logging` is 1 and `logger_type` is `file`; to the
 * host's {@link LogSink} instead when one is given; nowhere otherwise. SIP messages are written
 * whole at Debug level (component `sip`) only when `log_options_provider` asks for the SIP
 * stack's debug level (`gsip=4` or `gsip=(...,debug)`). Logging never throws: a log file that
 * cannot be written is reported ({@link DiagnosticsLoggerOptions.onWarning}) and logging goes
 * on in the fallback directory, or stops.
 *
 * @example
 * ```ts
 * const logger = DiagnosticsLogger.fromConfig(config);
 * logger.log(3, 'endpoint', 'started');
 * logger.close();
 * ```
 *
 * @public
 */
export class DiagnosticsLogger {
  /** The `system.diagnostics` settings in use. */
  readonly settings: DiagnosticsSettings;
  /** sip.js's log connector: its messages become records of component `sip.<category>`. */
  readonly logConnector: LogConnector;
  readonly #options: DiagnosticsLoggerOptions;
  readonly #redactor: Redactor;
  readonly #sink: LogSink | undefined;
  #file: LogFile | undefined;
  #fallenBack = false;
  #closed = false;

  constructor(settings: DiagnosticsSettings, options: DiagnosticsLoggerOptions = {}) {
    this.settings = settings;
    this.#options = options;
    this.#redactor = new Redactor(options.secrets ?? []);
    this.#sink = options.sink;
    if (!this.#sink && settings.enabled && settings.loggerType === 'file') this.#file = this.#logFile(settings.file, options.baseDir);
    this.logConnector = (level, category, label, content) => {
      const component = category.startsWith('sip.') ? category : `sip.${category.replace(/^sip(?:js)?[.:]/, '')}`;
      this.log(SIPJS_LEVELS[level] ?? 4, component, label ? `${label} | ${content}` : content);
    };
  }

  /** A logger for `config`'s `system.diagnostics`, with its passwords as secrets. */
  static fromConfig(config: EndpointConfig, options: DiagnosticsLoggerOptions = {}): DiagnosticsLogger {
    return new DiagnosticsLogger(diagnosticsSettings(config), { ...options, secrets: [...configuredSecrets(config), ...(options.secrets ?? [])] });
  }

  /** Whether records go anywhere (a host logger, or the log file). */
  get active(): boolean {
    return !this.#closed && (this.#sink !== undefined || this.#file !== undefined);
  }

  /** Whether SIP messages are logged: `log_options_provider` asks for the SIP stack's debug level. */
  get logsSipMessages(): boolean {
    return this.settings.options.components.has('sip') && this.isEnabled(4, 'sip');
  }

  /** The log segment being written, if any. */
  get file(): string | undefined {
    return this.#file?.path;
  }

  /** The segments of the log on disk, oldest first (none without a log file). */
  segments(): string[] {
    return this.#file?.segments() ?? [];
  }

  /** Whether a record of `level` from `component` would be written. */
  isEnabled(level: number, component: string): boolean {
    if (!this.active) return false;
    const clamped = toLogLevel(level);
    if (clamped > this.settings.level) return false;
    const levels = componentLevels(this.settings.options, component);
    if (!levels) return true;
    return levels.kind === 'level' ? clamped <= levels.level : levels.levels.has(clamped);
  }

  /** Logs one record (secrets removed). Never throws. */
  log(level: number, component: string, message: string): void {
    if (!this.isEnabled(level, component)) return;
    const clamped = toLogLevel(level);
    let text: string;
    try {
      text = this.#redactor.redact(message);
    } catch {
      return;
    }
    if (this.#sink) {
      try {
        this.#sink(clamped, text, component);
      } catch {
        // The host's logger failed: the endpoint goes on.
      }
      return;
    }
    this.#write(clamped, component, text);
  }

  /** Logs a SIP message sent or received (Debug, component `sip`) when {@link DiagnosticsLogger.logsSipMessages}. */
  sipTrace(direction: 'out' | 'in', message: string, remote: { address: string; port: number }): void {
    if (!this.logsSipMessages) return;
    const where = `${remote.address.includes(':') ? `[${remote.address}]` : remote.address}:${remote.port}`;
    this.log(4, 'sip', `${direction === 'out' ? 'sent to' : 'received from'} ${where}\n${message}`);
  }

  /** Closes the log file; later records are dropped. Calling it twice is harmless. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file?.close();
  }

  #logFile(file: string, baseDir: string | undefined): LogFile {
    const s = this.settings;
    return new LogFile({
      file,
      ...(baseDir !== undefined ? { baseDir } : {}),
      segment: s.segment,
      expire: s.expire,
      timeConvert: s.timeConvert,
      timeFormat: s.timeFormat,
      ...(this.#options.locale !== undefined ? { locale: this.#options.locale } : {}),
      ...(this.#options.now ? { now: this.#options.now } : {}),
    });
  }

  #write(level: LogLevel, component: string, text: string): void {
    const file = this.#file;
    if (!file) return;
    try {
      file.write(level, component, text);
      return;
    } catch (error) {
      const problem = error instanceof LogFileError ? error : new LogFileError(file.path ?? file.directory, 'written', error);
      file.close();
      this.#file = undefined;
      this.#warn(problem);
      if (this.#fallenBack) return;
      this.#fallenBack = true;
      const fallback = this.#logFile(basename(this.settings.file), this.#options.fallbackDir ?? tmpdir());
      try {
        fallback.write(2, 'logging', `${problem.message}; the log goes on here`);
        fallback.write(level, component, text);
        this.#file = fallback;
      } catch (again) {
        fallback.close();
        this.#warn(again instanceof LogFileError ? again : new LogFileError(fallback.directory, 'written', again));
      }
    }
  }

  #warn(warning: LogFileError): void {
    try {
      if (this.#options.onWarning) this.#options.onWarning(warning);
      else process.emitWarning(warning.message, { type: warning.name, code: warning.code });
    } catch {
      // a warning handler that throws must not break logging
    }
  }
}
