import type { SettingType } from './setting-type';

/** A tab of the Softphone window. @public */
export type GuiTab = 'status' | 'calls' | 'devices';

const TAB_NAMES: Record<string, GuiTab> = {
  status: 'status',
  stat: 'status',
  calls: 'calls',
  call: 'calls',
  devices: 'devices',
  dev: 'devices',
};

/**
 * `policy.endpoint.gui_tabs`: tab names in order, case-sensitive, short forms `stat`, `call`, `dev`.
 * Unknown and repeated names are ignored (each noted); a value with no known name is invalid,
 * which the table turns into the spec's fallback, the single tab `status`.
 *
 * @public
 */
export const guiTabsType: SettingType<GuiTab[]> = {
  label: 'tab list',
  values: 'comma-separated status, calls, devices (or stat, call, dev), case-sensitive',
  schema: { type: 'array', items: { enum: ['status', 'calls', 'devices'] }, uniqueItems: true, minItems: 1 },
  emptyIsValue: true,
  parse(text) {
    const tabs: GuiTab[] = [];
    const notes: string[] = [];
    for (const raw of text.split(',')) {
      const name = raw.trim();
      if (name === '') continue;
      const tab = Object.hasOwn(TAB_NAMES, name) ? TAB_NAMES[name] : undefined;
      if (tab === undefined) notes.push(`unknown tab name "${name}" ignored`);
      else if (tabs.includes(tab)) notes.push(`repeated tab name "${name}" ignored`);
      else tabs.push(tab);
    }
    if (tabs.length === 0) return { ok: false, reason: `"${text}" names no known tab` };
    return notes.length > 0 ? { ok: true, value: tabs, notes } : { ok: true, value: tabs };
  },
  format: (tabs) => tabs.join(','),
};
