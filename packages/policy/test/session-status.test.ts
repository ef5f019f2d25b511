import { sessionStatus, type ConnectionState } from '@sip-endpoint/policy';
import { builtIn, config, jabra } from './support/context';

function status(connections: ConnectionState[], enforceHeadsetUsage = false, devices = builtIn, settings: Record<string, string> = {}) {
  return sessionStatus({ config: config({ 'device.headset_name': 'Jabra', ...settings }), devices, calls: [], connections, enforceHeadsetUsage });
}

describe('sessionStatus', () => {
  it.each([
    [[], 'INITIALIZING'],
    [['TRYING'], 'INITIALIZING'],
    [['FAILED', 'TRYING'], 'INITIALIZING'],
    [['FAILED', 'READY'], 'INITIALIZED'],
    [['STANDALONE'], 'INITIALIZED'],
  ] as const)('lines %j give %s', (connections, expected) => {
    expect(status([...connections])).toBe(expected);
  });

  it('waits for the headset while enforce_headset_usage is on, whatever use_headset says', () => {
    expect(status(['READY'], true)).toBe('WAITING_HEADSET');
    expect(status(['READY'], true, [...builtIn, ...jabra])).toBe('INITIALIZED');
    expect(status(['READY'], true, builtIn, { 'device.use_headset': '1' })).toBe('WAITING_HEADSET');
  });
});
