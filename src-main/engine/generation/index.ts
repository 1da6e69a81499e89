// Pure generation logic of the Dia engine (no ONNX): text ids, delay pattern, sampling, EOS.
export {
  type AudioTokenSpec,
  DEFAULT_SAMPLING_PARAMS,
  DIA_AUDIO_TOKENS,
  maxDelay,
  type SamplingOrder,
  type SamplingParams,
  validateAudioTokenSpec,
  validateSamplingParams,
} from './types.ts';
export {
  decodeTextIds,
  encodedLength,
  encodeText,
  type EncodedText,
  type EncodeTextOptions,
  padTextBatch,
  SPEAKER_TAG_IDS,
  type TextBatch,
  type TextOverflow,
  TEXT_PAD_ID,
  TEXT_WINDOW,
  unconditionalIds,
} from './tokenizer.ts';
export {
  applyDelay,
  applyPrefillCells,
  buildPrefill,
  completeFrameCount,
  extractOutputFrames,
  FREE_CELL,
  type PrefillLayout,
  revertDelay,
  toChannelMajor,
} from './delay.ts';
export { Prng } from './prng.ts';
export { TokenSampler } from './sampler.ts';
export { type EosCause, EosTracker, type EosTrackerOptions } from './eos.ts';
export {
  type ChunkedText,
  chunkText,
  type ChunkOptions,
  DEFAULT_CHARS_PER_SECOND,
  estimateSpeechSeconds,
  normalizeScriptText,
  type SpeakerTag,
  type TextChunk,
} from './text-chunking.ts';
export { measureSamplerSpeed, type SamplerSpeed, type SamplerSpeedOptions } from './sampler-benchmark.ts';
