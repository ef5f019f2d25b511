import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EndpointConfig } from '@sip-endpoint/config';
import { SDK_VERSION } from '@sip-endpoint/endpoint-core';
import { instanceIdFromMac, userAgentString } from '../../src/line/identity';

const os = { type: 'Linux', release: '6.1.0' };

describe('User-Agent and instance id', () => {
  it('names the SDK and OS versions per the include_* settings', () => {
    const config = (sdk: string, system: string) => EndpointConfig.defaults().with({ 'policy.endpoint.include_sdk_version_in_user_agent_header': sdk, 'policy.endpoint.include_os_version_in_user_agent_header': system });
    expect(userAgentString(config('1', '1'), os)).toBe(`SipEndpointSDK-Node/${SDK_VERSION} (Linux 6.1.0; Node ${process.versions.node})`);
    expect(userAgentString(config('1', '0'), os)).toBe(`SipEndpointSDK-Node/${SDK_VERSION}`);
    expect(userAgentString(config('0', '0'), os)).toBe('SipEndpointSDK-Node');
  });

  it('keeps SDK_VERSION equal to the package version', () => {
    expect(SDK_VERSION).toBe(JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version);
  });

  it('makes an RFC 5626 instance id from a MAC address, and none from a missing or null one', () => {
    expect(instanceIdFromMac('AA:BB:CC:00:11:22')).toBe('00000000-0000-1000-8000-aabbcc001122');
    expect(instanceIdFromMac('00:00:00:00:00:00')).toBeUndefined();
    expect(instanceIdFromMac(undefined)).toBeUndefined();
    expect(instanceIdFromMac('zz')).toBeUndefined();
  });
});
