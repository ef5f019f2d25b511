import { dirname, resolve } from 'node:path';
import { loadConfig, type EndpointConfig } from '@sip-endpoint/config';
import { LOG_LEVEL_NAMES, SDK_VERSION, type LogLevel } from '@sip-endpoint/endpoint-core';
import type { AudioDeviceProvider } from '@sip-endpoint/media';
import { SoftphoneError } from '../errors';
import { Softphone, type SoftphoneOptions } from '../softphone';
import { parseCliArguments, USAGE, type CliArguments } from './cli-args';
import { followEvents, formatEventLine, StatusView, type OutputStream, type SoftphoneEventLine } from './event-output';

/** What {@link runCli} talks to; the process's by default. @public */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Where SIGINT and SIGTERM come from. @defaultValue `process` */
  signals?: { on(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown; off(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown };
  /** Audio devices for the softphone. @defaultValue the virtual default microphone and speaker */
  devices?: AudioDeviceProvider;
  /** Extra endpoint options (tests). */
  endpoint?: SoftphoneOptions['endpoint'];
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readConfig(path: string, args: CliArguments): Promise<EndpointConfig> {
  const config = await loadConfig(path);
  return args.logLevel === undefined ? config : config.with({ 'system.diagnostics.log_level': String(args.logLevel) });
}

/**
 * Runs `softphone` with `argv` (without `node` and the script) and resolves with its exit code
 * once it has ended: 0 after SIGINT or SIGTERM (calls released, lines unregistered) or at the end
 * of a client session with `auto_restart` = 0; 1 when it cannot run; 2 for a bad command line or
 * configuration (the message names the setting and the line).
 *
 * @public
 */
export async function runCli(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const signals = io.signals ?? process;
  let args: CliArguments;
  try {
    args = parseCliArguments(argv);
  } catch (error) {
    io.stderr.write(`softphone: ${describeError(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.version) {
    io.stdout.write(`softphone ${SDK_VERSION}\n`);
    return 0;
  }

  const json = (line: SoftphoneEventLine): void => void io.stdout.write(`${JSON.stringify(line)}\n`);
  const now = (): string => new Date().toISOString();
  const path = resolve(args.config);
  const fail = (code: number, error: unknown): number => {
    const location = (error as { line?: number }).line;
    io.stderr.write(`softphone: ${args.config}: ${describeError(error)}\n`);
    if (args.json) json({ time: now(), event: 'error', code: (error as { code?: string }).code ?? 'ERR_SOFTPHONE', message: describeError(error), ...(location !== undefined ? { line: location } : {}) });
    return code;
  };

  let config: EndpointConfig;
  try {
    config = await readConfig(path, args);
  } catch (error) {
    return fail(2, error);
  }

  const logLevel = args.logLevel;
  const logger = logLevel === undefined
    ? undefined
    : (level: number, message: string, component?: string): void => {
        if (level > logLevel) return;
        io.stderr.write(`${now()} ${LOG_LEVEL_NAMES[Math.max(0, Math.min(4, level)) as LogLevel] ?? level} ${component ?? 'softphone'}: ${message}\n`);
      };
  const softphone = new Softphone({
    config,
    reloadConfig: () => readConfig(path, args),
    baseDir: dirname(path),
    ...(io.devices ? { devices: io.devices } : {}),
    ...(logger ? { logger } : {}),
    ...(io.endpoint ? { endpoint: io.endpoint } : {}),
  });

  let view: StatusView | undefined;
  if (args.json) followEvents(softphone, json);
  else if (io.stdout.isTTY) view = new StatusView(softphone, io.stdout, `softphone ${SDK_VERSION}  ${args.config}`);
  else followEvents(softphone, (line) => void io.stdout.write(`${formatEventLine(line)}\n`));

  // Nothing the endpoint or the server does may end the process: report and go on.
  const onRejection = (reason: unknown): void => {
    io.stderr.write(`softphone: unexpected error (the softphone goes on): ${describeError(reason)}\n`);
    if (args.json) json({ time: now(), event: 'error', message: describeError(reason) });
  };
  process.on('unhandledRejection', onRejection);

  const stopped = new Promise<void>((done) => softphone.once('stopped', () => done()));
  let signalled = false;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
    if (signalled) return;
    signalled = true;
    if (args.json) json({ time: now(), event: 'stopping', signal });
    void softphone.stop();
  };
  const onInt = (): void => onSignal('SIGINT');
  const onTerm = (): void => onSignal('SIGTERM');
  signals.on('SIGINT', onInt);
  signals.on('SIGTERM', onTerm);
  const cleanUp = (): void => {
    signals.off('SIGINT', onInt);
    signals.off('SIGTERM', onTerm);
    process.off('unhandledRejection', onRejection);
    view?.close();
  };

  try {
    await softphone.start();
  } catch (error) {
    await softphone.stop().catch(() => undefined);
    cleanUp();
    const code = (error as { code?: string }).code;
    return fail(error instanceof SoftphoneError && code === 'ERR_SOFTPHONE_CONNECTOR_SETTINGS' ? 2 : typeof code === 'string' && code.startsWith('ERR_CONFIG_') ? 2 : 1, error);
  }
  if (args.json) json({ time: now(), event: 'started', mode: softphone.mode, lines: softphone.config.connectivities.length, ...(softphone.url ? { url: softphone.url } : {}), ...(softphone.pageUrl ? { page: softphone.pageUrl } : {}) });
  else if (!io.stdout.isTTY) io.stdout.write(`${formatEventLine({ time: now(), event: 'started', mode: softphone.mode, ...(softphone.url ? { url: softphone.url } : {}), ...(softphone.pageUrl ? { page: softphone.pageUrl } : {}) })}\n`);

  await stopped;
  cleanUp();
  return 0;
}
