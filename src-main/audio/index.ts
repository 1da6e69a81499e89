// Shared audio utilities: WAV files, resampling, loudness metering and normalisation.
export { Resampler, resample, resampledLength } from './resample.ts';
export { encodeWav, decodeWav, readWavFile, wavHeader, concatBytes, type WavAudio, type WavSampleFormat } from './wav.ts';
export { concatFloat32 } from './samples.ts';
export { TpdfDither, toInt16Dithered, toInt24, planarInt16 } from './dither.ts';
export {
  kWeightingFilters,
  blockPowers,
  gatedLoudness,
  integratedLoudness,
  measureLoudness,
  amplitudeToDb,
  dbToAmplitude,
  type Gain,
  type LoudnessMeasurement,
} from './loudness.ts';
export { truePeak, intervalPeaks } from './true-peak.ts';
export { planNormalization, applyGain, limiterGain, TRUE_PEAK_MARGIN_DB, MAX_LIMITING_DB, type LoudnessTarget, type LoudnessPlan } from './normalize.ts';
export { throwIfCancelled, yieldTurn, runSteps, subProgress, type WorkHooks } from './cooperative.ts';
