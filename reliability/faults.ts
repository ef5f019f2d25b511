/**
 * Faults: what an unlucky network or host does to a running endpoint, each with a figure. Runs
 * inside a network namespace of its own (Kamailio, sipp and the endpoints on its loopback; the
 * full log disk is a tmpfs mounted in the namespace's own mount namespace).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeConfig, type EndpointConfig } from '@sip-endpoint/config';
import { VirtualAudioProvider } from '@sip-endpoint/media';
import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';
import { makeTestCertificates } from '@sip-endpoint/test-support';
import { holdPort } from '../packages/endpoint-core/test/support/hold-port';
import { Kamailio } from '../packages/endpoint-core/test/support/kamailio';
import { standaloneConfig } from '../packages/endpoint-core/test/support/endpoints';
import { ACK, ESTABLISH, HANG_UP, HANG_UP_LOSSY, INVITE, OK_WITH_SDP, recv, RESPONSE, scenario, send, AUTO_ANSWER, SDP } from '../packages/endpoint-core/test/support/sipp-scenario';
import { sippStats, startProgram } from '../bench/support/bench-tools';
import { runAsScript } from './namespace';

export interface FaultsOptions {
  /** The CI subset: the same faults, fewer calls. */
  short: boolean;
  /** Only the faults whose name contains one of these (for a rerun of one). */
  only?: string[];
}

export interface FaultResult {
  name: string;
  /** What was done. */
  tried: string;
  passed: boolean;
  /** What was measured. */
  figure: string;
  /** Why it failed (empty when it passed). */
  detail: string;
}

export interface FaultsReport {
  faults: FaultResult[];
  /** Faults of the issue not in the suite yet. */
  notYet: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const by = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > by) return false;
    await sleep(50);
  }
  return true;
}

/** sipp's offer of PCMA (what its g711a.pcap carries) and telephone-event. */
const PCMA_SDP = SDP().replace('RTP/AVP 0 101', 'RTP/AVP 8 101').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000');

/** INVITE with a PCMA offer, answered by the agent (200 with PCMA), ACK; then sipp's pcap plays. */
const ESTABLISH_PCMA = [
  send(INVITE(AUTO_ANSWER, PCMA_SDP), ' retrans="500"'),
  '<recv response="100" optional="true"/>',
  '<recv response="180" optional="true"/>',
  recv('response="200"', [{ header: 'CSeq:', regexp: 'INVITE' }, { regexp: 'm=audio [0-9]+ RTP/AVP 8' }], ' rrs="true"', true),
  send(ACK(1)),
  '<nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>',
];

/** A stand-alone (or, with a server and reg_timeout in `settings`, registering) auto-answer line on this namespace's loopback. */
function lineConfig(user: string, sipPort: number, rtpBase: number, rtpCount: number, settings: Record<string, string>): EndpointConfig {
  return standaloneConfig(user, sipPort, rtpBase, {
    'policy.endpoint.sip_port_max': String(sipPort + 4),
    'policy.endpoint.rtp_port_max': String(rtpBase + rtpCount - 1),
    'policy.session.auto_answer': '1',
    ...settings,
  });
}

function toneDevices(frequency: number): VirtualAudioProvider {
  const devices = new VirtualAudioProvider({ defaults: false });
  devices.addInput({ name: 'Tone', id: 'mic' }, { kind: 'tone', frequencies: [frequency], levelDbfs: -15 });
  devices.addOutput({ name: 'Speaker', id: 'speaker' });
  return devices;
}

/** The status Kamailio gives an OPTIONS to `user` (404 when it is not registered). */
async function probeUser(user: string, kamailioPort: number, fromPort: number): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(fromPort, '127.0.0.1', resolve));
  try {
    const id = `probe-${user}-${Date.now()}`;
    const text = [`OPTIONS sip:${user}@127.0.0.1:${kamailioPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${fromPort};branch=z9hG4bK-${id};rport`, 'Max-Forwards: 70', `From: <sip:probe@127.0.0.1:${fromPort}>;tag=${id}`, `To: <sip:${user}@127.0.0.1:${kamailioPort}>`, `Call-ID: ${id}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
    return await new Promise<number>((resolve) => {
      const timer = setInterval(() => socket.send(text, kamailioPort, '127.0.0.1'), 500);
      socket.send(text, kamailioPort, '127.0.0.1');
      socket.on('message', (data) => {
        const status = Number(/^SIP\/2\.0 (\d{3})/.exec(data.toString())?.[1] ?? 0);
        if (status >= 200) {
          clearInterval(timer);
          resolve(status);
        }
      });
      setTimeout(() => {
        clearInterval(timer);
        resolve(0);
      }, 5000);
    });
  } finally {
    socket.close();
  }
}

/** The registrar killed, then started again: every line READY again within reg_interval + 1 s. */
async function registrarRestart(): Promise<FaultResult> {
  const name = 'the registrar killed and restarted';
  const port = 29000;
  const regInterval = 3;
  let kamailio = await Kamailio.start(port, 'secret');
  const agents = Array.from({ length: 5 }, (_, i) =>
    new Endpoint({
      config: lineConfig(String(6000 + i), 29010 + i * 5, 29100 + i * 4, 4, { 'server:0': `127.0.0.1:${port}`, 'proxies.proxy0.password': 'secret', 'proxies.proxy0.reg_timeout': '8', 'proxies.proxy0.reg_interval': String(regInterval), 'policy.endpoint.sip_transaction_timeout': '2000' }),
      devices: toneDevices(500),
    }),
  );
  try {
    await Promise.all(agents.map((agent) => agent.start()));
    const ready = (): boolean => agents.every((agent) => agent.lines[0]?.state === 'READY');
    if (!(await until(ready, 10000))) return { name, tried: '5 lines', passed: false, figure: '', detail: 'the lines did not register at first' };
    await kamailio.stop();
    // The next refresh finds no registrar: the lines go FAILED.
    const failed = await until(() => agents.every((agent) => agent.lines[0]?.state === 'FAILED'), 20000);
    kamailio = await Kamailio.start(port, 'secret');
    const restarted = Date.now();
    const back = await until(ready, 20000);
    const seconds = (Date.now() - restarted) / 1000;
    const status = await probeUser('6000', port, 29090);
    const passed = failed && back && seconds <= regInterval + 1 && status === 200;
    return {
      name,
      tried: `5 lines (reg_timeout 8 s, reg_interval ${regInterval} s); Kamailio stopped until every line was FAILED, then started again`,
      passed,
      figure: `every line READY ${seconds.toFixed(1)} s after the restart (bound: reg_interval + 1 s = ${regInterval + 1} s); an OPTIONS to a line through the new registrar: ${status}`,
      detail: passed ? '' : !failed ? 'the lines did not notice the registrar was gone' : !back ? 'the lines did not come back' : `too slow or not reachable (${seconds.toFixed(1)} s, OPTIONS ${status})`,
    };
  } finally {
    await Promise.all(agents.map((agent) => agent.stop().catch(() => undefined)));
    await kamailio.stop();
  }
}

/** The far end vanishes mid-call (sipp killed): the call ends at rtp_inactivity_timeout, with the reason. */
async function farEndVanishes(): Promise<FaultResult> {
  const name = 'the far end vanishing mid-call';
  const timeoutS = 5;
  const dir = mkdtempSync(join(tmpdir(), 'sep-fault-'));
  const agent = new Endpoint({ config: lineConfig('agent', 29200, 29210, 10, { 'policy.endpoint.rtp_inactivity_timeout': String(timeoutS) }), devices: toneDevices(600) });
  await agent.start();
  let call: Call | undefined;
  agent.on('incomingCall', (incoming) => (call = incoming));
  const file = join(dir, 'vanish.xml');
  // INVITE, 200, ACK, then RTP from sipp (its pcap) until it is killed.
  writeFileSync(file, scenario('vanish', [...ESTABLISH_PCMA, '<pause milliseconds="60000"/>']));
  const sipp = await startProgram('sipp', ['-sf', file, '-m', '1', '-i', '127.0.0.1', '-p', '29280', '-mp', '29282', '-s', 'agent', '-nostdin', `127.0.0.1:${agent.lines[0]!.port!}`], undefined, 0, dir);
  try {
    if (!(await until(() => call?.state === 'CONNECTED', 10000))) return { name, tried: 'a call from sipp', passed: false, figure: '', detail: `the call did not connect: ${sipp.output().slice(-500)}` };
    await sleep(2000);
    sipp.child.kill('SIGKILL');
    const killed = Date.now();
    await until(() => call?.state === 'DISCONNECTED', (timeoutS + 10) * 1000);
    const seconds = (Date.now() - killed) / 1000;
    const reason = call?.endReason ?? '';
    // The pcap's RTP had stopped before the kill in some runs (it lasts 8 s): the bound counts from the kill.
    const passed = call?.state === 'DISCONNECTED' && seconds <= timeoutS + 1.5 && /RTP|inactiv|media/i.test(reason);
    return {
      name,
      tried: `a call from sipp with RTP, sipp killed (SIGKILL) after 2 s; rtp_inactivity_timeout ${timeoutS} s`,
      passed,
      figure: `the call ended ${seconds.toFixed(1)} s after the kill, reason "${reason}"`,
      detail: passed ? '' : `state ${call?.state}, ${seconds.toFixed(1)} s, reason "${reason}"`,
    };
  } finally {
    sipp.child.kill('SIGKILL');
    await agent.stop();
  }
}

/** SIGTERM to a Softphone process during `calls` calls: every call gets a BYE, the line unregisters, exit 0. */
async function sigtermDuringCalls(calls: number): Promise<FaultResult> {
  const name = `SIGTERM during ${calls} calls`;
  const port = 29300;
  const dir = mkdtempSync(join(tmpdir(), 'sep-fault-'));
  const kamailio = await Kamailio.start(port, 'secret');
  const configFile = join(dir, 'Softphone.config');
  writeFileSync(configFile, serializeConfig(lineConfig('7000', 29310, 29400, calls * 2 + 20, { 'server:0': `127.0.0.1:${port}`, 'proxies.proxy0.password': 'secret', 'proxies.proxy0.reg_timeout': '3600', 'system.diagnostics.enable_logging': '1', 'system.diagnostics.logger_type': 'file', 'system.diagnostics.log_file': join(dir, 'softphone.log'), 'system.diagnostics.log_level': '4' })));
  const bin = join(__dirname, '..', 'packages', 'softphone', 'bin', 'softphone.mjs');
  const softphone = spawn(process.execPath, [bin, '--config', configFile, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  softphone.stdout.on('data', (data: Buffer) => (out += data.toString()));
  softphone.stderr.on('data', (data: Buffer) => (err += data.toString()));
  const exited = new Promise<number | null>((resolve) => softphone.once('exit', (code) => resolve(code)));
  const count = (pattern: RegExp): number => out.split('\n').filter((line) => pattern.test(line)).length;
  const file = join(dir, 'held.xml');
  // INVITE through Kamailio, 200, ACK; then wait for the agent's BYE and answer it.
  writeFileSync(file, scenario('held until the agent hangs up', [...ESTABLISH(AUTO_ANSWER, SDP()), recv('request="BYE"', [], ' timeout="120000"'), send(RESPONSE('200 OK'))]));
  let sipp: Awaited<ReturnType<typeof startProgram>> | undefined;
  try {
    if (!(await until(() => count(/"event":"connectionStateChanged".*"state":"READY"/) > 0, 15000))) return { name, tried: '', passed: false, figure: '', detail: `the Softphone did not register: ${err.slice(-500)}` };
    sipp = await startProgram('sipp', ['-sf', file, '-m', String(calls), '-r', '50', '-l', String(calls), '-i', '127.0.0.1', '-p', '29380', '-mp', '29382', '-s', '7000', '-nostdin', '-timeout', '120s', `127.0.0.1:${port}`], undefined, 0, dir);
    if (!(await until(() => count(/"event":"callStateChanged".*"state":"CONNECTED"/) >= calls, 30000))) return { name, tried: '', passed: false, figure: '', detail: `only ${count(/"state":"CONNECTED"/)} calls connected` };
    const signalled = Date.now();
    softphone.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(30000).then(() => 'timeout' as const)]);
    const exitS = (Date.now() - signalled) / 1000;
    await Promise.race([sipp.exited, sleep(10000)]);
    const stats = sippStats(sipp.output());
    const status = await probeUser('7000', port, 29390);
    // The Softphone's log (its password is "secret"): the password never in it.
    // (The log's file name may carry a date or segment number: every softphone*.log of the folder.)
    const log = readdirSync(dir)
      .filter((name) => /^softphone.*\.log$/.test(name))
      .map((name) => readFileSync(join(dir, name), 'latin1'))
      .join('\n');
    const leaks = log.split('\n').filter((line) => line.includes('secret')).length;
    const passed = code === 0 && stats.successful === calls && status === 404 && leaks === 0 && log.length > 0;
    return {
      name,
      tried: `a Softphone process (the CLI) registered on Kamailio with ${calls} calls up from sipp, then SIGTERM`,
      passed,
      figure: `exit code ${String(code)} after ${exitS.toFixed(1)} s; sipp: ${stats.successful} of ${calls} calls ended by a BYE from the agent; an OPTIONS to its DN afterwards: ${status} (404: unregistered); its log (${log.split('\n').length} lines; files ${readdirSync(dir).join(' ')}) holds the password ${leaks} times`,
      detail: passed ? '' : `exit ${String(code)}, ${stats.successful} calls got their BYE, OPTIONS ${status}, password in the log ${leaks} times; ${err.slice(-300)}`,
    };
  } finally {
    softphone.kill('SIGKILL');
    sipp?.child.kill('SIGKILL');
    await kamailio.stop();
  }
}

/** The log's disk full: the endpoint keeps answering calls. */
async function logDiskFull(calls: number): Promise<FaultResult> {
  const name = 'the log disk full';
  const disk = mkdtempSync(join(tmpdir(), 'sep-fulldisk-'));
  // A 64 kB tmpfs, filled up; mounted in this process's own mount namespace (`ip netns exec` made one).
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]);
  try {
    mkdirSync(join(disk, 'logs'));
    try {
      writeFileSync(join(disk, 'filler'), Buffer.alloc(1024 * 1024));
    } catch {
      // ENOSPC: the disk is full, as meant.
    }
    const agent = new Endpoint({ config: lineConfig('agent', 29500, 29510, 20, { 'system.diagnostics.enable_logging': '1', 'system.diagnostics.logger_type': 'file', 'system.diagnostics.log_file': join(disk, 'logs', 'agent.log'), 'system.diagnostics.log_level': '4' }), devices: toneDevices(700) });
    const caller = new Endpoint({ config: lineConfig('caller', 29540, 29550, 20, {}), devices: toneDevices(900) });
    await agent.start();
    await caller.start();
    let connected = 0;
    try {
      for (let i = 0; i < calls; i++) {
        const call = await caller.makeCall(`sip:agent@127.0.0.1:${agent.lines[0]!.port!}`);
        if (await until(() => call.state === 'CONNECTED', 5000)) connected++;
        await call.hangup().catch(() => undefined);
        await until(() => call.state === 'DISCONNECTED', 5000);
      }
    } finally {
      await caller.stop();
      await agent.stop();
    }
    const passed = connected === calls;
    return {
      name,
      tried: `the agent's log file (level 4) on a full 64 kB tmpfs; ${calls} calls to it, one after another`,
      passed,
      figure: `${connected} of ${calls} calls connected and ended`,
      detail: passed ? '' : `${calls - connected} calls failed`,
    };
  } finally {
    execFileSync('umount', ['-l', disk]);
  }
}

/** The site a call came through dies during the call: the call goes on, and the second Connectivity takes the next ones. */
async function failoverDuringCall(): Promise<FaultResult> {
  const name = 'failover to the second Connectivity during a call';
  const dir = mkdtempSync(join(tmpdir(), 'sep-fault-'));
  const siteA = 29700;
  const siteB = 29701;
  let kamailioA: Kamailio | undefined = await Kamailio.start(siteA, 'secret');
  const kamailioB = await Kamailio.start(siteB, 'secret');
  const agent = new Endpoint({
    config: lineConfig('6200', 29710, 29720, 20, {
      'server:0': `127.0.0.1:${siteA}`,
      'user:1': '6200',
      'server:1': `127.0.0.1:${siteB}`,
      'proxies.proxy0.password': 'secret',
      'proxies.proxy0.reg_timeout': '6',
      'proxies.proxy0.reg_interval': '2',
      'proxies.proxy1.password': 'secret',
      'proxies.proxy1.reg_timeout': '60',
      'policy.endpoint.sip_transaction_timeout': '2000',
    }),
    devices: toneDevices(600),
  });
  const caller = new Endpoint({ config: lineConfig('caller', 29760, 29770, 10, {}), devices: toneDevices(800) });
  const file = join(dir, 'through-a.xml');
  // Through site A: INVITE, 200, ACK, RTP from sipp (its pcap); the call ends with the agent's BYE,
  // straight to sipp (no Record-Route: sipp itself would send its requests to the dead site).
  writeFileSync(file, scenario('through site A', [...ESTABLISH_PCMA, recv('request="BYE"', [], ' timeout="60000"'), send(RESPONSE('200 OK'))]));
  let sipp: Awaited<ReturnType<typeof startProgram>> | undefined;
  try {
    await agent.start();
    await caller.start();
    if (!(await until(() => agent.lines.every((line) => line.state === 'READY'), 10000))) return { name, tried: '', passed: false, figure: '', detail: 'the two lines did not register' };
    let first: Call | undefined;
    agent.on('incomingCall', (call) => (first ??= call));
    sipp = await startProgram('sipp', ['-sf', file, '-m', '1', '-i', '127.0.0.1', '-p', '29780', '-mp', '29782', '-s', '6200', '-nostdin', '-timeout', '30s', `127.0.0.1:${siteA}`], undefined, 0, dir);
    if (!(await until(() => first?.state === 'CONNECTED', 10000))) return { name, tried: '', passed: false, figure: '', detail: `the call through site A did not connect: ${sipp.output().slice(-300)}` };
    await sleep(1000);
    await kamailioA.stop();
    kamailioA = undefined;
    const killed = Date.now();
    const receivedAtKill = (first!.media.stats() as { received: { packets: number } } | undefined)?.received.packets ?? 0;
    // Site A's line notices at its next refresh (reg_timeout 6 s) and goes FAILED; site B's stays READY.
    const lineAFailed = await until(() => agent.lines[0]?.state === 'FAILED', 12000);
    const stillUp = first!.state === 'CONNECTED';
    const receivedSince = ((first!.media.stats() as { received: { packets: number } } | undefined)?.received.packets ?? 0) - receivedAtKill;
    // A new call reaches the agent through site B.
    const second = await caller.makeCall(`sip:6200@127.0.0.1:${siteB}`);
    const secondUp = await until(() => second.state === 'CONNECTED', 8000);
    await second.hangup().catch(() => undefined);
    // The first call ends as it should: the agent hangs up, its BYE answered by sipp.
    await first!.hangup().catch(() => undefined);
    const ended = await until(() => first!.state === 'DISCONNECTED', 5000);
    await Promise.race([sipp.exited, sleep(3000)]);
    const stats = sippStats(sipp.output());
    // The BYE goes where the line's requests go, through site A, which is gone: the call ends here
    // all the same (sipp may never hear of it; the dialog has no route but the dead site).
    const passed = lineAFailed && stillUp && receivedSince > 50 && secondUp && ended;
    return {
      name,
      tried: 'an agent with two Connectivity lines for one DN (sites A and B, each a Kamailio); a call from sipp through site A, then site A killed',
      passed,
      figure: `line A FAILED ${lineAFailed ? `${((Date.now() - killed) / 1000).toFixed(0)} s or less after the kill` : 'never'}; the call through A ${stillUp ? 'still CONNECTED' : 'LOST'}, ${receivedSince} RTP packets received after the kill, then hung up by the agent: DISCONNECTED at once (its BYE, sent through the dead site, ${stats.successful === 1 ? 'answered' : 'unanswered'}); a new call through site B ${secondUp ? 'connected' : 'FAILED'}`,
      detail: passed ? '' : `line A failed ${lineAFailed}, call up ${stillUp}, ${receivedSince} packets, second call ${secondUp}, ended ${ended}`,
    };
  } finally {
    sipp?.child.kill('SIGKILL');
    await caller.stop();
    await agent.stop();
    await kamailioA?.stop();
    await kamailioB.stop();
  }
}

/** 20 % of the SIP datagrams to the agent, to Kamailio and to sipp dropped (nftables, in this namespace): every call completes. */
async function signallingLoss(calls: number): Promise<FaultResult> {
  const name = '20 % loss of signalling both ways';
  const dir = mkdtempSync(join(tmpdir(), 'sep-fault-'));
  const kamailioPort = 29900;
  const agentPort = 29910;
  const sippPort = 29980;
  const kamailio = await Kamailio.start(kamailioPort, 'secret');
  const agent = new Endpoint({ config: lineConfig('6400', agentPort, 29920, 20, { 'server:0': `127.0.0.1:${kamailioPort}`, 'proxies.proxy0.password': 'secret', 'proxies.proxy0.reg_timeout': '3600', 'policy.endpoint.sip_port_max': String(agentPort) }), devices: toneDevices(600) });
  const nft = (script: string): void => {
    execFileSync('nft', ['-f', '-'], { input: script });
  };
  // Dropped on the input hook (on output the sender's sendto() would fail with EPERM, which no
  // network does): each datagram crosses it once on loopback, so one rule covers both directions.
  nft(`table inet seploss {\n chain input {\n  type filter hook input priority 0; policy accept;\n  udp dport { ${kamailioPort}, ${agentPort}, ${sippPort} } numgen random mod 100 < 20 counter drop\n }\n}\n`);
  const file = join(dir, 'lossy.xml');
  // INVITE (retransmitted), 200 (each retransmission ACKed again), ACK, a short call, BYE (retransmitted).
  const establish = [...ESTABLISH(AUTO_ANSWER, PCMA_SDP, '', true)].map((step) => step.replace('RTP/AVP 0', 'RTP/AVP 8'));
  writeFileSync(file, scenario('through a lossy network', [...establish, '<pause milliseconds="1000"/>', ...HANG_UP_LOSSY(2)]));
  let sipp: Awaited<ReturnType<typeof startProgram>> | undefined;
  try {
    await agent.start();
    const registered = await until(() => agent.lines[0]?.state === 'READY', 20000);
    let connected = 0;
    agent.on('callStateChanged', (_call, state) => state === 'CONNECTED' && connected++);
    sipp = await startProgram('sipp', ['-sf', file, '-m', String(calls), '-l', '1', '-i', '127.0.0.1', '-p', String(sippPort), '-mp', '29982', '-s', '6400', '-nostdin', '-trace_err', '-timeout', `${calls * 15 + 30}s`, '-timeout_error', `127.0.0.1:${kamailioPort}`], undefined, 0, dir);
    await Promise.race([sipp.exited, sleep((calls * 15 + 40) * 1000)]);
    const stats = sippStats(sipp.output());
    const dropped = Number(/counter packets (\d+)/.exec(execFileSync('nft', ['list', 'table', 'inet', 'seploss']).toString())?.[1] ?? 0);
    await until(() => agent.calls.length === 0, 10000);
    const passed = registered && stats.successful === calls && stats.failed === 0 && connected === calls;
    return {
      name,
      tried: `nftables dropping a fifth of the UDP datagrams to the agent's SIP port, Kamailio's and sipp's; the agent registers, then ${calls} calls from sipp through Kamailio, one at a time`,
      passed,
      figure: `${dropped} datagrams dropped; the line ${registered ? 'registered' : 'did NOT register'}; sipp: ${stats.successful} of ${calls} calls completed, ${stats.failed} failed; the agent connected ${connected}`,
      detail: passed ? '' : `registered ${registered}, sipp ${stats.successful} ok / ${stats.failed} failed, agent connected ${connected}; sipp's errors: ${readdirSync(dir).filter((f) => f.endsWith('errors.log')).map((f) => readFileSync(join(dir, f), 'latin1').slice(0, 1500)).join(' ')}`,
    };
  } finally {
    sipp?.child.kill('SIGKILL');
    try {
      nft('delete table inet seploss\n');
    } catch {
      // Gone with the namespace anyway.
    }
    await agent.stop();
    await kamailio.stop();
  }
}

/** A TCP relay between a line and its server whose connections can be reset (RST) at will. */
async function resettableRelay(listenPort: number, targetPort: number): Promise<{ reset(): number; close(): Promise<void> }> {
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((inbound) => {
    const outbound = netConnect({ host: '127.0.0.1', port: targetPort });
    const pair: [Socket, Socket] = [inbound, outbound];
    pairs.add(pair);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    const drop = (): void => {
      pairs.delete(pair);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  return {
    reset: () => {
      const count = pairs.size;
      for (const [inbound, outbound] of pairs) {
        inbound.resetAndDestroy();
        outbound.resetAndDestroy();
      }
      pairs.clear();
      return count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The line's TCP or TLS connection to its server reset mid-call: the call goes on and ends cleanly (the server reaches the line on its listening port). */
async function connectionReset(protocol: 'TCP' | 'TLS'): Promise<FaultResult> {
  const name = `a ${protocol} connection reset mid-call`;
  const dir = mkdtempSync(join(tmpdir(), 'sep-fault-'));
  // TLS: Kamailio's certificate and ours from one authority; our file holds our certificate, the
  // authority's (trusted for Kamailio's) and our key, so that the line listens for TLS too.
  const certificates = protocol === 'TLS' ? makeTestCertificates(['127.0.0.1']) : undefined;
  const ours = join(dir, 'agent.pem');
  if (certificates) writeFileSync(ours, [certificates.serverCertificate, certificates.caCertificate, certificates.serverKey].map((file) => readFileSync(file, 'latin1')).join(''));
  const kamailio = await Kamailio.start(29800, 'secret', certificates ? { tls: { port: 29802, certificate: certificates.serverCertificate, key: certificates.serverKey } } : {});
  const relay = await resettableRelay(29801, protocol === 'TLS' ? 29802 : 29800);
  const agent = new Endpoint({
    config: lineConfig('6300', 29810, 29820, 10, { 'server:0': '127.0.0.1:29801', 'protocol:0': protocol, 'proxies.proxy0.password': 'secret', 'proxies.proxy0.reg_timeout': '60', ...(certificates ? { 'system.security.certificate': ours } : {}) }),
    devices: toneDevices(600),
  });
  const file = join(dir, 'reset.xml');
  writeFileSync(file, scenario('a call over a line whose connection is reset', [...ESTABLISH_PCMA, '<pause milliseconds="6000"/>', ...HANG_UP(2)]));
  let sipp: Awaited<ReturnType<typeof startProgram>> | undefined;
  try {
    await agent.start();
    if (!(await until(() => agent.lines[0]?.state === 'READY', 10000))) return { name, tried: '', passed: false, figure: '', detail: `the ${protocol} line did not register: ${agent.lines[0]?.reason ?? ''}` };
    let call: Call | undefined;
    agent.on('incomingCall', (incoming) => (call ??= incoming));
    sipp = await startProgram('sipp', ['-sf', file, '-m', '1', '-i', '127.0.0.1', '-p', '29880', '-mp', '29882', '-s', '6300', '-nostdin', '-timeout', '30s', `127.0.0.1:29800`], undefined, 0, dir);
    if (!(await until(() => call?.state === 'CONNECTED', 10000))) return { name, tried: '', passed: false, figure: '', detail: `the call did not connect: ${sipp.output().slice(-300)}` };
    await sleep(1000);
    const reset = relay.reset();
    const received = (): number => (call!.media.stats() as { received: { packets: number } } | undefined)?.received.packets ?? 0;
    const packetsAtReset = received();
    await sleep(2000);
    const stillUp = call!.state === 'CONNECTED';
    const flowing = received() - packetsAtReset;
    const lineState = agent.lines[0]?.state;
    // sipp's BYE (6 s into the call) through Kamailio reaches the agent: Kamailio opens a new
    // connection to the line's listening port (its Contact); the line needs no reconnection.
    await Promise.race([sipp.exited, sleep(20000)]);
    const stats = sippStats(sipp.output());
    const ended = await until(() => call!.state === 'DISCONNECTED', 5000);
    const endReason = call!.endReason ?? '';
    const passed = reset > 0 && stillUp && flowing > 50 && stats.successful === 1 && ended && lineState === 'READY';
    return {
      name,
      tried: `a ${protocol} line (listening port in its Contact) registered through a relay to Kamailio; a call from sipp through Kamailio; the relay resets (RST) the line's connection 1 s into the call`,
      passed,
      figure: `${reset} connection(s) reset; 2 s later the call ${stillUp ? 'still CONNECTED' : 'LOST'} with ${flowing} RTP packets received meanwhile, the line ${lineState}; sipp's BYE (through Kamailio, over a new connection) ${stats.successful === 1 ? 'answered' : 'NOT answered'}, the call ${ended ? `DISCONNECTED ("${endReason}")` : 'not ended'}`,
      detail: passed ? '' : `reset ${reset}, up ${stillUp} (${endReason}), line ${lineState} (${agent.lines[0]?.reason ?? ''}), ${flowing} packets, sipp ${stats.successful}, ended ${ended}`,
    };
  } finally {
    sipp?.child.kill('SIGKILL');
    await agent.stop();
    await relay.close();
    await kamailio.stop();
  }
}

/**
 * The connection of a line without a listening port (TLS without a certificate of ours, WS) lost
 * mid-call: Kamailio killed and started again, the line's old port taken meanwhile (as a NAT gives a
 * new connection another port). The line connects and registers again from another port, and the
 * call sends that Contact in a re-INVITE (a target refresh): sipp's BYE reaches it over the new connection.
 */
async function connectionLostWithoutListener(protocol: 'TLS' | 'WS'): Promise<FaultResult> {
  const name = `a ${protocol} connection lost mid-call, the line without a listening port`;
  const dir = mkdtempSync(join(tmpdir(), 'sep-fault-'));
  const certificates = protocol === 'TLS' ? makeTestCertificates(['127.0.0.1']) : undefined;
  const kamailioOptions = certificates ? { tls: { port: 29902, certificate: certificates.serverCertificate, key: certificates.serverKey } } : { ws: { port: 29903 } };
  let kamailio = await Kamailio.start(29900, 'secret', kamailioOptions);
  const agent = new Endpoint({
    config: lineConfig('6400', 29910, 29920, 10, {
      'server:0': `127.0.0.1:${protocol === 'TLS' ? 29902 : 29903}`,
      'protocol:0': protocol,
      'proxies.proxy0.password': 'secret',
      'proxies.proxy0.reg_timeout': '60',
      'policy.endpoint.tcp_port_min': '29940',
      'policy.endpoint.tcp_port_max': '29949',
      ...(certificates ? { 'system.security.certificate': certificates.caCertificate } : {}),
    }),
    devices: toneDevices(600),
  });
  const file = join(dir, 'lost.xml');
  // sipp takes the agent's re-INVITE (its new Contact becomes sipp's [next_url]), then hangs up.
  writeFileSync(file, scenario('a call over a line whose connection is lost', [...ESTABLISH_PCMA, recv('request="INVITE"', [], ' timeout="20000" rrs="true"'), send(OK_WITH_SDP(PCMA_SDP)), recv('request="ACK"'), '<pause milliseconds="2000"/>', ...HANG_UP(2)]));
  let sipp: Awaited<ReturnType<typeof startProgram>> | undefined;
  let blocker: Awaited<ReturnType<typeof holdPort>> | undefined;
  try {
    await agent.start();
    if (!(await until(() => agent.lines[0]?.state === 'READY', 10000))) return { name, tried: '', passed: false, figure: '', detail: `the ${protocol} line did not register: ${agent.lines[0]?.reason ?? ''}` };
    let call: Call | undefined;
    agent.on('incomingCall', (incoming) => (call ??= incoming));
    sipp = await startProgram('sipp', ['-sf', file, '-m', '1', '-i', '127.0.0.1', '-p', '29980', '-mp', '29982', '-s', '6400', '-nostdin', '-timeout', '40s', '127.0.0.1:29900'], undefined, 0, dir);
    if (!(await until(() => call?.state === 'CONNECTED', 10000))) return { name, tried: '', passed: false, figure: '', detail: `the call did not connect: ${sipp.output().slice(-300)}` };
    await sleep(1000);
    const firstPort = agent.lines[0]!.port!;
    const received = (): number => (call!.media.stats() as { received: { packets: number } } | undefined)?.received.packets ?? 0;
    await kamailio.stop();
    const lost = Date.now();
    blocker = await holdPort(firstPort);
    kamailio = await Kamailio.start(29900, 'secret', kamailioOptions);
    const packetsAtRestart = received();
    const back = await until(() => agent.lines[0]?.port !== firstPort && agent.lines[0]?.state === 'READY', 15000);
    const seconds = (Date.now() - lost) / 1000;
    const newPort = agent.lines[0]?.port;
    await Promise.race([sipp.exited, sleep(30000)]);
    const stats = sippStats(sipp.output());
    const ended = await until(() => call!.state === 'DISCONNECTED', 5000);
    const flowing = received() - packetsAtRestart;
    const passed = back && stats.successful === 1 && ended && call!.endReason === undefined && flowing > 50;
    return {
      name,
      tried: `a ${protocol} line (no listening port: Kamailio reaches it only over its own connection) registered to Kamailio; a call from sipp through Kamailio; 1 s into it Kamailio killed and started again, the line's port taken meanwhile`,
      passed,
      figure: `the line ${back ? `READY again ${seconds.toFixed(1)} s after the kill, from port ${newPort} (was ${firstPort})` : 'NOT back'}; the call's re-INVITE with the new Contact ${stats.successful === 1 ? 'answered by sipp, whose BYE 2 s later reached the agent over the new connection' : 'or sipp\'s BYE failed'}; ${flowing} RTP packets received after the restart; the call ${ended ? `DISCONNECTED (${call!.endReason ?? 'hung up by the far end'})` : 'not ended'}`,
      detail: passed ? '' : `back ${back}, sipp ${stats.successful} (${sipp.output().slice(-300)}), ended ${ended} (${call!.endReason ?? ''}), ${flowing} packets`,
    };
  } finally {
    sipp?.child.kill('SIGKILL');
    blocker?.close();
    await agent.stop();
    await kamailio.stop();
  }
}

/** A server certificate the line cannot trust, or one that has expired: FAILED, with a reason that says so. */
async function badCertificates(): Promise<FaultResult> {
  const name = 'an invalid or expired server certificate';
  const untrusted = makeTestCertificates(['127.0.0.1']);
  const expired = makeTestCertificates(['127.0.0.1'], { expired: true });
  const reasons: string[] = [];
  let passed = true;
  for (const [what, certificates, trust, pattern] of [
    ['signed by an authority the line does not trust', untrusted, undefined, /verify|self[- ]signed|issuer/i],
    ['expired (the line trusts its authority)', expired, expired.caCertificate, /expired/i],
  ] as const) {
    const kamailio = await Kamailio.start(29600, 'secret', { tls: { port: 29601, certificate: certificates.serverCertificate, key: certificates.serverKey } });
    const line = new Endpoint({ config: lineConfig('6100', 29610, 29620, 4, { 'server:0': '127.0.0.1:29601', 'protocol:0': 'TLS', 'proxies.proxy0.password': 'secret', 'proxies.proxy0.reg_timeout': '60', 'proxies.proxy0.reg_interval': '0', ...(trust ? { 'system.security.certificate': trust } : {}) }), devices: toneDevices(500) });
    try {
      await line.start();
      await until(() => line.lines[0]?.state === 'FAILED', 10000);
      const reason = line.lines[0]?.reason ?? '';
      const ok = line.lines[0]?.state === 'FAILED' && pattern.test(reason);
      passed &&= ok;
      reasons.push(`${what}: line ${line.lines[0]?.state}, "${reason}"`);
    } finally {
      await line.stop();
      await kamailio.stop();
    }
  }
  return { name, tried: 'a TLS line to Kamailio whose certificate is signed by an authority the line does not trust, then one whose certificate has expired', passed, figure: reasons.join('; '), detail: passed ? '' : 'a line did not refuse the certificate with a reason that says why' };
}

export async function runFaults(options: FaultsOptions): Promise<FaultsReport> {
  const faults: FaultResult[] = [];
  const all: Array<[string, () => Promise<FaultResult>]> = [
    ['registrar', registrarRestart],
    ['failover', failoverDuringCall],
    ['vanish', farEndVanishes],
    ['sigterm', () => sigtermDuringCalls(options.short ? 20 : 100)],
    ['disk', () => logDiskFull(options.short ? 3 : 20)],
    ['reset-tcp', () => connectionReset('TCP')],
    ['reset-tls', () => connectionReset('TLS')],
    ['lost-tls', () => connectionLostWithoutListener('TLS')],
    ['lost-ws', () => connectionLostWithoutListener('WS')],
    ['loss', () => signallingLoss(options.short ? 5 : 20)],
    ['certificate', badCertificates],
  ];
  for (const [key, fault] of all) {
    if (options.only && !options.only.some((wanted) => key.includes(wanted))) continue;
    try {
      faults.push(await fault());
    } catch (error) {
      faults.push({ name: key, tried: '', passed: false, figure: '', detail: `the scenario itself failed: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  return {
    faults,
    notYet: [],
  };
}

// Run as a script (inside the namespace): options as JSON in argv[2], the report on the last line.
if (require.main === module) runAsScript<FaultsOptions, unknown>(runFaults);
