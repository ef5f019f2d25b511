/**
 * Our transcription of the bodies of the Connector API v2 specification's HTTP transcript (its
 * "Example") and of its "Example data".
 *
 * The only change: the specification wraps two device names across lines inside JSON strings
 * ("VK248\n(Intel(R) Display Audio)"), which is not JSON; the line break is a space here.
 */

/** GET /session "Example data" (the swagger sample of the session model). */
export const EXAMPLE_SESSION_TEXT = `{
"devices" : {

"speaker" : {
"volume" : 8,
"name" : "name",
"muted" : true

},
"microphone" : {

"volume" : 60,
"name" : "name",
"muted" : true

},
"headset_used" : true

},
"phone" : {

"local_mos" : 5.962134,
"rtt_ms" : 5,
"calls" : [ {

"state" : "UNKNOWN",
"uuid" : "uuid"

}, {
"state" : "UNKNOWN",
"uuid" : "uuid"

} ],
"vq_alarm_on" : true,
"local_inter_mos" : 1.4658129

},
"connectivities" : {

"protocol" : "udp",
"connections" : [ {

"server" : "server",
"state" : "NONE",
"user" : "user"

}, {
"server" : "server",
"state" : "NONE",
"user" : "user"

} ]
},
"status" : "INITIALIZING"
 }`;

/** The transcript's POST /softphone/v2/session body. */
export const LOGIN_CONFIG_TEXT =
  '{"options":{"sipendpoint":{"policy.connector.auto_restart":"1"},"softphone":{"session_expire":60}},"connectivities":{"protocol":"udp","connections":[{"server":"135.39.45.32:5060","user":"5320"}]}}';

/** The transcript's GET /softphone/v2/session 200 body once registered. */
export const REGISTERED_SESSION_TEXT =
  '{"status":"INITIALIZED","connectivities":{"protocol":"udp","connections":[{"server":"135.39.45.32:5060","user":"5320","state":"READY"}],"sep_connection_status":""},"devices":{"headset_used":false,"speaker":{"name":"VK248 (Intel(R) Display Audio)","volume":100,"muted":false},"microphone":{"name":"Microphone Array (Realtek(R) Audio)","volume":77,"muted":false}},"phone":{"calls":[]}}';

/** The transcript's 403 and 200 bodies of every other request. */
export const EMPTY_BODY_TEXT = '{}';

/** The transcript's request headers that the agent desktop sends. */
export const TRANSCRIPT_ORIGIN = 'http://bsgwsfanch:8080';
export const TRANSCRIPT_CSRF_TOKEN = 'd3c1f001-8f8b-4ab7-b016-5312d24b5f79';
export const TRANSCRIPT_BEARER = 'TestJwtTokenInAuthorization_Bearer';
export const TRANSCRIPT_VERSION = '9.0.013.01  (Windows 10.0.18363)';
