import { closeSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { LogExpire, LogSegment } from '@sip-endpoint/config';
import { LOG_LEVEL_NAMES, type LogLevel } from './log-level';
import { formatLogTime, segmentStamp, type LogTimeConvert, type LogTimeFormat } from './log-time';
import { escapeRegExp } from './redactor';
import { SipError } from '../errors';

/** Options of {@link LogFile}. @public */
export interface LogFileOptions {
  /** `log_file`: the log's name; segments are named after it. Relative names are taken from `baseDir`. */
  file: string;
  /** Where a relative `file` is. @defaultValue the working directory */
  baseDir?: string;
  /** `log_segment`: when a segment is closed and the next one begun. @defaultValue 10 MB */
  segment?: LogSegment;
  /** `log_expire`: which old segments are deleted. @defaultValue the newest 10 files are kept */
  expire?: LogExpire;
  /** `log_time_convert`. @defaultValue 'local' */
  timeConvert?: LogTimeConvert;
  /** `log_time_format`. @defaultValue 'time' */
  timeFormat?: LogTimeFormat;
  /** Locale of the `locale` time format. @defaultValue the system's */
  locale?: string;
  /** The clock, in milliseconds since the Epoch. @defaultValue Date.now */
  now?: () => number;
}

/**
 * The log file could not be created or written (`ERR_SIP_LOG_FILE`); `file` names it and
 * `cause` holds the system error.
 *
 * @public
 */
export class LogFileError extends SipError {
  /** The file (or directory) that could not be written. */
  readonly file: string;

  constructor(file: string, action: string, cause: unknown) {
    super('ERR_SIP_LOG_FILE', `log file ${file} could not be ${action}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.file = file;
  }
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * One log record as lines of text: `<time> <level name> <component>: <first line>`, then the
 * message's further lines (a SIP message, say) each after a tab, so that every line that does
 * not start with a tab starts a record.
 *
 * @public
 */
export function formatLogRecord(time: number, level: LogLevel, component: string, message: string, format: LogTimeFormat = 'time', convert: LogTimeConvert = 'local', locale?: string): string {
  const lines = message.replace(/(?:\r?\n)+$/, '').split(/\r?\n/);
  const head = `${formatLogTime(time, format, convert, locale)} ${LOG_LEVEL_NAMES[level]} ${component}: ${lines[0] ?? ''}`;
  return [head, ...lines.slice(1).map((line) => `\t${line}`)].join('\n') + '\n';
}

interface SegmentInfo {
  path: string;
  stamp: string;
  sequence: number;
  mtimeMs: number;
}

/**
 * A log written in segments, as `system.diagnostics` describes: each segment is a file named
 * after `log_file` with the time it was begun (`SipEndpoint.20240131_101500_123.log`), a new one
 * is begun at each start and whenever the current one would exceed the `log_segment` size (or
 * has been open `log_segment` hours), and after each new segment the ones `log_expire` no longer
 * keeps are deleted (beyond the newest N files, or last written more than N days ago).
 *
 * @remarks
 * Writes are synchronous: a record is on disk when `write()` returns, lines of different
 * records never interleave, and the segment size is exact. Only files whose names match the
 * segment pattern of this `log_file` are ever deleted. Failures throw {@link LogFileError}.
 *
 * @public
 */
export class LogFile {
  /** The directory of the segments. */
  readonly directory: string;
  readonly #stem: string;
  readonly #extension: string;
  readonly #pattern: RegExp;
  readonly #options: LogFileOptions;
  readonly #now: () => number;
  #fd: number | undefined;
  #path: string | undefined;
  #size = 0;
  #openedAt = 0;
  #lastExpiry = 0;
  #closed = false;

  constructor(options: LogFileOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const full = resolve(options.baseDir ?? process.cwd(), options.file);
    this.directory = dirname(full);
    const extension = extname(full);
    this.#extension = extension || '.log';
    this.#stem = basename(full, extension);
    this.#pattern = new RegExp(`^${escapeRegExp(this.#stem)}\\.(\\d{8}_\\d{6}_\\d{3})(?:_(\\d+))?${escapeRegExp(this.#extension)}$`);
  }

  /** The segment being written, once the first record is written. */
  get path(): string | undefined {
    return this.#path;
  }

  /** Begins a new segment (creating the directory when needed) and deletes expired ones. */
  open(): void {
    this.#begin(this.#now());
  }

  #begin(now: number): void {
    if (this.#closed) return;
    this.#closeSegment();
    try {
      mkdirSync(this.directory, { recursive: true });
    } catch (error) {
      throw new LogFileError(this.directory, 'created', error);
    }
    const stamp = segmentStamp(now, this.#options.timeConvert ?? 'local');
    for (let sequence = 0; ; sequence++) {
      const path = join(this.directory, `${this.#stem}.${stamp}${sequence > 0 ? `_${sequence}` : ''}${this.#extension}`);
      try {
        this.#fd = openSync(path, 'wx');
        this.#path = path;
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST' && sequence < 1000) continue;
        throw new LogFileError(path, 'created', error);
      }
    }
    this.#size = 0;
    this.#openedAt = now;
    this.#expire(now);
  }

  /** Writes one record, beginning a new segment first when the current one is full or old. Does nothing after `close()`. */
  write(level: LogLevel, component: string, message: string): void {
    if (this.#closed) return;
    const now = this.#now();
    const text = formatLogRecord(now, level, component, message, this.#options.timeFormat ?? 'time', this.#options.timeConvert ?? 'local', this.#options.locale);
    const bytes = Buffer.from(text, 'utf8');
    const segment = this.#options.segment ?? { kind: 'size', kilobytes: 10 * 1024 };
    if (this.#fd === undefined) this.#begin(now);
    else if (segment !== false && segment.kind === 'size' && this.#size > 0 && this.#size + bytes.length > segment.kilobytes * 1024) this.#begin(now);
    else if (segment !== false && segment.kind === 'time' && now - this.#openedAt >= segment.hours * HOUR_MS) this.#begin(now);
    else if (this.#options.expire && this.#options.expire.kind === 'days' && now - this.#lastExpiry >= HOUR_MS) this.#expire(now);
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(this.#fd!, bytes, written);
      this.#size += bytes.length;
    } catch (error) {
      throw new LogFileError(this.#path ?? this.directory, 'written', error);
    }
  }

  /** The segments of this log on disk, oldest first (by last write, then by name). */
  segments(): string[] {
    return this.#segmentInfos().map((segment) => segment.path);
  }

  /** Closes the current segment; later records are dropped. Calling it twice is harmless. */
  close(): void {
    this.#closed = true;
    this.#closeSegment();
  }

  #closeSegment(): void {
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } catch {
      // already closed by the system: nothing to flush, writes are synchronous.
    }
    this.#fd = undefined;
  }

  #segmentInfos(): SegmentInfo[] {
    let names: string[];
    try {
      names = readdirSync(this.directory);
    } catch {
      return [];
    }
    const result: SegmentInfo[] = [];
    for (const name of names) {
      const match = this.#pattern.exec(name);
      if (!match) continue;
      const path = join(this.directory, name);
      try {
        result.push({ path, stamp: match[1]!, sequence: Number(match[2] ?? 0), mtimeMs: statSync(path).mtimeMs });
      } catch {
        // deleted meanwhile
      }
    }
    return result.sort((a, b) => a.mtimeMs - b.mtimeMs || a.stamp.localeCompare(b.stamp) || a.sequence - b.sequence);
  }

  /** Deletes the segments `log_expire` does not keep; never the current one. */
  #expire(now: number): void {
    this.#lastExpiry = now;
    const expire = this.#options.expire ?? { kind: 'files', count: 10 };
    if (expire === false) return;
    const others = this.#segmentInfos().filter((segment) => segment.path !== this.#path);
    const doomed =
      expire.kind === 'files'
        ? others.slice(0, Math.max(0, others.length - (expire.count - (this.#path ? 1 : 0))))
        : others.filter((segment) => segment.mtimeMs < now - expire.count * DAY_MS);
    for (const segment of doomed) {
      try {
        unlinkSync(segment.path);
      } catch {
        // gone already, or not ours to delete: the next expiry tries again.
      }
    }
  }
}
