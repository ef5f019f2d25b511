// The measurements live in the package (they serve integrators' tests too); the tests use them
// under their short names.
export { dominantFrequency, powerAt, rms, sineSnrDb, concatSamples as concat } from '@sip-endpoint/media';
