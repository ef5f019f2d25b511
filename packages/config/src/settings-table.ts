import { guiTabsType } from './gui-tabs';
import { headsetPairsType } from './headset-pairs';
import { ipVersionsType } from './ip-versions';
import { logExpireType, logSegmentType } from './log-rotation';
import { publicAddressType } from './public-address-spec';
import { setting } from './setting-definition';
import { choice, codeOf, commaList, decimal, flag, integer, optional, regex, text, type SettingType } from './setting-type';
import { srtpPolicyType } from './srtp-policy';

const port = integer({ min: 1, max: 65535 });
const portOrZero = integer({ min: 0, max: 65535 });
const sipCode = integer({ min: 400, max: 699 });
const zeroOrOne = codeOf([0, 1] as const);

/** An optional port: empty means "not set" (`null`). */
const optionalPort: SettingType<number | null> = {
  label: 'port or empty',
  values: '1 to 65535, or empty',
  schema: { anyOf: [{ type: 'null' }, { type: 'integer', minimum: 1, maximum: 65535 }] },
  emptyIsValue: true,
  parse(value) {
    if (value.trim() === '') return { ok: true, value: null };
    return port.parse(value);
  },
  format: (value) => (value === null ? '' : String(value)),
};

/**
 * The settings table: the single source of truth for every setting's type, default, valid
 * values, fallback and description. Parsing, validation, the JSON Schema, the TypeScript
 * types of `config.get()` and `docs/configuration.md` are all derived from it.
 *
 * @public
 */
export const SETTINGS = [
  // ---------------------------------------------------------------- policy.endpoint
  setting({
    key: 'policy.endpoint.defer_device_release',
    type: integer({ min: 0 }),
    default: '200',
    description: 'Milliseconds to wait before releasing the audio devices after a stream stops, so that a stream restarted at once does not reopen them. 0 releases at once.',
  }),
  setting({
    key: 'policy.endpoint.gui_call_lines',
    type: integer({ min: 1, max: 7 }),
    default: '3',
    description: 'Number of phone lines shown in the first-party call control tab.',
  }),
  setting({
    key: 'policy.endpoint.gui_tabs',
    type: guiTabsType,
    default: 'status,calls,devices',
    onInvalid: { fallback: 'status' },
    description: 'Tabs shown and their order. Unknown and repeated names are ignored; a value with no known name falls back to the single tab `status`.',
  }),
  setting({
    key: 'policy.endpoint.include_mac_address',
    type: flag(),
    default: '0',
    description: 'When 1, the Contact of REGISTER carries the MAC address of the interface in use, in the RFC 5626 `+sip.instance` form.',
  }),
  setting({
    key: 'policy.endpoint.include_os_version_in_user_agent_header',
    type: flag(),
    default: '1',
    description: 'When 1, the User-Agent header names the operating system version.',
  }),
  setting({
    key: 'policy.endpoint.include_sdk_version_in_user_agent_header',
    type: flag(),
    default: '1',
    description: 'When 1, the User-Agent header names the SDK version.',
  }),
  setting({
    key: 'policy.endpoint.ip_versions',
    type: ipVersionsType,
    default: 'IPv4',
    description: 'IP families allowed for the local address, in order of preference. No effect when `public_address` is an explicit IP address.',
  }),
  setting({
    key: 'policy.endpoint.public_address',
    type: publicAddressType,
    default: '',
    onInvalid: 'error',
    description: 'The local address: an IP, a host name or FQDN (then used as is in Contact), or one of the `$` forms that pick an address from the machine\'s interfaces. Empty is `$auto`. SDP always carries an address.',
  }),
  setting({
    key: 'policy.endpoint.rtp_inactivity_timeout',
    type: integer({ min: 5, max: 150 }),
    default: '150',
    description: 'Seconds without any RTP received after which the call is considered dead. 30 is suggested.',
  }),
  setting({
    key: 'policy.endpoint.rtp_port_binding',
    type: zeroOrOne,
    default: '1',
    description: '0 binds RTP and RTCP on every interface; 1 binds them on the interface of `public_address` only. With 0, `ip_versions` should name one family.',
  }),
  setting({
    key: 'policy.endpoint.rtp_port_min',
    type: port,
    default: '9000',
    description: 'Lowest RTP port. Missing or invalid: 9000. Above `rtp_port_max`: an error, the endpoint does not start.',
  }),
  setting({
    key: 'policy.endpoint.rtp_port_max',
    type: port,
    default: undefined,
    defaultText: 'rtp_port_min + 999',
    description: 'Highest RTP port. Missing or invalid: `rtp_port_min` + 999. Below `rtp_port_min`: an error, the endpoint does not start.',
  }),
  setting({
    key: 'policy.endpoint.tcp_port_min',
    type: portOrZero,
    default: '0',
    description: 'Lowest local port of client TCP/TLS connections. 0, or a range that is not valid, lets the system choose (ephemeral ports).',
  }),
  setting({
    key: 'policy.endpoint.tcp_port_max',
    type: portOrZero,
    default: '0',
    description: 'Highest local port of client TCP/TLS connections; used when non-zero and greater than `tcp_port_min`.',
  }),
  setting({
    key: 'policy.endpoint.sip_port_min',
    type: port,
    default: '5060',
    description: 'Lowest local SIP port (the next one is tried when a port is busy). Missing or invalid: 5060. Above `sip_port_max`: an error.',
  }),
  setting({
    key: 'policy.endpoint.sip_port_max',
    type: port,
    default: undefined,
    defaultText: 'sip_port_min + 6',
    description: 'Highest local SIP port. Missing or invalid: `sip_port_min` + 6. Below `sip_port_min`: an error.',
  }),
  setting({
    key: 'policy.endpoint.sip_port_binding',
    type: zeroOrOne,
    default: '0',
    origin: 'deployment',
    description: '0 listens for SIP on every interface; 1 only on the interface of `public_address`.',
  }),
  setting({
    key: 'policy.endpoint.sip_transaction_timeout',
    type: integer({ min: 1, max: 32000 }),
    default: '32000',
    description: 'Milliseconds after which a SIP transaction without a final response times out (Timer B and F).',
  }),
  setting({
    key: 'policy.endpoint.vq_alarm_threshold',
    type: decimal({ min: 1, max: 5, orExactly: 0 }),
    default: '0',
    description: 'MOS below which a voice-quality alarm is raised; 0 disables alarms. 3.5 is recommended; above 4.2 some codecs never reach it.',
  }),
  setting({
    key: 'policy.endpoint.vq_report_collector',
    type: text('collector address (user@host:port), or empty'),
    default: '',
    description: 'Where RTCP-XR voice-quality reports are published (a SIP address). Empty: no collector.',
  }),
  setting({
    key: 'policy.endpoint.vq_report_publish',
    type: flag(),
    default: '0',
    description: 'When 1, voice-quality reports are published to `vq_report_collector` at the end of a call.',
  }),
  setting({
    key: 'policy.endpoint.webrtc_audio_layer',
    type: codeOf([0, 1, 2, 500, 501, 502, 1000, 1001, 1002, 2000, 2001, 2002, 3000, 3001, 3002] as const),
    default: '0',
    description: 'Audio layer of the Windows media stack (0 default, 1 wave, 2 core audio; +500 keeps MMCSS alive, +1000 keeps the microphone open, +2000 the speaker, +3000 both). Kept for compatibility; the Node audio providers read the open-for-life bits only.',
  }),
  // ---------------------------------------------------------------- policy.session
  setting({
    key: 'policy.session.agc_mode',
    type: zeroOrOne,
    default: '1',
    description: 'Automatic gain control on the microphone: 1 on, 0 off.',
  }),
  setting({
    key: 'policy.session.rx_agc_mode',
    type: zeroOrOne,
    default: '0',
    description: 'Automatic gain control on the received stream: 1 on, 0 off.',
  }),
  setting({
    key: 'policy.session.auto_answer',
    type: flag(),
    default: '0',
    description: 'When 1, incoming calls are answered automatically unless the device rules block auto-answer.',
  }),
  setting({
    key: 'policy.session.auto_answer_delay',
    type: integer({ min: 0, max: 3600 }),
    default: '0',
    origin: 'deployment',
    description: 'Seconds to wait before an automatic answer, when the request gives no `answer-after`.',
  }),
  setting({
    key: 'policy.session.answer_sdp_priority',
    type: choice(['local', 'remote'] as const, { aliases: { '0': 'local', '1': 'remote', config: 'local', offer: 'remote' } }),
    default: 'local',
    origin: 'deployment',
    description: 'When answering an offer: `local` picks the first codec of our priority list that the offer has; `remote` picks the first codec of the offer that we support.',
  }),
  setting({
    key: 'policy.session.reject_session_when_busy',
    type: flag(),
    default: '0',
    origin: 'deployment',
    description: 'When 1, an incoming call is rejected with `sip_code_when_busy` while `number_sessions_for_busy` calls are already active or held.',
  }),
  setting({
    key: 'policy.session.number_sessions_for_busy',
    type: integer({ min: 1, max: 100 }),
    default: '1',
    origin: 'deployment',
    description: 'How many existing calls make the endpoint busy, for `reject_session_when_busy`.',
  }),
  setting({
    key: 'policy.session.sip_code_when_busy',
    type: sipCode,
    default: '486',
    onInvalid: { fallback: '486' },
    origin: 'deployment',
    description: 'SIP response code of a busy rejection (400 to 699; otherwise 486 Busy Here).',
  }),
  setting({
    key: 'policy.session.callwait_tone_enabled',
    type: flag(),
    default: '1',
    description: 'When 1, the call-waiting tone is played.',
  }),
  setting({
    key: 'policy.session.callwait_tone_file',
    type: text('empty, or a WAV file path'),
    default: 'callwait.wav',
    description: 'Call-waiting tone: a RIFF WAVE file (PCM 16-bit mono or stereo at 8, 16 or 32 kHz, A-law or mu-law), relative to the working directory or absolute.',
  }),
  setting({
    key: 'policy.session.dtmf_feedback',
    type: flag(),
    default: '1',
    description: 'When 1, DTMF digits sent to the far end are also played locally.',
  }),
  setting({
    key: 'policy.session.dtmf_method',
    type: choice(['Rfc2833', 'Info', 'InbandRtp'] as const),
    default: 'Rfc2833',
    description: 'How DTMF is sent: RFC 2833/4733 telephone-event packets, SIP INFO, or tones in the audio.',
  }),
  setting({
    key: 'policy.session.echo_control',
    type: flag(),
    default: '1',
    description: 'When 1, echo control is on.',
  }),
  setting({
    key: 'policy.session.noise_suppression',
    type: flag(),
    default: '1',
    description: 'When 1, noise suppression is on.',
  }),
  setting({
    key: 'policy.session.dtx_mode',
    type: flag(),
    default: '0',
    description: 'When 1, discontinuous transmission is on (no packets during silence, where the codec allows it).',
  }),
  setting({
    key: 'policy.session.reject_session_when_headset_na',
    type: flag(),
    default: '0',
    description: 'With `use_headset` = 1: when 1 and no headset is present, incoming calls are rejected with `sip_code_when_headset_na` and outgoing calls are refused.',
  }),
  setting({
    key: 'policy.session.sip_code_when_headset_na',
    type: sipCode,
    default: '480',
    onInvalid: { fallback: '480' },
    description: 'SIP response code when a call is rejected for want of a headset (400 to 699; otherwise 480 Temporarily Unavailable).',
  }),
  setting({
    key: 'policy.session.vad_level',
    type: integer({ min: 0, max: 3 }),
    default: '0',
    description: 'Voice activity detection aggressiveness, 0 (conventional) to 3 (aggressive).',
  }),
  setting({
    key: 'policy.session.ringing_enabled',
    type: codeOf([0, 1, 2, 3, 4, 5, 6, 7] as const),
    default: '1',
    description: 'Where the ringtone plays: 0 nowhere; 1 system default device (`system.media.ringing_file`); 2 communication device (`policy.session.ringing_file`); 3 both; 4 the `ringer_device`; 5 system default and ringer device; 6 communication device, once for the whole file; 7 system default and communication device, once for the whole file.',
  }),
  setting({
    key: 'policy.session.ringing_timeout',
    type: integer({ min: 0 }),
    default: '0',
    description: 'Seconds the ringtone plays; 0 or empty means until the call is answered or ends. Ignored by `ringing_enabled` 6 and 7.',
  }),
  setting({
    key: 'policy.session.ringing_file',
    type: text('empty, or a WAV file path'),
    default: 'ringing.wav',
    description: 'Ringtone played on the communication device (headset): a RIFF WAVE file as for `callwait_tone_file`.',
  }),
  setting({
    key: 'policy.session.ringback_enabled',
    type: codeOf([0, 1, 2, 3, 4, 6] as const),
    default: '0',
    description: 'Ringback while an outgoing call is not yet answered: 0 none; 1 early media of a reliable provisional response; 2 the local `ringback_file`; 3 early media, else the file; 4 as 1 even for unreliable provisional responses; 6 as 3 even for unreliable ones.',
  }),
  setting({
    key: 'policy.session.ringing_while_call_held',
    type: flag(),
    default: '1',
    description: 'When 1, a new call rings normally while the other calls are held; when 0, the call-waiting tone plays instead.',
  }),
  setting({
    key: 'policy.session.ringback_file',
    type: text('empty, or a WAV file path (16-bit, 8, 16 or 32 kHz)'),
    default: '',
    description: 'Local ringback tone file, for `ringback_enabled` 2, 3 and 6.',
  }),
  // ---------------------------------------------------------------- policy.device
  setting({
    key: 'policy.device.audio_in_device',
    type: text('device name or regular expression'),
    default: [],
    repeatable: true,
    description: 'Microphone to use when `use_headset` = 0: a device name or regular expression. May be repeated; the first present device wins.',
  }),
  setting({
    key: 'policy.device.audio_out_device',
    type: text('device name or regular expression'),
    default: [],
    repeatable: true,
    description: 'Speaker to use when `use_headset` = 0: a device name or regular expression. May be repeated; the first present device wins.',
  }),
  setting({
    key: 'policy.device.ringer_device',
    type: text('device name or regular expression'),
    default: [],
    repeatable: true,
    description: 'Separate ringer device, for `ringing_enabled` 4 and 5.',
  }),
  setting({
    key: 'policy.device.headset_name',
    type: text('device name, regular expression, or *'),
    default: ['*'],
    repeatable: true,
    description: 'Headset model to use when `use_headset` = 1: a name or regular expression; `*` is the default headset; an empty value matches nothing. May be repeated; file order is priority.',
  }),
  setting({
    key: 'policy.device.include_headset',
    type: headsetPairsType,
    default: '',
    description: 'Microphone:speaker pairs that count as a headset when `use_headset` = 1, e.g. `External Mic:Headphones`; names with quotes, colons or commas are quoted.',
  }),
  setting({
    key: 'policy.device.use_headset',
    type: flag(),
    default: '0',
    description: '1: use a headset found by `headset_name` / `include_headset` and ignore `audio_in_device` / `audio_out_device`; 0: use those two.',
  }),
  setting({
    key: 'policy.device.exclude_headset',
    type: regex(),
    default: '',
    description: 'Regular expression of devices never recognised as a headset (e.g. `Realtek`); their microphone and speaker can still be selected.',
  }),
  // ---------------------------------------------------------------- policy.connector
  setting({
    key: 'policy.connector.auto_restart',
    type: flag(),
    default: '1',
    description: 'When 1, the Softphone restarts after every client session.',
  }),
  setting({
    key: 'policy.connector.certificate_search_value',
    type: text('certificate thumbprint'),
    default: '',
    description: 'Thumbprint of the certificate of the HTTPS connector.',
  }),
  setting({
    key: 'policy.connector.certificate',
    type: text('PEM file path'),
    default: '',
    origin: 'deployment',
    description: 'This SDK\'s own setting: PEM file holding the certificate (chain) and private key of the HTTPS connector. Node cannot open a certificate store, so `https` needs this file; `certificate_search_value` alone is refused.',
  }),
  setting({
    key: 'policy.connector.enable_sessionid',
    type: flag(),
    default: '1',
    description: 'When 1, responses carry the session cookie (`SEPSESSIONID`). Must be 0 for Workspace Desktop Edition.',
  }),
  setting({
    key: 'policy.connector.partitioned_cookies',
    type: codeOf([0, 1, 2] as const),
    default: '2',
    description: 'The `Partitioned` cookie attribute: 0 never, 1 always, 2 for Chrome and Edge 118 and later.',
  }),
  setting({
    key: 'policy.connector.port',
    type: optionalPort,
    default: '',
    description: 'Port of the local HTTP(S) Connector API. Empty: no connector, the Softphone runs stand-alone.',
  }),
  setting({
    key: 'policy.connector.protocol',
    type: choice(['', 'http', 'https'] as const),
    default: '',
    description: '`http` or `https`. When set, `port` must be set too.',
  }),
  setting({
    key: 'policy.connector.allowed_origin_headers',
    type: commaList('comma-separated origins (FQDNs, or domains in star notation such as *.example.com)'),
    default: '',
    description: 'Origins allowed to use the connector (CORS). Empty allows any origin.',
  }),
  // ---------------------------------------------------------------- policy.codecs
  setting({
    key: 'policy.codecs.<codec>',
    type: optional(integer({ min: 1, max: 127 })),
    default: '',
    defaultText: '(not set: codec not offered)',
    description: 'Priority of the codec `NAME/RATE[/CHANNELS]` (1 to 127, unique; the higher, the earlier in offers). Used when the `codecs` domain has no `enabled.audio` list.',
  }),
  // ---------------------------------------------------------------- codecs
  setting({
    key: 'codecs.enabled.audio',
    type: commaList('comma-separated codec names in priority order'),
    default: '',
    description: 'Audio codecs offered, first is preferred (e.g. `opus,pcmu,pcma,g722`). Takes precedence over `policy.codecs`.',
  }),
  setting({
    key: 'codecs.enabled.video',
    type: commaList('comma-separated codec names in priority order'),
    default: '',
    description: 'Video codecs (kept for compatibility; this SDK carries audio only).',
  }),
  setting({
    key: 'codecs.<codec>.payload_type',
    type: optional(integer({ min: 0, max: 127 })),
    default: '',
    defaultText: '(not set: the media engine chooses)',
    description: 'RTP payload type the codec uses in offers.',
  }),
  setting({
    key: 'codecs.<codec>.fmtp',
    type: text('format parameters, as in an SDP a=fmtp line'),
    default: '',
    description: 'Format parameters sent for the codec (e.g. `minptime=10;useinbandfec=1` for opus).',
  }),
  // ---------------------------------------------------------------- proxies.proxy<n>
  setting({
    key: 'proxies.proxy<n>.display_name',
    type: text('text'),
    default: '',
    description: 'Display name of the line, used in From and Contact.',
  }),
  setting({
    key: 'proxies.proxy<n>.password',
    type: text('text'),
    default: '',
    description: 'Password for digest authentication of the line.',
  }),
  setting({
    key: 'proxies.proxy<n>.domain',
    type: text('SIP domain, or empty'),
    default: '',
    origin: 'deployment',
    description: 'Domain of the address of record, when it differs from the server host.',
  }),
  setting({
    key: 'proxies.proxy<n>.reg_interval',
    type: integer({ min: 0 }),
    default: '0',
    onInvalid: { fallback: '0' },
    description: 'Seconds before a new registration cycle after the proxy failed; 0 (also for empty or negative values) means no new cycle. The first retry comes after half a second whatever this says.',
  }),
  setting({
    key: 'proxies.proxy<n>.reg_match_received_rport',
    type: flag(),
    default: '0',
    aliases: ['reg_match_received_number'],
    description: 'Deprecated. When 1, the endpoint registers again when the `received`/`rport` of a REGISTER response shows another address than its own.',
  }),
  setting({
    key: 'proxies.proxy<n>.reg_timeout',
    type: integer({ min: 0 }),
    default: '0',
    onInvalid: { fallback: '0' },
    description: 'Registration expiry in seconds, refreshed before it ends. 0, empty or non-numeric: no REGISTER at all (stand-alone mode).',
  }),
  setting({
    key: 'proxies.proxy<n>.nat.ice_enabled',
    type: flag(),
    default: '0',
    description: 'When 1, ICE is used.',
  }),
  setting({
    key: 'proxies.proxy<n>.nat.stun_server',
    type: text('host name or address, or empty'),
    default: '',
    description: 'STUN server; empty means no STUN.',
  }),
  setting({
    key: 'proxies.proxy<n>.nat.stun_server_port',
    type: port,
    default: '3478',
    description: 'STUN server port.',
  }),
  setting({
    key: 'proxies.proxy<n>.nat.turn_server',
    type: text('host name or address, or empty'),
    default: '',
    description: 'TURN server; empty means no TURN.',
  }),
  setting({
    key: 'proxies.proxy<n>.nat.turn_server_port',
    type: port,
    default: '3478',
    description: 'TURN server port.',
  }),
  setting({
    key: 'proxies.proxy<n>.nat.turn_user_name',
    type: text('text'),
    default: '',
    description: 'User name for TURN authentication.',
  }),
  setting({
    key: 'proxies.proxy<n>.nat.turn_password',
    type: text('text'),
    default: '',
    description: 'Password for TURN authentication.',
  }),
  setting({
    key: 'proxies.proxy<n>.nat.turn_relay_type',
    type: zeroOrOne,
    default: '0',
    description: 'TURN relay transport: 0 UDP, 1 TCP.',
  }),
  setting({
    key: 'proxies.proxy<n>.mailbox.user',
    type: text('text'),
    default: '',
    description: 'Mailbox (voicemail) user whose message-waiting state is subscribed to.',
  }),
  setting({
    key: 'proxies.proxy<n>.mailbox.server',
    type: text('host[:port]'),
    default: '',
    description: 'Mailbox server (no SRV lookup).',
  }),
  setting({
    key: 'proxies.proxy<n>.mailbox.transport',
    type: choice(['udp', 'tcp', 'tls'] as const),
    default: 'udp',
    description: 'Transport to the mailbox server.',
  }),
  setting({
    key: 'proxies.proxy<n>.mailbox.timeout',
    type: integer({ min: 0 }),
    default: '1800',
    description: 'Seconds of the message-waiting subscription.',
  }),
  setting({
    key: 'proxies.proxy<n>.mailbox.password',
    type: text('text'),
    default: '',
    description: 'Password of the mailbox subscription.',
  }),
  // ---------------------------------------------------------------- system.diagnostics
  setting({
    key: 'system.diagnostics.enable_logging',
    type: flag(),
    default: '0',
    description: 'When 1, the endpoint writes a log.',
  }),
  setting({
    key: 'system.diagnostics.log_file',
    type: text('file name'),
    default: 'SipEndpoint.log',
    description: 'Log file name.',
  }),
  setting({
    key: 'system.diagnostics.log_level',
    type: integer({ min: 0, max: 4 }),
    default: '4',
    description: 'Log level: 0 fatal, 1 error, 2 warning, 3 info, 4 debug.',
  }),
  setting({
    key: 'system.diagnostics.log_options_provider',
    type: text('e.g. gsip=2, webrtc=(error,critical)'),
    default: '',
    description: 'Per-component log options.',
  }),
  setting({
    key: 'system.diagnostics.logger_type',
    type: choice(['', 'file'] as const),
    default: '',
    description: '`file` writes the log to `log_file`; empty leaves logging to the host application\'s logger.',
  }),
  setting({
    key: 'system.diagnostics.log_segment',
    type: logSegmentType,
    default: '10 MB',
    description: 'When the log file is closed and a new one begun: `false` never, `N` or `N KB`, `N MB`, `N hr`.',
  }),
  setting({
    key: 'system.diagnostics.log_expire',
    type: logExpireType,
    default: '10',
    description: 'Which log files are kept: `false` all, `N` or `N file` (1 to 1000) the newest N, `N day` (1 to 100) those of the last N days.',
  }),
  setting({
    key: 'system.diagnostics.log_time_convert',
    type: choice(['local', 'utc'] as const),
    default: 'local',
    description: 'Time zone of log record times.',
  }),
  setting({
    key: 'system.diagnostics.log_time_format',
    type: choice(['time', 'locale', 'ISO8601'] as const),
    default: 'time',
    description: 'Format of log record times: `time` HH:MM:SS.sss, `locale`, or `ISO8601` with milliseconds.',
  }),
  // ---------------------------------------------------------------- system.security
  setting({
    key: 'system.security.certificate',
    type: text('certificate file or thumbprint'),
    default: '',
    description: 'Client certificate for TLS, added to the system certificate authorities.',
  }),
  setting({
    key: 'system.security.use_srtp',
    type: srtpPolicyType,
    default: 'disabled',
    description: 'SRTP policy: optional (allowed), disabled (off), elective (both), enabled, force (mandatory); `,UEC` or `,UNENCRYPTED_SRTCP` adds UNENCRYPTED_SRTCP to offers.',
  }),
  setting({
    key: 'system.security.tls-target-name-check',
    type: choice(['no', 'host'] as const),
    default: 'no',
    description: '`host` checks that the server certificate names the host connected to; `no` does not.',
  }),
  setting({
    key: 'system.security.sec_protocol',
    type: choice(['SSLv23', 'SSLv3', 'TLSv1', 'TLSv11', 'TLSv12', 'TLSv13'] as const),
    default: 'SSLv23',
    description: 'TLS version: `SSLv23` negotiates the highest both sides support; the others enforce one version (SSLv3 is refused by Node and fails).',
  }),
  // ---------------------------------------------------------------- system.media
  setting({
    key: 'system.media.ringing_file',
    type: text('empty, or a WAV file path'),
    default: 'ringing.wav',
    description: 'Ringtone played on the system default device (`ringing_enabled` 1, 3, 5, 7).',
  }),
] as const;

/** The type of the settings table. @public */
export type SettingsTable = typeof SETTINGS;
