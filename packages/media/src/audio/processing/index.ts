export { AudioProcessingError } from './processing-error';
export { EchoCanceller, type EchoCancellerOptions } from './echo-canceller';
export { GainControl, type GainControlOptions } from './gain-control';
export { NoiseSuppressor } from './noise-suppressor';
export { VoiceActivityDetector } from './voice-activity';
export { ComfortNoiseGenerator, DtxController, comfortNoiseLevel, comfortNoiseRms, COMFORT_NOISE_ORDER, type DtxDecision, type DtxOptions } from './comfort-noise';
export { MicrophoneProcessing, type AudioProcessingOptions } from './stream-processing';
