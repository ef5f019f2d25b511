/**
 * The suite's verdict (what counts as lost) and `docs/reliability.md` (the figures).
 */
import { SLOW_PROBE_MS, type SipFuzzReport } from './sip-fuzz';
import type { InputFuzzReport } from './input-fuzz';
import type { SoakReport } from './soak';
import type { FaultsReport } from './faults';

export interface SuiteReport {
  seed: number;
  short: boolean;
  startedAt: string;
  durationS: number;
  sip?: SipFuzzReport;
  inputs?: InputFuzzReport;
  soak?: SoakReport;
  faults?: FaultsReport;
}

/** The share of the fuzz's real call's 100 ms windows that may be silent, and how many in a row. */
export const SILENT_SHARE = 0.02;
export const LONGEST_SILENCE = 3;

/** The bound on RSS growth between the soak's checkpoint and its end. */
export const SOAK_RSS_GROWTH_PCT = 5;

/** Everything the suite found lost or broken; empty when it passed. */
export function judge(report: SuiteReport): { failures: string[] } {
  const failures: string[] = [];
  const sip = report.sip;
  if (sip) {
    for (const problem of sip.problems) failures.push(`SIP fuzz: the endpoint had ${problem.split('\n')[0]}`);
    if (sip.probes.answered !== sip.probes.sent) failures.push(`SIP fuzz: ${sip.probes.sent - sip.probes.answered} OPTIONS probes went unanswered`);
    for (const accepted of sip.acceptedInvalid) failures.push(`SIP fuzz: a ${accepted.status} to an invalid request over ${accepted.transport}: ${JSON.stringify(accepted.text.slice(0, 300))}`);
    if (!sip.realCall.stayedConnected) failures.push('SIP fuzz: the real call did not stay connected');
    // The endpoint parses thousands of bad messages a second (and logs each at level 4) on the
    // thread that also runs the call's media: short gaps are let through, a lost call's audio is not.
    if (sip.realCall.silentWindows > sip.realCall.windows * SILENT_SHARE || sip.realCall.longestSilence > LONGEST_SILENCE) failures.push(`SIP fuzz: the real call's audio had ${sip.realCall.silentWindows} silent 100 ms windows of ${sip.realCall.windows}, at most ${sip.realCall.longestSilence} in a row (bounds: ${SILENT_SHARE * 100} %, ${LONGEST_SILENCE} in a row)`);
    if (sip.realCall.lost > 0) failures.push(`SIP fuzz: the real call lost ${sip.realCall.lost} RTP packets`);
    // An endpoint keeps an RTP socket pair bound for its next call once it has had one (`spareRtpPorts`): two descriptors and two UDP sockets each, not counted as held.
    if (sip.after.fds - 2 * sip.after.spareRtpPairs > sip.before.fds - 2 * sip.before.spareRtpPairs) failures.push(`SIP fuzz: descriptors ${sip.before.fds} before, ${sip.after.fds} after (${sip.after.spareRtpPairs} RTP pairs bound for the next calls): ${(sip.after.fdList ?? []).join('; ')}`);
    if (sip.after.calls > 0) failures.push(`SIP fuzz: ${sip.after.calls} fuzzed calls never ended: ${sip.after.callList.join('; ')}`);
    if (sip.secretsInLog > 0) failures.push(`SIP fuzz: ${sip.secretsInLog} log lines hold an SDES key`);
  }
  const inputs = report.inputs;
  if (inputs) {
    for (const finding of inputs.config.findings) failures.push(`config fuzz: ${finding.error.split('\n')[0]} on ${JSON.stringify(finding.input.slice(0, 200))}`);
    for (const finding of inputs.sdp.findings) failures.push(`SDP fuzz: ${finding.error.split('\n')[0]} on ${JSON.stringify(finding.input.slice(0, 200))}`);
    for (const finding of inputs.connector.findings) failures.push(`Connector API fuzz: ${finding.error.split('\n')[0]} on ${JSON.stringify(finding.input.slice(0, 200))}`);
    if (!inputs.connector.aliveAfter) failures.push('Connector API fuzz: the API stopped answering');
    for (const file of inputs.connector.filesWritten) failures.push(`Connector API fuzz: a request made the Softphone write ${file}`);
    if (inputs.connector.fdsAfter > inputs.connector.fdsBefore) failures.push(`Connector API fuzz: descriptors ${inputs.connector.fdsBefore} before, ${inputs.connector.fdsAfter} after`);
  }
  const soak = report.soak;
  if (soak) {
    if (soak.sipp.failed > 0 || soak.sipp.successful !== soak.calls) failures.push(`soak: sipp counted ${soak.sipp.successful} successful and ${soak.sipp.failed} failed calls of ${soak.calls}`);
    if (soak.agentsSaw.connected !== soak.calls) failures.push(`soak: the agents connected ${soak.agentsSaw.connected} calls of ${soak.calls}`);
    if (soak.agentsSaw.silentCalls > 0) failures.push(`soak: ${soak.agentsSaw.silentCalls} calls carried no audio`);
    if (soak.agentsSaw.registrationsLost > 0) failures.push(`soak: lines left READY ${soak.agentsSaw.registrationsLost} times`);
    for (const error of soak.agentsSaw.errors) failures.push(`soak: the agents logged an error: ${error}`);
    for (const key of ['fds', 'timers', 'udpSockets'] as const) {
      const spare = key === 'timers' ? 0 : 2;
      if (soak.atEnd[key] - spare * soak.atEnd.spareRtpPairs > soak.baseline[key] - spare * soak.baseline.spareRtpPairs) failures.push(`soak: ${key} ${soak.baseline[key]} at the baseline, ${soak.atEnd[key]} at the end (the agents keep ${soak.atEnd.spareRtpPairs} RTP pairs bound for their next calls)`);
    }
    if (!report.short && soak.rssGrowthPct > SOAK_RSS_GROWTH_PCT) failures.push(`soak: RSS grew ${soak.rssGrowthPct} % between call ${soak.atCheckpoint.call} and the end (bound ${SOAK_RSS_GROWTH_PCT} %)`);
  }
  for (const fault of report.faults?.faults ?? []) if (!fault.passed) failures.push(`fault "${fault.name}": ${fault.detail}`);
  return { failures };
}

const n = (value: number): string => value.toLocaleString('en-US');

/** docs/reliability.md from a run. */
export function renderReport(report: SuiteReport, verdict: { failures: string[] }, command: string): string {
  const lines: string[] = [];
  lines.push('# Reliability', '');
  lines.push('Written by `npm run test:reliability` (`reliability/run.ts`); do not edit by hand. The suite fuzzes');
  lines.push('the endpoint over SIP (UDP, TCP, TLS, WS) while a real call carries audio, fuzzes `Softphone.config`');
  lines.push('XML, SDP and the Connector API, soaks a process of agents with calls through Kamailio, and injects');
  lines.push('faults. Each part runs in a network namespace of its own with loopback only. `-- --short` runs the');
  lines.push("CI subset (the README's test command runs it after jest).", '');
  lines.push(`Run: ${report.startedAt}, ${report.durationS} s, seed **${report.seed}**, command \`${command}\`.`);
  lines.push(`Verdict: **${verdict.failures.length === 0 ? 'nothing lost' : `${verdict.failures.length} failure(s)`}**.`, '');
  if (verdict.failures.length > 0) lines.push(...verdict.failures.map((failure) => `- ${failure}`), '');
  lines.push('| part | tried | what was lost | before | after |', '| --- | --- | --- | --- | --- |');
  const sip = report.sip;
  if (sip) {
    const total = sip.inputs.UDP + sip.inputs.TCP + sip.inputs.TLS + sip.inputs.WS;
    lines.push(
      `| SIP fuzz | ${n(total)} messages (${n(sip.bytes)} bytes): UDP ${n(sip.inputs.UDP)}, TCP ${n(sip.inputs.TCP)} (${n(sip.streams.connections)} connections), TLS ${n(sip.inputs.TLS)}, WS ${n(sip.inputs.WS)}; ${n(sip.probes.sent)} OPTIONS probes; ${n(sip.fuzzedCalls.answered + sip.fuzzedCalls.rejected)} fuzzed INVITEs reached the policy (${sip.fuzzedCalls.answered} answered) | crashes and unhandled rejections ${sip.problems.length}; probes unanswered ${sip.probes.sent - sip.probes.answered} (slowest answer ${sip.probes.slowestMs} ms); 2xx to invalid requests ${sip.acceptedInvalid.length}; the real call: ${sip.realCall.stayedConnected ? 'up throughout' : 'DROPPED'}, ${sip.realCall.audioSeconds.toFixed(1)} s of audio heard, ${sip.realCall.silentWindows} silent 100 ms windows of ${sip.realCall.windows} (at most ${sip.realCall.longestSilence} in a row), ${sip.realCall.lost} RTP packets lost; calls left ${sip.after.calls}; SDES keys in the log ${sip.secretsInLog} | ${sip.before.fds} descriptors, ${(sip.before.rss / 1048576).toFixed(0)} MB RSS | ${sip.after.fds} descriptors, ${(sip.after.rss / 1048576).toFixed(0)} MB RSS |`,
    );
  }
  const inputs = report.inputs;
  if (inputs) {
    lines.push(`| \`Softphone.config\` fuzz | ${n(inputs.config.inputs)} documents (${n(inputs.config.parsed)} read, ${n(inputs.config.refused)} refused with \`ConfigError\`) | other errors ${inputs.config.findings.length}; read but not read back the same: counted with them | | |`);
    lines.push(`| SDP fuzz | ${n(inputs.sdp.inputs)} bodies (${n(inputs.sdp.parsed)} parsed, ${n(inputs.sdp.answered)} answered) | errors other than \`SdpError\` ${inputs.sdp.findings.length} | | |`);
    lines.push(
      `| Connector API fuzz | ${n(inputs.connector.requests)} requests (${Object.entries(inputs.connector.byStatus)
        .sort()
        .map(([status, count]) => `${status}: ${n(count)}`)
        .join(', ')}) | 5xx or no answer ${inputs.connector.findings.length}; files written where a request chose ${inputs.connector.filesWritten.length}; answering after: ${inputs.connector.aliveAfter ? 'yes' : 'NO'} | ${inputs.connector.fdsBefore} descriptors | ${inputs.connector.fdsAfter} descriptors |`,
    );
  }
  const soak = report.soak;
  if (soak) {
    const h = (x: { fds: number; timers: number; udpSockets: number; spareRtpPairs: number; rssMb: number; heapMb: number; heapTotalMb: number; externalMb: number }): string => `${x.fds} descriptors, ${x.timers} timers, ${x.udpSockets} UDP sockets (${x.spareRtpPairs} RTP pairs bound for the next calls), ${x.rssMb} MB RSS, ${x.heapMb} MB heap used of ${x.heapTotalMb} MB, ${x.externalMb} MB external`;
    lines.push(
      `| soak | ${n(soak.calls)} calls through Kamailio to ${soak.agents} agents in one process, ${soak.rate} calls/s, ${soak.holdMs} ms each with G.711 both ways (${n(soak.agentsSaw.rtpReceived)} RTP packets received by the agents) | sipp: ${n(soak.sipp.failed)} failed of ${n(soak.sipp.created)}; agents: ${n(soak.agentsSaw.connected)} connected, ${soak.agentsSaw.silentCalls} without audio, ${soak.agentsSaw.rtpLost} packets lost, registrations lost ${soak.agentsSaw.registrationsLost}; RSS ${soak.rssGrowthPct >= 0 ? '+' : ''}${soak.rssGrowthPct} % from call ${n(soak.atCheckpoint.call)} (${soak.atCheckpoint.rssMb} MB) to the end | ${h(soak.baseline)} | ${h(soak.atEnd)} |`,
    );
  }
  for (const fault of report.faults?.faults ?? []) lines.push(`| fault: ${fault.name} | ${fault.tried} | ${fault.passed ? 'nothing' : `**${fault.detail}**`}; ${fault.figure} | | |`);
  lines.push('');
  if (sip) {
    lines.push('## The SIP corpus, unmutated', '');
    lines.push('Each entry of `reliability/sip-corpus.ts` sent once over each transport before the mutated ones. The');
    lines.push('RFC 4475 entries are written from the RFC\'s descriptions. *invalid*: no receiver may accept it (400 or');
    lines.push('silence, never a 2xx); *lenient*: malformed in a part a receiver may ignore; *valid*: well-formed');
    lines.push('(an INVITE gets the fuzz policy\'s 486, or its 200 once a second). 0: no final response.', '');
    lines.push('| entry | RFC 4475 | kind | UDP | TCP | TLS | WS | UDP status line |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const entry of sip.corpus) lines.push(`| ${entry.name} | ${entry.rfc4475 ?? ''} | ${entry.kind} | ${entry.status.UDP} | ${entry.status.TCP} | ${entry.status.TLS} | ${entry.status.WS} | ${entry.udp.replace(/\|/g, '/')} |`);
    lines.push('');
    const clock = (at: number): string => new Date(at).toISOString().slice(11, 23);
    lines.push(`The target's event loop: longest delay ${sip.after.loopDelayMaxMs} ms${sip.realCall.longestSilenceAt !== undefined && sip.realCall.longestSilence > 0 ? ` (the real call's longest silence, ${sip.realCall.longestSilence} windows, began about ${clock(sip.realCall.longestSilenceAt)})` : ''}; longest garbage-collection pauses: ${sip.after.gcPauses.map((pause) => `${pause.ms} ms (${pause.kind}, ${clock(pause.at)})`).join(', ') || 'none'}; the harness's level-4 log stream held at most ${(sip.after.logBacklog / 1048576).toFixed(1)} MB not yet on disk.`, '');
    if (sip.slowBatches.length > 0) lines.push(`Batches after which the probe waited over ${SLOW_PROBE_MS} ms (\`fuzzCases(${sip.seed}, batch, 100)\` in \`reliability/mutations.ts\` makes their inputs again): ${sip.slowBatches.map((slow) => `${slow.batch} (${slow.transport}, ${slow.probeMs} ms, ${clock(slow.at)})`).join(', ')}.`, '');
    lines.push(`Responses to the ${n(sip.inputs.UDP + sip.inputs.TCP + sip.inputs.TLS + sip.inputs.WS - 4 * sip.corpus.length)} mutated messages: ${Object.entries(sip.responses)
      .map(([klass, count]) => `${klass} ${n(count)}`)
      .join(', ')} ("none": dropped as unusable, or the response could not be matched to its input because a mutation changed its Call-ID). TCP and TLS connections the endpoint closed on a framing error: ${n(sip.streams.closedByTarget)} of ${n(sip.streams.connections)}. WS connections: ${sip.ws.connections}.`, '');
  }
  if (soak) {
    lines.push('## Soak memory', '');
    lines.push(`The largest changes by constructor between the heap snapshots at call ${n(soak.atCheckpoint.call)} and at the end (after a full collection; \`(native)\` and \`(code)\` are V8's own):`, '');
    lines.push('| constructor | objects | bytes |', '| --- | --- | --- |');
    for (const growth of soak.heapGrowth) lines.push(`| ${growth.name} | ${growth.count >= 0 ? '+' : ''}${n(growth.count)} | ${growth.bytes >= 0 ? '+' : ''}${n(growth.bytes)} |`);
    lines.push('');
  }
  const faults = report.faults;
  if (faults) {
    lines.push('## Faults', '');
    for (const fault of faults.faults) lines.push(`- **${fault.name}** (${fault.passed ? 'passed' : 'FAILED'}): ${fault.tried}; ${fault.figure}.${fault.passed ? '' : ` ${fault.detail}`}`);
    if (faults.notYet.length > 0) lines.push('', `Not in the suite yet: ${faults.notYet.join('; ')}.`);
    lines.push('');
  }
  return lines.join('\n');
}
