// Shared vocabulary of the generation logic: sampling parameters with the reference defaults, and
// the audio-token layout of a Dia checkpoint (special ids, channel count, delay pattern).
import { AppError } from '../../../src-shared/errors.ts';
import { REFERENCE_SAMPLING } from '../../../src-shared/render-defaults.ts';

/**
 * '0626': top-k on the CFG logits picks the candidates, the token is drawn from the conditional
 * logits (nari-labs HEAD and transformers). 'v1': the token is drawn from the CFG logits, with the
 * channel-0 EOS logit scaled by 0.8 (nari-labs code for the original Dia-1.6B weights).
 */
export type SamplingOrder = '0626' | 'v1';

export interface SamplingParams {
  /** s in l = cond + s * (cond - uncond), always applied as nari-labs does (0 = conditional only). */
  guidanceScale: number;
  /** 0 = greedy argmax. */
  temperature: number;
  /** Nucleus threshold in (0, 1]; 1 disables it. */
  topP: number;
  /** Candidate count for the CFG filter and top-k; 0 disables it. */
  topK: number;
  order: SamplingOrder;
  /** Integer in [0, 2^53). */
  seed: number;
  /** Row budget of one pass, BOS and prompt rows included (the decoder window is 3072). */
  maxTokens: number;
}

/** nari-labs `generate()` and the transformers generation config (dia-model.md §3.6). */
export const DEFAULT_SAMPLING_PARAMS: Readonly<SamplingParams> = Object.freeze({ ...REFERENCE_SAMPLING, order: '0626', seed: 0 });

/** Checks every field and names the first bad one; `what` says where the values came from. */
export function validateSamplingParams(params: SamplingParams, what = 'sampling parameters'): SamplingParams {
  const bad = (field: string, why: string): never => {
    throw new AppError('invalid-input', `Invalid ${what}: ${field} ${why}`);
  };
  const { guidanceScale, temperature, topP, topK, order, seed, maxTokens } = params;
  if (!Number.isFinite(guidanceScale) || guidanceScale < 0) bad('guidanceScale', `must be a finite number >= 0, got ${guidanceScale}`);
  if (!Number.isFinite(temperature) || temperature < 0) bad('temperature', `must be a finite number >= 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) bad('topP', `must be in (0, 1], got ${topP}`);
  if (!Number.isInteger(topK) || topK < 0) bad('topK', `must be an integer >= 0, got ${topK}`);
  if (order !== '0626' && order !== 'v1') bad('order', `must be '0626' or 'v1', got ${String(order)}`);
  if (!Number.isSafeInteger(seed) || seed < 0) bad('seed', `must be an integer in [0, 2^53), got ${seed}`);
  if (!Number.isInteger(maxTokens) || maxTokens < 1) bad('maxTokens', `must be a positive integer, got ${maxTokens}`);
  return params;
}

/** Audio-token layout of a checkpoint. Ids below `eos` are codec codes. */
export interface AudioTokenSpec {
  /** Entries per channel in the logits (1028). */
  vocab: number;
  eos: number;
  pad: number;
  bos: number;
  /** delayPattern[c] = delay of channel c in rows; its length is the channel count. */
  delayPattern: readonly number[];
}

/** Dia-1.6B and Dia-1.6B-0626 (dia-model.md §1.1). */
export const DIA_AUDIO_TOKENS: Readonly<AudioTokenSpec> = Object.freeze({
  vocab: 1028,
  eos: 1024,
  pad: 1025,
  bos: 1026,
  delayPattern: Object.freeze([0, 8, 9, 10, 11, 12, 13, 14, 15]),
});

export function maxDelay(delayPattern: readonly number[]): number {
  let m = 0;
  for (const d of delayPattern) if (d > m) m = d;
  return m;
}

/** Rejects layouts the sampler and the delay logic cannot honour. */
export function validateAudioTokenSpec(spec: AudioTokenSpec, what = 'audio token spec'): AudioTokenSpec {
  const bad = (why: string): never => {
    throw new AppError('invalid-input', `Invalid ${what}: ${why}`);
  };
  const { vocab, eos, pad, bos, delayPattern } = spec;
  if (!Number.isInteger(vocab) || vocab < 2) bad(`vocab must be an integer >= 2, got ${vocab}`);
  for (const [name, id] of [['eos', eos], ['pad', pad], ['bos', bos]] as const) {
    if (!Number.isInteger(id) || id < 1 || id >= vocab) bad(`${name} id ${id} is outside 1..${vocab - 1}`);
  }
  // The vocabulary masks rely on every special id sitting above the codec codes.
  if (pad <= eos || bos <= eos) bad(`pad (${pad}) and bos (${bos}) must be above eos (${eos})`);
  if (delayPattern.length < 1) bad('delayPattern is empty');
  for (const d of delayPattern) {
    if (!Number.isInteger(d) || d < 0) bad(`delayPattern entries must be integers >= 0, got ${d}`);
  }
  return spec;
}
