import type { SettingType } from './setting-type';

/**
 * `system.security.use_srtp`, normalised:
 * - `optional`: send plain offers, accept secure ones (also written `allowed`);
 * - `disabled`: send plain offers, reject secure ones (also `off`);
 * - `elective`: offer both, accept either (also `both`);
 * - `enabled`: send secure offers, accept both;
 * - `mandatory`: send secure offers, reject plain ones (also `force`).
 *
 * @public
 */
export type SrtpMode = 'optional' | 'disabled' | 'elective' | 'enabled' | 'mandatory';

/** @public */
export interface SrtpPolicy {
  mode: SrtpMode;
  /** `,UEC` or `,UNENCRYPTED_SRTCP` was added: offers carry UNENCRYPTED_SRTCP (RTCP authenticated, not encrypted). */
  unencryptedSrtcp: boolean;
}

const MODES: Record<string, SrtpMode> = {
  optional: 'optional',
  allowed: 'optional',
  disabled: 'disabled',
  off: 'disabled',
  elective: 'elective',
  both: 'elective',
  enabled: 'enabled',
  force: 'mandatory',
  mandatory: 'mandatory',
};

/** @public */
export const srtpPolicyType: SettingType<SrtpPolicy> = {
  label: 'SRTP policy',
  values: 'optional|allowed, disabled|off, elective|both, enabled, force|mandatory; optionally followed by ,UEC or ,UNENCRYPTED_SRTCP',
  schema: {
    type: 'object',
    properties: {
      mode: { enum: ['optional', 'disabled', 'elective', 'enabled', 'mandatory'] },
      unencryptedSrtcp: { type: 'boolean' },
    },
    required: ['mode', 'unencryptedSrtcp'],
    additionalProperties: false,
  },
  emptyIsValue: false,
  parse(text) {
    const parts = text.split(',').map((part) => part.trim().toLowerCase()).filter((part) => part !== '');
    const [first, ...rest] = parts;
    // Stryker disable next-line ConditionalExpression: Object.hasOwn(MODES, undefined) looks for the key "undefined", which MODES lacks; the test is there for the types.
    const mode = first !== undefined && Object.hasOwn(MODES, first) ? MODES[first] : undefined;
    if (mode === undefined) return { ok: false, reason: `"${text}" does not start with an SRTP mode` };
    let unencryptedSrtcp = false;
    for (const suffix of rest) {
      if (suffix === 'uec' || suffix === 'unencrypted_srtcp') unencryptedSrtcp = true;
      else return { ok: false, reason: `"${suffix}" is not UEC or UNENCRYPTED_SRTCP` };
    }
    return { ok: true, value: { mode, unencryptedSrtcp } };
  },
  format: (value) => (value.unencryptedSrtcp ? `${value.mode},UEC` : value.mode),
};
