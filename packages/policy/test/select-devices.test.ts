import { selectDevices, deviceNameMatches, findHeadset } from '@sip-endpoint/policy';
import { builtIn, config, jabra, mic, speaker } from './support/context';

const plantronics = [mic('Headset Microphone (Plantronics Blackwire 3220)'), speaker('Headset Earphone (Plantronics Blackwire 3220)')];

describe('deviceNameMatches', () => {
  it.each([
    ['Jabra', 'Headset Earphone (Jabra EVOLVE 20 MS)', true],
    ['jabra evolve', 'Headset Earphone (Jabra EVOLVE 20 MS)', true],
    ['Jabra EVOLVE \\d+', 'Headset Earphone (Jabra EVOLVE 20 MS)', true],
    ['^Headset', 'Headset Earphone (Jabra EVOLVE 20 MS)', true],
    ['^Jabra', 'Headset Earphone (Jabra EVOLVE 20 MS)', false],
    ['Microphone Array (Realtek(R) Audio)', 'Microphone Array (Realtek(R) Audio)', true],
    ['(unclosed', 'Mic (unclosed group', true],
    ['(unclosed', 'Mic', false],
    ['', 'Anything', false],
    ['jabra evolve \\d+', 'Headset Earphone (Jabra EVOLVE 20 MS)', true],
    ['HEADSET EAR.*MS\\)$', 'Headset Earphone (Jabra EVOLVE 20 MS)', true],
  ])('"%s" matches "%s": %p', (pattern, name, expected) => {
    expect(deviceNameMatches(pattern, name)).toBe(expected);
  });
});

describe('selectDevices with use_headset = 1', () => {
  it('takes the first headset_name present, in file order', () => {
    const cfg = config({ 'device.use_headset': '1', 'device.headset_name': ['Plantronics', 'Jabra'] });
    expect(selectDevices({ config: cfg, devices: [...builtIn, ...jabra, ...plantronics] })).toMatchObject({ input: plantronics[0], output: plantronics[1], headsetAvailable: true });
    const reversed = config({ 'device.use_headset': '1', 'device.headset_name': ['Jabra', 'Plantronics'] });
    expect(selectDevices({ config: reversed, devices: [...builtIn, ...jabra, ...plantronics] })).toMatchObject({ input: jabra[0], output: jabra[1] });
  });

  it('skips a name that is not present and takes the next', () => {
    const cfg = config({ 'device.use_headset': '1', 'device.headset_name': ['Sennheiser', 'Plantron.*3220'] });
    expect(selectDevices({ config: cfg, devices: [...builtIn, ...plantronics] })).toMatchObject({ output: plantronics[1], headsetAvailable: true });
  });

  it('* is any device flagged as a headset by the provider, or named so', () => {
    const flagged = [mic('USB Audio Device', { headset: true }), speaker('USB Audio Device', { headset: true })];
    expect(selectDevices({ config: config({ 'device.use_headset': '1' }), devices: [...builtIn, ...flagged] })).toMatchObject({ input: flagged[0], headsetAvailable: true });
    expect(selectDevices({ config: config({ 'device.use_headset': '1' }), devices: [...builtIn, ...jabra] })).toMatchObject({ input: jabra[0], headsetAvailable: true });
    expect(selectDevices({ config: config({ 'device.use_headset': '1' }), devices: builtIn })).toMatchObject({ headsetAvailable: false });
  });

  it('an empty headset_name matches nothing', () => {
    const cfg = config({ 'device.use_headset': '1', 'device.headset_name': '' });
    expect(selectDevices({ config: cfg, devices: [...builtIn, ...jabra] }).headsetAvailable).toBe(false);
  });

  it('a headset needs both a microphone and a speaker of the name', () => {
    const cfg = config({ 'device.use_headset': '1', 'device.headset_name': 'Jabra' });
    expect(selectDevices({ config: cfg, devices: [...builtIn, jabra[1]!] })).toMatchObject({ headsetAvailable: false, input: builtIn[0], output: builtIn[1] });
  });

  it('include_headset pairs count as a headset, quoted names included', () => {
    const external = [mic('External Mic, USB'), speaker('Headphones: Line Out')];
    const cfg = config({ 'device.use_headset': '1', 'device.headset_name': 'Jabra', 'device.include_headset': `"External Mic, USB":'Headphones: Line'` });
    expect(selectDevices({ config: cfg, devices: [...builtIn, ...external] })).toMatchObject({ input: external[0], output: external[1], headsetAvailable: true });
  });

  it('headset_name has priority over include_headset', () => {
    const cfg = config({ 'device.use_headset': '1', 'device.headset_name': 'Jabra', 'device.include_headset': 'Realtek:Realtek' });
    expect(selectDevices({ config: cfg, devices: [...builtIn, ...jabra] })).toMatchObject({ input: jabra[0] });
    expect(selectDevices({ config: cfg, devices: builtIn })).toMatchObject({ input: builtIn[0], headsetAvailable: true });
  });

  it('exclude_headset keeps a device from counting as a headset, while it stays selectable', () => {
    const realtekHeadset = [mic('Headset Mic (Realtek HD)'), speaker('Headset Speaker (Realtek HD)')];
    const cfg = config({ 'device.use_headset': '1', 'device.exclude_headset': 'Realtek' });
    const selection = selectDevices({ config: cfg, devices: realtekHeadset });
    expect(selection).toMatchObject({ headsetAvailable: false, input: realtekHeadset[0], output: realtekHeadset[1] });
    expect(selectDevices({ config: cfg, devices: [...realtekHeadset, ...jabra] })).toMatchObject({ headsetAvailable: true, input: jabra[0] });
  });

  it('falls back to the system defaults, or the first devices in provider order', () => {
    const cfg = config({ 'device.use_headset': '1', 'device.headset_name': 'Jabra' });
    const other = [mic('Webcam Mic'), speaker('Monitor Speakers', { systemDefault: true })];
    expect(selectDevices({ config: cfg, devices: [...builtIn, ...other] })).toMatchObject({ input: builtIn[0], output: other[1], headsetAvailable: false });
  });

  it('is re-evaluated on every call: a headset unplugged between two decisions is gone from the second', () => {
    const cfg = config({ 'device.use_headset': '1', 'device.headset_name': 'Jabra' });
    const before = selectDevices({ config: cfg, devices: [...builtIn, ...jabra] });
    const after = selectDevices({ config: cfg, devices: builtIn });
    expect(before).toMatchObject({ headsetAvailable: true, output: jabra[1] });
    expect(after).toMatchObject({ headsetAvailable: false, output: builtIn[1] });
  });

  it('findHeadset looks for the headset even when use_headset is 0', () => {
    expect(findHeadset({ config: config({ 'device.headset_name': 'Jabra' }), devices: [...builtIn, ...jabra] })?.input).toBe(jabra[0]);
  });
});

describe('selectDevices with use_headset = 0', () => {
  const usb = [mic('USB Audio Mic 2'), speaker('USB Audio Speaker 2')];

  it('takes the first audio_in_device and audio_out_device present, in file order', () => {
    const cfg = config({ 'device.audio_in_device': ['Missing Mic', 'USB Audio Mic \\d', 'Microphone Array'], 'device.audio_out_device': ['Speakers'] });
    expect(selectDevices({ config: cfg, devices: [...builtIn, ...usb] })).toMatchObject({ input: usb[0], output: builtIn[1], headsetAvailable: false });
  });

  it('ignores headset_name', () => {
    const cfg = config({ 'device.headset_name': 'Jabra', 'device.audio_out_device': 'Speakers' });
    expect(selectDevices({ config: cfg, devices: [...jabra, ...builtIn] })).toMatchObject({ input: jabra[0], output: builtIn[1], headsetAvailable: false });
  });

  it('falls back to the first devices when none configured is present', () => {
    const cfg = config({ 'device.audio_in_device': 'Nothing', 'device.audio_out_device': 'Nothing' });
    expect(selectDevices({ config: cfg, devices: [...usb, ...builtIn] })).toMatchObject({ input: usb[0], output: usb[1] });
  });

  it('gives null where no device of a kind is present', () => {
    expect(selectDevices({ config: config(), devices: [mic('Mic')] })).toMatchObject({ input: { name: 'Mic' }, output: null });
  });

  it('finds the ringer_device among outputs', () => {
    const ringer = speaker('Desk Ringer');
    const cfg = config({ 'device.ringer_device': ['Not here', 'Ringer'] });
    expect(selectDevices({ config: cfg, devices: [...builtIn, ringer] }).ringer).toBe(ringer);
    expect(selectDevices({ config: cfg, devices: builtIn }).ringer).toBeNull();
  });
});

describe('selectDevices: what is chosen, and why', () => {
  const headset = { 'device.use_headset': '1' };
  const external = [mic('External Mic, USB'), speaker('Headphones: Line Out')];

  it.each([
    [
      'headset_name',
      { ...headset, 'device.headset_name': ['Sennheiser', 'Jabra'] },
      [...builtIn, ...jabra],
      { input: jabra[0], output: jabra[1], headsetAvailable: true, reason: 'headset_name "Jabra" matches Headset Microphone (Jabra EVOLVE 20 MS) and Headset Earphone (Jabra EVOLVE 20 MS)' },
    ],
    [
      'headset_name * among outputs listed first',
      { ...headset, 'device.headset_name': '*' },
      [speaker('Headset Earphone (Plantronics)'), ...builtIn, mic('Headset Microphone (Plantronics)')],
      { input: { name: 'Headset Microphone (Plantronics)' }, output: { name: 'Headset Earphone (Plantronics)' }, headsetAvailable: true },
    ],
    [
      'include_headset',
      { ...headset, 'device.headset_name': 'Jabra', 'device.include_headset': 'External Mic:Headphones' },
      [...builtIn, ...external],
      { input: external[0], output: external[1], headsetAvailable: true, reason: 'include_headset "External Mic:Headphones" matches External Mic, USB and Headphones: Line Out' },
    ],
    [
      'include_headset with its microphone only',
      { ...headset, 'device.headset_name': 'Jabra', 'device.include_headset': 'External Mic:Headphones' },
      [...builtIn, external[0]!],
      { input: builtIn[0], output: builtIn[1], headsetAvailable: false },
    ],
    [
      'include_headset with its speaker only',
      { ...headset, 'device.headset_name': 'Jabra', 'device.include_headset': 'External Mic:Headphones' },
      [...builtIn, external[1]!],
      { input: builtIn[0], output: builtIn[1], headsetAvailable: false },
    ],
    [
      'a named headset that exclude_headset names',
      { ...headset, 'device.headset_name': 'Jabra', 'device.exclude_headset': 'EVOLVE' },
      [...builtIn, ...jabra],
      { input: builtIn[0], output: builtIn[1], headsetAvailable: false, reason: 'no headset named by headset_name or include_headset is present; the first devices in provider order are used' },
    ],
    [
      'an include_headset pair that exclude_headset names',
      { ...headset, 'device.headset_name': 'Jabra', 'device.include_headset': 'External Mic:Headphones', 'device.exclude_headset': 'USB' },
      [...builtIn, ...external],
      { input: builtIn[0], output: builtIn[1], headsetAvailable: false },
    ],
    [
      'audio_in_device and audio_out_device',
      { 'device.audio_in_device': 'External', 'device.audio_out_device': 'Headphones' },
      [...builtIn, ...external],
      { input: external[0], output: external[1], headsetAvailable: false, reason: 'audio_in_device matches External Mic, USB; audio_out_device matches Headphones: Line Out' },
    ],
    [
      'neither configured device',
      { 'device.audio_in_device': 'Nothing', 'device.audio_out_device': 'Nothing' },
      [...builtIn, ...external],
      { input: builtIn[0], output: builtIn[1], reason: 'no configured microphone is present, the first is used; no configured speaker is present, the first is used' },
    ],
  ])('%s', (_name, settings, devices, expected) => {
    expect(selectDevices({ config: config(settings), devices })).toMatchObject(expected);
  });
});

