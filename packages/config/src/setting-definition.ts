import type { SettingType } from './setting-type';

/**
 * What happens when a setting's value is not valid.
 * - `default`: the default is used and a warning is recorded (the spec's usual rule);
 * - `error`: a {@link ConfigError} is thrown (no safe value exists);
 * - `{ fallback }`: this text is used and a warning recorded (e.g. `sip_code_when_headset_na` uses 480).
 *
 * @public
 */
export type InvalidValueRule = 'default' | 'error' | { fallback: string };

/**
 * Whether the SDK acts on a setting, beyond reading and validating it:
 * - `yes`: code outside `@sip-endpoint/config` reads the value and does what the description says;
 * - `no`: the value is read, validated and written back, but nothing acts on it yet (e.g. ICE,
 *   SRTP, the GUI settings), whatever the description says the setting does;
 * - `{ partly }`: part of it is applied; the text says which part is and which is not.
 *
 * `packages/config/test/applied.test.ts` checks the column against the code of the other packages.
 *
 * @public
 */
export type AppliedStatus = 'yes' | 'no' | { readonly partly: string };

/**
 * One row of the settings table: everything the SDK knows about one setting.
 *
 * @remarks
 * Keys are `domain.section.setting`. Two placeholders stand for a family of keys:
 * `proxy<n>` for `proxy0` to `proxy5` (one per Connectivity line) and `<codec>` for a codec name.
 *
 * @public
 */
export interface SettingDefinition<K extends string = string, T = unknown, R extends boolean = boolean> {
  /** Dotted key, possibly with `<n>` or `<codec>` placeholders. */
  readonly key: K;
  /** How the value is read, written, documented and described in JSON Schema. */
  readonly type: SettingType<T>;
  /**
   * The default as setting text (for repeatable settings, the list of texts).
   * `undefined` when the default is derived from other settings (see `defaultText`).
   */
  readonly default: R extends true ? readonly string[] : string | undefined;
  /** The default in words, when it is derived from other settings. */
  readonly defaultText?: string;
  /** What an invalid value turns into. */
  readonly onInvalid: InvalidValueRule;
  /** The setting may appear several times in its section; file order is priority. */
  readonly repeatable: R;
  /** Other names of the same setting (e.g. a deprecated spelling). */
  readonly aliases?: readonly string[];
  /**
   * `spec`: from the specification; `deployment`: sent by real deployments, its rules chosen by
   * this SDK; `sdk`: this SDK's own addition (a feature the specification does not have).
   */
  readonly origin: 'spec' | 'deployment' | 'sdk';
  /** What the setting does, for the reference docs. */
  readonly description: string;
  /** Whether the SDK acts on the setting yet (see {@link AppliedStatus}). */
  readonly applied: AppliedStatus;
  /**
   * The value names a file on the agent's disk that the endpoint reads or writes (a log, a
   * ringtone, a certificate): the Connector API refuses overrides of it (a desktop page must not
   * choose paths on the agent's disk). Absent means false.
   */
  readonly namesFile?: boolean;
}

/** Fields of {@link setting}; `repeatable`, `onInvalid` and `origin` have defaults. */
export interface SettingInit<K extends string, T, R extends boolean> {
  key: K;
  type: SettingType<T>;
  default: R extends true ? readonly string[] : string | undefined;
  defaultText?: string;
  onInvalid?: InvalidValueRule;
  repeatable?: R;
  aliases?: readonly string[];
  origin?: 'spec' | 'deployment' | 'sdk';
  description: string;
  /** Required: every row says whether it is applied. */
  applied: AppliedStatus;
  namesFile?: boolean;
}

/**
 * Declares one row of the settings table.
 *
 * @public
 */
export function setting<const K extends string, T, R extends boolean = false>(init: SettingInit<K, T, R>): SettingDefinition<K, T, R> {
  return {
    ...init,
    onInvalid: init.onInvalid ?? 'default',
    repeatable: (init.repeatable ?? false) as R,
    origin: init.origin ?? 'spec',
  };
}

/** The indexes `proxy<n>` stands for: one per Connectivity line. @public */
export type ProxyIndex = 0 | 1 | 2 | 3 | 4 | 5;

/** Number of Connectivity lines (and `proxies.proxy<n>` sections) an endpoint uses. @public */
export const MAX_CONNECTIVITIES = 6;

/** Expands the placeholders of a table key into the keys it stands for, as a type. @public */
export type ExpandKey<K extends string> = K extends `${infer A}<n>${infer B}`
  ? ExpandKey<`${A}${ProxyIndex}${B}`>
  : K extends `${infer A}<codec>${infer B}`
    ? `${A}${string}${B}`
    : K;
