/**
 * Tries `open(port)` on each port of `min`..`max` in turn and returns the first that opens; a port
 * the system refuses as in use (or forbidden) is skipped, any other failure stops the search.
 * Throws `ERR_SIP_PORT_UNAVAILABLE` naming `what` when no port opens.
 */
export declare function openFirstFreePort<T>(what: string, min: number, max: number, open: (port: number) => Promise<T>): Promise<T>;
//# sourceMappingURL=port-search.d.ts.map