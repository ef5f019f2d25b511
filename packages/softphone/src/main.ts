/**
 * The `softphone` command, run from the sources (`tsx packages/softphone/src/main.ts --config ...`);
 * the published `bin/softphone.mjs` does the same from `dist/`.
 */
import { runCli } from './cli/run-cli';

process.exitCode = await runCli(process.argv.slice(2));
