import { SipEndpointError } from '@sip-endpoint/config';

/**
 * The sound server cannot be used: `pactl` is not installed, the server does not answer, or a
 * playback or recording child (`pacat`, `parec`) stopped with the reason it printed. Thrown by
 * `new PulseAudioProvider()` when `pactl` is missing and by `refresh()`; emitted as the provider's
 * `soundServerError` event for what happens later, away from any caller (a stream's child
 * failing, a volume command refused).
 *
 * @public
 */
export class SoundServerError extends SipEndpointError {
  declare readonly code: 'ERR_MEDIA_SOUND_SERVER';
  /** The device concerned, when there is one. */
  readonly deviceId: string | undefined;

  constructor(message: string, deviceId?: string) {
    super('ERR_MEDIA_SOUND_SERVER', message);
    this.deviceId = deviceId;
  }
}
