import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerAvailable } from '@sip-endpoint/test-support';

/** Whether Kamailio is installed; a missing one fails the test unless SEP_ALLOW_MISSING_PEERS=1 (see test-support's peerAvailable). */
export function kamailioAvailable(): boolean {
  return peerAvailable('kamailio');
}

/**
 * Resolves once Kamailio answers an OPTIONS sent to 127.0.0.1:`port` over UDP (asked again every
 * 50 ms): its listeners are bound and its workers run. Rejects after `ms`, or when `signal` aborts.
 */
export async function answersOptions(port: number, ms: number, signal: AbortSignal): Promise<void> {
  const socket = createSocket('udp4');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const local = socket.address().port;
  const token = randomBytes(6).toString('hex');
  let cseq = 0;
  let interval: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const ask = (): void => {
        cseq++;
        const request = [
          `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${token}${cseq};rport`,
          'Max-Forwards: 70',
          `From: <sip:ready@127.0.0.1>;tag=${token}`,
          'To: <sip:127.0.0.1>',
          `Call-ID: ready-${token}@127.0.0.1`,
          `CSeq: ${cseq} OPTIONS`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n');
        socket.send(request, port, '127.0.0.1');
      };
      socket.on('message', (data) => {
        if (/^SIP\/2\.0 200 /.test(data.toString())) resolve();
      });
      signal.addEventListener('abort', () => reject(new Error('kamailio stopped before it answered')), { once: true });
      deadline = setTimeout(() => reject(new Error(`kamailio did not answer an OPTIONS on 127.0.0.1:${port} within ${ms} ms`)), ms);
      interval = setInterval(ask, 50);
      ask();
    });
  } finally {
    clearInterval(interval);
    clearTimeout(deadline);
    socket.close();
  }
}

/**
 * Resolves once Kamailio answers an OPTIONS sent to `address`:`port` over UDP from inside network
 * namespace `namespace` (a Node process started there with `ip netns exec` asks every 50 ms).
 * Rejects after `ms`, or when `signal` aborts.
 */
export async function answersOptionsIn(namespace: string, address: string, port: number, ms: number, signal: AbortSignal): Promise<void> {
  const script = `
const socket = require('node:dgram').createSocket('udp4');
const [address, port, ms] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
socket.on('message', (data) => { if (/^SIP\\/2\\.0 200 /.test(data.toString())) process.exit(0); });
socket.bind(0, address, () => {
  let cseq = 0;
  const local = socket.address().port;
  const ask = () => {
    cseq++;
    socket.send(['OPTIONS sip:' + address + ':' + port + ' SIP/2.0', 'Via: SIP/2.0/UDP ' + address + ':' + local + ';branch=z9hG4bKready' + cseq + ';rport', 'Max-Forwards: 70', 'From: <sip:ready@' + address + '>;tag=ready', 'To: <sip:' + address + '>', 'Call-ID: ready-' + local + '@' + address, 'CSeq: ' + cseq + ' OPTIONS', 'Content-Length: 0', '', ''].join('\\r\\n'), port, address);
  };
  setInterval(ask, 50);
  ask();
  setTimeout(() => process.exit(1), ms);
});
`;
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, '-e', script, address, String(port), String(ms)], { stdio: 'ignore' });
  const onAbort = (): void => void child.kill('SIGKILL');
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', resolve);
      child.once('error', () => resolve(null));
    });
    if (signal.aborted) throw new Error('kamailio stopped before it answered');
    if (code !== 0) throw new Error(`kamailio did not answer an OPTIONS on ${address}:${port} in namespace ${namespace} within ${ms} ms`);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Optional extra listeners of {@link Kamailio.start}: SIP over TLS (with the given certificate and
 * key, PEM files), SIP over WebSocket (RFC 7118, `sip` subprotocol, through xhttp), and over
 * secure WebSocket (on its own TLS port; needs `tls` for the certificate).
 */
export interface KamailioListeners {
  tls?: { port: number; certificate: string; key: string };
  ws?: { port: number };
  wss?: { port: number };
  /**
   * OAuth as a WebRTC gateway checks it (RFC 8898): a REGISTER is accepted only with
   * `Authorization: Bearer <token>`, else 401 with a Bearer challenge (`error="invalid_token"` when
   * a wrong one came); with `upgrade`, a WebSocket upgrade without that header gets 401 too.
   * Replaces the digest check. `also`: more tokens accepted (a refreshed one), on the upgrade
   * too; `logRegisters`: each REGISTER's user and Authorization go to Kamailio's output
   * (`REGISTER <user> Authorization: <value>`, then `REGISTER <user> Contact: <value>` and
   * `REGISTER <user> From: <value>`), to see which token a request carried, whether it added or
   * removed a binding, and the display name it gave. `calls`: an INVITE or MESSAGE outside a
   * dialog that came over WebSocket is relayed only with `Proxy-Authorization: Bearer <token>`
   * (or one of `also`), else 407 with a Bearer challenge (`error="invalid_token"` when a wrong one
   * came), each one logged as `<METHOD> <user> Proxy-Authorization: <value>`.
   */
  bearer?: { token: string; upgrade?: boolean; also?: string[]; logRegisters?: boolean; calls?: boolean };
  /**
   * The digest check of REGISTER: `algorithm` (MD5 by default, or SHA-256, RFC 8760), `qop` (none
   * by default; `auth` or `auth-int`), with nonce counts checked (a nonce and count used twice is
   * refused as a replay) whenever a qop is set.
   */
  digest?: { algorithm?: 'MD5' | 'SHA-256'; qop?: 'auth' | 'auth-int' };
  /**
   * Relays a request outside a dialog whose Request-URI is not Kamailio itself (another host or
   * port: a mailbox server, a collector) to it, as an outbound proxy does, instead of looking the
   * user up (404 when not registered).
   */
  forward?: boolean;
}

/**
 * The lines of a request route that relay an INVITE or MESSAGE from a WebSocket client only with
 * `Proxy-Authorization: Bearer <token>` (RFC 8898 2.1.1): 407 with a Bearer challenge otherwise.
 */
function proxyBearerCheck(token: string, also: readonly string[] = []): string {
  return `  if ((proto == WS || proto == WSS) && is_method("INVITE|MESSAGE")) {
    xlog("L_NOTICE", "$rm $fU Proxy-Authorization: $hdr(Proxy-Authorization)\\n");
${bearerChallenge('proxy', [token, ...also])}
  }
`;
}

/**
 * The lines of a request route that accept a REGISTER only with `Authorization: Bearer <token>`
 * (RFC 8898): 401 with a Bearer challenge otherwise, `error="invalid_token"` when a wrong one came.
 */
export function bearerCheck(token: string, also: readonly string[] = []): string {
  return bearerChallenge('registrar', [token, ...also]);
}

/** A registrar's (401) or a proxy's (407) Bearer challenge to a request without one of the `accepted` tokens. */
function bearerChallenge(role: 'registrar' | 'proxy', accepted: readonly string[]): string {
  const [credentials, challenge, status, reason] = role === 'registrar' ? ['Authorization', 'WWW-Authenticate', '401', 'Unauthorized'] : ['Proxy-Authorization', 'Proxy-Authenticate', '407', 'Proxy Authentication Required'];
  const refused = accepted.map((token) => `$hdr(${credentials}) != "Bearer ${token}"`).join(' && ');
  return `    if ($hdr(${credentials}) == $null) {
      append_to_reply("${challenge}: Bearer realm=\\"127.0.0.1\\"\\r\\n");
      sl_send_reply("${status}", "${reason}");
      exit;
    }
    if (${refused}) {
      append_to_reply("${challenge}: Bearer realm=\\"127.0.0.1\\", error=\\"invalid_token\\", error_description=\\"the token is not valid\\"\\r\\n");
      sl_send_reply("${status}", "${reason}");
      exit;
    }`;
}

/**
 * A Kamailio process on a configuration text: checked (`kamailio -c`), started in its own process
 * group, and ready once it answers an OPTIONS on 127.0.0.1:`port` (no fixed wait). Its output is
 * kept for failure messages; `stop()` kills the group.
 */
export class KamailioProcess {
  readonly #child: ChildProcess;
  #output = '';

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
  }

  get output(): string {
    return this.#output;
  }

  /**
   * @param where - Run inside this network namespace (`ip netns exec`), to be asked for readiness
   * at this address (its config listens there). By default on this host, asked at 127.0.0.1.
   */
  static async start(config: string, port: number, dirPrefix = 'sep-kamailio-', where?: { namespace: string; address: string }): Promise<KamailioProcess> {
    const dir = mkdtempSync(join(tmpdir(), dirPrefix));
    const file = join(dir, 'kamailio.cfg');
    writeFileSync(file, config);
    const check = spawnSync('kamailio', ['-c', '-f', file]);
    if (check.status !== 0) throw new Error(`kamailio rejects its configuration:\n${check.stderr.toString()}`);
    const args = ['-f', file, '-DD', '-E', '-m', '32', '-M', '8', '-w', dir, '-P', join(dir, 'kamailio.pid')];
    // `ip netns exec` becomes kamailio (it execs it): the process group is still Kamailio's.
    const child = where ? spawn('ip', ['netns', 'exec', where.namespace, 'kamailio', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true }) : spawn('kamailio', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const kamailio = new KamailioProcess(child);
    const starting = new AbortController();
    await new Promise<void>((resolve, reject) => {
      child.once('error', (error) => reject(new Error(`kamailio could not start: ${error.message} (the README's test command installs it)`)));
      child.once('exit', (code) => reject(new Error(`kamailio exited with ${code}:\n${kamailio.output}`)));
      (where ? answersOptionsIn(where.namespace, where.address, port, 10000, starting.signal) : answersOptions(port, 10000, starting.signal)).then(resolve, (error: Error) => reject(new Error(`${error.message}:\n${kamailio.output}`)));
    }).catch(async (error: unknown) => {
      starting.abort();
      await kamailio.stop();
      throw error;
    });
    return kamailio;
  }

  /** Stops Kamailio and its children (its process group). */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null || this.#child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    try {
      process.kill(-this.#child.pid, 'SIGKILL');
    } catch {
      this.#child.kill('SIGKILL');
    }
    await exited;
  }
}

/**
 * A Kamailio registrar on 127.0.0.1 (UDP and TCP on one port) with digest authentication: every
 * user's password is `password`. Started and stopped by the tests.
 */
export class Kamailio {
  readonly #process: KamailioProcess;
  readonly port: number;

  private constructor(process: KamailioProcess, port: number) {
    this.#process = process;
    this.port = port;
  }

  get output(): string {
    return this.#process.output;
  }

  /**
   * Starts Kamailio on 127.0.0.1:`port` (UDP and TCP) with the `extra` listeners, and resolves once
   * it answers an OPTIONS there (no fixed wait: as soon as it is ready, however loaded the machine).
   */
  static async start(port: number, password = 'secret', extra: KamailioListeners = {}): Promise<Kamailio> {
    const { tls, ws, wss, bearer, digest, forward } = extra;
    if (bearer && ![bearer.token, ...(bearer.also ?? [])].every((token) => /^[A-Za-z0-9._~+/-]+$/.test(token))) throw new Error('a test token is letters, digits and -._~+/');
    if (wss && !tls) throw new Error('a WSS listener needs the tls certificate and key');
    const listeners = [
      tls ? `enable_tls=yes\nlisten=tls:127.0.0.1:${tls.port}` : '',
      ws || wss ? 'tcp_accept_no_cl=yes' : '',
      ws ? `listen=tcp:127.0.0.1:${ws.port}` : '',
      wss ? `listen=tls:127.0.0.1:${wss.port}` : '',
    ].filter((line) => line !== '').join('\n');
    const modules = [
      tls ? `loadmodule "tls.so"\nmodparam("tls", "certificate", "${tls.certificate}")\nmodparam("tls", "private_key", "${tls.key}")\nmodparam("tls", "tls_method", "TLSv1.2+")\nmodparam("tls", "verify_certificate", 0)\nmodparam("tls", "require_certificate", 0)` : '',
      // nathelper: a WebSocket client's Contact (its own address and port, which only its
      // connection reaches) is stored with the connection's source, and dialogs get an alias.
      ws || wss ? 'loadmodule "xhttp.so"\nloadmodule "websocket.so"\nloadmodule "nathelper.so"\nmodparam("websocket", "sub_protocols", 1)\nmodparam("nathelper", "received_avp", "$avp(RECEIVED)")\nmodparam("registrar", "received_avp", "$avp(RECEIVED)")' : '',
      digest?.algorithm ? `modparam("auth", "algorithm", "${digest.algorithm}")` : '',
      digest?.qop ? `modparam("auth", "qop", "${digest.qop}")\nmodparam("auth", "nonce_count", 1)` : '',
    ].filter((line) => line !== '').join('\n');
    const httpRoute = ws || wss
      ? `
event_route[xhttp:request] {
  if ($hdr(Upgrade) =~ "websocket" && $hdr(Connection) =~ "Upgrade" && $rm =~ "GET") {
${bearer?.upgrade ? `    if (${[bearer.token, ...(bearer.also ?? [])].map((accepted) => `$hdr(Authorization) != "Bearer ${accepted}"`).join(' && ')}) {
      xhttp_reply("401", "Unauthorized", "", "");
      exit;
    }
` : ''}    if (ws_handle_handshake()) exit;
  }
  xhttp_reply("404", "Not Found", "", "");
}
`
      : '';
    const config = `#!KAMAILIO
debug=1
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
listen=udp:127.0.0.1:${port}
listen=tcp:127.0.0.1:${port}
${listeners}
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "xlog.so"
${modules}
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 2)
modparam("registrar", "max_expires", 3600)

request_route {
  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
${ws || wss ? `  if (proto == WS || proto == WSS) {
    force_rport();
    if (is_method("REGISTER")) fix_nated_register();
    else if (is_method("INVITE|SUBSCRIBE|REFER")) add_contact_alias();
  }
  t_on_reply("WS_REPLY");
` : ''}
  if (is_method("REGISTER")) {
${bearer?.logRegisters ? '    xlog("L_NOTICE", "REGISTER $fU Authorization: $hdr(Authorization)\\n");\n    xlog("L_NOTICE", "REGISTER $fU Contact: $ct\\n");\n    xlog("L_NOTICE", "REGISTER $fU From: $hdr(From)\\n");\n' : ''}${bearer ? bearerCheck(bearer.token, bearer.also) : `    if (!pv_auth_check("$fd", "${password}", "0", "1")) {
      auth_challenge("$fd", "${digest?.qop === 'auth' ? '1' : digest?.qop === 'auth-int' ? '2' : '0'}");
      exit;
    }`}
    if (!save("location")) sl_reply_error();
    exit;
  }
  if (is_method("OPTIONS") && $rU == $null) {
    sl_send_reply("200", "OK");
    exit;
  }
  # In-dialog requests (BYE, re-INVITE, ACK of a 2xx) go where their Request-URI says.
  if (has_totag()) {
${ws || wss ? '    handle_ruri_alias();\n' : ''}    t_relay();
    exit;
  }
${bearer?.calls ? proxyBearerCheck(bearer.token, bearer.also) : ''}${forward ? '  if (!uri==myself) {\n    t_relay();\n    exit;\n  }\n' : ''}  if (!lookup("location")) {
    sl_send_reply("404", "Not Found");
    exit;
  }
  t_relay();
}
${httpRoute}
${ws || wss ? `onreply_route[WS_REPLY] {
  if (proto == WS || proto == WSS) add_contact_alias();
}
` : ''}`;
    return new Kamailio(await KamailioProcess.start(config, port), port);
  }

  /** Stops Kamailio and its children. */
  async stop(): Promise<void> {
    await this.#process.stop();
  }
}
