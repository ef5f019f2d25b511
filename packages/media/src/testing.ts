// `@sip-endpoint/media/testing`: measurements of audio for tests of what a call carried (the
// SDK's own tests use them; so can an integrator's). Kept out of the main entry point, which is
// the media engine.
export { powerAt, dominantFrequency, sineSnrDb, rms, concatSamples } from './audio/signal-analysis';
export { speechLikeSignal, compareSpeech, segmentalSnrOutsideDefects } from './audio/speech-compare';
export type { SpeechLikeOptions, SpeechComparisonOptions, SpeechComparison } from './audio/speech-compare';
