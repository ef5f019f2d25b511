export { testPorts } from './ports';
export { waitFor, nextEvent } from './wait-for';
export { publicSurface, reviewedSurface } from './public-surface';
export { runProcess } from './run-process';
export type { ProcessRun } from './run-process';
export { peerAvailable } from './peers';
export { allocationsDuring, fullCollection } from './allocation';
export type { Allocations } from './allocation';
