import { existsSync } from 'node:fs';
import type { EndpointConfig, ProxyIndex } from '@sip-endpoint/config';
import { resolveMediaFile } from '@sip-endpoint/media';

/**
 * What a warning is about:
 * - `WARN_CONFIG_SETTING`: a setting had a value the specification's fallback replaced, or named
 *   no setting this SDK knows (a mistyped key in the file or in `config.with()`); `setting` names it.
 * - `WARN_PASSWORD_WITHOUT_REGISTRATION`: a line has a password but `reg_timeout` is 0 or empty,
 *   so it is stand-alone and never registers (as the specification says).
 * - `WARN_MEDIA_FILE_MISSING`: a ringtone, call-waiting or ringback file the configuration names
 *   is not there (neither where it points, nor among the sample files media ships): that sound stays silent.
 * - `WARN_CONFIG_PATH`: `config` was the path of a file rather than XML text; the file was read.
 *
 * @public
 */
export type EndpointWarningCode = 'WARN_CONFIG_SETTING' | 'WARN_PASSWORD_WITHOUT_REGISTRATION' | 'WARN_MEDIA_FILE_MISSING' | 'WARN_CONFIG_PATH';

/** Something the endpoint goes on with, but that its host should know (the `warning` event). @public */
export interface EndpointWarning {
  code: EndpointWarningCode;
  message: string;
  /** The setting concerned, when there is one (`proxies.proxy0.password`). */
  setting?: string;
}

/** The media files the configuration will play, by setting. */
function mediaSettings(config: EndpointConfig): string[] {
  const ringing = config.get('policy.session.ringing_enabled');
  const keys: string[] = [];
  if ([1, 3, 4, 5, 7].includes(ringing)) keys.push('system.media.ringing_file');
  if ([2, 3, 6, 7].includes(ringing)) keys.push('policy.session.ringing_file');
  if (config.get('policy.session.callwait_tone_enabled')) keys.push('policy.session.callwait_tone_file');
  if ([2, 3, 6].includes(config.get('policy.session.ringback_enabled'))) keys.push('policy.session.ringback_file');
  return keys;
}

/** The warnings a configuration gives at start (see {@link EndpointWarningCode}). */
export function configurationWarnings(config: EndpointConfig, mediaDir: string): EndpointWarning[] {
  const warnings: EndpointWarning[] = config.warnings.map((warning) => ({
    code: 'WARN_CONFIG_SETTING',
    setting: warning.key,
    message: `${warning.message}${warning.line !== undefined ? ` (line ${warning.line})` : ''}`,
  }));
  for (const connectivity of config.connectivities) {
    const proxy = `proxies.proxy${connectivity.index as ProxyIndex}` as const;
    if (config.get(`${proxy}.reg_timeout`) === 0 && config.get(`${proxy}.password`) !== '') {
      warnings.push({
        code: 'WARN_PASSWORD_WITHOUT_REGISTRATION',
        setting: `${proxy}.reg_timeout`,
        message: `line ${connectivity.index} has a password but ${proxy}.reg_timeout is 0 or empty: it is stand-alone and never registers (give reg_timeout a number of seconds to register)`,
      });
    }
  }
  const layer = config.get('policy.endpoint.webrtc_audio_layer');
  const windowsOnly = [layer % 500 !== 0 ? `the audio layer type ${layer % 500}` : '', layer % 1000 >= 500 ? 'MMCSS (500)' : ''].filter((part) => part !== '');
  if (windowsOnly.length > 0) {
    warnings.push({
      code: 'WARN_CONFIG_SETTING',
      setting: 'policy.endpoint.webrtc_audio_layer',
      message: `policy.endpoint.webrtc_audio_layer ${layer}: ${windowsOnly.join(' and ')} ${windowsOnly.length > 1 ? 'are Windows\' and change' : 'is Windows\' and changes'} nothing here (the endpoint's audio layer is its device provider); only the keep-open part (1000, 2000, 3000) is applied`,
    });
  }
  for (const key of mediaSettings(config)) {
    const file = String(config.get(key as 'system.media.ringing_file'));
    if (file === '') continue;
    const path = resolveMediaFile(file, mediaDir);
    if (!existsSync(path)) warnings.push({ code: 'WARN_MEDIA_FILE_MISSING', setting: key, message: `${key}: ${path} does not exist, so that sound stays silent (give a WAV file, or the endpoint's mediaDir)` });
  }
  return warnings;
}
