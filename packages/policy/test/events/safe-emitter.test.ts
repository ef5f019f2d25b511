import { ListenerError, SafeEmitter } from '@sip-endpoint/policy';
import type * as Policy from '@sip-endpoint/policy';

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

  it('by default a listener error nobody handles becomes a process warning', async () => {
    // A freshly loaded module: its SafeEmitter.unhandled is the default whatever other tests set.
    let fresh: typeof Policy | undefined;
    await jest.isolateModulesAsync(async () => {
      fresh = await import('@sip-endpoint/policy');
    });
    const warnings: unknown[] = [];
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation((warning) => void warnings.push(warning));
    try {
      const pinger = new (class Pinger extends fresh!.SafeEmitter<Events> {})();
      pinger.on('other', () => {
        throw new Error('nobody listens');
      });
      pinger.emit('other');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toBeInstanceOf(fresh!.ListenerError);
      expect((warnings[0] as Error).message).toBe("a listener of Pinger 'other' threw: nobody listens");
    } finally {
      emitWarning.mockRestore();
    }
  });

  it('on and addListener add listeners called on every emit; listeners() lists them in order', () => {
    const pinger = new Pinger();
    const seen: string[] = [];
    const a = (n: number): void => void seen.push(`a${n}`);
    const b = (n: number): void => void seen.push(`b${n}`);
    expect(pinger.listeners('ping')).toStrictEqual([]);
    expect(pinger.on('ping', a)).toBe(pinger);
    expect(pinger.addListener('ping', b)).toBe(pinger);
    pinger.emit('ping', 1);
    pinger.emit('ping', 2);
    expect(seen).toEqual(['a1', 'b1', 'a2', 'b2']);
    expect(pinger.listeners('ping')).toEqual([a, b]);
    expect(pinger.listeners('other')).toStrictEqual([]);
  });

  it('off and removeListener remove the most recent registration of that listener only', () => {
    const pinger = new Pinger();
    const a = (): void => undefined;
    const b = (): void => undefined;
    const c = (): void => undefined;
    expect(pinger.off('ping', a)).toBe(pinger); // no listener at all: nothing happens
    pinger.on('ping', a).on('ping', b).on('ping', a);
    expect(pinger.off('ping', c)).toBe(pinger); // not registered: nothing happens
    expect(pinger.listeners('ping')).toEqual([a, b, a]);
    expect(pinger.removeListener('ping', a)).toBe(pinger);
    expect(pinger.listeners('ping')).toEqual([a, b]);
    pinger.off('ping', a); // the first one
    expect(pinger.listeners('ping')).toEqual([b]);
  });

  it('emit returns false once the last listener is gone, by off or after a once-listener ran', () => {
    const pinger = new Pinger();
    const a = (): void => undefined;
    pinger.on('ping', a);
    pinger.off('ping', a);
    expect(pinger.emit('ping', 1)).toBe(false);
    pinger.once('ping', a);
    expect(pinger.emit('ping', 2)).toBe(true);
    expect(pinger.emit('ping', 3)).toBe(false);
    expect(pinger.listenerCount('ping')).toBe(0);
  });

  it('removeAllListeners(event) removes that event\'s listeners only; without an event, all', () => {
    const pinger = new Pinger();
    pinger.on('ping', () => undefined).on('other', () => undefined);
    expect(pinger.removeAllListeners('ping')).toBe(pinger);
    expect([pinger.listenerCount('ping'), pinger.listenerCount('other')]).toEqual([0, 1]);
    pinger.on('ping', () => undefined);
    expect(pinger.removeAllListeners()).toBe(pinger);
    expect([pinger.listenerCount('ping'), pinger.listenerCount('other')]).toEqual([0, 0]);
  });
});
