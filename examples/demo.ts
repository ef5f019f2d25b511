import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { EndpointConfig } from '@sip-endpoint/config';
import { readWav, VirtualAudioProvider, writeWav } from '@sip-endpoint/media';
import { dominantFrequency, rms } from '@sip-endpoint/media/testing';
import { Endpoint, type Call } from '@sip-endpoint/endpoint-core';

// The SDK's tour, with nothing but npm: two Endpoints in stand-alone mode (no SIP server) on
// 127.0.0.1. The caller's virtual microphone plays a synthesized spoken-like prompt; the agent
// answers by policy (`policy.session.auto_answer`); then DTMF by RFC 2833 and by SIP INFO, hold,
// retrieve and hang-up. Every event is printed on a timeline; the agent's speaker is written to a
// WAV file whose dominant frequency must be the prompt's.
//
//   tsx examples/demo.ts [output-dir]        (default ./demo-output)

const OUTPUT_DIR = resolve(process.argv[2] ?? 'demo-output');
const TIME_LIMIT_MS = 15000;
const started = performance.now();

/** One line of the timeline: seconds since start, who, what. */
function timeline(who: string, what: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(3).padStart(7);
  console.log(`${seconds} s  ${who.padEnd(6)}  ${what}`);
}

/** A path as the user would type it: relative to the working directory when inside it. */
function shown(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside.startsWith('..') ? path : inside;
}

class DemoStepError extends Error {
  override name = 'DemoStepError';
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Waits until `check()` holds; fails the step named `what` after `ms`. */
async function waitUntil(what: string, check: () => boolean, ms = 3000): Promise<void> {
  for (const deadline = performance.now() + ms; !check(); await sleep(20)) {
    if (performance.now() > deadline) throw new DemoStepError(`${what}: not within ${ms} ms`);
  }
}

/**
 * A spoken-like prompt at 16 kHz: five "syllables" of a voiced sound (a 125 Hz glottal pitch whose
 * harmonics are shaped by two formants, at 750 and 1250 Hz) with pauses between them, -12 dBFS
 * at its peak. Its strongest harmonic (750 Hz) is what the agent must hear.
 */
function synthesizePrompt(sampleRate: number): Int16Array {
  const pitch = 125;
  const syllables = [0.24, 0.18, 0.3, 0.22, 0.34];
  const pause = 0.09;
  const formant = (f: number, centre: number, width: number): number => Math.exp(-(((f - centre) / width) ** 2));
  const harmonics: { w: number; amplitude: number }[] = [];
  for (let k = 1; k * pitch < 3400; k++) {
    const f = k * pitch;
    harmonics.push({ w: (2 * Math.PI * f) / sampleRate, amplitude: 0.1 + formant(f, 750, 160) + 0.55 * formant(f, 1250, 220) });
  }
  const norm = harmonics.reduce((sum, h) => sum + h.amplitude, 0);
  const peak = 32767 * 10 ** (-12 / 20);
  const total = syllables.reduce((sum, s) => sum + s + pause, 0);
  const samples = new Int16Array(Math.round(total * sampleRate));
  let start = 0;
  for (const seconds of syllables) {
    const length = Math.round(seconds * sampleRate);
    const edge = Math.round(0.04 * sampleRate);
    for (let n = 0; n < length; n++) {
      // Raised-cosine attack and release, as a syllable swells and fades.
      const envelope = n < edge ? 0.5 - 0.5 * Math.cos((Math.PI * n) / edge) : n > length - edge ? 0.5 - 0.5 * Math.cos((Math.PI * (length - n)) / edge) : 1;
      let value = 0;
      for (const h of harmonics) value += h.amplitude * Math.sin(h.w * (start + n));
      samples[start + n] = Math.round((peak * envelope * value) / norm);
    }
    start += length + Math.round(pause * sampleRate);
  }
  return samples;
}

/** The voiced part of a recording: its 20 ms frames louder than a tenth of the loudest one. */
function voiced(samples: Int16Array, sampleRate: number): Int16Array {
  const size = Math.round(sampleRate * 0.02);
  const frames: Int16Array[] = [];
  for (let i = 0; i + size <= samples.length; i += size) frames.push(samples.subarray(i, i + size));
  const loudest = Math.max(0, ...frames.map((frame) => rms(frame)));
  const kept = frames.filter((frame) => loudest > 0 && rms(frame) > loudest / 10);
  const out = new Int16Array(kept.length * size);
  kept.forEach((frame, i) => out.set(frame, i * size));
  return out;
}

/** RMS level in dBFS, one decimal. */
function dbfs(samples: Int16Array): string {
  return (20 * Math.log10(Math.max(rms(samples), 1) / 32768)).toFixed(1);
}

/** A stand-alone endpoint on 127.0.0.1: SIP from `sipPort`, 50 RTP ports from `rtpBase`. */
function standalone(user: string, sipPort: number, rtpBase: number, devices: VirtualAudioProvider, settings: Record<string, string> = {}): Endpoint {
  const config = EndpointConfig.defaults().with({
    'user:0': user,
    'server:0': '127.0.0.1',
    'proxies.proxy0.reg_timeout': '0', // no REGISTER: the line is STANDALONE
    'policy.endpoint.public_address': '127.0.0.1',
    'policy.endpoint.sip_port_min': String(sipPort),
    'policy.endpoint.sip_port_max': String(sipPort + 6),
    'policy.endpoint.rtp_port_min': String(rtpBase),
    'policy.endpoint.rtp_port_max': String(rtpBase + 49),
    'system.media.ringing_file': '',
    'policy.session.ringing_file': '',
    ...settings,
  });
  return new Endpoint({ config, devices });
}

/** Prints what an endpoint reports: line states, session status, calls, codec, DTMF. */
function watch(who: string, endpoint: Endpoint): void {
  endpoint.on('connectionStateChanged', (line, state, previous) => timeline(who, `line ${line}: ${previous} -> ${state}`));
  endpoint.on('statusChanged', (status) => timeline(who, `session status ${status}`));
  endpoint.on('incomingCall', (call) => timeline(who, `${call.id}: incoming from ${call.info().remote}`));
  endpoint.on('callStateChanged', (call, state, previous) => {
    const info = call.info();
    const held = state === 'HELD' ? ` (held by ${info.heldBy === 'remote' ? 'the far end' : info.heldBy === 'local' ? 'us' : 'both'})` : '';
    timeline(who, `${call.id}: ${previous} -> ${state}${held}`);
    if (state === 'CONNECTED' && previous !== 'HELD') timeline(who, `${call.id}: codec ${info.codec ?? 'none'}`);
  });
  const methods = { rfc4733: 'RFC 2833', info: 'SIP INFO', inband: 'in-band' } as const;
  endpoint.on('dtmf', (call, event) => timeline(who, `${call.id}: DTMF "${event.digit}" received (${methods[event.source]})`));
  endpoint.on('vqAlarm', (call, report) => timeline(who, `${call.id}: voice quality alarm, MOS ${report.intervalMos.toFixed(2)}`));
  endpoint.on('listenerError', (error) => timeline(who, `listener error: ${error.message}`));
}

async function main(): Promise<void> {
  console.log('SIP Endpoint SDK demo: two stand-alone endpoints on 127.0.0.1, a caller playing a prompt and an agent answering by policy');
  console.log('seconds    who     event ("> " marks what the demo does)');
  const watchdog = setTimeout(() => {
    console.error(`demo failed: it did not finish within ${TIME_LIMIT_MS / 1000} s`);
    process.exit(1);
  }, TIME_LIMIT_MS);

  // The prompt, written as a WAV file and played from it by the caller's virtual microphone.
  await mkdir(OUTPUT_DIR, { recursive: true });
  const promptFile = join(OUTPUT_DIR, 'prompt.wav');
  await writeWav(promptFile, { sampleRate: 16000, channels: 1, samples: synthesizePrompt(16000) });
  const prompt = await readWav(promptFile);
  const promptSeconds = prompt.samples.length / prompt.sampleRate;
  const promptVoiced = voiced(prompt.samples, prompt.sampleRate);
  const promptHz = dominantFrequency(promptVoiced, prompt.sampleRate);
  timeline('demo', `prompt ${shown(promptFile)}: ${promptSeconds.toFixed(2)} s, dominant ${promptHz} Hz`);

  const callerDevices = new VirtualAudioProvider({ defaults: false });
  callerDevices.addInput({ name: 'Prompt player', id: 'mic' }, { kind: 'wav', audio: prompt });
  callerDevices.addOutput({ name: 'Caller speaker', id: 'speaker' });
  const agentDevices = new VirtualAudioProvider({ defaults: false });
  agentDevices.addInput({ name: 'Agent headset microphone', id: 'mic' }, { kind: 'silence' });
  agentDevices.addOutput({ name: 'Agent headset earphone', id: 'speaker' }, { record: true });

  // The caller is a prompt player: no local feedback tone for the digits it sends.
  const caller = standalone('5001', 62000, 62100, callerDevices, { 'policy.session.dtmf_feedback': '0' });
  const agent = standalone('5002', 62010, 62150, agentDevices, { 'policy.session.auto_answer': '1' });
  watch('caller', caller);
  watch('agent', agent);

  let failure: Error | undefined;
  try {
    await caller.start();
    await agent.start();
    const agentCalls: Call[] = [];
    agent.on('incomingCall', (incoming) => agentCalls.push(incoming));

    const target = `sip:5002@127.0.0.1:${agent.lines[0]!.port}`;
    timeline('caller', `> makeCall(${target})`);
    const call = await caller.makeCall(target);
    await waitUntil('the agent answers by policy', () => call.state === 'CONNECTED' && agentCalls[0]?.state === 'CONNECTED');
    const answered = agentCalls[0]!;

    timeline('demo', `the prompt plays for ${promptSeconds.toFixed(1)} s`);
    await sleep(promptSeconds * 1000 + 300);

    const digits: string[] = [];
    agent.on('dtmf', (_call, event) => digits.push(`${event.digit}/${event.source}`));
    timeline('caller', '> sendDtmf("12") by RFC 2833');
    await call.sendDtmf('12');
    await waitUntil('the agent receives "12" by RFC 2833', () => digits.length >= 2);
    timeline('caller', '> sendDtmf("#") by SIP INFO');
    await call.sendDtmf('#', { method: 'info' });
    await waitUntil('the agent receives "#" by SIP INFO', () => digits.length >= 3);
    if (digits.join(' ') !== '1/rfc4733 2/rfc4733 #/info') throw new DemoStepError(`the agent received ${digits.join(' ')}, not 1 and 2 by RFC 2833 then # by INFO`);

    timeline('caller', '> hold()');
    await call.hold();
    await waitUntil('both sides see the call held', () => call.state === 'HELD' && answered.state === 'HELD');
    await sleep(300);
    timeline('caller', '> retrieve()');
    await call.retrieve();
    await waitUntil('both sides see the call connected again', () => call.state === 'CONNECTED' && answered.state === 'CONNECTED');
    await sleep(300);

    const quality = answered.info().quality;
    if (!quality) throw new DemoStepError('the agent has no voice quality figures');
    timeline('agent', `${answered.id}: MOS ${quality.mos.toFixed(2)} (last interval ${quality.intervalMos.toFixed(2)}), jitter ${quality.jitterMs.toFixed(1)} ms`);
    const callerQuality = call.info().quality;
    if (callerQuality) timeline('caller', `${call.id}: MOS ${callerQuality.mos.toFixed(2)} (last interval ${callerQuality.intervalMos.toFixed(2)})`);

    timeline('caller', '> hangup()');
    await call.hangup();
    await waitUntil('both sides see the call end', () => call.state === 'DISCONNECTED' && answered.state === 'DISCONNECTED');

    // What the agent heard, to a WAV file; its dominant frequency must be the prompt's.
    const heard = agentDevices.recording('speaker');
    const heardFile = join(OUTPUT_DIR, 'agent-received.wav');
    await writeWav(heardFile, { sampleRate: heard.sampleRate, channels: 1, samples: heard.samples });
    const heardVoiced = voiced(heard.samples, heard.sampleRate);
    if (heardVoiced.length < heard.sampleRate * 0.5 || rms(heardVoiced) < rms(promptVoiced) / 4) throw new DemoStepError('the agent heard (almost) nothing of the prompt');
    const heardHz = dominantFrequency(heardVoiced, heard.sampleRate);
    timeline('agent', `received audio ${shown(heardFile)}: ${(heard.samples.length / heard.sampleRate).toFixed(2)} s, dominant ${heardHz} Hz, level ${dbfs(heardVoiced)} dBFS (prompt ${dbfs(promptVoiced)} dBFS)`);
    if (Math.abs(heardHz - promptHz) > 10) throw new DemoStepError(`the agent heard ${heardHz} Hz, the prompt's dominant frequency is ${promptHz} Hz`);
  } catch (error) {
    failure = error as Error;
  } finally {
    await caller.stop();
    await agent.stop();
    clearTimeout(watchdog);
  }
  if (failure) {
    console.error(`demo failed: ${failure.message}`);
    process.exit(1);
  }
  timeline('demo', `done: the agent heard the prompt (${promptHz} Hz); the demo took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  // sip.js keeps transaction timers (up to 32 s) after the endpoints stop; nothing is left to wait for.
  process.exit(0);
}

main().catch((error: Error) => {
  console.error(`demo failed: ${error.message}`);
  process.exit(1);
});
