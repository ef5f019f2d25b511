import { SoftphoneError } from '../errors';

/** The command line of `softphone`, parsed. @public */
export interface CliArguments {
  /** `--config <file>`: the Softphone.config to run. */
  config: string;
  /** `--json`: JSON lines of events on stdout instead of the live status. */
  json: boolean;
  /** `--log-level N` (0 fatal to 4 debug): the log goes to stderr at this level. */
  logLevel: number | undefined;
  /** `--help`. */
  help: boolean;
  /** `--version`. */
  version: boolean;
}

/** The usage text of `softphone --help`. @public */
export const USAGE = `Usage: softphone --config <Softphone.config> [--json] [--log-level <0-4>]

Runs a headless Softphone: stand-alone (registers at start), or, when policy.connector.port is set,
driven by an agent desktop through the Connector API v2 on 127.0.0.1.

Options:
  --config <file>     the Softphone.config to run (required)
  --json              print events as JSON lines on stdout (for scripts) instead of the live status
  --log-level <0-4>   log to stderr at this level (0 fatal, 1 error, 2 warning, 3 info, 4 debug)
                      instead of the log file system.diagnostics describes
  --help, --version

Exit codes: 0 after SIGINT/SIGTERM (calls released, lines unregistered) or the end of a client
session with auto_restart 0; 1 when it cannot run (connector port in use, ...); 2 for a bad
command line or a bad configuration (the message names the setting and the line).`;

/**
 * Parses `softphone`'s arguments (`--config=x` and `--config x` alike).
 *
 * @throws {@link SoftphoneError} `ERR_SOFTPHONE_USAGE` for an unknown option, a missing value,
 * a `--log-level` that is not 0 to 4, or no `--config`.
 * @public
 */
export function parseCliArguments(argv: readonly string[]): CliArguments {
  const result: CliArguments = { config: '', json: false, logLevel: undefined, help: false, version: false };
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] ?? '';
    const [name = '', inline] = argument.startsWith('--') && argument.includes('=') ? [argument.slice(0, argument.indexOf('=')), argument.slice(argument.indexOf('=') + 1)] : [argument, undefined];
    const value = (): string => {
      const next = inline ?? argv[++index];
      if (next === undefined || (inline === undefined && next.startsWith('--'))) throw new SoftphoneError('ERR_SOFTPHONE_USAGE', `${name} needs a value`);
      return next;
    };
    switch (name) {
      case '--config':
      case '-c':
        result.config = value();
        break;
      case '--json':
        result.json = true;
        break;
      case '--log-level': {
        const text = value();
        if (!/^[0-4]$/.test(text.trim())) throw new SoftphoneError('ERR_SOFTPHONE_USAGE', `--log-level must be 0 to 4, not "${text}"`);
        result.logLevel = Number(text);
        break;
      }
      case '--help':
      case '-h':
        result.help = true;
        break;
      case '--version':
        result.version = true;
        break;
      default:
        throw new SoftphoneError('ERR_SOFTPHONE_USAGE', `unknown argument "${argument}"`);
    }
  }
  if (!result.help && !result.version && result.config === '') throw new SoftphoneError('ERR_SOFTPHONE_USAGE', '--config <Softphone.config> is required');
  return result;
}
