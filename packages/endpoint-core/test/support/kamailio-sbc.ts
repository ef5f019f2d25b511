import { bearerCheck, KamailioProcess } from './kamailio';
export { kamailioAvailable } from './kamailio';

/**
 * The rtpengine flags of the two sides, as the Kamailio rtpengine module takes them (one string,
 * words separated by spaces; each applies to the SDP going *towards* that side).
 */
export const SBC_FLAGS = {
  /**
   * Towards a WebRTC client (browser, our HTTPS line): ICE with rtpengine's candidates, DTLS-SRTP
   * with rtpengine passive (its answers say `a=setup:passive`; run rtpengine with `--dtls-passive`
   * too, see rtpengine.ts), no SDES keys, `UDP/TLS/RTP/SAVPF`, RTCP on the RTP port only
   * (`rtcp-mux-require`: libwebrtc's `rtcpMuxPolicy: 'require'`), an `a=mid` (`generate-mid`).
   * rtpengine 10.5 writes no `a=group:BUNDLE`: a WebRTC client must take an offer or answer without one.
   */
  webrtc: 'ICE=force DTLS=passive SDES-off UDP/TLS/RTP/SAVPF rtcp-mux-offer rtcp-mux-require generate-mid replace-origin replace-session-connection',
  /** Towards a plain SIP phone: no ICE, no DTLS, no SDES, `RTP/AVP`, RTCP on its own port (`rtcp-mux-demux`). */
  plain: 'ICE=remove DTLS=off SDES-off RTP/AVP rtcp-mux-demux replace-origin replace-session-connection',
} as const;

/** Options of {@link KamailioSbc.start}. */
export interface KamailioSbcOptions {
  /** SIP over UDP and TCP on 127.0.0.1 (the plain side). */
  port: number;
  /** SIP over secure WebSocket (RFC 7118) on 127.0.0.1, with this certificate and key (PEM files). */
  wss: { port: number; certificate: string; key: string };
  /** The ng control port of the rtpengine it drives (UDP, 127.0.0.1). */
  rtpengineNgPort: number;
  /**
   * OAuth for REGISTERs over WebSocket, as a WebRTC gateway checks it (RFC 8898): accepted only
   * with `Authorization: Bearer <token>`, else 401 with a Bearer challenge. Without it: digest.
   */
  bearer?: { token: string };
  /** The digest password of every user registering over UDP or TCP (and over WebSocket without `bearer`). @defaultValue 'secret' */
  password?: string;
  /** Users that do not register: a call to `user` goes to the SIP URI given (e.g. a baresip). */
  staticRoutes?: Record<string, string>;
  /** Kamailio's `debug` level (1 errors; 2 with the `xlog` of every offer and answer). @defaultValue 1 */
  debug?: number;
}


/** The Kamailio configuration of {@link KamailioSbc.start}. */
export function sbcConfig(options: KamailioSbcOptions): string {
  const { port, wss, rtpengineNgPort, bearer, password = 'secret', staticRoutes = {}, debug = 1 } = options;
  for (const [user, uri] of Object.entries(staticRoutes)) {
    if (!/^[A-Za-z0-9._-]+$/.test(user) || !/^sips?:[A-Za-z0-9.@:;=_-]+$/.test(uri)) throw new Error(`a static route is a plain user and SIP URI, not ${user} -> ${uri}`);
  }
  if (bearer && !/^[A-Za-z0-9._~+/-]+$/.test(bearer.token)) throw new Error('a test token is letters, digits and -._~+/');
  const digest = `    if (!pv_auth_check("$fd", "${password}", "0", "1")) {
      auth_challenge("$fd", "0");
      exit;
    }`;
  const registerCheck = bearer
    ? `  if (proto == WS || proto == WSS) {
${bearerCheck(bearer.token)}
  } else {
${digest}
  }`
    : digest;
  const statics = Object.entries(staticRoutes)
    .map(([user, uri]) => `  if ($rU == "${user}") {\n    $ru = "${uri}";\n    route(INVITE_OUT);\n    exit;\n  }`)
    .join('\n');
  return `#!KAMAILIO
debug=${debug}
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
enable_tls=yes
tcp_accept_no_cl=yes
listen=udp:127.0.0.1:${port}
listen=tcp:127.0.0.1:${port}
listen=tls:127.0.0.1:${wss.port}

mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "xlog.so"
loadmodule "tls.so"
loadmodule "xhttp.so"
loadmodule "websocket.so"
loadmodule "nathelper.so"
loadmodule "rtpengine.so"

modparam("tls", "certificate", "${wss.certificate}")
modparam("tls", "private_key", "${wss.key}")
modparam("tls", "tls_method", "TLSv1.2+")
modparam("tls", "verify_certificate", 0)
modparam("tls", "require_certificate", 0)
modparam("websocket", "sub_protocols", 1)
# A WebSocket client's Contact (its own address, which only its connection reaches) is stored with
# the connection's source; dialogs get an alias (nathelper).
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("registrar", "received_avp", "$avp(RECEIVED)")
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 2)
modparam("registrar", "max_expires", 3600)
# Two Record-Route headers where the transport changes (WSS on one side, UDP on the other).
modparam("rr", "enable_double_rr", 1)
modparam("rtpengine", "rtpengine_sock", "udp:127.0.0.1:${rtpengineNgPort}")
modparam("rtpengine", "rtpengine_tout_ms", 2000)

# Flag 1: the request came from the WebRTC side (its answer goes back there).
#!define FROM_WEBRTC 1

request_route {
  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
  if (proto == WS || proto == WSS) {
    force_rport();
    if (is_method("REGISTER")) fix_nated_register();
    else if (is_method("INVITE|SUBSCRIBE|REFER|UPDATE")) add_contact_alias();
    setflag(FROM_WEBRTC);
  }
  if (is_method("REGISTER")) {
${registerCheck}
    if (!save("location")) sl_reply_error();
    exit;
  }
  if (is_method("OPTIONS") && $rU == $null) {
    sl_send_reply("200", "OK");
    exit;
  }
  if (is_method("CANCEL")) {
    if (t_check_trans()) {
      rtpengine_delete();
      t_relay();
    }
    exit;
  }
  if (has_totag()) {
    if (loose_route()) {
      if ($du == $null) handle_ruri_alias();
      if (is_method("BYE")) rtpengine_delete();
      else if (is_method("INVITE|UPDATE") && has_body("application/sdp")) route(OFFER);
      t_on_reply("REPLY");
      if (!t_relay()) sl_reply_error();
      exit;
    }
    if (is_method("ACK")) {
      if (t_check_trans()) t_relay();
      exit;
    }
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("ACK")) {
    if (t_check_trans()) t_relay();
    exit;
  }
  remove_hf("Route");
  if (is_method("INVITE|SUBSCRIBE|REFER")) record_route();
${statics}
  if (!lookup("location")) {
    sl_send_reply("404", "Not Found");
    exit;
  }
  route(INVITE_OUT);
}

route[INVITE_OUT] {
  if (is_method("INVITE")) {
    if (has_body("application/sdp")) route(OFFER);
    t_on_failure("FAILED");
  }
  t_on_reply("REPLY");
  if (!t_relay()) sl_reply_error();
}

# An offer: converted for the side it goes to, which is WebRTC when it is a WebSocket connection.
route[OFFER] {
  if ($du =~ "transport=wss?" || ($du == $null && $ru =~ "transport=wss?")) {
    xlog("L_INFO", "SBC offer $rm $ci towards WebRTC ($du $ru)\\n");
    if (!rtpengine_offer("${SBC_FLAGS.webrtc}")) {
      sl_send_reply("503", "Media proxy unavailable");
      exit;
    }
  } else {
    xlog("L_INFO", "SBC offer $rm $ci towards plain SIP ($du $ru)\\n");
    if (!rtpengine_offer("${SBC_FLAGS.plain}")) {
      sl_send_reply("503", "Media proxy unavailable");
      exit;
    }
  }
}

onreply_route[REPLY] {
  if (proto == WS || proto == WSS) add_contact_alias();
  # The answer goes back to where the offer came from.
  if (is_method("INVITE|UPDATE") && has_body("application/sdp")) {
    if (isflagset(FROM_WEBRTC)) {
      xlog("L_INFO", "SBC answer $rs $ci towards WebRTC\\n");
      rtpengine_answer("${SBC_FLAGS.webrtc}");
    } else {
      xlog("L_INFO", "SBC answer $rs $ci towards plain SIP\\n");
      rtpengine_answer("${SBC_FLAGS.plain}");
    }
  }
}

failure_route[FAILED] {
  rtpengine_delete();
}

event_route[xhttp:request] {
  if ($hdr(Upgrade) =~ "websocket" && $hdr(Connection) =~ "Upgrade" && $rm =~ "GET") {
    if (ws_handle_handshake()) exit;
  }
  xhttp_reply("404", "Not Found", "", "");
}
`;
}

/**
 * Kamailio as the SBC of a contact centre between WebRTC agents and plain SIP: a registrar and
 * proxy on 127.0.0.1 (UDP and TCP for SIP phones, secure WebSocket for WebRTC clients) that
 * record-routes every dialog and anchors its media in rtpengine, converting each offer and answer
 * for the side it goes to ({@link SBC_FLAGS}); rtpengine forgets the call on BYE, CANCEL or a
 * failure. Started (after its rtpengine) and stopped by the tests.
 */
export class KamailioSbc {
  readonly #process: KamailioProcess;
  readonly port: number;
  readonly config: string;

  private constructor(process: KamailioProcess, port: number, config: string) {
    this.#process = process;
    this.port = port;
    this.config = config;
  }

  /** What Kamailio logged. */
  get output(): string {
    return this.#process.output;
  }

  /** Starts Kamailio and resolves once it answers an OPTIONS (start its rtpengine first: the module pings it at start). */
  static async start(options: KamailioSbcOptions): Promise<KamailioSbc> {
    const config = sbcConfig(options);
    return new KamailioSbc(await KamailioProcess.start(config, options.port, 'sep-kamailio-sbc-'), options.port, config);
  }

  /** Stops Kamailio and its children (its process group). */
  async stop(): Promise<void> {
    await this.#process.stop();
  }
}
