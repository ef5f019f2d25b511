import { join } from 'node:path';
import { publicSurface, reviewedSurface } from '@sip-endpoint/test-support';

describe('the public surface of @sip-endpoint/media', () => {
  it('is the reviewed list in test/fixtures/public-surface.txt (change both together, on purpose)', () => {
    expect(publicSurface(join(__dirname, '..', 'src', 'index.ts'))).toEqual(reviewedSurface(join(__dirname, 'fixtures', 'public-surface.txt')));
  });
});

describe('the public surface of @sip-endpoint/media/testing', () => {
  it('is the measurements for tests, and only them', () => {
    expect(publicSurface(join(__dirname, '..', 'src', 'testing.ts'))).toEqual([
      'compareSpeech',
      'concatSamples',
      'dominantFrequency',
      'powerAt',
      'rms',
      'segmentalSnrOutsideDefects',
      'sineSnrDb',
      'type SpeechComparison',
      'type SpeechComparisonOptions',
      'type SpeechLikeOptions',
      'speechLikeSignal',
    ]);
  });
});
