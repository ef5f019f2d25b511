import { EndpointConfig } from '@sip-endpoint/config';
import { ListenerError, SafeEmitter } from '@sip-endpoint/policy';
import { Softphone } from '@sip-endpoint/softphone';

// No sockets: a stand-alone Softphone that is never started; beginSession() and stop() emit.

describe('the events of a Softphone', () => {
  it('is a SafeEmitter: a throwing listener is reported as listenerError, and the other listeners and stop() go on', async () => {
    const softphone = new Softphone({ config: EndpointConfig.defaults() });
    expect(softphone).toBeInstanceOf(SafeEmitter);
    const reported: ListenerError[] = [];
    const errors: Error[] = [];
    const seen: string[] = [];
    softphone.on('listenerError', (error) => reported.push(error));
    softphone.on('error', (error) => errors.push(error));
    softphone.on('sessionStarted', () => {
      throw new Error('desktop bug');
    });
    softphone.on('sessionStarted', () => seen.push('sessionStarted'));
    softphone.on('sessionEnded', (reason) => seen.push(`sessionEnded ${reason}`));
    softphone.on('stopped', () => {
      throw 'not even an Error';
    });
    softphone.on('stopped', () => seen.push('stopped'));

    softphone.beginSession();
    expect(softphone.inSession).toBe(true);
    await expect(softphone.stop()).resolves.toBeUndefined();

    expect(seen).toEqual(['sessionStarted', 'sessionEnded stopped', 'stopped']);
    expect(reported).toHaveLength(2);
    expect(reported[0]).toBeInstanceOf(ListenerError);
    expect(reported[0]).toMatchObject({ code: 'ERR_LISTENER_THREW', source: 'Softphone', event: 'sessionStarted' });
    expect((reported[0]!.cause as Error).message).toBe('desktop bug');
    expect(reported[1]).toMatchObject({ code: 'ERR_LISTENER_THREW', source: 'Softphone', event: 'stopped', cause: 'not even an Error' });
    // A listener's bug is listenerError, not the softphone's own `error`.
    expect(errors).toEqual([]);
  });
});
