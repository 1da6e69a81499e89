// Render settings a new project (and the CLI) starts from: the reference sampling defaults
// (dia-model.md §3.6) with the sampler order of the model's flavour, and passes short enough that
// Dia does not speed up (its README: more than ~20 s of text per pass sounds unnaturally fast).
import { DEFAULT_CHUNKING } from '../../src-shared/render-defaults.ts';
import { DEFAULT_SAMPLING_PARAMS } from '../engine/generation/types.ts';
import type { ChunkingParams, SamplingParams } from '../store/types.ts';

export { DEFAULT_CHUNKING };

export function DEFAULT_RENDER_SETTINGS(flavour: '0626' | 'v1'): { sampling: SamplingParams; chunking: ChunkingParams } {
  const { guidanceScale, temperature, topP, topK, maxTokens } = DEFAULT_SAMPLING_PARAMS;
  return { sampling: { guidanceScale, temperature, topP, topK, maxTokens, order: flavour }, chunking: { ...DEFAULT_CHUNKING } };
}
