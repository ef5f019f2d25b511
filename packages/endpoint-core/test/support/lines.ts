import type { ConnectionState, Line } from '@sip-endpoint/endpoint-core';

/** The states a line goes through from now on. */
export function states(line: Line): ConnectionState[] {
  const seen: ConnectionState[] = [];
  line.on('stateChanged', (state) => seen.push(state));
  return seen;
}

/** Waits until the line is in `state`; fails with the state it stayed in, and why. */
export async function until(line: Line, state: ConnectionState, ms = 5000): Promise<void> {
  if (line.state === state) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`line stayed ${line.state} (${line.reason ?? ''}), never ${state}`)), ms);
    line.on('stateChanged', (now) => {
      if (now === state) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
