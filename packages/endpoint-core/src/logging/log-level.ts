/**
 * A log level of `system.diagnostics.log_level`: 0 Fatal, 1 Error, 2 Warning, 3 Info, 4 Debug.
 * A record is written when its level is at most the configured one.
 *
 * @public
 */
export type LogLevel = 0 | 1 | 2 | 3 | 4;

/**
 * The specification's names of the log levels, indexed by level; they appear in every log line.
 *
 * @public
 */
export const LOG_LEVEL_NAMES: readonly ['Fatal', 'Error', 'Warning', 'Info', 'Debug'] = ['Fatal', 'Error', 'Warning', 'Info', 'Debug'];

/** A number clamped to a log level (0..4); anything that is not a number is 4 (Debug). */
export function toLogLevel(level: number): LogLevel {
  if (!Number.isFinite(level)) return 4;
  return Math.min(4, Math.max(0, Math.trunc(level))) as LogLevel;
}
