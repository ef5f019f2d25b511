import { segmentalSnrOutsideDefects, type SpeechComparison } from '@sip-endpoint/media/testing';

// The mean SNR of a speech comparison with its longest defects left out: the frames of the
// `count` longest runs go, the others count, each at its clamped SNR.
describe('segmentalSnrOutsideDefects', () => {
  const result = {
    frameSnrDb: [30, 30, -10, -10, 30, -10, 30],
    defectStarts: [2, 5],
    defectLengths: [2, 1],
    segmentalSnrDb: 90 / 7,
  } as SpeechComparison;

  it('leaves out the frames of the longest defects, and none with a count of 0', () => {
    expect(segmentalSnrOutsideDefects(result, 0)).toBeCloseTo(90 / 7, 10);
    expect(segmentalSnrOutsideDefects(result, 1)).toBeCloseTo(110 / 5, 10);
    expect(segmentalSnrOutsideDefects(result, 2)).toBe(30);
    expect(segmentalSnrOutsideDefects(result, 5)).toBe(30);
  });
});
