/**
 * The `code` of every error this package throws (each error is a `SipEndpointError`), for a
 * `switch` on `error.code` that the compiler checks.
 *
 * @remarks
 * The README's "Errors" table says which class carries each code and when it is thrown; a test
 * keeps this union, that table and the codes in the sources the same.
 *
 * @public
 */
export type MediaErrorCode =
  | 'ERR_MEDIA_SOCKET'
  | 'ERR_MEDIA_PORTS_EXHAUSTED'
  | 'ERR_MEDIA_PORT_RANGE_INVALID'
  | 'ERR_MEDIA_SDP_INVALID'
  | 'ERR_MEDIA_STREAM_CLOSED'
  | 'ERR_MEDIA_CODEC_CLOSED'
  | 'ERR_MEDIA_DTMF_DIGIT_INVALID'
  | 'ERR_MEDIA_DTMF_NOT_SENT'
  | 'ERR_MEDIA_SAMPLE_RATE_INVALID'
  | 'ERR_MEDIA_WAV_UNSUPPORTED'
  | 'ERR_MEDIA_WAV_MALFORMED'
  | 'ERR_MEDIA_DEVICE_NOT_FOUND'
  | 'ERR_MEDIA_INVALID_ARGUMENT'
  | 'ERR_MEDIA_SOUND_SERVER'
  | 'ERR_MEDIA_SRTP_INVALID'
  | 'ERR_MEDIA_DTLS_FAILED'
  | 'ERR_MEDIA_ICE_FAILED'
  | 'ERR_MEDIA_WEBRTC_UNAVAILABLE'
  | 'ERR_MEDIA_WORKER'
  | 'ERR_MEDIA_AUDIO_PROCESSING';
