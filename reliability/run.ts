/**
 * `npm run test:reliability`: the fuzz, soak and fault suite. Every part runs in a network
 * namespace of its own with loopback only (root and `ip` needed, as for the NAT tests), so that
 * nothing a fuzzed input names can be reached.
 *
 *   npm run test:reliability                 the whole suite; writes docs/reliability.md
 *   npm run test:reliability -- --short      the CI subset (also run by the jest suite); writes nothing
 *   options: --seed N (random by default; printed), --sip N, --config N, --sdp N, --connector N,
 *            --calls N, --agents N, --only fuzz|inputs|soak|faults, --out FILE
 *
 * Exits non-zero when anything was lost: a crash, a hang, an unhandled rejection, a 2xx to an
 * invalid request, a failed or silent call, a descriptor, timer or port not given back, memory
 * that grew past its bound, a fault the endpoint did not come through.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNamespace } from './namespace';
import type { SipFuzzOptions, SipFuzzReport } from './sip-fuzz';
import type { InputFuzzOptions, InputFuzzReport } from './input-fuzz';
import type { SoakOptions, SoakReport } from './soak';
import type { FaultsOptions, FaultsReport } from './faults';
import { judge, renderReport, type SuiteReport } from './report';

export interface SuiteOptions {
  seed: number;
  short: boolean;
  sip: number;
  config: number;
  sdp: number;
  connector: number;
  calls: number;
  agents: number;
  rate: number;
  only: string | undefined;
  onOutput?: (text: string) => void;
}

/** The whole suite's sizes, and the CI subset's. */
export function suiteOptions(args: readonly string[]): SuiteOptions {
  const option = (name: string): string | undefined => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const short = args.includes('--short');
  const number = (name: string, full: number, subset: number): number => {
    const value = option(name);
    if (value === undefined) return short ? subset : full;
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed) || parsed < 0) throw new RangeError(`--${name} takes a whole number, not ${value}`);
    return parsed;
  };
  return {
    seed: number('seed', Math.floor(Math.random() * 2 ** 31), Math.floor(Math.random() * 2 ** 31)),
    short,
    sip: number('sip', 100000, 3000),
    config: number('config', 20000, 1000),
    sdp: number('sdp', 20000, 1000),
    connector: number('connector', 3000, 200),
    calls: number('calls', 10000, 100),
    agents: number('agents', 50, 20),
    rate: number('rate', 20, 8),
    only: option('only'),
  };
}

/** Runs the parts of the suite `options` asks for; each in a namespace of its own. */
export async function runSuite(options: SuiteOptions): Promise<SuiteReport> {
  const started = Date.now();
  const here = __dirname;
  const wants = (part: string): boolean => options.only === undefined || options.only.split(',').includes(part);
  const run = <T>(tag: string, script: string, argument: unknown, timeoutMs: number, nodeArgs: string[] = []): Promise<T> => runInNamespace<T>(tag, join(here, script), argument, { timeoutMs, nodeArgs, ...(options.onOutput ? { onOutput: options.onOutput } : {}) });
  const report: SuiteReport = { seed: options.seed, short: options.short, startedAt: new Date(started).toISOString(), durationS: 0 };
  if (wants('fuzz')) report.sip = await run<SipFuzzReport>('sip', 'sip-fuzz.ts', { seed: options.seed, inputs: options.sip } satisfies SipFuzzOptions, 20 * 60000);
  if (wants('inputs')) report.inputs = await run<InputFuzzReport>('inp', 'input-fuzz.ts', { seed: options.seed, config: options.config, sdp: options.sdp, connector: options.connector } satisfies InputFuzzOptions, 15 * 60000);
  if (wants('soak')) report.soak = await run<SoakReport>('soak', 'soak.ts', { calls: options.calls, agents: options.agents, rate: options.rate } satisfies SoakOptions, 30 * 60000, ['--expose-gc']);
  if (wants('faults')) report.faults = await run<FaultsReport>('flt', 'faults.ts', { short: options.short } satisfies FaultsOptions, 15 * 60000);
  report.durationS = Math.round((Date.now() - started) / 1000);
  return report;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const options = suiteOptions(args);
  const at = args.indexOf('--out');
  const out = at >= 0 ? args[at + 1]! : options.short || options.only ? undefined : join(__dirname, '..', 'docs', 'reliability.md');
  process.stdout.write(`reliability suite: seed ${options.seed}${options.short ? ' (the CI subset)' : ''}; repeat it with --seed ${options.seed}\n`);
  runSuite({ ...options, onOutput: (text) => process.stderr.write(text) }).then(
    (report) => {
      const verdict = judge(report);
      const markdown = renderReport(report, verdict, `npm run test:reliability -- ${args.join(' ')}`.trim());
      if (out) writeFileSync(out, markdown);
      process.stdout.write(`${markdown}\n`);
      if (verdict.failures.length > 0) {
        process.stdout.write(`\nFAILED:\n${verdict.failures.map((failure) => `- ${failure}`).join('\n')}\n`);
        process.exit(1);
      }
      process.stdout.write(`\nreliability suite passed (seed ${options.seed})${out ? `; figures written to ${out}` : ''}\n`);
    },
    (error: unknown) => {
      process.stderr.write(`reliability suite: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
