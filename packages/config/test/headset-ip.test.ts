import { headsetPairsType } from '../src/headset-pairs';
import { ipVersionsType } from '../src/ip-versions';

// include_headset's quoted pairs and ip_versions, each answer, note and reason exactly.

describe('include_headset pairs', () => {
  it.each([
    ['', []],
    ['Jabra Mic:Jabra Speaker', [{ input: 'Jabra Mic', output: 'Jabra Speaker' }]],
    ['  Mic : Speaker  ,  USB In:USB Out ', [{ input: 'Mic', output: 'Speaker' }, { input: 'USB In', output: 'USB Out' }]],
    // Quoted names keep what is inside the quotes (spaces, colons, commas, the other quote).
    ['"Mic: 1, left":Speaker', [{ input: 'Mic: 1, left', output: 'Speaker' }]],
    ["' Mic ':\" Speaker \"", [{ input: ' Mic ', output: ' Speaker ' }]],
    ['\'Say "hi"\':Out', [{ input: 'Say "hi"', output: 'Out' }]],
    // Text before a quote that is only blank is dropped; blanks after a quoted name are dropped.
    ['   "In" :  "Out"   ', [{ input: 'In', output: 'Out' }]],
    // Text before a quote that is not blank stays, joined to the quoted part.
    ['USB "In":Out', [{ input: 'USB In', output: 'Out' }]],
    ['a:b,,c:d,', [{ input: 'a', output: 'b' }, { input: 'c', output: 'd' }]],
  ] as const)('%j', (text, value) => {
    expect(headsetPairsType.parse(text)).toEqual({ ok: true, value });
  });

  it('notes and skips what is not one Mic:Speaker pair', () => {
    expect(headsetPairsType.parse('Mic,a:b:c,:Out,In:, x : y ')).toEqual({
      ok: true,
      value: [{ input: 'x', output: 'y' }],
      notes: ['"Mic" is not a Mic:Speaker pair and is ignored', '"a:b:c" is not a Mic:Speaker pair and is ignored', '":Out" is not a Mic:Speaker pair and is ignored', '"In:" is not a Mic:Speaker pair and is ignored'],
    });
  });

  it('refuses an unclosed quote', () => {
    expect(headsetPairsType.parse('"Mic:Speaker')).toEqual({ ok: false, reason: '""Mic:Speaker" has a quote that is not closed' });
    expect(headsetPairsType.parse("a:b,'c:d")).toEqual({ ok: false, reason: '"a:b,\'c:d" has a quote that is not closed' });
  });

  it('writes names back, quoting those that need it, and reads its own output again', () => {
    const pairs = [
      { input: 'Mic', output: 'Speaker' },
      { input: 'Mic: 1, left', output: ' padded' },
      { input: 'Say "hi"', output: "it's" },
    ];
    const text = headsetPairsType.format(pairs);
    expect(text).toBe('Mic:Speaker,"Mic: 1, left":" padded",\'Say "hi"\':"it\'s"');
    expect(headsetPairsType.parse(text)).toEqual({ ok: true, value: pairs });
    expect(headsetPairsType.format([])).toBe('');
  });
});

describe('ip_versions', () => {
  it.each([
    ['', ['IPv4', 'IPv6']],
    [' , ', ['IPv4', 'IPv6']],
    ['IPv4', ['IPv4']],
    [' ipv6 ', ['IPv6']],
    ['IPV6,ipv4', ['IPv6', 'IPv4']],
    ['IPv4,,IPv6', ['IPv4', 'IPv6']],
  ] as const)('%j is %j', (text, value) => {
    expect(ipVersionsType.parse(text)).toEqual({ ok: true, value });
  });

  it.each([
    ['IPv5', '"ipv5" is not IPv4 or IPv6'],
    ['IPv4,v6', '"v6" is not IPv4 or IPv6'],
    ['IPv4, ipv4', 'IPv4 is named twice'],
  ])('refuses %j: %s', (text, reason) => {
    expect(ipVersionsType.parse(text)).toEqual({ ok: false, reason });
  });

  it('writes the families with a comma', () => {
    expect(ipVersionsType.format(['IPv6', 'IPv4'])).toBe('IPv6,IPv4');
  });
});
