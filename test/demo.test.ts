import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guideBlocks, runExample, shape } from './support/run-example';

/** The fields of a PCM WAV file's header, read by hand (the test checks the demo's output, not our reader). */
function wavHeader(data: Buffer): { format: number; channels: number; sampleRate: number; bits: number; dataBytes: number } {
  expect(data.toString('latin1', 0, 4)).toBe('RIFF');
  expect(data.toString('latin1', 8, 12)).toBe('WAVE');
  expect(data.readUInt32LE(4)).toBe(data.length - 8);
  expect(data.toString('latin1', 12, 16)).toBe('fmt ');
  const dataAt = 20 + data.readUInt32LE(16);
  expect(data.toString('latin1', dataAt, dataAt + 4)).toBe('data');
  return { format: data.readUInt16LE(20), channels: data.readUInt16LE(22), sampleRate: data.readUInt32LE(24), bits: data.readUInt16LE(34), dataBytes: data.readUInt32LE(dataAt + 4) };
}

describe('examples/demo.ts (npm run demo)', () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'sip-demo-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs the call scenario in under 15 s, prints its timeline and writes what the agent heard', async () => {
    const result = await runExample('demo.ts', [out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const events = lines.slice(2);
    // One line per event: seconds since start (increasing), who, what.
    const times = events.map((line) => Number(/^\s*(\d+\.\d{3}) s {2}(demo|caller|agent) +\S/.exec(line)?.[1]));
    expect(times.every((t) => Number.isFinite(t))).toBe(true);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.at(-1)).toBeLessThan(15);

    const expectLine = (pattern: RegExp): string => {
      const line = events.find((l) => pattern.test(l));
      if (!line) throw new Error(`no line matches ${pattern}:\n${result.stdout}`);
      return line;
    };
    const order = [
      /caller {2}line 0: NONE -> STANDALONE$/,
      /agent {3}line 0: NONE -> STANDALONE$/,
      /caller {2}> makeCall\(sip:5002@127\.0\.0\.1:\d+\)$/,
      /agent {3}call-\d+: incoming from sip:5001@127\.0\.0\.1$/,
      /agent {3}call-\d+: RINGING -> CONNECTED$/,
      /agent {3}call-\d+: codec PCMU\/8000$/,
      // The agent answers at once: its 200 comes without a 180, so the caller never alerts.
      /caller {2}call-\d+: IN_PROGRESS -> CONNECTED$/,
      /caller {2}call-\d+: codec PCMU\/8000$/,
      /agent {3}call-\d+: DTMF "1" received \(RFC 2833\)$/,
      /agent {3}call-\d+: DTMF "2" received \(RFC 2833\)$/,
      /agent {3}call-\d+: DTMF "#" received \(SIP INFO\)$/,
      /agent {3}call-\d+: CONNECTED -> HELD \(held by the far end\)$/,
      /agent {3}call-\d+: HELD -> CONNECTED$/,
      /agent {3}call-\d+: MOS \d\.\d\d \(last interval \d\.\d\d\), jitter \d+\.\d ms$/,
      /caller {2}> hangup\(\)$/,
      /agent {3}call-\d+: CONNECTED -> DISCONNECTED$/,
      /agent {3}received audio .*agent-received\.wav: \d+\.\d\d s, dominant \d+ Hz/,
      /demo {4}done: the agent heard the prompt \(\d+ Hz\)/,
    ].map((pattern) => events.indexOf(expectLine(pattern)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(events.filter((line) => /DTMF/.test(line))).toHaveLength(3);
    expect(events.some((line) => /caller {2}call-\d+: CONNECTED -> HELD \(held by us\)$/.test(line))).toBe(true);

    // An E-model MOS: at most 4.41 for G.711. (Usually exactly that on loopback; the media stream
    // currently counts RFC 2833 packets and packets that cross a hold's re-INVITE as lost, which
    // lowers it when an RTCP interval ends just after them.)
    const mos = Number(/MOS (\d\.\d\d)/.exec(expectLine(/agent {3}call-\d+: MOS/))?.[1]);
    expect(mos).toBeGreaterThanOrEqual(1);
    expect(mos).toBeLessThanOrEqual(4.41);
    const promptHz = Number(/prompt .*dominant (\d+) Hz/.exec(expectLine(/demo {4}prompt /))?.[1]);
    const heardHz = Number(/dominant (\d+) Hz/.exec(expectLine(/received audio/))?.[1]);
    expect(promptHz).toBe(750);
    expect(Math.abs(heardHz - promptHz)).toBeLessThanOrEqual(10);

    // The guide's sample output is what the demo prints, numbers and paths aside (two events of
    // the two endpoints may come in either order).
    const sample = guideBlocks().find((block) => block.language === '' && block.lines[0]?.startsWith('SIP Endpoint SDK demo'));
    const normalise = (line: string): string => shape(line.replace(/\S*\/(prompt|agent-received)\.wav/, '$1.wav'));
    expect(sample?.lines.map(normalise).sort()).toEqual(lines.map(normalise).sort());

    const heard = readFileSync(join(out, 'agent-received.wav'));
    const header = wavHeader(heard);
    // At the call's codec rate: PCMU is 8 kHz, and the agent's speaker opened at it (nothing resampled).
    expect(header).toMatchObject({ format: 1, channels: 1, sampleRate: 8000, bits: 16 });
    // The call lasted a few seconds, and what the agent heard is not silence.
    expect(header.dataBytes / 2 / header.sampleRate).toBeGreaterThan(2);
    let peak = 0;
    for (let at = heard.length - header.dataBytes; at < heard.length; at += 2) peak = Math.max(peak, Math.abs(heard.readInt16LE(at)));
    expect(peak).toBeGreaterThan(2000);
    expect(wavHeader(readFileSync(join(out, 'prompt.wav')))).toMatchObject({ format: 1, channels: 1, sampleRate: 16000, bits: 16 });
  }, 45000);

  it('exits 1 with a clear message when a step fails (here: the output directory cannot be made)', async () => {
    const file = join(out, 'not-a-directory');
    writeFileSync(file, '');
    const result = await runExample('demo.ts', [join(file, 'out')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^demo failed: .*not-a-directory/m);
  }, 45000);
});
