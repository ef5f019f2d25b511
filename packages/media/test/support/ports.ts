import { PortAllocator } from '@sip-endpoint/media';
import { testPorts } from '@sip-endpoint/test-support';

/**
 * A port allocator over a block of `count` ports of this jest worker's own range (see
 * `testPorts`), so that test files running at once on other workers never meet.
 */
export function workerPorts(count: number): PortAllocator {
  const first = testPorts(count);
  return new PortAllocator(first, first + count - 1);
}
