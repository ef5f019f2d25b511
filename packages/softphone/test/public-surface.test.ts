import { join } from 'node:path';
import { publicSurface, reviewedSurface } from '@sip-endpoint/test-support';

describe('the public surface of @sip-endpoint/softphone', () => {
  it('is the reviewed list in test/fixtures/public-surface.txt (change both together, on purpose)', () => {
    expect(publicSurface(join(__dirname, '..', 'src', 'index.ts'))).toEqual(reviewedSurface(join(__dirname, 'fixtures', 'public-surface.txt')));
  });
});
