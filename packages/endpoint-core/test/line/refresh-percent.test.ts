import { refreshPercent } from '../../src/line/line';

describe('refreshPercent (when a registration is refreshed)', () => {
  it.each([
    [4, 50],
    [60, 50],
    [100, 68],
    [1800, 90],
    [3600, 90],
  ])('a registration of %i s is refreshed at %i %% of it', (expires, percent) => {
    expect(refreshPercent(expires)).toBe(percent);
  });
});
