import { guideBlocks, runExample, shape } from './support/run-example';

describe('examples/agent-desktop.ts', () => {
  it('maps the endpoint\'s events to the desktop view and drives the call from its buttons: ring, answer, hold, retrieve, hang up', async () => {
    const result = await runExample('agent-desktop.ts');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const at = (pattern: RegExp): number => {
      const index = lines.findIndex((line) => pattern.test(line));
      if (index < 0) throw new Error(`no line matches ${pattern}:\n${result.stdout}`);
      return index;
    };
    const view = (status: string, line: string, calls: string, message: string): RegExp => new RegExp(`^\\s*\\d+\\.\\d{3} s {2}\\[${status}, headset\\] line 0 7001 ${line} \\| ${calls} \\| ${message}$`);
    const call = (state: string, codec = ' PCMU/8000'): string => `call-\\d+ from sip:7002@127\\.0\\.0\\.1 ${state}${codec}`;
    const order = [
      at(view('INITIALIZED', 'STANDALONE', 'no call', 'Ready')),
      at(view('INITIALIZED', 'STANDALONE', call('RINGING', ''), 'Incoming call from sip:7002@127\\.0\\.0\\.1')),
      at(/\(the agent clicks Answer\)$/),
      at(view('INITIALIZED', 'STANDALONE', call('CONNECTED'), 'Talking to sip:7002@127\\.0\\.0\\.1 \\(PCMU/8000\\)')),
      at(/\(the agent clicks Hold\)$/),
      at(view('INITIALIZED', 'STANDALONE', call('HELD'), 'On hold')),
      at(/\(the agent clicks Retrieve\)$/),
      at(/\(the agent clicks Hang up\)$/),
      at(view('INITIALIZED', 'STANDALONE', 'no call', 'Call ended')),
      at(view('INITIALIZING', 'SHUTDOWN', 'no call', 'Signed out')),
    ];
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // Retrieve brought the call back: a CONNECTED view between the Retrieve and Hang up clicks.
    expect(lines.slice(order[6], order[7]).some((line) => view('INITIALIZED', 'STANDALONE', call('CONNECTED'), 'Talking to .*').test(line))).toBe(true);
    // A view is printed only when it changed.
    const views = lines.filter((line) => /\] line/.test(line)).map((line) => line.replace(/^\s*\S+ s {2}/, ''));
    expect(views.every((v, i) => i === 0 || v !== views[i - 1])).toBe(true);
    // Each line of the guide's sample output is one the example prints, numbers aside.
    const sample = guideBlocks().find((block) => block.language === '' && block.lines.some((line) => line.includes('(the agent clicks Answer)')));
    expect(sample?.lines.length).toBeGreaterThan(8);
    const printed = new Set(lines.map(shape));
    expect(sample?.lines.filter((line) => !printed.has(shape(line)))).toEqual([]);
    expect(lines.at(-1)).toBe('the desktop showed, in order: the line ready; a ringing call; the call connected; the call held; the call connected again; no call left');
  }, 45000);
});
