import type { Call, Endpoint, SessionModel } from '@sip-endpoint/endpoint-core';
import type { Softphone } from '../softphone';

/** Where the CLI writes. @public */
export interface OutputStream {
  write(text: string): unknown;
  /** True for a terminal (the live status redraws in place). */
  isTTY?: boolean;
}

/**
 * One line of `softphone --json`: `{"time":"...","event":"...", ...}`. Events: `started`,
 * `listening`, `sessionStarted`, `sessionEnded`, `connectionStateChanged`, `statusChanged`,
 * `incomingCall`, `callStateChanged`, `dtmf`, `vqAlarm`, `error`, `stopping`, `stopped`.
 *
 * @public
 */
export type SoftphoneEventLine = { time: string; event: string } & Record<string, unknown>;

function callFields(call: Call): Record<string, unknown> {
  const info = call.info();
  return { call: info.id, uuid: info.uuid ?? null, line: info.line, direction: info.direction, remote: info.remote };
}

/**
 * Follows a softphone and each endpoint it starts, and hands each event to `sink` as a
 * {@link SoftphoneEventLine}. A sink that throws is reported as an `error` line at most once per
 * event and never reaches the endpoint.
 *
 * @public
 */
export function followEvents(softphone: Softphone, sink: (line: SoftphoneEventLine) => void): void {
  const emit = (event: string, fields: Record<string, unknown> = {}): void => {
    try {
      sink({ time: new Date().toISOString(), event, ...fields });
    } catch {
      // the output broke (a closed pipe): nothing more to say
    }
  };
  const attach = (endpoint: Endpoint): void => {
    endpoint.on('connectionStateChanged', (line, state, previous, reason) => {
      const connectivity = endpoint.lines[line]?.connectivity;
      emit('connectionStateChanged', { line, user: connectivity?.user, server: connectivity?.server, state, previous, ...(reason ? { reason } : {}) });
    });
    endpoint.on('statusChanged', (status) => emit('statusChanged', { status }));
    endpoint.on('incomingCall', (call) => emit('incomingCall', { ...callFields(call), state: call.state }));
    endpoint.on('callStateChanged', (call, state, previous) => {
      const info = call.info();
      emit('callStateChanged', { ...callFields(call), state, previous, ...(info.codec ? { codec: info.codec } : {}), ...(info.quality ? { mos: info.quality.mos, intervalMos: info.quality.intervalMos } : {}) });
    });
    endpoint.on('dtmf', (call, dtmf) => emit('dtmf', { call: call.id, digit: dtmf.digit, source: dtmf.source }));
    endpoint.on('vqAlarm', (call, report) => emit('vqAlarm', { call: call.id, alarm: report.alarm, mos: report.mos, intervalMos: report.intervalMos, rttMs: report.rttMs ?? null }));
  };
  softphone.on('endpoint', attach);
  if (softphone.endpoint) attach(softphone.endpoint);
  softphone.on('listening', (url) => emit('listening', { url }));
  softphone.on('sessionStarted', () => emit('sessionStarted'));
  softphone.on('sessionEnded', (reason) => emit('sessionEnded', { reason }));
  const reportError = (error: Error): void => emit('error', { message: error.message, ...((error as { code?: string }).code ? { code: (error as { code?: string }).code } : {}) });
  softphone.on('error', reportError);
  // A listener of the Softphone itself that threw (the endpoint's go to 'error').
  softphone.on('listenerError', reportError);
  softphone.on('stopped', () => emit('stopped'));
}

/** One line per event, for a log or a pipe: `12:00:01 line 0 (5320@sip:5060) TRYING -> READY`. */
export function formatEventLine(line: SoftphoneEventLine): string {
  const time = line.time.slice(11, 19);
  const text = ((): string => {
    switch (line.event) {
      case 'connectionStateChanged':
        return `line ${String(line['line'])} (${String(line['user'])}@${String(line['server'])}) ${String(line['previous'])} -> ${String(line['state'])}${line['reason'] ? ` (${String(line['reason'])})` : ''}`;
      case 'incomingCall':
        return `incoming call ${String(line['call'])} from ${String(line['remote'])} on line ${String(line['line'])}`;
      case 'callStateChanged':
        return `call ${String(line['call'])} ${String(line['previous'])} -> ${String(line['state'])}${line['mos'] !== undefined ? ` (MOS ${Number(line['mos']).toFixed(2)})` : ''}`;
      case 'statusChanged':
        return `status ${String(line['status'])}`;
      case 'dtmf':
        return `call ${String(line['call'])} DTMF ${String(line['digit'])} (${String(line['source'])})`;
      case 'vqAlarm':
        return `call ${String(line['call'])} VQ alarm ${line['alarm'] ? 'on' : 'off'} (MOS ${Number(line['mos']).toFixed(2)})`;
      default: {
        const { time: _time, event, ...rest } = line;
        const details = Object.entries(rest).map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
        return [event, ...details].join(' ');
      }
    }
  })();
  return `${time} ${text}`;
}

/**
 * The live status of `softphone` on a terminal: status, lines and their states, calls with MOS and
 * RTT, devices, and the last events, redrawn in place (at most every 250 ms, and each second).
 *
 * @public
 */
export class StatusView {
  readonly #softphone: Softphone;
  readonly #out: OutputStream;
  readonly #recent: string[] = [];
  readonly #header: string;
  #timer: NodeJS.Timeout | undefined;
  #pending: NodeJS.Timeout | undefined;
  #drawn = 0;
  #closed = false;

  constructor(softphone: Softphone, out: OutputStream, header: string) {
    this.#softphone = softphone;
    this.#out = out;
    this.#header = header;
    followEvents(softphone, (line) => {
      this.#recent.push(formatEventLine(line));
      if (this.#recent.length > 6) this.#recent.shift();
      this.#schedule();
    });
    this.#timer = setInterval(() => void this.#draw(), 1000);
    this.#timer.unref();
    this.#schedule();
  }

  /** Stops redrawing (the last frame stays on screen). */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#pending) clearTimeout(this.#pending);
  }

  #schedule(): void {
    if (this.#pending || this.#closed) return;
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      void this.#draw();
    }, 250);
    this.#pending.unref();
  }

  async #draw(): Promise<void> {
    if (this.#closed) return;
    let session: SessionModel | undefined;
    try {
      session = await this.#softphone.session();
    } catch {
      session = undefined;
    }
    if (this.#closed) return;
    const lines = renderStatus(this.#header, this.#softphone, session, this.#recent);
    // Back to the top of the previous frame, then clear to the end of the screen.
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}F` : '';
    this.#out.write(`${up}\x1b[0J${lines.join('\n')}\n`);
    this.#drawn = lines.length;
  }
}

/** The lines of one frame of the live status. */
export function renderStatus(header: string, softphone: Softphone, session: SessionModel | undefined, recent: readonly string[]): string[] {
  const out = [header];
  if (softphone.pageUrl) out.push(`page: ${softphone.pageUrl}`);
  const waiting = softphone.mode === 'connector' && !softphone.inSession;
  out.push(`status: ${session?.status ?? '?'}${softphone.mode === 'connector' ? (waiting ? '  (waiting for a desktop: POST /session)' : '  (client session open)') : ''}`);
  out.push('connections:');
  const connections = session?.connectivities.connections ?? [];
  if (connections.length === 0) out.push('  (none)');
  for (const [index, connection] of connections.entries()) out.push(`  ${index}  ${connection.user}@${connection.server}  ${connection.state}`);
  out.push('calls:');
  const calls = softphone.endpoint?.calls ?? [];
  if (calls.length === 0) out.push('  (none)');
  for (const call of calls) {
    const info = call.info();
    const quality = info.quality ? `  MOS ${info.quality.mos.toFixed(2)} (interval ${info.quality.intervalMos.toFixed(2)})${info.quality.rttMs !== undefined ? ` rtt ${Math.round(info.quality.rttMs)} ms` : ''}${info.quality.vqAlarm ? '  VQ ALARM' : ''}` : '';
    out.push(`  ${info.id}  ${info.direction}  ${info.state}  ${info.remote}${info.codec ? `  ${info.codec}` : ''}${info.muted ? '  muted' : ''}${quality}`);
  }
  const device = (label: string, d: { name: string; volume: number; muted: boolean } | undefined): string => `${label} ${d ? `"${d.name}" ${d.volume}%${d.muted ? ' muted' : ''}` : 'none'}`;
  out.push(`devices: ${device('microphone', session?.devices.microphone)}, ${device('speaker', session?.devices.speaker)}${session?.devices.headset_used ? ', headset' : ''}`);
  if (recent.length > 0) out.push('events:', ...recent.map((line) => `  ${line}`));
  return out;
}
