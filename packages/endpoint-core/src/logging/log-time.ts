/**
 * `system.diagnostics.log_time_format`: `time` (HH:MM:SS.sss), `locale` (the system's locale) or
 * `ISO8601` (2001-07-24T04:58:10.123).
 *
 * @public
 */
export type LogTimeFormat = 'time' | 'locale' | 'ISO8601';

/**
 * `system.diagnostics.log_time_convert`: whether record times are local or UTC.
 *
 * @public
 */
export type LogTimeConvert = 'local' | 'utc';

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

interface TimeParts {
  year: number;
  month: number;
  day: number;
  hours: number;
  minutes: number;
  seconds: number;
  millis: number;
}

function parts(date: Date, convert: LogTimeConvert): TimeParts {
  return convert === 'utc'
    ? { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), hours: date.getUTCHours(), minutes: date.getUTCMinutes(), seconds: date.getUTCSeconds(), millis: date.getUTCMilliseconds() }
    : { year: date.getFullYear(), month: date.getMonth() + 1, day: date.getDate(), hours: date.getHours(), minutes: date.getMinutes(), seconds: date.getSeconds(), millis: date.getMilliseconds() };
}

/**
 * The time field of a log record.
 *
 * @remarks
 * `time` gives `HH:MM:SS.sss`; `ISO8601` gives `YYYY-MM-DDTHH:MM:SS.sss` as in the
 * specification's example, with a `Z` appended for UTC so that the text is not read as local
 * time; `locale` gives `Date.toLocaleString` in `locale` (the system's by default), in UTC when
 * `convert` is `utc`.
 *
 * @param time - milliseconds since the Epoch
 * @param format - `log_time_format`
 * @param convert - `log_time_convert`
 * @param locale - a BCP 47 locale for `locale`; the system's when omitted
 * @public
 */
export function formatLogTime(time: number, format: LogTimeFormat, convert: LogTimeConvert, locale?: string): string {
  const date = new Date(time);
  if (format === 'locale') return date.toLocaleString(locale, convert === 'utc' ? { timeZone: 'UTC' } : {});
  const p = parts(date, convert);
  const clock = `${pad(p.hours)}:${pad(p.minutes)}:${pad(p.seconds)}.${pad(p.millis, 3)}`;
  if (format === 'time') return clock;
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${clock}${convert === 'utc' ? 'Z' : ''}`;
}

/** `YYYYMMDD_HHMMSS_mmm`, the stamp in a log segment's file name. */
export function segmentStamp(time: number, convert: LogTimeConvert): string {
  const p = parts(new Date(time), convert);
  return `${pad(p.year, 4)}${pad(p.month)}${pad(p.day)}_${pad(p.hours)}${pad(p.minutes)}${pad(p.seconds)}_${pad(p.millis, 3)}`;
}
