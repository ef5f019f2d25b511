import { runExample } from './support/run-example';

describe('examples/connector-client.ts', () => {
  it('drives an in-process Softphone in connector mode: session, register, watch a call come and go, mute, unregister, close', async () => {
    const result = await runExample('connector-client.ts');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const at = (pattern: RegExp): number => {
      const index = lines.findIndex((line) => pattern.test(line));
      if (index < 0) throw new Error(`no line matches ${pattern}:\n${result.stdout}`);
      return index;
    };
    const order = [
      at(/softphone {2}Connector API listening at http:\/\/127\.0\.0\.1:62480\/softphone\/v2$/),
      at(/softphone {2}client session started$/),
      at(/desktop {4}session [0-9A-F-]{36} opened \(Softphone \d+\.\d+\.\d+.*\): status INITIALIZING, line 6001 NONE$/),
      at(/desktop {4}> register\(\)$/),
      at(/desktop {4}line 6001@127\.0\.0\.1: NONE -> STANDALONE$/),
      at(/customer {3}> makeCall\(sip:6001@127\.0\.0\.1:\d+\)$/),
      at(/desktop {4}call \S+ added$/),
      at(/desktop {4}call \S+: none -> CONNECTED$/),
      at(/desktop {4}> setAudio/),
      at(/desktop {4}devices: microphone .* \(muted\), speaker /),
      at(/customer {3}> hangup\(\)$/),
      at(/desktop {4}call \S+ removed$/),
      at(/desktop {4}> unregister\(\)$/),
      at(/desktop {4}line 6001@127\.0\.0\.1: STANDALONE -> SHUTDOWN$/),
      at(/desktop {4}> closeSession\(\)$/),
      at(/softphone {2}client session ended \(closed\)$/),
      at(/desktop {4}done$/),
    ];
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // The same snapshot, or two in a row, show the status and the line change after register().
    const initialized = at(/desktop {4}status INITIALIZING -> INITIALIZED$/);
    expect(initialized).toBeGreaterThan(order[3]!);
    expect(initialized).toBeLessThan(order[5]!);
    expect(lines.some((line) => /poll failed|session lost|error:/.test(line))).toBe(false);
  }, 45000);
});
