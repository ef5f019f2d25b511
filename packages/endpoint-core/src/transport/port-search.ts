import { PortUnavailableError } from '../errors';

/**
 * Tries `open(port)` on each port of `min`..`max` in turn and returns the first that opens; a port
 * the system refuses as in use (or forbidden) is skipped, any other failure stops the search.
 * Throws `ERR_SIP_PORT_UNAVAILABLE` naming `what` when no port opens.
 */
export async function openFirstFreePort<T>(what: string, min: number, max: number, open: (port: number) => Promise<T>): Promise<T> {
  for (let port = min; port <= max; port++) {
    try {
      return await open(port);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES') {
        throw new PortUnavailableError(`cannot open ${what} on port ${port}: ${(error as Error).message}`, { cause: error });
      }
    }
  }
  throw new PortUnavailableError(`no free port for ${what} between ${min} and ${max}`);
}
