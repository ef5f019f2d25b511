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
