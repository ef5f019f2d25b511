import { InvalidStateError, StateMachine, type TransitionTable } from '@sip-endpoint/policy';

type Light = 'RED' | 'GREEN' | 'OFF';
const table: TransitionTable<Light> = { RED: ['GREEN', 'OFF'], GREEN: ['RED', 'OFF'], OFF: [] };

describe('StateMachine', () => {
  it('moves along the table and reports each move once', () => {
    const moves: string[] = [];
    const machine = new StateMachine<Light>('light', 'RED', table, (next, previous) => moves.push(`${previous}->${next}`));
    expect(machine.to('GREEN')).toBe(true);
    expect(machine.to('GREEN')).toBe(false);
    expect(machine.to('OFF')).toBe(true);
    expect(moves).toEqual(['RED->GREEN', 'GREEN->OFF']);
    expect(machine.terminal).toBe(true);
  });

  it('throws InvalidStateError for a move the table does not have, and stays put', () => {
    const machine = new StateMachine<Light>('light', 'OFF', table, () => undefined);
    expect(machine.can('RED')).toBe(false);
    expect(() => machine.to('RED')).toThrow(InvalidStateError);
    expect(() => machine.to('RED')).toThrow(/light: no transition from OFF to RED/);
    expect(machine.state).toBe('OFF');
    const thrown = ((): unknown => {
      try {
        machine.to('GREEN');
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_STATE', state: 'OFF' });
  });

  it.each([
    ['RED', { RED: true, GREEN: true, OFF: true }, false],
    ['GREEN', { RED: true, GREEN: true, OFF: true }, false],
    ['OFF', { RED: false, GREEN: false, OFF: true }, true],
  ] as const)('in %s, can() answers %j (the current state included) and terminal is %p', (state, can, terminal) => {
    const machine = new StateMachine<Light>('light', state, table, () => undefined);
    expect({ RED: machine.can('RED'), GREEN: machine.can('GREEN'), OFF: machine.can('OFF') }).toEqual(can);
    expect(machine.terminal).toBe(terminal);
  });
});
