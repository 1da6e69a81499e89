import { describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLING_PARAMS, DIA_AUDIO_TOKENS, maxDelay, validateAudioTokenSpec, validateSamplingParams } from './types.ts';

describe('sampling parameters', () => {
  it('has the reference defaults and accepts them', () => {
    expect(DEFAULT_SAMPLING_PARAMS).toEqual({ guidanceScale: 3, temperature: 1.2, topP: 0.95, topK: 45, order: '0626', seed: 0, maxTokens: 3072 });
    expect(validateSamplingParams({ ...DEFAULT_SAMPLING_PARAMS })).toEqual(DEFAULT_SAMPLING_PARAMS);
  });

  it.each([
    [{ guidanceScale: Number.NaN }, /guidanceScale/],
    [{ temperature: -0.1 }, /temperature/],
    [{ topP: 0 }, /topP must be in \(0, 1\]/],
    [{ topP: 1.5 }, /topP/],
    [{ topK: 2.5 }, /topK/],
    [{ order: 'v2' }, /order/],
    [{ seed: -1 }, /seed/],
    [{ seed: 2 ** 53 }, /seed/],
    [{ maxTokens: 0 }, /maxTokens/],
  ])('rejects %o', (patch, message) => {
    expect(() => validateSamplingParams({ ...DEFAULT_SAMPLING_PARAMS, ...patch } as never, 'take 3 settings')).toThrowError(message);
    expect(() => validateSamplingParams({ ...DEFAULT_SAMPLING_PARAMS, ...patch } as never, 'take 3 settings')).toThrowError(/take 3 settings/);
  });
});

describe('audio token spec', () => {
  it('describes Dia', () => {
    expect(validateAudioTokenSpec(DIA_AUDIO_TOKENS)).toBe(DIA_AUDIO_TOKENS);
    expect(maxDelay(DIA_AUDIO_TOKENS.delayPattern)).toBe(15);
  });

  it('rejects layouts the masks cannot express', () => {
    expect(() => validateAudioTokenSpec({ ...DIA_AUDIO_TOKENS, pad: 1000 })).toThrowError(/must be above eos/);
    expect(() => validateAudioTokenSpec({ ...DIA_AUDIO_TOKENS, bos: 1028 })).toThrowError(/bos id 1028 is outside/);
    expect(() => validateAudioTokenSpec({ ...DIA_AUDIO_TOKENS, delayPattern: [0, -1] })).toThrowError(/delayPattern/);
    expect(() => validateAudioTokenSpec({ ...DIA_AUDIO_TOKENS, delayPattern: [] })).toThrowError(/empty/);
  });
});
