import { testPorts } from '@sip-endpoint/test-support';
import type { Call } from '@sip-endpoint/endpoint-core';
import { standaloneEndpoint, waitFor } from './support/endpoints';

describe('info(), session() and the events agree', () => {
  it('on the uuid (X-Genesys-CallUUID, else the id), on mute, and on the states', async () => {
    const alice = standaloneEndpoint('7301', testPorts(8), testPorts(50), 900);
    const bob = standaloneEndpoint('7302', testPorts(8), testPorts(50), 500, { 'policy.session.auto_answer': '1' });
    await alice.endpoint.start();
    await bob.endpoint.start();
    const seen: string[] = [];
    alice.endpoint.on('callStateChanged', (call, state) => seen.push(`${call.info().uuid}:${state}`));
    try {
      const target = `sip:7302@127.0.0.1:${bob.endpoint.lines[0]!.port}`;
      const plain = await alice.endpoint.makeCall(target);
      const tagged = await alice.endpoint.makeCall(target, { headers: { 'X-Genesys-CallUUID': 'ABC123' } });
      await waitFor(() => plain.state === 'CONNECTED' && tagged.state === 'CONNECTED' && bob.endpoint.calls.length === 2, 5000, 'both calls');
      const snapshot = (call: Call) => alice.endpoint.session().phone.calls.find((entry) => entry.uuid === call.info().uuid);
      expect(plain.info().uuid).toBe(plain.id);
      expect(snapshot(plain)).toEqual({ uuid: plain.id, state: 'CONNECTED', security: 'none' });
      // Bob's side of the tagged call carries the header's uuid in both views.
      const bobsTagged = bob.endpoint.calls.find((call) => call.uuid === 'ABC123')!;
      expect(bobsTagged.info().uuid).toBe('ABC123');
      expect(bob.endpoint.session().phone.calls.map((entry) => entry.uuid).sort()).toEqual(['ABC123', bob.endpoint.calls.find((call) => call !== bobsTagged)!.id].sort());
      expect(seen).toEqual(expect.arrayContaining([`${plain.id}:CONNECTED`, `${tagged.id}:CONNECTED`]));

      expect(alice.endpoint.session().devices.microphone?.muted).toBe(false);
      plain.mute();
      expect(plain.info().muted).toBe(true);
      expect(plain.media.muted).toBe(true);
      expect(alice.endpoint.session().devices.microphone?.muted).toBe(true);
      plain.mute(false);
      expect(plain.info().muted).toBe(false);
      expect(alice.endpoint.session().devices.microphone?.muted).toBe(false);
      await plain.hangup();
      await tagged.hangup();
      await waitFor(() => alice.endpoint.session().phone.calls.length === 0, 3000, 'no call left');
    } finally {
      await alice.endpoint.stop();
      await bob.endpoint.stop();
    }
  }, 20000);
});
