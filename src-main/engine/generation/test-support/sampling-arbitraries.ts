// fast-check generators shared by the sampler tests (JS sampler and in-graph sampler).
import fc from 'fast-check';

/** Sampling parameters over both orders, greedy and sampled, with and without top-k / top-p. */
export const samplingParamsArb = (maxSeed = 1000) =>
  fc.record({
    guidanceScale: fc.constantFrom(0, 1, 3, 4.5),
    temperature: fc.constantFrom(0, 0.5, 1.2, 1.8),
    topP: fc.constantFrom(0.3, 0.9, 0.95, 1),
    topK: fc.integer({ min: 0, max: 60 }),
    order: fc.constantFrom('0626' as const, 'v1' as const),
    seed: fc.integer({ min: 0, max: maxSeed }),
    maxTokens: fc.constant(3072),
  });
