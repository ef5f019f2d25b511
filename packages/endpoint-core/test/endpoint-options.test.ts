import { Endpoint, InvalidArgumentError } from '@sip-endpoint/endpoint-core';
import { testPorts } from '@sip-endpoint/test-support';
import { standaloneConfig } from './support/endpoints';

// The Endpoint's numeric options are checked where they are given: a wrong one throws from the
// constructor with its name, before any port is bound, instead of failing a later start() or
// being ignored.

describe('Endpoint options', () => {
  const config = standaloneConfig('7190', testPorts(8), testPorts(50));

  it.each([
    ['spareRtpPorts', -1, /spareRtpPorts must be a whole number from 0 to 64, not -1/],
    ['spareRtpPorts', 1.5, /spareRtpPorts must be a whole number from 0 to 64, not 1.5/],
    ['spareRtpPorts', 65, /spareRtpPorts must be a whole number from 0 to 64, not 65/],
    ['spareRtpPorts', Number.NaN, /spareRtpPorts .* not NaN/],
    ['minSessionExpires', 0, /minSessionExpires must be a whole number from 1 to 86400, not 0/],
    ['minSessionExpires', 90.5, /minSessionExpires .* not 90.5/],
    ['udpKeepAliveS', -1, /udpKeepAliveS must be a number of seconds from 0 to 86400, not -1/],
    ['udpKeepAliveS', Number.POSITIVE_INFINITY, /udpKeepAliveS .* not Infinity/],
    ['udpKeepAliveS', Number.NaN, /udpKeepAliveS .* not NaN/],
    ['audioProcessing', 'always', /audioProcessing is 'auto', 'on' or 'off', not "always"/],
  ])('refuses %s = %p', (name, value, message) => {
    const make = (): Endpoint => new Endpoint({ config, [name]: value });
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow(message);
  });

  it('takes the bounds themselves (spareRtpPorts 0 at work: endpoint-calls.test.ts)', () => {
    for (const options of [{ spareRtpPorts: 0 }, { spareRtpPorts: 64 }, { minSessionExpires: 1 }, { minSessionExpires: 86400 }, { udpKeepAliveS: 0 }, { udpKeepAliveS: 0.2 }, { udpKeepAliveS: 86400 }, { audioProcessing: 'off' as const }]) {
      const endpoint = new Endpoint({ config, ...options });
      expect(endpoint.state).toBe('NEW');
    }
  });
});
