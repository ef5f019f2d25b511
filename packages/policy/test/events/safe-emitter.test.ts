import { ListenerError, SafeEmitter } from '@sip-endpoint/policy';

type Events = { ping: [number]; other: [] };
class Pinger extends SafeEmitter<Events> {}

describe('SafeEmitter', () => {
  const original = SafeEmitter.unhandled;
  afterEach(() => {
    SafeEmitter.unhandled = original;
  });

  it('calls listeners in order with the arguments, and once-listeners once', () => {
    const pinger = new Pinger();
    const seen: string[] = [];
    pinger.on('ping', (n) => seen.push(`a${n}`));
    pinger.once('ping', (n) => seen.push(`b${n}`));
    expect(pinger.emit('ping', 1)).toBe(true);
    expect(pinger.emit('ping', 2)).toBe(true);
    expect(seen).toEqual(['a1', 'b1', 'a2']);
    expect(pinger.emit('other')).toBe(false);
    expect(pinger.listenerCount('ping')).toBe(1);
  });

  it('off removes a listener, also while an emit is running, without skipping the others', () => {
    const pinger = new Pinger();
    const seen: string[] = [];
    const b = (): void => {
      seen.push('b');
    };
    pinger.on('ping', () => {
      seen.push('a');
      pinger.off('ping', b);
    });
    pinger.on('ping', b);
    pinger.emit('ping', 1);
    pinger.emit('ping', 2);
    expect(seen).toEqual(['a', 'b', 'a']);
    pinger.removeAllListeners();
    expect(pinger.listenerCount('ping')).toBe(0);
  });

  it('reports a throwing listener as listenerError and still calls the next listeners', () => {
    const pinger = new Pinger();
    const errors: ListenerError[] = [];
    const seen: number[] = [];
    pinger.on('listenerError', (error) => errors.push(error));
    pinger.on('ping', () => {
      throw new Error('boom');
    });
    pinger.on('ping', (n) => seen.push(n));
    expect(() => pinger.emit('ping', 7)).not.toThrow();
    expect(seen).toEqual([7]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ListenerError);
    expect(errors[0]).toMatchObject({ code: 'ERR_LISTENER_THREW', event: 'ping', source: 'Pinger' });
    expect((errors[0]!.cause as Error).message).toBe('boom');
  });

  it('sends the error to SafeEmitter.unhandled when nobody listens to listenerError, or that listener throws', () => {
    const unhandled: ListenerError[] = [];
    SafeEmitter.unhandled = (error) => unhandled.push(error);
    const pinger = new Pinger();
    pinger.on('ping', () => {
      throw new Error('first');
    });
    pinger.emit('ping', 1);
    pinger.on('listenerError', () => {
      throw new Error('second');
    });
    pinger.emit('ping', 2);
    expect(unhandled.map((error) => (error.cause as Error).message)).toEqual(['first', 'second']);
    expect(unhandled[1]!.event).toBe('listenerError');
  });

  it('by default a listener error nobody handles becomes a process warning', () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation((warning) => void warnings.push(warning as Error));
    try {
      const pinger = new Pinger();
      pinger.on('other', () => {
        throw new Error('nobody listens');
      });
      pinger.emit('other');
      expect(warnings.some((warning) => warning instanceof ListenerError)).toBe(true);
    } finally {
      emitWarning.mockRestore();
      process.off('warning', onWarning);
    }
  });
});
