export { testPorts } from './ports';
export { waitFor, nextEvent } from './wait-for';
export { publicSurface, reviewedSurface } from './public-surface';
