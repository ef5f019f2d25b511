export { Softphone } from './softphone';
export type { SoftphoneOptions, SoftphoneEvents, SessionEndReason } from './softphone';
export { SoftphoneError } from './errors';
export type { SoftphoneErrorCode } from './errors';
export { runCli } from './cli/run-cli';
export type { CliIo } from './cli/run-cli';
