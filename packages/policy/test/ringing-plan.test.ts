import { ringingPlan, selectDevices, type AudioDevice, type CallSnapshot } from '@sip-endpoint/policy';
import { builtIn, call, config, jabra, speaker } from './support/context';

const ringer = speaker('Desk Ringer');
const devices = [...builtIn, ...jabra, ringer];

function plan(settings: Record<string, string | string[]>, calls: CallSnapshot[] = [], present: AudioDevice[] = devices) {
  const cfg = config({ 'device.use_headset': '1', 'device.headset_name': 'Jabra', 'device.ringer_device': 'Ringer', ...settings });
  return ringingPlan({ config: cfg, devices: present, calls, selection: selectDevices({ config: cfg, devices: present }) });
}

const system = { target: 'system-default', device: builtIn[1], file: 'ringing.wav' };
const headset = { target: 'communication', device: jabra[1], file: 'headset.wav' };
const ringerOut = { target: 'ringer', device: ringer, file: 'ringing.wav' };

describe('ringingPlan by ringing_enabled', () => {
  it.each([
    ['1', [system], true, true],
    ['2', [headset], true, true],
    ['3', [system, headset], true, true],
    ['4', [ringerOut], true, true],
    ['5', [system, ringerOut], true, true],
    ['6', [headset], false, false],
    ['7', [system, headset], false, false],
  ])('%s plays on %j (loop %p, stops on answer %p)', (mode, outputs, loop, stopOnAnswer) => {
    const result = plan({ 'session.ringing_enabled': mode, 'session.ringing_file': 'headset.wav' });
    expect(result).toMatchObject({ sound: 'ringtone', outputs, loop, stopOnAnswer });
  });

  it('0 plays nothing', () => {
    expect(plan({ 'session.ringing_enabled': '0' })).toMatchObject({ sound: 'none', outputs: [] });
  });

  it('1 is the default', () => {
    expect(plan({}).outputs).toEqual([system]);
  });

  it('rings for ringing_timeout seconds in modes 1 to 5; 0 means until answered; 6 and 7 ignore it', () => {
    expect(plan({ 'session.ringing_timeout': '20' }).timeoutMs).toBe(20000);
    expect(plan({ 'session.ringing_timeout': '0' }).timeoutMs).toBeNull();
    expect(plan({ 'session.ringing_timeout': '20', 'session.ringing_enabled': '6' }).timeoutMs).toBeNull();
  });

  it('plays once on a device that is both the system default and the communication device', () => {
    const cfg = config({ 'session.ringing_enabled': '3' });
    const selection = selectDevices({ config: cfg, devices: builtIn });
    expect(ringingPlan({ config: cfg, devices: builtIn, calls: [], selection }).outputs).toEqual([{ target: 'system-default', device: builtIn[1], file: 'ringing.wav' }]);
  });

  it('plays nothing where the file is empty', () => {
    expect(plan({ 'session.ringing_enabled': '3', 'session.ringing_file': '' }).outputs).toEqual([system]);
  });

  it('has no device for the ringer when none is present', () => {
    expect(plan({ 'session.ringing_enabled': '4' }, [], [...builtIn, ...jabra]).outputs).toEqual([{ target: 'ringer', device: null, file: 'ringing.wav' }]);
  });
});

describe('ringingPlan with other calls', () => {
  it('plays the call-waiting tone on the communication device while another call is active', () => {
    expect(plan({ 'session.callwait_tone_file': 'wait.wav' }, [call('CONNECTED')])).toMatchObject({
      sound: 'callwait',
      outputs: [{ target: 'communication', device: jabra[1], file: 'wait.wav' }],
    });
  });

  it('plays nothing over an active call when callwait_tone_enabled is 0', () => {
    expect(plan({ 'session.callwait_tone_enabled': '0' }, [call('CONNECTED')]).sound).toBe('none');
  });

  it('rings normally when the other calls are held and ringing_while_call_held is 1', () => {
    expect(plan({}, [call('HELD')])).toMatchObject({ sound: 'ringtone', outputs: [system] });
  });

  it('plays the call-waiting tone instead when ringing_while_call_held is 0', () => {
    expect(plan({ 'session.ringing_while_call_held': '0' }, [call('HELD')]).sound).toBe('callwait');
  });

  it('ignores calls still ringing', () => {
    expect(plan({}, [call('RINGING')]).sound).toBe('ringtone');
  });
});

describe('ringingPlan, whole plans', () => {
  const wait = { target: 'communication', device: jabra[1], file: 'callwait.wav' };
  const silence = { sound: 'none', outputs: [], loop: false, timeoutMs: null, stopOnAnswer: true };

  it.each([
    ['ringing_enabled 0', { 'session.ringing_enabled': '0' }, [], { ...silence, reason: 'ringing_enabled is 0' }],
    [
      'ringing_enabled 5 for 20 s',
      { 'session.ringing_enabled': '5', 'session.ringing_timeout': '20' },
      [],
      { sound: 'ringtone', outputs: [system, ringerOut], loop: true, timeoutMs: 20000, stopOnAnswer: true, reason: 'ringing_enabled 5' },
    ],
    [
      'ringing_enabled 7',
      { 'session.ringing_enabled': '7', 'session.ringing_timeout': '20', 'session.ringing_file': 'headset.wav' },
      [],
      { sound: 'ringtone', outputs: [system, headset], loop: false, timeoutMs: null, stopOnAnswer: false, reason: 'ringing_enabled 7: once through, ringing_timeout ignored' },
    ],
    [
      'another call active',
      {},
      [call('CONNECTED')],
      { sound: 'callwait', outputs: [wait], loop: true, timeoutMs: null, stopOnAnswer: true, reason: 'another call is active: call-waiting tone' },
    ],
    [
      'another call active, callwait_tone_enabled 0',
      { 'session.callwait_tone_enabled': '0' },
      [call('CONNECTED')],
      { ...silence, reason: 'another call is active; callwait_tone_enabled is 0' },
    ],
    [
      'another call active, no callwait_tone_file',
      { 'session.callwait_tone_file': '' },
      [call('CONNECTED')],
      { sound: 'none', outputs: [], loop: true, timeoutMs: null, stopOnAnswer: true, reason: 'another call is active: call-waiting tone' },
    ],
    [
      'a held call and a ringing one, ringing_while_call_held 0',
      { 'session.ringing_while_call_held': '0' },
      [call('HELD'), call('RINGING')],
      { sound: 'callwait', outputs: [wait], loop: true, timeoutMs: null, stopOnAnswer: true, reason: 'a call is held and ringing_while_call_held is 0: call-waiting tone' },
    ],
    [
      'an outgoing call not yet answered',
      {},
      [call('IN_PROGRESS'), call('ALERTING')],
      { sound: 'ringtone', outputs: [system], loop: true, timeoutMs: null, stopOnAnswer: true, reason: 'ringing_enabled 1' },
    ],
  ] as const)('%s', (_name, settings, calls, expected) => {
    expect(plan(settings, [...calls])).toStrictEqual(expected);
  });

  it('lists each target without a device once: nothing plays on either', () => {
    const mics = builtIn.filter((device) => device.kind === 'input');
    expect(plan({ 'session.ringing_enabled': '5' }, [], mics).outputs).toStrictEqual([
      { target: 'system-default', device: null, file: 'ringing.wav' },
      { target: 'ringer', device: null, file: 'ringing.wav' },
    ]);
  });
});

